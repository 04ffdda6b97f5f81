"""Grupper over the app with a real database and Redis: which groups a user sees (404 alike
for another kommune's group and a missing one), members and messages in the access log,
mute and unmute with their CSRF token and their effect on a member's next message, and a
broadcast counted first (nothing stored), then sent once with the count's token."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select

from helpline import broadcasts
from helpline.bootstrap import Services
from helpline.commands.org import demo_text, load_text
from helpline.db.models import BroadcastRow, GroupMessageRow, GroupMuteRow, OutboxRow
from helpline.groups import is_muted
from routing.access import ADMIN
from tests.conftest import FrozenClock, app_client
from tests.e2e.api_setup import MONDAY_10
from tests.e2e.twilio_driver import TwilioDriver
from tests.integration.console_support import (
    KARI,
    NINA,
    Client,
    access_entries,
    csrf_of,
    form_token,
    log_in,
    post_form,
)

pytestmark = pytest.mark.integration

GROUP = "/console/grupper/asker-rf-nilsen"
BAERUM_GROUP = "/console/grupper/baerum-nettverk"
INGRID = "+4741234501"  # Asker's team, staff of Ressursfamilien Nilsen: a vakt
GROUP_LINE = "+4767000091"
HANSEN = "+4798765432"


@pytest.fixture
async def client(services: Services, clock: FrozenClock) -> AsyncIterator[Client]:
    clock.now = MONDAY_10
    await load_text(services, demo_text())
    client = await app_client(services)
    yield client
    await client.close()


def text_of(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


async def count(services: Services, model: type[BroadcastRow] | type[GroupMuteRow]) -> int:
    async with services.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def muted(services: Services, home: str = "hansen") -> bool:
    async with services.sessions() as session:
        return await is_muted(session, "asker-rf-nilsen", home)


async def test_a_koordinator_sees_her_kommunes_groups_with_members_and_staff(
    client: Client, services: Services
) -> None:
    await log_in(client, services, KARI)
    listing = text_of(await (await client.get("/console/grupper")).text())
    assert "Ressursfamilien Nilsen Ressursfamilie Asker 4 +4767000091" in listing
    assert "Fosterhjemsnettverket i Bærum" not in listing
    page = text_of(await (await client.get(GROUP)).text())
    assert "Familien Nilsen Ressursfamilie Aktiv" in page
    for home in ("Familien Hansen", "Familien Johansen", "Familien Haugen"):
        assert f"{home} Medlem Aktiv" in page
    assert "Kari Nordmann" in page and "Ingrid" in page
    assert "Send melding til gruppen" in page
    entries = [e for e in await access_entries(services) if e[1].startswith("console.grupp")]
    assert entries == [
        ("console:kari", "console.grupper", "groups:asker-rf-nilsen"),
        ("console:kari", "console.gruppe", "group:asker-rf-nilsen"),
    ]


async def test_another_kommunes_group_answers_404_like_a_missing_one(
    client: Client, services: Services
) -> None:
    await log_in(client, services, KARI)
    token = await form_token(client, GROUP)
    answers = []
    for path in (BAERUM_GROUP, "/console/grupper/finnes-ikke"):
        for suffix in ("", "/meldinger"):
            response = await client.get(path + suffix)
            answers.append((response.status, await response.text()))
        for action in ("demp", "opphev", "utsending"):
            posted = await post_form(
                client, f"{path}/{action}", {"csrf": token, "hjem": "olsen", "tekst": "Hei"}
            )
            answers.append((posted.status, await posted.text()))
    statuses = {status for status, _ in answers}
    assert statuses == {404}
    pages = {csrf_free(html) for _, html in answers}
    assert len(pages) == 1 and "Fant ikke gruppen" in pages.pop()
    assert await count(services, GroupMuteRow) == 0 and await count(services, BroadcastRow) == 0
    logged = [e for e in await access_entries(services) if e[2].startswith("group:baerum")]
    assert logged == []


def csrf_free(html: str) -> str:
    return re.sub(r'name="csrf" value="[^"]+"', "", html)


async def test_mute_needs_the_csrf_token_and_stops_relaying_until_unmuted(
    client: Client, services: Services
) -> None:
    await log_in(client, services, KARI)
    refused = await post_form(client, GROUP + "/demp", {"csrf": "forged", "hjem": "hansen"})
    assert refused.status == 403 and not await muted(services)
    token = await form_token(client, GROUP)
    done = await post_form(client, GROUP + "/demp", {"csrf": token, "hjem": "hansen"})
    assert (done.status, done.headers["Location"]) == (303, GROUP + "?ok=dempet&hjem=hansen")
    assert await muted(services)
    async with services.sessions() as session:
        row = await session.get(GroupMuteRow, ("asker-rf-nilsen", "hansen"))
        assert row is not None and row.muted_by == "console:kari"
    page = text_of(await (await client.get(done.headers["Location"])).text())
    assert (
        "Familien Hansen er dempet" in page
        and "Familien Hansen Medlem Dempet 23.11.2026 10:00" in page
    )
    twilio = TwilioDriver(client, services.settings)
    await sms(twilio, HANSEN, "Hei alle sammen", "SM" + "1" * 32)
    again = await post_form(client, GROUP + "/demp", {"csrf": token, "hjem": "hansen"})
    assert again.headers["Location"].endswith("ok=var-dempet&hjem=hansen")
    lifted = await post_form(client, GROUP + "/opphev", {"csrf": token, "hjem": "hansen"})
    assert lifted.headers["Location"] == GROUP + "?ok=opphevet&hjem=hansen"
    assert not await muted(services)
    await sms(twilio, HANSEN, "Takk for sist", "SM" + "2" * 32)
    async with services.sessions() as session:
        rows = list(await session.scalars(select(GroupMessageRow).order_by(GroupMessageRow.id)))
    assert [(r.foster_home_id, r.muted, r.relayed) for r in rows] == [
        ("hansen", True, False),
        ("hansen", False, True),
    ]


async def sms(twilio: TwilioDriver, sender: str, body: str, sid: str) -> None:
    form = {"MessageSid": sid, "From": sender, "To": GROUP_LINE, "Body": body,
            "AccountSid": "AC" + "0" * 32, "NumMedia": "0"}  # fmt: skip
    status, answer = await twilio.post("/twilio/sms", form)
    assert status == 200, answer


async def test_a_home_outside_the_group_changes_nothing(client: Client, services: Services) -> None:
    await log_in(client, services, KARI)
    token = await form_token(client, GROUP)
    for home in ("olsen", "nobody", ""):
        response = await post_form(client, GROUP + "/demp", {"csrf": token, "hjem": home})
        assert response.status == 400
        assert (
            "Fosterhjemmet er ikke med i denne gruppen. Ingenting er endret."
            in await response.text()
        )
    assert await count(services, GroupMuteRow) == 0


async def test_the_groups_messages_are_shown_and_the_read_logged(
    client: Client, services: Services
) -> None:
    await sms(
        TwilioDriver(client, services.settings),
        HANSEN,
        "Noen som skal på fagdagen?",
        "SM" + "3" * 32,
    )
    await log_in(client, services, KARI)
    page = text_of(await (await client.get(GROUP + "/meldinger")).text())
    assert "Familien Hansen SMS Sendt videre Noen som skal på fagdagen?" in page
    assert ("console:kari", "console.gruppe.meldinger", "group:asker-rf-nilsen limit=100") in (
        await access_entries(services)
    )


async def test_a_broadcast_is_counted_first_then_sent_once(
    client: Client, services: Services
) -> None:
    await log_in(client, services, KARI)
    token = await form_token(client, GROUP)
    text = "Fagdag torsdag kl. 18 på Asker kulturhus. Velkommen!"
    fields = {"csrf": token, "handling": "tell", "tekst": text, "tidspunkt": ""}
    counted = await post_form(client, GROUP + "/utsending", fields)
    assert counted.status == 200
    html = await counted.text()
    async with services.sessions() as session:
        loaded = await services.organisation()
        expected = (
            await broadcasts.plan(
                session, loaded, "group:asker-rf-nilsen", text, None, MONDAY_10, ADMIN
            )
        ).counts()
    assert f'id="count-recipients">{expected["recipients"]}<' in html
    assert expected["recipients"] == 6  # the four homes' six phones, by SMS
    assert "Ingenting er sendt ennå." in html and await count(services, BroadcastRow) == 0
    plan = re.search(r'name="plan" value="([^"]+)"', html)
    assert plan
    send = {**fields, "csrf": csrf_of(html), "handling": "send", "plan": plan[1]}
    sent = await post_form(client, GROUP + "/utsending", send)
    assert sent.status == 303
    async with services.sessions() as session:
        [row] = list(await session.scalars(select(BroadcastRow)))
        outbox = list(
            await session.scalars(select(OutboxRow).where(OutboxRow.broadcast_id == row.id))
        )
    assert sent.headers["Location"] == f"{GROUP}?utsending={row.id}"
    assert (row.audience, row.created_by, row.body) == (
        "group:asker-rf-nilsen",
        "console:kari",
        text,
    )
    assert len(outbox) == expected["recipients"]
    assert all(o.msg_class == "info" and "Svar STOPP" in o.body for o in outbox)
    twice = await post_form(client, GROUP + "/utsending", send)  # the same count's token again
    assert twice.status == 400 and "Tell mottakerne på nytt" in await twice.text()
    assert await count(services, BroadcastRow) == 1


async def test_a_broadcast_is_not_sent_without_its_count_or_with_another_text(
    client: Client, services: Services
) -> None:
    await log_in(client, services, KARI)
    token = await form_token(client, GROUP)
    fields = {"csrf": token, "handling": "tell", "tekst": "Hei", "tidspunkt": ""}
    uncounted = await post_form(
        client, GROUP + "/utsending", {**fields, "handling": "send", "plan": "x"}
    )
    assert uncounted.status == 400
    html = await (await post_form(client, GROUP + "/utsending", fields)).text()
    plan = re.search(r'name="plan" value="([^"]+)"', html)
    assert plan
    changed = {**fields, "handling": "send", "plan": plan[1], "tekst": "En annen tekst"}
    assert (await post_form(client, GROUP + "/utsending", changed)).status == 400
    assert await count(services, BroadcastRow) == 0


@pytest.mark.parametrize(
    ("tekst", "tidspunkt", "field", "message"),
    [
        ("   ", "", "tekst", "Skriv meldingen som skal sendes."),
        ("x" * 1600, "", "tekst", "Meldingen er 1600 tegn. Den kan være høyst"),
        ("Hei", "i morgen", "tidspunkt", "Ugyldig tidspunkt."),
        ("Hei", "2026-11-01T18:00", "tidspunkt", "Tidspunktet må være fra nå"),
    ],
)
async def test_a_bad_broadcast_shows_the_error_beside_its_field(
    client: Client, services: Services, tekst: str, tidspunkt: str, field: str, message: str
) -> None:
    await log_in(client, services, KARI)
    token = await form_token(client, GROUP)
    fields = {"csrf": token, "handling": "tell", "tekst": tekst, "tidspunkt": tidspunkt}
    response = await post_form(client, GROUP + "/utsending", fields)
    assert response.status == 400
    html = await response.text()
    assert f'id="{field}-error">{message}' in html
    assert await count(services, BroadcastRow) == 0


async def test_a_later_broadcast_says_when(client: Client, services: Services) -> None:
    await log_in(client, services, KARI)
    token = await form_token(client, GROUP)
    fields = {"csrf": token, "handling": "tell", "tekst": "Hei", "tidspunkt": "24.11.2026 18:00"}
    html = text_of(await (await post_form(client, GROUP + "/utsending", fields)).text())
    assert "Slik blir utsendingen til Ressursfamilien Nilsen 24.11.2026 18:00:" in html


async def test_staff_who_are_vakt_moderate_but_do_not_broadcast(
    client: Client, services: Services
) -> None:
    await log_in(client, services, INGRID)
    page = await (await client.get(GROUP)).text()
    assert "Demp" in page and "Send melding til gruppen" not in page
    token = csrf_of(page)
    done = await post_form(client, GROUP + "/demp", {"csrf": token, "hjem": "haugen"})
    assert done.status == 303 and await muted(services, "haugen")
    fields = {"csrf": token, "handling": "tell", "tekst": "Hei"}
    assert (await post_form(client, GROUP + "/utsending", fields)).status == 404


async def test_a_vakt_who_follows_no_group_sees_none(client: Client, services: Services) -> None:
    await log_in(client, services, NINA)
    listing = text_of(await (await client.get("/console/grupper")).text())
    assert "Du følger ingen grupper." in listing
    assert (await client.get(GROUP)).status == 404
