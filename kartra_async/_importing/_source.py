"""Reading an import file one record at a time: CSV or JSONL, never the whole file at once.

Each record becomes a ``SourceRow`` numbered by the line it starts on (1-based, the header being
line 1), so numbers match what a text editor or spreadsheet shows and stay stable across runs
of the same file: the journal keys rows by this number. Blank lines are skipped, not numbered
differently.

Any bytes are readable. The encoding is ``--encoding`` when given, else taken from a byte order
mark (UTF-8, UTF-16 or UTF-32), else UTF-8; a file that looks like UTF-16 without a mark is
refused by name. Bytes the encoding cannot decode are kept, each as the lone surrogate
``U+DC00 + byte`` (the ``BYTES_ERRORS`` handler, a lossless superset of ``surrogateescape``),
and the row holding them is reported invalid ("not valid UTF-8 at byte N") and never sent,
while the journal and the results file still carry its values byte for byte. A cell over
``MAX_CELL`` (a row after it cannot be told apart from the cell's contents, so those rows are
reported too), a JSONL line over ``MAX_CELL`` or nested too deep, and a header over
``MAX_COLUMNS`` columns are reported, never a traceback.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import json
import re
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, Any, Final

import attrs

from .._errors import UsageError

FORMATS: Final = ("csv", "jsonl")
_CHUNK: Final = 1 << 20
# A CSV field may legitimately be large (a long note); the csv module's default limit of
# 128 KiB would stop the whole run, so the limit is raised and the lead validator (4096
# characters per value) reports the row instead.
MAX_CELL: Final = 16 * 1024 * 1024
#: Kartra's lead has a few dozen fields plus the account's custom fields.
MAX_COLUMNS: Final = 10_000
#: The codec error handler that keeps undecodable bytes (registered on import).
BYTES_ERRORS: Final = "kartra_async.bytes"
_ESCAPED = re.compile("[\udc00-\udcff]")
_BOMS: Final = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def _keep_bytes(error: UnicodeError) -> tuple[str | bytes, int]:
    # Decoding: each undecodable byte b becomes U+DC00+b (surrogateescape refuses b < 0x80,
    # which UTF-16 and UTF-32 can produce). Encoding: the reverse, so files round-trip.
    if isinstance(error, UnicodeDecodeError):
        bad = error.object[error.start : error.end]
        return "".join(chr(0xDC00 + b) for b in bad), error.end
    if isinstance(error, UnicodeEncodeError):
        chars = error.object[error.start : error.end]
        if all(0xDC00 <= ord(ch) <= 0xDCFF for ch in chars):
            return bytes(ord(ch) - 0xDC00 for ch in chars), error.end
    raise error


codecs.register_error(BYTES_ERRORS, _keep_bytes)


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
    #: An upper bound of any row's line number, whatever the line endings or encoding.
    line_bound: int = 0


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
    returns = 0
    last = b"\n"
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
            lines += chunk.count(b"\n")
            returns += chunk.count(b"\r")
            last = chunk[-1:]
    if last != b"\n":
        lines += 1
    estimate = lines - 1 if fmt == "csv" else lines
    return FileFacts(
        sha256=digest.hexdigest(),
        size=size,
        estimated_rows=max(estimate, 0),
        # A lone \r ends a line too; every line ending holds at least one of these bytes.
        line_bound=lines + returns + 1,
    )


def read_rows(path: Path, fmt: str, *, encoding: str | None = None) -> Iterator[SourceRow]:
    """The file's records in order, one at a time (a generator: memory does not grow).

    ``encoding`` overrides the detected encoding (see the module docstring).
    """
    if fmt == "csv":
        return _read_csv(path, detect_encoding(path, encoding))
    if fmt == "jsonl":
        return _read_jsonl(path, detect_encoding(path, encoding))
    raise SourceError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")


def detect_encoding(path: Path, explicit: str | None = None) -> str:
    """The encoding to read ``path`` with: ``explicit``, its byte order mark's, or UTF-8."""
    if explicit is not None:
        try:
            return codecs.lookup(explicit).name
        except (LookupError, ValueError):
            raise SourceError(f"--encoding: {explicit[:40]!r} is not an encoding") from None
    with path.open("rb") as handle:
        head = handle.read(64)
    for bom, name in _BOMS:
        if head.startswith(bom):
            return name
    if len(head) >= 4 and head.count(0) * 4 >= len(head):
        raise SourceError(
            f"{path.name} looks like UTF-16 or UTF-32 without a byte order mark; pass "
            "--encoding utf-16-le (or utf-16-be, utf-32-le, ...), or save it as UTF-8"
        )
    return "utf-8-sig"


def csv_header(path: Path, *, encoding: str | None = None) -> tuple[str, ...]:
    """The CSV file's column names (stripped), checked for blanks and duplicates."""
    _set_field_limit()
    with _open_text(path, detect_encoding(path, encoding)) as handle:
        reader = csv.reader(handle)
        try:
            for cells in reader:
                if any(cell.strip() for cell in cells):
                    return _check_header(cells)
        except csv.Error as exc:
            raise SourceError(f"{path.name}: the header cannot be read: {exc}") from None
    raise SourceError(f"{path.name} has no header row")


