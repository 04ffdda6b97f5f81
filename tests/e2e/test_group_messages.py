"""Group messaging end to end (issue 9): signed SMS webhooks to a group's number and to the
network number, Telegram updates from the fake Bot API, relays sent by the paced lane to
the fake Twilio and Bot API; refusals, mutes, quiet hours, #G codes, the safety rule,
welcomes and retried webhooks."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

import pytest
from sqlalchemy import select

from helpline.bootstrap import Services
from helpline.commands.org import load_and_welcome, load_text
from helpline.db.models import ContactRow, GroupMessageRow, OutboxRow, TelegramLinkRow
from helpline.groups import mute
from helpline.jobs import Context, sweep_paced
from helpline.retention import purge
from helpline.sender import PacedSender
from tests.conftest import FrozenClock, app_client
from tests.e2e.api_setup import Client
from tests.e2e.twilio_driver import TwilioDriver
from tests.fakes.telegram_api import FakeUser
from tests.integration.paced_world import NETWORK, SECRET, Live, live_services
from tests.unit.group_fixtures import org_text
from tests.unit.rota_fixtures import oslo, utc

pytestmark = pytest.mark.e2e

ASKER_LINE = "+4767000001"
GROUP_LINE = "+4767000091"  # Ressursfamilien Nilsen's own number
HANSEN = ("+4798765432", "+4798765433")
HAUGEN = ("+4747112233", "+4790112233")
BERG, DAHL = "+4798700001", "+4798700002"
INGRID = "+4741234501"  # staff of the group, on SMS
STRANGER = "+4799999999"
OLSEN = "+4799887766"  # a foster home in Bærum, in another group
NILSEN = FakeUser(7001, "Nilsen")  # the hub, on Telegram
JOHANSEN = FakeUser(7002, "Johansen")  # a member, on Telegram
KARI = FakeUser(7003, "Kari")  # staff, on Telegram
BARNA = "ikke skriv navn eller detaljer om barna"


@dataclass
class World:
    live: Live
    client: Client
    twilio: TwilioDriver
    sids: int = 0

    @property
    def services(self) -> Services:
        return self.live.services

    async def sms(
        self, sender: str, body: str, to: str = GROUP_LINE, sid: str | None = None
    ) -> str:
        self.sids += 1
        form = {
            "MessageSid": sid or f"SM{self.sids:032d}",
            "From": sender,
            "To": to,
            "Body": body,
            "AccountSid": "AC" + "0" * 32,
            "NumMedia": "0",
        }
        status, answer = await self.twilio.post("/twilio/sms", form)
        assert status == 200, answer
        return form["MessageSid"]

    async def telegram(self, user: FakeUser, text: str, reply_to: int | None = None) -> Any:
        update = self.live.telegram.message_update(user, text, reply_to=reply_to)
        assert await self.live.telegram.deliver(update) == 200
        return update

    async def send_all(self) -> None:
        sender = PacedSender(self.services)
        while await sender.run_batch():
            pass

    def sms_to(self, number: str) -> list[dict[str, str]]:
        return [m.form for m in self.live.twilio.messages if m.form["To"] == number]

    def texts(self, user: FakeUser) -> list[str]:
        return [str(m["text"]) for m in self.live.telegram.sent_messages(user.id)]

    async def rows(self, **where: object) -> list[OutboxRow]:
        query = select(OutboxRow).order_by(OutboxRow.id)
        for name, value in where.items():
            query = query.where(getattr(OutboxRow, name) == value)
        async with self.services.sessions() as session:
            return list(await session.scalars(query))

    async def stored(self) -> list[GroupMessageRow]:
        async with self.services.sessions() as session:
            query = select(GroupMessageRow).order_by(GroupMessageRow.id)
            return list(await session.scalars(query))


async def link(services: Services, user: FakeUser, kind: str, target: str) -> None:
    async with services.sessions() as session, session.begin():
        session.add(
            TelegramLinkRow(
                user_id=user.id,
                chat_id=user.id,
                kind=kind,
                target_id=target,
                linked_at=services.clock(),
            )
        )


@pytest.fixture
async def world(services: Services, clock: FrozenClock) -> AsyncIterator[World]:
    clock.now = oslo(2026, 11, 23, 12)  # a Monday noon: no quiet hours
    await load_text(services, org_text())
    async with live_services(services, clock, sms_rate=50) as live:
        for user, kind, target in [
            (NILSEN, "foster_home", "nilsen"),
            (JOHANSEN, "foster_home", "johansen"),
            (KARI, "person", "kari"),
        ]:
            await link(live.services, user, kind, target)
            live.telegram.add_user(user)
        client = await app_client(live.services)
        try:
            assert live.services.telegram is not None
            url = str(client.server.make_url("/telegram/webhook"))
            await live.services.telegram.set_webhook(url, SECRET)
            yield World(live, client, TwilioDriver(client, live.services.settings))
        finally:
            await client.close()


async def test_a_member_sms_reaches_the_five_others_and_the_staff_masked_on_their_channels(
    world: World,
) -> None:
    await world.sms(HANSEN[0], "Hei alle! Noen som vil ta en kaffe på lørdag?")
    await world.send_all()
    relayed = "Familien Hansen: Hei alle! Noen som vil ta en kaffe på lørdag?"
    sms = world.live.twilio.messages
    assert sorted(m.form["To"] for m in sms) == sorted([*HAUGEN, BERG, DAHL, INGRID])
    assert all(m.form["From"] == GROUP_LINE and m.form["Body"] == relayed for m in sms)
    for user in (NILSEN, JOHANSEN, KARI):
        assert world.texts(user) == [f"[Ressursfamilien Nilsen] {relayed}"]
    every_text = [m.form["Body"] for m in sms] + world.texts(NILSEN) + world.texts(KARI)
    assert not any(phone in text for text in every_text for phone in HANSEN)
    assert not world.sms_to(HANSEN[0]) and not world.sms_to(HANSEN[1])  # not to the writer
    rows = await world.rows(kind="group")
    assert {(r.msg_class, r.group_id, r.status) for r in rows} == {
        ("group", "asker-rf-nilsen", "sent")
    }
    [message] = await world.stored()
    assert (message.group_id, message.foster_home_id, message.relayed, message.muted) == (
        "asker-rf-nilsen",
        "hansen",
        True,
        False,
    )
    async with world.services.sessions() as session:
        assert not list(await session.scalars(select(ContactRow)))  # not a help conversation


async def test_staff_writing_to_the_group_are_named_as_staff(world: World) -> None:
    await world.sms(INGRID, "Husk fagdagen på torsdag!")
    await world.send_all()
    relayed = "Ingrid Solberg (Asker kommune): Husk fagdagen på torsdag!"
    assert [m["Body"] for m in world.sms_to(HANSEN[1])] == [relayed]
    assert world.texts(KARI) == [f"[Ressursfamilien Nilsen] {relayed}"]
    assert not world.sms_to(INGRID)
    [message] = await world.stored()
    assert (message.foster_home_id, message.sender_person_id) == (None, "ingrid")


async def test_a_reply_on_telegram_answers_the_group(world: World) -> None:
    await world.sms(HANSEN[0], "Hvem kommer på treffet?")
    await world.send_all()
    relay = world.live.telegram.sent_messages(JOHANSEN.id)[-1]
    await world.telegram(JOHANSEN, "Vi kommer!", reply_to=relay["message_id"])
    await world.send_all()
    relayed = "Familien Johansen: Vi kommer!"
    assert [m["Body"] for m in world.sms_to(HANSEN[0])] == [relayed]
    assert [m["From"] for m in world.sms_to(HANSEN[1])] == [GROUP_LINE]
    assert world.texts(NILSEN)[-1] == f"[Ressursfamilien Nilsen] {relayed}"
    assert len(world.texts(JOHANSEN)) == 1  # only the message replied to
    assert [m.foster_home_id for m in await world.stored()] == ["hansen", "johansen"]


async def test_a_non_member_is_refused_and_nothing_is_relayed(world: World) -> None:
    await world.sms(STRANGER, "Hei, hvem er dette?")
    await world.sms(OLSEN, "Hei, er dette Bærum?")
    await world.sms(STRANGER, "Hallo?", to=NETWORK)
    await world.send_all()
    [to_stranger] = [m["Body"] for m in world.sms_to(STRANGER) if m["From"] == GROUP_LINE]
    assert "Ressursfamilien Nilsen" in to_stranger.split(".")[0]
    assert ASKER_LINE in to_stranger and "112" in to_stranger and "116 111" in to_stranger
    assert "Familien" not in to_stranger  # no member data
    [to_olsen] = [m["Body"] for m in world.sms_to(OLSEN)]
    assert "Ressursfamilien Nilsen" in to_olsen
    network = [m for m in world.sms_to(STRANGER) if m["From"] == NETWORK]
    assert len(network) == 1 and "nettverksnummeret" in network[0]["Body"]
    assert ASKER_LINE in network[0]["Body"]
    refusals = [m for m in world.live.twilio.messages if m.form["To"] in (STRANGER, OLSEN)]
    assert len(world.live.twilio.messages) == len(refusals) == 3
    assert not world.live.telegram.sent_messages()
    assert await world.stored() == [] and await world.rows(kind="group") == []


async def test_a_muted_member_is_stored_not_relayed_and_told_once(world: World) -> None:
    async with world.services.sessions() as session, session.begin():
        await mute(session, "asker-rf-nilsen", "hansen", world.services.clock(), "kari")
    await world.sms(HANSEN[0], "Første melding")
    await world.sms(HANSEN[1], "Andre melding")
    await world.send_all()
    told = world.sms_to(HANSEN[0]) + world.sms_to(HANSEN[1])
    assert len(told) == 1 and "ikke sendt videre" in told[0]["Body"]
    assert told[0]["From"] == GROUP_LINE
    assert len(world.live.twilio.messages) == 1 and not world.live.telegram.sent_messages()
    stored = await world.stored()
    assert [(m.body, m.muted, m.relayed) for m in stored] == [
        ("Første melding", True, False),
        ("Andre melding", True, False),
    ]
    await world.sms(HAUGEN[0], "Vi er her")  # the others are still relayed, to them too
    await world.send_all()
    assert world.sms_to(HANSEN[0])[-1]["Body"] == "Familien Haugen: Vi er her"


async def test_quiet_hours_hold_sms_relays_and_send_telegram_silently(
    world: World, clock: FrozenClock
) -> None:
    clock.now = oslo(2026, 11, 23, 22, 30)
    await world.sms(HANSEN[0], "Sent i kveld, beklager")
    await world.send_all()
    assert not world.live.twilio.messages
    sends = world.live.telegram.calls_to("sendMessage")
    assert len(sends) == 3 and all(call.params.get("disable_notification") for call in sends)
    held = await world.rows(kind="group", channel="sms")
    assert {(r.status, r.not_before) for r in held} == {("held", utc(2026, 11, 24, 7))}
    clock.now = utc(2026, 11, 24, 7)  # 08:00 in Oslo
    assert await sweep_paced(cast(Context, {"services": world.services})) == len(held) == 5
    await world.send_all()
    assert len(world.live.twilio.messages) == 5
    assert {r.status for r in await world.rows(kind="group")} == {"sent"}


async def test_several_groups_need_a_code_and_get_a_list_of_them(world: World) -> None:
    await world.sms(HANSEN[0], "Hei, er det noen her?", to=NETWORK)
    [listing] = world.sms_to(HANSEN[0])
    assert listing["From"] == NETWORK
    for code, name in [
        ("#G1", "Ressursfamilien Nilsen"),
        ("#G2", "Fosterhjemsnettverket i Asker"),
        ("#G3", "Fosterhjemskafeen i Asker"),
    ]:
        assert f"{code} {name}" in listing["Body"]
    await world.sms(HANSEN[0], "#G9 Hei", to=NETWORK)
    assert len(world.sms_to(HANSEN[0])) == 2  # an unknown code: the list again
    await world.send_all()
    assert await world.stored() == []

    await world.sms(HANSEN[0], "#g3 Kafé på fredag?", to=NETWORK)
    await world.send_all()
    relayed = "[Fosterhjemskafeen i Asker] Familien Hansen: Kafé på fredag?"
    assert [m["Body"] for m in world.sms_to(BERG)] == [relayed]
    assert [m["From"] for m in world.sms_to(BERG)] == [NETWORK]
    assert [m["Body"] for m in world.sms_to("+4791234568")] == [relayed]  # Ola, staff
    assert not world.sms_to(HAUGEN[0])  # in another group
    [message] = await world.stored()
    assert message.group_id == "asker-kafe"

    await world.telegram(NILSEN, "/grupper")
    assert "#G1 Ressursfamilien Nilsen" in world.texts(NILSEN)[-1]
    await world.telegram(NILSEN, "#G1 Hei fra Telegram")
    await world.send_all()
    assert world.sms_to(BERG)[-1]["Body"] == "Familien Nilsen: Hei fra Telegram"


async def test_a_plain_message_to_the_bot_or_the_helpline_number_is_still_help(
    world: World,
) -> None:
    await world.telegram(NILSEN, "Kan noen ringe oss? Det er vanskelig i kveld.")
    await world.sms(HANSEN[0], "#G1 Vi trenger hjelp", to=ASKER_LINE)
    await world.send_all()
    async with world.services.sessions() as session:
        contacts = list(await session.scalars(select(ContactRow).order_by(ContactRow.id)))
    assert [(c.channel, c.foster_home_id) for c in contacts] == [
        ("telegram", "nilsen"),
        ("sms", "hansen"),
    ]
    assert await world.stored() == [] and await world.rows(kind="group") == []
    assert not world.sms_to(BERG) and not world.texts(JOHANSEN)


async def test_a_retried_webhook_relays_once(world: World) -> None:
    sid = await world.sms(HANSEN[0], "Bare én gang")
    await world.sms(HANSEN[0], "Bare én gang", sid=sid)  # Twilio retried
    update = await world.telegram(JOHANSEN, "#G1 Også én gang")
    assert await world.live.telegram.deliver(update) == 200  # Telegram redelivered
    await world.send_all()
    assert len(await world.stored()) == 2
    assert sorted(m["Body"] for m in world.sms_to(BERG)) == [
        "Familien Hansen: Bare én gang",
        "Familien Johansen: Også én gang",
    ]


async def test_each_member_is_welcomed_once_across_loads(world: World) -> None:
    services = world.services
    assert (await load_and_welcome(services, org_text()))[1] == 13  # 6 + 3 (Bærum) + 2 + 2
    assert (await load_and_welcome(services, org_text()))[1] == 0
    welcomes = await world.rows(kind="welcome")
    to_nilsen = [r for r in welcomes if r.group_id == "asker-rf-nilsen"]
    by_address = sorted((r.channel, r.to) for r in to_nilsen)
    assert by_address == sorted(
        [
            ("telegram", str(NILSEN.id)),
            ("telegram", str(JOHANSEN.id)),
            *(("sms", phone) for phone in (*HANSEN, *HAUGEN, BERG, DAHL)),
        ]
    )
    hansen = next(r for r in to_nilsen if r.to == HANSEN[0])
    assert BARNA in hansen.body and "Kari Nordmann og Ingrid Solberg" in hansen.body
    assert "Ressursfamilien Nilsen" in hansen.body and hansen.sender == GROUP_LINE
    kafe = next(r for r in welcomes if r.group_id == "asker-kafe" and r.to == HANSEN[0])
    assert "#G3" in kafe.body and kafe.sender == NETWORK
    await world.send_all()
    assert len(world.sms_to(HANSEN[0])) == 3  # one per group

    grown = org_text().replace(
        'members = ["hansen", "berg"]', 'members = ["hansen", "berg", "dahl"]'
    )
    assert (await load_and_welcome(services, grown))[1] == 1
    [new] = [r for r in await world.rows(kind="welcome") if r.id > welcomes[-1].id]
    assert (new.to, new.group_id) == (DAHL, "asker-kafe")
    # A reply on Telegram to the welcome answers the group.
    welcome = world.live.telegram.sent_messages(JOHANSEN.id)[0]
    assert welcome["text"].startswith("[Ressursfamilien Nilsen] Velkommen!")
    await world.telegram(JOHANSEN, "Takk, hei alle!", reply_to=welcome["message_id"])
    await world.send_all()
    assert "Familien Johansen: Takk, hei alle!" in [m["Body"] for m in world.sms_to(DAHL)]


async def test_group_messages_and_answers_to_strangers_go_with_retention(
    world: World, clock: FrozenClock
) -> None:
    await world.sms(HANSEN[0], "Gammel melding")
    await world.sms(STRANGER, "Hvem er dette?")
    await world.send_all()
    clock.now += timedelta(days=world.services.settings.retention_days + 1)
    await world.sms(HAUGEN[0], "Ny melding")
    counts = await purge(world.services, dry_run=False, recordings=None)
    assert counts.group_message_bodies == 1
    old, young = await world.stored()
    assert (old.body, old.content_purged_at) == ("", clock.now)
    assert (young.body, young.content_purged_at) == ("Ny melding", None)
    [answer] = await world.rows(kind="group_answer")
    assert (answer.to, answer.body) == ("", "")
    relays = await world.rows(kind="group")
    assert {r.body for r in relays if r.created_at < clock.now} == {""}
    assert {r.body.removeprefix("[Ressursfamilien Nilsen] ") for r in relays if r.body} == {
        "Familien Haugen: Ny melding"
    }
    assert (await purge(world.services, dry_run=True, recordings=None)).group_message_bodies == 0
