"""The Telefonsimulator over the app: sandbox only, texts and calls played by the
simulator against the service's own webhooks, what each phone shows, scope and CSRF."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from html import unescape
from pathlib import Path

import pytest

from helpline.bootstrap import Services, open_services
from helpline.commands.org import demo_text, load_text
from tests.conftest import FrozenClock, app_client, make_settings
from tests.e2e.api_setup import MONDAY_10
from tests.fakes.twilio_api import FAKE_ACCOUNT_SID, FAKE_AUTH_TOKEN, running_fake_twilio
from tests.integration.console_support import (
    KARI,
    NINA,
    SIRI,
    Client,
    access_entries,
    ask_code,
    csrf_of,
    form_token,
    log_in,
    post_form,
    send_code,
)

pytestmark = pytest.mark.integration

PAGE = "/console/telefonsimulator"
ASKER_LINE = "+4767000001"
HANSEN = "+4798765432"  # Familien Hansen, Asker
OLA = "+4791234568"  # Asker's primary on Monday 10:00


@pytest.fixture
async def client(services: Services, clock: FrozenClock) -> AsyncIterator[Client]:
    clock.now = MONDAY_10
    await load_text(services, demo_text())
    client = await app_client(services)
    yield client
    await client.close()


def text_of(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def phone_card(html: str, slug: str) -> str:
    """The words of one phone's card."""
    found = re.search(rf'<section class="ds-card phone"[^>]*id="{slug}".*?</section>', html, re.S)
    assert found, f"no phone {slug}"
    return text_of(found[0])


async def test_a_text_as_a_foster_parent_reaches_the_phones(
    client: Client, services: Services
) -> None:
    await log_in(client, services, SIRI)
    html = await (await client.get(PAGE)).text()
    assert ">Telefonsimulator</a>" in html
    assert "Ingen meldinger ennå" in phone_card(html, "fh-hansen-1")
    fields = {"csrf": csrf_of(html), "telefon": "fh-hansen-1", "til": ASKER_LINE}
    fields["tekst"] = "Hei, kan noen ringe oss?"
    response = await post_form(client, PAGE + "/sms", fields)
    assert (response.status, response.headers["Location"]) == (303, PAGE + "#fh-hansen-1")
    html = await (await client.get(PAGE)).text()
    assert "SMS sendt fra Familien Hansen. Tjenesten sendte" in text_of(html)
    hansen = phone_card(html, "fh-hansen-1")
    assert "SMS fra Hjelpetelefonen for Asker" in hansen  # the receipt
    ola = phone_card(html, "p-ola")
    assert "Familien Hansen" in ola and "Hei, kan noen ringe oss?" in ola  # the notification
    entries = await access_entries(services)
    assert any(actor == "console:siri" and action == "outbox.list" for actor, action, _ in entries)
    assert ("console:siri", "console.telefonsimulator", "outbox") in entries


async def test_an_answer_from_staff_appears_on_the_foster_parents_phone(
    client: Client, services: Services
) -> None:
    await log_in(client, services, SIRI)
    token = await form_token(client, PAGE)
    ask = {"csrf": token, "telefon": "fh-hansen-1", "til": ASKER_LINE, "tekst": "Hjelp oss"}
    assert (await post_form(client, PAGE + "/sms", ask)).status == 303
    ola = phone_card(await (await client.get(PAGE)).text(), "p-ola")
    code = re.search(r"#K\d+", ola)
    assert code, ola
    answer = {"csrf": token, "telefon": "p-ola", "til": ASKER_LINE}
    answer["tekst"] = f"{code[0]} Jeg ringer deg om fem minutter."
    assert (await post_form(client, PAGE + "/sms", answer)).status == 303
    hansen = phone_card(await (await client.get(PAGE)).text(), "fh-hansen-1")
    assert "Jeg ringer deg om fem minutter." in hansen
    assert OLA not in hansen and "91 23 45 68" not in hansen  # staff numbers stay hidden


async def test_a_call_shows_the_whisper_on_the_phone_that_answers(
    client: Client, services: Services
) -> None:
    await log_in(client, services, SIRI)
    token = await form_token(client, PAGE)
    fields = {"csrf": token, "telefon": "fh-hansen-1", "til": ASKER_LINE, "svar": "first"}
    response = await post_form(client, PAGE + "/ring", fields)
    assert response.status == 303
    html = await (await client.get(PAGE)).text()
    hansen = phone_card(html, "fh-hansen-1")
    assert "Du ringer +4767000001." in hansen and "Du hører: «" in hansen
    ola = phone_card(html, "p-ola")
    assert "Telefonen ringer" in ola and "Du tar telefonen." in ola
    assert "Du hører: «" in ola and "Familien Hansen" in ola  # the whisper names the home
    assert "Du trykker 1." in ola and "Du er koblet til innringeren." in ola


async def test_nobody_answering_rings_down_the_chain(client: Client, services: Services) -> None:
    await log_in(client, services, SIRI)
    token = await form_token(client, PAGE)
    fields = {"csrf": token, "telefon": "fh-hansen-1", "til": ASKER_LINE, "svar": "none"}
    assert (await post_form(client, PAGE + "/ring", fields)).status == 303
    html = await (await client.get(PAGE)).text()
    assert "Ubesvart anrop." in phone_card(html, "p-ola")
    assert "Ubesvart anrop." in phone_card(html, "p-ingrid")  # the backup rang next
    assert "Du legger igjen en talemelding." in phone_card(html, "fh-hansen-1")


