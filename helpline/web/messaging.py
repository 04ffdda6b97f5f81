"""Inbound messages: `POST /twilio/sms` and `POST /telegram/webhook`.

Each inbound event is processed once (keyed on MessageSid or update_id): the decision and
the messages it sends commit together, and a retry or redelivery changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from telegram import CallbackQuery, Chat, Message, Update

from bots.telegram import NotAnUpdate, webhook_secret_ok
from helpline import network_inbound
from helpline.bootstrap import Services
from helpline.db.events import once
from helpline.db.models import OutboxRow, TelegramLinkRow
from helpline.effects import Effects, apply_effects
from helpline.foster_messages import from_foster_parent
from helpline.keywords import on_stop_button, on_telegram_command
from helpline.linking import redeem
from helpline.messages import MessageWork
from helpline.rsvp import answer_by_button, answer_by_sms
from helpline.staff_messages import from_staff, staff_command
from helpline.telegram_links import unblock
from helpline.web.keys import SERVICES
from helpline.web.twilio_auth import TWILIO_PARAMS
from rota.phones import e164_or_none
from routing import message_texts as say
from routing.buttons import (
    UNKNOWN_CHOICE,
    Category,
    Close,
    RsvpMore,
    RsvpNo,
    RsvpYes,
    StopScope,
    Take,
    Unknown,
    parse_button,
)
from routing.effects import AnswerButton, EditButtons, Outgoing
from routing.keywords import line_of, parse_command
from routing.ports import Party
from routing.staff_commands import (
    StaffSender,
    button_command,
    category_buttons,
    staff_by_phone,
    staff_on_telegram,
)

log = logging.getLogger(__name__)

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response />'
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def setup(app: web.Application) -> None:
    app.router.add_post("/twilio/sms", sms)
    app.router.add_post("/telegram/webhook", telegram_webhook)


# -- SMS -----------------------------------------------------------------------------------


async def sms(request: web.Request) -> web.Response:
    """An SMS to a helpline number, from a foster parent, an unknown number or staff; or
    to the network number or a group's own number (`helpline.network_inbound`: keywords,
    then group messages)."""
    services = request.app[SERVICES]
    form = request[TWILIO_PARAMS].form
    loaded = await services.organisation()
    if loaded is None:
        log.error("SMS received with no organisation loaded; it is not routed")
        return web.Response(status=503, text="no organisation loaded")
    sender = e164_or_none(form.get("From", "")) or form.get("From", "")
    dialled = e164_or_none(form.get("To", "")) or ""
    body = form.get("Body", "")
    effects = Effects()

    async def work(session: AsyncSession) -> str:
        conv = MessageWork(services, session, loaded, services.clock(), effects)
        staff = staff_by_phone(loaded.directory, sender)
        if line_of(loaded.directory, dialled, body) is not None:  # not a kommune's helpline
            await network_inbound.from_sms(conv, sender, dialled, body)
        elif staff is not None:
            await from_staff(conv, staff, body)
        elif not body.strip():
            _help(conv, Party("sms", sender), say.empty_message())
        elif await network_number_message(conv, sender, dialled, body):
            pass
        else:
            home = loaded.directory.homes_by_phone.get(sender)
            await from_foster_parent(conv, home, sender, dialled, body, "sms", None)
        return EMPTY_TWIML

    answer = await once(services.sessions, services.clock, f"sms:{form['MessageSid']}", work)
    await after_commit(services, effects)
    return web.Response(text=answer, content_type="application/xml")


async def network_number_message(conv: MessageWork, sender: str, dialled: str, body: str) -> bool:
    """An SMS to a kommune's helpline number that the network takes: with no network
    number, an answer naming an invitation (`JA 12`). True when taken; anything else goes
    on to the staff on duty. (Texts to the network's own numbers go to
    `helpline.network_inbound`.)"""
    return await answer_by_sms(conv, sender, dialled, body)


# -- Telegram ------------------------------------------------------------------------------


async def telegram_webhook(request: web.Request) -> web.Response:
    """A Telegram update; the secret header is compared in constant time."""
    services = request.app[SERVICES]
    bot, secret = services.telegram, services.settings.telegram_webhook_secret
    if bot is None or secret is None:
        raise web.HTTPNotFound(text="Telegram is not configured")
    if not webhook_secret_ok(request.headers.get(SECRET_HEADER), secret):
        log.warning("refused a Telegram update: wrong or missing secret")
        return web.Response(status=403, text="invalid secret")
    try:
        payload = await request.json()
    except (ValueError, RecursionError):  # not JSON, not UTF-8, or nested past all reason
        return web.Response(status=400, text="the body is not JSON")
    try:
        await bot.process_update(payload)
    except NotAnUpdate as error:
        log.warning("refused a Telegram update: %s", error)
        return web.Response(status=400, text=str(error))
    return web.json_response({})


def update_handler(services: Services) -> Callable[[Update], Awaitable[None]]:
    """The bot's `on_update`: route one update once (keyed on update_id)."""

    async def handle(update: Update) -> None:
        if not from_private_chat(update):
            return  # the bot talks in private chats only: a group is never linked or told
        loaded = await services.organisation()
        if loaded is None:
            raise RuntimeError("no organisation loaded")  # 500: Telegram redelivers later
        effects = Effects()

        async def work(session: AsyncSession) -> str:
            conv = MessageWork(services, session, loaded, services.clock(), effects)
            await route_update(conv, update)
            return ""

        await once(services.sessions, services.clock, f"tg:{update.update_id}", work)
        await after_commit(services, effects)

    return handle


