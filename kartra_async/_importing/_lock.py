"""One importer per journal: an exclusive ``flock`` on ``<journal>.lock``, held for the whole run.

Two importers appending to one journal at once double everything (both send the rows the
journal does not show as done). The lock is the kernel's, so it vanishes with its process: a
lock file left by a process that died (``kill -9``, a power cut) is simply locked again by the
next run: there is no stale state to clean up and no pid guess to get wrong.

The file also serves as the journal's witness. It holds, as one JSON line rewritten in place:
the holder's ``pid`` and start time (so a refused importer can name the one running), the
journal's identity (its header checksum) and the sequence number and checksum of the last
``start`` record written (on resuming: of the last record read, all of which is on disk). A
journal cut at the end looks exactly like one whose last write was torn by a crash; the witness
tells them apart (see ``_journal.check_witness``). It is updated with ``pwrite`` only (no
fsync): it survives a ``kill -9`` because the kernel holds the data.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from pathlib import Path
from typing import Any

from .._errors import UsageError

LOCK_SUFFIX = ".lock"
#: A witness line is a few hundred bytes; more is not a witness.
_MAX_WITNESS = 4096


class JournalBusy(UsageError):
    """Another process holds the journal's lock: it is importing with this journal right now."""


def lock_path(journal: Path) -> Path:
    """The lock file beside ``journal``."""
    return journal.with_name(journal.name + LOCK_SUFFIX)


class JournalLock:
    """The exclusive lock of one journal, with the witness it keeps (see the module docstring)."""

    def __init__(self, journal: Path, fd: int, previous: dict[str, Any]) -> None:
        self.journal = journal
        self.path = lock_path(journal)
        self._fd = fd
        #: What the lock file said before this process took it (the last holder's witness).
        self.previous = previous
        self._state: dict[str, Any] = {"pid": os.getpid(), "started": _now()}

    @classmethod
    def acquire(cls, journal: Path) -> JournalLock:
        """Take the lock now or raise ``JournalBusy`` naming the holder; never waits."""
        path = lock_path(journal)
        while True:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = _read(fd)
                os.close(fd)
                raise JournalBusy(_busy_message(journal, holder)) from None
            except OSError:
                os.close(fd)
                raise
            # The previous holder may have removed the file between our open and our lock:
            # then we hold a lock on an orphan inode and must start again on the new file.
            try:
                same = os.path.samestat(os.fstat(fd), os.stat(path))
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        lock = cls(journal, fd, _read(fd))
        lock._save()
        return lock

    def note_journal(self, identity: str) -> None:
        """Record which journal this lock now witnesses (its header checksum)."""
        self._state.update(journal=identity, seq=0, sum=identity)
        self._save()

    def note_started(self, seq: int, checksum: str) -> None:
        """Record the last ``start`` record written (sequence number and running checksum)."""
        self._state.update(seq=seq, sum=checksum)
        self._save()

    def release(self) -> None:
        """Unlock; the file stays as the witness unless the journal was never created."""
        if self._fd < 0:
            return
        try:
            if not self.journal.exists():
                # Removed while still locked, so no one can be holding it (see ``acquire``).
                self.path.unlink(missing_ok=True)
        finally:
            os.close(self._fd)
            self._fd = -1

    def _save(self) -> None:
        data = (json.dumps(self._state, separators=(",", ":")) + "\n").encode()
        os.pwrite(self._fd, data, 0)
        os.ftruncate(self._fd, len(data))

    def __enter__(self) -> JournalLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def _read(fd: int) -> dict[str, Any]:
    try:
        data = os.pread(fd, _MAX_WITNESS, 0)
        value = json.loads(data.decode("ascii"))
    except (OSError, ValueError, RecursionError):
        return {}
    return value if isinstance(value, dict) else {}


def _busy_message(journal: Path, holder: dict[str, Any]) -> str:
    pid = holder.get("pid")
    who = f"process {pid}" if isinstance(pid, int) and not isinstance(pid, bool) else "a process"
    started = holder.get("started")
    since = f", running since {started}" if isinstance(started, str) and len(started) < 40 else ""
    return (
        f"the journal {journal} is in use by another import ({who}{since}); two importers on "
        "one journal would send rows twice. Wait for it to finish (or stop it), then run this "
        "command again"
    )


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