def _check_header(cells: list[str]) -> tuple[str, ...]:
    if len(cells) > MAX_COLUMNS:
        raise SourceError(f"the header has {len(cells)} columns; at most {MAX_COLUMNS} are read")
    header = tuple(cell.strip() for cell in cells)
    seen: set[str] = set()
    for position, name in enumerate(header, start=1):
        if not name:
            raise SourceError(f"column {position} of the header has no name")
        if name in seen:
            raise SourceError(f"the header names the column {short(name)} twice")
        if _ESCAPED.search(name):
            raise SourceError(
                f"column {position} of the header is not valid text in this encoding; "
                "pass --encoding with the file's encoding"
            )
        seen.add(name)
    return header


def short(text: str, limit: int = 60) -> str:
    """``text`` quoted for a message, cut to ``limit`` characters."""
    return repr(text[:limit] + "…") if len(text) > limit else repr(text)


def _open_text(path: Path, encoding: str) -> IO[str]:
    # newline="" is what the csv module requires so that quoted fields keep their newlines.
    return path.open("r", encoding=encoding, errors=BYTES_ERRORS, newline="")


def _set_field_limit() -> None:
    csv.field_size_limit(min(MAX_CELL, sys.maxsize))


def undecodable(values: Mapping[Any, Any], encoding: str) -> tuple[str, str] | None:
    """The problem of a row holding bytes ``encoding`` could not decode, or None."""
    for key, value in values.items():
        for text, where in ((key, "its name"), (value, "its value")):
            if not isinstance(text, str):
                continue
            found = _ESCAPED.search(text)
            if found is None:
                continue
            offset = len(text[: found.start()].encode(_codec_label(encoding), BYTES_ERRORS))
            byte = ord(found.group()) - 0xDC00
            label = _codec_label(encoding).upper().replace("_", "-")
            field = str(key)[:60] if where == "its value" else "row"
            return (
                _escape(field),
                f"is not valid {label} at byte {offset} of {where} (0x{byte:02X}); pass "
                "--encoding with the file's encoding (for example latin-1 or cp1252)",
            )
    return None


def _codec_label(encoding: str) -> str:
    return "utf-8" if encoding == "utf-8-sig" else encoding


def _escape(text: str) -> str:
    return _ESCAPED.sub(lambda m: f"\\x{ord(m.group()) - 0xDC00:02x}", text)


def _read_csv(path: Path, encoding: str) -> Iterator[SourceRow]:
    _set_field_limit()
    with _open_text(path, encoding) as handle:
        reader = csv.reader(handle)
        header: tuple[str, ...] | None = None
        consumed = 0
        broken: int | None = None
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                start, consumed = consumed + 1, reader.line_num
                if header is None:
                    raise SourceError(f"{path.name}: the header cannot be read: {exc}") from None
                broken = broken or start
                yield SourceRow(start, {}, ("row", f"cannot be read: {str(exc)[:80]}"))
                continue
            start, consumed = consumed + 1, reader.line_num
            if not any(cell.strip() for cell in cells):
                continue
            if header is None:
                header = _check_header(cells)
                continue
            if broken is not None:
                # Past an unreadable cell the reader may be inside it (a quoted cell spans
                # lines): what looks like a row may be the cell's text, so none is sent.
                reason = f"follows the unreadable row at line {broken}, so it is not trusted"
                yield SourceRow(start, {}, ("row", reason))
                continue
            if len(cells) > len(header):
                reason = f"has {len(cells)} cells but the header has only {len(header)}"
                yield SourceRow(start, {}, ("row", reason))
                continue
            # Short rows are common in spreadsheet exports (trailing empty cells dropped).
            values = dict(zip(header, cells, strict=False))
            yield SourceRow(start, values, undecodable(values, encoding))


def _read_jsonl(path: Path, encoding: str) -> Iterator[SourceRow]:
    with path.open("r", encoding=encoding, errors=BYTES_ERRORS, newline=None) as handle:
        number = 0
        while line := handle.readline(MAX_CELL + 1):
            number += 1
            if len(line) > MAX_CELL and not line.endswith("\n"):
                while (rest := handle.readline(_CHUNK)) and not rest.endswith("\n"):
                    pass  # skip the rest of the over-long line, in bounded pieces
                reason = f"is over {MAX_CELL // (1024 * 1024)} MiB"
                yield SourceRow(number, {}, ("json", reason))
                continue
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except (ValueError, RecursionError) as exc:
                detail = "nested too deeply" if isinstance(exc, RecursionError) else exc.args[0]
                reason = f"is not valid JSON ({_escape(str(detail))[:80]})"
                yield SourceRow(number, {}, ("json", reason))
                continue
            if not isinstance(value, dict):
                kind = type(value).__name__
                yield SourceRow(number, {}, ("json", f"must be an object, not {kind}"))
                continue
            yield SourceRow(number, value, undecodable(value, encoding))
