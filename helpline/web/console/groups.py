"""Grupper: the user's groups, their members and staff, mutes, messages and broadcasts.

Which groups a user sees, and what they may do there, is `routing.group_access`'s rule; a
group that is not the user's answers 404 exactly like one that does not exist. Members'
names and the messages are personal data: every page that shows them is in the access
log. Mute and unmute are `helpline.groups`' (as `helpline group mute|unmute`); the
messages are `helpline.groups.messages` (as `helpline group messages`); a broadcast is
planned, stored and started by `helpline.broadcasts` (as `helpline broadcast send` and
`POST /api/broadcasts`). A broadcast is counted first (a dry run, nothing stored); the
count's page carries a one-time token, so a broadcast is sent once, and only a text that
was counted.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime, time

from aiohttp import web
from aiohttp_session import get_session

from helpline import access_log, broadcasts
from helpline.bootstrap import LoadedOrg
from helpline.groups import messages, mute, mutes, unmute
from helpline.web.console.pages import USER, ConsoleUser, render
from helpline.web.keys import SERVICES
from rota.model import Group
from rota.wallclock import local_instant, zone
from routing.broadcasts import MAX_TEXT, sms_body
from routing.group_access import GroupRights, group_rights, visible_groups
from routing.groups import membership
from routing.segments import segments

PATH = "/console/grupper"
MESSAGE_LIMIT = 100
KIND_NAMES = {"ressursfamilie": "Ressursfamilie", "nettverk": "Nettverk"}
#: The session key of the broadcast counted last: its one-time token, group and text.
PLAN_KEY = "group_broadcast"

_ISO_AT = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})[T ]([0-9]{2}):([0-9]{2})")
_TYPED_AT = re.compile(r"([0-9]{1,2})\.([0-9]{1,2})\.([0-9]{4}),? +([0-9]{1,2})[:.]([0-9]{2})")

NOTICES = {
    "dempet": "{home} er dempet: meldingene deres til gruppen lagres, men sendes ikke videre.",
    "var-dempet": "{home} var allerede dempet.",
    "opphevet": "Dempingen av {home} er opphevet.",
    "ikke-dempet": "{home} var ikke dempet.",
}
TIME_ERRORS = {
    "format": "Ugyldig tidspunkt. Skriv for eksempel 01.12.2026 18:00, eller la feltet stå tomt.",
    "time": "Tidspunktet må være fra nå og høyst ett år fram i tid.",
}


def setup(app: web.Application) -> None:
    app.router.add_get(PATH, group_list)
    app.router.add_get(PATH + "/{group}", group_page)
    app.router.add_get(PATH + "/{group}/meldinger", group_messages)
    app.router.add_post(PATH + "/{group}/demp", mute_member)
    app.router.add_post(PATH + "/{group}/opphev", unmute_member)
    app.router.add_post(PATH + "/{group}/utsending", broadcast)


@dataclass(frozen=True, slots=True)
class Found:
    loaded: LoadedOrg
    group: Group
    rights: GroupRights


async def _found(request: web.Request, user: ConsoleUser) -> Found | None:
    """The group of the path; None alike for a missing one and one not the user's."""
    loaded = await request.app[SERVICES].organisation()
    group = loaded.directory.groups.get(request.match_info["group"]) if loaded else None
    rights = group_rights(group, user.scope, user.person) if group else None
    if loaded is None or group is None or rights is None:
        return None
    return Found(loaded, group, rights)


async def not_found(request: web.Request) -> web.StreamResponse:
    """The one answer for every group id that is not the user's, missing or not."""
    return await render(request, "console/group_not_found.html", status=404)


async def group_list(request: web.Request) -> web.StreamResponse:
    user = request[USER]
    services = request.app[SERVICES]
    loaded = await services.organisation()
    shown = visible_groups(loaded.org, user.scope, user.person) if loaded else ()
    kommuner = {k.id: k.name for k in loaded.org.kommuner} if loaded else {}
    network = loaded.org.helpline.network_number if loaded else None
    async with services.sessions() as db, db.begin():
        target = "groups:" + ",".join(g.id for g, _ in shown)
        await access_log.record(
            db, user.reader(request), "console.grupper", target, services.clock()
        )
    rows = [
        {
            "id": g.id,
            "name": g.name,
            "kind": KIND_NAMES[g.kind],
            "kommune": kommuner.get(g.kommune, g.kommune),
            "homes": len(g.homes),
            "number": g.number or network or "–",
        }
        for g, _ in shown
    ]
    return await render(request, "console/groups.html", {"groups": rows})


