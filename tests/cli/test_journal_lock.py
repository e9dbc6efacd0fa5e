"""One importer per journal (issue 17 §1).

Reproduction of the attack: ``import --resume`` started while the first import was still
running on the same journal gave 150 of 200 leads their points twice. Here the second importer
must be refused at once (exit 2, naming the first one's pid) and the account must show every
lead's points exactly once.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kartra_async._importing import JournalBusy, JournalLock, lock_path, read_journal

from .support import SCRIPT, SandboxProcess, cli_env, run_import, write_leads

ROWS = 40


def _started(journal: Path) -> bool:
    return journal.exists() and b'"kind":"start"' in journal.read_bytes()


def test_a_second_importer_on_a_running_journal_is_refused_at_once(tmp_path: Path) -> None:
    csv_path = tmp_path / "leads.csv"
    write_leads(csv_path, ROWS)
    journal = tmp_path / "journal.jsonl"
    args = [str(csv_path), "--points", "3", "--concurrency", "4", "--rate", "25",
            "--journal", str(journal)]
    sandbox = SandboxProcess.start(tmp_path)
    try:
        first = subprocess.Popen(
            [SCRIPT, "import", *args, "--base-url", sandbox.url],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=cli_env(),
        )
        deadline = time.monotonic() + 30
        while not _started(journal):
            assert first.poll() is None and time.monotonic() < deadline
            time.sleep(0.01)
        began = time.monotonic()
        second = run_import([*args, "--resume"], sandbox.url)
        refused_in = time.monotonic() - began
        also_new = run_import(args, sandbox.url)  # without --resume: refused the same way
        _, first_err = first.communicate(timeout=60)
    finally:
        _, export = sandbox.stop()
    assert second.returncode == 2, second.stderr
    assert f"in use by another import (process {first.pid}" in second.stderr
    assert "Traceback" not in second.stderr
    assert also_new.returncode == 2 and f"process {first.pid}" in also_new.stderr
    assert refused_in < 10  # at once: it does not wait for the lock (the CLI starts in ~1 s)
    assert first.returncode == 0, first_err
    leads = [lead for lead in json.loads(export)["leads"] if lead["email"].startswith("lead")]
    assert len(leads) == ROWS
    assert sorted({lead["score"] for lead in leads}) == [3]  # points given once, each
    assert len(read_journal(journal).done) == ROWS


_HOLDER = """
import sys, time
from pathlib import Path
from kartra_async._importing import JournalLock
lock = JournalLock.acquire(Path(sys.argv[1]))
print("locked", flush=True)
time.sleep(60)
"""


def test_the_lock_of_a_killed_process_is_recovered(tmp_path: Path) -> None:
    journal = tmp_path / "j.jsonl"
    journal.write_bytes(b"")
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(journal)],
        stdout=subprocess.PIPE, text=True, env={**os.environ},
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
        with pytest.raises(JournalBusy, match=f"process {holder.pid}"):
            JournalLock.acquire(journal)
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.communicate(timeout=10)
    # The dead process's lock file is still there, with its pid; the kernel dropped the lock.
    assert json.loads(lock_path(journal).read_text())["pid"] == holder.pid
    with JournalLock.acquire(journal) as lock:
        assert lock.previous["pid"] == holder.pid
        assert json.loads(lock_path(journal).read_text())["pid"] == os.getpid()


def test_the_lock_file_goes_when_no_journal_was_made(tmp_path: Path) -> None:
    journal = tmp_path / "never.jsonl"
    with JournalLock.acquire(journal):
        assert lock_path(journal).exists()
    assert not lock_path(journal).exists()
    # A lock file removed under a waiting opener is not a lock: taking it again works.
    with JournalLock.acquire(journal):
        pass
