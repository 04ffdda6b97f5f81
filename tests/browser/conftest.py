"""Browser tests: headless Chromium (Debian's, at /usr/bin/chromium) driven by Playwright
against a real `helpline serve`, which sends its SMS to a fake Twilio (not sandbox mode).

One service per module: `helpline migrate`, `helpline demo` and `helpline serve` in a
temporary directory on the embedded stores, with the Twilio credentials of the fake and
its base URL. The fake runs in a thread of its own, so each test's event loop can come
and go while the service keeps its Twilio. Without Chromium the tests skip, saying so.
"""

from __future__ import annotations

import asyncio
import os
import re
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis
from playwright.async_api import Browser, BrowserContext, Page, async_playwright

from tests.conftest import _fresh_schema
from tests.e2e.served import Served, served
from tests.fakes.twilio_api import (
    FAKE_ACCOUNT_SID,
    FAKE_AUTH_TOKEN,
    FakeTwilio,
    running_fake_twilio,
)

CHROMIUM = Path("/usr/bin/chromium")
AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
PHONE_VIEWPORT = {"width": 390, "height": 844}  # a common phone, in CSS pixels
_CODE = re.compile(r"\b([0-9]{6})\b")


class ThreadedTwilio:
    """A `FakeTwilio` served from its own thread and event loop for a whole module."""

    def __init__(self) -> None:
        self.fake: FakeTwilio | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._run, name="fake-twilio", daemon=True)

    def __enter__(self) -> FakeTwilio:
        self._thread.start()
        if not self._started.wait(30) or self.fake is None:
            raise RuntimeError("the fake Twilio did not start")
        return self.fake

    def __exit__(self, *_exc: object) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(30)

    def _run(self) -> None:
        asyncio.run(self._serve())

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        async with running_fake_twilio() as fake:
            self.fake = fake
            self._started.set()
            await self._stop.wait()


@dataclass(frozen=True)
class Service:
    """The running service and the fake Twilio it sends to."""

    served: Served
    twilio: FakeTwilio

    @property
    def url(self) -> str:
        return self.served.url

    def sms_to(self, phone: str) -> list[str]:
        """The bodies of the messages the service sent to `phone`, oldest first."""
        return [r.form.get("Body", "") for r in self.twilio.messages if r.form.get("To") == phone]

    def last_code(self, phone: str) -> str:
        bodies = self.sms_to(phone)
        assert bodies, "no SMS to this number at the fake Twilio"
        found = _CODE.search(bodies[-1])
        assert found, "no code in the SMS"
        return found[1]


@pytest.fixture(scope="session")
def chromium() -> Path:
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    return CHROMIUM


async def _flush(url: str) -> None:
    client = aioredis.from_url(url)
    try:
        await client.flushdb()
    finally:
        await client.aclose()


def emptied_test_stores(extra: dict[str, str]) -> dict[str, str]:
    """`extra` with the PostgreSQL/Redis pass's stores, emptied: each module's service
    starts on an empty register, with no conversation left open and no flood window or
    follow-up mark left in Redis by an earlier module or test (an SMS then went into an
    old conversation and the Telefonsimulator's phones showed no change)."""
    stores = dict(extra)
    for test_name, name in (("HELPLINE_TEST_DATABASE_URL", "HELPLINE_DATABASE_URL"),
                            ("HELPLINE_TEST_REDIS_URL", "HELPLINE_REDIS_URL")):  # fmt: skip
        if os.environ.get(test_name):
            stores[name] = os.environ[test_name]
    if "HELPLINE_DATABASE_URL" in stores:
        asyncio.run(_fresh_schema(stores["HELPLINE_DATABASE_URL"]))
    if "HELPLINE_REDIS_URL" in stores:
        asyncio.run(_flush(stores["HELPLINE_REDIS_URL"]))
    return stores


@pytest.fixture(scope="module")
def service(chromium: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    work = tmp_path_factory.mktemp("console")
    with ThreadedTwilio() as twilio:
        extra = {
            "TWILIO_ACCOUNT_SID": FAKE_ACCOUNT_SID,
            "TWILIO_AUTH_TOKEN": FAKE_AUTH_TOKEN,
            "HELPLINE_TWILIO_API_BASE": twilio.base_url,
            # Many logins from one address and number in one module; the limits
            # themselves are tested over the app (tests/integration/test_console_login.py).
            "HELPLINE_LOGIN_PER_IP": "1000",
            "HELPLINE_LOGIN_PER_NUMBER": "100",
        }
        with served(work, emptied_test_stores(extra)) as running:
            asyncio.run(running.ready())
            yield Service(running, twilio)


@pytest.fixture
async def browser(chromium: Path) -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=str(chromium))
        try:
            yield launched
        finally:
            await launched.close()


async def new_page(browser: Browser, **options: Any) -> tuple[BrowserContext, Page]:
    """A fresh context (its own cookies) and page; `bypass_csp` lets axe be injected
    past the console's Content-Security-Policy, which allows no script."""
    context = await browser.new_context(bypass_csp=True, locale="nb-NO", **options)
    return context, await context.new_page()


@pytest.fixture
async def page(browser: Browser) -> AsyncIterator[Page]:
    context, opened = await new_page(browser)
    try:
        yield opened
    finally:
        await context.close()


async def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page as it is now."""
    await page.add_script_tag(path=str(AXE))
    result = await page.evaluate(
        "async () => await axe.run(document, {resultTypes: ['violations']})"
    )
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]]}
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
