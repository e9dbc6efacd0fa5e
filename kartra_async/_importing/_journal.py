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
    (points included); present and joined after ``t`` → only the set-state actions (tags,
    lists, sequences) are re-applied and ``--points`` is reported as outcome ``unknown``;
    present and older → Kartra refused the create (244), nothing more is sent;
  - ``--mode upsert``: the lead is looked up; absent → the whole upsert is sent (points
    included); present → edited with the set-state actions, ``--points`` is not resent and
    the row ends ``unknown``;
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

Every line also carries ``seq`` (0 for the header, then 1, 2, 3, ...) and ends with
``"sum":"<16 hex digits>"}``: a running checksum, the first 64 bits of
``sha256(previous sum + this line up to its "sum" field)``, the header's chained from nothing.
Any record may carry more fields (a ``failure``, anything a later version adds); the checksum
covers them all, byte for byte as written, so reading never depends on re-serialising.

Damage is refused, never guessed around: a line that is not a record, a checksum that does not
follow (a cut mid-file, a line edited, inserted or moved), a sequence gap or repeat, a record of
an unknown kind, or a row number that is not a whole number between 1 and the input's line
count: each raises ``JournalError`` with the line number and what to do. The one damage a crash
can cause, a torn final write (a last line with no newline), is ignored and cut off before
appending. A journal cut *at a line boundary* near its end looks intact; the lock file's witness
(``_lock``) records the last ``start`` record written, and a journal that no longer holds it is
refused as cut, since its missing rows would be sent again. The checksum detects damage, not
forgery: anyone can compute it.

Values are written with ``ensure_ascii``: any string the input held (lone surrogates from bytes
that were not UTF-8 included) reads back identical.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any, Final

import attrs

from .._errors import UsageError
from ._lock import JournalLock

FORMAT: Final = "kartra-async-import-journal/2"
_OLD_FORMATS: Final = ("kartra-async-import-journal/1",)
_KINDS: Final = ("start", "done")
#: Journal lines are small (a result record); a longer line is damage, and is not read whole.
MAX_LINE: Final = 256 * 1024
#: Without a bound from the input, row numbers stop here (a bit set of 125 MB).
MAX_ROW: Final = 1_000_000_000
_SUM_TAIL = re.compile(rb',"sum":"([0-9a-f]{16})"\}\n\Z')


class JournalError(UsageError):
    """The journal cannot be used: unreadable, damaged, from another file, or other options."""


def chain(previous: str, body: bytes) -> str:
    """The running checksum of a record whose line, up to its ``"sum"`` field, is ``body``."""
    return hashlib.sha256(previous.encode("ascii") + body).hexdigest()[:16]


def seal(previous: str, record: Mapping[str, Any]) -> tuple[bytes, str]:
    """The journal line of ``record`` (which holds its ``seq``) and its running checksum."""
    text = json.dumps(record, ensure_ascii=True, separators=(",", ":"), allow_nan=False)
    body = text[:-1].encode("ascii")  # without the closing brace
    checksum = chain(previous, body)
    return body + b',"sum":"' + checksum.encode("ascii") + b'"}\n', checksum


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
    #: Sequence number and running checksum of the last intact record (appending goes on).
    seq: int = 0
    checksum: str = ""
    #: Lines read (the header included), for messages.
    lines: int = 0
    #: The header's checksum: identifies this journal (the lock file's witness names it).
    identity: str = ""
    #: When each row still in doubt (in flight, or done as ``unknown``) was started, in Unix
    #: time: on resume, the evidence that tells a lead this run created from an older one.
    started_at: dict[int, float] = attrs.field(factory=dict)


def read_journal(path: Path, *, max_row: int | None = None) -> JournalState:
    """Read a journal once (streaming): the header, done rows and rows left in flight.

    ``max_row`` bounds the row numbers (the input's line count); damage of any kind raises
    ``JournalError`` naming the line (see the module docstring).
    """
    limit = MAX_ROW if max_row is None else min(max_row, MAX_ROW)
    done, started = RowSet(), RowSet()
    # Only rows started and not settled are kept: at most a few windows' worth.
    started_at: dict[int, float] = {}
    header: JournalHeader | None = None
    identity = ""
    intact = 0
    checksum = ""
    number = 0
    with path.open("rb") as handle:
        while line := handle.readline(MAX_LINE + 1):
            number += 1
            if not line.endswith(b"\n"):
                if number == 1:
                    raise JournalError(f"{path} is not a kartra-async import journal")
                if len(line) > MAX_LINE:
                    raise _damaged(path, number, "is too long to be a journal record")
                break  # a torn final write: the crash happened while writing it
            record, checksum = _unseal(path, number, line, checksum)
            if number == 1:
                header = _header(path, record)
                identity = checksum
            else:
                _apply(path, number, record, limit, done, started, started_at)
            intact += len(line)
    if header is None:
        raise JournalError(f"{path} is empty: it is not a journal")
    in_flight = RowSet()
    for row in started:
        if row not in done:
            in_flight.add(row)
    lines = max(number - (1 if intact < path.stat().st_size else 0), 1)
    return JournalState(
        header=header,
        done=done,
        in_flight=in_flight,
        intact_bytes=intact,
        seq=lines - 1,
        checksum=checksum,
        lines=lines,
        identity=identity,
        started_at=started_at,
    )


