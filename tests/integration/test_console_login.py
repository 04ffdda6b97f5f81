"""Logging in to the console with a code by SMS, over the app with a real Redis and
database (sandbox: the code lands in the outbox), the clock in the test's hands."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta

import pytest

from helpline.bootstrap import Services, open_services
from helpline.commands.org import demo_text, load_text
from helpline.web.console.sessions import COOKIE_NAME
from tests.conftest import FrozenClock, app_client
from tests.e2e.api_setup import MONDAY_10, snapshot
from tests.integration.console_support import (
    KARI,
    NINA,
    SIRI,
    UNREGISTERED,
    Client,
    access_entries,
    ask_code,
    form_token,
    last_code,
    log_in,
    login_sms,
    post_form,
    send_code,
)

pytestmark = pytest.mark.integration


@pytest.fixture
async def client(services: Services, clock: FrozenClock) -> AsyncIterator[Client]:
    clock.now = MONDAY_10  # Monday 10:00 in Oslo: Ola has Asker's day duty
    await load_text(services, demo_text())
    client = await app_client(services)
    yield client
    await client.close()


def text_of(html: str) -> str:
    """The page's words, tags dropped: what a reader sees."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


async def test_the_login_page_is_norwegian_and_carries_a_csrf_token(client: Client) -> None:
    response = await client.get("/console/")
    assert response.status == 200 and response.url.path == "/console/login"
    html = await response.text()
    assert '<html lang="nb"' in html and 'href="#main"' in html and '<main id="main"' in html
    assert 'name="csrf"' in html and "Mobilnummer" in html
    assert response.headers["Cache-Control"] == "no-store"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


async def test_a_koordinator_logs_in_with_the_code_and_sees_their_kommune(
    client: Client, services: Services
) -> None:
    response = await ask_code(client, "912 34 567")  # typed as people type it
    assert (response.status, response.headers["Location"]) == (303, "/console/login/code")
    (sms,) = await login_sms(services, KARI)
    assert sms.status == "sandbox" and sms.msg_class == "help" and sms.sender == "+4767000001"
    assert "Kari" not in sms.body and re.search(r"\b[0-9]{6}\b", sms.body)
    response = await send_code(client, await last_code(services, KARI))
    assert (response.status, response.headers["Location"]) == (303, "/console/")
    page = text_of(await (await client.get("/console/")).text())
    assert "Oversikt" in page and "Kari Nordmann, koordinator" in page
    assert "Asker Primærvakt Ola Berg Barnevernstjenesten i Asker" in page
    assert "Bakvakt Ingrid Solberg" in page and "Barnevernvakt Hilde Aas Barnevernvakta" in page
    assert "Bærum" not in page  # not her kommune
    assert await access_entries(services) == [
        ("console:kari", "console.login", "sms code"),
        ("console:kari", "console.oversikt", "kommuner:asker"),
    ]


async def test_the_session_id_changes_at_login(client: Client, services: Services) -> None:
    await client.get("/console/login")
    before = client.session.cookie_jar.filter_cookies(client.make_url("/"))["helpline_session"]
    await log_in(client, services)
    after = client.session.cookie_jar.filter_cookies(client.make_url("/"))["helpline_session"]
    assert before.value != after.value
    assert await services.redis.exists(f"helpline_session_{before.value}") == 0


async def test_the_cookie_is_httponly_and_samesite_strict(client: Client) -> None:
    response = await client.get("/console/login")
    cookie = response.cookies["helpline_session"]
    assert cookie["httponly"] and cookie["samesite"] == "Strict" and not cookie["secure"]


async def test_cookies_are_secure_under_https(services: Services) -> None:
    settings = replace(services.settings, cookie_secure=True)
    async with open_services(settings, clock=services.clock) as secure:
        client = await app_client(secure)
        try:
            response = await client.get("/console/login")
            assert response.cookies["helpline_session"]["secure"]
        finally:
            await client.close()


@pytest.mark.parametrize(("phone", "who"), [(SIRI, "Siri Holm, administrator"),
                                            (NINA, "Nina Strand, vakt")])  # fmt: skip
async def test_an_admin_and_a_vakt_see_their_kommuner(
    client: Client, services: Services, phone: str, who: str
) -> None:
    await log_in(client, services, phone)
    page = text_of(await (await client.get("/console/")).text())
    assert who in page and "Asker" in page and "Bærum" in page


