"""The figures a benchmark reports: nearest-rank percentiles, the table and the JSON.

Pure: `bench.rota` measures its own process's memory, so nothing here imports a service
library (aiohttp, redis, SQLAlchemy); the service benches add `bench.harness`.
"""

from __future__ import annotations

import math
import os
import platform
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field


@dataclass(frozen=True, slots=True)
class Figure:
    """One measured figure; `ok` is None when it has no target."""

    key: str
    label: str
    value: float
    unit: str
    target: str = ""
    ok: bool | None = None


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Nearest-rank quantile `q` (0 < q <= 1) of ascending `sorted_values`."""
    if not sorted_values:
        raise ValueError("no values")
    if not 0 < q <= 1:
        raise ValueError(f"quantile {q} is not in (0, 1]")
    rank = max(1, math.ceil(q * len(sorted_values)))
    return sorted_values[rank - 1]


@dataclass(frozen=True, slots=True)
class Columns:
    """How a bench lays out its figure table."""

    label: int
    value: int
    unit: int
    decimals: int = 3  # of values below 10; larger ones get 1
    whole_units: tuple[str, ...] = ("",)  # values in these units are shown as integers


def figure_table(figures: Sequence[Figure], columns: Columns) -> list[str]:
    """The figures as table lines, a header first; MISSED marks a missed target."""
    c = columns
    lines = [f"{'figure':<{c.label}}{'value':>{c.value}} {'unit':<{c.unit}} {'target':<10} status"]
    for f in figures:
        decimals = c.decimals if abs(f.value) < 10 else 1
        value = f"{f.value:,.0f}" if f.unit in c.whole_units else f"{f.value:,.{decimals}f}"
        status = "" if f.ok is None else ("ok" if f.ok else "MISSED")
        row = f"{f.label:<{c.label}}{value:>{c.value}} {f.unit:<{c.unit}} {f.target:<10} {status}"
        lines.append(row.rstrip())
    return lines


def figures_document(figures: Sequence[Figure]) -> dict[str, dict[str, object]]:
    """The figures for JSON, by key; a NaN value (nothing to measure) becomes null."""
    return {
        f.key: {**asdict(f), "value": None if math.isnan(f.value) else f.value} for f in figures
    }


def platform_meta() -> dict[str, object]:
    """Where the run ran, for the report."""
    return {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
    }


@dataclass
class Outcome:
    """Everything one service benchmark run reports: its figures, how many of how many
    requests failed and the first error, what each target answered (answer kind -> count),
    what could not be measured, and the run's facts."""

    figures: list[Figure]
    failures: int
    requests: int
    first_error: str
    answers: dict[str, dict[str, int]] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    meta: dict[str, object] = field(default_factory=dict)


def outcome_document(outcome: Outcome, **extra: object) -> dict[str, object]:
    """`outcome` as JSON: the facts, the figures, `extra`, and the failures."""
    return {
        **outcome.meta,
        "figures": figures_document(outcome.figures),
        **extra,
        "failures": {
            "count": outcome.failures,
            "requests": outcome.requests,
            "first_error": outcome.first_error or None,
        },
    }
