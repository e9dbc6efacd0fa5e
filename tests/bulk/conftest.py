"""Fixtures for the bulk tests: a sandbox without a rate limit and a client wired to it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from kartra_async import KartraClient
from kartra_async.sandbox import Sandbox

from .support import client_for


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    """A started sandbox on the default account, no rate limit, no faults yet."""
    async with Sandbox(rate_limit=None, seed=7) as sb:
        yield sb


@pytest.fixture
async def client(sandbox: Sandbox) -> AsyncIterator[KartraClient]:
    """A client on ``sandbox`` with fast retries and no pacing."""
    async with client_for(sandbox) as kartra:
        yield kartra
