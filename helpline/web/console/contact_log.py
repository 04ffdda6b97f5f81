"""Kontaktlogg: the contact log in the user's scope, filtered, one contact's detail, and
the filtered list as CSV.

The queries are `helpline.contacts`', the same as `helpline contacts` and the JSON API
(the list: metadata, the caller masked; the detail: the caller's number and the
messages). Admins and koordinatorer only: a vakt, like anyone asking for a contact
outside their scope or one that does not exist, gets the console's 404. The list, the
detail and the export are each in the access log, with the normalised query.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from zoneinfo import ZoneInfo

from aiohttp import web

from helpline import access_log
from helpline.bootstrap import LoadedOrg
from helpline.contacts import CHANNELS, OUTCOMES, ContactFilter, list_contacts, read_contact
from helpline.web.console.filters import Form, read_form
from helpline.web.console.missing import not_found
from helpline.web.console.pages import USER, ConsoleUser, render
from helpline.web.keys import SERVICES
from rota.wallclock import OSLO, zone
from routing.access import visible_kommuner

LIST_LIMIT = 200  # rows on the page, newest first
EXPORT_LIMIT = 10_000  # rows in one CSV
FIELDS = ("kommune", "fra", "til", "kanal", "utfall", "kategori")
ROLES = frozenset({"admin", "koordinator"})

CHANNEL_NAMES = {"voice": "Telefon", "sms": "SMS", "telegram": "Telegram"}
OUTCOME_NAMES = {
    "in_progress": "Pågår",
    "answered": "Besvart",
    "voicemail": "Talemelding",
    "abandoned": "Ikke besvart",
    "closed": "Lukket uten svar",
}
ROLE_NAMES = {
    "primary": "Primærvakt",
    "backup": "Bakvakt",
    "barnevernvakt": "Barnevernvakt",
    "fallback": "Reservenummer",
}
ATTEMPT_NAMES = {
    "ringing": "Ringer",
    "accepted": "Tok samtalen",
    "no-answer": "Svarte ikke",
    "declined": "Avviste",
    "busy": "Opptatt",
    "failed": "Feilet",
    "canceled": "Avbrutt",
}
CSV_COLUMNS = (
    "id", "kanal", "kommune", "fosterhjem", "innringer", "hjelpetelefon", "startet",
    "tatt", "avsluttet", "sekunder til svar", "tatt av", "varighet (s)", "utfall",
    "kategori", "haster",
)  # fmt: skip
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def setup(app: web.Application) -> None:
    app.router.add_get("/console/kontaktlogg", contact_log)
    app.router.add_get("/console/kontaktlogg.csv", export)
    app.router.add_get(r"/console/kontaktlogg/{id:[0-9]{1,10}}", contact_page)


def _allowed(user: ConsoleUser) -> bool:
    return user.scope.role in ROLES


def _filter(
    form: Form, loaded: LoadedOrg, user: ConsoleUser, categories: tuple[str, ...], limit: int
) -> ContactFilter:
    """The form as the contact query's filter; errors (beside the fields) in `form`."""
    tz = _tz(loaded)
    since, until = form.period(tz)
    return ContactFilter(
        kommune=form.choice("kommune", visible_kommuner(loaded.org, user.scope)),
        since=since,
        until=until,
        channel=form.choice("kanal", CHANNELS),
        outcome=form.choice("utfall", OUTCOMES),
        category=form.choice("kategori", categories),
        limit=limit,
    )


async def contact_log(request: web.Request) -> web.StreamResponse:
    user = request[USER]
    services = request.app[SERVICES]
    loaded = await services.organisation()
    if not _allowed(user) or loaded is None:
        return await not_found(request)
    categories = services.settings.categories
    form = read_form(request.query, FIELDS)
    where = _filter(form, loaded, user, categories, LIST_LIMIT)
    rows: list[dict[str, object]] = []
    if not form.errors:
        async with services.sessions() as db, db.begin():
            rows = await list_contacts(db, where, user.scope)
            await access_log.record(
                db, user.reader(request), "contacts.list", where.describe(), services.clock()
            )
    tz = _tz(loaded)
    names = {k.id: k.name for k in loaded.org.kommuner}
    context = {
        "form": form.values,
        "errors": form.errors,
        "kommuner": [(k, names[k]) for k in visible_kommuner(loaded.org, user.scope)],
        "channels": CHANNEL_NAMES,
        "outcomes": OUTCOME_NAMES,
        "category_options": [(c, c) for c in categories],
        "rows": [_row(row, names, tz) for row in rows],
        "full": len(rows) == LIST_LIMIT,
        "limit": LIST_LIMIT,
        "export_query": request.query_string,
    }
    status = 400 if form.errors else 200
    return await render(request, "console/contact_log.html", context, status=status)


