"""Statistikk: the contacts of the user's kommuner in a period, counted and charted.

The page loads the contacts' metadata (`helpline.statistics`), the pure core counts them
(`routing.statistics`) and `charts` lays out the SVG; every chart has a table of the same
numbers behind it. Each bar, cell and number links to the contacts it counts: a list under
`/console/statistikk/kontakter`, which names foster homes and is in the access log. The
page is for koordinatorer and administrators; a vakt sees the conversations of their own
inbox only.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from aiohttp import web
from multidict import MultiMapping

from helpline import access_log
from helpline.statistics import StatisticsFilter, contact_facts, contact_rows
from helpline.web.console.charts import Item, bar_chart, heatmap
from helpline.web.console.events import event_stat_rows
from helpline.web.console.pages import USER, ConsoleUser, render
from helpline.web.keys import SERVICES
from rota.wallclock import OSLO, zone
from routing.access import visible_kommuner
from routing.statistics import (
    CHANNEL_NAMES,
    MONTH_SHORT,
    OUTCOME_NAMES,
    WEEKDAY_NAMES,
    WEEKDAY_SHORT,
    Period,
    PeriodError,
    Slice,
    SliceError,
    Statistics,
    aggregate,
    contacts_in,
    default_period,
    duration_text,
    month_name,
    parse_slice,
)

PATH = "/console/statistikk"
LIST_PATH = PATH + "/kontakter"
#: Who reads the statistics: the coordinators of the kommuner and the administrators.
READERS = frozenset({"admin", "koordinator"})
#: The most contacts one list shows (the newest); the page says how many there were.
LIST_LIMIT = 500

_ISO_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_NORWEGIAN_DATE = re.compile(r"([0-9]{1,2})\.([0-9]{1,2})\.([0-9]{4})")
BAD_DATE = "Ugyldig dato. Skriv datoen som dd.mm.åååå, for eksempel 01.11.2026."
BAD_KOMMUNE = "Velg en av kommunene i lista."


def setup(app: web.Application) -> None:
    app.router.add_get(PATH, statistics_page)
    app.router.add_get(LIST_PATH, contact_list)


@dataclass(frozen=True, slots=True)
class Chosen:
    """What the form asks for: one kommune of the user's (None: all of them), a period."""

    kommune: str | None
    period: Period

    def query(self, where: Slice | None = None) -> str:
        values = {
            "kommune": self.kommune or "",
            "fra": self.period.first.isoformat(),
            "til": self.period.last.isoformat(),
            **(where.query() if where else {}),
        }
        return urlencode(values)

    def link(self, where: Slice) -> str:
        return f"{LIST_PATH}?{self.query(where)}"


def parse_date(text: str) -> date | None:
    """A date as the date field sends it (2026-11-01) or as people type it (1.11.2026)."""
    text = text.strip()
    iso = _ISO_DATE.fullmatch(text)
    typed = _NORWEGIAN_DATE.fullmatch(text)
    try:
        if iso:
            return date(int(iso[1]), int(iso[2]), int(iso[3]))
        if typed:
            return date(int(typed[3]), int(typed[2]), int(typed[1]))
    except ValueError:
        return None
    return None


def parse_choice(
    query: MultiMapping[str], kommuner: tuple[str, ...], today: date
) -> tuple[Chosen | None, dict[str, str]]:
    """The form's values, or the errors to show beside its fields (Norwegian). An empty
    form is the default: all the user's kommuner, the last twelve months."""
    errors: dict[str, str] = {}
    kommune = query.get("kommune", "") or None
    if kommune is not None and kommune not in kommuner:
        errors["kommune"] = BAD_KOMMUNE  # unknown and out of scope alike
    default = default_period(today)
    dates = {}
    for name, fallback in (("fra", default.first), ("til", default.last)):
        text = query.get(name, "")
        parsed = parse_date(text) if text.strip() else fallback
        if parsed is None:
            errors[name] = BAD_DATE
        dates[name] = parsed
    if errors:
        return None, errors
    first, last = dates["fra"], dates["til"]
    assert first is not None and last is not None
    try:
        return Chosen(kommune, Period(first, last)), {}
    except PeriodError as error:
        return None, {error.field: str(error)}


