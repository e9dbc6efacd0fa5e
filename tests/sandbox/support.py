"""Helpers for the sandbox tests: a fixed wall clock, credentials, payload builders."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import aiohttp

from kartra_async._form import FormValue, build_query
from kartra_async.sandbox import SandboxCredentials
from kartra_async.sandbox._state import EASTERN

#: Noon, 1 June 2026, US Eastern: the wall clock of every deterministic account in these tests.
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=EASTERN).timestamp()
CREDENTIALS = SandboxCredentials("app-test", "key-test", "pw-test")


def fixed_clock() -> float:
    """The tests' wall clock."""
    return NOW


def chain(
    email: str | None, *actions: Mapping[str, FormValue], **lead: FormValue
) -> dict[str, FormValue]:
    """A request payload: ``lead`` (with ``email`` when given) and the actions."""
    payload: dict[str, FormValue] = {"actions": list(actions)}
    lead_map: dict[str, FormValue] = dict(lead)
    if email is not None:
        lead_map["email"] = email
    if lead_map:
        payload["lead"] = lead_map
    return payload


def code(reply: dict[str, Any]) -> int:
    """The reply's type code as an int (0 when it has none)."""
    return int(reply.get("type") or 0)


async def post(
    session: aiohttp.ClientSession,
    url: str,
    payload: dict[str, FormValue],
    *,
    credentials: bool = True,
) -> tuple[int, bytes, str]:
    """POST a form payload; return status, raw body and content type."""
    body = build_query({**CREDENTIALS.as_dict(), **payload} if credentials else payload)
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    async with session.post(url, data=body, headers=headers) as response:
        return response.status, await response.read(), response.headers.get("Content-Type", "")


async def start_sandbox_command(
    *args: str, until: str
) -> tuple[asyncio.subprocess.Process, list[str]]:
    """``kartra-async sandbox --port 0 ARGS`` in a subprocess, and the lines it printed up to
    (and including) the first one starting with ``until``."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "from kartra_async.cli import main; main()",
        "sandbox",
        "--port",
        "0",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    lines: list[str] = []
    while not lines or not lines[-1].startswith(until):
        line = await asyncio.wait_for(process.stdout.readline(), 30)
        assert line, f"the sandbox exited early: {lines}"
        lines.append(line.decode().rstrip("\n"))
    return process, lines
