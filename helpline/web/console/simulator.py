"""Telefonsimulator: virtual phones for the organisation's foster homes and staff, in
sandbox mode only (404 otherwise). A Dev Phone that needs no Twilio or Telegram account.

Texting or ringing as one of the phones runs `helpline simulate`'s simulator against this
same service: signed webhooks to its own `/twilio/...` routes, over the socket this
request came in on. Each phone shows what the service sent it (the sandbox outbox: the
receipt, the notification, the relayed answer, the escalation, a login code) and what
it did and heard in the calls this browser made (kept in the session). The page works
without script: send, and the answer shows the phones as they are now; «Oppdater» shows
what came since (an escalation after the deadline, an answer from another phone). With
script (`static/console/telefonsimulator.js`), the screens follow
`GET /console/telefonsimulator/hendelser`, a server-sent event stream
(`helpline.web.console.live`) that polls the outbox every second and sends the screens
again when they changed; every update sent is in the access log, like the page.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import aiohttp
import aiohttp_jinja2
from aiohttp import web
from aiohttp_session import Session, get_session
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from helpline import access_log
from helpline.bootstrap import LoadedOrg
from helpline.db.models import OutboxRow
from helpline.simulator import AnswerPolicy, Endpoint, ServiceUnreachable, simulate_call
from helpline.simulator.outbox import ServiceOutbox
from helpline.simulator.sms import simulate_sms
from helpline.web.console import live
from helpline.web.console.pages import USER, ConsoleUser, render
from helpline.web.console.simulator_view import Line, Phone, call_events, phones, service_lines
from helpline.web.keys import SERVICES
from helpline.web.twilio_auth import signing_token
from rota.phones import readable_phone
from rota.wallclock import zone
from routing.register_scope import has_register

log = logging.getLogger(__name__)

PATH = "/console/telefonsimulator"
EVENTS = "simulator_events"  # session field: [[iso instant, number, text], ...]
MAX_EVENTS = 200
SHOWN_PER_PHONE = 12
MAX_TEXT = 1600
#: Who picks up a simulated call (`helpline simulate call --answer`), as the form offers it.
ANSWERS = {
    "first": "Den første som ringes, tar telefonen og trykker 1",
    "second": "Den første svarer ikke, den andre tar telefonen",
    "decline:first": "Den første tar telefonen, men trykker ikke 1",
    "none": "Ingen svarer (talemelding)",
}
ERRORS = {
    "text": "Skriv en melding.",
    "long": f"Meldingen kan være på høyst {MAX_TEXT} tegn.",
    "line": "Velg et nummer i listen.",
    "failed": "Tjenesten svarte med en feil. Se tjenestens logg.",
    "unreachable": "Fikk ikke kontakt med tjenesten.",
}
KINDS = {"sms": "SMS", "telegram": "Telegram"}


@dataclass(frozen=True, slots=True)
class Shown:
    """One line on a phone's screen."""

    at: str  # local time, as shown
    meta: str
    body: str
    sort: str  # ISO instant (UTC), for the order


def setup(app: web.Application) -> None:
    live.setup(app)
    app.router.add_get(PATH, simulator_page)
    app.router.add_get(PATH + "/hendelser", events)
    app.router.add_post(PATH + "/sms", sms_sent)
    app.router.add_post(PATH + "/ring", call_made)


async def _open(request: web.Request) -> tuple[ConsoleUser, LoadedOrg]:
    """The user and the organisation; 404 outside sandbox mode, and for a vakt, who has
    no Register either: the phones show every message of their kommuners' foster homes."""
    services = request.app[SERVICES]
    loaded = await services.organisation()
    user = request[USER]
    if not services.settings.sandbox or loaded is None or not has_register(user.scope):
        raise web.HTTPNotFound()
    return user, loaded


async def simulator_page(request: web.Request) -> web.StreamResponse:
    user, loaded = await _open(request)
    return await _page(request, user, loaded)


