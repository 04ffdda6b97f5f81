"""Contact statistics: counts of contacts by hour and weekday, month, channel and outcome,
time to answer, escalations and voicemails. Pure: the caller loads the contacts' metadata
(`ContactFact`, never a body or a number) and hands in the period and the timezone.

Hours, weekdays and months are wall-clock time in the organisation's timezone: a contact
at 23:30 UTC on a Sunday in winter counts on Monday at 00. The time to answer is from the
contact's start until staff took it (`seconds_to_answer` of the contact log); the median
is the middle value (the mean of the two middle ones for an even count), the 90th
percentile is by nearest rank (the smallest value at least 90 % of the times reach).

A `Slice` names the contacts behind one bar or one cell, so the console can list them:
`matches` is the one rule both the counts and the list use.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from statistics import median
from zoneinfo import ZoneInfo

from rota.wallclock import local_midnight

CHANNELS = ("voice", "sms", "telegram")
OUTCOMES = ("in_progress", "answered", "voicemail", "abandoned", "closed")
HOURS = tuple(range(24))
WEEKDAYS = tuple(range(7))  # Monday first, as `date.weekday()`
#: The longest period one page counts (a little over three years).
MAX_DAYS = 3 * 366

CHANNEL_NAMES = {"voice": "Telefon", "sms": "SMS", "telegram": "Telegram"}
OUTCOME_NAMES = {
    "in_progress": "Pågår",
    "answered": "Besvart",
    "voicemail": "Talemelding",
    "abandoned": "Ubesvart",
    "closed": "Avsluttet",
}
WEEKDAY_NAMES = ("mandag", "tirsdag", "onsdag", "torsdag", "fredag", "lørdag", "søndag")
WEEKDAY_SHORT = ("man", "tir", "ons", "tor", "fre", "lør", "søn")
MONTH_NAMES = (
    "januar", "februar", "mars", "april", "mai", "juni",
    "juli", "august", "september", "oktober", "november", "desember",
)  # fmt: skip
MONTH_SHORT = ("jan", "feb", "mar", "apr", "mai", "jun", "jul", "aug", "sep", "okt", "nov", "des")

_MONTH = re.compile(r"([0-9]{4})-(0[1-9]|1[0-2])")


@dataclass(frozen=True, slots=True)
class ContactFact:
    """What the statistics know of one contact: metadata only."""

    id: int
    channel: str
    kommune: str | None
    started_at: datetime  # aware
    seconds_to_answer: int | None  # None: nobody took it
    outcome: str
    escalated: bool  # went past the first person of its plan


class PeriodError(ValueError):
    """A period that cannot be counted; `field` names the input (`fra` or `til`), the
    message is Norwegian, to show beside it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True, slots=True)
class Period:
    """Local dates from `first` to `last`, both included."""

    first: date
    last: date

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise PeriodError("til", "Til-datoen kan ikke være før fra-datoen.")
        if (self.last - self.first).days >= MAX_DAYS:
            raise PeriodError("til", "Perioden kan være høyst tre år.")

    def bounds(self, tz: ZoneInfo) -> tuple[datetime, datetime]:
        """The UTC instants the period starts and ends (exclusive): local midnights."""
        start = local_midnight(self.first, tz)
        end = local_midnight(self.last + timedelta(days=1), tz)
        return start.astimezone(UTC), end.astimezone(UTC)

    def months(self) -> tuple[str, ...]:
        """Every month the period touches, as `YYYY-MM`, in order."""
        months = []
        year, month = self.first.year, self.first.month
        while (year, month) <= (self.last.year, self.last.month):
            months.append(f"{year:04d}-{month:02d}")
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return tuple(months)


def default_period(today: date) -> Period:
    """The last twelve months: from the first of the month eleven months back to today."""
    year, month = today.year, today.month - 11
    if month < 1:
        year, month = year - 1, month + 12
    return Period(date(year, month, 1), today)


class SliceError(ValueError):
    """A slice that names no contacts (an hour of 25, an unknown channel); English."""