async def _chosen_or_errors(
    request: web.Request, user: ConsoleUser
) -> tuple[Chosen | None, dict[str, str], list[tuple[str, str]], ZoneInfo]:
    services = request.app[SERVICES]
    loaded = await services.organisation()
    tz = zone(loaded.org.helpline.timezone if loaded else OSLO)
    kommuner = visible_kommuner(loaded.org, user.scope) if loaded else ()
    names = {k.id: k.name for k in loaded.org.kommuner} if loaded else {}
    today = services.clock().astimezone(tz).date()
    chosen, errors = parse_choice(request.query, kommuner, today)
    return chosen, errors, [(k, names[k]) for k in kommuner], tz


async def statistics_page(request: web.Request) -> web.StreamResponse:
    user = request[USER]
    if user.scope.role not in READERS:
        return await render(request, "console/statistics_denied.html", status=403)
    chosen, errors, kommuner, tz = await _chosen_or_errors(request, user)
    context: dict[str, object] = {
        "kommuner": kommuner,
        "errors": errors,
        "form": {name: request.query.get(name, "") for name in ("kommune", "fra", "til")},
        "stats": None,
        "event_stats": None,
    }
    if chosen is None:
        return await render(request, "console/statistics.html", context, status=400)
    services = request.app[SERVICES]
    start, end = chosen.period.bounds(tz)
    where = StatisticsFilter(chosen.kommune, start, end)
    async with services.sessions() as db, db.begin():
        facts = await contact_facts(db, where, user.scope)
        loaded = await services.organisation()
        held = await event_stat_rows(db, loaded.org, user.scope, services.clock()) if loaded else []
        await access_log.record(
            db, user.reader(request), "console.statistikk", where.describe(), services.clock()
        )
    stats = aggregate(facts, chosen.period, tz)
    context.update(
        form={
            "kommune": chosen.kommune or "",
            "fra": chosen.period.first.isoformat(),
            "til": chosen.period.last.isoformat(),
        },
        **page_values(stats, chosen, dict(kommuner)),
        event_stats=[row for row in held if _within(row, chosen)],
    )
    return await render(request, "console/statistics.html", context)


def _within(row: Mapping[str, object], chosen: Chosen) -> bool:
    """Is an events row (kommune, month) in the chosen kommune and period?"""
    months = chosen.period.first.strftime("%Y-%m"), chosen.period.last.strftime("%Y-%m")
    kommune_ok = chosen.kommune is None or row["kommune"] == chosen.kommune
    return kommune_ok and months[0] <= str(row["month"]) <= months[1]


def page_values(stats: Statistics, chosen: Chosen, names: dict[str, str]) -> dict[str, object]:
    """The charts and tables of one page of statistics."""
    link = chosen.link
    months = stats.months
    heat_links = [
        [link(Slice(weekday=d, hour=h)) for h in range(24)] for d in range(len(WEEKDAY_NAMES))
    ]
    by_month = bar_chart(
        [Item(_month_label(m.month), (m.contacts,), (link(Slice(month=m.month)),)) for m in months]
    )
    channels = bar_chart(
        [Item((CHANNEL_NAMES[c],), (n,), (link(Slice(channel=c)),)) for c, n in stats.channels]
    )
    outcomes = bar_chart(
        [Item((OUTCOME_NAMES[o],), (n,), (link(Slice(outcome=o)),)) for o, n in stats.outcomes]
    )
    answer = bar_chart(
        [
            Item(
                (CHANNEL_NAMES[c],),
                (round(t.median or 0), t.p90 or 0),
                (link(Slice(channel=c, answered=True)),) * 2,
                (duration_text(t.median), duration_text(t.p90)),
            )
            for c, t in stats.answer_times_by_channel
        ],
        ("median", "90-persentil"),
    )
    escalations = bar_chart(
        [
            Item(
                _month_label(m.month),
                (m.escalations, m.voicemails),
                (
                    link(Slice(month=m.month, escalated=True)),
                    link(Slice(month=m.month, outcome="voicemail")),
                ),
            )  # fmt: skip
            for m in months
        ],
        ("eskaleringer", "talemeldinger"),
    )
    return {
        "stats": stats,
        "where": names.get(chosen.kommune or "", "alle dine kommuner"),
        "period_text": f"{_day(chosen.period.first)}–{_day(chosen.period.last)}",
        "heatmap": heatmap(stats.heatmap, WEEKDAY_SHORT, WEEKDAY_NAMES, heat_links),
        "heat_links": heat_links,
        "by_month": by_month,
        "channels": channels,
        "outcomes": outcomes,
        "answer": answer,
        "escalations": escalations,
        "month_names": {m.month: month_name(m.month) for m in months},
        "channel_names": CHANNEL_NAMES,
        "outcome_names": OUTCOME_NAMES,
        "weekday_names": WEEKDAY_NAMES,
        "duration": duration_text,
        "link": link,
        "Slice": Slice,
        "all_link": link(Slice()),
        "busiest": _busiest(stats),
    }


