"""Innboks over the app: SMS webhooks signed like Twilio's, the console's forms with their
CSRF tokens, the sandbox outbox; the clock in the test's hands (Monday 10:00, Ola on
Asker's day duty, Jonas on Bærum's)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from helpline.bootstrap import Services
from helpline.commands.org import demo_text, load_text
from helpline.db.models import ContactRow, OutboxRow
from tests.conftest import FrozenClock, app_client
from tests.e2e.api_setup import snapshot
from tests.e2e.demo_duty import ASKER_MONDAY_10, BAERUM_MONDAY_10, MONDAY_10
from tests.e2e.twilio_driver import TwilioDriver
from tests.integration.console_support import (
    KARI,
    SIRI,
    Client,
    access_entries,
    csrf_of,
    log_in,
    post_form,
)

pytestmark = pytest.mark.e2e

ASKER_LINE, BAERUM_LINE = "+4767000001", "+4767000002"
HANSEN, OLSEN_BAERUM = "+4798765432", "+4799887766"  # Hansen: Asker; Olsen: Bærum
OLA = ASKER_MONDAY_10[0].phone  # Asker's primary now, a vakt
INGRID = ASKER_MONDAY_10[1].phone  # Asker's backup: not notified yet
JONAS = BAERUM_MONDAY_10[0].phone  # Bærum's primary
MARTE = "+4793345012"  # koordinator of Bærum
STAFF_PHONES = (OLA, INGRID, JONAS, KARI, MARTE, "+4792000000")
_FORM_ID = re.compile(r'name="skjema" value="([^"]+)"')


class World:
    """The app, Twilio's webhooks, and a logged-in console client per person."""

    def __init__(self, services: Services, twilio: TwilioDriver) -> None:
        self.services, self.twilio, self.count = services, twilio, 0
        self.clients: list[Client] = []

    async def sms(self, sender: str, body: str, to: str = ASKER_LINE) -> ContactRow:
        self.count += 1
        form = {"MessageSid": f"SM{self.count:032d}", "From": sender, "To": to, "Body": body,
                "AccountSid": "AC" + "0" * 32, "NumMedia": "0"}  # fmt: skip
        status, answer = await self.twilio.post("/twilio/sms", form)
        assert status == 200, answer
        async with self.services.sessions() as session:
            row = await session.scalar(select(ContactRow).order_by(ContactRow.id.desc()))
        assert row is not None
        return row

    async def console(self, phone: str) -> Client:
        client = await app_client(self.services)
        self.clients.append(client)
        await log_in(client, self.services, phone)
        return client

    async def outbox(self) -> list[OutboxRow]:
        async with self.services.sessions() as session:
            return list(await session.scalars(select(OutboxRow).order_by(OutboxRow.id)))

    async def contact(self, contact_id: int) -> ContactRow:
        async with self.services.sessions() as session:
            row = await session.get(ContactRow, contact_id)
        assert row is not None
        return row


@pytest.fixture
async def world(services: Services, clock: FrozenClock) -> AsyncIterator[World]:
    clock.now = MONDAY_10
    await load_text(services, demo_text())
    client = await app_client(services)
    made = World(services, TwilioDriver(client, services.settings))
    yield made
    for console in made.clients:
        await console.close()
    await client.close()


