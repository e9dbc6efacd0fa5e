"""The real console script against a sandbox in another process: complete runs, kill -9 at
several points followed by --resume, dry runs, and the credential canary."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

import pytest

from kartra_async._importing import read_journal
from kartra_async.sandbox import default_account, export_account

from .support import CANARY, SCRIPT, SandboxProcess, cli_env, run_import, write_leads

ROWS = 80
INVALID = (10, 41)
RATE = "60"  # calls/s: slow enough to kill mid-run, fast enough for a quick suite
OPTIONS = ["--tag", "VIP", "--list", "Newsletter", "--sequence", "Welcome:2",
           "--concurrency", "6", "--rate", RATE]


def _args(csv_path: Path, tmp: Path, mode: str) -> list[str]:
    return [str(csv_path), "--mode", mode, *OPTIONS, "--journal", str(tmp / "journal.jsonl"),
            "--output", str(tmp / "results.jsonl")]


def _assert_no_canary(*texts: str) -> None:
    for text in texts:
        for secret in CANARY.values():
            assert secret not in text


def _complete_run(tmp: Path, mode: str) -> str:
    csv_path = tmp / "leads.csv"
    write_leads(csv_path, ROWS, invalid=INVALID)
    sandbox = SandboxProcess.start(tmp)
    try:
        done = run_import(_args(csv_path, tmp, mode), sandbox.url)
    finally:
        _, export = sandbox.stop()
    assert done.returncode == 1, done.stderr  # the invalid rows make it "some rows failed"
    return export


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The account an uninterrupted run reaches, per mode."""
    return {
        mode: _complete_run(tmp_path_factory.mktemp(f"whole-{mode}"), mode)
        for mode in ("upsert", "create")
    }


def _done_count(journal: Path) -> int:
    if not journal.exists():
        return 0
    return journal.read_bytes().count(b'"kind":"done"')


@pytest.mark.parametrize(
    ("mode", "kill_after"),
    [("upsert", 3), ("upsert", 45), ("create", 25)],
    ids=["upsert-early", "upsert-middle", "create-middle"],
)
def test_kill_9_then_resume_reaches_the_uninterrupted_state(
    tmp_path: Path, uninterrupted: dict[str, str], mode: str, kill_after: int
) -> None:
    csv_path = tmp_path / "leads.csv"
    write_leads(csv_path, ROWS, invalid=INVALID)
    journal = tmp_path / "journal.jsonl"
    sandbox = SandboxProcess.start(tmp_path)
    try:
        args = _args(csv_path, tmp_path, mode)
        victim = subprocess.Popen(
            [SCRIPT, "import", *args, "--base-url", sandbox.url],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=cli_env(),
        )
        deadline = time.monotonic() + 30
        while _done_count(journal) < kill_after and victim.poll() is None:
            assert time.monotonic() < deadline, "the import made no progress"
            time.sleep(0.005)
        victim.send_signal(signal.SIGKILL)
        first_out, first_err = victim.communicate(timeout=10)
        assert victim.returncode == -signal.SIGKILL
        state = read_journal(journal)
        assert kill_after <= len(state.done) < ROWS
        assert len(state.in_flight) > 0  # the kill caught calls between start and done

        resumed = run_import([*args, "--resume"], sandbox.url)
    finally:
        _, export = sandbox.stop()

    assert resumed.returncode == 1, resumed.stderr
    assert "resuming from" in resumed.stderr
    assert export == uninterrupted[mode]
    records = [json.loads(line) for line in (tmp_path / "results.jsonl").read_text().splitlines()]
    assert len(records) == ROWS
    assert len({record["row"] for record in records}) == ROWS
    assert sum(record["outcome"] == "invalid" for record in records) == len(INVALID)
    assert all(r["outcome"] in ("created", "updated", "invalid") for r in records)
    _assert_no_canary(first_out, first_err, resumed.stdout, resumed.stderr,
                      journal.read_text(), (tmp_path / "results.jsonl").read_text())


def test_dry_run_reads_the_account_and_sends_no_lead_call(tmp_path: Path) -> None:
    csv_path = tmp_path / "leads.csv"
    write_leads(csv_path, 20, invalid=(4,))
    sandbox = SandboxProcess.start(tmp_path)
    try:
        result = run_import([str(csv_path), "--dry-run", "--tag", "VIP",
                             "--output", str(tmp_path / "dry.jsonl")], sandbox.url)
    finally:
        output, after = sandbox.stop()
    # One call per inventory (custom fields, tags, lists, sequences), and the account unchanged.
    assert "stopped after 4 calls" in output
    assert after == export_account(default_account(), stable=True)
    assert result.returncode == 1
    assert "invalid email" in result.stderr
    outcomes = [json.loads(line)["outcome"] for line in (tmp_path / "dry.jsonl").read_text().splitlines()]
    assert outcomes.count("valid") == 19
    assert outcomes.count("invalid") == 1
    assert not (tmp_path / "leads.csv.journal.jsonl").exists()


def test_refused_credentials_are_reported_without_leaking_them(tmp_path: Path) -> None:
    csv_path = tmp_path / "leads.csv"
    write_leads(csv_path, 5)
    wrong = tmp_path / "creds.env"
    wrong.write_text(
        f"KARTRA_APP_ID={CANARY['KARTRA_APP_ID']}\n"
        f"KARTRA_API_KEY={CANARY['KARTRA_API_KEY']}\n"
        "KARTRA_API_PASSWORD='pw-CANARY-wrong-one'\n"
    )
    sandbox = SandboxProcess.start(tmp_path)
    try:
        result = run_import([str(csv_path), "--credentials-file", str(wrong)], sandbox.url)
    finally:
        sandbox.stop()
    assert result.returncode == 2
    assert "could not read the account's inventory" in result.stderr
    assert not (tmp_path / "leads.csv.journal.jsonl").exists()  # nothing started, nothing kept
    _assert_no_canary(result.stdout, result.stderr)
    assert "pw-CANARY-wrong-one" not in result.stdout + result.stderr


def test_a_complete_journal_resumes_to_nothing_and_a_rerun_is_refused(tmp_path: Path) -> None:
    csv_path = tmp_path / "leads.csv"
    write_leads(csv_path, 6)
    sandbox = SandboxProcess.start(tmp_path)
    try:
        first = run_import([str(csv_path), "--tag", "VIP"], sandbox.url)
        again = run_import([str(csv_path), "--tag", "VIP"], sandbox.url)
        resumed = run_import([str(csv_path), "--tag", "VIP", "--resume"], sandbox.url)
        other = run_import([str(csv_path), "--tag", "Customer", "--resume"], sandbox.url)
    finally:
        output, _ = sandbox.stop()
    assert first.returncode == 0, first.stderr
    assert again.returncode == 2
    assert "already exists" in again.stderr and "--resume" in again.stderr
    assert resumed.returncode == 0
    assert "6 rows done" in resumed.stderr
    assert other.returncode == 2
    assert "other options" in other.stderr
    # first run: 4 inventory calls (fields, tags, lists, sequences) + 6 rows; the refused rerun
    # and the resume: the 4 inventory calls each
    assert "stopped after 18 calls" in output
