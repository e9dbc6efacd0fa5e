"""The fault soak through the CLI (issue 8 §1, §2, §4): ``kartra-async import`` against a faulty
sandbox, whole and killed with SIGKILL during a burst of retries then resumed.

The CLI's own tests (``tests/cli``) cover kill -9 and resume on a healthy sandbox; these add
faults, a never-replayed ``--points`` action, and a canary searched through every output. The
sandbox runs in this process so its request log can serve as the ground truth, and the CLI runs
as a real child process (``asyncio`` subprocess, so the sandbox keeps serving).
"""

from __future__ import annotations

import asyncio
import csv
import json
import os
import signal
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from kartra_async import Credentials, LeadRequest, encode
from kartra_async._form import parse_query
from kartra_async._importing import read_journal
from kartra_async.sandbox import (
    FaultKind,
    FaultRule,
    Faults,
    Sandbox,
    SandboxCredentials,
    default_account,
    export_account,
    process,
)

from .soak import LOST_AFTER_COMMIT, POINTS_CMD

pytestmark = pytest.mark.slow

SCRIPT = str(Path(sys.executable).with_name("kartra-async"))
ROWS = 150
POINTS = 5
CORES = ("Rx4appCANARY", "Rx4keyCANARY", "Rx4pwCANARY")
CANARY = SandboxCredentials(f"app-{CORES[0]}", f"key={CORES[1]}&", f"pw {CORES[2]}%")


def email_of(index: int) -> str:
    return f"cli-soak-{index:04d}@example.com"


def first_name_of(index: int) -> str:
    return f'Zoë, "{index}" & Co'


def write_csv(path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["email", "first_name"])
        for index in range(ROWS):
            writer.writerow([email_of(index), first_name_of(index)])


def faults() -> Faults:
    return Faults(
        FaultRule(FaultKind.LATENCY, probability=0.3, delay=(0.0, 0.01)),
        FaultRule(FaultKind.RESET_BEFORE, probability=0.03),
        FaultRule(FaultKind.RESET_AFTER, probability=0.03),
        FaultRule(FaultKind.HTTP_503, probability=0.02),
        FaultRule(FaultKind.MALFORMED_JSON, probability=0.01),
        seed=11,
    )


def expected_account() -> dict[str, Any]:
    """Every row applied once, by the engine alone (no network, faults or retries)."""
    account = default_account()
    credentials = Credentials("app", "key", "pw")
    oracle = SandboxCredentials("app", "key", "pw")
    for index in range(ROWS):
        call = (
            LeadRequest(email=email_of(index), first_name=first_name_of(index))
            .create()
            .assign_tag("VIP")
            .subscribe("Newsletter")
            .give_points(POINTS)
        )
        form = parse_query(encode(call, credentials))
        assert process(account, form, credentials=oracle, now=account.now()).status == "Success"
    return json.loads(export_account(account, stable=True))  # type: ignore[no-any-return]


def cli_env(url: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("KARTRA_")}
    env.update(
        zip(
            ("KARTRA_APP_ID", "KARTRA_API_KEY", "KARTRA_API_PASSWORD"),
            (CANARY.app_id, CANARY.api_key, CANARY.api_password),
            strict=True,
        )
    )
    env["KARTRA_BASE_URL"] = url
    return env


def import_args(tmp: Path) -> list[str]:
    return [
        "import",
        str(tmp / "leads.csv"),
        "--mode",
        "create",
        "--tag",
        "VIP",
        "--list",
        "Newsletter",
        "--points",
        str(POINTS),
        "--rate",
        "200",
        "--concurrency",
        "8",
        "--journal",
        str(tmp / "journal.jsonl"),
        "--output",
        str(tmp / "results.jsonl"),
    ]


async def start_import(tmp: Path, url: str, *extra: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        SCRIPT,
        *import_args(tmp),
        *extra,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=cli_env(url),
    )


async def finish(child: asyncio.subprocess.Process) -> tuple[int, str]:
    out, err = await asyncio.wait_for(child.communicate(), 120)
    assert child.returncode is not None
    return child.returncode, out.decode() + err.decode()


async def poll(condition: Callable[[], bool], limit: float = 60.0) -> None:
    """Wait until ``condition`` holds (checked every 5 ms), at most ``limit`` seconds."""
    for _ in range(int(limit / 0.005)):
        if condition():
            return
        await asyncio.sleep(0.005)
    raise AssertionError("the import made no progress")


