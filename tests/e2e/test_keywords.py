"""STOPP, START and HJELP end to end (issue 9): signed SMS webhooks to the network number
and a group's own number, Telegram commands and buttons through the fake Bot API, and the
paced lane and broadcasts that the stops hold back. Help still reaches whoever said STOPP.

The demo: the network number +4767000090; Ressursfamilien Nilsen (`asker-rf-nilsen`: the
hub Nilsen with Hansen, Johansen and Haugen) on its own number +4767000091; Bærum's
nettverk (`baerum-nettverk`: Olsen, Larsen, Kristiansen) without a number of its own.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import func, select

from helpline.bootstrap import Services
from helpline.commands.org import demo_text, load_text
from helpline.db.models import ContactRow, OptOutRow, OutboxRow, TelegramLinkRow
from helpline.sender import PacedSender
from routing.keywords import group_key
from tests.conftest import FrozenClock, app_client
from tests.e2e.api_setup import ADMIN_TOKEN, Client, add_token, auth
from tests.e2e.twilio_driver import TwilioDriver
from tests.fakes.telegram_api import FakeUser
from tests.integration.paced_world import NETWORK, SECRET, Live, add_rows, live_services
from tests.unit.rota_fixtures import oslo

pytestmark = pytest.mark.e2e

GROUP_LINE = "+4767000091"  # Ressursfamilien Nilsen's own number
ASKER_LINE = "+4767000001"
HANSEN = ("+4798765432", "+4798765433")
TEXT = "Nettverkstreff torsdag kl. 18 på Asker kulturhus. Velkommen!"
NILSEN = FakeUser(7001, "Nilsen")  # the hub of Ressursfamilien Nilsen, on Telegram
OLSEN = FakeUser(7002, "Olsen")  # a member of Bærum's nettverk, on Telegram
NETWORK_BUTTON = "stop:network"
NILSEN_BUTTON = f"stop:g:{group_key('asker-rf-nilsen')}"


@dataclass
class World:
    live: Live
    client: Client
    twilio: TwilioDriver
    sids: int = 0

    @property
    def services(self) -> Services:
        return self.live.services

    async def sms(self, sender: str, body: str, to: str, sid: str | None = None) -> str:
        """An inbound SMS, signed as Twilio signs it; its MessageSid."""
        self.sids += 1
        sid = sid or f"SM{self.sids:032d}"
        form = {"MessageSid": sid, "From": sender, "To": to, "Body": body, "NumMedia": "0"}
        status, answer = await self.twilio.post("/twilio/sms", form)
        assert status == 200, answer
        return sid

    def texts_to(self, number: str) -> list[tuple[str, str]]:
        """(From, Body) of every SMS the fake Twilio accepted for `number`, oldest first."""
        return [
            (m.form["From"], m.form["Body"])
            for m in self.live.twilio.messages
            if m.form["To"] == number and m.accepted
        ]

    def telegram(self, user: FakeUser) -> list[dict[str, Any]]:
        return self.live.telegram.sent_messages(user.id)

    async def command(self, user: FakeUser, text: str) -> dict[str, Any]:
        """`text` from `user` to the bot; the bot's last message to them."""
        assert (
            await self.live.telegram.deliver(self.live.telegram.message_update(user, text)) == 200
        )
        return self.telegram(user)[-1]

    async def tap(self, user: FakeUser, message: dict[str, Any], data: str) -> None:
        update = self.live.telegram.callback_update(user, message["message_id"], data)
        assert await self.live.telegram.deliver(update) == 200

    async def broadcast(self, audience: str) -> dict[str, Any]:
        body = {"to": audience, "text": TEXT}
        response = await self.client.post("/api/broadcasts", json=body, headers=auth(ADMIN_TOKEN))
        made: dict[str, Any] = await response.json()
        assert response.status == 201, made
        await self.send_all()
        return made

    async def send_all(self) -> None:
        sender = PacedSender(self.services)
        while await sender.run_batch():
            pass

    async def stops(self) -> set[tuple[str, str, str, str]]:
        async with self.services.sessions() as session:
            rows = await session.scalars(select(OptOutRow))
            return {(r.channel, r.address, r.scope, r.source) for r in rows}

    async def statuses(self, ids: list[int]) -> list[str]:
        async with self.services.sessions() as session:
            rows = await session.scalars(select(OutboxRow).where(OutboxRow.id.in_(ids)))
            return [r.status for r in sorted(rows, key=lambda row: row.id)]

    async def contacts(self) -> int:
        async with self.services.sessions() as session:
            return int(await session.scalar(select(func.count()).select_from(ContactRow)) or 0)