async def group_page(request: web.Request) -> web.StreamResponse:
    user = request[USER]
    found = await _found(request, user)
    if found is None:
        return await not_found(request)
    notice = _notice(found, request.query.get("ok", ""), request.query.get("hjem", ""))
    sent = request.query.get("utsending", "")
    if sent.isascii() and sent.isdigit():
        notice = f"Utsending nr. {sent} er lagret. Meldingene sendes i jevnt tempo."
    return await _show_group(request, user, found, {"notice": notice})


async def _show_group(
    request: web.Request,
    user: ConsoleUser,
    found: Found,
    extra: dict[str, object],
    status: int = 200,
) -> web.StreamResponse:
    services = request.app[SERVICES]
    group, directory = found.group, found.loaded.directory
    tz = zone(found.loaded.org.helpline.timezone)
    async with services.sessions() as db, db.begin():
        muted = await mutes(db, group.id)
        await access_log.record(
            db, user.reader(request), "console.gruppe", f"group:{group.id}", services.clock()
        )
    members = [
        {
            "id": home_id,
            "name": directory.homes[home_id].name if home_id in directory.homes else home_id,
            "role": "Ressursfamilie" if home_id == group.hub else "Medlem",
            "muted": muted[home_id].astimezone(tz).strftime("%d.%m.%Y %H:%M")
            if home_id in muted
            else None,
        }
        for home_id in group.homes
    ]
    staff = [directory.people[p].name for p in group.staff if p in directory.people]
    kommune = directory.kommuner.get(group.kommune)
    context: dict[str, object] = {
        "group": group,
        "kind": KIND_NAMES[group.kind],
        "kommune": kommune.name if kommune else group.kommune,
        "number": group.number or found.loaded.org.helpline.network_number,
        "own_number": group.number is not None,
        "members": members,
        "staff": staff,
        "may_broadcast": found.rights.broadcast,
        "errors": {},
        "text": "",
        "at": "",
        "max_text": MAX_TEXT,
        **extra,
    }
    return await render(request, "console/group.html", context, status=status)


def _notice(found: Found, key: str, home_id: str) -> str | None:
    home = found.loaded.directory.homes.get(home_id)
    if key not in NOTICES or home is None or home_id not in found.group.homes:
        return None
    return NOTICES[key].format(home=home.name)


async def group_messages(request: web.Request) -> web.StreamResponse:
    user = request[USER]
    found = await _found(request, user)
    if found is None:
        return await not_found(request)
    services = request.app[SERVICES]
    directory = found.loaded.directory
    tz = zone(found.loaded.org.helpline.timezone)
    async with services.sessions() as db, db.begin():
        rows = await messages(db, found.group.id, MESSAGE_LIMIT)
        target = f"group:{found.group.id} limit={MESSAGE_LIMIT}"
        await access_log.record(
            db, user.reader(request), "console.gruppe.meldinger", target, services.clock()
        )
    shown = []
    for m in rows:
        if m.foster_home_id is not None:
            home = directory.homes.get(m.foster_home_id)
            author = home.name if home else "Fosterhjem som ikke lenger er registrert"
        else:
            person = directory.people.get(m.sender_person_id or "")
            author = f"{person.name} (ansatt)" if person else "Ansatt som ikke lenger er registrert"
        shown.append(
            {
                "at": m.created_at.astimezone(tz).strftime("%d.%m.%Y %H:%M"),
                "author": author,
                "channel": "SMS" if m.channel == "sms" else "Telegram",
                "state": "Dempet"
                if m.muted
                else "Sendt videre"
                if m.relayed
                else "Ikke sendt videre",
                "body": None if m.content_purged_at else m.body,
            }
        )
    context = {"group": found.group, "messages": shown, "limit": MESSAGE_LIMIT}
    return await render(request, "console/group_messages.html", context)


async def mute_member(request: web.Request) -> web.StreamResponse:
    return await _moderate(request, muting=True)


async def unmute_member(request: web.Request) -> web.StreamResponse:
    return await _moderate(request, muting=False)


async def _moderate(request: web.Request, *, muting: bool) -> web.StreamResponse:
    """Mute or unmute one of the group's foster homes, then back to the group's page."""
    user = request[USER]
    found = await _found(request, user)
    if found is None:
        return await not_found(request)
    form = await request.post()
    home_id = str(form.get("hjem", ""))
    if membership(found.loaded.directory, found.group.id, home_id) != "member":
        error = {"members": "Fosterhjemmet er ikke med i denne gruppen. Ingenting er endret."}
        return await _show_group(request, user, found, {"errors": error}, status=400)
    services = request.app[SERVICES]
    async with services.sessions() as db, db.begin():
        if muting:
            by = f"console:{user.person}"
            changed = await mute(db, found.group.id, home_id, services.clock(), by)
        else:
            changed = await unmute(db, found.group.id, home_id)
    outcome = (
        ("dempet" if changed else "var-dempet")
        if muting
        else ("opphevet" if changed else "ikke-dempet")
    )
    raise web.HTTPSeeOther(f"{PATH}/{found.group.id}?ok={outcome}&hjem={home_id}")