async def test_an_unregistered_number_gets_the_same_answer_and_no_sms(
    client: Client, services: Services
) -> None:
    known = await ask_code(client, KARI)
    known_page = text_of(await (await client.get("/console/login/code")).text())
    other = await ask_code(client, UNREGISTERED)
    other_page = text_of(await (await client.get("/console/login/code")).text())
    assert (known.status, known.headers["Location"]) == (other.status, other.headers["Location"])
    assert known_page.replace("567", "999") == other_page  # only the masked number differs
    assert await login_sms(services, UNREGISTERED) == []
    answers = [text_of(await (await send_code(client, "000000")).text()) for _ in range(5)]
    assert "Du har 4 forsøk igjen" in answers[0] and "For mange feil forsøk" in answers[4]


async def test_five_wrong_codes_lock_the_code(client: Client, services: Services) -> None:
    await ask_code(client, KARI)
    right = await last_code(services, KARI)
    wrong = "000000" if right != "000000" else "111111"
    for left in (4, 3, 2, 1):
        response = await send_code(client, wrong)
        assert response.status == 400
        assert f"Feil kode. Du har {left} forsøk igjen." in await response.text()
    response = await send_code(client, wrong)
    assert "For mange feil forsøk. Be om en ny kode." in await response.text()
    response = await send_code(client, right)  # too late: the code is gone
    assert response.status == 400 and "Be om en ny kode" in await response.text()
    assert (await client.get("/console/", allow_redirects=False)).status == 303
    failed = [e for e in await access_entries(services) if e[1] == "console.login_failed"]
    assert [target for _, _, target in failed] == ["wrong"] * 4 + ["locked", "missing"]
    assert all(right not in target and "567" not in target for _, _, target in failed)


async def test_a_malformed_code_uses_no_try(client: Client, services: Services) -> None:
    await ask_code(client, KARI)
    response = await send_code(client, "12ab")
    assert response.status == 400 and "Koden er seks siffer" in await response.text()
    response = await send_code(
        client, "000000" if await last_code(services, KARI) != "000000" else "1" * 6
    )
    assert "Du har 4 forsøk igjen" in await response.text()


async def test_an_expired_code_is_refused(
    client: Client, services: Services, clock: FrozenClock
) -> None:
    await ask_code(client, KARI)
    code = await last_code(services, KARI)
    clock.now += timedelta(minutes=10)
    response = await send_code(client, code)
    assert response.status == 400 and "Koden er utløpt" in await response.text()
    assert (await client.get("/console/", allow_redirects=False)).status == 303


async def test_a_code_nine_minutes_old_still_works(
    client: Client, services: Services, clock: FrozenClock
) -> None:
    await ask_code(client, KARI)
    clock.now += timedelta(minutes=9, seconds=59)
    response = await send_code(client, await last_code(services, KARI))
    assert response.status == 303


async def test_a_new_code_replaces_the_old_one(client: Client, services: Services) -> None:
    await ask_code(client, KARI)
    first = await last_code(services, KARI)
    await ask_code(client, KARI)
    second = await last_code(services, KARI)
    if first != second:
        assert (await send_code(client, first)).status == 400
    assert (await send_code(client, second)).status == 303


async def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing(
    client: Client, services: Services
) -> None:
    await client.get("/console/login")
    before = await snapshot(services)
    for fields in ({"phone": KARI}, {"phone": KARI, "csrf": "forged"}):
        response = await post_form(client, "/console/login", fields)
        assert response.status == 403
        assert "Skjemaet kunne ikke sendes" in await response.text()
    assert await snapshot(services) == before
    assert await login_sms(services, KARI) == []


async def test_a_link_from_another_site_reloads_instead_of_replacing_the_cookie(
    client: Client,
) -> None:
    response = await client.get("/console/?x=1", headers={"Sec-Fetch-Site": "cross-site"})
    html = await response.text()
    assert response.status == 200 and '<meta http-equiv="refresh" content="0">' in html
    assert 'href="/console/?x=1"' in html and "Set-Cookie" not in response.headers


async def test_a_forged_post_from_another_site_sets_no_cookie(client: Client) -> None:
    response = await client.post("/console/logout", data={}, allow_redirects=False)
    assert response.status == 403 and "Set-Cookie" not in response.headers


