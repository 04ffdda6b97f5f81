"""What the paced-lane tests share: services with live Twilio and Telegram channels on the
fakes, pacing on simulated time, and outbox rows written as a broadcast writes them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace

import aiohttp
from sqlalchemy import select

from helpline.bootstrap import Services, open_services
from helpline.db.models import OutboxRow
from routing.segments import segments
from tests.conftest import FrozenClock
from tests.fakes.telegram_api import FAKE_BOT_TOKEN, FakeTelegram, running_fake_telegram
from tests.fakes.twilio_api import (
    FAKE_ACCOUNT_SID,
    FAKE_AUTH_TOKEN,
    FakeTwilio,
    running_fake_twilio,
)
from tests.fakes.twilio_callbacks import StatusCallbacks
from tests.integration.pacing_time import SimulatedTime

NETWORK = "+4767000090"
SECRET = "webhook-secret-for-tests"


@dataclass
class Live:
    """Services whose SMS and Telegram go to the fakes, paced on `pacing`."""

    services: Services
    twilio: FakeTwilio
    telegram: FakeTelegram
    callbacks: StatusCallbacks
    pacing: SimulatedTime


@asynccontextmanager
async def live_services(
    services: Services, clock: FrozenClock, sms_rate: int = 10
) -> AsyncIterator[Live]:
    """`services`' stores, with Twilio and Telegram on fakes running on `clock`. The token
    buckets run on simulated time, which the fakes stamp arrivals with: pacing costs no
    waiting, and what reached a fake can be counted per simulated second."""
    pacing = SimulatedTime()
    async with (
        running_fake_twilio(clock=clock, stamp=pacing.seconds) as twilio,
        running_fake_telegram(clock=clock, stamp=pacing.seconds) as telegram,
        aiohttp.ClientSession() as session,
    ):
        settings = replace(
            services.settings,
            twilio_account_sid=FAKE_ACCOUNT_SID,
            twilio_auth_token=FAKE_AUTH_TOKEN,
            twilio_api_base=twilio.base_url,
            telegram_bot_token=FAKE_BOT_TOKEN,
            telegram_api_base=telegram.base_url,
            telegram_webhook_secret=SECRET,
            sms_rate=sms_rate,
        )
        async with open_services(
            settings, clock=clock, pacing_clock=pacing, pacing_sleep=pacing.sleep
        ) as opened:
            yield Live(opened, twilio, telegram, StatusCallbacks(twilio, session), pacing)


async def add_rows(
    services: Services,
    recipients: Sequence[tuple[str, str]],
    body: str,
    *,
    msg_class: str = "info",
    status: str = "queued",
    sender: str = NETWORK,
    group_id: str | None = None,
) -> list[int]:
    """One paced row per (channel, address), as a broadcast or a group relay writes it."""
    now = services.clock()
    rows = [
        OutboxRow(
            channel=channel, to=to, sender=sender if channel == "sms" else "bot", body=body,
            contact_id=None, created_at=now, status=status, kind="broadcast",
            msg_class=msg_class, group_id=group_id, attempts=0,
            segments=segments(body).count if channel == "sms" else None,
        )
        for channel, to in recipients
    ]  # fmt: skip
    async with services.sessions() as session, session.begin():
        session.add_all(rows)
    return [row.id for row in rows]


async def rows_of(services: Services, ids: Sequence[int]) -> list[OutboxRow]:
    async with services.sessions() as session:
        found = await session.scalars(select(OutboxRow).where(OutboxRow.id.in_(ids)))
        return sorted(found, key=lambda row: row.id)
