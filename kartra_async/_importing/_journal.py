"""The import journal: an append-only JSONL file that makes an interrupted import resumable
exactly, even after ``kill -9`` or a power cut.

Records, one JSON object per line:

``{"kind": "header", "format": ..., "input": {"name", "sha256", "size"}, "options": {...}}``
    First line. ``options`` holds everything that changes what the import does to the account
    (mode, tags, lists, sequences, points, file format, column mapping). ``--resume`` refuses a
    journal whose input checksum or options differ from the current command's.
``{"kind": "start", "rows": [12, 13, 14], "t": 1764520000.25}``
    Written, flushed and ``fsync``-ed *before* the row can be sent (one per row: the stream
    reads a row only when a slot is free, so at most ``concurrency`` rows are ever started
    and not done). ``t`` (Unix time) is when: on resume, the evidence that tells a lead this
    run created from one that existed before.
``{"kind": "done", "row": 12, "outcome": "created", ...}``
    Written (flushed, fsync-ed with the next batch or on close) once the row's outcome is
    known; also written, without a ``start``, for rows that failed validation and were never
    sent. The fields are the results file's fields.

Resuming reads the journal once, keeping two bit sets (memory: one bit per input line):

- rows with ``done`` are skipped (their results are copied into the new results file);
- rows with ``start`` but no ``done`` were in flight: the call may or may not have reached
  Kartra. They are sent again wrapped in ``Recover`` (``KartraClient.recover``), which never
  applies anything twice:

  - ``--mode create``: the lead is looked up; absent → the call never ran and is sent whole
    (points included); present → only the set-state actions (tags, lists, sequences) are
    re-applied and ``--points`` is reported as outcome ``unknown``;
  - ``--mode upsert``: the upsert runs again (create or edit, fields re-applied) with the
    set-state actions; ``--points`` is not resent and the row ends ``unknown``;
  - ``--mode edit``: edit and set-state actions are re-applied; ``--points`` is ``unknown``
    (an edit carrying only points is not resent at all and is ``unknown``);

- every other row is new and is sent normally.

Why this is exact: a row's call can only be sent after its ``start`` is durable, so a row with
neither record was never sent; a done record is written only after the outcome is final. The
worst case of a crash is therefore "started, maybe sent", which ``Recover`` settles without
applying anything twice. Without ``--points`` the resumed account equals an uninterrupted run's.
With ``--points`` no journal can know whether the points of an in-flight row were applied, so
those rows (at most ``--concurrency`` per interruption) end ``unknown`` and are listed, for a
person to check, rather than risk giving the points twice.

A crash can leave a torn last line; it is ignored when reading and cut off before appending.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any, Final

import attrs

from .._errors import UsageError

FORMAT: Final = "kartra-async-import-journal/1"


class JournalError(UsageError):
    """The journal cannot be used: unreadable, from another file, or for other options."""


class RowSet:
    """A set of row numbers as a growable bit set: 10 million rows cost 1.25 MB."""

    def __init__(self) -> None:
        self._bits = bytearray()
        self._count = 0

    def add(self, row: int) -> None:
        """Add ``row`` (a positive line number)."""
        byte, bit = divmod(row, 8)
        if byte >= len(self._bits):
            self._bits.extend(bytes(byte - len(self._bits) + 1 + len(self._bits) // 2))
        if not self._bits[byte] & (1 << bit):
            self._bits[byte] |= 1 << bit
            self._count += 1

    def __contains__(self, row: object) -> bool:
        if not isinstance(row, int) or row < 0:
            return False
        byte, bit = divmod(row, 8)
        return byte < len(self._bits) and bool(self._bits[byte] & (1 << bit))

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[int]:
        for byte, value in enumerate(self._bits):
            if value:
                yield from (byte * 8 + bit for bit in range(8) if value & (1 << bit))


@attrs.frozen
class JournalHeader:
    """Identifies the import a journal belongs to."""

    input_name: str
    sha256: str
    size: int
    options: Mapping[str, Any]

    def as_json(self) -> dict[str, Any]:
        """The header record."""
        return {
            "kind": "header",
            "format": FORMAT,
            "input": {"name": self.input_name, "sha256": self.sha256, "size": self.size},
            "options": dict(self.options),
        }

    def check_matches(self, other: JournalHeader) -> None:
        """Raise ``JournalError`` unless ``other`` (the current command) is the same import."""
        if (self.sha256, self.size) != (other.sha256, other.size):
            raise JournalError(
                f"the journal belongs to a different input file ({self.input_name}, "
                f"sha256 {self.sha256[:12]}…); this file's sha256 is {other.sha256[:12]}…. "
                "Resume with the file the journal was started with, or start a new journal"
            )
        differing = sorted(
            key
            for key in set(self.options) | set(other.options)
            if self.options.get(key) != other.options.get(key)
        )
        if differing:
            detail = "; ".join(
                f"{key}: journal {self.options.get(key)!r}, now {other.options.get(key)!r}"
                for key in differing
            )
            raise JournalError(
                f"the journal was written with other options ({detail}); resume with the same "
                "options, or start a new journal"
            )


@attrs.define
class JournalState:
    """What a journal says about an interrupted import."""

    header: JournalHeader
    done: RowSet
    in_flight: RowSet
    #: Byte length of the intact part (a torn final line is cut off before appending).
    intact_bytes: int
    #: When each in-flight row was started (Unix time), where the journal says.
    started_at: dict[int, float] = attrs.field(factory=dict)


def read_journal(path: Path) -> JournalState:
    """Read a journal once (streaming): the header, done rows and rows left in flight."""
    done, started = RowSet(), RowSet()
    # Only rows started and not (yet) done are kept: at most a few windows' worth.
    started_at: dict[int, float] = {}
    header: JournalHeader | None = None
    intact = 0
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            try:
                record = json.loads(line)
            except ValueError:
                record = None
            if not line.endswith(b"\n") or not isinstance(record, dict):
                if line.endswith(b"\n") or number == 1:
                    raise JournalError(f"{path}: line {number} is not a journal record")
                break  # a torn last line: the crash happened while writing it
            intact += len(line)
            kind = record.get("kind")
            if number == 1:
                header = _header(path, record)
            elif kind == "start":
                when = record.get("t")
                for row in record.get("rows", ()):
                    started.add(int(row))
                    if isinstance(when, (int, float)):
                        started_at[int(row)] = float(when)
            elif kind == "done":
                done.add(int(record["row"]))
                if record.get("failure") != "unknown":  # kept: --retry-failed recovers it
                    started_at.pop(int(record["row"]), None)
    if header is None:
        raise JournalError(f"{path} is empty: it is not a journal")
    in_flight = RowSet()
    for row in started:
        if row not in done:
            in_flight.add(row)
    return JournalState(
        header=header,
        done=done,
        in_flight=in_flight,
        started_at=started_at,
        intact_bytes=intact,
    )


def iter_done(path: Path) -> Iterator[dict[str, Any]]:
    """The journal's done records, in the order they were written."""
    with path.open("rb") as handle:
        for line in handle:
            if not line.endswith(b"\n") or b'"done"' not in line:
                continue
            record = json.loads(line)
            if isinstance(record, dict) and record.get("kind") == "done":
                yield record


