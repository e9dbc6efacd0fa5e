"""Any bytes in any file (issue 17 §3).

Reproductions of the attack: one Latin-1 byte in an email cell crashed the results writer (with
``--output``) or made ``--resume`` refuse the tool's own journal; a CSV cell over 16 MiB and a
JSONL line nested 10⁵ deep exited 1 with a traceback; a UTF-16 file was refused with mojibake
column names; a 1,000,000-column header produced a 10.9 MB message. Each case here must be a row
error or one short message, and whatever the input held must round-trip through the journal
and the results file.
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kartra_async._importing import iter_done, read_journal
from kartra_async.cli import main

from .support import CANARY, SandboxProcess, run_import

HEADER = b"email,first_name,last_name\n"
LATIN1_ROW = b"jos\xe9@example.com,Jos\xe9,Garc\xeda\n"


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    for name in CANARY:
        monkeypatch.delenv(name, raising=False)
    return CliRunner()


def _import(runner: CliRunner, path: Path, *args: str) -> Result:
    return runner.invoke(
        main,
        ["import", str(path), "--sandbox", "--sandbox-rate-limit", "400", "--rate", "390", *args],
    )


#: The calls an import spends before its first row: one per account inventory (custom fields,
#: tags, lists, sequences), read for the account schema.
INVENTORY_CALLS = 4


def _calls(output: str) -> int:
    found = re.search(r"calls received\D*(\d+)", output)
    assert found is not None, output
    return int(found.group(1))


def _clean(result: Result) -> None:
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_a_latin1_byte_is_a_row_error_and_round_trips(
    runner: CliRunner, tmp_path: Path, suffix: str
) -> None:
    leads = tmp_path / "leads.csv"
    leads.write_bytes(HEADER + b"ann@example.com,Ann,Lee\n" + LATIN1_ROW)
    journal, results = tmp_path / "j.jsonl", tmp_path / f"results{suffix}"
    result = _import(runner, leads, "--journal", str(journal), "--output", str(results))
    _clean(result)
    assert result.exit_code == 1, result.output
    assert "row 3: invalid email: is not valid UTF-8 at byte 3 of its value (0xE9)" in " ".join(
        result.output.split()
    )
    assert _calls(result.output) == INVENTORY_CALLS + 1  # Ann only: nothing for row 3
    expected = b"jos\xe9@example.com".decode("utf-8", "kartra_async.bytes")
    # The journal reads back (resume accepts its own journal) with the email intact...
    state = read_journal(journal)
    assert sorted(state.done) == [2, 3]
    assert [r["email"] for r in iter_done(journal) if r["row"] == 3] == [expected]
    # ...and the results file holds the input's bytes (CSV) or their exact escape (JSONL).
    if suffix == ".csv":
        assert b"jos\xe9@example.com" in results.read_bytes()
        rows = list(csv.DictReader(io.StringIO(results.read_bytes().decode("latin-1"))))
        assert next(r for r in rows if r["row"] == "3")["email"] == "jos\xe9@example.com"
    else:
        records = [json.loads(line) for line in results.read_text("utf-8").splitlines()]
        record = next(r for r in records if r["row"] == 3)
        assert (record["email"], record["outcome"]) == (expected, "invalid")


def test_encoding_option_reads_latin1(tmp_path: Path) -> None:
    leads = tmp_path / "leads.csv"
    leads.write_bytes(HEADER + LATIN1_ROW)
    sandbox = SandboxProcess.start(tmp_path)
    try:
        result = run_import([str(leads), "--encoding", "latin-1", "--journal",
                             str(tmp_path / "j.jsonl")], sandbox.url)
    finally:
        _, export = sandbox.stop()
    assert result.returncode == 0, result.stderr
    lead = next(lead for lead in json.loads(export)["leads"] if lead["email"] == "josé@example.com")
    assert (lead["fields"]["first_name"], lead["fields"]["last_name"]) == ("José", "García")


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-be", "utf-32", "utf-8-sig"])
def test_a_file_with_a_byte_order_mark_is_read(runner: CliRunner, tmp_path: Path, codec: str) -> None:
    leads = tmp_path / "leads.csv"
    text = "email,first_name\nzoë@example.com,Zoë\n"
    data = text.encode(codec)
    if codec == "utf-16-be":
        data = b"\xfe\xff" + data
    leads.write_bytes(data)
    result = _import(runner, leads)
    _clean(result)
    assert result.exit_code == 0, result.output
    assert _calls(result.output) == INVENTORY_CALLS + 1


def test_utf16_without_a_mark_is_refused_by_name(runner: CliRunner, tmp_path: Path) -> None:
    leads = tmp_path / "leads.csv"
    leads.write_bytes("email,first_name\na@example.com,Ann\n".encode("utf-16-le"))
    result = _import(runner, leads)
    _clean(result)
    assert result.exit_code == 2
    assert "looks like UTF-16" in result.output
    assert "--encoding utf-16-le" in result.output
    bad = _import(runner, leads, "--encoding", "no-such-codec")
    assert bad.exit_code == 2 and "is not an encoding" in bad.output


def test_a_cell_over_16_mib_is_a_row_error(runner: CliRunner, tmp_path: Path) -> None:
    leads = tmp_path / "leads.csv"
    with leads.open("wb") as handle:
        handle.write(HEADER + b"ann@example.com,Ann,Lee\n")
        handle.write(b'bob@example.com,"' + b"x" * (17 * 1024 * 1024) + b'\nstill",Bob\n')
        handle.write(b"eve@example.com,Eve,Ray\n")
    result = _import(runner, leads)
    _clean(result)
    assert result.exit_code == 1, result.output[-2000:]
    text = " ".join(result.output.split())
    assert "row 3: invalid row: cannot be read: field larger than field limit" in text
    assert "not trusted" in text  # what follows may be the cell's own lines: never sent
    assert _calls(result.output) == INVENTORY_CALLS + 1  # Ann only


def test_a_jsonl_line_nested_deep_is_a_row_error(runner: CliRunner, tmp_path: Path) -> None:
    leads = tmp_path / "leads.jsonl"
    leads.write_bytes(
        b'{"email":"ann@example.com"}\n'
        + b'{"email":' + b"[" * 100_000 + b"]" * 100_000 + b"}\n"
        + b"[" * 100_000 + b"\n"
        + b'{"email":"bob@example.com"}\n'
    )
    result = _import(runner, leads)
    _clean(result)
    assert result.exit_code == 1
    text = " ".join(result.output.split())
    assert "row 2: invalid json" in text and "row 3: invalid json" in text
    assert _calls(result.output) == INVENTORY_CALLS + 2


def test_a_huge_header_is_one_short_message(runner: CliRunner, tmp_path: Path) -> None:
    leads = tmp_path / "leads.csv"
    leads.write_bytes(b",".join(b"c%d" % n for n in range(1_000_000)) + b"\n")
    result = _import(runner, leads)
    _clean(result)
    assert result.exit_code == 2
    assert len(result.output) < 500
    assert "1000000 columns" in result.output
    unknown = tmp_path / "unknown.csv"
    unknown.write_bytes(b"email," + b",".join(b"c%d" % n + b"y" * 500 for n in range(5000)) + b"\n")
    result = _import(runner, unknown)
    assert result.exit_code == 2
    assert "and 4990 more" in result.output
    assert len(result.output) < 2000


CELLS = st.one_of(
    st.sampled_from([b"ann@example.com", b"bob@example.com", b"", b"x", b"=1+1", b'"', b",",
                     b"\n", b"\r", b"\xe9", b"\xff\xfe", b"\x00", b"[", b"{", b"}", b'"email"',
                     b"\xef\xbb\xbf", b"a@b.co\xed\xa0\x80"]),
    st.binary(max_size=12),
)
FILES = st.one_of(
    st.lists(st.lists(CELLS, max_size=4).map(b",".join), max_size=6).map(
        lambda rows: HEADER + b"\n".join(rows)
    ),
    st.lists(CELLS, max_size=12).map(b"".join),
    st.binary(max_size=200),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=FILES, jsonl=st.booleans())
def test_fuzz_any_file_bytes(runner: CliRunner, tmp_path: Path, data: bytes, jsonl: bool) -> None:
    leads = tmp_path / ("fuzz.jsonl" if jsonl else "fuzz.csv")
    leads.write_bytes(data)
    results = tmp_path / "fuzz-results.jsonl"
    results.unlink(missing_ok=True)
    result = _import(runner, leads, "--output", str(results))
    _clean(result)
    assert result.exit_code in (0, 1, 2), result.output
    if result.exit_code == 2:
        return
    records = [json.loads(line) for line in results.read_text("utf-8").splitlines()]
    # No call for an invalid row: the sandbox saw the inventory call plus the sent rows' calls.
    assert all(r["attempts"] == 0 for r in records if r["outcome"] == "invalid")
    assert _calls(result.output) == INVENTORY_CALLS + sum(r["attempts"] for r in records)