@pytest.fixture
async def world(services: Services, clock: FrozenClock) -> AsyncIterator[World]:
    clock.now = oslo(2026, 11, 23, 12)  # a Monday noon: no quiet hours
    await load_text(services, demo_text())
    async with live_services(services, clock, sms_rate=50) as live:
        await add_token(live.services, "admin-kari", ADMIN_TOKEN)
        async with live.services.sessions() as session, session.begin():
            for user, home in ((NILSEN, "nilsen"), (OLSEN, "olsen")):
                session.add(
                    TelegramLinkRow(
                        user_id=user.id,
                        chat_id=user.id,
                        kind="foster_home",
                        target_id=home,
                        linked_at=clock.now,
                    )
                )
                live.telegram.add_user(user)
        client = await app_client(live.services)
        try:
            assert live.services.telegram is not None
            url = str(client.server.make_url("/telegram/webhook"))
            await live.services.telegram.set_webhook(url, SECRET)
            yield World(live, client, TwilioDriver(client, live.services.settings))
        finally:
            await client.close()


# -- SMS -----------------------------------------------------------------------------------


async def test_stopp_to_a_group_number_stops_that_group_only(world: World) -> None:
    await world.sms(HANSEN[0], " Stopp. ", GROUP_LINE)
    [(sender, reply)] = world.texts_to(HANSEN[0])
    assert sender == GROUP_LINE  # the answer comes from the number written to
    assert reply.startswith("Du er meldt av meldingene fra Ressursfamilien Nilsen.")
    assert "START" in reply and "67 00 00 01" in reply
    assert await world.stops() == {("sms", HANSEN[0], "group:asker-rf-nilsen", "keyword")}

    nilsen = await add_rows(
        world.services,
        [("sms", HANSEN[0]), ("sms", HANSEN[1])],
        "Hei alle!",
        msg_class="group",
        group_id="asker-rf-nilsen",
        sender=GROUP_LINE,
    )
    other = await add_rows(
        world.services,
        [("sms", HANSEN[0])],
        "Hei fra Bærum!",
        msg_class="group",
        group_id="baerum-nettverk",
        sender=NETWORK,
    )
    await world.send_all()
    assert await world.statuses(nilsen + other) == ["opted_out", "sent", "sent"]
    made = await world.broadcast("home:hansen")  # info: not this group's stop
    assert (made["recipients"], made["opted_out"]) == (2, 0)
    assert [body for _, body in world.texts_to(HANSEN[0])][1:] == [
        "Hei fra Bærum!",
        TEXT + "\n\nSvar STOPP for å melde deg av.",
    ]


async def test_stopp_to_the_network_number_stops_a_broadcast_and_start_restores(
    world: World,
) -> None:
    await world.sms(HANSEN[0], "STOPP", NETWORK)
    [(sender, reply)] = world.texts_to(HANSEN[0])
    assert sender == NETWORK
    assert reply.startswith(
        "Du er meldt av invitasjoner og gruppemeldinger fra fosterhjemsnettverket i Asker."
    )
    made = await world.broadcast("home:hansen")
    assert made["opted_out"] == 1
    assert len(world.texts_to(HANSEN[0])) == 1 and len(world.texts_to(HANSEN[1])) == 1
    # The group on its own number is not stopped by the network's STOPP.
    ids = await add_rows(
        world.services,
        [("sms", HANSEN[0])],
        "Hei alle!",
        msg_class="group",
        group_id="asker-rf-nilsen",
        sender=GROUP_LINE,
    )
    await world.send_all()
    assert await world.statuses(ids) == ["sent"]

    await world.sms(HANSEN[0], "start", NETWORK)
    assert world.texts_to(HANSEN[0])[-1] == (
        NETWORK,
        "Du er meldt på igjen og får invitasjoner og gruppemeldinger fra "
        "fosterhjemsnettverket i Asker. Svar STOPP for å melde deg av.",
    )
    assert await world.stops() == set()
    made = await world.broadcast("home:hansen")
    assert made["opted_out"] == 0
    assert world.texts_to(HANSEN[0])[-1] == (NETWORK, TEXT + "\n\nSvar STOPP for å melde deg av.")


