"""The Vaktplan in a real browser against a real `helpline serve`.

`helpline oncall` and `helpline dump` run beside the service on the same database (its
own environment), so an override saved in the browser is checked where the phone line
reads it. Each page is checked with axe-core and photographed into the test's directory.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect

from bench.harness import helpline_argv
from tests.browser.conftest import PHONE_VIEWPORT, Service, axe_violations, new_page
from tests.browser.test_console_login import KARI, ask_code, enter_code, shot

pytestmark = pytest.mark.browser

PLAN = "/console/vaktplan"


def _helpline(service: Service, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        helpline_argv(*args),
        env=service.served.env,
        cwd=service.served.data_dir,
        capture_output=True,
        text=True,
        timeout=120,  # a guard against a hang, not an assertion on time
        check=False,
    )


async def oncall(service: Service, kommune: str, at: str) -> list[dict[str, str]]:
    """`helpline oncall --json` against the served instance's database: the chain."""
    done = await asyncio.to_thread(
        _helpline, service, "oncall", "--kommune", kommune, "--at", at, "--json"
    )
    assert done.returncode == 0, done.stderr
    chain: list[dict[str, str]] = json.loads(done.stdout)["chain"]
    return chain


async def register_version(service: Service) -> str:
    done = await asyncio.to_thread(_helpline, service, "dump")
    assert done.returncode == 0, done.stderr
    return next(line for line in done.stdout.splitlines() if line.startswith("version = "))


async def log_in(page: Page, service: Service) -> None:
    await ask_code(page, service, KARI)
    await enter_code(page, service.last_code(KARI))
    await expect(page.get_by_role("heading", name="Oversikt", exact=True)).to_be_visible()


async def test_the_vaktplan_shows_who_is_on_duty_at_a_named_instant(
    page: Page, service: Service, tmp_path: Path
) -> None:
    await log_in(page, service)
    nav = page.get_by_role("navigation", name="Hovedmeny")
    await nav.get_by_role("link", name="Vaktplan").click()
    await expect(page.get_by_role("heading", name="Vaktplan for Asker", level=1)).to_be_visible()
    await expect(nav.get_by_role("link", name="Vaktplan")).to_have_attribute("aria-current", "page")
    # Ask for a night by the form, as a coordinator would.
    await page.get_by_label("Hvem er på vakt (tidspunkt)").fill("2026-11-24T03:00")
    await page.get_by_role("button", name="Vis").click()
    duty = page.get_by_role("region", name="På vakt 24.11.2026 03:00")
    night = await oncall(service, "asker", "2026-11-24T03:00")
    assert night[0]["team"] == "bvv-vest"
    await expect(duty.get_by_text(night[0]["name"], exact=True)).to_be_visible()
    # The same instant by its link, and a day shift of the same week.
    await page.goto(service.url + PLAN + "?plan=kommune:asker&at=2026-11-24T10:00")
    day = await oncall(service, "asker", "2026-11-24T10:00")
    duty = page.get_by_role("region", name="På vakt 24.11.2026 10:00")
    await expect(duty.get_by_text(day[0]["name"], exact=True)).to_be_visible()
    await expect(duty.get_by_text(day[1]["name"], exact=True)).to_be_visible()
    assert (day[0]["role"], day[1]["role"]) == ("primary", "backup")
    await expect(page.get_by_role("heading", name="Uke 48, 23.11.2026–29.11.2026")).to_be_visible()
    assert await axe_violations(page) == []
    await shot(page, tmp_path, "vaktplan-uke")
    # December by month: holidays and the extra days are marked in words.
    await page.goto(service.url + PLAN + "?plan=kommune:asker&vis=maned&dato=2026-12-01")
    await expect(page.get_by_role("heading", name="Desember 2026")).to_be_visible()
    await expect(page.get_by_text("Første juledag")).to_be_visible()
    await expect(page.get_by_text("Ekstra fridag (vakt som på helligdag)").first).to_be_visible()
    assert await axe_violations(page) == []
    await shot(page, tmp_path, "vaktplan-maned")
    await page.get_by_role("link", name="Dekningsrapport for 52 uker").click()
    await expect(page.get_by_role("heading", name="Vakttimer per person")).to_be_visible()
    assert await axe_violations(page) == []
    await shot(page, tmp_path, "vaktplan-dekning")