async def test_bad_input_is_shown_beside_the_field(client: Client, services: Services) -> None:
    await log_in(client, services, SIRI)
    token = await form_token(client, PAGE)
    fields = {"csrf": token, "telefon": "fh-hansen-1", "til": ASKER_LINE, "tekst": "  "}
    response = await post_form(client, PAGE + "/sms", fields)
    assert response.status == 400
    assert 'id="fh-hansen-1-sms-error">Skriv en melding.' in await response.text()
    fields |= {"tekst": "Hei", "til": "+4799999999"}
    response = await post_form(client, PAGE + "/sms", fields)
    assert response.status == 400
    fields["telefon"] = "fh-nobody-1"
    assert (await post_form(client, PAGE + "/sms", fields)).status == 404
    fields = {"telefon": "fh-hansen-1", "til": ASKER_LINE, "tekst": "Hei"}
    assert (await post_form(client, PAGE + "/sms", fields)).status == 403  # no CSRF token
    html = await (await client.get(PAGE)).text()
    assert "Ingen meldinger ennå" in phone_card(html, "fh-hansen-1")


async def test_the_live_stream_sends_the_receipt_of_a_new_text(
    client: Client, services: Services
) -> None:
    await log_in(client, services, SIRI)
    html = await (await client.get(PAGE)).text()
    version = re.search(r'id="telefoner" data-version="([0-9a-f]{16})"', html)
    assert version and 'src="/static/console/telefonsimulator.js' in html
    response = await client.get(f"{PAGE}/hendelser?siden={version[1]}")
    assert response.headers["Content-Type"] == "text/event-stream; charset=utf-8"
    assert "connect-src 'self'" in response.headers["Content-Security-Policy"]
    fields = {"csrf": csrf_of(html), "telefon": "fh-hansen-1", "til": ASKER_LINE}
    assert (
        await post_form(client, PAGE + "/sms", fields | {"tekst": "Er dere der?"})
    ).status == 303
    sent = await asyncio.wait_for(_events_until_receipt(response), 30)  # a guard, not a timing
    assert all(e["event"] == "telefoner" and re.fullmatch(r"[0-9a-f]{16}", e["id"]) for e in sent)
    assert version[1] not in [e["id"] for e in sent]  # only what changed is sent
    assert "<form" not in sent[-1]["data"]  # the forms on the page stay as they are
    live = [e for e in await access_entries(services) if e[2] == "live:outbox"]
    assert live == [("console:siri", "console.telefonsimulator", "live:outbox")] * len(sent)
    # Logged out elsewhere: the stream ends without sending more.
    await post_form(client, "/console/logout", {"csrf": csrf_of(html)})
    rest = await asyncio.wait_for(response.content.read(), 30)
    assert b"event: telefoner" not in rest
    response.close()


async def _events_until_receipt(response: object) -> list[dict[str, str]]:
    """The stream's events up to the first with the receipt on Familien Hansen's phone (the
    service may write the staff's notification first)."""
    sent: list[dict[str, str]] = []
    while True:
        sent.append(await _next_event(response))
        screen = re.search(r'data-phone="fh-hansen-1">(.*?)</div>', sent[-1]["data"], re.S)
        if screen and "SMS fra Hjelpetelefonen for Asker" in text_of(screen[1]):
            return sent


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


async def test_a_koordinator_plays_only_their_kommuners_phones(
    client: Client, services: Services
) -> None:
    await log_in(client, services, KARI)
    html = await (await client.get(PAGE)).text()
    assert 'id="fh-hansen-1"' in html and 'id="p-ola"' in html and 'id="p-hilde"' in html
    assert 'id="fh-olsen-1"' not in html and 'id="p-marte"' not in html
    assert 'id="reserve"' not in html
    token = csrf_of(html)
    fields = {"csrf": token, "telefon": "fh-olsen-1", "til": ASKER_LINE, "tekst": "Hei"}
    assert (await post_form(client, PAGE + "/sms", fields)).status == 404


async def test_a_vakt_has_no_simulator(client: Client, services: Services) -> None:
    await log_in(client, services, NINA)
    assert ">Telefonsimulator</a>" not in await (await client.get("/console/")).text()
    assert (await client.get(PAGE)).status == 404
    assert (await client.get(PAGE + "/hendelser")).status == 404
    token = await form_token(client, "/console/")
    fields = {"csrf": token, "telefon": "fh-hansen-1", "til": ASKER_LINE, "tekst": "Hei"}
    assert (await post_form(client, PAGE + "/sms", fields)).status == 404


async def test_there_is_no_simulator_outside_the_sandbox(
    data_dir: Path, database_url: str, redis_url: str, clock: FrozenClock
) -> None:
    clock.now = MONDAY_10
    async with running_fake_twilio() as twilio:
        settings = make_settings(
            data_dir,
            database_url,
            redis_url,
            TWILIO_ACCOUNT_SID=FAKE_ACCOUNT_SID,
            TWILIO_AUTH_TOKEN=FAKE_AUTH_TOKEN,
            HELPLINE_TWILIO_API_BASE=twilio.base_url,
        )
        async with open_services(settings, clock=clock) as services:
            await services.redis.flushdb()
            await load_text(services, demo_text())
            client = await app_client(services)
            try:
                assert (await ask_code(client, SIRI)).status == 303
                (sent,) = [m.form["Body"] for m in twilio.messages if m.form.get("To") == SIRI]
                code = re.search(r"\b([0-9]{6})\b", sent)
                assert code
                assert (await send_code(client, code[1])).status == 303
                assert ">Telefonsimulator</a>" not in await (await client.get("/console/")).text()
                assert (await client.get(PAGE)).status == 404
                assert (await client.get(PAGE + "/hendelser")).status == 404
                token = await form_token(client, "/console/register")
                fields = {"csrf": token, "telefon": "fh-hansen-1", "til": ASKER_LINE}
                response = await post_form(client, PAGE + "/sms", fields | {"tekst": "Hei"})
                assert response.status == 404
            finally:
                await client.close()