def _header(path: Path, record: Mapping[str, Any]) -> JournalHeader:
    if record.get("kind") != "header" or record.get("format") != FORMAT:
        raise JournalError(f"{path} is not a kartra-async import journal")
    source = record.get("input") or {}
    return JournalHeader(
        input_name=str(source.get("name", "")),
        sha256=str(source.get("sha256", "")),
        size=int(source.get("size", -1)),
        options=dict(record.get("options") or {}),
    )


class JournalWriter:
    """Appends records; ``started`` is durable (fsync) before it returns, ``done`` is flushed."""

    def __init__(self, handle: IO[bytes]) -> None:
        self._handle = handle
        self._dirty = False

    @classmethod
    def create(cls, path: Path, header: JournalHeader) -> JournalWriter:
        """Start a new journal; refuses to overwrite an existing file."""
        try:
            handle = path.open("xb")
        except FileExistsError:
            raise JournalError(
                f"the journal {path} already exists: pass --resume to continue that import, "
                "or delete the file to start over"
            ) from None
        writer = cls(handle)
        writer._write(header.as_json())
        writer.sync()
        _sync_directory(path)
        return writer

    @classmethod
    def append(cls, path: Path, state: JournalState) -> JournalWriter:
        """Continue a journal read by ``read_journal``, cutting off a torn last line."""
        handle = path.open("r+b")
        handle.truncate(state.intact_bytes)
        handle.seek(state.intact_bytes)
        return cls(handle)

    def _write(self, record: Mapping[str, Any]) -> None:
        line = json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"
        # One write per record, flushed at once: a kill -9 loses nothing written before it
        # (the data is in the kernel); fsync additionally survives a power cut.
        self._handle.write(line.encode("utf-8", "surrogateescape"))
        self._handle.flush()
        self._dirty = True

    def write_started(self, rows: Sequence[int]) -> None:
        """Record that ``rows`` are about to be sent (call ``sync`` before sending them)."""
        self._write({"kind": "start", "rows": list(rows), "t": round(time.time(), 3)})

    def write_done(self, record: Mapping[str, Any]) -> None:
        """Record a row's final outcome."""
        self._write({"kind": "done", **record})

    def fileno(self) -> int:
        """The file descriptor, for an ``fsync`` run off the event loop."""
        return self._handle.fileno()

    def sync(self) -> None:
        """Make everything written so far durable."""
        if self._dirty:
            os.fsync(self._handle.fileno())
            self._dirty = False

    def close(self) -> None:
        """Sync and close."""
        if not self._handle.closed:
            self.sync()
            self._handle.close()


def _sync_directory(path: Path) -> None:
    # A new file's directory entry must be durable too, or a power cut can lose the file.
    try:
        fd = os.open(path.parent, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