def text_of(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


async def page(client: Client, path: str) -> tuple[int, str]:
    response = await client.get(path, allow_redirects=False)
    return response.status, await response.text()


async def form(client: Client, contact_id: int) -> dict[str, str]:
    """The hidden fields of the conversation page's forms."""
    status, html = await page(client, f"/console/innboks/{contact_id}")
    assert status == 200, status
    found = _FORM_ID.search(html)
    assert found
    return {"csrf": csrf_of(html), "skjema": found[1]}


async def test_a_foster_parents_sms_is_in_the_inbox_of_those_who_may_see_it(
    world: World, clock: FrozenClock
) -> None:
    contact = await world.sms(HANSEN, "Vi trenger hjelp i kveld.")
    clock.now = MONDAY_10 + timedelta(minutes=12)
    ola, kari, ingrid, marte = [await world.console(p) for p in (OLA, KARI, INGRID, MARTE)]
    status, html = await page(ola, "/console/innboks")
    shown = text_of(html)
    assert status == 200
    assert f"K{contact.id}: Familien Hansen" in shown and "Har ventet 12 min" in shown
    assert "Asker · SMS · Ikke tatt" in shown
    assert "Vi trenger hjelp" not in shown  # bodies only on the conversation's page
    assert f"K{contact.id}" in text_of((await page(kari, "/console/innboks"))[1])  # koordinator
    assert "Ingen åpne henvendelser" in text_of((await page(ingrid, "/console/innboks"))[1])
    assert "Ingen åpne henvendelser" in text_of((await page(marte, "/console/innboks"))[1])
    entries = await access_entries(world.services)
    assert ("console:ola", "console.innboks", f"contacts:{contact.id}") in entries
    assert ("console:ingrid", "console.innboks", "contacts:") in entries


async def test_ola_takes_and_answers_through_the_relay_from_the_helpline_number(
    world: World, clock: FrozenClock
) -> None:
    contact = await world.sms(HANSEN, "Kan noen ringe meg?")
    ola = await world.console(OLA)
    status, html = await page(ola, f"/console/innboks/{contact.id}")
    assert status == 200 and "Kan noen ringe meg?" in html
    assert not any(phone in html for phone in STAFF_PHONES)
    fields = await form(ola, contact.id)
    response = await post_form(ola, f"/console/innboks/{contact.id}/ta", fields)
    assert (response.status, response.headers["Location"]) == (
        303, f"/console/innboks/{contact.id}?ok=tatt")  # fmt: skip
    taken = await world.contact(contact.id)
    assert (taken.answered_by, taken.acknowledged_phone) == ("Ola Berg", OLA)
    clock.now += timedelta(minutes=1)
    fields = await form(ola, contact.id)
    answer = {**fields, "svar": "Hei! Jeg ringer deg om fem minutter."}
    response = await post_form(ola, f"/console/innboks/{contact.id}/svar", answer)
    assert response.status == 303
    again = await post_form(ola, f"/console/innboks/{contact.id}/svar", answer)  # sent twice
    assert again.status == 303
    relayed = [r for r in await world.outbox() if r.to == HANSEN and r.kind == "reply"]
    assert [(r.sender, r.body, r.msg_class) for r in relayed] == [
        (ASKER_LINE, "Ola, Fosterhjemstelefonen: Hei! Jeg ringer deg om fem minutter.", "help")
    ]
    answered = await world.contact(contact.id)
    assert answered.outcome == "answered" and answered.first_answer_at == clock.now
    shown = text_of((await page(ola, f"/console/innboks/{contact.id}?ok=svart"))[1])
    assert "Svaret er sendt til fosterforelderen." in shown and "Ola Berg, " in shown
    assert "Nei, siste melding er besvart" in shown


async def test_closing_needs_a_category_of_the_list(world: World) -> None:
    contact = await world.sms(HANSEN, "Et spørsmål om samvær.")
    ola = await world.console(OLA)
    before = await snapshot(world.services)
    response = await post_form(
        ola,
        f"/console/innboks/{contact.id}/lukk",
        {**await form(ola, contact.id), "kategori": "tull"},
    )
    html = await response.text()
    assert response.status == 400 and "Velg en kategori." in html
    assert 'aria-invalid="true" aria-describedby="kategori-error"' in html
    after = [row for row in await snapshot(world.services) if row[0] != "access_log"]
    assert after == [row for row in before if row[0] != "access_log"]
    response = await post_form(
        ola,
        f"/console/innboks/{contact.id}/lukk",
        {**await form(ola, contact.id), "kategori": "samvær"},
    )
    assert (response.status, response.headers["Location"]) == (303, "/console/innboks?ok=lukket")
    closed = await world.contact(contact.id)
    assert closed.closed_at is not None and closed.category == "samvær"
    assert "Ingen åpne henvendelser" in text_of((await page(ola, "/console/innboks"))[1])
    confirmations = [r.body for r in await world.outbox() if r.to == OLA and r.kind == "help"]
    assert any("lukket med kategori «samvær»" in body for body in confirmations)


async def test_an_empty_answer_is_refused_beside_the_field(world: World) -> None:
    contact = await world.sms(HANSEN, "Hei")
    ola = await world.console(OLA)
    response = await post_form(
        ola, f"/console/innboks/{contact.id}/svar", {**await form(ola, contact.id), "svar": "  "}
    )
    assert response.status == 400 and "Skriv et svar før du sender." in await response.text()
    assert not [r for r in await world.outbox() if r.to == HANSEN and r.kind == "reply"]


@pytest.mark.parametrize("action", ["ta", "svar", "lukk"])
async def test_take_answer_and_close_without_the_csrf_token_change_nothing(
    world: World, action: str
) -> None:
    contact = await world.sms(HANSEN, "Hei")
    ola = await world.console(OLA)
    fields = await form(ola, contact.id)
    before = await snapshot(world.services)
    for csrf in (None, "forged"):
        sent = {"skjema": fields["skjema"], "svar": "Hei", "kategori": "annet"}
        response = await post_form(
            ola, f"/console/innboks/{contact.id}/{action}", sent | ({"csrf": csrf} if csrf else {})
        )
        assert response.status == 403 and "Skjemaet kunne ikke sendes" in await response.text()
    assert await snapshot(world.services) == before


async def test_a_vakt_not_notified_cannot_act(world: World) -> None:
    contact = await world.sms(HANSEN, "Hei")
    ingrid = await world.console(INGRID)  # backup: told only if Ola does not take it
    status, _ = await page(ingrid, f"/console/innboks/{contact.id}")
    assert status == 404
    token = csrf_of((await page(ingrid, "/console/innboks"))[1])
    before = await snapshot(world.services)
    response = await post_form(
        ingrid, f"/console/innboks/{contact.id}/ta", {"csrf": token, "skjema": "x" * 22}
    )
    assert response.status == 404
    after = [row for row in await snapshot(world.services) if row[0] != "access_log"]
    assert after == [row for row in before if row[0] != "access_log"]


async def test_a_koordinator_reads_but_only_those_notified_act(world: World) -> None:
    contact = await world.sms(HANSEN, "Hei")
    kari = await world.console(KARI)  # koordinator of Asker, not on duty now
    shown = text_of((await page(kari, f"/console/innboks/{contact.id}"))[1])
    assert "Bare de som er varslet om henvendelsen, kan ta den og svare." in shown
    token = csrf_of((await page(kari, "/console/innboks"))[1])
    response = await post_form(
        kari, f"/console/innboks/{contact.id}/ta", {"csrf": token, "skjema": "y" * 22}
    )
    assert response.status == 409 and "tatt av en annen" in await response.text()
    assert (await world.contact(contact.id)).answered_at is None


async def test_a_koordinator_of_asker_gets_the_same_404_for_baerum_as_for_nothing(
    world: World,
) -> None:
    baerum = await world.sms(OLSEN_BAERUM, "Hei fra Bærum", to=BAERUM_LINE)
    assert baerum.kommune_id == "baerum"
    kari = await world.console(KARI)
    for prefix in ("/console/innboks/", "/console/kontaktlogg/"):
        out_of_scope = await page(kari, f"{prefix}{baerum.id}")
        missing = await page(kari, f"{prefix}{baerum.id + 1000}")
        assert out_of_scope[0] == missing[0] == 404
        assert out_of_scope[1] == missing[1]
        assert "Fant ikke siden" in out_of_scope[1] and "Bærum" not in text_of(out_of_scope[1])
    reads = [e for e in await access_entries(world.services) if e[1] == "contact.read"]
    assert reads == []


async def test_the_live_stream_sends_the_list_when_an_sms_comes(world: World) -> None:
    ola = await world.console(OLA)
    status, html = await page(ola, "/console/innboks")
    version = re.search(r'id="innboks-liste" data-version="([0-9a-f]{16})"', html)
    assert status == 200 and version
    response = await ola.get(f"/console/innboks/hendelser?siden={version[1]}")
    assert response.headers["Content-Type"] == "text/event-stream; charset=utf-8"
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["Cache-Control"] == "no-store"
    contact = await world.sms(HANSEN, "Er det noen der?")
    event = await asyncio.wait_for(_next_event(response), 30)  # a guard, not a timing
    assert event["event"] == "innboks" and re.fullmatch(r"[0-9a-f]{16}", event["id"])
    assert f"K{contact.id}: Familien Hansen" in event["data"]
    assert "Er det noen der?" not in event["data"]
    live = [e for e in await access_entries(world.services) if e[2].startswith("live:")]
    assert live == [("console:ola", "console.innboks", f"live:contacts:{contact.id}")]
    # Logged out elsewhere: the stream ends.
    token = csrf_of((await page(ola, "/console/innboks"))[1])
    await post_form(ola, "/console/logout", {"csrf": token})
    rest = await asyncio.wait_for(response.content.read(), 30)
    assert b"event: innboks" not in rest
    response.close()


async def _next_event(response: object) -> dict[str, str]:
    """The next server-sent event of the stream (comments and `retry:` skipped)."""
    fields: dict[str, str] = {}
    data: list[str] = []
    content = response.content  # type: ignore[attr-defined]  # a ClientResponse
    while True:
        line = (await content.readline()).decode().rstrip("\n")
        if not line:
            if data or "event" in fields:
                return {**fields, "data": "\n".join(data)}
            continue
        name, _, value = line.partition(": ")
        if name == "data":
            data.append(value)
        elif name in ("event", "id"):
            fields[name] = value


async def test_the_contact_log_filters_and_its_detail_is_audited(
    world: World, clock: FrozenClock
) -> None:
    first = await world.sms(HANSEN, "Første")
    clock.now = MONDAY_10 + timedelta(days=1)
    second = await world.sms("+4792345678", "Andre")  # Johansen, Asker
    await world.sms(OLSEN_BAERUM, "Bærum", to=BAERUM_LINE)
    kari = await world.console(KARI)
    status, html = await page(kari, "/console/kontaktlogg?fra=2026-11-24&til=2026-11-24")
    shown = text_of(html)
    assert status == 200 and f"K{second.id}" in shown and f"K{first.id} " not in shown + " "
    assert "Familien Johansen" in shown and "Familien Olsen" not in shown  # Bærum: not hers
    status, html = await page(kari, "/console/kontaktlogg?kanal=voice")
    assert "Ingen henvendelser passer filteret." in text_of(html)
    status, html = await page(kari, "/console/kontaktlogg?fra=2026-11-25&til=2026-11-23")
    assert status == 400 and "Fra-datoen kan ikke være etter til-datoen." in html
    status, html = await page(kari, "/console/kontaktlogg?kommune=baerum")
    assert status == 400 and "Velg et av valgene i listen." in html  # not hers: as unknown
    status, html = await page(kari, f"/console/kontaktlogg/{first.id}")
    assert status == 200 and HANSEN in html and "Første" in html
    entries = await access_entries(world.services)
    assert (
        "console:kari",
        "contacts.list",
        "since=2026-11-23T23:00:00Z&until=2026-11-24T23:00:00Z&limit=200",
    ) in entries
    assert ("console:kari", "contacts.list", "channel=voice&limit=200") in entries
    assert ("console:kari", "contact.read", str(first.id)) in entries
    assert not [e for e in entries if "kommune=baerum" in e[2]]  # refused: nothing read


async def test_the_csv_export_is_the_filtered_list_and_is_audited(world: World) -> None:
    asker = await world.sms(HANSEN, "Hei")
    await world.sms(OLSEN_BAERUM, "Hei", to=BAERUM_LINE)
    kari = await world.console(KARI)
    response = await kari.get("/console/kontaktlogg.csv?kanal=sms")
    assert response.status == 200 and response.content_type == "text/csv"
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="kontaktlogg-2026-11-23.csv"')  # fmt: skip
    body = await response.read()
    assert body.startswith("\ufeff".encode())
    lines = body.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("id;kanal;kommune;fosterhjem;innringer;")
    assert len(lines) == 2  # Bærum's is not hers
    cells = lines[1].split(";")
    assert cells[:4] == [str(asker.id), "SMS", "Asker", "Familien Hansen"]
    # A cell a spreadsheet would read as a formula (+47…) is kept as text with a quote.
    assert cells[4] == "'" + asker.caller_masked and HANSEN not in lines[1]
    assert cells[6] == "2026-11-23T10:00:00+01:00" and cells[12] == "Pågår"
    assert ("console:kari", "contacts.export", "channel=sms&limit=10000") in await access_entries(
        world.services
    )


async def test_a_vakt_has_no_contact_log(world: World) -> None:
    contact = await world.sms(HANSEN, "Hei")
    ola = await world.console(OLA)
    for path in (
        "/console/kontaktlogg",
        "/console/kontaktlogg.csv",
        f"/console/kontaktlogg/{contact.id}",
    ):
        assert (await page(ola, path))[0] == 404
    nav = (await page(ola, "/console/innboks"))[1]
    assert 'href="/console/kontaktlogg"' not in nav and 'href="/console/tilgangslogg"' not in nav


async def test_the_access_log_is_for_admins_newest_first_and_filtered(world: World) -> None:
    contact = await world.sms(HANSEN, "Hei")
    kari = await world.console(KARI)
    await page(kari, f"/console/kontaktlogg/{contact.id}")
    assert (await page(kari, "/console/tilgangslogg"))[0] == 404
    siri = await world.console(SIRI)
    status, html = await page(siri, "/console/tilgangslogg?hvem=kari&hva=contact.read")
    shown = text_of(html)
    assert status == 200 and 'href="/console/tilgangslogg"' in html
    assert f"console:kari Konsoll Leste en henvendelse {contact.id}" in shown
    assert "<td>Logget inn</td>" not in html
    status, html = await page(siri, "/console/tilgangslogg?hvem=kari")
    rows = re.findall(
        r"<tr><td>[^<]+</td><td>console:kari</td><td>Konsoll</td><td>([^<]+)</td>", html
    )
    assert rows == ["Leste en henvendelse", "Logget inn"]  # newest first
    status, html = await page(siri, "/console/tilgangslogg?hva=nothing.such")
    assert status == 400 and "Velg et av valgene i listen." in html
    assert ("console:siri", "access_log.read", "hvem=kari&hva=contact.read&limit=200") in (
        await access_entries(world.services)
    )
