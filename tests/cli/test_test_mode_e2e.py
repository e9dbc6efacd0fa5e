"""Test Mode through the real console script: a Test Mode sandbox in another process, an
import killed with SIGKILL and resumed, then a second run that upserts every row again."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

from kartra_async.sandbox import load_account

from .support import SCRIPT, SandboxProcess, cli_env, run_import, write_leads

ROWS = 60
OPTIONS = ["--mode", "upsert", "--tag", "VIP", "--concurrency", "6", "--rate", "60"]


def _args(csv_path: Path, tmp: Path, name: str) -> list[str]:
    return [str(csv_path), *OPTIONS, "--journal", str(tmp / f"{name}.jsonl"),
            "--output", str(tmp / f"{name}-results.jsonl")]


def _get(email: str, url: str, *flags: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [SCRIPT, "get", email, "--json", "--base-url", url, *flags],
        capture_output=True, text=True, env=cli_env(), timeout=60, check=False,
    )


def _outcomes(path: Path) -> list[str]:
    return [json.loads(line)["outcome"] for line in path.read_text().splitlines()]


def test_import_killed_resumed_and_rerun_in_test_mode(tmp_path: Path) -> None:
    csv_path = tmp_path / "leads.csv"
    write_leads(csv_path, ROWS)
    journal = tmp_path / "first.jsonl"
    sandbox = SandboxProcess.start(tmp_path, options=("--test-mode",))
    try:
        args = [*_args(csv_path, tmp_path, "first"), "--test-mode"]
        victim = subprocess.Popen(
            [SCRIPT, "import", *args, "--base-url", sandbox.url],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=cli_env(),
        )
        deadline = time.monotonic() + 30
        while (not journal.exists() or journal.read_bytes().count(b'"kind":"done"') < 20) \
                and victim.poll() is None:
            assert time.monotonic() < deadline, "the import made no progress"
            time.sleep(0.005)
        victim.send_signal(signal.SIGKILL)
        victim.communicate(timeout=10)
        assert victim.returncode == -signal.SIGKILL

        resumed = run_import([*args, "--resume"], sandbox.url)
        assert resumed.returncode == 0, resumed.stderr
        # The next run: the same rows again, Test Mode from the environment this time.
        rerun = run_import(_args(csv_path, tmp_path, "second"), sandbox.url,
                           KARTRA_TEST_MODE="1")
        assert rerun.returncode == 0, rerun.stderr
        found = _get("lead0@example.com", sandbox.url, "--test-mode")
        missed = _get("lead0@example.com", sandbox.url)
    finally:
        _, export = sandbox.stop()

    first = _outcomes(tmp_path / "first-results.jsonl")
    assert len(first) == ROWS
    assert set(first) <= {"created", "updated"}
    assert _outcomes(tmp_path / "second-results.jsonl") == ["updated"] * ROWS
    account = load_account(sandbox.export_path)
    stored = sorted(lead.email for lead in account.leads.values() if "lead" in lead.email)
    assert stored == sorted(f"lead{index}@kartra.com" for index in range(ROWS))
    vip = account.tags["VIP"]
    assert all(lead.tags == [vip] for lead in account.leads.values() if "lead" in lead.email)
    assert '"lead0@example.com"' not in export
    assert found.returncode == 0, found.stderr
    assert json.loads(found.stdout)["email"] == "lead0@kartra.com"
    assert missed.returncode == 1  # without Test Mode the address as given finds nothing
