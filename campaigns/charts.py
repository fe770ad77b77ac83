"""The campaign page's charts, drawn on the server as inline SVG: no script, no third-party code.

These functions only lay out shapes (in the SVG's own coordinates; the image
scales to the page's width); the templates draw them, each chart beside a
table of the same figures for screen readers. Colours keep a 3:1 contrast
against white (WCAG 1.4.11), and a legend in words says what each one means.
"""

import math
from dataclasses import dataclass

from .models import Call
from .selectors import NOT_ANSWERED, OutcomeBucket

OUTCOME_COLOURS = {
    Call.Outcome.COMPLETED_SCRIPT: "#0e7c66",
    Call.Outcome.TRANSFERRED: "#1f4fd8",
    Call.Outcome.NOT_INTERESTED: "#5b4a9e",
    Call.Outcome.VOICEMAIL: "#8a4b00",
    Call.Outcome.OPTED_OUT: "#b3261e",
    Call.Outcome.ABANDONED: "#14213d",
    Call.Outcome.FAILED: "#a1126c",
    NOT_ANSWERED: "#6b6f7b",
}
OUTCOME_LABELS = {**dict(Call.Outcome.choices), NOT_ANSWERED: "Not answered"}

WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 44, 8, 12, 36
X_LABELS = 6


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    width: float
    height: float
    colour: str
    title: str


@dataclass(frozen=True)
class Label:
    x: float
    y: float
    text: str


@dataclass(frozen=True)
class Columns:
    width: int
    height: int
    rects: list[Rect]
    x_labels: list[Label]
    y_ticks: list[Label]
    left: float  # where the plot starts, right of the axis labels
    baseline: float
    legend: list[tuple[str, str]]  # (colour, label) of the outcomes shown
    rows: list[tuple[str, list[int], int]]  # the table: (bucket, count per legend entry, total)


def nice_ceiling(value: int) -> int:
    """The axis' top: 1, 2 or 5 times a power of ten, at least `value`."""
    if value <= 1:
        return 1
    power = 10 ** math.floor(math.log10(value))
    return next(step * power for step in (1, 2, 5, 10) if step * power >= value)


def bucket_label(bucket: OutcomeBucket, unit: str) -> str:
    return f"{bucket.start:%H:00}" if unit == "hour" else f"{bucket.start:%-d %b}"


def outcome_columns(unit: str, buckets: list[OutcomeBucket]) -> Columns | None:
    """Calls ended per hour or day, one column per bucket, stacked by outcome."""
    if not buckets:
        return None
    shown = [o for o in OUTCOME_COLOURS if any(b.counts.get(o) for b in buckets)]
    top = nice_ceiling(max(b.total for b in buckets))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / len(buckets)
    rects = []
    for i, bucket in enumerate(buckets):
        y = TOP + plot_h
        for outcome in shown:
            count = bucket.counts.get(outcome, 0)
            if not count:
                continue
            height = plot_h * count / top
            y -= height
            title = f"{bucket_label(bucket, unit)}: {count} {OUTCOME_LABELS[outcome].lower()}"
            x = round(LEFT + i * slot + slot * 0.15, 2)
            rects.append(Rect(x, round(y, 2), round(slot * 0.7, 2), round(height, 2), OUTCOME_COLOURS[outcome], title))
    every = max(1, math.ceil(len(buckets) / X_LABELS))
    x_labels = [
        Label(round(LEFT + (i + 0.5) * slot, 2), HEIGHT - BOTTOM + 18, bucket_label(b, unit))
        for i, b in enumerate(buckets)
        if i % every == 0
    ]
    y_ticks = [Label(LEFT - 6, round(TOP + plot_h * (1 - f), 2), f"{round(top * f):,}") for f in (0, 0.5, 1)]
    rows = [(bucket_label(b, unit), [b.counts.get(o, 0) for o in shown], b.total) for b in buckets if b.total]
    legend = [(OUTCOME_COLOURS[o], OUTCOME_LABELS[o]) for o in shown]
    return Columns(WIDTH, HEIGHT, rects, x_labels, y_ticks, LEFT, TOP + plot_h, legend, rows)


@dataclass(frozen=True)
class Bar:
    label: str
    count: int
    percent: float  # of the largest, for the bar's length


def refusal_bars(refusals: list[dict]) -> list[Bar]:
    """Gate refusals by reason ({"label", "count"}, as the progress figures give them), the largest a full-length bar."""
    if not refusals:
        return []
    largest = max(r["count"] for r in refusals)
    return [Bar(r["label"], r["count"], round(100 * r["count"] / largest, 1)) for r in refusals]
