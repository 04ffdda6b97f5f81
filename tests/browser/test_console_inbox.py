"""Innboks, Kontaktlogg and Tilgangslogg in a real browser, against a real `helpline serve`
that sends its SMS to the fake Twilio.

A foster parent's SMS comes in as Twilio posts it (a signed webhook to the served
instance) and appears in the open inbox by the page's event stream, with the page's own
Content-Security-Policy in force (no `bypass_csp`: the script must run from 'self').
The served instance runs on the real clock, so who is on duty for Asker now is asked
of `helpline oncall` beside it; that person logs in, takes and answers the SMS in the
browser, and the answer must reach the fake Twilio from Asker's helpline number.
"""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import tomllib
from collections.abc import Callable
from pathlib import Path

import aiohttp
import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect

from bench.harness import helpline_argv
from helpline.twilio_signing import SIGNATURE_HEADER, sign
from helpline.web.twilio_auth import signing_token
from tests.browser.conftest import PHONE_VIEWPORT, Service, axe_violations, new_page
from tests.browser.test_console_login import ask_code, enter_code, shot

pytestmark = pytest.mark.browser

ASKER_LINE, BAERUM_LINE = "+4767000001", "+4767000002"
HANSEN = "+4798765432"  # Familien Hansen, Asker
OLSEN = "+4799887766"  # Familien Olsen, Bærum
KARI = "+4791234567"  # koordinator of Asker
MARTE = "+4793345012"  # koordinator of Bærum
SIRI = "+4791110000"  # admin
DEMO = Path(__file__).resolve().parents[2] / "helpline" / "demo.toml"
_SIDS = iter(range(1, 10_000))


def on_duty_now(service: Service, kommune: str) -> tuple[str, str]:
    """(name, own phone) of whoever the served demo notifies first for `kommune` now."""
    result = subprocess.run(
        helpline_argv("oncall", "--kommune", kommune, "--json"),
        env=service.served.env,
        cwd=service.served.data_dir,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    primary = json.loads(result.stdout)["chain"][0]
    people = {p["id"]: p for p in tomllib.loads(DEMO.read_text())["person"]}
    if primary["person"] not in people:
        pytest.skip("nobody but the fallback number is on duty for Asker now")
    return primary["name"], people[primary["person"]]["phone"]


async def text_in(service: Service, sender: str, body: str, to: str) -> None:
    """An SMS from `sender` to helpline number `to`, posted and signed as Twilio does."""
    settings = service.served.settings
    url = settings.public_url + "/twilio/sms"
    form = {"MessageSid": f"SMbrowserinbox{next(_SIDS):018d}", "From": sender, "To": to,
            "Body": body, "AccountSid": "AC" + "0" * 32, "NumMedia": "0"}  # fmt: skip
    headers = {SIGNATURE_HEADER: sign(url, form, signing_token(settings))}
    async with aiohttp.ClientSession() as session:
        async with session.post(service.url + "/twilio/sms", data=form, headers=headers) as answer:
            assert answer.status == 200, await answer.text()


async def until(check: Callable[[], bool], what: str) -> None:
    """Wait for the service to have done something outside the page (a guard against
    hanging, not a timing)."""
    for _ in range(300):
        if check():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"never happened: {what}")


async def logged_in(
    browser: Browser, service: Service, phone: str, **options: object
) -> tuple[BrowserContext, Page]:
    context, page = await new_page(browser, **options)
    await ask_code(page, service, phone)
    await enter_code(page, service.last_code(phone))
    await expect(page.get_by_role("heading", name="Oversikt", exact=True)).to_be_visible()
    return context, page


async def latest_code(page: Page, service: Service, home: str) -> str:
    """The newest contact code of foster home `home` in the contact log (K12)."""
    await page.goto(service.url + "/console/kontaktlogg")
    link = page.get_by_role("row").filter(has_text=home).first.get_by_role("link")
    return (await link.inner_text()).strip()


async def test_an_sms_appears_live_and_is_taken_and_answered_in_the_browser(
    browser: Browser, service: Service, tmp_path: Path
) -> None:
    name, phone = on_duty_now(service, "asker")
    # The console's own CSP in force: the live script must load from the service.
    context = await browser.new_context(locale="nb-NO")
    page = await context.new_page()
    refused: list[str] = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security" in m.text else None)
    try:
        await ask_code(page, service, phone)
        await enter_code(page, service.last_code(phone))
        await (
            page.get_by_role("navigation", name="Hovedmeny")
            .get_by_role("link", name="Innboks")
            .click()
        )
        await expect(page.get_by_role("heading", name="Innboks", exact=True)).to_be_visible()
        await expect(page.locator("#innboks-liste")).to_have_attribute("data-live", "on")
        await text_in(service, HANSEN, "Vi trenger å snakke med noen.", ASKER_LINE)
        link = page.get_by_role("link", name=re.compile(r"^K[0-9]+: Familien Hansen$")).last
        await expect(link).to_be_visible()  # no reload: the event stream brought it
        await expect(
            page.get_by_role("status").filter(has_text="Listen ble oppdatert")
        ).to_be_visible()
        await shot(page, tmp_path, "innboks-live")
        await link.click()
        await expect(page.get_by_text("Vi trenger å snakke med noen.")).to_be_visible()
        await page.get_by_role("button", name="Ta henvendelsen").click()
        await expect(page.get_by_text("Du har tatt henvendelsen.")).to_be_visible()
        await page.get_by_label("Svar til fosterforelderen").fill("Hei! Jeg ringer deg straks.")
        await page.get_by_role("button", name="Send svar").click()
        await expect(page.get_by_text("Svaret er sendt til fosterforelderen.")).to_be_visible()
        first = name.split()[0]
        wanted = f"{first}, Fosterhjemstelefonen: Hei! Jeg ringer deg straks."

        def relayed() -> bool:
            return any(r.form.get("To") == HANSEN and r.form.get("Body") == wanted
                       for r in service.twilio.requests if r.resource == "Messages")  # fmt: skip

        await until(relayed, "the answer at the fake Twilio")
        sent = [r.form for r in service.twilio.requests if r.form.get("Body") == wanted]
        assert [(f["From"], f["To"]) for f in sent] == [(ASKER_LINE, HANSEN)]
        assert phone not in await page.content()  # the staff member's number is never shown
        await shot(page, tmp_path, "innboks-answered")
        await page.get_by_label("Kategori").select_option("annet")
        await page.get_by_role("button", name="Lukk henvendelsen").click()
        await expect(page.get_by_text("Henvendelsen er lukket.")).to_be_visible()
        assert refused == []
    finally:
        await context.close()


