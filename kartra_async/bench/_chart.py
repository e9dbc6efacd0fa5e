"""The chart of a run as a hand-drawn SVG (no plotting dependency): calls per second over time
against the 20/s limit with 429s and retries marked, and the latency distribution.

Pure: figures in, SVG text out.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Final
from xml.sax.saxutils import escape

from ._report import Figures
from ._stats import CEILING, Histogram

WIDTH: Final = 960
HEIGHT: Final = 660
_LEFT: Final = 72
_RIGHT: Final = 40
_PLOT_W: Final = WIDTH - _LEFT - _RIGHT
_TOP1: Final = 124
_H1: Final = 280
_TOP2: Final = _TOP1 + _H1 + 100
_H2: Final = 110

_CALLS: Final = "#4c78a8"
_LIMITED: Final = "#e45756"
_RETRY: Final = "#f58518"
_LIMIT: Final = "#222222"
_GRID: Final = "#e6e6e6"
_LAT: Final = "#72b7b2"
_MARKS: Final = (("p50", "#2e7d32"), ("p90", "#f58518"), ("p99", "#c62828"))


def nice_step(span: float, ticks: int = 5) -> float:
    """A round tick step (1, 2 or 5 times a power of ten) giving about ``ticks`` ticks."""
    if span <= 0:
        return 1.0
    raw = span / ticks
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if raw <= factor * power:
            return float(factor * power)
    return float(10 * power)


def _num(value: float) -> str:
    if value == int(value):
        return f"{int(value):,}"
    return f"{value:.3g}"


def _text(
    x: float,
    y: float,
    body: str,
    *,
    size: int = 12,
    anchor: str = "start",
    fill: str = "#333",
    weight: str = "normal",
) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" '
        f'fill="{fill}" font-weight="{weight}">{escape(body)}</text>'
    )


def _rate_panel(figures: Figures) -> list[str]:
    series = figures.series
    count = len(series.calls)
    top_value = max([CEILING * 1.15, *(v * 1.1 for v in series.calls), *series.retries])
    step = nice_step(top_value)
    y_max = math.ceil(top_value / step) * step
    bottom = _TOP1 + _H1

    def y(value: float) -> float:
        return bottom - value / y_max * _H1

    slot = _PLOT_W / count
    parts = [
        _text(
            _LEFT,
            _TOP1 - 14,
            "Calls per second (by the second each call was posted)",
            size=14,
            weight="bold",
        )
    ]
    tick = 0.0
    while tick <= y_max + 1e-9:
        parts.append(
            f'<line x1="{_LEFT}" y1="{y(tick):.1f}" x2="{_LEFT + _PLOT_W}" '
            f'y2="{y(tick):.1f}" stroke="{_GRID}"/>'
        )
        parts.append(_text(_LEFT - 8, y(tick) + 4, _num(tick), anchor="end", size=11))
        tick += step
    bar = max(slot * 0.8, 1.0)
    # The last second is usually cut short by the end of the run: drawn paler.
    partial = figures.seconds < count - 0.02
    for index, calls in enumerate(series.calls):
        x = _LEFT + index * slot + (slot - bar) / 2
        opacity = ' fill-opacity="0.45"' if partial and index == count - 1 else ""
        if calls:
            parts.append(
                f'<rect x="{x:.1f}" y="{y(calls):.1f}" width="{bar:.1f}" '
                f'height="{bottom - y(calls):.1f}" fill="{_CALLS}"{opacity}/>'
            )
        limited = series.rate_limited[index]
        if limited:
            parts.append(
                f'<rect x="{x:.1f}" y="{y(limited):.1f}" width="{bar:.1f}" '
                f'height="{bottom - y(limited):.1f}" fill="{_LIMITED}"{opacity}/>'
            )
    points = [
        (_LEFT + (index + 0.5) * slot, y(value))
        for index, value in enumerate(series.retries)
        if value
    ]
    for px, py in points:
        parts.append(
            f'<path d="M{px:.1f},{py - 6:.1f} L{px + 6:.1f},{py:.1f} '
            f'L{px:.1f},{py + 6:.1f} L{px - 6:.1f},{py:.1f} Z" fill="{_RETRY}" '
            'stroke="#fff" stroke-width="1"/>'
        )
    limit_y = y(CEILING)
    parts.append(
        f'<line x1="{_LEFT}" y1="{limit_y:.1f}" x2="{_LEFT + _PLOT_W}" '
        f'y2="{limit_y:.1f}" stroke="{_LIMIT}" stroke-width="1.5" '
        'stroke-dasharray="6 4"/>'
    )
    parts.append(
        _text(
            _LEFT + _PLOT_W - 4,
            limit_y - 6,
            "Kartra's limit: 20 calls/s",
            anchor="end",
            size=11,
            fill=_LIMIT,
        )
    )
    parts.append(
        f'<line x1="{_LEFT}" y1="{bottom}" x2="{_LEFT + _PLOT_W}" y2="{bottom}" stroke="#888"/>'
    )
    label_every = max(1, math.ceil(count / 12))
    for index in range(0, count + 1, label_every):
        x = _LEFT + index * slot
        parts.append(
            f'<line x1="{x:.1f}" y1="{bottom}" x2="{x:.1f}" y2="{bottom + 4}" stroke="#888"/>'
        )
        parts.append(_text(x, bottom + 17, f"{index}s", anchor="middle", size=11))
    parts.extend(_legend(bottom + 40))
    return parts


def _legend(y: float) -> list[str]:
    items = (
        ("rect", _CALLS, "calls"),
        ("rect", _LIMITED, "answered 429"),
        ("diamond", _RETRY, "retries (when the call settled)"),
        ("dash", _LIMIT, "the 20/s limit"),
    )
    parts = []
    x = float(_LEFT)
    for shape, colour, label in items:
        if shape == "rect":
            parts.append(
                f'<rect x="{x:.1f}" y="{y - 10:.1f}" width="14" height="10" fill="{colour}"/>'
            )
        elif shape == "diamond":
            parts.append(
                f'<path d="M{x + 7:.1f},{y - 11:.1f} L{x + 13:.1f},{y - 5:.1f} '
                f'L{x + 7:.1f},{y + 1:.1f} L{x + 1:.1f},{y - 5:.1f} Z" '
                f'fill="{colour}"/>'
            )
        else:
            parts.append(
                f'<line x1="{x:.1f}" y1="{y - 5:.1f}" x2="{x + 14:.1f}" '
                f'y2="{y - 5:.1f}" stroke="{colour}" stroke-width="1.5" '
                'stroke-dasharray="4 3"/>'
            )
        parts.append(_text(x + 20, y, label, size=11))
        x += 34 + 6.8 * len(label)
    return parts


def _latency_panel(figures: Figures) -> list[str]:
    latency = figures.latency
    values_ms = [value * 1000 for value in figures.latencies]
    upper = max(latency.p99 * 1000 * 1.15, latency.p50 * 1000 * 2, 1e-3) if values_ms else 1.0
    upper = min(upper, latency.max * 1000) if latency.max * 1000 > 0 else upper
    step = nice_step(upper)
    upper = math.ceil(upper / step) * step
    histogram = Histogram.of(values_ms, bins=48, upper=upper)
    bottom = _TOP2 + _H2
    title = "Latency of each HTTP call (ms; the pacer's wait excluded)"
    parts = [_text(_LEFT, _TOP2 - 14, title, size=14, weight="bold")]
    tallest = max(histogram.counts, default=0) or 1
    slot = _PLOT_W / len(histogram.counts)
    for index, count in enumerate(histogram.counts):
        if not count:
            continue
        height = count / tallest * _H2
        parts.append(
            f'<rect x="{_LEFT + index * slot + 0.5:.1f}" y="{bottom - height:.1f}" '
            f'width="{max(slot - 1, 1):.1f}" height="{height:.1f}" fill="{_LAT}"/>'
        )
    parts.append(
        f'<line x1="{_LEFT}" y1="{bottom}" x2="{_LEFT + _PLOT_W}" y2="{bottom}" stroke="#888"/>'
    )
    tick = 0.0
    while tick <= upper + 1e-9:
        x = _LEFT + tick / upper * _PLOT_W
        parts.append(
            f'<line x1="{x:.1f}" y1="{bottom}" x2="{x:.1f}" y2="{bottom + 4}" stroke="#888"/>'
        )
        parts.append(_text(x, bottom + 17, f"{_num(tick)} ms", anchor="middle", size=11))
        tick += step
    legend_x = float(_LEFT + _PLOT_W)
    for name, colour in reversed(_MARKS):
        value = getattr(latency, name) * 1000
        x = _LEFT + min(value / upper, 1.0) * _PLOT_W
        parts.append(
            f'<line x1="{x:.1f}" y1="{_TOP2 - 4:.1f}" x2="{x:.1f}" y2="{bottom}" '
            f'stroke="{colour}" stroke-width="1.5" stroke-dasharray="5 3"/>'
        )
        label = f"{name} {value:.3g} ms"
        parts.append(
            _text(legend_x, _TOP2 - 14, label, anchor="end", size=12, fill=colour, weight="bold")
        )
        legend_x -= 16 + 7.4 * len(label)
    if histogram.overflow:
        parts.append(
            _text(
                _LEFT + _PLOT_W,
                bottom + 34,
                f"{histogram.overflow:,} calls above {_num(upper)} ms not drawn "
                f"(max {latency.max * 1000:.3g} ms)",
                anchor="end",
                size=11,
            )
        )
    return parts


def _header(figures: Figures) -> list[str]:
    title = f"kartra-async bench: {figures.workload}"
    setup = f"against {figures.target}; {figures.pacing}, concurrency {figures.concurrency}"
    summary = (
        f"{figures.calls_per_second:.1f} calls/s = {figures.ratio_to_ceiling:.2f}× the 20/s "
        f"limit · {figures.calls:,} calls in {figures.seconds:.1f} s · "
        f"{figures.rate_limited:,} × 429 · {figures.retries:,} retries · "
        f"p50 {figures.latency.p50 * 1000:.3g} ms, p99 {figures.latency.p99 * 1000:.3g} ms"
    )
    return [
        _text(_LEFT, 30, title, size=18, weight="bold"),
        _text(_LEFT, 54, setup, size=12),
        _text(_LEFT, 74, summary, size=12),
    ]


def render_svg(figures: Figures) -> str:
    """The whole chart as a standalone SVG document."""
    parts: Sequence[str] = [
        *_header(figures),
        *_rate_panel(figures),
        *_latency_panel(figures),
    ]
    body = "\n".join(parts)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="DejaVu Sans, Helvetica, Arial, sans-serif">\n'
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>\n{body}\n</svg>\n'
    )
