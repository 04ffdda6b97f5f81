"""The Register in a real browser against a real `helpline serve` (codes by the fake
Twilio): a rota import with errors changing nothing, its preview and load, a foster home
edit with a bad number showing "Ugyldig telefonnummer" beside the field; axe-core on
each page, and a phone-sized viewport."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect

from helpline.bootstrap import open_services
from helpline.commands.org import demo_text
from helpline.db.register import current_version
from tests.browser.conftest import PHONE_VIEWPORT, Service, axe_violations, new_page

pytestmark = pytest.mark.browser

KARI = "+4791234567"  # koordinator of Asker
SIRI = "+4791110000"  # admin


async def shot(page: Page, tmp_path: Path, name: str) -> None:
    await page.screenshot(path=str(tmp_path / f"{name}.png"), full_page=True)


async def log_in(page: Page, service: Service, phone: str) -> None:
    await page.goto(service.url + "/console/login")
    await page.get_by_label("Mobilnummer").fill(phone)
    await page.get_by_role("button", name="Send kode").click()
    await expect(page.get_by_role("heading", name="Skriv inn koden")).to_be_visible()
    await page.get_by_label("Kode fra SMS").fill(service.last_code(phone))
    await page.get_by_role("button", name="Logg inn").click()
    await expect(page.get_by_role("heading", name="Oversikt", exact=True)).to_be_visible()


async def version(service: Service) -> int | None:
    async with open_services(service.served.settings, with_redis=False) as services:
        async with services.sessions() as session:
            return await current_version(session)


async def test_a_rota_import_with_errors_changes_nothing(
    page: Page, service: Service, tmp_path: Path
) -> None:
    await log_in(page, service, SIRI)
    await (
        page.get_by_role("navigation", name="Hovedmeny")
        .get_by_role("link", name="Register")
        .click()
    )
    await expect(page.get_by_role("heading", name="Register", exact=True)).to_be_visible()
    assert await axe_violations(page) == []
    await shot(page, tmp_path, "register")
    before = await version(service)
    await page.get_by_role("link", name="Importer rotafil").click()
    assert await axe_violations(page) == []
    broken = demo_text().replace('phones = ["+4792345678"]', 'phones = ["12"]', 1)
    broken = broken.replace('team = "asker-bvt"\nmembers', 'team = "asker-bvv"\nmembers', 1)
    await page.get_by_label("Eller lim inn innholdet").fill(broken)
    await page.get_by_role("button", name="Se endringene").click()
    alert = page.get_by_role("alert")
    await expect(alert).to_contain_text("Filen har 2 feil. Ingenting er endret.")
    await expect(alert).to_contain_text(
        "fosterhjem 'johansen', feltet «phones»: Ugyldig telefonnummer."
    )
    await expect(alert).to_contain_text("rotasjon 'asker-bvv', feltet «team»: Ukjent team.")
    assert await axe_violations(page) == []
    await shot(page, tmp_path, "import-errors")
    assert await version(service) == before


async def test_an_upload_is_previewed_then_loaded(
    page: Page, service: Service, tmp_path: Path
) -> None:
    await log_in(page, service, SIRI)
    before = await version(service)
    await page.goto(service.url + "/console/register/import")
    changed = demo_text().replace('name = "Familien Haugen"', 'name = "Familien Haugen-Dahl"')
    upload = tmp_path / "rota.toml"
    upload.write_text(changed, encoding="utf-8")
    await page.get_by_label("Rotafil").set_input_files(str(upload))
    await page.get_by_role("button", name="Se endringene").click()
    region = page.get_by_role("region", name="Fosterhjem")
    await expect(region).to_contain_text("Endres (1)")
    await expect(region).to_contain_text("haugen (Familien Haugen-Dahl)")
    assert await axe_violations(page) == []
    await shot(page, tmp_path, "import-preview")
    assert await version(service) == before
    await page.get_by_role("button", name="Last rotafilen").click()
    await expect(page.get_by_role("status")).to_contain_text("Rotafilen er lastet")
    await expect(page.get_by_role("link", name="Familien Haugen-Dahl")).to_be_visible()
    assert await version(service) == (before or 0) + 1


async def test_a_bad_phone_is_shown_beside_the_field(
    page: Page, service: Service, tmp_path: Path
) -> None:
    await log_in(page, service, KARI)
    await page.goto(service.url + "/console/register?q=hansen")
    await page.get_by_role("link", name="Familien Hansen").click()
    await expect(page.get_by_role("heading", name="Endre Familien Hansen")).to_be_visible()
    assert await axe_violations(page) == []
    before = await version(service)
    field = page.get_by_label("Telefonnumre")
    await field.fill("987 65 432, 12 34")
    await page.get_by_role("button", name="Lagre").click()
    await expect(page.locator("#telefoner-error")).to_have_text("Ugyldig telefonnummer.")
    await expect(field).to_have_attribute("aria-invalid", "true")
    described = await field.get_attribute("aria-describedby") or ""
    assert "telefoner-error" in described.split()
    await expect(field).to_have_value("987 65 432, 12 34")  # kept, to be corrected
    assert await axe_violations(page) == []
    await shot(page, tmp_path, "foster-home-error")
    assert await version(service) == before
    await page.goto(service.url + "/console/register/fosterhjem/olsen")  # Bærum's
    await expect(page.get_by_text("404: Not Found")).to_be_visible()


async def test_the_register_on_a_phone(browser: Browser, service: Service, tmp_path: Path) -> None:
    context, page = await new_page(
        browser, viewport=PHONE_VIEWPORT, is_mobile=True, has_touch=True, device_scale_factor=2
    )
    try:
        await log_in(page, service, KARI)
        await page.goto(service.url + "/console/register")
        await expect(page.get_by_role("heading", name="Fosterhjem", exact=True)).to_be_visible()
        wide = await page.evaluate("() => document.documentElement.scrollWidth")
        assert wide <= PHONE_VIEWPORT["width"]  # the tables scroll inside their regions
        assert await axe_violations(page) == []
        await shot(page, tmp_path, "phone-register")
        await page.goto(service.url + "/console/register/fosterhjem/ny")
        wide = await page.evaluate("() => document.documentElement.scrollWidth")
        assert wide <= PHONE_VIEWPORT["width"]
        assert await axe_violations(page) == []
        await shot(page, tmp_path, "phone-new-home")
    finally:
        await context.close()
