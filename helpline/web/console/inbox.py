"""Innboks: the open message conversations a user sees, how long each has waited, and
taking, answering and closing them from the browser.

Every page works without script: forms post and redirect back, and «Oppdater» reloads.
With script (`static/console/innboks.js`, allowed by `script-src 'self'`), the list
follows `GET /console/innboks/hendelser`, a server-sent event stream
(`helpline.web.console.live`): each open stream polls the database every second (simple,
and right across processes: an SMS taken in by another worker shows as soon as it is
committed) and sends the list again when its fingerprint (`routing.inbox.version`)
changed. Every list sent is a read of personal data and is in the access log, like
every page.
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Callable
from datetime import datetime

import aiohttp_jinja2
from aiohttp import web
from aiohttp_session import Session
from sqlalchemy.ext.asyncio import AsyncSession

from helpline import access_log, inbox
from helpline.bootstrap import LoadedOrg, Services
from helpline.contacts import read_contact
from helpline.staff_messages import ConversationBusy
from helpline.web.console import live
from helpline.web.console.missing import not_found
from helpline.web.console.pages import USER, ConsoleUser, render
from helpline.web.keys import SERVICES
from rota.wallclock import zone
from routing.access import ADMIN
from routing.inbox import InboxItem, Viewer, version, waited_text
from routing.replies import Close, Reply, Take, short_code
from routing.staff_commands import involved

log = logging.getLogger(__name__)

#: A form's command from the conversation's code and the form's fields, or its error.
Make = Callable[[str, dict[str, str]], Take | Reply | Close | str]

MAX_ANSWER = 1600  # characters: Twilio's limit on one message's body
_FORM_ID = re.compile(r"[A-Za-z0-9_-]{16,64}")

NOTICES = {
    "tatt": "Du har tatt henvendelsen.",
    "svart": "Svaret er sendt til fosterforelderen.",
    "lukket": "Henvendelsen er lukket.",
}
STALE_FORM = "Skjemaet er ugyldig. Last siden på nytt, og prøv igjen."
BUSY = "Henvendelsen ble endret akkurat nå. Se over den, og prøv igjen."
REFUSALS = {
    "closed": "Henvendelsen er allerede lukket.",
    "not_involved": "Henvendelsen er tatt av en annen, eller du er ikke varslet om den.",
    "flood": "Denne samler meldinger fra mange ukjente numre og kan ikke besvares herfra.",
}
CHANNEL_NAMES = {"sms": "SMS", "telegram": "Telegram"}


def setup(app: web.Application) -> None:
    live.setup(app)
    app.router.add_get("/console/innboks", inbox_page)
    app.router.add_get("/console/innboks/hendelser", events)
    app.router.add_get(r"/console/innboks/{id:[0-9]{1,10}}", conversation_page)
    app.router.add_post(r"/console/innboks/{id:[0-9]{1,10}}/ta", take)
    app.router.add_post(r"/console/innboks/{id:[0-9]{1,10}}/svar", answer)
    app.router.add_post(r"/console/innboks/{id:[0-9]{1,10}}/lukk", close)


# -- the list ------------------------------------------------------------------------------


async def inbox_page(request: web.Request) -> web.StreamResponse:
    user = request[USER]
    services = request.app[SERVICES]
    loaded = await services.organisation()
    now = services.clock()
    found: list[InboxItem] = []
    if loaded is not None:
        async with services.sessions() as db, db.begin():
            found = await _listed(services, db, loaded, user, request, now)
    context = {
        **_list_context(loaded, found, now),
        "notice": NOTICES.get(request.query.get("ok", "")),
    }
    return await render(request, "console/inbox.html", context)


async def _listed(
    services: Services,
    db: AsyncSession,
    loaded: LoadedOrg,
    user: ConsoleUser,
    request: web.Request,
    now: datetime,
) -> list[InboxItem]:
    """The user's inbox, its read in the access log (the ids shown)."""
    viewer = _viewer(loaded, user)
    found = await inbox.visible(services, db, loaded, viewer, now) if viewer else []
    target = "contacts:" + ",".join(str(item.conversation.id) for item in found)
    await access_log.record(db, user.reader(request), "console.innboks", target, now)
    return found


