"""Fixtures: a real ``redis-server`` on 127.0.0.1 on a free port, one per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from redis_server_process import RedisServer, free_port, redis_binary


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer(redis_binary(), free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()
