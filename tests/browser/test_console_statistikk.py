"""Statistikk in a real browser, against a real `helpline serve`: contacts made by signed
Twilio webhooks, then the page's numbers held against `helpline contacts --json` run
beside the service, a bar clicked to list its contacts, axe-core on each page and a
phone-sized viewport."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from playwright.async_api import Browser, Page, expect

from bench.harness import helpline_argv
from helpline.simulator.forms import incoming_call
from helpline.twilio_signing import signed_headers
from helpline.web.twilio_auth import signing_token
from rota.wallclock import zone
from routing.statistics import WEEKDAY_NAMES, default_period
from tests.browser.conftest import PHONE_VIEWPORT, Service, axe_violations, new_page
from tests.browser.test_console_login import ask_code, enter_code, shot
from tests.fakes.twilio_api import FAKE_ACCOUNT_SID

pytestmark = pytest.mark.browser

KARI = "+4791234567"  # koordinator of Asker
ASKER_LINE, BAERUM_LINE = "+4767000001", "+4767000002"
OSLO = zone("Europe/Oslo")
#: Texts to the helpline: three foster homes (one in Bærum) and an unknown number.
MESSAGES = (
    ("+4798765432", ASKER_LINE, "Vi trenger å snakke med noen."),
    ("+4792345678", ASKER_LINE, "Kan noen ringe oss?"),
    ("+4799887766", BAERUM_LINE, "Hei, vi trenger hjelp."),
    ("+4790000077", ASKER_LINE, "Hei"),
)


async def post_twilio(service: Service, path: str, form: dict[str, str]) -> None:
    url = service.served.settings.public_url + path
    headers = signed_headers(url, form, signing_token(service.served.settings))
    async with aiohttp.ClientSession() as session:
        async with session.post(service.url + path, data=form, headers=headers) as response:
            assert response.status == 200, await response.text()


async def make_contacts(service: Service, tag: str) -> None:
    for n, (sender, line, body) in enumerate(MESSAGES):
        form = {"MessageSid": f"SM{tag}{n:030d}", "From": sender, "To": line, "Body": body,
                "AccountSid": FAKE_ACCOUNT_SID, "NumMedia": "0"}  # fmt: skip
        await post_twilio(service, "/twilio/sms", form)
    call = incoming_call(f"CA{tag}call", "+4798765432", ASKER_LINE, FAKE_ACCOUNT_SID)
    await post_twilio(service, "/twilio/voice", call)


async def helpline(service: Service, *argv: str) -> Any:
    """`helpline ARGV` beside the service, on its stores; its JSON output."""
    process = await asyncio.create_subprocess_exec(
        *helpline_argv(*argv),
        env=service.served.env,
        cwd=service.served.data_dir,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    return json.loads(out)


async def too_wide(page: Page) -> list[str]:
    """What sticks out to the right of the viewport (outside a scrolling region)."""
    found: list[str] = await page.evaluate(
        """() => [...document.querySelectorAll('body *')]
            .filter(e => !e.closest('.table-scroll'))
            .filter(e => e.getBoundingClientRect().right > innerWidth)
            .map(e => e.tagName + '.' + (e.getAttribute('class') || ''))"""
    )
    return found


async def logged_in(page: Page, service: Service) -> None:
    await ask_code(page, service, KARI)
    await enter_code(page, service.last_code(KARI))
    await expect(page.get_by_role("heading", name="Oversikt", exact=True)).to_be_visible()


async def test_the_statistics_match_the_contact_log_and_a_bar_lists_its_contacts(
    page: Page, service: Service, tmp_path: Path
) -> None:
    await make_contacts(service, "a")
    await logged_in(page, service)
    await (
        page.get_by_role("navigation", name="Hovedmeny")
        .get_by_role("link", name="Statistikk")
        .click()
    )
    await expect(page.get_by_role("heading", name="Statistikk", exact=True)).to_be_visible()
    await page.get_by_label("Kommune", exact=True).select_option(label="Asker")
    await page.get_by_role("button", name="Vis statistikk").click()
    newest = (await helpline(service, "contacts", "--json", "--limit", "1"))["contacts"][0]
    last = datetime.fromisoformat(newest["started_at"]).astimezone(OSLO)  # the call, just now
    today = last.date()
    since = default_period(today).first.isoformat()
    logged = (await helpline(service, "contacts", "--json", "--kommune", "asker",
                             "--since", since, "--limit", "1000"))["contacts"]  # fmt: skip
    assert len(logged) >= 4  # the three texts to Asker and the call
    summary = page.locator("#stats-summary")
    await expect(summary).to_contain_text(f"Asker, {default_period(today).first:%d.%m.%Y}")
    await expect(summary).to_contain_text(f"{len(logged)} henvendelser")
    channel_table = page.get_by_role("table", name="Henvendelser etter kanal")
    for label, channel in (("Telefon", "voice"), ("SMS", "sms"), ("Telegram", "telegram")):
        expected = sum(c["channel"] == channel for c in logged)
        row = channel_table.get_by_role("row", name=label)
        await expect(row.get_by_role("cell")).to_have_text(str(expected))
    in_cell = sum(
        (local := datetime.fromisoformat(c["started_at"]).astimezone(OSLO)).weekday()
        == last.weekday()
        and local.hour == last.hour
        for c in logged
    )
    cell = page.get_by_label(f"{WEEKDAY_NAMES[last.weekday()]} kl. {last.hour:02d}: {in_cell}")
    await expect(cell).to_have_count(1)
    assert await axe_violations(page) == []
    await shot(page, tmp_path, "statistikk")
    # The SMS bar of the channel chart, clicked: its contacts, the same number as the log's.
    sms = sum(c["channel"] == "sms" for c in logged)
    chart = page.locator(".chart-box", has=page.locator("svg[aria-labelledby^='channel-title']"))
    await chart.locator(".chart-links a").nth(1).click()
    await expect(page.get_by_role("heading", name="Henvendelser: SMS")).to_be_visible()
    await expect(page.locator("#list-summary")).to_contain_text(f": {sms} henvendelser.")
    rows = page.get_by_role("table", name="Henvendelser, nyeste først").locator("tbody tr")
    await expect(rows).to_have_count(min(sms, 500))
    await expect(page.get_by_text("Familien Olsen")).to_have_count(0)  # Bærum's
    await expect(page.get_by_text("Familien Hansen").first).to_be_visible()
    assert await axe_violations(page) == []
    await shot(page, tmp_path, "statistikk-kontakter")
    log = await helpline(service, "access-log", "--json")
    actions = [e["action"] for e in log["access_log"] if e["actor"] == "console:kari"]
    assert "console.statistikk.kontakter" in actions and "console.statistikk" in actions


async def test_the_statistics_on_a_phone(
    browser: Browser, service: Service, tmp_path: Path
) -> None:
    await make_contacts(service, "b")
    context, page = await new_page(
        browser, viewport=PHONE_VIEWPORT, is_mobile=True, has_touch=True, device_scale_factor=2
    )
    try:
        await logged_in(page, service)
        await page.goto(service.url + "/console/statistikk")
        await expect(
            page.get_by_role("img", name="Henvendelser etter ukedag og klokkeslett")
        ).to_be_visible()
        await shot(page, tmp_path, "phone-statistikk")
        wide = await page.evaluate("() => document.documentElement.scrollWidth")
        assert wide <= PHONE_VIEWPORT["width"], await too_wide(page)  # tables scroll inside
        assert await axe_violations(page) == []
    finally:
        await context.close()