async def _page(
    request: web.Request,
    user: ConsoleUser,
    loaded: LoadedOrg,
    *,
    errors: Mapping[str, str] | None = None,
    values: Mapping[str, str] | None = None,
    status: int = 200,
) -> web.StreamResponse:
    services = request.app[SERVICES]
    session = await get_session(request)
    async with services.sessions() as db, db.begin():
        await access_log.record(
            db, user.reader(request), "console.telefonsimulator", "outbox", services.clock()
        )
        shown, screens = await _screens(db, loaded, user, session)
    lines = service_lines(loaded.org)
    context = {
        "phones": shown,
        "screens": screens,
        "version": live.fingerprint(_screens_html(request, shown, screens)),
        "lines": lines,
        "lines_for": {p.number: _lines_for(p, loaded, lines) for p in shown},
        "answers": ANSWERS,
        "errors": errors or {},
        "values": values or {},
        "notice": session.pop("simulator_notice", None),
        "readable": readable_phone,
    }
    return await render(request, "console/simulator.html", context, status=status)


async def _screens(
    db: AsyncSession, loaded: LoadedOrg, user: ConsoleUser, session: Session
) -> tuple[tuple[Phone, ...], dict[str, list[Shown]]]:
    """The user's phones and what each shows, newest first: its SMS from the sandbox
    outbox and this browser's calls (kept in its session)."""
    shown = phones(loaded.org, user.scope)
    tz = zone(loaded.org.helpline.timezone)
    names = {line.number: line.label for line in service_lines(loaded.org)}
    names |= {p.number: p.title for p in shown}
    screens: dict[str, list[Shown]] = {p.number: [] for p in shown}
    rows = await db.scalars(
        select(OutboxRow)
        .where(OutboxRow.channel == "sms", OutboxRow.to.in_(list(screens)))
        .order_by(OutboxRow.id.desc())
        .limit(SHOWN_PER_PHONE * len(screens))
    )
    for row in rows:
        sender = names.get(row.sender, readable_phone(row.sender))
        meta = f"SMS fra {sender}" + (" (venter)" if row.status == "pending" else "")
        screens[row.to].append(_shown(row.created_at, tz, meta, row.body))
    for at, number, text in _events(session):
        if number in screens:
            screens[number].append(_shown(datetime.fromisoformat(at), tz, "Anrop", text))
    for number, screen in screens.items():
        screens[number] = sorted(screen, key=lambda s: s.sort, reverse=True)[:SHOWN_PER_PHONE]
    return shown, screens


def _screens_html(
    request: web.Request, shown: Sequence[Phone], screens: Mapping[str, list[Shown]]
) -> str:
    context = {"phones": shown, "screens": screens}
    return aiohttp_jinja2.render_string("console/simulator_screens.html", request, context)


async def events(request: web.Request) -> web.StreamResponse:
    """Server-sent events (`helpline.web.console.live`): `event: telefoner` with every
    phone's screen whenever one of them changed. Sandbox only, in the page's scope."""
    user, _ = await _open(request)
    services = request.app[SERVICES]

    async def changed(session: Session, known: str) -> live.Event | None:
        loaded = await services.organisation()
        if loaded is None:
            return None
        async with services.sessions() as db:
            shown, screens = await _screens(db, loaded, user, session)
        html = _screens_html(request, shown, screens)
        current = live.fingerprint(html)
        if current == known:
            return None
        async with services.sessions() as db, db.begin():  # the read is logged as it is sent
            reader, now = user.reader(request), services.clock()
            await access_log.record(db, reader, "console.telefonsimulator", "live:outbox", now)
        return live.Event("telefoner", current, html)

    return await live.stream(request, user, changed)


def _shown(at: datetime, tz: ZoneInfo, meta: str, body: str) -> Shown:
    local = at.astimezone(tz)
    return Shown(local.strftime("%d.%m. %H:%M:%S"), meta, body, at.isoformat())


def _lines_for(phone: Phone, loaded: LoadedOrg, lines: Sequence[Line]) -> list[Line]:
    """The lines a phone offers, its own kommune's helpline number first."""
    own = {n for k in loaded.org.kommuner if k.id == phone.kommune for n in k.numbers}
    return sorted(lines, key=lambda line: line.number not in own)


def _events(session: Session) -> list[list[str]]:
    events = session.get(EVENTS)
    return events if isinstance(events, list) else []


def _remember(session: Session, now: datetime, events: list[tuple[str, str]]) -> None:
    kept = [*_events(session), *([now.isoformat(), n, text] for n, text in events)]
    session[EVENTS] = kept[-MAX_EVENTS:]