def _list_context(
    loaded: LoadedOrg | None, found: list[InboxItem], now: datetime
) -> dict[str, object]:
    return {
        "items": [_shown(item, loaded, now) for item in found],
        "version": version(found),
    }


def _shown(item: InboxItem, loaded: LoadedOrg | None, now: datetime) -> dict[str, object]:
    """One conversation as the templates show it."""
    conversation, state = item.conversation, item.conversation.state
    since = item.waiting_since
    return {
        "id": conversation.id,
        "code": conversation.code,
        "foster_home": conversation.foster_home or "Ukjent avsender",
        "kommune": conversation.kommune or "Ingen kommune",
        "channel": CHANNEL_NAMES.get(item.channel, item.channel),
        "taken_by": state.taken_by,
        "answered": state.first_reply_at is not None,
        "closed": state.closed_at is not None,
        "category": state.category,
        "urgent": state.urgent,
        "started": _local(item.started_at, loaded),
        "waiting_since": since.isoformat() if since else None,
        "waited": waited_text((now - since).total_seconds()) if since else None,
    }


def _viewer(loaded: LoadedOrg, user: ConsoleUser) -> Viewer | None:
    person = loaded.directory.people.get(user.person)
    return Viewer(user.person, person.phone, user.scope) if person else None


def _local(instant: datetime, loaded: LoadedOrg | None) -> str:
    tz = zone(loaded.org.helpline.timezone) if loaded else None
    return (instant.astimezone(tz) if tz else instant).strftime("%d.%m.%Y %H:%M")


# -- the live stream -----------------------------------------------------------------------


async def events(request: web.Request) -> web.StreamResponse:
    """Server-sent events (`helpline.web.console.live`): `event: innboks` with the list's
    HTML whenever its fingerprint changes."""
    user = request[USER]

    async def changed(_session: Session, known: str) -> live.Event | None:
        return await _list_if_changed(request, user, known)

    return await live.stream(request, user, changed)


async def _list_if_changed(
    request: web.Request, user: ConsoleUser, known: str
) -> live.Event | None:
    """The list as an event if it changed since `known` (its read logged), or None."""
    services = request.app[SERVICES]
    loaded = await services.organisation()
    if loaded is None:
        return None
    now = services.clock()
    async with services.sessions() as db:
        viewer = _viewer(loaded, user)
        found = await inbox.visible(services, db, loaded, viewer, now) if viewer else []
    current = version(found)
    if current == known:
        return None
    async with services.sessions() as db, db.begin():  # the read is logged as it is sent
        ids = ",".join(str(item.conversation.id) for item in found)
        await access_log.record(
            db, user.reader(request), "console.innboks", "live:contacts:" + ids, now
        )
    html = aiohttp_jinja2.render_string(
        "console/inbox_list.html", request, _list_context(loaded, found, now)
    )
    return live.Event("innboks", current, html)


# -- one conversation and its forms --------------------------------------------------------


async def conversation_page(request: web.Request) -> web.StreamResponse:
    notice = NOTICES.get(request.query.get("ok", ""))
    return await _conversation(request, _contact_id(request), {"notice": notice})


async def _conversation(
    request: web.Request, contact_id: int | None, extra: dict[str, object], status: int = 200
) -> web.StreamResponse:
    """The conversation page (with `extra`: a notice, or a form's error and input), or
    the console's 404, the same for a missing conversation and one the user may not see."""
    user = request[USER]
    services = request.app[SERVICES]
    loaded = await services.organisation()
    viewer = _viewer(loaded, user) if loaded else None
    if loaded is None or viewer is None or contact_id is None:
        return await not_found(request)
    now = services.clock()
    async with services.sessions() as db, db.begin():
        item = await inbox.one(services, db, loaded, viewer, contact_id, now)
        # Seen through the inbox's own rule (`sees`): a koordinator notified as staff of
        # a conversation outside their kommuner reads it like the other staff notified.
        detail = await read_contact(db, contact_id, ADMIN) if item else None
        if item is None or detail is None:
            return await not_found(request)
        await access_log.record(db, user.reader(request), "contact.read", str(contact_id), now)
    staff = inbox.console_staff(loaded, user.person)
    context = {
        "item": _shown(item, loaded, now),
        "messages": _messages(detail, loaded),
        "may_act": staff is not None and involved(item.conversation, staff),
        "categories": services.settings.categories,
        "form_id": secrets.token_urlsafe(16),
        "answer_error": None,
        "category_error": None,
        "answer_text": "",
        **extra,
    }
    return await render(request, "console/inbox_conversation.html", context, status=status)


