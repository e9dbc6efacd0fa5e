"""``kartra-async listen`` as a real process: JSONL on stdout, clean stop on signals."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from .payloads import ipn_body, outbound

_LISTENING = re.compile(r"listening on http://127\.0\.0\.1:(\d+)/")


def _start(*args: str) -> tuple[subprocess.Popen[str], int]:
    process = subprocess.Popen(
        [sys.executable, "-c", "from kartra_async.cli import main; main()", "listen",
         "--port", "0", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    assert process.stderr is not None
    line = process.stderr.readline()
    match = _LISTENING.search(line)
    if match is None:
        process.kill()
        process.wait()
        pytest.fail(f"listen did not start: {line!r}")
    return process, int(match[1])


@pytest.fixture
def listener(request: pytest.FixtureRequest) -> Iterator[tuple[subprocess.Popen[str], int]]:
    args: tuple[str, ...] = getattr(request, "param", ())
    process, port = _start(*args)
    yield process, port
    if process.poll() is None:
        process.kill()
    process.communicate(timeout=10)


def _post(port: int, body: bytes, content_type: str) -> int:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/kartra", data=body,
                                     headers={"Content-Type": content_type}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_prints_events_as_jsonl_and_stops_on_signal(
    listener: tuple[subprocess.Popen[str], int], signum: int
) -> None:
    process, port = listener
    assert _post(port, json.dumps(outbound("assign_tag")).encode(), "application/json") == 200
    assert _post(port, ipn_body("rebill"), "application/x-www-form-urlencoded") == 200
    assert _post(port, b"{broken", "application/json") == 400
    os.kill(process.pid, signum)
    stdout, stderr = process.communicate(timeout=10)
    assert process.returncode == 0
    lines = [json.loads(line) for line in stdout.splitlines()]
    assert [line["event"] for line in lines] == ["TagEvent", "IpnNotification"]
    assert lines[0]["tag"]["name"] == "VIP"
    assert lines[1]["full_amount"] == "97.00"
    assert "s3cret" not in stdout + stderr
    assert "Traceback" not in stderr


@pytest.fixture
def secret_file(tmp_path: Path) -> Path:
    path = tmp_path / "ipn-secret"
    path.write_text("s3cret\n", encoding="utf-8")
    return path


def test_ipn_secret_file_is_enforced(secret_file: Path) -> None:
    process, port = _start("--ipn-secret-file", str(secret_file))
    try:
        assert _post(port, ipn_body("one_time_sale"), "application/x-www-form-urlencoded") == 200
        wrong = ipn_body("one_time_sale", secret_key="guess")
        assert _post(port, wrong, "application/x-www-form-urlencoded") == 403
    finally:
        os.kill(process.pid, signal.SIGTERM)
        stdout, _ = process.communicate(timeout=10)
    assert process.returncode == 0
    assert len(stdout.splitlines()) == 1
