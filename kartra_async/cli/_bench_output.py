"""What ``kartra-async bench`` shows: the live line, the final table, the chart file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.table import Table

from ..bench import (
    Figures,
    PngUnavailable,
    Tick,
    render_svg,
    svg_to_png,
)
from ..bench._chart import HEIGHT, WIDTH
from ._bench_settings import Settings
from ._common import CannotRun


def live_line(tick: Tick, settings: Settings) -> str:
    """The progress line shown on a terminal while the run goes."""
    # Kept under 80 columns: a wrapped live line leaves its first half behind on every refresh.
    if settings.duration is not None:
        where = f"{tick.elapsed:.1f}/{settings.duration:g}s"
    else:
        where = f"{tick.ok + tick.failed}/{settings.count} in {tick.elapsed:.1f}s"
    return (
        f"{settings.spec.name[:16]} {where}  {tick.calls:,} calls  {tick.calls_last_second}/s now"
        f"  {tick.rate_limited}×429  {tick.retries} retries  {tick.failed:,} failed"
    )


def summary_table(figures: Figures, own: dict[str, Any] | None) -> Table:
    """The final table; ``own``: the sandbox's own counters, when it was the target."""
    table = Table(title=f"kartra-async bench: {figures.workload} against {figures.target}")
    table.add_column("figure")
    table.add_column("value", justify="right")
    latency = figures.latency
    rows: list[tuple[str, str]] = [
        ("pacing, concurrency", f"{figures.pacing}, {figures.concurrency}"),
        ("seconds", f"{figures.seconds:.2f}"),
        ("HTTP calls", f"{figures.calls:,}"),
        ("calls/s", f"{figures.calls_per_second:,.2f}"),
        ("ratio to the 20/s ceiling", f"{figures.ratio_to_ceiling:.3f}"),
        ("most calls in any 1 s", f"{figures.max_calls_in_1s:,}"),
        ("items ok / failed", f"{figures.ok:,} / {figures.failed:,}"),
    ]
    if figures.errors:
        rows.append(("errors", ", ".join(f"{k} {v:,}" for k, v in figures.errors.items())))
    if figures.leads_per_hour is not None:
        rows.append(("leads/hour", f"{figures.leads_per_hour:,.0f}"))
    if figures.created or figures.updated:
        rows.append(("upserts created / updated", f"{figures.created:,} / {figures.updated:,}"))
    rows += [
        (
            "latency p50 / p90 / p99 / max (ms)",
            " / ".join(
                f"{v * 1000:.2f}" for v in (latency.p50, latency.p90, latency.p99, latency.max)
            ),
        ),
        ("429 answers", f"{figures.rate_limited:,}"),
        ("calls without a response", f"{figures.no_response:,}"),
        ("retries (items retried)", f"{figures.retries:,} ({figures.retried_items:,})"),
        ("items settled by reading back", f"{figures.reconciled_items:,}"),
        ("client CPU per call (µs)", f"{figures.client_cpu_per_call_us:,.0f}"),
        (
            "peak RSS (MB)",
            f"{figures.peak_rss_bytes / 1e6:.1f}" if figures.peak_rss_bytes is not None else "n/a",
        ),
    ]
    if own is not None:
        faults = own["faults_injected"].get("rate_limited", 0)
        rows.append(
            (
                "sandbox's own count: calls / 429s",
                f"{own['calls']:,} / {own['rate_limited_by_limit'] + faults:,}",
            )
        )
    for name, value in rows:
        table.add_row(name, value)
    table.caption = (
        "client CPU: the process's minus the sandbox thread's; peak RSS: the whole process"
        if own is not None
        else "client CPU and peak RSS: the whole process"
    )
    return table


def write_chart(path: Path, figures: Figures) -> None:
    """Write the chart as SVG, or PNG by the suffix; exit 2 when it cannot be written."""
    svg = render_svg(figures)
    try:
        if path.suffix.lower() == ".png":
            svg_to_png(svg, path, WIDTH, HEIGHT)
        else:
            path.write_text(svg, encoding="utf-8")
    except (OSError, PngUnavailable) as exc:
        raise CannotRun(f"--chart: cannot write {path}: {exc}") from None
