"""Reading an import file one record at a time: CSV or JSONL, never the whole file at once.

Each record becomes a ``SourceRow`` numbered by the line it starts on (1-based, the header being
line 1), so numbers match what a text editor or spreadsheet shows and stay stable across runs
of the same file: the journal keys rows by this number. Blank lines are skipped, not numbered
differently. Bytes that are not UTF-8 are kept as surrogate escapes so that the row holding
them is reported invalid (with its number) instead of stopping the whole run.
"""

from __future__ import annotations

import csv
import hashlib
import json
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Final

import attrs

from .._errors import UsageError

FORMATS: Final = ("csv", "jsonl")
_CHUNK: Final = 1 << 20
# A CSV field may legitimately be large (a long note); the csv module's default limit of
# 128 KiB would stop the whole run, so the limit is raised and the lead validator (4096
# characters per value) reports the row instead.
_FIELD_LIMIT: Final = 16 * 1024 * 1024


class SourceError(UsageError):
    """The import file cannot be read at all (missing header, duplicate columns, bad format)."""


@attrs.frozen
class SourceRow:
    """One record of the input: the line it starts on and its values by column name.

    ``problem`` is set when the record itself is malformed (a JSONL line that is not an object,
    a CSV row with more cells than the header); such a row is reported and never sent.
    """

    number: int
    values: Mapping[str, Any]
    problem: tuple[str, str] | None = None


@attrs.frozen
class FileFacts:
    """What identifies an input file's content: its SHA-256, size and an estimate of its rows."""

    sha256: str
    size: int
    #: Lines minus one (the header, for CSV): an upper bound of the records, for progress.
    estimated_rows: int


def guess_format(path: Path, explicit: str | None) -> str:
    """``explicit`` if given, else the format named by the file's suffix."""
    if explicit is not None:
        return explicit
    suffix = path.suffix.lower().lstrip(".")
    if suffix in ("jsonl", "ndjson"):
        return "jsonl"
    if suffix in ("csv", "txt"):
        return "csv"
    raise SourceError(f"cannot tell the format of {path.name!r} from its suffix; pass --format")


def file_facts(path: Path, fmt: str) -> FileFacts:
    """Hash the file in chunks (constant memory) and count its lines on the way."""
    digest = hashlib.sha256()
    size = 0
    lines = 0
    last = b"\n"
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
            lines += chunk.count(b"\n")
            last = chunk[-1:]
    if last != b"\n":
        lines += 1
    estimate = lines - 1 if fmt == "csv" else lines
    return FileFacts(sha256=digest.hexdigest(), size=size, estimated_rows=max(estimate, 0))


def read_rows(path: Path, fmt: str) -> Iterator[SourceRow]:
    """The file's records in order, one at a time (a generator: memory does not grow)."""
    if fmt == "csv":
        return _read_csv(path)
    if fmt == "jsonl":
        return _read_jsonl(path)
    raise SourceError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")


def csv_header(path: Path) -> tuple[str, ...]:
    """The CSV file's column names (stripped), checked for blanks and duplicates."""
    with _open_text(path) as handle:
        reader = csv.reader(handle)
        for cells in reader:
            if any(cell.strip() for cell in cells):
                return _check_header(cells)
    raise SourceError(f"{path.name} has no header row")


def _check_header(cells: list[str]) -> tuple[str, ...]:
    header = tuple(cell.strip() for cell in cells)
    seen: set[str] = set()
    for position, name in enumerate(header, start=1):
        if not name:
            raise SourceError(f"column {position} of the header has no name")
        if name in seen:
            raise SourceError(f"the header names the column {name!r} twice")
        seen.add(name)
    return header


def _open_text(path: Path) -> Any:
    # utf-8-sig drops a BOM when there is one; newline="" is what the csv module requires so
    # that quoted fields keep their embedded newlines.
    return path.open("r", encoding="utf-8-sig", errors="surrogateescape", newline="")


def _read_csv(path: Path) -> Iterator[SourceRow]:
    csv.field_size_limit(min(_FIELD_LIMIT, sys.maxsize))
    with _open_text(path) as handle:
        reader = csv.reader(handle)
        header: tuple[str, ...] | None = None
        consumed = 0
        for cells in reader:
            start, consumed = consumed + 1, reader.line_num
            if not any(cell.strip() for cell in cells):
                continue
            if header is None:
                header = _check_header(cells)
                continue
            if len(cells) > len(header):
                reason = f"has {len(cells)} cells but the header has only {len(header)}"
                yield SourceRow(start, {}, ("row", reason))
                continue
            # Short rows are common in spreadsheet exports (trailing empty cells dropped).
            yield SourceRow(start, dict(zip(header, cells, strict=False)))


def _read_jsonl(path: Path) -> Iterator[SourceRow]:
    with path.open("r", encoding="utf-8-sig", errors="surrogateescape", newline=None) as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except ValueError as exc:
                yield SourceRow(number, {}, ("json", f"is not valid JSON ({exc.args[0][:80]})"))
                continue
            if not isinstance(value, dict):
                kind = type(value).__name__
                yield SourceRow(number, {}, ("json", f"must be an object, not {kind}"))
                continue
            yield SourceRow(number, value)
