"""Charts drawn as inline SVG, their geometry computed here and written by the templates.

No script and no asset: a chart is shapes in the page, and every chart is followed by
its data table, which is its text alternative. Colours are the Okabe-Ito palette, told
apart by readers with the common colour-vision deficiencies, each named in a legend.
"""

import math
from dataclasses import dataclass, field

WIDTH = 420
LABEL = 92  # room for a row's label on the left
VALUE = 36  # room for a row's total on the right
ROW = 34
BAR = 20
THIN = 6

COLOURS = {
    "answered": "#009E73",
    "holding": "#E69F00",
    "declined": "#D55E00",
    "no_response": "#4D4D4D",
    "unanswered": "#B3B3B3",
    "late": "#0072B2",
    "satisfactory": "#009E73",
    "partial": "#56B4E9",
    "evasive": "#E69F00",
    "non_responsive": "#D55E00",
    "met": "#009E73",
    "in_progress": "#56B4E9",
    "not_started": "#B3B3B3",
    "not_met": "#D55E00",
    "contested": "#CC79A7",
}


@dataclass
class Segment:
    key: str
    value: int
    x: float
    width: float
    colour: str


@dataclass
class Row:
    label: str
    y: float
    total: int
    segments: list[Segment]
    marker: Segment | None = None  # a thin bar under the row (late, contested)
    marker_y: float = 0.0


@dataclass
class Stacked:
    width: int
    height: int
    label_x: int
    value_x: float
    rows: list[Row] = field(default_factory=list)


def stacked(
    rows: list[tuple[str, list[tuple[str, int]], tuple[str, int] | None]],
) -> Stacked:
    """Horizontal stacked bars on one scale: per row a label, its segments (key, count)
    in order, and an optional thin bar beneath (key, count) on the same scale."""
    scale_max = max([sum(v for _, v in segments) for _, segments, _ in rows] + [1])
    inner = WIDTH - LABEL - VALUE
    chart = Stacked(
        width=WIDTH, height=max(ROW * len(rows), ROW) + 8, label_x=LABEL - 8, value_x=0.0
    )
    chart.value_x = LABEL + inner + 6
    for index, (label, segments, marker) in enumerate(rows):
        y = 4 + index * ROW
        x = float(LABEL)
        drawn = []
        for key, value in segments:
            width = inner * value / scale_max
            drawn.append(Segment(key, value, round(x, 2), round(width, 2), COLOURS[key]))
            x += width
        row = Row(label=label, y=y, total=sum(v for _, v in segments), segments=drawn)
        if marker is not None:
            key, value = marker
            row.marker = Segment(
                key, value, float(LABEL), round(inner * value / scale_max, 2), COLOURS[key]
            )
            row.marker_y = y + BAR + 2
        chart.rows.append(row)
    return chart


@dataclass
class Point:
    x: float
    y: float
    label: str  # the x label (the round)
    shown: str  # the value as written


@dataclass
class Line:
    width: int
    height: int
    top: float
    bottom: float
    left: float
    right: float
    ticks: list[tuple[float, str]]
    points: list[Point]
    path: str


def line(values: list[tuple[str, float | None, str]], *, maximum: float | None = None) -> Line:
    """A line over the rounds: (x label, value or None, value as written). The y axis runs
    from 0 to `maximum` (or the largest value); a round without a value is skipped."""
    width, height = 320, 180
    left, right, top, bottom = 44.0, width - 16.0, 16.0, height - 32.0
    known = [v for _, v, _ in values if v is not None]
    # counts get a whole top, at least 2, even so that its half is whole too
    top_value = maximum if maximum is not None else float(max(2, math.ceil(max([*known, 0.0]))))
    if maximum is None and top_value % 2:
        top_value += 1
    count = len(values)
    first, last = left + 24, right - 24  # the dots clear of the axis labels
    step = (last - first) / (count - 1) if count > 1 else 0.0
    points = []
    for index, (label, value, shown) in enumerate(values):
        x = first + step * index if count > 1 else (left + right) / 2
        if value is None:
            continue
        y = bottom - (bottom - top) * value / top_value
        points.append(Point(round(x, 2), round(y, 2), label, shown))
    ticks = []
    for fraction in (0.0, 0.5, 1.0):
        y = bottom - (bottom - top) * fraction
        amount = top_value * fraction
        shown = f"{amount * 100:.0f}%" if maximum == 1.0 else f"{amount:g}"
        ticks.append((round(y, 2), shown))
    path = " ".join(f"{p.x},{p.y}" for p in points)
    return Line(width, height, top, bottom, left, right, ticks, points, path)
