"""The rejects file: every invalid or failed row, as it was read, plus why it was not imported.

Written in the input's own format so that it can be fixed and imported again: a CSV gets the
input's header plus the columns ``reason``, ``field`` and ``failure``; a JSONL gets the input
object plus those three keys. The importer ignores these three columns (``REJECT_COLUMNS``), so
the fixed file re-imports as it is. The row's own cells are written exactly as read (not
neutralised): re-importing must send what the input held.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from ._columns import REJECT_COLUMNS
from ._results import neutralize_cell, record_failure
from ._source import BYTES_ERRORS


class RejectsWriter:
    """Appends rejected rows to a CSV (with ``columns`` as its header) or a JSONL file."""

    def __init__(self, path: Path, fmt: str, columns: Sequence[str] | None) -> None:
        self.path = path
        self.count = 0
        self._csv = fmt == "csv"
        # Whatever the input held goes back out: bytes that were not valid in the file's
        # encoding as themselves in CSV, as \udcXX escapes in JSONL (as the results file does).
        errors = BYTES_ERRORS if self._csv else "backslashreplace"
        self._handle: IO[str] = path.open("w", encoding="utf-8", errors=errors, newline="")
        self._columns = tuple(c for c in columns or () if c not in REJECT_COLUMNS)
        if self._csv:
            self._writer = csv.writer(self._handle, lineterminator="\n")
            self._writer.writerow([*self._columns, *REJECT_COLUMNS])

    def write(self, values: Mapping[str, Any], record: Mapping[str, Any]) -> None:
        """One rejected row: its values as read and its result record's reason."""
        reason = record.get("error") or ""
        extra = {"reason": reason, "field": record.get("field"), "failure": record_failure(record)}
        if self._csv:
            cells = [values.get(column, "") for column in self._columns]
            added = ["" if extra[k] is None else neutralize_cell(extra[k]) for k in REJECT_COLUMNS]
            self._writer.writerow([*cells, *added])
        else:
            line = {**values, **extra}
            self._handle.write(json.dumps(line, ensure_ascii=False) + "\n")
        self._handle.flush()
        self.count += 1

    def close(self) -> None:
        """Close the file."""
        self._handle.close()