def check_witness(path: Path, state: JournalState, witness: Mapping[str, Any]) -> None:
    """Refuse a journal that lost ``start`` records the lock file saw written (a cut)."""
    first = _first_checksum(path)
    if witness.get("journal") != first:
        return  # the lock file witnessed another journal (or none): nothing to compare
    seq, checksum = witness.get("seq"), witness.get("sum")
    if not isinstance(seq, int) or isinstance(seq, bool) or not isinstance(checksum, str):
        return
    if seq > state.seq or (seq == state.seq and checksum != state.checksum):
        raise JournalError(
            f"{path}: the journal was cut: it ends after line {state.lines}, but the last "
            f"import wrote {seq + 1} records (its lock file, {path.name}.lock, says so). Rows "
            "started after the cut could be sent twice. Restore the whole journal and resume; "
            "if the machine lost power while importing and you accept that risk, delete the "
            "lock file and resume"
        )
    if seq < state.seq and _checksum_at(path, seq) != checksum:
        raise JournalError(
            f"{path}: line {seq + 1} is not the record the last import wrote there (its lock "
            f"file, {path.name}.lock, disagrees): the journal was replaced or edited. Restore "
            "the journal, or start a new one"
        )


def _first_checksum(path: Path) -> str:
    return _checksum_at(path, 0)


def _checksum_at(path: Path, seq: int) -> str:
    with path.open("rb") as handle:
        for number, line in enumerate(iter(lambda: handle.readline(MAX_LINE + 1), b"")):
            if number == seq:
                found = _SUM_TAIL.search(line)
                return found.group(1).decode("ascii") if found else ""
    return ""


def _unseal(path: Path, number: int, line: bytes, previous: str) -> tuple[dict[str, Any], str]:
    """The record of an intact line and its checksum, or ``JournalError`` for damage."""
    tail = _SUM_TAIL.search(line)
    if tail is None:
        if number == 1:
            return _legacy_or_foreign(path, line), ""
        raise _damaged(path, number, "is not a journal record (no checksum)")
    body = line[: tail.start()]
    checksum = tail.group(1).decode("ascii")
    if chain(previous, body) != checksum:
        if number == 1:
            raise JournalError(
                f"{path} is not a kartra-async import journal, or its header (line 1) is damaged"
            )
        raise _damaged(
            path,
            number,
            "does not follow the line before it (checksum mismatch): a part of the journal "
            "was cut out, edited, moved or inserted",
        )
    try:
        record = json.loads(body + b"}")
    except (ValueError, RecursionError):
        raise _damaged(path, number, "is not valid JSON") from None
    if not isinstance(record, dict):
        raise _damaged(path, number, "is not a JSON object")
    seq = record.get("seq")
    if type(seq) is not int or seq != number - 1:
        raise _damaged(
            path,
            number,
            f"has sequence number {seq!r:.20}, expected {number - 1}: a gap or a reordering",
        )
    return record, checksum


def _legacy_or_foreign(path: Path, line: bytes) -> dict[str, Any]:
    try:
        record = json.loads(line)
    except (ValueError, RecursionError):
        record = None
    if isinstance(record, dict) and record.get("format") in _OLD_FORMATS:
        raise JournalError(
            f"{path} was written by an older kartra-async whose journals cannot detect damage; "
            "finish that import with the version that started it, or start a new journal"
        )
    raise JournalError(f"{path} is not a kartra-async import journal")


def _apply(
    path: Path,
    number: int,
    record: Mapping[str, Any],
    limit: int,
    done: RowSet,
    started: RowSet,
    started_at: dict[int, float],
) -> None:
    kind = record.get("kind")
    if kind == "start":
        rows = record.get("rows")
        if not isinstance(rows, list) or not rows:
            raise _damaged(path, number, "is a start record without a list of rows")
        when = record.get("t")
        for row in rows:
            started.add(_row(path, number, row, limit))
            if isinstance(when, (int, float)) and not isinstance(when, bool):
                started_at[int(row)] = float(when)
    elif kind == "done":
        row = _row(path, number, record.get("row"), limit)
        done.add(row)
        if record.get("failure") != "unknown":  # kept: --retry-failed recovers an unknown row
            started_at.pop(row, None)
    else:
        raise _damaged(path, number, f"has an unknown kind {kind!r:.40}")


