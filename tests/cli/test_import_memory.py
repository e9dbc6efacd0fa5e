"""Rows are streamed: the memory a dry run needs does not grow with the file's length."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

from kartra_async._importing import ColumnPlan, ImportOptions, ImportRun, read_rows

from .support import write_leads


def _peak_bytes(path: Path) -> int:
    seen = 0

    def sink(record: dict[str, object], replayed: bool) -> None:
        nonlocal seen
        seen += 1

    run = ImportRun(
        read_rows(path, "csv"), plan=ColumnPlan(), options=ImportOptions(), schema=None, sink=sink
    )
    tracemalloc.start()
    try:
        run.dry_run()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert seen == run.tally.rows
    return peak


def test_dry_run_memory_is_flat_in_the_number_of_rows(tmp_path: Path) -> None:
    small, large = tmp_path / "small.csv", tmp_path / "large.csv"
    write_leads(small, 1_000)
    write_leads(large, 8_000)
    peak_small, peak_large = _peak_bytes(small), _peak_bytes(large)
    # Eight times the rows (about 0.5 MB more input) must not cost anything like eight times
    # the memory: all that may differ is noise of a few kilobytes, and the repeated-lead table
    # (a 64-bit fingerprint per distinct lead, at most 24 bytes each while it doubles).
    assert peak_large < peak_small + 256 * 1024 + 24 * (8_000 - 1_000)