async def test_logout_without_the_csrf_token_is_refused(client: Client, services: Services) -> None:
    await log_in(client, services)
    response = await post_form(client, "/console/logout", {})
    assert response.status == 403
    assert (await client.get("/console/", allow_redirects=False)).status == 200


async def test_logout_ends_the_session(client: Client, services: Services) -> None:
    await log_in(client, services)
    token = await form_token(client, "/console/")
    response = await post_form(client, "/console/logout", {"csrf": token})
    assert (response.status, response.headers["Location"]) == (303, "/console/login?ut=1")
    assert (await client.get("/console/", allow_redirects=False)).status == 303
    page = await (await client.get("/console/login?ut=1")).text()
    assert "Du er logget ut." in page
    assert ("console:kari", "console.logout", "logout") in await access_entries(services)


async def test_a_live_stream_open_at_logout_does_not_bring_the_session_back(
    client: Client, services: Services
) -> None:
    """The Innboks' live stream, opened before the logout, ends when it sees the session
    gone, and must not save its own copy of the session on the way out: the guard marks
    every console request's session seen, streams too, and a save at the stream's end
    would write the logged-in session back under the old cookie. (aiohttp-session saves
    nothing for a streamed answer; this holds it to that.)"""
    await log_in(client, services)
    old = {
        COOKIE_NAME: client.session.cookie_jar.filter_cookies(client.make_url("/"))[
            COOKIE_NAME
        ].value
    }
    stream = await client.get("/console/innboks/hendelser")
    assert stream.status == 200
    token = await form_token(client, "/console/")
    response = await post_form(client, "/console/logout", {"csrf": token})
    assert response.status == 303
    await asyncio.wait_for(stream.read(), 10)  # it ends by itself at its next look
    again = await client.get("/console/", allow_redirects=False, cookies=old)
    assert again.status == 303, "the old cookie is logged in again"


async def test_an_idle_session_is_logged_out(
    client: Client, services: Services, clock: FrozenClock
) -> None:
    await log_in(client, services)
    clock.now += timedelta(minutes=29)
    assert (await client.get("/console/", allow_redirects=False)).status == 200  # and refreshed
    clock.now += timedelta(minutes=29)
    assert (await client.get("/console/", allow_redirects=False)).status == 200
    clock.now += timedelta(minutes=30)
    response = await client.get("/console/", allow_redirects=False)
    assert (response.status, response.headers["Location"]) == (303, "/console/login?ut=tidsavbrudd")
    assert (await client.get("/console/", allow_redirects=False)).status == 303
    assert ("console:kari", "console.logout", "idle") in await access_entries(services)


async def test_codes_for_one_number_are_limited(client: Client, services: Services) -> None:
    limit = services.settings.login_per_number
    for _ in range(limit):
        assert (await ask_code(client, KARI)).status == 303
    response = await ask_code(client, KARI)
    assert response.status == 429 and "For mange forsøk" in await response.text()
    assert len(await login_sms(services, KARI)) == limit
    assert (await ask_code(client, SIRI)).status == 303  # another number is not


async def test_one_client_address_is_limited(services: Services, clock: FrozenClock) -> None:
    clock.now = MONDAY_10
    await load_text(services, demo_text())
    settings = replace(services.settings, login_per_ip=3)
    async with open_services(settings, clock=clock) as limited:
        client = await app_client(limited)
        try:
            for phone in (KARI, SIRI, NINA):
                assert (await ask_code(client, phone)).status == 303
            assert (await ask_code(client, UNREGISTERED)).status == 429
            clock.now += timedelta(hours=1)  # the next hour's count
            assert (await ask_code(client, UNREGISTERED)).status == 303
        finally:
            await client.close()


async def test_a_malformed_number_is_told_beside_the_field(client: Client) -> None:
    response = await ask_code(client, "12")
    html = await response.text()
    assert response.status == 400 and "Ugyldig telefonnummer" in html
    assert 'aria-invalid="true"' in html and 'aria-describedby="phone-error"' in html


async def test_static_files_are_served_and_cacheable(client: Client) -> None:
    response = await client.get("/static/designsystemet/designsystemet.css")
    assert response.status == 200 and ".ds-button" in await response.text()
    assert "no-store" not in response.headers.get("Cache-Control", "")
