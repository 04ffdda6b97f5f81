"""The answer page of the personal link (issue 10) over the app: answering, changing,
NEI, the waitlist and an offer, late answers, a cancelled event, form errors, 404, forms
from another site and forms sent twice, and the token kept out of the logs. The real
browser drives it in tests/browser/test_answer_page.py."""

from __future__ import annotations

import html
import logging
import re
from datetime import timedelta

import pytest
from aiohttp import ClientResponse
from sqlalchemy import select

from helpline.db.models import InvitationRow, OutboxRow
from helpline.event_actions import cancel_event
from routing.access import ADMIN
from tests.e2e.invitation_world import PHONES, World, world
from tests.unit.rota_fixtures import oslo

pytestmark = pytest.mark.e2e
__all__ = ["world"]  # the fixture

HANSEN, JOHANSEN, HAUGEN = (PHONES[h][0] for h in ("hansen", "johansen", "haugen"))
_FORM_TOKEN = re.compile(r'name="skjema" value="([0-9a-f]{64})"')


async def token_of(world: World, home: str) -> str:
    """The personal link's token, read back from the invitation that carried it."""
    body = next(t for t in world.texts_to(PHONES[home][0]) if t.startswith("Invitasjon"))
    return body.split("/svar/")[1].split()[0]


async def page(world: World, token: str, query: str = "") -> str:
    response = await world.client.get(f"/svar/{token}{query}")
    assert response.status == 200
    return html.unescape(await response.text())


def form_token(text: str) -> str:
    found = _FORM_TOKEN.search(text)
    assert found, "no form on the page"
    return found[1]


async def post(
    world: World, token: str, data: dict[str, str], headers: dict[str, str] | None = None
) -> ClientResponse:
    return await world.client.post(
        f"/svar/{token}", data=data, headers=headers or {}, allow_redirects=False
    )


async def answer(world: World, token: str, choice: str, people: str = "1") -> str:
    """Answer on the page as a browser does, follow the redirect; the page after it."""
    sent = {"skjema": form_token(await page(world, token)), "svar": choice, "antall": people}
    response = await post(world, token, sent, {"Sec-Fetch-Site": "same-origin"})
    assert response.status == 303, await response.text()
    location = response.headers["Location"]
    assert location.startswith(f"/svar/{token}?kvittering=")
    return await page(world, token, location.removeprefix(f"/svar/{token}"))


async def stored(world: World, home: str, event_id: int) -> InvitationRow:
    async with world.services.sessions() as session:
        row = await session.scalar(
            select(InvitationRow).where(
                InvitationRow.event_id == event_id, InvitationRow.foster_home_id == home
            )
        )
    assert row is not None
    return row


async def outbox_count(world: World) -> int:
    async with world.services.sessions() as session:
        return len(list(await session.scalars(select(OutboxRow.id))))


async def test_the_page_shows_the_event_and_takes_ja_2_a_change_and_nei(world: World) -> None:
    event_id = await world.event(capacity=5)
    await world.send_all()
    token = await token_of(world, "hansen")
    first = await page(world, token)
    for shown in ("<h1", "Nettverkstreff i Asker", "Nettverkstreff",
                  "torsdag 10. desember kl. 18:00–20:00", "Asker kulturhus",
                  "lørdag 5. desember", "Dere har ikke svart ennå.",
                  f'href="/svar/{token}.ics"', "<legend", 'lang="nb"'):  # fmt: skip
        assert shown in first
    assert "Hansen" not in first  # the page names no one

    after = await answer(world, token, "ja", "2")
    assert (
        "Takk! Dere er påmeldt Nettverkstreff i Asker torsdag 10. desember kl. 18:00 med "
        "2 personer. Kan dere ikke likevel, endre svaret her." in after
    )
    assert "Dere er påmeldt med 2 personer." in after
    assert 'value="ja" checked' in after and 'value="2"' in after
    assert (await world.answers(event_id))["hansen"] == ("yes", 2)

    changed = await answer(world, token, "ja", "3")
    assert (
        "Endret: dere er nå påmeldt Nettverkstreff i Asker" in changed and "3 personer" in changed
    )
    no = await answer(world, token, "nei")
    assert "Takk for svaret. Vi har registrert at dere ikke kommer på Nettverkstreff" in no
    assert "Dere har svart at dere ikke kommer." in no
    document = await world.show(event_id)
    assert (await world.answers(event_id))["hansen"] == ("no", 0)
    assert [a["channel"] for a in document["answers"]] == ["link"]
    assert document["by_channel"]["answered_by"] == {"sms": 0, "telegram": 0, "link": 1}
    assert document["by_channel"]["sms"]["answered"] == 1  # invited by SMS, answered by link
    await world.send_all()
    # The page is the confirmation: no SMS besides the invitation, on either phone.
    for phone in PHONES["hansen"]:
        assert [t[:11] for t in world.texts_to(phone)] == ["Invitasjon:"]


