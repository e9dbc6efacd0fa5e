"""Memory: peak RSS streaming 100,000 vs 1,000,000 leads, each size in a fresh process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from typing import Any

from ._common import Table, Target

CONCURRENCY = 50


def child(count: int) -> dict[str, Any]:
    """Run ``memory_child`` for ``count`` leads; its JSON report."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.memory_child", str(count), str(CONCURRENCY)],
        check=True,
        capture_output=True,
        text=True,
        cwd=root,
    ).stdout
    report: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return report


def table(sizes: Sequence[int]) -> tuple[Table, list[dict[str, Any]]]:
    """Peak RSS per size and the ratio of the largest to the smallest."""
    reports = [child(size) for size in sizes]
    result = Table(
        f"Memory: leads streamed through an in-process transport (NoPacer, concurrency {CONCURRENCY})",
        [
            "leads",
            "RSS after warm-up MB",
            "peak RSS MB",
            "client CPU µs/lead",
            "ratio to smallest",
            "target",
        ],
    )
    smallest = reports[0]["peak_rss_mb"]
    for report in reports:
        ratio = report["peak_rss_mb"] / smallest
        target: Target | str = ""
        if report["leads"] >= 1_000_000:
            target = Target(
                "≤ 80 MB and ≤ 1.05× the 100k run",
                report["peak_rss_mb"] <= 80 and ratio <= 1.05,
            )
        result.add(
            report["leads"],
            report["baseline_rss_mb"],
            report["peak_rss_mb"],
            report["cpu_us_per_lead"],
            ratio,
            target,
        )
    result.notes.append(
        "Each size runs in a fresh process; leads come from a generator, each built with "
        "LeadRequest(...).create() + 3 actions; CPU per lead includes building the call."
    )
    return result, reports
