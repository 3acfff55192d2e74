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


def _nice_ceiling(value: int) -> int:
    """1, 2 or 5 times a power of ten, at least ``value`` (an axis maximum people can read)."""
    if value <= 0:
        return 1
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if step * magnitude >= value:
            return step * magnitude
    return 10 * magnitude


def exposures_chart(results: ExperimentResults) -> dict:
    """Cumulative exposures per arm, one line per arm, one point per day."""
    width, height, left, right, top, bottom = 680, 280, 64, 24, 20, 44
    plot_w, plot_h = width - left - right, height - top - bottom
    points = results.timeline
    days = len(points)
    y_max = _nice_ceiling(max((max(p.cumulative.values(), default=0) for p in points), default=0))

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
                "legend_y": top + 16 * index,
            }
        )
    step = max(1, math.ceil(days / 7))
    x_ticks = [
        {"x": x_of(i), "label": points[i].day.strftime("%d %b")} for i in range(0, days, step)
    ]
    if days > 1 and (days - 1) % step:
        x_ticks.append({"x": x_of(days - 1), "label": points[-1].day.strftime("%d %b")})
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
        "y_ticks": [{"y": y_of(y_max * i // 4), "label": f"{y_max * i // 4:,}"} for i in range(5)],
        "legend_x": left + 12,
        "title": "Cumulative exposures per arm over time",
        "desc": f"Users exposed to each design, accumulated day by day {span}. Totals: {totals}.",
        "rows": [
            {"day": p.day, "counts": [p.cumulative.get(a.arm.pk, 0) for a in results.arms]}
            for p in points
        ],
    }