async def test_the_waitlist_position_and_an_offer_are_shown(world: World) -> None:
    event_id = await world.event(capacity=2)
    await world.send_all()
    await world.sms(HANSEN, f"JA {event_id}")
    await world.sms(JOHANSEN, f"JA {event_id}")
    token = await token_of(world, "haugen")
    assert "Det er fullt nå. Svarer dere ja, kommer dere på ventelisten." in await page(
        world, token
    )
    after = await answer(world, token, "ja")
    assert "Det er fullt på Nettverkstreff i Asker. Du står som nr. 1 på ventelisten" in after
    assert "Dere står som nr. 1 på ventelisten (1 person)." in after
    assert (await world.show(event_id))["answers"][-1]["position"] == 1
    again = await answer(world, token, "ja")
    assert "Du står fortsatt som nr. 1 på ventelisten" in again

    await world.sms(JOHANSEN, f"NEI {event_id}")  # a place for Haugen: an offer until noon
    offered = await page(world, token)
    assert "Det er blitt ledig plass til dere. Vil dere ha plassen, svar ja innen kl. 12:00 " \
        "i morgen." in offered  # fmt: skip
    assert "Det er fullt nå" not in offered
    claimed = await answer(world, token, "ja")
    assert "Takk! Dere er påmeldt Nettverkstreff i Asker" in claimed
    assert (await world.answers(event_id))["haugen"] == ("yes", 1)


async def test_a_late_answer_is_told_and_taken(world: World) -> None:
    await world.event(capacity=2)
    await world.send_all()
    token = await token_of(world, "hansen")
    world.clock.now = oslo(2026, 12, 7, 9)  # after the deadline, before the event
    late = await page(world, token)
    assert "Svarfristen er ute, men dere kan fortsatt svare: er det plass, får dere den" in late
    after = await answer(world, token, "ja")
    assert "Svarfristen er ute, men det var plass. Takk! Dere er påmeldt" in after


async def test_too_many_people_is_told_beside_the_number(world: World) -> None:
    event_id = await world.event(capacity=2)
    await world.send_all()
    token = await token_of(world, "hansen")
    sent = {"skjema": form_token(await page(world, token)), "svar": "ja", "antall": "5"}
    refused = await post(world, token, sent)
    assert refused.status == 409
    text = html.unescape(await refused.text())
    assert 'id="antall-error">Nettverkstreff i Asker har plass til 2 personer i alt. Svar ja ' \
        "med færre" in text  # fmt: skip
    assert 'aria-invalid="true"' in text
    assert (await world.answers(event_id))["hansen"] == (None, 0)


async def test_form_errors_stand_beside_their_fields(world: World) -> None:
    event_id = await world.event()
    await world.send_all()
    token = await token_of(world, "hansen")
    current = form_token(await page(world, token))
    missing = await post(world, token, {"skjema": current, "antall": "2"})
    assert missing.status == 400
    text = html.unescape(await missing.text())
    assert '<p class="ds-validation-message" data-color="danger" id="svar-error">Velg om ' \
        "dere kommer eller ikke.</p>" in text  # fmt: skip
    assert 'aria-describedby="svar-error"' in text and "<title>Feil: " in text
    words = await post(world, token, {"skjema": current, "svar": "ja", "antall": "tre"})
    assert words.status == 400
    assert "Skriv hvor mange som kommer, som et tall fra 1 til 20." in await words.text()
    assert 'value="tre"' in await words.text()
    assert (await world.answers(event_id))["hansen"] == (None, 0)


async def test_a_cancelled_event_takes_no_answers(world: World) -> None:
    event_id = await world.event()
    await world.send_all()
    token = await token_of(world, "hansen")
    current = form_token(await page(world, token))
    loaded = await world.services.organisation()
    assert loaded is not None
    await cancel_event(world.services, loaded, event_id, "Salen er stengt.", ADMIN)
    shown = await page(world, token)
    assert "Nettverkstreff i Asker er avlyst. Salen er stengt. Vi tar ikke imot svar." in shown
    assert "<form" not in shown
    refused = await post(world, token, {"skjema": current, "svar": "ja", "antall": "1"})
    assert refused.status == 409
    assert "er avlyst, så vi tar ikke imot svar." in html.unescape(await refused.text())
    assert (await world.answers(event_id))["hansen"] == (None, 0)