async def export(request: web.Request) -> web.StreamResponse:
    """The filtered contact log as CSV (semicolons, UTF-8 with a BOM: what Excel in
    Norwegian opens as it is); metadata only, as the list."""
    user = request[USER]
    services = request.app[SERVICES]
    loaded = await services.organisation()
    if not _allowed(user) or loaded is None:
        return await not_found(request)
    form = read_form(request.query, FIELDS)
    where = _filter(form, loaded, user, services.settings.categories, EXPORT_LIMIT)
    if form.errors:
        raise web.HTTPSeeOther(f"/console/kontaktlogg?{request.query_string}")
    now = services.clock()
    async with services.sessions() as db, db.begin():
        rows = await list_contacts(db, where, user.scope)
        await access_log.record(db, user.reader(request), "contacts.export", where.describe(), now)
    names = {k.id: k.name for k in loaded.org.kommuner}
    body = contacts_csv(rows, names, _tz(loaded))
    filename = f"kontaktlogg-{now.astimezone(_tz(loaded)).date().isoformat()}.csv"
    return web.Response(
        body=body.encode("utf-8-sig"),
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def contacts_csv(rows: list[dict[str, object]], names: dict[str, str], tz: ZoneInfo) -> str:
    """The contact list as CSV text, one contact a line, times local with their offset."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        home = row["foster_home"]
        writer.writerow(
            _cell(value)
            for value in (
                row["id"],
                CHANNEL_NAMES.get(str(row["channel"]), row["channel"]),
                names.get(str(row["kommune"]), row["kommune"] or ""),
                home["name"] if isinstance(home, dict) else "",
                row["caller"],
                row["helpline_number"],
                _iso(row["started_at"], tz),
                _iso(row["answered_at"], tz),
                _iso(row["ended_at"] or row["closed_at"], tz),
                row["seconds_to_answer"],
                row["answered_by"],
                row["duration_seconds"],
                OUTCOME_NAMES.get(str(row["outcome"]), row["outcome"]),
                row["category"],
                "ja" if row["urgent"] else "nei",
            )
        )
    return out.getvalue()


def _cell(value: object) -> str:
    """A CSV cell; text a spreadsheet would run as a formula is kept as text."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _iso(value: object, tz: ZoneInfo) -> str:
    return (
        datetime.fromisoformat(value).astimezone(tz).isoformat() if isinstance(value, str) else ""
    )


async def contact_page(request: web.Request) -> web.StreamResponse:
    """One contact in full; missing and out of scope answer alike (404)."""
    user = request[USER]
    services = request.app[SERVICES]
    loaded = await services.organisation()
    contact_id = int(request.match_info["id"])
    if not _allowed(user) or loaded is None or not 1 <= contact_id <= 2**31 - 1:
        return await not_found(request)
    async with services.sessions() as db, db.begin():
        found = await read_contact(db, contact_id, user.scope)
        if found is None:
            return await not_found(request)
        await access_log.record(
            db, user.reader(request), "contact.read", str(contact_id), services.clock()
        )
    tz = _tz(loaded)
    names = {k.id: k.name for k in loaded.org.kommuner}
    context = {
        "contact": _row(found, names, tz),
        "caller": found["caller"],
        "recording_seconds": found["recording_seconds"],
        "attempts": [_attempt(a, tz) for a in _list(found["attempts"])],
        "messages": [_message(m, tz) for m in _list(found["messages"])],
    }
    return await render(request, "console/contact.html", context)


def _row(row: dict[str, object], names: dict[str, str], tz: ZoneInfo) -> dict[str, object]:
    """A contact summary as the pages show it."""
    home = row["foster_home"]
    kommune = row["kommune"]
    return {
        "id": row["id"],
        "code": f"K{row['id']}",
        "channel": CHANNEL_NAMES.get(str(row["channel"]), row["channel"]),
        "kommune": names.get(str(kommune), str(kommune)) if kommune else "Ingen kommune",
        "foster_home": home["name"] if isinstance(home, dict) else "Ukjent nummer",
        "caller": row["caller"],
        "started": _shown_time(row["started_at"], tz),
        "answered": _shown_time(row["answered_at"], tz),
        "ended": _shown_time(row["ended_at"] or row["closed_at"], tz),
        "seconds_to_answer": row["seconds_to_answer"],
        "answered_by": row["answered_by"],
        "duration": row["duration_seconds"],
        "outcome": OUTCOME_NAMES.get(str(row["outcome"]), row["outcome"]),
        "category": row["category"],
        "urgent": row["urgent"],
    }


def _attempt(attempt: dict[str, object], tz: ZoneInfo) -> dict[str, object]:
    return {
        "role": ROLE_NAMES.get(str(attempt["role"]), attempt["role"]),
        "name": attempt["name"],
        "outcome": ATTEMPT_NAMES.get(str(attempt["outcome"]), attempt["outcome"]),
        "started": _shown_time(attempt["started_at"], tz),
    }


def _message(message: dict[str, object], tz: ZoneInfo) -> dict[str, object]:
    role = message["sender_role"]
    who = (
        "Fosterforelder"
        if role == "foster_parent"
        else (message["sender_name"] or "Fosterhjemstelefonen")
    )
    if role == "system":
        who = "Fosterhjemstelefonen"
    return {
        "who": who,
        "at": _shown_time(message["at"], tz),
        "body": message["body"],
        "direction": message["direction"],
    }


def _list(value: object) -> list[dict[str, object]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _shown_time(value: object, tz: ZoneInfo) -> str:
    if not isinstance(value, str):
        return ""
    return datetime.fromisoformat(value).astimezone(tz).strftime("%d.%m.%Y %H:%M")


def _tz(loaded: LoadedOrg) -> ZoneInfo:
    return zone(loaded.org.helpline.timezone or OSLO)
