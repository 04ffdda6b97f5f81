"""Grupper in a real browser, against a real `helpline serve`: a koordinator mutes a member
(whose next message is then stored and not relayed, as `helpline group messages` shows),
reads the group's messages, counts a broadcast and sends it (as `helpline broadcast show`
then reports); another kommune's group is not found; axe-core on each page; a phone."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect

from tests.browser.conftest import PHONE_VIEWPORT, Service, axe_violations, new_page
from tests.browser.test_console_login import shot
from tests.browser.test_console_statistikk import helpline, logged_in, post_twilio, too_wide
from tests.fakes.twilio_api import FAKE_ACCOUNT_SID

pytestmark = pytest.mark.browser

GROUP_LINE = "+4767000091"  # Ressursfamilien Nilsen's own number
JOHANSEN = "+4792345678"


async def open_group(page: Page, service: Service) -> None:
    await logged_in(page, service)
    await (
        page.get_by_role("navigation", name="Hovedmeny").get_by_role("link", name="Grupper").click()
    )
    await expect(page.get_by_role("heading", name="Grupper", exact=True)).to_be_visible()
    await expect(page.get_by_role("link", name="Fosterhjemsnettverket i Bærum")).to_have_count(0)
    await page.get_by_role("link", name="Ressursfamilien Nilsen").click()
    await expect(page.get_by_role("heading", name="Ressursfamilien Nilsen")).to_be_visible()


async def test_a_mute_from_the_browser_stops_relaying(
    page: Page, service: Service, tmp_path: Path
) -> None:
    await logged_in(page, service)
    await page.goto(service.url + "/console/grupper")
    assert await axe_violations(page) == []
    await shot(page, tmp_path, "grupper")
    await page.get_by_role("link", name="Ressursfamilien Nilsen").click()
    members = page.get_by_role("table", name="Fosterhjem i gruppen")
    await expect(members.get_by_role("row", name="Familien Johansen")).to_contain_text("Aktiv")
    assert await axe_violations(page) == []
    await shot(page, tmp_path, "gruppe")
    await page.get_by_role("button", name="Demp Familien Johansen").click()
    await expect(page.get_by_role("status")).to_contain_text("Familien Johansen er dempet")
    await expect(members.get_by_role("row", name="Familien Johansen")).to_contain_text("Dempet")
    assert await axe_violations(page) == []
    form = {"MessageSid": "SM" + "9" * 32, "From": JOHANSEN, "To": GROUP_LINE,
            "Body": "Er det noen som kan låne oss en barnevogn?",
            "AccountSid": FAKE_ACCOUNT_SID, "NumMedia": "0"}  # fmt: skip
    await post_twilio(service, "/twilio/sms", form)
    shown = await helpline(service, "group", "messages", "asker-rf-nilsen", "--json")
    [message] = shown["messages"]
    assert (message["muted"], message["relayed"]) == (True, False)
    await page.get_by_role("link", name="Meldinger i gruppen").click()
    await expect(page.get_by_text("Er det noen som kan låne oss en barnevogn?")).to_be_visible()
    await expect(page.get_by_role("cell", name="Dempet", exact=True)).to_be_visible()
    assert await axe_violations(page) == []
    await shot(page, tmp_path, "gruppe-meldinger")
    await page.get_by_role("link", name="Tilbake til Ressursfamilien Nilsen").click()
    await page.get_by_role("button", name="Opphev demping av Familien Johansen").click()
    await expect(page.get_by_role("status")).to_contain_text("Dempingen av Familien Johansen")
    log = await helpline(service, "access-log", "--json")
    actions = {e["action"] for e in log["access_log"] if e["actor"] == "console:kari"}
    assert {"console.grupper", "console.gruppe", "console.gruppe.meldinger"} <= actions


async def test_a_broadcast_is_counted_then_sent(
    page: Page, service: Service, tmp_path: Path
) -> None:
    await open_group(page, service)
    text = "Nettverkstreff tirsdag kl. 18. Velkommen!"
    await page.get_by_role("textbox", name="Melding").fill(text)
    await page.get_by_role("button", name="Tell mottakere").click()
    await expect(page.get_by_role("heading", name="Kontroller utsendingen")).to_be_visible()
    await expect(page.locator("#count-recipients")).to_have_text("6")  # four homes, six phones
    assert await axe_violations(page) == []
    await shot(page, tmp_path, "utsending-telt")
    before = await helpline(service, "outbox", "--json", "--limit", "10000")
    assert not [r for r in before["outbox"] if r["kind"] == "broadcast"]  # nothing stored yet
    await page.get_by_role("button", name="Send til 6 mottakere").click()
    notice = page.get_by_role("status")
    await expect(notice).to_contain_text("er lagret")
    number = (await notice.inner_text()).split("nr. ")[1].split(" ")[0]
    shown = await helpline(service, "broadcast", "show", number, "--json")
    assert shown["audience"] == "group:asker-rf-nilsen" and sum(shown["states"].values()) == 6
    await shot(page, tmp_path, "utsending-sendt")


async def test_another_kommunes_group_is_not_found(page: Page, service: Service) -> None:
    await logged_in(page, service)
    response = await page.goto(service.url + "/console/grupper/baerum-nettverk")
    assert response is not None and response.status == 404
    await expect(page.get_by_role("heading", name="Fant ikke gruppen")).to_be_visible()
    assert await axe_violations(page) == []


async def test_a_group_on_a_phone(browser: Browser, service: Service, tmp_path: Path) -> None:
    context, page = await new_page(
        browser, viewport=PHONE_VIEWPORT, is_mobile=True, has_touch=True, device_scale_factor=2
    )
    try:
        await open_group(page, service)
        await shot(page, tmp_path, "phone-gruppe")
        await expect(page.get_by_role("button", name="Tell mottakere")).to_be_visible()
        wide = await page.evaluate("() => document.documentElement.scrollWidth")
        assert wide <= PHONE_VIEWPORT["width"], await too_wide(page)
        assert await axe_violations(page) == []
    finally:
        await context.close()