async def test_an_unknown_token_is_a_friendly_404_that_tells_nothing(world: World) -> None:
    await world.event()
    await world.send_all()
    token = await token_of(world, "hansen")
    pages = []
    for wrong in (token[:-1] + ("x" if token[-1] != "x" else "y"), "x" * 32, "kort"):
        response = await world.client.get(f"/svar/{wrong}")
        assert response.status == 404
        text = html.unescape(await response.text())
        assert "Vi finner ikke denne invitasjonen" in text and wrong not in text
        assert response.headers["Cache-Control"] == "no-store"
        pages.append(text)
        posted = await post(world, wrong, {"svar": "ja", "antall": "1"})
        assert posted.status == 404
    assert len(set(pages)) == 1  # the same page, whatever was wrong


async def test_a_form_from_another_site_changes_nothing(world: World) -> None:
    event_id = await world.event()
    await world.send_all()
    token = await token_of(world, "hansen")
    current = form_token(await page(world, token))
    yes = {"skjema": current, "svar": "ja", "antall": "2"}
    for headers in ({"Sec-Fetch-Site": "cross-site", "Origin": "http://helpline.test"},
                    {"Sec-Fetch-Site": "same-site"},
                    {"Origin": "https://fosterhjem-svar.example"}, {"Origin": "null"}):  # fmt: skip
        refused = await post(world, token, yes, headers)
        assert refused.status == 403, headers
        assert "Svaret ble ikke registrert" in await refused.text()
    # Without the page's form token (a form made elsewhere, knowing only the link), or
    # with another family's: nothing changes either.
    other = form_token(await page(world, await token_of(world, "johansen")))
    for forged in ({"svar": "ja", "antall": "2"}, {**yes, "skjema": other}):
        refused = await post(world, token, forged)
        assert refused.status == 409
        assert "så vi har ikke registrert dette" in html.unescape(await refused.text())
    assert (await world.answers(event_id))["hansen"] == (None, 0)
    public = await post(world, token, yes, {"Origin": "http://helpline.test"})  # the public URL
    assert public.status == 303
    own = str(world.client.make_url("/")).rstrip("/")
    fresh = form_token(await page(world, token))
    again = await post(world, token, {"skjema": fresh, "svar": "nei"}, {"Origin": own})
    assert again.status == 303  # the address the request came to is ours too
    assert (await world.answers(event_id))["hansen"] == ("no", 0)


async def test_a_form_sent_twice_changes_nothing_beyond_the_first(world: World) -> None:
    event_id = await world.event()
    await world.send_all()
    token = await token_of(world, "hansen")
    before = form_token(await page(world, token))
    yes = {"skjema": before, "svar": "ja", "antall": "2"}
    assert (await post(world, token, yes)).status == 303
    first = await stored(world, "hansen", event_id)
    rows = await outbox_count(world)
    world.clock.now += timedelta(minutes=1)
    again = await post(world, token, yes)  # the same form again: its receipt, no change
    assert again.status == 303 and again.headers["Location"].endswith("?kvittering=ja")
    second = await stored(world, "hansen", event_id)
    assert (second.answer, second.people, second.answered_at) == ("yes", 2, first.answered_at)
    # An older form that would change the answer: refused, the answer as it stands shown.
    stale = await post(world, token, {**yes, "svar": "nei"})
    assert stale.status == 409
    text = html.unescape(await stale.text())
    assert "Svaret deres er endret siden siden ble lastet" in text
    assert "Dere er påmeldt med 2 personer." in text
    assert (await world.answers(event_id))["hansen"] == ("yes", 2)
    assert await outbox_count(world) == rows


async def test_the_page_headers(world: World) -> None:
    await world.event()
    await world.send_all()
    response = await world.client.get(f"/svar/{await token_of(world, 'hansen')}")
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "same-origin"  # the link stays here
    assert "script-src" not in response.headers["Content-Security-Policy"]
    assert "form-action 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Robots-Tag"] == "noindex, nofollow"
    assert "Set-Cookie" not in response.headers  # no session


async def test_the_token_is_masked_in_the_access_log(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    await world.event()
    await world.send_all()
    token = await token_of(world, "hansen")
    with caplog.at_level(logging.DEBUG):
        await answer(world, token, "ja", "2")
        await world.client.get(f"/svar/{token}.ics")
    access = [r.getMessage() for r in caplog.records if r.name == "aiohttp.access"]
    assert any('"GET /svar/*** HTTP/1.1" 200' in line for line in access)
    assert any('"POST /svar/*** HTTP/1.1" 303' in line for line in access)
    assert any('"GET /svar/***?kvittering=ja HTTP/1.1" 200' in line for line in access)
    assert any('"GET /svar/***.ics HTTP/1.1" 200' in line for line in access)
    routes = {getattr(r, "route", None) for r in caplog.records if r.name == "aiohttp.access"}
    assert token not in repr(routes)
    assert not [r for r in caplog.records if token in r.getMessage()]
