"""Journals that detect damage (issue 17 §2).

Reproduction of the attack: a journal cut mid-file was taken as a torn last line and the rows
after the cut were sent again (68 of 200 leads got double points, no warning); JSON lines that
are not records (``"row": "abc"``, no ``row``, ``rows: [99999999999]``, 10⁵ nested brackets)
crashed with raw tracebacks, and ``rows: [-5]`` was silently accepted. Every case here must be a
clean exit 2 naming the line, and a cut journal must not send anything again.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from kartra_async._importing import (
    JournalError,
    JournalHeader,
    JournalLock,
    JournalWriter,
    check_witness,
    file_facts,
    read_journal,
)
from kartra_async._importing._journal import chain, seal
from kartra_async.cli import main

from .support import CANARY, SandboxProcess, run_import, write_leads

ROWS = 30


def _header() -> JournalHeader:
    return JournalHeader("a.csv", "ab" * 32, 100, {"mode": "upsert"})


def _journal(path: Path, rows: int = 6) -> list[bytes]:
    writer = JournalWriter.create(path, _header())
    for row in range(2, rows + 2, 2):
        writer.write_started([row, row + 1])
        writer.write_done({"row": row, "outcome": "created", "failure": None})
        writer.write_done({"row": row + 1, "outcome": "failed", "failure": "rejected"})
    writer.close()
    return path.read_bytes().splitlines(keepends=True)


def assert_refused(path: Path, match: str, **options: Any) -> str:
    with pytest.raises(JournalError, match=match) as caught:
        read_journal(path, **options)
    return str(caught.value)


def test_an_intact_journal_reads_back_with_extra_fields(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    lines = _journal(path)
    assert len(lines) == 1 + 3 * 3
    state = read_journal(path, max_row=100)
    assert sorted(state.done) == list(range(2, 8))
    assert (state.seq, state.lines) == (9, 10)
    # Extra fields (i13's ``failure``) ride along, covered by the checksum.
    assert b'"failure":"rejected"' in lines[3]


@pytest.mark.parametrize(
    ("damage", "line", "why"),
    [
        (lambda ls: ls[:4] + ls[6:], 5, "checksum mismatch"),  # a cut with lines after it
        (lambda ls: [*ls[:4], ls[4][:len(ls[4]) // 2] + ls[6], *ls[7:]], 5, "checksum"),
        (lambda ls: [*ls[:3], ls[4], ls[3], *ls[5:]], 4, "checksum mismatch"),  # reordered
        (lambda ls: ls[:3] + ls[2:], 4, "checksum mismatch"),  # a line repeated
        (lambda ls: [*ls[:5], b'{"kind":"done","row":7,"outcome":"created"}\n', *ls[5:]], 6,
         "no checksum"),  # a foreign line
        (lambda ls: [*ls[:2], ls[2].replace(b'"created"', b'"updated"'), *ls[3:]], 3,
         "checksum mismatch"),  # an edited line
    ],
    ids=["cut", "cut-mid-line", "reordered", "repeated", "foreign", "edited"],
)
def test_damage_anywhere_but_the_end_is_refused_with_its_line(
    tmp_path: Path, damage: Any, line: int, why: str
) -> None:
    path = tmp_path / "j.jsonl"
    path.write_bytes(b"".join(damage(_journal(path))))
    message = assert_refused(path, f"line {line} ")
    assert why in message
    assert "Restore it from a copy" in message  # the way out


def _sealed(path: Path, *records: dict[str, Any]) -> None:
    """A journal whose checksums are right but whose records are not (a buggy writer)."""
    header = {**_header().as_json(), "seq": 0}
    line, checksum = seal("", header)
    lines = [line]
    for seq, record in enumerate(records, start=1):
        line, checksum = seal(checksum, {**record, "seq": seq})
        lines.append(line)
    path.write_bytes(b"".join(lines))


@pytest.mark.parametrize(
    ("record", "why"),
    [
        ({"kind": "done", "row": "abc"}, "not a whole number"),
        ({"kind": "done", "outcome": "created"}, "not a whole number"),
        ({"kind": "done", "row": True}, "not a whole number"),
        ({"kind": "done", "row": 2.0}, "not a whole number"),
        ({"kind": "start", "rows": [99999999999]}, "names row 99999999999"),
        ({"kind": "start", "rows": [10**400]}, "names row"),
        ({"kind": "start", "rows": [-5]}, "names row -5"),
        ({"kind": "start", "rows": [0]}, "names row 0"),
        ({"kind": "start", "rows": 5}, "without a list"),
        ({"kind": "start"}, "without a list"),
        ({"kind": "done", "row": 101}, "rows 1 to 100 only"),
        ({"kind": "teleport", "row": 3}, "unknown kind"),
        ({"kind": "header", "row": 3}, "unknown kind"),
    ],
)
def test_malformed_records_are_refused(tmp_path: Path, record: dict[str, Any], why: str) -> None:
    path = tmp_path / "j.jsonl"
    _sealed(path, {"kind": "start", "rows": [2]}, record)
    assert why in assert_refused(path, "line 3 ", max_row=100)


@pytest.mark.parametrize(
    "line",
    [
        b"[" * 100_000 + b"]" * 100_000 + b"\n",
        b'{"a":' * 100_000 + b"1" + b"}" * 100_000 + b"\n",
        b"x" * 300_000 + b"\n",
        b'{"kind":"done","row":3,"seq":1,"sum":"0000000000000000"}\n',
        b"\xff\xfe garbage\n",
    ],
    ids=["nested-list", "nested-object", "huge", "wrong-sum", "bytes"],
)
def test_hostile_lines_are_refused_without_a_traceback(tmp_path: Path, line: bytes) -> None:
    path = tmp_path / "j.jsonl"
    path.write_bytes(b"".join(_journal(path)[:3]) + line + b"".join(_journal_tail()))
    assert_refused(path, "line 4 ")
    first = tmp_path / "first.jsonl"
    first.write_bytes(line)
    assert_refused(first, "not a kartra-async import journal")


def _journal_tail() -> list[bytes]:
    return [b'{"kind":"done","row":2}\n']


def test_a_deeply_nested_record_with_a_valid_checksum_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    header = {**_header().as_json(), "seq": 0}
    line, checksum = seal("", header)
    body = b'{"kind":"done","row":2,"x":' + b"[" * 100_000 + b"]" * 100_000
    forged = body + b',"sum":"' + chain(checksum, body).encode() + b'"}\n'
    path.write_bytes(line + forged)
    assert_refused(path, "line 2 ")


def test_a_torn_final_write_is_still_accepted(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    lines = _journal(path)
    path.write_bytes(b"".join(lines) + lines[4][:20])
    state = read_journal(path)
    assert state.lines == len(lines)
    appended = JournalWriter.append(path, state)
    appended.write_done({"row": 99, "outcome": "created"})
    appended.close()
    assert 99 in read_journal(path).done  # the chain goes on across the cut-off tear


def test_a_cut_at_the_end_is_caught_by_the_lock_files_witness(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    with JournalLock.acquire(path) as lock:
        writer = JournalWriter.create(path, _header(), lock=lock)
        for row in (2, 3, 4):
            writer.write_started([row])
            writer.write_done({"row": row, "outcome": "created"})
        writer.close()
    whole = path.read_bytes()
    lines = whole.splitlines(keepends=True)
    with JournalLock.acquire(path) as lock:
        witness = lock.previous
    check_witness(path, read_journal(path), witness)  # intact: accepted
    # Only done records lost: harmless (those rows are reconciled), accepted.
    path.write_bytes(b"".join(lines[:-1]))
    check_witness(path, read_journal(path), witness)
    # Start records lost at a line boundary, or mid-line (looks like a torn final write).
    for cut in (b"".join(lines[:4]), whole[: len(b"".join(lines[:5])) + 7]):
        path.write_bytes(cut)
        with pytest.raises(JournalError, match="the journal was cut") as caught:
            check_witness(path, read_journal(path), witness)
        assert "lock file" in str(caught.value)


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    for name in CANARY:
        monkeypatch.delenv(name, raising=False)
    return CliRunner()


@pytest.mark.parametrize(
    "bad",
    [
        b'{"kind":"done","row":"abc"}\n',
        b'{"kind":"start","rows":[99999999999]}\n',
        b'{"kind":"start","rows":[-5]}\n',
        b"[" * 100_000 + b"\n",
    ],
)
def test_the_cli_exits_2_with_the_line(runner: CliRunner, tmp_path: Path, bad: bytes) -> None:
    leads = tmp_path / "leads.csv"
    write_leads(leads, 5)
    journal = tmp_path / "j.jsonl"
    facts = file_facts(leads, "csv")
    JournalWriter.create(journal, JournalHeader("leads.csv", facts.sha256, facts.size, {})).close()
    with journal.open("ab") as handle:
        handle.write(bad)
    result = runner.invoke(main, ["import", str(leads), "--resume", "--journal", str(journal)])
    assert result.exit_code == 2, result.output
    assert "line 2 " in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_a_cut_journal_resumed_sends_nothing_twice(tmp_path: Path) -> None:
    csv_path = tmp_path / "leads.csv"
    write_leads(csv_path, ROWS)
    journal = tmp_path / "journal.jsonl"
    args = [str(csv_path), "--points", "3", "--journal", str(journal)]
    sandbox = SandboxProcess.start(tmp_path)
    try:
        assert run_import(args, sandbox.url).returncode == 0
        whole = journal.read_bytes()
        journal.write_bytes(whole[: len(whole) // 2])  # cut mid-file, mid-line
        resumed = run_import([*args, "--resume"], sandbox.url)
    finally:
        _, export = sandbox.stop()
    assert resumed.returncode == 2, resumed.stderr
    assert "the journal was cut" in resumed.stderr
    assert "Traceback" not in resumed.stderr
    leads = [lead for lead in json.loads(export)["leads"] if lead["email"].startswith("lead")]
    assert len(leads) == ROWS
    assert {lead["score"] for lead in leads} == {3}  # no points given twice