async def _form(
    request: web.Request, user: ConsoleUser, loaded: LoadedOrg
) -> tuple[Phone, str, dict[str, str]]:
    """The phone playing (404 when it is not one of the user's) and the line it uses."""
    form = await request.post()
    values = {key: str(form.get(key, "")) for key in ("telefon", "til", "tekst", "svar")}
    phone = next((p for p in phones(loaded.org, user.scope) if p.slug == values["telefon"]), None)
    if phone is None:
        raise web.HTTPNotFound()
    return phone, values["til"], values


def _endpoint(request: web.Request) -> Endpoint:
    """This service, reached on the socket the request came in on, signed for its public
    URL as Twilio (here: the sandbox) signs."""
    settings = request.app[SERVICES].settings
    base = settings.public_url
    sockname = request.transport.get_extra_info("sockname") if request.transport else None
    if isinstance(sockname, tuple) and len(sockname) >= 2:
        host = f"[{sockname[0]}]" if ":" in str(sockname[0]) else sockname[0]
        base = f"http://{host}:{sockname[1]}"
    return Endpoint.at(base, public_url=settings.public_url, auth_token=signing_token(settings))


async def sms_sent(request: web.Request) -> web.StreamResponse:
    user, loaded = await _open(request)
    phone, to, values = await _form(request, user, loaded)
    text = values["tekst"].strip()
    error = _sms_error(text, to, loaded)
    if error:
        errors = {phone.slug + "-sms": ERRORS[error]}
        return await _page(request, user, loaded, errors=errors, values=values, status=400)
    services = request.app[SERVICES]
    outbox = ServiceOutbox(services.sessions, services.clock, reader=user.reader(request))
    try:
        async with aiohttp.ClientSession() as http:
            result = await simulate_sms(
                http, _endpoint(request), outbox, sender=phone.number, to=to, body=text
            )
    except ServiceUnreachable:
        log.error("telefonsimulator: the service could not be reached on its own socket")
        errors = {phone.slug + "-sms": ERRORS["unreachable"]}
        return await _page(request, user, loaded, errors=errors, values=values, status=502)
    session = await get_session(request)
    if not result.ok:
        log.warning("telefonsimulator: the SMS webhook failed (%s)", result.outcome)
        errors = {phone.slug + "-sms": ERRORS["failed"]}
        return await _page(request, user, loaded, errors=errors, values=values, status=502)
    count = len(result.delivered)
    session["simulator_notice"] = (
        f"SMS sendt fra {phone.title}. Tjenesten sendte {count} "
        f"{'melding' if count == 1 else 'meldinger'} ut."
    )
    raise web.HTTPSeeOther(f"{PATH}#{phone.slug}")


def _sms_error(text: str, to: str, loaded: LoadedOrg) -> str | None:
    if not text:
        return "text"
    if len(text) > MAX_TEXT:
        return "long"
    if to not in {line.number for line in service_lines(loaded.org)}:
        return "line"
    return None


async def call_made(request: web.Request) -> web.StreamResponse:
    user, loaded = await _open(request)
    phone, to, values = await _form(request, user, loaded)
    answer = values["svar"]
    if answer not in ANSWERS or to not in {line.number for line in service_lines(loaded.org)}:
        errors = {phone.slug + "-ring": ERRORS["line"]}
        return await _page(request, user, loaded, errors=errors, values=values, status=400)
    try:
        async with aiohttp.ClientSession() as http:
            transcript = await simulate_call(
                http,
                _endpoint(request),
                caller=phone.number,
                called=to,
                policy=AnswerPolicy.parse(answer),
            )
    except ServiceUnreachable:
        log.error("telefonsimulator: the service could not be reached on its own socket")
        errors = {phone.slug + "-ring": ERRORS["unreachable"]}
        return await _page(request, user, loaded, errors=errors, values=values, status=502)
    session = await get_session(request)
    now = request.app[SERVICES].clock()
    _remember(session, now, call_events(phone.number, transcript.lines))
    outcome = "Samtalen er slutt." if transcript.ok else ERRORS["failed"]
    session["simulator_notice"] = f"{phone.title} ringte. {outcome}"
    raise web.HTTPSeeOther(f"{PATH}#{phone.slug}")
