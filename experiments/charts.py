"""Geometry for the dashboard's two charts, drawn as server-side SVG by the templates.

No JavaScript and no styles in the markup (colours come from classes in
``static/css/experiments.css``), so the charts work under a strict CSP, print,
and are read by screen readers through their ``<title>``/``<desc>`` and the data
table next to each. Series differ by dash pattern and marker as well as colour.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .analysis import ExperimentResults

SERIES_COUNT = 6  # series-0 .. series-5 in experiments.css; more arms reuse them


def _pct(value: float) -> str:
    return f"{value * 100:.1f}%"


@dataclass(frozen=True)
class RateRow:
    label: str
    series: int
    y: float
    cap_top: float
    cap_bottom: float
    x: float | None
    x_low: float
    x_high: float
    text: str
    is_control: bool


def opt_in_chart(results: ExperimentResults) -> dict:
    """Opt-in rate per arm as a dot with its 95% interval, on a 0-100% axis (never zoomed)."""
    width, left, right, top, row_height = 680, 190, 24, 28, 40
    plot = width - left - right
    height = top + row_height * max(len(results.arms), 1) + 34

    def x_of(rate: float) -> float:
        return round(left + rate * plot, 1)

    rows = []
    for index, arm in enumerate(results.arms):
        low, high = arm.opt_in_ci
        y = top + row_height * index + row_height / 2
        rows.append(
            RateRow(
                label=arm.variant.key + (" (control)" if arm.is_control else ""),
                series=index % SERIES_COUNT,
                y=y,
                cap_top=y - 6,
                cap_bottom=y + 6,
                x=x_of(arm.opt_in_rate) if arm.opt_in_rate is not None else None,
                x_low=x_of(low),
                x_high=x_of(high),
                text=(
                    f"{_pct(arm.opt_in_rate)} ({_pct(low)} to {_pct(high)})"
                    if arm.opt_in_rate is not None
                    else "no exposed users"
                ),
                is_control=arm.is_control,
            )
        )
    control = results.control
    described = "; ".join(f"{row.label}: {row.text}" for row in rows)
    return {
        "width": width,
        "height": height,
        "left": left,
        "right": width - right,
        "top": top,
        "bottom": height - 34,
        "ticks": [{"x": x_of(t / 100), "label": f"{t}%"} for t in range(0, 101, 20)],
        "rows": rows,
        "control_x": x_of(control.opt_in_rate)
        if control is not None and control.opt_in_rate is not None
        else None,
        "title": "Opt-in rate per arm with 95% intervals",
        "desc": f"Share of exposed users whose first decision was to opt in. {described}.",
    }


def _nice_step(value: float) -> int:
    """The smallest 1, 2 or 5 times a power of ten that is at least ``value`` (readable ticks)."""
    if value <= 1:
        return 1
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if step * magnitude >= value:
            return int(step * magnitude)
    return int(10 * magnitude)


def exposures_chart(results: ExperimentResults) -> dict:
    """Cumulative exposures per arm, one line per arm, one point per day."""
    points = results.timeline
    days = len(points)
    # The legend sits above the plot, one row per arm, so it never covers a line.
    legend_top = 14
    width, left, right, bottom = 680, 64, 24, 44
    top = legend_top + 18 * len(results.arms) + 10
    height = top + 220 + bottom
    plot_w, plot_h = width - left - right, height - top - bottom
    highest = max((max(p.cumulative.values(), default=0) for p in points), default=0)
    y_step = _nice_step(highest / 5)
    y_max = y_step * max(1, math.ceil(highest / y_step))

    def x_of(index: int) -> float:
        return round(left + (plot_w * index / (days - 1) if days > 1 else plot_w / 2), 1)

    def y_of(value: int) -> float:
        return round(top + plot_h - plot_h * value / y_max, 1)

    series = []
    for index, arm in enumerate(results.arms):
        coordinates = [
            (x_of(i), y_of(p.cumulative.get(arm.arm.pk, 0))) for i, p in enumerate(points)
        ]
        series.append(
            {
                "label": arm.variant.key,
                "series": index % SERIES_COUNT,
                "points": " ".join(f"{x},{y}" for x, y in coordinates),
                "markers": coordinates if days <= 45 else [],
                "total": points[-1].cumulative.get(arm.arm.pk, 0) if points else 0,
                "legend_y": legend_top + 18 * index,
            }
        )
    every = max(1, math.ceil(days / 7))
    labelled = list(range(0, days, every))
    if days > 1 and labelled[-1] != days - 1:
        # Always label the last day; drop the one before if the two labels would collide.
        if days - 1 - labelled[-1] < every / 2 and len(labelled) > 1:
            labelled.pop()
        labelled.append(days - 1)
    x_ticks = [{"x": x_of(i), "label": points[i].day.strftime("%d %b")} for i in labelled]
    totals = "; ".join(f"{s['label']}: {s['total']}" for s in series)
    span = (
        f"from {points[0].day:%d %B %Y} to {points[-1].day:%d %B %Y}"
        if points
        else "with no data yet"
    )
    return {
        "width": width,
        "height": height,
        "left": left,
        "right": width - right,
        "top": top,
        "bottom": height - bottom,
        "series": series,
        "x_ticks": x_ticks,
        "y_ticks": [{"y": y_of(v), "label": f"{v:,}"} for v in range(0, y_max + 1, y_step)],
        "legend_x": left + 12,
        "title": "Cumulative exposures per arm over time",
        "desc": f"Users exposed to each design, accumulated day by day {span}. Totals: {totals}.",
        "rows": [
            {"day": p.day, "counts": [p.cumulative.get(a.arm.pk, 0) for a in results.arms]}
            for p in points
        ],
    }
