"""The geometry of the Statistikk page's charts: where each bar, cell and label goes in an
SVG view box. Pure (numbers in, shapes out); the template `console/charts.html` draws them.

Every shape carries its value as text and its link, so a chart is never read by colour
alone: bars have their count above them, heatmap cells their count inside, a second
series is hatched and named in the legend.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

#: Heights in view-box units; the SVG scales to the page's width.
PLOT_HEIGHT = 160
TOP = 24  # room for the value above the tallest bar
LABEL_SPACE = 40  # two lines of category labels under the bars
LABEL_CHAR = 7.5  # the width of a label's character, at the labels' 12 px
HEAT_CELL = 28
HEAT_LEFT = 44  # room for the weekday labels
HEAT_TOP = 22  # room for the hour labels
#: The heatmap's steps of intensity; 0 is an empty cell.
HEAT_LEVELS = 4


@dataclass(frozen=True, slots=True)
class Item:
    """One category with its series' values and links (one value for a plain bar chart)."""

    label: tuple[str, ...]  # one or two lines under the bars
    values: tuple[int, ...]
    hrefs: tuple[str, ...]
    texts: tuple[str, ...] = ()  # what each bar's label says; the value by default


@dataclass(frozen=True, slots=True)
class Bar:
    series: int
    x: float
    y: float
    width: float
    height: float
    text: str
    href: str
    name: str  # what the bar stands for, for its <title>


@dataclass(frozen=True, slots=True)
class Label:
    x: float
    lines: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class BarChart:
    width: float
    height: float
    baseline: float
    bars: tuple[Bar, ...]
    labels: tuple[Label, ...]
    series: tuple[str, ...]  # names, for the legend when more than one


def bar_chart(items: Sequence[Item], series: Sequence[str] = ("",)) -> BarChart:
    """Vertical bars, one group per item with one bar per series, scaled to the largest
    value (an all-zero chart draws flat bars)."""
    count = len(series)
    bar_width = 26.0 if count == 1 else 20.0
    longest = max((len(line) for item in items for line in item.label), default=0)
    slot = max(48.0, bar_width * count + 16, longest * LABEL_CHAR + 12)
    largest = max((v for item in items for v in item.values), default=0)
    width = max(slot * len(items), 240.0)
    baseline = TOP + PLOT_HEIGHT
    bars = []
    labels = []
    for index, item in enumerate(items):
        left = index * slot + (slot - bar_width * count) / 2
        for s, value in enumerate(item.values):
            height = PLOT_HEIGHT * value / largest if largest else 0.0
            text = item.texts[s] if item.texts else str(value)
            name = " ".join(item.label) + (f", {series[s]}" if series[s] else "") + f": {text}"
            bars.append(
                Bar(s, left + s * bar_width, baseline - height, bar_width - 2, height, text,
                    item.hrefs[s], name)
            )  # fmt: skip
        labels.append(Label(index * slot + slot / 2, item.label))
    return BarChart(width, baseline + LABEL_SPACE, baseline, tuple(bars), tuple(labels),
                    tuple(series))  # fmt: skip


@dataclass(frozen=True, slots=True)
class Cell:
    x: float
    y: float
    size: float
    level: int  # 0 (none) .. HEAT_LEVELS
    count: int
    href: str
    name: str


@dataclass(frozen=True, slots=True)
class Heatmap:
    width: float
    height: float
    cells: tuple[Cell, ...]
    rows: tuple[tuple[float, str], ...]  # (y, weekday label)
    columns: tuple[tuple[float, str], ...]  # (x, hour label)


def heat_level(count: int, largest: int) -> int:
    """The intensity step of a count: 0 for none, else 1..HEAT_LEVELS by its share of
    the largest (the largest is always the top step)."""
    if count <= 0 or largest <= 0:
        return 0
    return max(1, -(-HEAT_LEVELS * count // largest))  # ceiling


def heatmap(
    counts: Sequence[Sequence[int]],
    rows: Sequence[str],
    row_names: Sequence[str],
    hrefs: Sequence[Sequence[str]],
) -> Heatmap:
    """Rows of cells (weekdays × hours), each with its count and link."""
    largest = max((c for row in counts for c in row), default=0)
    cells = []
    for r, row in enumerate(counts):
        for h, count in enumerate(row):
            cells.append(
                Cell(HEAT_LEFT + h * HEAT_CELL, HEAT_TOP + r * HEAT_CELL, HEAT_CELL - 2,
                     heat_level(count, largest), count, hrefs[r][h],
                     f"{row_names[r]} kl. {h:02d}: {count}")
            )  # fmt: skip
    hours = len(counts[0]) if counts else 0
    return Heatmap(
        HEAT_LEFT + hours * HEAT_CELL,
        HEAT_TOP + len(counts) * HEAT_CELL,
        tuple(cells),
        tuple((HEAT_TOP + r * HEAT_CELL + HEAT_CELL / 2, label) for r, label in enumerate(rows)),
        tuple((HEAT_LEFT + h * HEAT_CELL + HEAT_CELL / 2, f"{h:02d}") for h in range(hours)),
    )