async def test_stopp_twice_and_start_unstopped_are_idempotent(world: World) -> None:
    await world.sms(HANSEN[0], "STOPP", NETWORK)
    await world.sms(HANSEN[0], "stop!", NETWORK)  # a new message, not a retry
    assert await world.stops() == {("sms", HANSEN[0], "network", "keyword")}
    first, second = world.texts_to(HANSEN[0])
    assert first == second  # the same confirmation
    await world.sms(HANSEN[1], "START", GROUP_LINE)
    assert world.texts_to(HANSEN[1])[0][1].startswith("Du er meldt på igjen")
    assert await world.stops() == {("sms", HANSEN[0], "network", "keyword")}


async def test_hjelp_on_both_numbers_says_what_the_number_is(world: World) -> None:
    await world.sms(HANSEN[0], "HJELP", GROUP_LINE)
    await world.sms(HANSEN[0], "Info?", NETWORK)
    (group_from, group_text), (network_from, network_text) = world.texts_to(HANSEN[0])
    assert group_from == GROUP_LINE and network_from == NETWORK
    assert group_text.startswith("Dette er nummeret til Ressursfamilien Nilsen")
    assert network_text.startswith(
        "Dette nummeret sender invitasjoner og gruppemeldinger fra fosterhjemsnettverket i Asker."
    )
    for text in (group_text, network_text):
        assert "Svar STOPP" in text and "START" in text and "67 00 00 01" in text
        assert text.endswith(
            "Ved fare: ring 112 (politi) eller 113 (ambulanse). "
            "Alarmtelefonen for barn og unge: 116 111."
        )
    assert await world.stops() == set() and await world.contacts() == 0


async def test_a_retried_keyword_webhook_stores_and_answers_once(world: World) -> None:
    sid = await world.sms(HANSEN[0], "STOPP", GROUP_LINE)
    await world.sms(HANSEN[0], "STOPP", GROUP_LINE, sid=sid)  # Twilio retried
    await world.sms(HANSEN[0], "START", GROUP_LINE, sid=sid)  # a forged retry: still once
    assert len(world.texts_to(HANSEN[0])) == 1
    assert await world.stops() == {("sms", HANSEN[0], "group:asker-rf-nilsen", "keyword")}


async def test_a_sentence_to_a_network_line_is_no_keyword(world: World) -> None:
    await world.sms("+4790000001", "Stopp å sende meg dette", GROUP_LINE)  # a sentence
    [(sender, text)] = world.texts_to("+4790000001")  # not a member: told whose group it is
    assert sender == GROUP_LINE and "Ressursfamilien Nilsen" in text and "116 111" in text
    assert await world.stops() == set() and await world.contacts() == 0


async def test_a_keyword_from_no_phone_number_changes_nothing(world: World) -> None:
    await world.sms("anonymous", "STOPP", NETWORK)
    assert await world.stops() == set()
    assert world.live.twilio.messages == []


async def test_stopp_to_a_kommune_helpline_number_is_help(world: World) -> None:
    await world.sms(HANSEN[0], "STOPP", ASKER_LINE)
    assert await world.contacts() == 1  # a conversation for the person on duty
    assert await world.stops() == set()
    [(sender, receipt)] = world.texts_to(HANSEN[0])
    assert sender == ASKER_LINE and receipt.startswith("Takk, meldingen din er mottatt")
    async with world.services.sessions() as session:
        contact = await session.scalar(select(ContactRow))
    assert contact is not None and contact.foster_home_id == "hansen"
    staff = {m.form["To"] for m in world.live.twilio.messages} - {HANSEN[0]}
    assert staff  # the on-duty staff were told


async def test_help_still_reaches_a_number_that_said_stopp(world: World) -> None:
    await world.sms(HANSEN[0], "STOPP", NETWORK)
    await world.sms(HANSEN[0], "STOPP", GROUP_LINE)
    assert len(await world.stops()) == 2
    await world.sms(HANSEN[0], "Kan noen ringe oss?", ASKER_LINE)
    async with world.services.sessions() as session:
        contact = await session.scalar(select(ContactRow))
    assert contact is not None
    notified = [m.form["To"] for m in world.live.twilio.messages if m.form["To"] not in HANSEN]
    await world.sms(notified[0], f"#K{contact.id} Jeg ringer dere om fem minutter.", ASKER_LINE)
    answers = world.texts_to(HANSEN[0])[2:]
    assert [sender for sender, _ in answers] == [ASKER_LINE, ASKER_LINE]
    assert answers[0][1].startswith("Takk, meldingen din er mottatt")
    assert answers[1][1].endswith("Jeg ringer dere om fem minutter.")
    async with world.services.sessions() as session:
        rows = await session.scalars(select(OutboxRow).where(OutboxRow.to == HANSEN[0]))
        assert {(r.msg_class, r.status) for r in rows} == {("help", "sent")}


