"""Memory does not grow with the input's length (issue 4): 50,000 vs 200,000 calls.

Each size runs in a fresh interpreter (``memory_worker.py``) over an in-process transport, so
the RSS growth measured is the stream's own. If anything were kept per input (outcomes,
tasks, futures), 150,000 more inputs would add tens of megabytes.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

WORKER = Path(__file__).with_name("memory_worker.py")
#: Allowance for allocator noise between two runs; a per-input leak of even 64 bytes
#: over the 150,000 extra inputs would exceed it.
TOLERANCE = 8 * 1024 * 1024


def measure(count: int) -> dict[str, int]:
    """Run the worker for ``count`` calls in a fresh interpreter and read its figures."""
    result = subprocess.run(
        [sys.executable, str(WORKER), str(count)],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    figures: dict[str, int] = json.loads(result.stdout)
    return figures


def test_rss_growth_does_not_depend_on_input_size() -> None:
    small = measure(50_000)
    large = measure(200_000)
    assert (small["ok"], small["posts"]) == (50_000, 50_000)
    assert (large["ok"], large["posts"]) == (200_000, 200_000)
    assert large["growth"] - small["growth"] < TOLERANCE
