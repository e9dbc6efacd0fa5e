"""The pytest plugin (entry point ``pytest11: kartra_async``): test your code against a sandbox.

::

    async def test_signup(kartra_client, kartra_sandbox):
        await my_signup(kartra_client, "ann@example.com")
        assert kartra_sandbox.account.lead_by_email("ann@example.com") is not None

``kartra_sandbox`` is a started ``Sandbox`` with the default account (rate limit on, no faults);
``kartra_client`` is a ``KartraClient`` connected to it. Both are function-scoped and need an
async-capable pytest (pytest-asyncio); without it the fixtures are simply not registered.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from ._server import Sandbox

if TYPE_CHECKING:
    from .._client import KartraClient

try:
    import pytest_asyncio
except ImportError:  # pragma: no cover - the plugin must never break a pytest run
    _ASYNC_PYTEST = False
else:
    _ASYNC_PYTEST = True

if _ASYNC_PYTEST:

    @pytest_asyncio.fixture
    async def kartra_sandbox() -> AsyncIterator[Sandbox]:
        """A started Kartra sandbox on 127.0.0.1 (default account, 20 calls/s)."""
        async with Sandbox() as sandbox:
            yield sandbox

    @pytest_asyncio.fixture
    async def kartra_client(kartra_sandbox: Sandbox) -> AsyncIterator[KartraClient]:
        """A ``KartraClient`` connected to ``kartra_sandbox`` with its credentials."""
        # Imported here so that loading the plugin never imports the client eagerly.
        from .._client import KartraClient

        credentials = kartra_sandbox.credentials
        async with KartraClient(
            app_id=credentials.app_id,
            api_key=credentials.api_key,
            api_password=credentials.api_password,
            base_url=kartra_sandbox.url,
        ) as client:
            yield client