async def test_a_carrier_stop_is_lifted_by_start(world: World) -> None:
    world.live.twilio.refuse(HANSEN[0])  # they texted STOP to the network number (21610)
    made = await world.broadcast("home:hansen")
    assert made["opted_out"] == 0
    assert await world.stops() == {("sms", HANSEN[0], "network", "carrier")}
    assert (await world.broadcast("home:hansen"))["opted_out"] == 1

    world.live.twilio.allow(HANSEN[0])  # Twilio lifts its block when they text START
    await world.sms(HANSEN[0], "START", NETWORK)
    assert world.texts_to(HANSEN[0])[0][1].startswith("Du er meldt på igjen")
    assert await world.stops() == set()
    assert (await world.broadcast("home:hansen"))["opted_out"] == 0
    assert world.texts_to(HANSEN[0])[-1][1].startswith(TEXT)


# -- Telegram ------------------------------------------------------------------------------


def buttons(message: dict[str, Any]) -> list[tuple[str, str]]:
    rows = message.get("reply_markup", {}).get("inline_keyboard", [])
    return [(b["text"], b["callback_data"]) for row in rows for b in row]


async def test_telegram_stopp_offers_the_scopes_and_a_tap_stops_a_broadcast(
    world: World,
) -> None:
    offer = await world.command(NILSEN, "/stopp")
    assert offer["text"].startswith("Hva vil du melde deg av?")
    assert buttons(offer) == [
        ("Ressursfamilien Nilsen", NILSEN_BUTTON),
        ("Invitasjoner og meldinger fra nettverket", NETWORK_BUTTON),
    ]
    await world.tap(NILSEN, offer, NETWORK_BUTTON)
    [answer] = world.live.telegram.calls_to("answerCallbackQuery")
    assert answer.ok
    [edit] = world.live.telegram.calls_to("editMessageReplyMarkup")
    assert edit.params["message_id"] == offer["message_id"]  # the buttons are taken away
    confirmation = world.telegram(NILSEN)[-1]["text"]
    assert confirmation.startswith("Du er meldt av invitasjoner og meldinger fra nettverket.")
    assert await world.stops() == {("telegram", str(NILSEN.id), "network", "keyword")}

    made = await world.broadcast("home:nilsen")
    assert (made["recipients"], made["opted_out"]) == (1, 1)
    assert world.telegram(NILSEN)[-1]["text"] == confirmation  # no broadcast came

    started = await world.command(NILSEN, "/start")
    assert started["text"].startswith("Du er meldt på igjen")
    assert await world.stops() == set()
    assert (await world.broadcast("home:nilsen"))["opted_out"] == 0
    assert world.telegram(NILSEN)[-1]["text"] == TEXT


async def test_a_telegram_group_stop_stops_that_groups_messages_only(world: World) -> None:
    await world.tap(NILSEN, await world.command(NILSEN, "/stopp"), NILSEN_BUTTON)
    assert world.telegram(NILSEN)[-1]["text"].startswith(
        "Du er meldt av meldingene fra Ressursfamilien Nilsen."
    )
    assert await world.stops() == {("telegram", str(NILSEN.id), "group:asker-rf-nilsen", "keyword")}
    chat = [("telegram", str(NILSEN.id))]
    group = await add_rows(
        world.services, chat, "Hei alle!", msg_class="group", group_id="asker-rf-nilsen"
    )
    info = await add_rows(world.services, chat, TEXT)
    await world.send_all()
    assert await world.statuses(group + info) == ["opted_out", "sent"]


async def test_a_network_stop_on_telegram_stops_a_numberless_groups_messages(
    world: World,
) -> None:
    offer = await world.command(OLSEN, "/stopp")
    baerum = f"stop:g:{group_key('baerum-nettverk')}"
    assert [data for _, data in buttons(offer)] == [baerum, NETWORK_BUTTON]
    await world.tap(OLSEN, offer, NETWORK_BUTTON)
    # Bærum's nettverk has no number of its own: the network's stop covers its messages,
    # on Telegram as by SMS (where they come from the network number).
    chat = [("telegram", str(OLSEN.id))]
    ids = await add_rows(
        world.services, chat, "Hei alle!", msg_class="group", group_id="baerum-nettverk"
    )
    await world.send_all()
    assert await world.statuses(ids) == ["opted_out"]