async def after_commit(services: Services, effects: Effects) -> None:
    """Carry out a webhook's effects: its messages start going out at once, in the
    background (the webhook does not wait for Twilio or Telegram), then the jobs."""
    services.outbox.deliver_soon([row.id for row in effects.rows])
    await apply_effects(services, Effects(after=effects.after))


def from_private_chat(update: Update) -> bool:
    """Whether `update` is a message or a button tap in a private chat with the bot."""
    if update.callback_query is not None:
        message = update.callback_query.message
        return message is not None and message.chat.type == Chat.PRIVATE
    return update.message is not None and update.message.chat.type == Chat.PRIVATE


async def route_update(conv: MessageWork, update: Update) -> None:
    """Dispatch a Telegram update: a button, a /start link, a group context, staff or a
    foster parent."""
    if update.callback_query is not None:
        await _button(conv, update.callback_query)
    elif update.message is not None and update.message.text is not None:
        await _message(conv, update.message, update.message.text)


async def _linked(conv: MessageWork, user_id: int) -> TelegramLinkRow | None:
    return await conv.session.get(TelegramLinkRow, user_id)


def _staff(conv: MessageWork, link: TelegramLinkRow, chat_id: int) -> StaffSender | None:
    if link.kind != "person":
        return None
    return staff_on_telegram(conv.loaded.directory, link.target_id, chat_id)


async def _message(conv: MessageWork, message: Message, text: str) -> None:
    chat = Party("telegram", str(message.chat.id))
    user = message.from_user
    command = parse_command(text)
    starts = command is not None and command.keyword == "start"
    if command is not None and starts and command.argument:  # a deep link: link the account
        token = command.argument
        kind = (
            await redeem(conv.session, token, user.id, message.chat.id, conv.now) if user else None
        )
        _help(conv, chat, say.linked(kind) if kind else say.link_invalid())
        return
    link = await _linked(conv, user.id) if user else None
    if link is None:
        _help(conv, chat, say.link_invalid() if starts else say.unknown_telegram_user())
        return
    if link.blocked_at is not None:  # they write to the bot again: it reaches them
        await unblock(conv.session, link.user_id)
    if command is not None:  # /stopp, /start, /hjelp: the opt-out keywords
        await on_telegram_command(conv, command, message.chat.id, link)
        return
    replied = message.reply_to_message
    if await network_inbound.from_telegram(
        conv,
        link.kind,
        link.target_id,
        message.chat.id,
        text,
        replied.message_id if replied else None,
    ):
        return  # a group context: a reply to a group message, #G<n>, /grupper
    staff = _staff(conv, link, message.chat.id)
    if staff is not None:
        await from_staff(conv, staff, text, await _replied_contact(conv, message))
        return
    home = conv.loaded.directory.homes.get(link.target_id)
    if home is None:  # the foster home left the register
        _help(conv, chat, say.unknown_telegram_user())
        return
    await from_foster_parent(conv, home, home.phones[0], "", text, "telegram", message.chat.id)


def _help(conv: MessageWork, party: Party, text: str) -> None:
    """Answer input that reaches no conversation (an empty SMS, an unlinked user)."""
    conv.send(Outgoing(party, text, "help", None), None)


async def _replied_contact(conv: MessageWork, message: Message) -> int | None:
    """The conversation a Telegram reply answers: the notification it replies to."""
    original = message.reply_to_message
    if original is None:
        return None
    return await conv.session.scalar(
        select(OutboxRow.contact_id).where(
            OutboxRow.channel == "telegram",
            OutboxRow.to == str(message.chat.id),
            OutboxRow.provider_id == str(original.message_id),
        )
    )


async def _button(conv: MessageWork, query: CallbackQuery) -> None:
    link = await _linked(conv, query.from_user.id)
    message = query.message
    categories = conv.services.settings.categories
    choice = parse_button(query.data, len(categories))
    if isinstance(choice, RsvpYes | RsvpNo | RsvpMore):
        await _rsvp_button(conv, link, query, choice)
        return
    if isinstance(choice, StopScope) and link is not None and message is not None:
        chat_id = message.chat.id
        await on_stop_button(conv, choice, query.id, chat_id, message.message_id, link)
        return
    staff = _staff(conv, link, message.chat.id) if link and message else None
    if staff is None or message is None:  # a linked foster home knows no staff buttons
        text = UNKNOWN_CHOICE if link is not None else say.unknown_telegram_user()
        conv.effects.after.append(AnswerButton(query.id, text))
        return
    if isinstance(choice, Unknown | StopScope):
        conv.effects.after.append(AnswerButton(query.id, UNKNOWN_CHOICE))
        return
    conv.effects.after.append(AnswerButton(query.id, ""))
    match choice:
        case Take():
            await staff_command(conv, staff, button_command(choice, categories))
        case Close():
            buttons = category_buttons(choice.contact_id, categories)
            conv.effects.after.append(EditButtons(message.chat.id, message.message_id, buttons))
        case Category():
            await staff_command(conv, staff, button_command(choice, categories))
            conv.effects.after.append(EditButtons(message.chat.id, message.message_id, ()))


async def _rsvp_button(
    conv: MessageWork,
    link: TelegramLinkRow | None,
    query: CallbackQuery,
    choice: RsvpYes | RsvpNo | RsvpMore,
) -> None:
    """A foster home's tap under an invitation; anyone else's changes nothing."""
    message = query.message
    home = (
        conv.loaded.directory.homes.get(link.target_id)
        if link is not None and link.kind == "foster_home"
        else None
    )
    if home is None or message is None:
        conv.effects.after.append(AnswerButton(query.id, say.unknown_telegram_user()))
        return
    await answer_by_button(conv, home, message.chat.id, query.id, choice)