def _row(path: Path, number: int, row: object, limit: int) -> int:
    if type(row) is not int:
        raise _damaged(path, number, f"has a row that is not a whole number ({row!r:.40})")
    if not 1 <= row <= limit:
        raise _damaged(path, number, f"names row {row}, but the input has rows 1 to {limit} only")
    return row


def _damaged(path: Path, number: int, reason: str) -> JournalError:
    return JournalError(
        f"{path}: line {number} {reason}. The journal is damaged, and resuming from it could "
        "send rows twice or skip them. Restore it from a copy, or check the account and start "
        "a new journal (delete this one)"
    )


def iter_done(path: Path) -> Iterator[dict[str, Any]]:
    """The journal's done records, in the order they were written (read ``read_journal`` first:
    this trusts the journal it checked)."""
    with path.open("rb") as handle:
        while line := handle.readline(MAX_LINE + 1):
            if not line.endswith(b"\n") or b'"kind":"done"' not in line:
                continue
            tail = _SUM_TAIL.search(line)
            if tail is None:
                continue
            record = json.loads(line[: tail.start()] + b"}")
            if isinstance(record, dict) and record.get("kind") == "done":
                record.pop("seq", None)
                yield record


def _header(path: Path, record: Mapping[str, Any]) -> JournalHeader:
    if record.get("kind") != "header" or record.get("format") != FORMAT:
        raise JournalError(f"{path} is not a kartra-async import journal")
    source = record.get("input")
    options = record.get("options")
    if not isinstance(source, dict) or not isinstance(options, dict):
        raise JournalError(f"{path}: line 1 is a damaged journal header")
    size = source.get("size")
    return JournalHeader(
        input_name=str(source.get("name", ""))[:200],
        sha256=str(source.get("sha256", ""))[:64],
        size=size if type(size) is int else -1,
        options=options,
    )


class JournalWriter:
    """Appends records; ``started`` is durable (fsync) before it returns, ``done`` is flushed.

    With a ``JournalLock`` it keeps the lock file's witness up to date (see ``_lock``).
    """

    def __init__(
        self,
        handle: IO[bytes],
        *,
        seq: int = -1,
        checksum: str = "",
        lock: JournalLock | None = None,
    ) -> None:
        self._handle = handle
        self._dirty = False
        self._seq = seq
        self._checksum = checksum
        self._lock = lock

    @classmethod
    def create(
        cls, path: Path, header: JournalHeader, *, lock: JournalLock | None = None
    ) -> JournalWriter:
        """Start a new journal; refuses to overwrite an existing file."""
        try:
            handle = path.open("xb")
        except FileExistsError:
            raise JournalError(
                f"the journal {path} already exists: pass --resume to continue that import, "
                "or delete the file to start over"
            ) from None
        writer = cls(handle, lock=lock)
        writer._write(header.as_json())
        writer.sync()
        _sync_directory(path)
        if lock is not None:
            lock.note_journal(writer._checksum)
        return writer

    @classmethod
    def append(
        cls, path: Path, state: JournalState, *, lock: JournalLock | None = None
    ) -> JournalWriter:
        """Continue a journal read by ``read_journal``, cutting off a torn last line."""
        handle = path.open("r+b")
        handle.truncate(state.intact_bytes)
        handle.seek(state.intact_bytes)
        if lock is not None:
            # Everything read is on disk: the witness goes on from the last intact record.
            lock.note_journal(state.identity)
            lock.note_started(state.seq, state.checksum)
        return cls(handle, seq=state.seq, checksum=state.checksum, lock=lock)

    def _write(self, record: Mapping[str, Any]) -> None:
        self._seq += 1
        line, self._checksum = seal(self._checksum, {**record, "seq": self._seq})
        # One write per record, flushed at once: a kill -9 loses nothing written before it
        # (the data is in the kernel); fsync additionally survives a power cut.
        self._handle.write(line)
        self._handle.flush()
        self._dirty = True

    def write_started(self, rows: Sequence[int]) -> None:
        """Record that ``rows`` are about to be sent (call ``sync`` before sending them)."""
        self._write({"kind": "start", "rows": list(rows), "t": round(time.time(), 3)})
        if self._lock is not None:
            self._lock.note_started(self._seq, self._checksum)

    def write_done(self, record: Mapping[str, Any]) -> None:
        """Record a row's final outcome (any extra fields are kept and checksummed)."""
        fields = {key: value for key, value in record.items() if key not in ("seq", "sum")}
        self._write({"kind": "done", **fields})

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