def done_rows(journal: Path) -> int:
    return journal.read_bytes().count(b'"kind":"done"') if journal.exists() else 0


def judge(sandbox: Sandbox, tmp: Path, outputs: list[str]) -> None:
    """Every invariant the soak promises, from the sandbox's log and account."""
    records = [json.loads(line) for line in (tmp / "results.jsonl").read_text().splitlines()]
    by_email = {record["email"]: record for record in records}
    assert sorted(by_email) == sorted(email_of(index) for index in range(ROWS))
    assert len(records) == ROWS

    creates: Counter[str] = Counter()
    points: Counter[str] = Counter()
    lost: set[str] = set()
    for record in sandbox.log:
        assert record.type != "244", f"a create was resent blindly for {record.email}"
        if record.status != "Success":
            continue
        if "create_lead" in record.cmds:
            creates[record.email] += 1
        if POINTS_CMD in record.cmds:
            points[record.email] += 1
            if record.fault in LOST_AFTER_COMMIT:
                lost.add(record.email)
    assert set(creates.values()) == {1}
    assert len(creates) == ROWS
    assert max(points.values()) == 1  # never replayed
    unknown = {email for email, record in by_email.items() if record["outcome"] == "unknown"}
    assert {record["outcome"] for record in records} <= {"created", "unknown"}
    # A lost points reply is always reported; a kill can add rows whose points were in flight.
    assert lost <= unknown
    for email in unknown - lost:
        assert by_email[email]["error_type"] == "OutcomeUnknown"

    # The account equals the expected one, except for points the run could not know about,
    # which must match what actually committed (0 or once).
    actual = json.loads(sandbox.export(stable=True))
    expected = expected_account()
    for row in actual["leads"]:
        email = row["email"]
        if email in unknown:
            assert row["score"] == POINTS * points[email]
            row["score"] = POINTS
            row["grants"] = []
    assert actual == expected

    for text in outputs:
        assert not [core for core in CORES if core in text]


async def test_cli_import_under_faults_reaches_the_expected_account(tmp_path: Path) -> None:
    write_csv(tmp_path / "leads.csv")
    async with Sandbox(credentials=CANARY, rate_limit=1000, faults=faults(), seed=11) as sandbox:
        code, output = await finish(await start_import(tmp_path, sandbox.url))
        assert code in (0, 1), output
        judge(
            sandbox,
            tmp_path,
            [
                output,
                (tmp_path / "journal.jsonl").read_text(),
                (tmp_path / "results.jsonl").read_text(),
            ],
        )
    assert sandbox.stats.faults["reset_after"] > 0


async def test_cli_killed_during_a_burst_of_retries_then_resumed(tmp_path: Path) -> None:
    write_csv(tmp_path / "leads.csv")
    journal = tmp_path / "journal.jsonl"
    async with Sandbox(credentials=CANARY, rate_limit=1000, faults=faults(), seed=11) as sandbox:
        victim = await start_import(tmp_path, sandbox.url)
        await poll(lambda: done_rows(journal) >= ROWS // 2 or victim.returncode is not None)
        # A burst: every call fails ambiguously for a while, so retries and reconciliations
        # are in flight when the process dies.
        burst = sandbox.faults.force(FaultKind.HTTP_503, count=40)
        sandbox.faults.force(FaultKind.RESET_AFTER, count=10)
        before = sandbox.stats.calls
        await poll(lambda: sandbox.stats.calls >= before + 15 or victim.returncode is not None)
        victim.send_signal(signal.SIGKILL)
        killed_code, killed_output = await finish(victim)
        assert killed_code == -signal.SIGKILL
        assert done_rows(journal) < ROWS
        assert burst.count is not None and burst.count < 40  # the burst hit the running import
        assert read_journal(journal).in_flight  # the kill caught rows between start and done

        sandbox.faults.clear()
        for rule in faults().rules:
            sandbox.faults.add(rule)
        code, output = await finish(await start_import(tmp_path, sandbox.url, "--resume"))
        assert code in (0, 1), output
        assert "resuming from" in output
        judge(
            sandbox,
            tmp_path,
            [killed_output, output, journal.read_text(), (tmp_path / "results.jsonl").read_text()],
        )