async def test_an_override_saved_in_the_browser_is_what_oncall_reports(
    page: Page, service: Service, tmp_path: Path
) -> None:
    at = "2026-11-26T10:00"  # Thursday: Ola has Asker's day duty this week
    before = await oncall(service, "asker", at)
    assert before[0]["person"] == "ola"
    await log_in(page, service)
    await page.goto(service.url + PLAN + "?plan=kommune:asker&dato=2026-11-23")
    form = page.get_by_role("form", name="Ny overstyring")
    await form.get_by_label("Team").select_option(label="Barnevernstjenesten i Asker")
    await form.get_by_label("Hvem tar vakten").select_option(label="Ingrid Solberg")
    await form.get_by_label("Fra").fill("2026-11-26T08:00")
    await form.get_by_label("Til").fill("2026-11-27T08:00")
    await shot(page, tmp_path, "overstyring-utfylt")
    await form.get_by_role("button", name="Lagre overstyringen").click()
    await expect(page.get_by_role("status")).to_contain_text("Overstyringen er lagret")
    after = await oncall(service, "asker", at)
    assert after[0]["person"] == "ingrid" and after[0]["role"] == "primary"
    await page.goto(service.url + PLAN + f"?plan=kommune:asker&at={at}")
    duty = page.get_by_role("region", name="På vakt 26.11.2026 10:00")
    await expect(duty.get_by_text("Ingrid Solberg", exact=True)).to_be_visible()
    assert await axe_violations(page) == []
    await shot(page, tmp_path, "overstyring-lagret")
    # Removed again: the rotation is back, for the phone line too.
    await page.get_by_role("button", name="Fjern overstyringen: Ingrid Solberg").click()
    await expect(page.get_by_role("status")).to_contain_text("Overstyringen er fjernet")
    assert (await oncall(service, "asker", at))[0]["person"] == "ola"


async def test_an_invalid_override_changes_nothing_and_says_why_beside_the_field(
    page: Page, service: Service, tmp_path: Path
) -> None:
    version = await register_version(service)
    await log_in(page, service)
    await page.goto(service.url + PLAN + "?plan=kommune:asker&dato=2026-11-23")
    form = page.get_by_role("form", name="Ny overstyring")
    await form.get_by_label("Team").select_option(label="Barnevernstjenesten i Asker")
    await form.get_by_label("Hvem tar vakten").select_option(label="Ingrid Solberg")
    await form.get_by_label("Fra").fill("2026-11-27T08:00")
    await form.get_by_label("Til").fill("2026-11-26T08:00")  # before it begins
    await form.get_by_role("button", name="Lagre overstyringen").click()
    until = page.get_by_label("Til")
    await expect(until).to_have_attribute("aria-invalid", "true")
    await expect(until).to_have_accessible_description("Vakten må slutte etter at den begynner.")
    await expect(page.get_by_label("Fra")).not_to_have_attribute("aria-invalid", "true")
    await expect(page.get_by_label("Hvem tar vakten")).to_have_value("ingrid")  # kept as typed
    assert (await page.title()).startswith("Feil: ")
    assert await axe_violations(page) == []
    await shot(page, tmp_path, "overstyring-feil")
    assert await register_version(service) == version
    assert (await oncall(service, "asker", "2026-11-26T10:00"))[0]["person"] == "ola"


async def test_the_vaktplan_on_a_phone(browser: Browser, service: Service, tmp_path: Path) -> None:
    context, page = await new_page(
        browser, viewport=PHONE_VIEWPORT, is_mobile=True, has_touch=True, device_scale_factor=2
    )
    try:
        await log_in(page, service)
        for query, name in (("", "uke"), ("&vis=maned&dato=2026-12-01", "maned")):
            await page.goto(service.url + PLAN + "?plan=kommune:asker" + query)
            await expect(page.get_by_role("heading", name="Vaktplan for Asker")).to_be_visible()
            wide = await page.evaluate("() => document.documentElement.scrollWidth")
            assert wide <= PHONE_VIEWPORT["width"], name  # nothing to scroll sideways
            assert await axe_violations(page) == []
            await shot(page, tmp_path, f"phone-vaktplan-{name}")
        await page.goto(service.url + PLAN + "/dekning?plan=team:asker-bvt")
        wide = await page.evaluate("() => document.documentElement.scrollWidth")
        assert wide <= PHONE_VIEWPORT["width"]
        await shot(page, tmp_path, "phone-vaktplan-dekning")
    finally:
        await context.close()
