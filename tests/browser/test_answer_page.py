"""The answer page of the personal link in a real browser, against a real `helpline serve`:
with JavaScript and without (the page has no script; a context with JavaScript disabled
proves it needs none), JA 2 then NEI, the .ics download, a form from another site, the
404 page, axe-core (no serious or critical violations) and a phone-sized viewport.

The event is made and invited with the command line beside the service; the personal
links are read from `helpline outbox --json`, where the invitations wait to be sent.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Page, expect

from bench.harness import helpline_argv
from rota.wallclock import zone
from tests.browser.conftest import PHONE_VIEWPORT, Service, axe_violations, new_page

pytestmark = pytest.mark.browser

PHONES = {"hansen": "+4798765432", "johansen": "+4792345678", "haugen": "+4747112233"}
TITLE = "Nettverkstreff i Asker"


@dataclass(frozen=True)
class Invited:
    event_id: int
    links: dict[str, str]  # home: its personal link


def helpline(service: Service, *args: str) -> str:
    done = subprocess.run(
        helpline_argv(*args), env=service.served.env, cwd=service.served.data_dir,
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def invited(service: Service) -> Invited:
    day = (datetime.now(UTC) + timedelta(days=10)).astimezone(zone("Europe/Oslo")).date()
    made = helpline(
        service, "event", "create", "--kind", "nettverkstreff", "--title", TITLE,
        "--starts", f"{day}T18:00", "--ends", f"{day}T20:00", "--place", "Asker kulturhus",
        "--capacity", "10", "--audience", "home:hansen,home:johansen,home:haugen", "--json",
    )  # fmt: skip
    event_id = int(json.loads(made)["id"])
    helpline(service, "event", "invite", str(event_id))
    outbox = json.loads(helpline(service, "outbox", "--json", "--limit", "100"))["outbox"]
    links = {}
    for home, phone in PHONES.items():
        body = next(m["body"] for m in outbox if m["to"] == phone and "Invitasjon" in m["body"])
        token = body.split("/svar/")[1].split()[0]
        links[home] = f"{service.url}/svar/{token}"
    return Invited(event_id, links)


def answers(service: Service, event_id: int) -> dict[str, dict[str, Any]]:
    shown = json.loads(helpline(service, "event", "show", str(event_id), "--json"))
    return {a["foster_home"]: a for a in shown["answers"]}


async def shot(page: Page, tmp_path: Path, name: str) -> None:
    await page.screenshot(path=str(tmp_path / f"{name}.png"), full_page=True)


async def answer_ja_2_then_nei(page: Page, link: str, tmp_path: Path, name: str) -> None:
    await page.goto(link)
    assert await page.get_attribute("html", "lang") == "nb"
    await expect(page.get_by_role("heading", name=TITLE, level=1)).to_be_visible()
    await expect(page.get_by_text("Dere har ikke svart ennå.")).to_be_visible()
    await shot(page, tmp_path, f"{name}-first")
    choice = page.get_by_role("group", name="Kommer dere?")
    await choice.get_by_label("Ja, vi kommer").check()
    await page.get_by_label("Hvor mange kommer?").fill("2")
    await page.get_by_role("button", name="Send svar").click()
    status = page.get_by_role("status")
    await expect(status).to_contain_text(f"Takk! Dere er påmeldt {TITLE}")
    await expect(status).to_contain_text("med 2 personer")
    assert "?kvittering=ja" in page.url  # redirected after the POST
    await expect(page.get_by_text("Dere er påmeldt med 2 personer.")).to_be_visible()
    await shot(page, tmp_path, f"{name}-ja")
    changing = page.get_by_role("group", name="Endre svaret: kommer dere?")
    await expect(changing.get_by_label("Ja, vi kommer")).to_be_checked()
    await changing.get_by_label("Nei, vi kommer ikke").check()
    await page.get_by_role("button", name="Send svar").click()
    await expect(page.get_by_role("status")).to_contain_text(
        f"Takk for svaret. Vi har registrert at dere ikke kommer på {TITLE}."
    )
    await expect(page.get_by_text("Dere har svart at dere ikke kommer.")).to_be_visible()
    await shot(page, tmp_path, f"{name}-nei")


async def test_ja_2_then_nei_with_javascript(
    page: Page, service: Service, invited: Invited, tmp_path: Path
) -> None:
    await page.goto(invited.links["hansen"])
    assert await axe_violations(page) == []
    await answer_ja_2_then_nei(page, invited.links["hansen"], tmp_path, "js")
    assert await axe_violations(page) == []
    shown = answers(service, invited.event_id)["hansen"]
    assert (shown["answer"], shown["people"], shown["channel"]) == ("no", 0, "link")


async def test_ja_2_then_nei_without_javascript(
    browser: Browser, service: Service, invited: Invited, tmp_path: Path
) -> None:
    context, page = await new_page(browser, java_script_enabled=False)
    try:
        await answer_ja_2_then_nei(page, invited.links["johansen"], tmp_path, "nojs")
    finally:
        await context.close()
    shown = answers(service, invited.event_id)["johansen"]
    assert (shown["answer"], shown["channel"]) == ("no", "link")


async def test_the_calendar_file_downloads(page: Page, invited: Invited, tmp_path: Path) -> None:
    await page.goto(invited.links["haugen"])
    async with page.expect_download() as info:
        await page.get_by_role("link", name="Legg i kalenderen (.ics-fil)").click()
    download = await info.value
    assert download.suggested_filename == f"arrangement-{invited.event_id}.ics"
    saved = tmp_path / download.suggested_filename
    await download.save_as(saved)
    text = saved.read_text()
    assert text.startswith("BEGIN:VCALENDAR") and f"SUMMARY:{TITLE}" in text
    assert "TZID=Europe/Oslo" in text


async def test_an_error_stands_beside_its_field(
    page: Page, invited: Invited, tmp_path: Path
) -> None:
    await page.goto(invited.links["haugen"])
    await page.get_by_role("button", name="Send svar").click()
    await expect(page.get_by_text("Velg om dere kommer eller ikke.")).to_be_visible()
    assert (await page.title()).startswith("Feil: ")
    await page.get_by_label("Ja, vi kommer").check()
    await page.get_by_label("Hvor mange kommer?").fill("tretti")
    await page.get_by_role("button", name="Send svar").click()
    field = page.get_by_label("Hvor mange kommer?")
    await expect(field).to_have_attribute("aria-invalid", "true")
    await expect(field).to_have_accessible_description(
        "Antall personer, voksne og barn. Gjelder bare når dere svarer ja. "
        "Skriv hvor mange som kommer, som et tall fra 1 til 20."
    )
    assert await axe_violations(page) == []
    await shot(page, tmp_path, "error")


async def test_a_form_on_another_site_changes_nothing(
    page: Page, service: Service, invited: Invited, tmp_path: Path
) -> None:
    link = invited.links["haugen"]
    await page.goto(link)
    token = await page.locator('input[name="skjema"]').get_attribute("value")
    await page.goto("about:blank")
    await page.set_content(
        f'<form method="post" action="{link}"><input type="hidden" name="skjema" '
        f'value="{token}"><input type="hidden" name="svar" value="ja">'
        '<input type="hidden" name="antall" value="3"><button>Send</button></form>'
    )
    await page.get_by_role("button", name="Send").click()
    await expect(page.get_by_role("heading", name="Svaret ble ikke registrert")).to_be_visible()
    assert await axe_violations(page) == []
    await shot(page, tmp_path, "cross-site")
    assert "haugen" not in answers(service, invited.event_id)


async def test_an_unknown_link(page: Page, service: Service, tmp_path: Path) -> None:
    response = await page.goto(service.url + "/svar/" + "x" * 32)
    assert response is not None and response.status == 404
    await expect(
        page.get_by_role("heading", name="Vi finner ikke denne invitasjonen")
    ).to_be_visible()
    assert await axe_violations(page) == []
    await shot(page, tmp_path, "not-found")


async def test_a_phone_sized_viewport(browser: Browser, invited: Invited, tmp_path: Path) -> None:
    context, page = await new_page(
        browser, viewport=PHONE_VIEWPORT, is_mobile=True, has_touch=True, device_scale_factor=2
    )
    try:
        await page.goto(invited.links["haugen"])
        await shot(page, tmp_path, "phone")
        wide = await page.evaluate("() => document.documentElement.scrollWidth")
        assert wide <= PHONE_VIEWPORT["width"]  # nothing to scroll sideways
        assert await axe_violations(page) == []
        await page.get_by_label("Ja, vi kommer").tap()
        await page.get_by_role("button", name="Send svar").tap()
        await expect(page.get_by_role("status")).to_contain_text("med 1 person")
        await shot(page, tmp_path, "phone-ja")
        status = await page.get_by_role("status").bounding_box()
        assert status is not None and status["y"] < PHONE_VIEWPORT["height"]  # seen at once
        assert await axe_violations(page) == []
    finally:
        await context.close()
