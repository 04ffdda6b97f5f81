"""Arrangementer in a real browser, against a real `helpline serve`: a koordinator makes
an event, sees the count and invites, and a foster home's SMS answer (a signed Twilio
webhook to the served instance) shows among the answers. Every page is checked with
axe-core and photographed into the test's temporary directory, also on a phone.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest
from playwright.async_api import Browser, Page, expect

from helpline.twilio_signing import SIGNATURE_HEADER, sign
from helpline.web.twilio_auth import signing_token
from tests.browser.conftest import PHONE_VIEWPORT, Service, axe_violations, new_page

pytestmark = pytest.mark.browser

KARI = "+4791234567"  # koordinator of Asker
HANSEN = "+4798765432"  # Familien Hansen, a foster home in Asker
NETWORK = "+4767000090"  # the demo's network number


async def shot(page: Page, tmp_path: Path, name: str) -> None:
    await page.screenshot(path=str(tmp_path / f"{name}.png"), full_page=True)


async def log_in(page: Page, service: Service, phone: str = KARI) -> None:
    await page.goto(service.url + "/console/login")
    await page.get_by_label("Mobilnummer").fill(phone)
    await page.get_by_role("button", name="Send kode").click()
    await expect(page.get_by_role("heading", name="Skriv inn koden")).to_be_visible()
    await page.get_by_label("Kode fra SMS").fill(service.last_code(phone))
    await page.get_by_role("button", name="Logg inn").click()
    await expect(page.get_by_role("heading", name="Oversikt", exact=True)).to_be_visible()


def next_year() -> str:
    """A date well ahead of the served instance's (real) clock."""
    return f"{datetime.now(UTC).year + 1}-03-12"


async def text_in(service: Service, sender: str, body: str, sid: str) -> None:
    """An SMS to the network number, posted and signed as Twilio posts it."""
    url = service.url + "/twilio/sms"
    form = {"MessageSid": sid, "From": sender, "To": NETWORK, "Body": body,
            "AccountSid": "AC" + "0" * 32, "NumMedia": "0"}  # fmt: skip
    signature = sign(url, form, signing_token(service.served.settings))
    async with aiohttp.ClientSession() as session:
        async with session.post(url, data=form, headers={SIGNATURE_HEADER: signature}) as answer:
            assert answer.status == 200, await answer.text()


async def fill_event(page: Page, title: str, day: str) -> None:
    await page.get_by_label("Type").select_option("nettverkstreff")
    await page.get_by_label("Tittel").fill(title)
    await page.get_by_label("Starter").fill(f"{day}T18:00")
    await page.get_by_label("Slutter").fill(f"{day}T20:00")
    await page.get_by_label("Sted").fill("Asker kulturhus")
    await page.get_by_label("Antall plasser (valgfritt)").fill("30")
    await page.get_by_label("Mottakere").fill("kommune:asker")


async def test_create_invite_and_an_sms_answer_appears(
    page: Page, service: Service, tmp_path: Path
) -> None:
    await log_in(page, service)
    await (
        page.get_by_role("navigation", name="Hovedmeny")
        .get_by_role("link", name="Arrangementer")
        .click()
    )
    await expect(page.get_by_role("heading", name="Arrangementer", exact=True)).to_be_visible()
    assert await axe_violations(page) == []
    await shot(page, tmp_path, "arrangementer")
    await page.get_by_role("link", name="Nytt arrangement").click()
    day = next_year()
    await fill_event(page, "Fosterhjemskveld i Asker", day)
    await page.get_by_label("Slutter").fill(f"{day}T17:00")  # before the start
    await page.get_by_role("button", name="Lagre arrangementet").click()
    await expect(page.get_by_text("Slutten må være etter starten.")).to_be_visible()
    await expect(page.get_by_label("Slutter")).to_have_attribute("aria-invalid", "true")
    assert await axe_violations(page) == []
    await shot(page, tmp_path, "nytt-feil")
    await page.get_by_label("Slutter").fill(f"{day}T20:00")
    await page.get_by_role("button", name="Lagre arrangementet").click()
    await expect(page.get_by_role("heading", name="Fosterhjemskveld i Asker")).to_be_visible()
    await expect(page.get_by_text("4 fosterhjem får invitasjon når du sender")).to_be_visible()
    found = re.search(r"/console/arrangementer/([0-9]+)$", page.url)
    assert found
    event_id = found[1]
    assert await axe_violations(page) == []
    await shot(page, tmp_path, "arrangement")
    await page.get_by_role("button", name="Send invitasjon til 4 fosterhjem").click()
    await expect(page.get_by_text("4 fosterhjem er invitert.")).to_be_visible()
    await expect(
        page.get_by_text("Alle fosterhjemmene blant mottakerne er invitert.")
    ).to_be_visible()
    await text_in(service, HANSEN, f"JA {event_id} 2", "SM" + event_id.rjust(32, "7"))
    await page.reload()
    answers = page.get_by_role("region", name="Svar")
    row = answers.get_by_role("row", name=re.compile("Familien Hansen"))
    await expect(row).to_contain_text("Kommer")
    await expect(row).to_contain_text("SMS")
    await expect(page.get_by_text("1 (2 personer)")).to_be_visible()
    await page.get_by_label(re.compile("Familien Hansen")).check()
    await page.get_by_role("button", name="Lagre oppmøtet").click()
    await expect(page.get_by_text("Oppmøtet er lagret: 1 fosterhjem møtte.")).to_be_visible()
    assert await axe_violations(page) == []
    await shot(page, tmp_path, "svar")
    await page.get_by_label("Begrunnelse (valgfritt)").fill("For få påmeldte")
    await page.get_by_role("button", name="Avlys arrangementet").click()
    await expect(
        page.get_by_text(re.compile(r"Arrangementet er avlyst\. [0-9]+ fosterhjem"))
    ).to_be_visible()
    assert await axe_violations(page) == []
    await shot(page, tmp_path, "avlyst")


async def test_a_phone_sized_viewport(browser: Browser, service: Service, tmp_path: Path) -> None:
    context, page = await new_page(
        browser, viewport=PHONE_VIEWPORT, is_mobile=True, has_touch=True, device_scale_factor=2
    )
    try:
        await log_in(page, service)
        await page.goto(service.url + "/console/arrangementer/nytt")
        await fill_event(page, "Kafé på telefonen", next_year())
        await page.get_by_role("button", name="Lagre arrangementet").click()
        await expect(page.get_by_role("heading", name="Kafé på telefonen")).to_be_visible()
        await shot(page, tmp_path, "phone-arrangement")
        wide = await page.evaluate("() => document.documentElement.scrollWidth")
        assert wide <= PHONE_VIEWPORT["width"]  # nothing to scroll sideways
        assert await axe_violations(page) == []
        await page.goto(service.url + "/console/arrangementer")
        await shot(page, tmp_path, "phone-arrangementer")
        wide = await page.evaluate("() => document.documentElement.scrollWidth")
        assert wide <= PHONE_VIEWPORT["width"]  # wide tables scroll inside their region
        assert await axe_violations(page) == []
    finally:
        await context.close()
