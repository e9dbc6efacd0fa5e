"""``kartra-async sandbox`` options: what it prints at start, --log-requests, --fault and --seed,
--state with --reset-on-start, and bad options or files (exit 2, a message, no traceback)."""

from __future__ import annotations

import asyncio
import json
import signal
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from click.testing import CliRunner

from kartra_async._form import build_query
from kartra_async.cli import main
from kartra_async.sandbox import SandboxAdminClient

from .support import start_sandbox_command


class Running:
    """A ``kartra-async sandbox`` subprocess and what it printed at start."""

    def __init__(self, process: asyncio.subprocess.Process, lines: list[str]) -> None:
        self.process = process
        self.lines = lines
        self.url = lines[0].rsplit(" ", 1)[-1]
        self.inspector = lines[1].removeprefix("inspector: ")
        written = [line for line in lines if line.startswith("credentials written to ")]
        self.credentials_file = Path(written[0].removeprefix("credentials written to "))

    def credentials(self) -> dict[str, str]:
        values = dict(line.split("=", 1) for line in self.credentials_file.read_text().splitlines())
        return {
            "app_id": values["KARTRA_APP_ID"],
            "api_key": values["KARTRA_API_KEY"],
            "api_password": values["KARTRA_API_PASSWORD"],
        }

    async def call(self, payload: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        body = build_query({**self.credentials(), **payload})
        async with aiohttp.ClientSession() as http, http.post(self.url, data=body) as response:
            raw = await response.read()
            return response.status, json.loads(raw) if response.status == 200 else {}

    async def stop(self) -> tuple[str, str]:
        self.process.send_signal(signal.SIGINT)
        out, err = await asyncio.wait_for(self.process.communicate(), 30)
        assert self.process.returncode == 0, err.decode()
        return out.decode(), err.decode()


async def _start(*args: str, until: str) -> Running:
    """Start the sandbox; read what it prints up to the line starting with ``until``."""
    return Running(*await start_sandbox_command(*args, until=until))


def _create(email: str) -> dict[str, Any]:
    return {"lead": {"email": email}, "actions": [{"cmd": "create_lead"}]}


async def test_start_prints_urls_and_the_credentials_file_and_logs_each_call(
    tmp_path: Path,
) -> None:
    state = tmp_path / "state.json"
    running = await _start(
        "--log-requests",
        "--fault",
        "http_503:1:get_lead",
        "--state",
        str(state),
        until="state:",
    )
    assert running.lines[0].startswith("Kartra sandbox listening on http://127.0.0.1:")
    assert running.inspector == running.url.removesuffix("/api") + "/_sandbox/"
    assert running.credentials_file.stat().st_mode & 0o077 == 0
    assert "faults: http_503:1:get_lead (seed 0)" in running.lines
    assert running.lines[-1] == f"state: starting fresh, saved to {state} on exit"
    status, reply = await running.call(_create("cli@example.com"))
    assert (status, reply["status"]) == (200, "Success")
    status, _ = await running.call({"get_lead": {"email": "cli@example.com"}})
    assert status == 503
    async with SandboxAdminClient(running.inspector) as admin:
        assert (await admin.lead("cli@example.com"))["email"] == "cli@example.com"
        assert (await admin.health())["record_events"] is True
    secrets = running.credentials()
    out, err = await running.stop()
    logged = [line for line in out.splitlines() if " app=" in line]
    assert len(logged) == 2
    assert " 200 Success create_lead cli@example.com " in logged[0]
    assert " 503 - get_lead cli@example.com " in logged[1]
    assert logged[1].endswith("fault=http_503")
    for secret in secrets.values():
        assert secret not in out
        assert secret not in err
    assert not running.credentials_file.exists(), "the generated credentials file is removed"
    assert f"state saved to {state}" in out
    assert "cli@example.com" in {lead["email"] for lead in json.loads(state.read_text())["leads"]}

    # Started again on the same state, the lead is there; with --reset-on-start it is not.
    again = await _start("--state", str(state), until="state:")
    assert again.lines[-1] == f"state: loaded from {state} (saved there on exit)"
    async with SandboxAdminClient(again.inspector) as admin:
        assert (await admin.leads(email="cli@"))["total"] == 1
    await again.stop()
    fresh = await _start("--state", str(state), "--reset-on-start", until="state:")
    async with SandboxAdminClient(fresh.inspector) as admin:
        assert (await admin.leads(email="cli@"))["total"] == 0
    await fresh.stop()
    assert "cli@example.com" not in state.read_text()


async def _statuses(seed: str) -> list[int]:
    running = await _start(
        "--fault", "http_500:0.5", "--seed", seed, "--rate-limit", "off", until="faults:"
    )
    try:
        return [await _status(running) for _ in range(16)]
    finally:
        await running.stop()


async def _status(running: Running) -> int:
    body = build_query({**running.credentials(), "actions": [{"cmd": "retrieve_account_tags"}]})
    async with aiohttp.ClientSession() as http, http.post(running.url, data=body) as response:
        await response.read()
        return response.status


async def test_the_seed_makes_faults_reproducible() -> None:
    first, second, other = await asyncio.gather(_statuses("7"), _statuses("7"), _statuses("8"))
    assert first == second
    assert set(first) == {200, 500}
    assert first != other


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--fault", "boom:0.5"], "unknown fault kind 'boom'"),
        (["--fault", "http_500:1.5"], "a number between 0 and 1"),
        (["--fault", "http_500"], "expected KIND:RATE[:cmd[,cmd...]]"),
        (["--reset-on-start"], "only with --state FILE"),
    ],
)
def test_bad_options_exit_2_with_a_message(args: list[str], message: str) -> None:
    result = CliRunner().invoke(main, ["sandbox", "--port", "0", *args])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not a sandbox account export"),
        ("[]", "not a sandbox account export"),
        ('{"format": 99}', "not a sandbox account export"),
    ],
)
@pytest.mark.parametrize("option", ["--state", "--account"])
def test_bad_state_or_account_files_exit_2(
    tmp_path: Path, option: str, content: str, message: str
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    result = CliRunner().invoke(main, ["sandbox", "--port", "0", option, str(bad)])
    assert result.exit_code == 2
    assert message in result.output
    assert option in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
