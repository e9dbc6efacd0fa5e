"""``kartra-async import --redis-url``: the run paces through a shared Redis pacer."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from click.testing import CliRunner

from kartra_async.cli import main

from .support import write_leads


@pytest.fixture
def redis_url() -> Iterator[str]:
    binary = shutil.which("redis-server")
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("redis-server is not installed; CI must provide it")
        pytest.skip("redis-server is not installed")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    try:
        client = redis.Redis.from_url(url)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.05)
        client.close()
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_import_paces_through_redis(redis_url: str, tmp_path: Path) -> None:
    path = tmp_path / "leads.csv"
    write_leads(path, 10)
    result = CliRunner().invoke(
        main,
        ["import", str(path), "--sandbox", "--sandbox-rate-limit", "200", "--rate", "150",
         "--redis-url", redis_url, "--tag", "VIP"],
    )
    assert result.exit_code == 0, result.output
    assert "created" in result.output
    client = redis.Redis.from_url(redis_url)
    try:
        keys = client.keys("*")
    finally:
        client.close()
    assert keys  # the shared pacer kept its schedule in this Redis
