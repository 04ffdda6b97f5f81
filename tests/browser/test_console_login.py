"""Logging in to the console in a real browser, against a real `helpline serve`.

The code comes by SMS through the fake Twilio. Each page is checked with axe-core (no
serious or critical violations) and photographed into the test's temporary directory.
The code's expiry and the idle timeout need the service's clock moved, which a running
`serve` does not allow: they are tested over the app (tests/integration).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect

from tests.browser.conftest import PHONE_VIEWPORT, Service, axe_violations, new_page

pytestmark = pytest.mark.browser

KARI = "+4791234567"  # koordinator of Asker
MARTE = "+4793345012"  # koordinator of Bærum
SILJE = "+4790876543"  # vakt in Bærum's team


async def shot(page: Page, tmp_path: Path, name: str) -> None:
    await page.screenshot(path=str(tmp_path / f"{name}.png"), full_page=True)


async def ask_code(page: Page, service: Service, phone: str) -> None:
    await page.goto(service.url + "/console/")
    await expect(page).to_have_url(service.url + "/console/login")
    await page.get_by_label("Mobilnummer").fill(phone)
    await page.get_by_role("button", name="Send kode").click()
    await expect(page.get_by_role("heading", name="Skriv inn koden")).to_be_visible()


async def enter_code(page: Page, code: str) -> None:
    await page.get_by_label("Kode fra SMS").fill(code)
    await page.get_by_role("button", name="Logg inn").click()


async def test_a_koordinator_logs_in_with_the_sms_code(
    page: Page, service: Service, tmp_path: Path
) -> None:
    await page.goto(service.url + "/console/login")
    assert await page.get_attribute("html", "lang") == "nb"
    assert await axe_violations(page) == []
    await shot(page, tmp_path, "login")
    before = len(service.sms_to(KARI))
    await ask_code(page, service, "912 34 567")
    assert await axe_violations(page) == []
    await shot(page, tmp_path, "code")
    bodies = service.sms_to(KARI)
    assert len(bodies) == before + 1 and "Kari" not in bodies[-1]
    await enter_code(page, service.last_code(KARI))
    await expect(page.get_by_role("heading", name="Oversikt", exact=True)).to_be_visible()
    await expect(page.get_by_text("Kari Nordmann, koordinator")).to_be_visible()
    await expect(page.get_by_role("region", name="Asker")).to_be_visible()
    await expect(page.get_by_role("region", name="Bærum")).to_have_count(0)
    nav = page.get_by_role("navigation", name="Hovedmeny")
    await expect(nav.get_by_role("link", name="Oversikt")).to_have_attribute("aria-current", "page")
    assert await axe_violations(page) == []
    await shot(page, tmp_path, "oversikt")


async def test_the_skip_link_comes_first_and_focus_shows(page: Page, service: Service) -> None:
    await page.goto(service.url + "/console/login")
    await page.keyboard.press("Tab")
    focused = page.locator(":focus")
    await expect(focused).to_have_text("Hopp til hovedinnholdet")
    outline = await focused.evaluate("e => getComputedStyle(e).outlineStyle")
    shadow = await focused.evaluate("e => getComputedStyle(e).boxShadow")
    assert outline != "none" or shadow != "none"
    await page.keyboard.press("Enter")
    await page.keyboard.press("Tab")
    await expect(page.get_by_label("Mobilnummer")).to_be_focused()


async def test_five_wrong_codes_lock_the_code(page: Page, service: Service, tmp_path: Path) -> None:
    await ask_code(page, service, MARTE)
    right = service.last_code(MARTE)
    wrong = "000000" if right != "000000" else "111111"
    for left in (4, 3, 2, 1):
        await enter_code(page, wrong)
        await expect(page.get_by_text(f"Feil kode. Du har {left} forsøk igjen.")).to_be_visible()
    await expect(page.get_by_label("Kode fra SMS")).to_have_attribute("aria-invalid", "true")
    assert await axe_violations(page) == []
    await enter_code(page, wrong)
    await expect(page.get_by_text("For mange feil forsøk. Be om en ny kode.")).to_be_visible()
    await shot(page, tmp_path, "locked")
    await enter_code(page, right)
    await expect(page.get_by_text("Be om en ny kode", exact=False).first).to_be_visible()
    await page.goto(service.url + "/console/")
    await expect(page).to_have_url(service.url + "/console/login")


async def test_a_post_without_the_csrf_token_is_refused(
    page: Page, service: Service, tmp_path: Path
) -> None:
    await page.goto(service.url + "/console/login")  # the session exists, with its token
    before = len(service.sms_to(KARI))
    forged = await page.request.post(service.url + "/console/login", form={"phone": KARI})
    assert forged.status == 403 and "Skjemaet kunne ikke sendes" in await forged.text()
    assert len(service.sms_to(KARI)) == before  # no code was sent
    await ask_code(page, service, KARI)
    await enter_code(page, service.last_code(KARI))
    await expect(page.get_by_role("heading", name="Oversikt", exact=True)).to_be_visible()
    refused = await page.request.post(service.url + "/console/logout", form={"csrf": "forged"})
    assert refused.status == 403
    await page.reload()
    await expect(page.get_by_role("heading", name="Oversikt", exact=True)).to_be_visible()
    # A form on another site posting to the console: refused, and the session stays.
    await page.goto("about:blank")
    await page.set_content(
        f'<form method="post" action="{service.url}/console/logout"><button>Send</button></form>'
    )
    await page.get_by_role("button", name="Send").click()
    await expect(page.get_by_role("heading", name="Skjemaet kunne ikke sendes")).to_be_visible()
    assert await axe_violations(page) == []
    await shot(page, tmp_path, "csrf")
    await page.goto(service.url + "/console/")
    await expect(page.get_by_role("heading", name="Oversikt", exact=True)).to_be_visible()


async def test_a_link_from_another_site_keeps_the_session(page: Page, service: Service) -> None:
    await ask_code(page, service, KARI)
    await enter_code(page, service.last_code(KARI))
    await expect(page.get_by_role("heading", name="Oversikt", exact=True)).to_be_visible()
    await page.goto("about:blank")
    await page.set_content(f'<a href="{service.url}/console/">Konsollen</a>')
    await page.get_by_role("link", name="Konsollen").click()
    await expect(page.get_by_role("heading", name="Oversikt", exact=True)).to_be_visible()


async def test_logout(page: Page, service: Service, tmp_path: Path) -> None:
    await ask_code(page, service, SILJE)
    await enter_code(page, service.last_code(SILJE))
    await expect(page.get_by_text("Silje Bakken, vakt")).to_be_visible()
    await expect(page.get_by_role("region", name="Bærum")).to_be_visible()
    await expect(page.get_by_role("region", name="Asker")).to_have_count(0)
    await page.get_by_role("button", name="Logg ut").click()
    await expect(page.get_by_text("Du er logget ut.")).to_be_visible()
    await shot(page, tmp_path, "logged-out")
    assert await axe_violations(page) == []
    await page.goto(service.url + "/console/")
    await expect(page).to_have_url(service.url + "/console/login")


async def test_a_phone_sized_viewport(browser: Browser, service: Service, tmp_path: Path) -> None:
    context, page = await new_page(
        browser, viewport=PHONE_VIEWPORT, is_mobile=True, has_touch=True, device_scale_factor=2
    )
    try:
        await ask_code(page, service, KARI)
        await shot(page, tmp_path, "phone-code")
        await enter_code(page, service.last_code(KARI))
        await expect(page.get_by_role("heading", name="Oversikt", exact=True)).to_be_visible()
        await shot(page, tmp_path, "phone-oversikt")
        await expect(page.get_by_role("button", name="Logg ut")).to_be_in_viewport()
        wide = await page.evaluate("() => document.documentElement.scrollWidth")
        assert wide <= PHONE_VIEWPORT["width"]  # nothing to scroll sideways
        assert await axe_violations(page) == []
    finally:
        await context.close()