@dataclass(frozen=True, slots=True)
class Slice:
    """The contacts behind one bar or cell; None (or False) matches any."""

    weekday: int | None = None
    hour: int | None = None
    month: str | None = None  # YYYY-MM
    channel: str | None = None
    outcome: str | None = None
    escalated: bool = False  # only escalated contacts
    answered: bool = False  # only contacts staff took

    def matches(self, fact: ContactFact, tz: ZoneInfo) -> bool:
        local = fact.started_at.astimezone(tz)
        return (
            (self.weekday is None or local.weekday() == self.weekday)
            and (self.hour is None or local.hour == self.hour)
            and (self.month is None or f"{local.year:04d}-{local.month:02d}" == self.month)
            and (self.channel is None or fact.channel == self.channel)
            and (self.outcome is None or fact.outcome == self.outcome)
            and (not self.escalated or fact.escalated)
            and (not self.answered or fact.seconds_to_answer is not None)
        )

    def query(self) -> dict[str, str]:
        """The slice as URL parameters (Norwegian names, weekdays 1–7 from Monday)."""
        values = {
            "ukedag": None if self.weekday is None else str(self.weekday + 1),
            "time": None if self.hour is None else str(self.hour),
            "maned": self.month,
            "kanal": self.channel,
            "utfall": self.outcome,
            "eskalert": "ja" if self.escalated else None,
            "besvart": "ja" if self.answered else None,
        }
        return {name: value for name, value in values.items() if value is not None}

    def describe(self) -> str:
        """What the slice holds, in Norwegian, e.g. `mandag kl. 13, SMS`."""
        parts = []
        if self.weekday is not None:
            parts.append(WEEKDAY_NAMES[self.weekday])
        if self.hour is not None:
            parts.append(f"kl. {self.hour:02d}")
        if self.month is not None:
            parts.append(month_name(self.month))
        if self.channel is not None:
            parts.append(CHANNEL_NAMES[self.channel])
        if self.outcome is not None:
            parts.append(OUTCOME_NAMES[self.outcome].lower())
        if self.escalated:
            parts.append("eskalert")
        if self.answered:
            parts.append("besvart av vakt")
        return ", ".join(parts) or "alle henvendelser"


def parse_slice(params: Mapping[str, str]) -> Slice:
    """The slice of URL parameters written by `Slice.query`; `SliceError` when one is
    not a value a slice takes."""
    weekday = _number(params.get("ukedag"), 1, 7, "ukedag")
    hour = _number(params.get("time"), 0, 23, "time")
    month = params.get("maned") or None
    if month is not None and not _MONTH.fullmatch(month):
        raise SliceError("maned: expected YYYY-MM")
    channel = params.get("kanal") or None
    if channel is not None and channel not in CHANNELS:
        raise SliceError(f"kanal: expected one of {', '.join(CHANNELS)}")
    outcome = params.get("utfall") or None
    if outcome is not None and outcome not in OUTCOMES:
        raise SliceError(f"utfall: expected one of {', '.join(OUTCOMES)}")
    flags = {}
    for name in ("eskalert", "besvart"):
        value = params.get(name) or None
        if value not in (None, "ja"):
            raise SliceError(f"{name}: expected ja")
        flags[name] = value == "ja"
    return Slice(
        None if weekday is None else weekday - 1,
        hour,
        month,
        channel,
        outcome,
        flags["eskalert"],
        flags["besvart"],
    )


def _number(text: str | None, low: int, high: int, name: str) -> int | None:
    if not text:
        return None
    if not text.isascii() or not text.isdigit() or not low <= int(text) <= high:
        raise SliceError(f"{name}: expected a whole number from {low} to {high}")
    return int(text)


def month_name(month: str) -> str:
    """`2026-11` as `november 2026`."""
    year, number = month.split("-")
    return f"{MONTH_NAMES[int(number) - 1]} {year}"


