"""``kartra-async sandbox`` as a subprocess: starts, answers, stops cleanly on SIGINT/SIGTERM."""

from __future__ import annotations

import asyncio
import json
import signal
from pathlib import Path

import aiohttp
import pytest

from kartra_async._form import build_query

from .support import start_sandbox_command


async def _start(*args: str) -> tuple[asyncio.subprocess.Process, str]:
    process, lines = await start_sandbox_command(*args, until="Kartra sandbox listening on")
    url = lines[-1].rsplit(" ", 1)[-1].strip()
    assert url.startswith("http://127.0.0.1:")
    return process, url


def _read_credentials(path: Path) -> dict[str, str]:
    values = dict(line.split("=", 1) for line in path.read_text().splitlines())
    return {
        "app_id": values["KARTRA_APP_ID"],
        "api_key": values["KARTRA_API_KEY"],
        "api_password": values["KARTRA_API_PASSWORD"],
    }


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
async def test_standalone_sandbox(tmp_path: Path, signum: signal.Signals) -> None:
    secrets_file = tmp_path / "credentials.env"
    export = tmp_path / "export.json"
    process, url = await _start(
        "--credentials-file",
        str(secrets_file),
        "--export-on-exit",
        str(export),
        "--rate-limit",
        "off",
    )
    try:
        credentials = _read_credentials(secrets_file)
        assert secrets_file.stat().st_mode & 0o077 == 0
        body = build_query(
            {
                **credentials,
                "lead": {"email": "cli@example.com"},
                "actions": [{"cmd": "create_lead"}],
            }
        )
        async with aiohttp.ClientSession() as http, http.post(url, data=body) as response:
            reply = json.loads(await response.read())
        assert reply["status"] == "Success"
    finally:
        process.send_signal(signum)
        out, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, err.decode()
    text = out.decode()
    assert "stopped after 1 calls" in text
    for secret in credentials.values():
        assert secret not in text
        assert secret not in err.decode()
    exported = json.loads(export.read_text())
    assert "cli@example.com" in {lead["email"] for lead in exported["leads"]}


async def test_credentials_from_the_environment_and_shown_on_request(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KARTRA_APP_ID", "env-app")
    monkeypatch.setenv("KARTRA_API_KEY", "env-key")
    monkeypatch.setenv("KARTRA_API_PASSWORD", "env-pw")
    process, url = await _start("--show-credentials")
    try:
        body = build_query(
            {
                "app_id": "env-app",
                "api_key": "env-key",
                "api_password": "env-pw",
                "actions": [{"cmd": "retrieve_account_tags"}],
            }
        )
        async with aiohttp.ClientSession() as http, http.post(url, data=body) as response:
            assert json.loads(await response.read())["status"] == "Success"
    finally:
        process.send_signal(signal.SIGINT)
        out, _ = await asyncio.wait_for(process.communicate(), 30)
    assert "export KARTRA_API_PASSWORD=env-pw" in out.decode()
    assert process.returncode == 0