async def test_a_redelivered_tap_stores_and_confirms_once(world: World) -> None:
    offer = await world.command(NILSEN, "/stopp")
    update = world.live.telegram.callback_update(NILSEN, offer["message_id"], NILSEN_BUTTON)
    assert await world.live.telegram.deliver(update) == 200
    sent = len(world.telegram(NILSEN))
    assert await world.live.telegram.deliver(update) == 200  # the same update_id
    assert len(world.telegram(NILSEN)) == sent
    assert len(world.live.telegram.calls_to("answerCallbackQuery")) == 1
    assert len(await world.stops()) == 1


@pytest.mark.parametrize(
    "data",
    [
        f"stop:g:{group_key('baerum-nettverk')}",  # a group Nilsen is not in
        f"stop:g:{group_key('no-such-group')}",
        "stop:g:NOTHEX000000",
        "stop:all",
        "stop:",
    ],
)
async def test_odd_stop_button_data_is_ukjent_valg_and_stores_nothing(
    world: World, data: str
) -> None:
    offer = await world.command(NILSEN, "/stopp")
    tap = world.live.telegram.callback_update(NILSEN, offer["message_id"], NETWORK_BUTTON)
    tap["callback_query"]["data"] = data
    sent = len(world.telegram(NILSEN))
    assert await world.live.telegram.deliver(tap) == 200
    [answer] = world.live.telegram.calls_to("answerCallbackQuery")
    assert answer.params.get("text") == "Ukjent valg."
    assert len(world.telegram(NILSEN)) == sent
    assert await world.stops() == set()


async def test_telegram_hjelp_explains_and_opens_no_conversation(world: World) -> None:
    for command in ("/hjelp", "/info"):
        text = (await world.command(NILSEN, command))["text"]
        assert text.startswith("Dette er Fosterhjemstelefonen.")
        assert "/stopp" in text and "/start" in text and "67 00 00 01" in text
        assert "112 (politi)" in text and "116 111" in text
    assert await world.contacts() == 0


async def test_start_without_a_token_from_an_unlinked_user_is_as_before(world: World) -> None:
    stranger = FakeUser(7999, "Ukjent")
    assert "ugyldig" in (await world.command(stranger, "/start"))["text"]
    assert "Vi kjenner ikke igjen" in (await world.command(stranger, "/stopp"))["text"]
    assert await world.stops() == set()


async def test_start_from_a_user_who_blocked_the_bot_reaches_them_again(world: World) -> None:
    async with world.services.sessions() as session, session.begin():
        link = await session.get(TelegramLinkRow, NILSEN.id)
        assert link is not None
        link.blocked_at = world.services.clock()  # a 403 earlier: help went by SMS
    assert (await world.command(NILSEN, "/start"))["text"].startswith("Du er meldt på igjen")
    async with world.services.sessions() as session:
        link = await session.get(TelegramLinkRow, NILSEN.id)
    assert link is not None and link.blocked_at is None
    assert (await world.broadcast("home:nilsen"))["telegram"] == 1


async def test_a_plain_stopp_to_the_bot_is_help(world: World) -> None:
    """The safety rule: a message to the bot without a slash goes to the person on duty."""
    await world.command(NILSEN, "stopp")
    assert await world.contacts() == 1
    assert await world.stops() == set()


async def test_without_a_network_number_stopp_to_the_helpline_number_stops_broadcasts(
    world: World,
) -> None:
    """Broadcasts then go from the kommune's helpline number with «Svar STOPP»: an exact
    STOPP or START there is the network's keyword. HJELP there is still help."""
    text = re.sub(r"^network_number = .*\n", "", demo_text(), flags=re.MULTILINE)
    assert text != demo_text()
    await load_text(world.services, text)
    await world.sms(HANSEN[0], "STOPP", ASKER_LINE)
    assert await world.stops() == {("sms", HANSEN[0], "network", "keyword")}
    assert await world.contacts() == 0
    [(sender, answer)] = world.texts_to(HANSEN[0])
    assert sender == ASKER_LINE and answer.startswith("Du er meldt av")
    await world.broadcast("home:hansen")
    assert not any(TEXT in body for _, body in world.texts_to(HANSEN[0]))
    await world.sms(HANSEN[0], "START", ASKER_LINE)
    assert await world.stops() == set() and await world.contacts() == 0
    await world.sms(HANSEN[0], "HJELP", ASKER_LINE)
    assert await world.contacts() == 1  # a call for help: for the person on duty