@dataclass(frozen=True, slots=True)
class AnswerTimes:
    """Seconds from start until staff took the contact, over `count` taken contacts."""

    count: int
    median: float | None
    p90: int | None


def answer_times(seconds: Iterable[int]) -> AnswerTimes:
    values = sorted(seconds)
    if not values:
        return AnswerTimes(0, None, None)
    rank = math.ceil(0.9 * len(values))  # nearest rank, 1-based
    return AnswerTimes(len(values), float(median(values)), values[rank - 1])


@dataclass(frozen=True, slots=True)
class MonthRow:
    month: str
    contacts: int
    escalations: int
    voicemails: int


@dataclass(frozen=True, slots=True)
class Statistics:
    """Everything the Statistikk page shows for one kommune (or all the reader's) and
    one period."""

    period: Period
    total: int
    heatmap: tuple[tuple[int, ...], ...]  # [weekday][hour]
    months: tuple[MonthRow, ...]
    channels: tuple[tuple[str, int], ...]  # every channel, in CHANNELS order
    outcomes: tuple[tuple[str, int], ...]  # every outcome, in OUTCOMES order
    answer_times: AnswerTimes
    answer_times_by_channel: tuple[tuple[str, AnswerTimes], ...]
    escalations: int
    voicemails: int
    busiest: tuple[int, int, int] | None = field(default=None)  # (weekday, hour, count)


def aggregate(facts: Sequence[ContactFact], period: Period, tz: ZoneInfo) -> Statistics:
    """Count the contacts that started in the period (others are left out)."""
    start, end = period.bounds(tz)
    inside = [f for f in facts if start <= f.started_at < end]
    heat = [[0] * 24 for _ in WEEKDAYS]
    months = {m: [0, 0, 0] for m in period.months()}
    channels = dict.fromkeys(CHANNELS, 0)
    outcomes = dict.fromkeys(OUTCOMES, 0)
    for fact in inside:
        local = fact.started_at.astimezone(tz)
        heat[local.weekday()][local.hour] += 1
        row = months[f"{local.year:04d}-{local.month:02d}"]
        row[0] += 1
        row[1] += fact.escalated
        row[2] += fact.outcome == "voicemail"
        if fact.channel in channels:
            channels[fact.channel] += 1
        if fact.outcome in outcomes:
            outcomes[fact.outcome] += 1
    taken = [(f.channel, f.seconds_to_answer) for f in inside if f.seconds_to_answer is not None]
    by_channel = tuple((c, answer_times(s for k, s in taken if k == c)) for c in CHANNELS)
    cells = [(count, -d, -h) for d, hours in enumerate(heat) for h, count in enumerate(hours)]
    top = max(cells, default=(0, 0, 0))
    return Statistics(
        period=period,
        total=len(inside),
        heatmap=tuple(tuple(hours) for hours in heat),
        months=tuple(MonthRow(m, *counts) for m, counts in months.items()),
        channels=tuple(channels.items()),
        outcomes=tuple(outcomes.items()),
        answer_times=answer_times(s for _, s in taken),
        answer_times_by_channel=by_channel,
        escalations=sum(f.escalated for f in inside),
        voicemails=sum(f.outcome == "voicemail" for f in inside),
        busiest=(-top[1], -top[2], top[0]) if top[0] else None,
    )


def contacts_in(
    facts: Sequence[ContactFact], period: Period, where: Slice, tz: ZoneInfo
) -> list[ContactFact]:
    """The contacts of the period behind one bar or cell, in the order given."""
    start, end = period.bounds(tz)
    return [f for f in facts if start <= f.started_at < end and where.matches(f, tz)]


def duration_text(seconds: float | None) -> str:
    """Seconds as Norwegian reads them: `45 s`, `2 min 5 s`, `1 t 3 min`; `–` for none."""
    if seconds is None:
        return "–"
    whole = round(seconds)
    if whole < 60:
        return f"{whole} s"
    minutes, rest = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes} min {rest} s" if rest else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} t {minutes} min" if minutes else f"{hours} t"