async def test_without_script_the_refresh_link_shows_new_contacts(
    browser: Browser, service: Service
) -> None:
    _, phone = on_duty_now(service, "asker")
    context, page = await logged_in(browser, service, phone, java_script_enabled=False)
    try:
        await page.goto(service.url + "/console/innboks")
        await text_in(service, "+4792345678", "Hei, det gjelder helgen.", ASKER_LINE)  # Johansen
        await page.get_by_role("link", name="Oppdater listen").click()
        await expect(
            page.get_by_role("link", name=re.compile(r"^K[0-9]+: Familien Johansen$")).last
        ).to_be_visible()
    finally:
        await context.close()


async def test_a_koordinator_of_asker_gets_404_on_a_baerum_contact(
    browser: Browser, service: Service, tmp_path: Path
) -> None:
    await text_in(service, OLSEN, "Hei fra Bærum.", BAERUM_LINE)
    marte_context, marte = await logged_in(browser, service, MARTE)
    kari_context, kari = await logged_in(browser, service, KARI)
    try:
        code = await latest_code(marte, service, "Familien Olsen")
        contact_id = int(code.removeprefix("K"))
        await marte.goto(f"{service.url}/console/kontaktlogg/{contact_id}")
        await expect(
            marte.get_by_role("heading", name=f"Henvendelse {code}: Familien Olsen")
        ).to_be_visible()
        answers = []
        for path in (f"/console/kontaktlogg/{contact_id}", "/console/kontaktlogg/2147483647",
                     f"/console/innboks/{contact_id}"):  # fmt: skip
            response = await kari.goto(service.url + path)
            assert response is not None and response.status == 404
            await expect(kari.get_by_role("heading", name="Fant ikke siden")).to_be_visible()
            answers.append(await kari.locator("main").inner_html())
        assert answers[0] == answers[1] == answers[2]
        assert await axe_violations(kari) == []
        await shot(kari, tmp_path, "404")
        await kari.goto(service.url + "/console/kontaktlogg")
        await expect(kari.get_by_role("cell", name="Familien Olsen")).to_have_count(0)
    finally:
        await marte_context.close()
        await kari_context.close()


async def test_axe_on_every_page(browser: Browser, service: Service, tmp_path: Path) -> None:
    await text_in(service, HANSEN, "Et spørsmål om skolen.", ASKER_LINE)
    context, page = await logged_in(browser, service, SIRI)
    try:
        code = await latest_code(page, service, "Familien Hansen")
        pages = {
            "kontaktlogg": "/console/kontaktlogg",
            "kontaktlogg-feil": "/console/kontaktlogg?fra=2026-13-01",
            "henvendelse": f"/console/kontaktlogg/{code.removeprefix('K')}",
            "innboks": "/console/innboks",
            "innboks-henvendelse": f"/console/innboks/{code.removeprefix('K')}",
            "tilgangslogg": "/console/tilgangslogg?hva=contact.read",
        }
        for name, path in pages.items():
            await page.goto(service.url + path)
            await expect(page.locator("h1")).to_be_visible()
            assert await axe_violations(page) == [], name
            await shot(page, tmp_path, name)
        await page.goto(service.url + "/console/kontaktlogg?fra=2026-13-01")
        await expect(page.get_by_label("Fra dato")).to_have_attribute("aria-invalid", "true")
        await expect(page.get_by_text("Ugyldig dato.")).to_be_visible()
        await page.goto(service.url + "/console/tilgangslogg")
        await expect(page.get_by_role("cell", name="Leste en henvendelse").first).to_be_visible()
    finally:
        await context.close()


async def test_a_phone_sized_viewport(browser: Browser, service: Service, tmp_path: Path) -> None:
    _, phone = on_duty_now(service, "asker")
    await text_in(service, HANSEN, "Kan dere ringe?", ASKER_LINE)
    context, page = await logged_in(
        browser, service, phone,
        viewport=PHONE_VIEWPORT, is_mobile=True, has_touch=True, device_scale_factor=2,
    )  # fmt: skip
    try:
        await page.goto(service.url + "/console/innboks")
        link = page.get_by_role("link", name=re.compile(r"^K[0-9]+: Familien Hansen$")).last
        await expect(link).to_be_visible()
        await shot(page, tmp_path, "phone-innboks")
        assert (
            await page.evaluate("() => document.documentElement.scrollWidth")
            <= PHONE_VIEWPORT["width"]
        )
        assert await axe_violations(page) == []
        await link.click()
        await page.get_by_label("Svar til fosterforelderen").scroll_into_view_if_needed()
        await expect(page.get_by_role("button", name="Send svar")).to_be_visible()
        await shot(page, tmp_path, "phone-henvendelse")
        assert (
            await page.evaluate("() => document.documentElement.scrollWidth")
            <= PHONE_VIEWPORT["width"]
        )
        assert await axe_violations(page) == []
    finally:
        await context.close()
