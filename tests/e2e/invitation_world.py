"""What the invitation tests share: the demo organisation served with live channels on the
fake Twilio and Bot API, signed SMS webhooks, and the event actions the command line and
the API use."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

import pytest
from sqlalchemy import select

from helpline.bootstrap import Services
from helpline.commands.org import demo_text, load_text
from helpline.db.models import InvitationRow, OutboxRow, TelegramLinkRow
from helpline.event_actions import create_event, invite_event
from helpline.events import show
from helpline.jobs import Context, sweep_events, sweep_paced
from helpline.sender import PacedSender
from rota.wallclock import zone
from routing.access import ADMIN
from routing.event_rules import Draft
from tests.conftest import FrozenClock, app_client
from tests.e2e.api_setup import ADMIN_TOKEN, Client, add_token
from tests.e2e.twilio_driver import TwilioDriver
from tests.fakes.telegram_api import FakeUser
from tests.integration.paced_world import NETWORK, SECRET, Live, live_services
from tests.unit.rota_fixtures import oslo

OSLO_TZ = zone("Europe/Oslo")
PHONES = {
    "hansen": ("+4798765432", "+4798765433"),
    "johansen": ("+4792345678",),
    "haugen": ("+4747112233", "+4790112233"),
    "nilsen": ("+4790554433",),
    "olsen": ("+4799887766",),
}
NILSEN_USER = FakeUser(7001, "Nilsen")
#: The event of most tests: Thursday 10 December 2026, 18:00-20:00 in Oslo.
STARTS = oslo(2026, 12, 10, 18)
ENDS = oslo(2026, 12, 10, 20)
RSVP_BY = oslo(2026, 12, 6)  # the end of Saturday 5 December


@dataclass
class World:
    live: Live
    client: Client
    twilio: TwilioDriver
    clock: FrozenClock
    sids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def services(self) -> Services:
        return self.live.services

    async def event(
        self,
        audience: str = "home:hansen,home:johansen,home:haugen,home:nilsen",
        capacity: int | None = 2,
        title: str = "Nettverkstreff i Asker",
        starts: datetime = STARTS,
        ends: datetime = ENDS,
        rsvp_by: datetime | None = RSVP_BY,
        invite: bool = True,
    ) -> int:
        loaded = await self.services.organisation()
        assert loaded is not None
        draft = Draft("nettverkstreff", title, starts, ends, "Asker kulturhus", capacity, rsvp_by)
        event_id = await create_event(self.services, loaded, draft, audience, ADMIN, "test")
        if invite:
            await invite_event(self.services, loaded, event_id, None, ADMIN, "test")
        return event_id

    async def send_all(self) -> None:
        sender = PacedSender(self.services)
        while await sender.run_batch():
            pass

    async def sms(self, sender: str, body: str, sid: str | None = None, to: str = NETWORK) -> int:
        form = {
            "MessageSid": sid or f"SM{next(self.sids):032d}",
            "From": sender,
            "To": to,
            "Body": body,
            "AccountSid": "AC" + "0" * 32,
            "NumMedia": "0",
        }
        status, answer = await self.twilio.post("/twilio/sms", form)
        assert status == 200, answer
        return status

    def texts_to(self, phone: str) -> list[str]:
        """Every SMS the fake Twilio was asked to send to `phone`, in order."""
        return [m.form["Body"] for m in self.live.twilio.messages if m.form["To"] == phone]

    def last_to(self, phone: str) -> str:
        texts = self.texts_to(phone)
        assert texts, f"nothing was sent to {phone}"
        return texts[-1]

    async def show(self, event_id: int) -> dict[str, Any]:
        async with self.services.sessions() as session:
            shown = await show(session, event_id, OSLO_TZ, ADMIN)
        assert shown is not None
        return shown

    async def answers(self, event_id: int) -> dict[str, tuple[str | None, int]]:
        shown = await self.show(event_id)
        every = {a["foster_home"]: (a["answer"], a["people"]) for a in shown["answers"]}
        async with self.services.sessions() as session:
            homes = await session.scalars(
                select(InvitationRow.foster_home_id).where(InvitationRow.event_id == event_id)
            )
            return {home: every.get(home, (None, 0)) for home in homes}

    async def sweep(self) -> int:
        """The minute sweeps: what is due for events, then held rows released and sent."""
        ctx = cast(Context, {"services": self.services})
        done = await sweep_events(ctx)
        await sweep_paced(ctx)
        await self.send_all()
        return done

    async def outbox(self) -> list[OutboxRow]:
        async with self.services.sessions() as session:
            return list(await session.scalars(select(OutboxRow).order_by(OutboxRow.id)))


@pytest.fixture
async def world(services: Services, clock: FrozenClock) -> AsyncIterator[World]:
    clock.now = oslo(2026, 11, 30, 12)  # a Monday noon, ten days before the event
    await load_text(services, demo_text())
    async with live_services(services, clock, sms_rate=100) as live:
        await add_token(live.services, "admin-kari", ADMIN_TOKEN)
        client = await app_client(live.services)
        try:
            assert live.services.telegram is not None
            url = str(client.server.make_url("/telegram/webhook"))
            await live.services.telegram.set_webhook(url, SECRET)
            yield World(live, client, TwilioDriver(client, live.services.settings), clock)
        finally:
            await client.close()


async def link_nilsen(world: World) -> None:
    """Familien Nilsen reads us on Telegram."""
    async with world.services.sessions() as session, session.begin():
        session.add(
            TelegramLinkRow(
                user_id=NILSEN_USER.id,
                chat_id=NILSEN_USER.id,
                kind="foster_home",
                target_id="nilsen",
                linked_at=world.clock.now,
            )
        )
    world.live.telegram.add_user(NILSEN_USER)
