"""Day two of an import: a dry run that agrees with the real run, recovery after the server
died mid-import (with the circuit breaker and its resume command), the rejects file, and safe
credentials files."""

from __future__ import annotations

import csv
import json
import os
import re
import shlex
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import attrs

from kartra_async.sandbox import export_account, load_account

from .support import CANARY, SCRIPT, cli_env, run_import, write_leads

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "leads.csv"
FAST = ["--rate", "900", "--concurrency", "16"]


@attrs.define
class Server:
    """``kartra-async sandbox`` as its own process, stopped and restarted on the same port
    with the state it saved (its account export), like a Kartra outage."""

    tmp: Path
    port: int = 0
    process: subprocess.Popen[str] | None = None
    url: str = ""
    generation: int = 0

    def start(self) -> Server:
        export = self.tmp / f"state-{self.generation}.json"
        args = [SCRIPT, "sandbox", "--port", str(self.port), "--rate-limit", "2000",
                "--export-on-exit", str(export)]
        if self.generation:
            args += ["--account", str(self.tmp / f"state-{self.generation - 1}.json")]
        self.process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                        text=True, env=cli_env())
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        match = re.search(r"(http://127\.0\.0\.1:(\d+)/api)", line)
        assert match is not None, line
        self.url, self.port = match.group(1), int(match.group(2))
        return self

    def stop(self) -> str:
        """Stop (SIGTERM: it saves its state); return that state in stable form."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        self.process.communicate(timeout=20)
        saved = self.tmp / f"state-{self.generation}.json"
        self.generation += 1
        return export_account(load_account(saved), stable=True)


def _records(path: Path) -> dict[int, dict[str, Any]]:
    return {r["row"]: r for r in map(json.loads, path.read_text().splitlines())}


def _assert_agree(dry: dict[int, dict[str, Any]], real: dict[int, dict[str, Any]]) -> None:
    assert dry.keys() == real.keys()
    for row, expected in dry.items():
        got = real[row]
        if expected["outcome"] == "valid":
            assert got["outcome"] in ("created", "updated"), (row, got)
        else:
            assert (got["outcome"], got["field"], got["error"]) == (
                expected["outcome"], expected["field"], expected["error"]), row


def _jsonl_with_option_names(path: Path) -> None:
    rows: list[dict[str, Any]] = []
    colours, interests = ["blue", "Brown", "green", "2"], [["email", "video"], ["events"], "video|8"]
    for i in range(60):
        rows.append({"email": f"j{i}@example.com", "first_name": f"J{i}",
                     "cf:colour": colours[i % 4], "cf:interests": interests[i % 3],
                     "cf:gender": "female" if i % 2 else "male"})
    rows[7]["cf:colour"] = "purple"
    rows[19]["cf:interests"] = ["email", "sms"]
    rows[33]["cf:favourite"] = "x"  # no such custom field in the account
    rows[41]["email"] = "not-an-email"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))


def test_dry_run_agrees_with_the_real_run_row_for_row(tmp_path: Path) -> None:
    jsonl = tmp_path / "names.jsonl"
    _jsonl_with_option_names(jsonl)
    server = Server(tmp_path).start()
    try:
        for source in (EXAMPLES, jsonl):
            dry, real = tmp_path / f"dry-{source.name}.jsonl", tmp_path / f"real-{source.name}.jsonl"
            common = [str(source), "--tag", "VIP", *FAST, "--journal", str(tmp_path / f"{source.name}.j")]
            checked = run_import([*common, "--dry-run", "--output", str(dry)], server.url)
            assert checked.returncode == 1, checked.stderr
            assert "account checks skipped" not in checked.stderr
            done = run_import([*common, "--output", str(real)], server.url)
            assert done.returncode == 1, done.stderr
            _assert_agree(_records(dry), _records(real))
        assert _records(tmp_path / "dry-leads.csv.jsonl")[400]["field"] == "cf:colour"
        names = _records(tmp_path / "dry-names.jsonl.jsonl")
        assert {row for row, r in names.items() if r["outcome"] == "invalid"} == {8, 20, 34, 42}
        assert "'sms' is not an option" in names[20]["error"]
    finally:
        server.stop()
    # Offline (no credentials): one line says so, and only account-free problems are reported.
    env = {k: v for k, v in cli_env().items() if k not in CANARY}
    offline = subprocess.run([SCRIPT, "import", str(jsonl), "--dry-run", "--output",
                              str(tmp_path / "off.jsonl")], capture_output=True, text=True,
                             env=env, timeout=60, check=False)
    assert offline.stderr.count("account checks skipped") == 1
    off = _records(tmp_path / "off.jsonl")
    assert {row for row, r in off.items() if r["outcome"] == "invalid"} == {42}


def test_outage_breaker_then_resume_retry_failed_equals_an_uninterrupted_run(
    tmp_path: Path,
) -> None:
    leads = tmp_path / "leads.csv"
    write_leads(leads, 120, invalid=(5,))
    # --mode create: a call cut off by the shutdown (a stale pooled connection) is looked up on
    # resume and, absent, sent whole with its points; upsert would have to leave them unknown.
    options = ["--mode", "create", "--tag", "VIP", "--list", "Newsletter", "--points", "3",
               "--rate", "80", "--concurrency", "4", "--max-consecutive-failures", "5"]

    whole = Server(tmp_path / "whole")
    (tmp_path / "whole").mkdir()
    whole.start()
    done = run_import([str(leads), *options, "--journal", str(tmp_path / "w.j")], whole.url)
    expected = whole.stop()
    assert done.returncode == 1, done.stderr

    journal = tmp_path / "leads.csv.journal.jsonl"
    server = Server(tmp_path).start()
    victim = subprocess.Popen([SCRIPT, "import", str(leads), *options, "--base-url", server.url],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env=cli_env())
    deadline = time.monotonic() + 30
    while not journal.exists() or journal.read_bytes().count(b'"kind":"done"') < 40:
        assert time.monotonic() < deadline and victim.poll() is None
        time.sleep(0.005)
    server.stop()  # the outage: the import keeps going, against nothing
    _, err = victim.communicate(timeout=60)
    assert victim.returncode == 4, err
    assert "5 rows in a row could not be sent" in err
    command = shlex.split(err.split("resume with:", 1)[1].strip().splitlines()[0])
    assert command[0] == "kartra-async" and command[-2:] == ["--resume", "--retry-failed"]
    failed = [r for r in map(json.loads, journal.read_text().splitlines())
              if r.get("kind") == "done" and r["outcome"] == "failed"]
    assert failed and all(r["failure"] == "not_sent" for r in failed)
    assert len(_done_rows(journal)) < 120  # rows not started were left for the resume

    server.start()  # same port, the state it saved
    resumed = subprocess.run([SCRIPT, *command[1:]], capture_output=True, text=True,
                             env=cli_env(), timeout=60, check=False)
    final = server.stop()
    assert resumed.returncode == 1, resumed.stderr  # the one invalid row
    assert "failed rows sent again" in resumed.stdout
    assert final == expected  # same leads, tags, lists, and points given exactly once


def _done_rows(journal: Path) -> set[int]:
    return {r["row"] for r in map(json.loads, journal.read_text().splitlines())
            if r.get("kind") == "done"}


def test_rejects_file_reimports_cleanly_once_fixed(tmp_path: Path) -> None:
    leads = tmp_path / "leads.csv"
    write_leads(leads, 30, invalid=(3, 17))
    with leads.open(newline="") as handle:
        rows = list(csv.reader(handle))
    rows[9][5] = "purple"  # not an option of cf:colour
    with leads.open("w", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)
    rejects = tmp_path / "rejects.csv"
    server = Server(tmp_path).start()
    try:
        first = run_import([str(leads), "--rejects", str(rejects), *FAST], server.url)
        assert first.returncode == 1
        assert "rejects:" in first.stderr
        with rejects.open(newline="") as handle:
            rejected = list(csv.DictReader(handle))
        assert len(rejected) == 3
        assert {r["field"] for r in rejected} == {"email", "cf:colour"}
        assert all(r["failure"] == "not_sent" and r["reason"] for r in rejected)
        for index, row in enumerate(rejected):  # the fix a person would make
            row["email"] = f"fixed{index}@example.com"
            row["cf:colour"] = "blue" if row["cf:colour"] == "purple" else row["cf:colour"]
        with rejects.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rejected[0]), lineterminator="\n")
            writer.writeheader()
            writer.writerows(rejected)
        again = run_import([str(rejects), *FAST, "--output", str(tmp_path / "again.jsonl")],
                           server.url)
    finally:
        server.stop()
    assert again.returncode == 0, again.stderr
    assert {r["outcome"] for r in _records(tmp_path / "again.jsonl").values()} == {"created"}


def test_jsonl_rejects_keep_the_input_objects(tmp_path: Path) -> None:
    source = tmp_path / "names.jsonl"
    _jsonl_with_option_names(source)
    rejects = tmp_path / "rejects.jsonl"
    result = subprocess.run([SCRIPT, "import", str(source), "--dry-run", "--sandbox",
                             "--rejects", str(rejects)], capture_output=True, text=True,
                            env=cli_env(), timeout=60, check=False)
    assert result.returncode == 1
    lines = [json.loads(line) for line in rejects.read_text().splitlines()]
    assert [line["email"] for line in lines] == ["j7@example.com", "j19@example.com",
                                                 "j33@example.com", "not-an-email"]
    assert lines[1]["cf:interests"] == ["email", "sms"] and lines[1]["field"] == "cf:interests[1]"


def test_sandbox_credentials_file_carries_the_url_and_never_leaves_loopback(
    tmp_path: Path,
) -> None:
    creds = tmp_path / "creds.env"
    env = {k: v for k, v in cli_env().items() if k not in CANARY}
    server = subprocess.Popen([SCRIPT, "sandbox", "--port", "0", "--credentials-file", str(creds)],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    try:
        assert server.stdout is not None
        url = re.search(r"http://\S+/api", server.stdout.readline())
        assert url is not None
        text = creds.read_text()
        assert f"KARTRA_BASE_URL={url.group(0)}\n" in text
        assert re.search(r"^KARTRA_API_KEY=sandbox-", text, re.M)
        assert os.stat(creds).st_mode & 0o777 == 0o600
        ok = subprocess.run([SCRIPT, "inventory", "--credentials-file", str(creds)],
                            capture_output=True, text=True, env=env, timeout=30, check=False)
        assert ok.returncode == 0, ok.stderr
        assert "VIP" in ok.stdout and "warning" not in ok.stderr
        creds.chmod(0o644)
        refused = subprocess.run(
            [SCRIPT, "inventory", "--credentials-file", str(creds),
             "--base-url", "https://app.kartra.com/api"],
            capture_output=True, text=True, env=env, timeout=30, check=False)
    finally:
        server.send_signal(signal.SIGTERM)
        output, _ = server.communicate(timeout=20)
    assert "can be read by its group and others" in refused.stderr and "chmod 600" in refused.stderr
    assert refused.returncode == 2
    assert "generated by a kartra-async sandbox" in refused.stderr
    assert "stopped after 1 calls" in output  # only the loopback inventory reached it
    secrets = [line.split("=", 1)[1] for line in text.splitlines() if "BASE_URL" not in line]
    for secret in secrets:
        assert secret not in refused.stdout + refused.stderr + ok.stdout + ok.stderr


def test_verbose_and_json_logs_show_a_dead_endpoint_at_once() -> None:
    with socket.socket() as holder:  # a port nothing listens on once closed
        holder.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{holder.getsockname()[1]}/api"
    for extra, check in ((["-v"], "retrying"), (["--log-format", "json"], '"level": "info"')):
        started = time.monotonic()
        process = subprocess.Popen([SCRIPT, "inventory", "--base-url", dead, *extra],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                   env=cli_env())
        assert process.stderr is not None
        first = process.stderr.readline()
        elapsed = time.monotonic() - started
        process.kill()
        process.communicate(timeout=10)
        assert check in first and "cannot connect" in first
        assert elapsed < 5  # the process start dominates; the failure itself is immediate
        if extra[0] == "--log-format":
            assert json.loads(first)["logger"] == "kartra_async"