def _messages(detail: dict[str, object], loaded: LoadedOrg) -> list[dict[str, str]]:
    shown = []
    messages = detail.get("messages")
    for message in messages if isinstance(messages, list) else []:
        role, name = message["sender_role"], message["sender_name"]
        who = {"foster_parent": "Fosterforelder", "staff": name or "Vakt"}.get(
            role, "Fosterhjemstelefonen"
        )
        at = _local(datetime.fromisoformat(message["at"]), loaded)
        shown.append(
            {"who": who, "at": at, "body": message["body"], "direction": message["direction"]}
        )
    return shown


def _contact_id(request: web.Request) -> int | None:
    value = int(request.match_info["id"])
    return value if 1 <= value <= 2**31 - 1 else None


async def take(request: web.Request) -> web.StreamResponse:
    return await _command(request, lambda code, _form: Take(code), "tatt", "error")


async def answer(request: web.Request) -> web.StreamResponse:
    def command(code: str, form: dict[str, str]) -> Reply | str:
        text = form.get("svar", "").strip()
        if not text:
            return "Skriv et svar før du sender."
        if len(text) > MAX_ANSWER:
            return f"Svaret er for langt: høyst {MAX_ANSWER} tegn, dette er {len(text)}."
        return Reply(code, text)

    return await _command(request, command, "svart", "answer_error")


async def close(request: web.Request) -> web.StreamResponse:
    categories = request.app[SERVICES].settings.categories

    def command(code: str, form: dict[str, str]) -> Close | str:
        category = form.get("kategori", "")
        return Close(code, category) if category in categories else "Velg en kategori."

    return await _command(request, command, "lukket", "category_error")


async def _command(
    request: web.Request, make: Make, done: str, error_field: str
) -> web.StreamResponse:
    """A take, answer or close form: checked, then carried out through the staff relay
    once (a form sent twice acts once), then post/redirect/get."""
    user = request[USER]
    services = request.app[SERVICES]
    loaded = await services.organisation()
    contact_id = _contact_id(request)
    staff = inbox.console_staff(loaded, user.person) if loaded else None
    viewer = _viewer(loaded, user) if loaded else None
    if loaded is None or staff is None or viewer is None or contact_id is None:
        return await not_found(request)
    form = {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
    typed = {"answer_text": form.get("svar", "")}
    form_id = form.get("skjema", "")
    if _FORM_ID.fullmatch(form_id) is None:
        return await _conversation(request, contact_id, {"error": STALE_FORM}, 400)
    made = make(short_code(contact_id), form)
    if isinstance(made, str):
        return await _conversation(request, contact_id, {error_field: made, **typed}, 400)
    try:
        result = await inbox.act(services, loaded, staff, viewer, contact_id, made, form_id)
    except ConversationBusy:
        return await _conversation(request, contact_id, {"error": BUSY, **typed}, 409)
    if result == "missing":
        return await not_found(request)
    if result != "ok":
        return await _conversation(request, contact_id, {"error": REFUSALS[result], **typed}, 409)
    log.info("console: %s %s from the browser", type(made).__name__.lower(), made.code)
    if done == "lukket":
        raise web.HTTPSeeOther(f"/console/innboks?ok={done}")
    raise web.HTTPSeeOther(f"/console/innboks/{contact_id}?ok={done}")
