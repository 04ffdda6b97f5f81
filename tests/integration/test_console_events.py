"""Arrangementer in the console, over the app with a real database and Redis: the forms
reach the same event actions as `helpline event ...`, the SMS answers come as signed
Twilio webhooks, and the clock is the test's."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from helpline.bootstrap import Services
from helpline.commands.org import demo_text, load_text
from helpline.db.models import EventRow, InvitationRow, OutboxRow
from helpline.events import EventProblem, show
from helpline.web.console.event_forms import translate
from rota.wallclock import zone
from routing.access import ADMIN
from tests.conftest import FrozenClock, app_client
from tests.e2e.api_setup import MONDAY_10
from tests.e2e.twilio_driver import TwilioDriver
from tests.integration.console_support import (
    KARI,
    NINA,
    SIRI,
    Client,
    access_entries,
    csrf_of,
    form_token,
    log_in,
    post_form,
)

pytestmark = pytest.mark.integration

MARTE = "+4793345012"  # koordinator of Bærum
NETWORK = "+4767000090"
HANSEN, JOHANSEN, HAUGEN = "+4798765432", "+4792345678", "+4747112233"
PAGE = "/console/arrangementer"
EVENT = {
    "kind": "nettverkstreff",
    "title": "Nettverkstreff i Asker",
    "starts": "2026-12-10T18:00",
    "ends": "2026-12-10T20:00",
    "place": "Asker kulturhus",
    "capacity": "2",
    "rsvp_by": "",
    "audience": "kommune:asker",
    "note": "",
}
OSLO = zone("Europe/Oslo")


@pytest.fixture
async def client(services: Services, clock: FrozenClock) -> AsyncIterator[Client]:
    clock.now = MONDAY_10
    await load_text(services, demo_text())
    client = await app_client(services)
    yield client
    await client.close()


@pytest.fixture
async def marte(client: Client, services: Services) -> AsyncIterator[Client]:
    """A second browser: Marte, koordinator of Bærum."""
    other = await app_client(services)
    await log_in(other, services, MARTE)
    yield other
    await other.close()


def text_of(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def error_beside(html: str, field_id: str) -> str:
    """The error shown beside a field (its `-error` message), '' when none."""
    found = re.search(rf'id="{field_id}-error">([^<]*)<', html)
    return found[1] if found else ""


async def event_count(services: Services) -> int:
    async with services.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(EventRow)) or 0)


async def create(client: Client, **changed: str) -> int:
    token = await form_token(client, PAGE + "/nytt")
    response = await post_form(client, PAGE + "/nytt", {"csrf": token, **EVENT, **changed})
    assert response.status == 303, await response.text()
    found = re.fullmatch(r"/console/arrangementer/([0-9]+)", response.headers["Location"])
    assert found
    return int(found[1])


async def page(client: Client, event_id: int) -> str:
    response = await client.get(f"{PAGE}/{event_id}")
    assert response.status == 200
    return await response.text()


async def post_on(client: Client, event_id: int, action: str, fields: dict[str, str]) -> int:
    token = csrf_of(await page(client, event_id))
    response = await post_form(client, f"{PAGE}/{event_id}/{action}", {"csrf": token, **fields})
    return response.status


async def sms(services: Services, client: Client, sender: str, body: str, sid: str) -> None:
    driver = TwilioDriver(client, services.settings)
    form = {"MessageSid": sid, "From": sender, "To": NETWORK, "Body": body,
            "AccountSid": "AC" + "0" * 32, "NumMedia": "0"}  # fmt: skip
    status, answer = await driver.post("/twilio/sms", form)
    assert status == 200, answer


async def test_create_invite_and_the_sms_answers_appear(client: Client, services: Services) -> None:
    await log_in(client, services, KARI)
    event_id = await create(client)
    html = await page(client, event_id)
    assert "Arrangementet er lagret." in html
    assert "<strong>4 fosterhjem</strong> får invitasjon" in html  # Asker's four homes
    assert "torsdag 10. desember 2026 kl. 18:00" in html
    assert "onsdag 9. desember 2026, ut dagen" in html  # the default deadline: midnight
    assert await post_on(client, event_id, "inviter", {"count": "4", "audience": ""}) == 303
    html = await page(client, event_id)
    assert "4 fosterhjem er invitert." in text_of(html)
    async with services.sessions() as session:
        invited = await session.scalar(select(func.count()).select_from(InvitationRow))
        outbox = list(
            await session.scalars(select(OutboxRow).where(OutboxRow.kind == "invitation"))
        )
    assert invited == 4 and outbox and all(f"JA {event_id}" in o.body for o in outbox)
    await sms(services, client, HANSEN, f"JA {event_id}", "SM" + "1" * 32)
    await sms(services, client, JOHANSEN, f"JA {event_id}", "SM" + "2" * 32)
    await sms(services, client, HAUGEN, f"JA {event_id}", "SM" + "3" * 32)  # full: waitlist
    await sms(services, client, HAUGEN, f"JA {event_id}", "SM" + "3" * 32)  # Twilio retried
    page_text = text_of(await page(client, event_id))
    assert "Familien Hansen Kommer 1 SMS" in page_text
    assert "Familien Johansen Kommer 1 SMS" in page_text
    assert "Familien Haugen Venteliste (nr. 1) 1 SMS" in page_text
    assert "Venteliste Familien Haugen, 1 person" in page_text
    assert "Kommer 2 (2 personer)" in page_text and "Ikke svart 1" in page_text
    reads = [e for e in await access_entries(services) if e[1] == "console.arrangement"]
    assert reads and set(reads) == {("console:kari", "console.arrangement", str(event_id))}
    # Inviting again reaches nobody new, and the page says so before anything is sent.
    assert "Alle fosterhjemmene blant mottakerne er invitert." in await page(client, event_id)


async def test_the_invitation_is_counted_again_when_the_count_changed(
    client: Client, services: Services
) -> None:
    await log_in(client, services, SIRI)
    event_id = await create(client, audience="home:hansen")
    assert (
        await post_on(client, event_id, "inviter", {"count": "1", "audience": "home:olsen"}) == 409
    )
    async with services.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(InvitationRow)) == 0
    token = csrf_of(await page(client, event_id))
    response = await post_form(
        client,
        f"{PAGE}/{event_id}/inviter",
        {"csrf": token, "count": "1", "audience": "home:olsen"},
    )
    html = await response.text()
    assert "Ingenting er sendt." in html and "<strong>2 fosterhjem</strong>" in html
    status = await post_on(client, event_id, "inviter", {"count": "2", "audience": "home:olsen"})
    assert status == 303
    async with services.sessions() as session:
        shown = await show(session, event_id, OSLO, ADMIN)
    assert shown is not None and shown["invited"] == 2
    assert shown["audience"] == "home:hansen,home:olsen"


async def test_an_event_out_of_scope_answers_like_a_missing_one(
    client: Client, services: Services, marte: Client
) -> None:
    await log_in(client, services, KARI)
    event_id = await create(client)
    if True:
        out = await marte.get(f"{PAGE}/{event_id}")
        missing = await marte.get(f"{PAGE}/{event_id + 1000}")
        huge = await marte.get(f"{PAGE}/9999999999")
        assert out.status == missing.status == huge.status == 404
        assert await out.text() == await missing.text() == await huge.text()
        assert "Fant ikke arrangementet" in await out.text()
        listed = await (await marte.get(PAGE)).text()
        assert "Nettverkstreff i Asker" not in listed
        token = csrf_of(listed)
        for action, fields in (("inviter", {"count": "4"}), ("avlys", {"reason": "Nei"}),
                               ("endre", {"place": "Sandvika"}), ("oppmote", {})):  # fmt: skip
            refused = await post_form(
                marte, f"{PAGE}/{event_id}/{action}", {"csrf": token, **fields}
            )
            gone = await post_form(marte, f"{PAGE}/{event_id + 1000}/{action}",
                                   {"csrf": token, **fields})  # fmt: skip
            assert refused.status == gone.status == 404, action
            assert await refused.text() == await gone.text()
        # An audience outside her kommuner is "not found", like an unknown one.
        token = await form_token(marte, PAGE + "/nytt")
        fields = {"csrf": token, **EVENT, "audience": "kommune:asker"}
        html = await (await post_form(marte, PAGE + "/nytt", fields)).text()
        fields["audience"] = "kommune:oslo"
        unknown = await (await post_form(marte, PAGE + "/nytt", fields)).text()
        assert error_beside(html, "audience") == "Finner ikke kommune:asker."
        assert error_beside(unknown, "audience") == "Finner ikke kommune:oslo."
    async with services.sessions() as session:
        shown = await show(session, event_id, OSLO, ADMIN)
    assert shown is not None and shown["invited"] == 0 and shown["status"] == "open"
    assert shown["place"] == "Asker kulturhus" and await event_count(services) == 1
    assert not any(e[0] == "console:marte" and e[1] == "console.arrangement"
                   for e in await access_entries(services))  # fmt: skip


async def test_a_post_without_the_csrf_token_changes_nothing(
    client: Client, services: Services
) -> None:
    await log_in(client, services, KARI)
    await client.get(PAGE + "/nytt")
    refused = await post_form(client, PAGE + "/nytt", EVENT)
    assert refused.status == 403 and "Skjemaet kunne ikke sendes" in await refused.text()
    assert await event_count(services) == 0
    event_id = await create(client)
    for action, fields in (("inviter", {"count": "4"}), ("avlys", {"reason": "Sykdom"}),
                           ("endre", {"place": "Sandvika"})):  # fmt: skip
        forged = await post_form(client, f"{PAGE}/{event_id}/{action}", {"csrf": "x", **fields})
        assert forged.status == 403
    async with services.sessions() as session:
        shown = await show(session, event_id, OSLO, ADMIN)
    assert shown is not None and shown["invited"] == 0 and shown["status"] == "open"
    assert shown["place"] == "Asker kulturhus"


@pytest.mark.parametrize(
    ("changed", "field", "error"),
    [
        ({"ends": "2026-12-10T17:00"}, "ends", "Slutten må være etter starten."),
        ({"starts": "2026-11-01T18:00"}, "starts", "Starten må være fram i tid."),
        ({"starts": "10. desember"}, "starts",
         "Ugyldig tidspunkt. Skriv dato og klokkeslett, for eksempel 2026-12-10 18:00."),
        ({"starts": ""}, "starts", "Skriv når arrangementet begynner."),
        ({"title": "   "}, "title", "Skriv en tittel, uten linjeskift."),
        ({"title": "x" * 101}, "title", "Tittelen kan ha høyst 100 tegn, ikke 101."),
        ({"capacity": "mange"}, "capacity",
         "Antall plasser må være et helt tall fra 1 til 10 000."),
        ({"capacity": "0"}, "capacity", "Antall plasser må være et helt tall fra 1 til 10 000."),
        ({"rsvp_by": "2026-12-11T12:00"}, "rsvp_by",
         "Svarfristen kan ikke være etter at arrangementet begynner."),
        ({"audience": "kommuner:asker"}, "audience",
         "Skriv mottakerne som kommune:ID, group:ID, home:ID eller team:ID, skilt med komma."),
        ({"audience": ""}, "audience", "Skriv hvem som skal inviteres."),
        ({"kind": "julebord"}, "kind", "Velg hva slags arrangement det er."),
    ],
)  # fmt: skip
async def test_a_bad_field_shows_its_norwegian_error_and_stores_nothing(
    client: Client, services: Services, changed: dict[str, str], field: str, error: str
) -> None:
    await log_in(client, services, KARI)
    token = await form_token(client, PAGE + "/nytt")
    response = await post_form(client, PAGE + "/nytt", {"csrf": token, **EVENT, **changed})
    assert response.status == 400
    html = await response.text()
    assert error_beside(html, field) == error
    assert f'aria-describedby="{field}-error"' in html or f'{field}-error"' in html
    assert "Arrangementet er ikke lagret." in html
    assert f'value="{EVENT["place"]}"' in html  # what was typed stays
    assert await event_count(services) == 0


async def test_attendance_and_the_figures_per_kommune(
    client: Client, services: Services, clock: FrozenClock
) -> None:
    await log_in(client, services, KARI)
    event_id = await create(client)
    assert await post_on(client, event_id, "inviter", {"count": "4"}) == 303
    await sms(services, client, HANSEN, f"JA {event_id} 3", "SM" + "4" * 32)  # three: too many
    await sms(services, client, JOHANSEN, f"JA {event_id} 2", "SM" + "5" * 32)
    listed = ["hansen", "johansen", "haugen", "nilsen"]
    fields = {"listed": listed, "present": ["johansen", "haugen"]}
    token = csrf_of(await page(client, event_id))
    response = await client.post(
        f"{PAGE}/{event_id}/oppmote", data={"csrf": token, **fields}, allow_redirects=False
    )
    assert response.status == 303
    html = await page(client, event_id)
    assert "Oppmøtet er lagret: 2 fosterhjem møtte." in html
    assert re.search(r'value="johansen" checked', html) and not re.search(
        r'value="hansen" checked', html
    )
    # Unticking is marking absent.
    token = csrf_of(html)
    fields = {"listed": listed, "present": ["johansen"]}
    await client.post(f"{PAGE}/{event_id}/oppmote", data={"csrf": token, **fields})
    async with services.sessions() as session:
        shown = await show(session, event_id, OSLO, ADMIN)
    assert shown is not None and shown["attended"] == 1
    figures = text_of(await (await client.get(PAGE)).text())
    assert "Ingen arrangementer er holdt ennå." in figures  # not begun yet
    clock.now = MONDAY_10 + timedelta(days=18)  # after the event (the session timed out)
    await log_in(client, services, KARI)
    figures = text_of(await (await client.get(PAGE)).text())
    assert "Asker desember 2026 1 4 1 2 1" in figures  # events invited yes people present
    statistikk = text_of(await (await client.get("/console/statistikk")).text())
    assert "Arrangementer og oppmøte per kommune" in statistikk
    assert "Asker desember 2026 1 4 1 2 1" in statistikk  # the same figures on Statistikk
    earlier = await client.get("/console/statistikk?fra=2026-01-01&til=2026-11-30")
    assert "Asker desember 2026" not in text_of(await earlier.text())  # outside the period


async def test_change_and_cancel_with_a_reason(client: Client, services: Services) -> None:
    await log_in(client, services, KARI)
    event_id = await create(client)
    assert await post_on(client, event_id, "inviter", {"count": "4"}) == 303
    await sms(services, client, HANSEN, f"JA {event_id}", "SM" + "6" * 32)
    token = csrf_of(await page(client, event_id))
    bad = await post_form(client, f"{PAGE}/{event_id}/endre",
                          {"csrf": token, "starts": "2026-12-10T18:00", "ends": "2026-12-10T17:00",
                           "place": "Sandvika", "capacity": "2"})  # fmt: skip
    assert bad.status == 400
    assert error_beside(await bad.text(), "change-ends") == "Slutten må være etter starten."
    status = await post_on(client, event_id, "endre", {"starts": "2026-12-10T18:30",
                           "ends": "2026-12-10T20:00", "place": "Asker bibliotek",
                           "capacity": "2"})  # fmt: skip
    assert status == 303
    html = text_of(await page(client, event_id))
    assert "Endringen er lagret. 1 fosterhjem har fått beskjed." in html
    assert "Asker bibliotek" in html and "kl. 18:30" in html
    long = await post_on(client, event_id, "avlys", {"reason": "x" * 301})
    assert long == 400
    assert await post_on(client, event_id, "avlys", {"reason": "Sykdom i staben"}) == 303
    html = text_of(await page(client, event_id))
    assert "Arrangementet er avlyst. 4 fosterhjem har fått beskjed." in html
    assert "Avlys arrangementet" not in html and "Send invitasjon" not in html
    async with services.sessions() as session:
        row = await session.get(EventRow, event_id)
        told = list(await session.scalars(select(OutboxRow).where(OutboxRow.to == HANSEN)))
    assert row is not None and row.status == "cancelled" and row.cancel_reason == "Sykdom i staben"
    assert any("Sykdom i staben" in o.body for o in told)


async def test_a_vakt_has_no_events(client: Client, services: Services) -> None:
    await log_in(client, services, NINA)
    overview = await (await client.get("/console/")).text()
    assert "Arrangementer" not in overview
    assert (await client.get(PAGE)).status == 403


def test_every_refusal_of_the_events_code_has_its_norwegian_text() -> None:
    refusals = [
        "kind: expected one of fagdag, nettverkstreff, fosterhjemskafe, not 'x'",
        "title: must have a visible character and no control characters",
        "title: at most 100 characters, not 120",
        "place: must have a visible character and no control characters",
        "place: at most 100 characters, not 120",
        "note: must have a visible character and no control characters",
        "note: at most 500 characters, not 501",
        "ends: must be after starts",
        "starts: must be in the future",
        "capacity: a whole number of people from 1 to 10000",
        "rsvp-by: must not be after the start",
        "rsvp-by: must be in the future",
        "title and place are too long for an invitation of two SMS segments",
        "audience: a koordinator's event needs an audience",
        "audience: 'x' is not kind:id (kommune, group, home, team)",
        "no kommune:oslo",
        "event 3 has no audience: give --audience",
        "event 3 is cancelled",
        "event 3 is cancelled already",
        "event 3 has begun",
        "not invited to event 3: olsen",
    ]
    for message in refusals:
        field, text = translate(EventProblem("invalid", message))
        assert text != "Dette kunne ikke lagres. Sjekk feltene og prøv igjen.", message
        assert not re.search(r"\b(must|the|not)\b", text), text