def parse_at(text: str, timezone: str) -> datetime | None:
    """A send time as the datetime field sends it (2026-12-01T18:00) or as people type it
    (1.12.2026 18:00), wall-clock time in `timezone`; None for an empty field. ValueError
    when it is neither."""
    text = text.strip()
    if not text:
        return None
    iso, typed = _ISO_AT.fullmatch(text), _TYPED_AT.fullmatch(text)
    if iso:
        year, month, day, hour, minute = (int(iso[i]) for i in range(1, 6))
    elif typed:
        day, month, year, hour, minute = (int(typed[i]) for i in range(1, 6))
    else:
        raise ValueError("not a date and time")
    return local_instant(date(year, month, day), time(hour, minute), zone(timezone))


def _fingerprint(group_id: str, text: str, at: str) -> str:
    """What a counted broadcast was, without keeping its text in the session."""
    return hashlib.sha256("\x00".join((group_id, text, at)).encode()).hexdigest()


async def broadcast(request: web.Request) -> web.StreamResponse:
    """Count (`handling=tell`) or send (`handling=send`, with the count's token) a
    broadcast to the group."""
    user = request[USER]
    found = await _found(request, user)
    if found is None or not found.rights.broadcast:
        return await not_found(request)
    form = await request.post()
    text = str(form.get("tekst", "")).replace("\r\n", "\n")
    at_text = str(form.get("tidspunkt", "")).strip()
    services = request.app[SERVICES]
    session = await get_session(request)
    timezone = found.loaded.org.helpline.timezone
    values = {"text": text, "at": at_text}
    errors = _text_errors(text)
    try:
        at = parse_at(at_text, timezone)
    except ValueError:
        errors["tidspunkt"], at = TIME_ERRORS["format"], None
    sending = form.get("handling") == "send"
    fingerprint = _fingerprint(found.group.id, text, at_text)
    if sending and not errors:
        counted = session.pop(PLAN_KEY, None)
        if not (
            isinstance(counted, dict)
            and secrets.compare_digest(str(counted.get("token", "")), str(form.get("plan", "")))
            and counted.get("fingerprint") == fingerprint
        ):
            errors["tekst"] = (
                "Utsendingen er allerede sendt, eller ikke telt. Tell mottakerne på nytt."
            )
    if errors:
        return await _show_group(request, user, found, {"errors": errors, **values}, status=400)
    now = services.clock()
    audience = f"group:{found.group.id}"
    async with services.sessions() as db, db.begin():
        try:
            planned = await broadcasts.plan(db, found.loaded, audience, text, at, now, user.scope)
        except broadcasts.BroadcastError as error:
            field = "tidspunkt" if error.problem == "time" else "tekst"
            message = TIME_ERRORS["time"] if error.problem == "time" else _plan_error(error)
            extra: dict[str, object] = {"errors": {field: message}, **values}
            return await _show_group(request, user, found, extra, status=400)
        if sending:
            broadcast_id = await broadcasts.store(db, planned, f"console:{user.person}", now)
    if sending:
        await broadcasts.start(services, planned)
        raise web.HTTPSeeOther(f"{PATH}/{found.group.id}?utsending={broadcast_id}")
    token = secrets.token_urlsafe(16)
    session[PLAN_KEY] = {"token": token, "fingerprint": fingerprint}
    counts = planned.counts()
    tz = zone(timezone)
    context = {
        "group": found.group,
        "counts": counts,
        "segments": segments(sms_body(text)).count,
        "send_at": planned.send_at.astimezone(tz).strftime("%d.%m.%Y %H:%M"),
        "later": at is not None,
        "plan_token": token,
        **values,
    }
    return await render(request, "console/group_broadcast.html", context)


def _text_errors(text: str) -> dict[str, str]:
    if not text.strip():
        return {"tekst": "Skriv meldingen som skal sendes."}
    if len(text) > MAX_TEXT:
        return {"tekst": f"Meldingen er {len(text)} tegn. Den kan være høyst {MAX_TEXT} tegn."}
    return {}


def _plan_error(error: broadcasts.BroadcastError) -> str:
    if error.problem == "invalid":
        return "Meldingen kan ikke inneholde kontrolltegn. Skriv den på nytt."
    return "Gruppen kan ikke nås: det finnes ikke noe nummer å sende SMS fra."
