"""Measure throughput, latency and cost of calls to Kartra: the engine of ``kartra-async bench``
and of the repository's ``benchmarks/``.

- ``_stats``: pure arithmetic (percentiles, per-second buckets, rates, the 20/s ceiling);
- ``_records``: what a run records (attempts, settled items), as plain values;
- ``_recording``: a transport wrapper timing every HTTP call (``RecordingTransport``);
- ``_workloads``: the built-in workloads and leads from a file, as calls;
- ``_runner``: stream a workload for a duration or a count (``run``);
- ``_report``: the figures of a run (``Figures``); ``_chart``: its SVG chart;
- ``_sandbox_thread``: the built-in sandbox on its own thread, so its CPU can be told apart.
"""

from __future__ import annotations

from ._chart import render_svg
from ._png import PngUnavailable, find_browser, svg_to_png
from ._recording import RecordingTransport
from ._records import NO_RESPONSE, Attempt, Recorder, RunData, Tally
from ._report import Figures, Series
from ._runner import Tick, bounded, peak_rss_bytes, run
from ._sandbox_thread import SandboxThread
from ._stats import (
    CEILING,
    Histogram,
    Latency,
    max_in_window,
    per_second,
    percentile,
    rate,
    ratio_to_ceiling,
)
from ._workloads import BUILTIN, TEST_DOMAIN, TEST_TAG, Workload, calls, run_tag, workload

__all__ = [
    "BUILTIN",
    "CEILING",
    "NO_RESPONSE",
    "TEST_DOMAIN",
    "TEST_TAG",
    "Attempt",
    "Figures",
    "Histogram",
    "Latency",
    "PngUnavailable",
    "Recorder",
    "RecordingTransport",
    "RunData",
    "SandboxThread",
    "Series",
    "Tally",
    "Tick",
    "Workload",
    "bounded",
    "calls",
    "find_browser",
    "max_in_window",
    "peak_rss_bytes",
    "per_second",
    "percentile",
    "rate",
    "ratio_to_ceiling",
    "render_svg",
    "run",
    "run_tag",
    "svg_to_png",
    "workload",
]