def _month_label(month: str) -> tuple[str, str]:
    year, number = month.split("-")
    return (MONTH_SHORT[int(number) - 1], year)


def _day(day: date) -> str:
    return day.strftime("%d.%m.%Y")


def _busiest(stats: Statistics) -> str | None:
    if stats.busiest is None:
        return None
    weekday, hour, count = stats.busiest
    return f"{WEEKDAY_NAMES[weekday]} kl. {hour:02d}–{(hour + 1) % 24:02d} ({count})"


async def contact_list(request: web.Request) -> web.StreamResponse:
    """The contacts behind one bar or cell, newest first; an audited read."""
    user = request[USER]
    if user.scope.role not in READERS:
        return await render(request, "console/statistics_denied.html", status=403)
    chosen, errors, kommuner, tz = await _chosen_or_errors(request, user)
    try:
        where = parse_slice(request.query)
    except SliceError:
        errors["utvalg"] = "Utvalget finnes ikke. Gå tilbake til statistikken og velg på nytt."
        where = Slice()
    if chosen is None or "utvalg" in errors:
        failed: dict[str, object] = {"errors": errors, "rows": [], "chosen": None, "back": PATH}
        return await render(request, "console/statistics_contacts.html", failed, status=400)
    services = request.app[SERVICES]
    start, end = chosen.period.bounds(tz)
    window = StatisticsFilter(chosen.kommune, start, end)
    async with services.sessions() as db, db.begin():
        facts = contacts_in(await contact_facts(db, window, user.scope), chosen.period, where, tz)
        newest = sorted(facts, key=lambda f: (f.started_at, f.id), reverse=True)[:LIST_LIMIT]
        rows = await contact_rows(db, [f.id for f in newest])
        target = window.describe() + ("&" + urlencode(where.query()) if where.query() else "")
        await access_log.record(
            db, user.reader(request), "console.statistikk.kontakter", target, services.clock()
        )
    names = dict(kommuner)
    shown = [
        {
            "id": row.id,
            "at": row.started_at.astimezone(tz).strftime("%d.%m.%Y %H:%M"),
            "channel": CHANNEL_NAMES.get(row.channel, row.channel),
            "kommune": names.get(row.kommune_id or "", row.kommune_name or "ukjent"),
            "home": row.foster_home_name or f"Ukjent nummer ({row.caller_masked})",
            "outcome": OUTCOME_NAMES.get(row.outcome, row.outcome),
            "answer": duration_text(
                (row.answered_at - row.started_at).total_seconds() if row.answered_at else None
            ),
        }
        for row in rows
    ]
    context: dict[str, object] = {
        "errors": {},
        "rows": shown,
        "total": len(facts),
        "chosen": chosen,
        "what": where.describe(),
        "where": names.get(chosen.kommune or "", "alle dine kommuner"),
        "period_text": f"{_day(chosen.period.first)}–{_day(chosen.period.last)}",
        "back": f"{PATH}?{chosen.query()}",
        "limit": LIST_LIMIT,
    }
    return await render(request, "console/statistics_contacts.html", context)
