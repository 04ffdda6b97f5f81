"""Benchmark the rota engine on a national-scale organisation, against a bare baseline.

    .venv/bin/python -m bench.rota [--lookups N] [--seed S] [--json]

Figures: building the `Rota` index, `on_duty` latency over random (kommune, instant in the
year) lookups, a whole year's timeline for every kommune plus gaps, duties for every team,
a few year-long iCal feeds, and memory. The baseline does the irreducible work of a lookup (a dict
lookup and a `datetime.astimezone`) in the same run, timed the same way, so the on_duty/
baseline ratio compares across machines where absolute figures do not.
"""

from __future__ import annotations

import argparse
import gc
import json
import platform
import random
import resource
import sys
import time
import tracemalloc
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from functools import partial
from typing import TypeVar

from bench.figures import Columns, Figure, figure_table, figures_document, percentile
from bench.national import NATIONAL, national
from rota.engine import Rota
from rota.ical import person_calendar, stints, team_calendar
from rota.model import Duty, Organisation
from rota.wallclock import local_midnight, zone

P99_TARGET_US = 100.0
YEAR_TARGET_S = 5.0
WARMUP = 1_000
STAMP = datetime(2026, 12, 1, tzinfo=UTC)  # DTSTAMP of the rendered feeds

Query = tuple[str, datetime]
T = TypeVar("T")
COLUMNS = Columns(label=52, value=12, unit=5)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print a table (or JSON with `--json`); 1 when a target is missed."""
    parser = argparse.ArgumentParser(prog="python -m bench.rota", description=__doc__)
    parser.add_argument("--lookups", type=int, default=100_000, help="on_duty calls to time")
    parser.add_argument("--seed", type=int, default=2027, help="seed of the organisation")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args(argv)
    if args.lookups < 1:
        parser.error("--lookups must be at least 1")
    org, figures = run(args.lookups, args.seed)
    if args.json:
        print(json.dumps(_document(org, args, figures), indent=2, ensure_ascii=False))
    else:
        print(_table(org, args, figures))
    return 0 if all(f.ok is not False for f in figures) else 1


def run(lookups: int, seed: int) -> tuple[Organisation, list[Figure]]:
    """Every figure of one benchmark run, in the order they are reported."""
    year = NATIONAL.year
    tz = zone("Europe/Oslo")
    start, end = local_midnight(date(year, 1, 1), tz), local_midnight(date(year + 1, 1, 1), tz)
    figures: list[Figure] = []

    org, seconds = _timed(lambda: national(seed))
    figures.append(Figure("generate_s", "generate organisation", seconds, "s"))
    rota, seconds = _timed(lambda: Rota(org))
    figures.append(Figure("build_ms", "build Rota index", seconds * 1e3, "ms"))

    queries = _queries(random.Random(seed + 1), org, start, end, lookups + WARMUP)
    figures += _lookups(org, rota, queries[:WARMUP], queries[WARMUP:])
    figures += _year(org, start, end)
    figures += _memory(seed, queries[WARMUP:], start, end)
    return org, figures


def _timed(work: Callable[[], T]) -> tuple[T, float]:
    gc.collect()
    t0 = time.perf_counter()
    result = work()
    return result, time.perf_counter() - t0


def _queries(
    r: random.Random, org: Organisation, start: datetime, end: datetime, count: int
) -> list[Query]:
    ids = [k.id for k in org.kommuner]
    lo, hi = int(start.timestamp()), int(end.timestamp())
    return [(r.choice(ids), datetime.fromtimestamp(r.randrange(lo, hi), UTC)) for _ in range(count)]


def _latencies(call: Callable[[str, datetime], object], queries: Sequence[Query]) -> list[int]:
    """Nanoseconds per call, each call timed on its own."""
    clock = time.perf_counter_ns
    samples = [0] * len(queries)
    gc.collect()
    for i, (kommune, at) in enumerate(queries):
        t0 = clock()
        call(kommune, at)
        samples[i] = clock() - t0
    samples.sort()
    return samples


def _quantile(sorted_ns: Sequence[int], q: float) -> float:
    """Nearest-rank quantile, in µs."""
    return percentile(sorted_ns, q) / 1e3


def _lookups(
    org: Organisation, rota: Rota, warmup: Sequence[Query], queries: Sequence[Query]
) -> list[Figure]:
    tz = zone(org.helpline.timezone)
    table = {k.id: k for k in org.kommuner}

    def baseline(kommune: str, at: datetime) -> object:
        return table[kommune], at.astimezone(tz)

    def nothing(kommune: str, at: datetime) -> object:
        return None

    first_kommune, first_at = warmup[0]
    cold = time.perf_counter_ns()
    rota.on_duty(first_kommune, first_at)
    cold = time.perf_counter_ns() - cold
    _latencies(rota.on_duty, warmup)
    _latencies(baseline, warmup)
    engine = _latencies(rota.on_duty, queries)
    bare = _latencies(baseline, queries)
    empty = _latencies(nothing, queries)
    p50, p99 = _quantile(engine, 0.5), _quantile(engine, 0.99)
    base50 = _quantile(bare, 0.5)
    wrong = sum(rota.on_duty(k, at)[-1].role != "fallback" for k, at in queries[:1000])
    return [
        Figure("first_lookup_us", "on_duty, first call after build", cold / 1e3, "µs"),
        Figure("on_duty_p50_us", "on_duty p50", p50, "µs"),
        Figure("on_duty_p99_us", "on_duty p99", p99, "µs", f"< {P99_TARGET_US:g} µs", p99 < 100),
        Figure("on_duty_max_us", "on_duty max", engine[-1] / 1e3, "µs"),
        Figure("baseline_p50_us", "baseline p50 (dict lookup + astimezone)", base50, "µs"),
        Figure("baseline_p99_us", "baseline p99", _quantile(bare, 0.99), "µs"),
        Figure(
            "timer_p50_us", "timer + call overhead p50 (empty call)", _quantile(empty, 0.5), "µs"
        ),
        Figure("on_duty_ratio", "on_duty p50 / baseline p50", p50 / base50, "x"),
        Figure("bad_chains", "chains without fallback last (of 1,000)", wrong, "", "0", wrong == 0),
    ]


def _year(org: Organisation, start: datetime, end: datetime) -> list[Figure]:
    """A year for the whole country on a fresh Rota: timelines, gaps, duties, feeds."""
    rota = Rota(org)
    shifts, timeline_s = _timed(lambda: [rota.timeline(k.id, start, end) for k in org.kommuner])
    gaps, gaps_s = _timed(lambda: rota.gaps(start, end))
    assert isinstance(shifts, list) and isinstance(gaps, list)
    duties, duties_s = _timed(lambda: {t.id: rota.duties(t.id, start, end) for t in org.teams})
    year_s = timeline_s + gaps_s
    return [
        Figure("timeline_year_s", "year timeline, all kommuner", timeline_s, "s"),
        Figure("shifts_year", "  shifts in it", sum(len(s) for s in shifts), ""),
        Figure("gaps_year_s", "year gaps, all kommuner", gaps_s, "s"),
        Figure("gaps_found", "  gaps found", len(gaps), "", "0", not gaps),
        Figure(
            "national_year_s",
            "national year (timeline + gaps)",
            year_s,
            "s",
            f"< {YEAR_TARGET_S:g} s",
            year_s < YEAR_TARGET_S,
        ),
        Figure("duties_year_s", "year duties, all teams", duties_s, "s"),
        Figure("duties_count", "  duties in it", sum(len(d) for d in duties.values()), ""),
        *_feeds(org, duties),
    ]


def _feeds(org: Organisation, duties: dict[str, list[Duty]]) -> list[Figure]:
    """A year's iCal feed for the busiest team, a median kommune team and a person in two
    teams (all teams would take long: icalendar costs a few hundred µs per event)."""
    size = {team: len(stints(d)) for team, d in duties.items()}
    local = sorted((t.id for t in org.teams if t.kind == "kommune"), key=lambda t: size[t])
    person = next(p for p in org.people if len(p.teams) > 1)
    feeds: list[tuple[str, str, Callable[[], bytes]]] = [
        (
            f"ical_{key}_ms",
            f"iCal year feed, {label}",
            partial(team_calendar, org, team, duties[team], stamp=STAMP),
        )
        for key, label, team in (
            ("busiest", "busiest team", max(size, key=lambda t: size[t])),
            ("median", "median kommune team", local[len(local) // 2]),
        )
    ]
    mine = {team: duties[team] for team in person.teams}
    render = partial(person_calendar, org, person.id, mine, stamp=STAMP)
    feeds.append(("ical_person_ms", "iCal year feed, person in two teams", render))
    figures: list[Figure] = []
    total_s, total_events = 0.0, 0
    for key, label, work in feeds:
        feed, seconds = _timed(work)
        events = feed.count(b"BEGIN:VEVENT")
        figures.append(Figure(key, f"{label} ({events:,} events)", seconds * 1e3, "ms"))
        total_s, total_events = total_s + seconds, total_events + events
    per_event = total_s / max(total_events, 1) * 1e6
    figures.append(Figure("ical_event_us", "  iCal rendering per event", per_event, "µs"))
    return figures


def _memory(seed: int, queries: Sequence[Query], start: datetime, end: datetime) -> list[Figure]:
    """Peaks under tracemalloc (a separate pass: tracing slows everything down)."""
    gc.collect()
    tracemalloc.start()
    try:
        org = national(seed)
        org_mib = tracemalloc.get_traced_memory()[0] / 2**20
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        rota = Rota(org)
        for kommune, at in queries[:10_000]:
            rota.on_duty(kommune, at)
        lookup_mib = (tracemalloc.get_traced_memory()[1] - before) / 2**20
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        year = [rota.timeline(k.id, start, end) for k in org.kommuner]
        rota.gaps(start, end)
        year_mib = (tracemalloc.get_traced_memory()[1] - before) / 2**20
        del year
    finally:
        tracemalloc.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    rss_mib = rss / 2**20 if sys.platform == "darwin" else rss / 2**10  # bytes vs KiB
    return [
        Figure("org_mib", "organisation in memory", org_mib, "MiB"),
        Figure("lookup_peak_mib", "tracemalloc peak: Rota + 10,000 lookups", lookup_mib, "MiB"),
        Figure("year_peak_mib", "tracemalloc peak: year timeline + gaps", year_mib, "MiB"),
        Figure("maxrss_mib", "process max RSS (getrusage)", rss_mib, "MiB"),
    ]


def _describe(org: Organisation) -> dict[str, int]:
    return {
        "kommuner": len(org.kommuner),
        "teams": len(org.teams),
        "barnevernvakter": sum(t.kind == "barnevernvakt" for t in org.teams),
        "staff": len(org.people),
        "foster_homes": len(org.foster_homes),
        "overrides": len(org.overrides),
    }


def _document(org: Organisation, args: argparse.Namespace, figures: list[Figure]) -> object:
    return {
        "seed": args.seed,
        "lookups": args.lookups,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "organisation": _describe(org),
        "figures": figures_document(figures),
    }


def _table(org: Organisation, args: argparse.Namespace, figures: list[Figure]) -> str:
    size = _describe(org)
    lines = [
        f"rota benchmark  seed={args.seed}  lookups={args.lookups:,}  "
        f"python {platform.python_version()} ({platform.machine()})",
        "organisation: " + ", ".join(f"{n:,} {what.replace('_', ' ')}" for what, n in size.items()),
        "",
        *figure_table(figures, COLUMNS),
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
