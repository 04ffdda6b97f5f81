"""The voice benchmark's figures and report: per concurrency level the service's and the
baseline's throughput and latency against the targets, then the service's memory."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from bench.figures import (
    Columns,
    Figure,
    Outcome,
    figure_table,
    outcome_document,
    percentile,
)

RATIO_TARGET = 0.40
RATIO_GOAL = 0.50
#: p99 target and goal (ms) by concurrency: from 64 callers up, and up to 8
P99_TARGETS_MS = {64: (60.0, 25.0), 8: (15.0, None)}
RSS_TARGET_MB = 150.0
COLUMNS = Columns(label=44, value=12, unit=6, decimals=2, whole_units=("", "B"))


@dataclass
class Run:
    """Latencies (s, in call order), answers and failures of driving one target."""

    latencies: list[float]
    wall_s: float = 0.0
    kinds: Counter[str] = field(default_factory=Counter)  # "ok", "HTTP 500", "fallback", ...
    first_error: str = ""
    answer_bytes: int = 0  # of the good answers

    @property
    def failures(self) -> int:
        return sum(n for kind, n in self.kinds.items() if kind != "ok")

    @property
    def rps(self) -> float:
        return len(self.latencies) / self.wall_s if self.wall_s > 0 else 0.0

    def record(self, kind: str, detail: str = "", size: int = 0) -> None:
        """Count one answer; keep the first failure's detail."""
        self.kinds[kind] += 1
        if kind == "ok":
            self.answer_bytes += size
        elif not self.first_error:
            self.first_error = f"{kind}: {detail}"[:600]


Measured = dict[int, dict[str, Run]]  # concurrency -> target name -> run


def p99_target(level: int) -> tuple[float, float | None] | None:
    """The p99 target and goal (ms) at `level` concurrent callers, if it has one."""
    if level >= max(P99_TARGETS_MS):
        return P99_TARGETS_MS[max(P99_TARGETS_MS)]
    if level <= min(P99_TARGETS_MS):
        return P99_TARGETS_MS[min(P99_TARGETS_MS)]
    return None


def _target(limit: float, goal: float | None, unit: str, sign: str = "<=") -> str:
    shown = f"{sign} {limit:g}{unit}"
    return f"{shown} (goal {goal:g})" if goal is not None else shown


def _latency_figures(
    prefix: str, label: str, run: Run, p99_limits: tuple[float, float | None] | None
) -> list[Figure]:
    ms = sorted(x * 1e3 for x in run.latencies)
    p99 = percentile(ms, 0.99)
    target = _target(*p99_limits, " ms") if p99_limits is not None else ""
    ok = p99 <= p99_limits[0] if p99_limits is not None else None
    mean_bytes = run.answer_bytes / max(run.kinds["ok"], 1)
    return [
        Figure(f"{prefix}_rps", f"{label} throughput", run.rps, "req/s"),
        Figure(f"{prefix}_p50_ms", f"{label} p50", percentile(ms, 0.5), "ms"),
        Figure(f"{prefix}_p90_ms", f"{label} p90", percentile(ms, 0.9), "ms"),
        Figure(f"{prefix}_p99_ms", f"{label} p99", p99, "ms", target, ok),
        Figure(f"{prefix}_max_ms", f"{label} max", ms[-1], "ms"),
        Figure(f"{prefix}_answer_bytes", f"{label} good answer size (mean)", mean_bytes, "B"),
    ]


def _level_figures(level: int, service: Run, bare: Run) -> list[Figure]:
    ratio = service.rps / bare.rps if bare.rps else 0.0
    p50_ratio = percentile(sorted(service.latencies), 0.5) / percentile(sorted(bare.latencies), 0.5)
    ratio_target = _target(RATIO_TARGET * 100, RATIO_GOAL * 100, " %", ">=")
    return [
        *_latency_figures(f"c{level}_baseline", f"[{level}] baseline", bare, None),
        *_latency_figures(f"c{level}_service", f"[{level}] service", service, p99_target(level)),
        Figure(
            f"c{level}_throughput_ratio_pct",
            f"[{level}] service / baseline throughput",
            ratio * 100,
            "%",
            ratio_target,
            ratio >= RATIO_TARGET,
        ),
        Figure(f"c{level}_p50_ratio", f"[{level}] service p50 / baseline p50", p50_ratio, "x"),
    ]


def outcome_of(
    warm: dict[str, Run],
    runs: Measured,
    stored: int,
    rss: float,
    expected: int,
    meta: dict[str, object],
) -> Outcome:
    """Every figure of a run, its failures and answers; `expected` contacts stored."""
    every = [*warm.values(), *(run for level in runs.values() for run in level.values())]
    failures = sum(r.failures for r in every)
    figures = [
        *(f for level, pair in runs.items() for f in _level_figures(level, *_pair(pair))),
        Figure(
            "service_rss_mb",
            "service RSS after the bench",
            rss,
            "MB",
            _target(RSS_TARGET_MB, None, " MB"),
            rss <= RSS_TARGET_MB,
        ),
        Figure(
            "failed_requests", "failed requests (incl. warm-up)", failures, "", "0", failures == 0
        ),
        Figure(
            "contacts_stored",
            "voice contacts stored by the service",
            stored,
            "",
            f"{expected:,}",
            stored == expected,
        ),
    ]
    answers: dict[str, dict[str, int]] = {}
    for name, warmed in warm.items():
        kinds = warmed.kinds + sum((level[name].kinds for level in runs.values()), Counter())
        answers[name] = dict(kinds.most_common())
    errors = (f"{name}: {r.first_error}" for name, r in _named(warm, runs))
    first = next((error for error in errors if not error.endswith(": ")), "")
    requests = sum(len(r.latencies) for r in every)
    return Outcome(figures, failures, requests, first, answers=answers, meta=meta)


def _pair(level: dict[str, Run]) -> tuple[Run, Run]:
    return level["service"], level["baseline"]


def _named(warm: dict[str, Run], runs: Measured) -> list[tuple[str, Run]]:
    named = list(warm.items())
    for level in runs.values():
        named += list(level.items())
    return named


def table(outcome: Outcome) -> str:
    m = outcome.meta
    lines = [
        f"voice webhook benchmark  backend={m['backend']}  calls={m['calls']:,}  "
        f"warm-up={m['warmup']}  concurrency={m['concurrency']}",
        f"python {m['python']} ({m['machine']}, {m['cpus']} cpus)",
        "",
        *figure_table(outcome.figures, COLUMNS),
        "",
    ]
    for name, kinds in outcome.answers.items():
        lines.append(f"{name} answers: " + ", ".join(f"{k} {n:,}" for k, n in kinds.items()))
    return "\n".join(lines)


def document(outcome: Outcome) -> dict[str, object]:
    return outcome_document(outcome, answers=outcome.answers)
