"""Fixtures for the sandbox tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest

from kartra_async._form import FormValue, build_query, parse_query
from kartra_async.sandbox import Sandbox, SandboxAccount, default_account, process

from .support import CREDENTIALS, NOW, fixed_clock

Runner = Callable[..., dict[str, Any]]


@pytest.fixture
def account() -> SandboxAccount:
    """The default account on the fixed wall clock."""
    return default_account(now=fixed_clock)


@pytest.fixture
def run(account: SandboxAccount) -> Runner:
    """Send a payload through the PHP form codec and the engine; return the reply body."""

    def runner(
        payload: dict[str, FormValue], *, credentials: bool = True, **options: Any
    ) -> dict[str, Any]:
        body = {**CREDENTIALS.as_dict(), **payload} if credentials else payload
        form = parse_query(build_query(body))
        outcome = process(account, form, credentials=CREDENTIALS, now=NOW, **options)
        return outcome.body

    return runner


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    """A raw aiohttp client session."""
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    """A started sandbox on the default account, fixed credentials, no rate limit."""
    async with Sandbox(
        default_account(now=fixed_clock), credentials=CREDENTIALS, rate_limit=None
    ) as sb:
        yield sb
