"""The pytest plugin (entry point ``pytest11: kartra_async``): test your code against a sandbox.

::

    @pytest.mark.asyncio
    async def test_signup(kartra_client, kartra_admin):
        await my_signup(kartra_client, "ann@example.com")
        assert "VIP" in (await kartra_admin.lead("ann@example.com"))["tags"]

Fixtures (function-scoped; install ``kartra-async[pytest]`` for pytest-asyncio):

* ``kartra_sandbox``: a started ``Sandbox`` (default account, 20 calls/s, no faults, outbound
  events journaled), configured by ``@pytest.mark.kartra_sandbox(...)``;
* ``kartra_client``: a ``KartraClient`` on it (unpaced, ``NoPacer``, when the sandbox has no
  rate limit);
* ``kartra_admin``: a ``SandboxAdminClient`` on its admin API, to check leads, the request
  journal and events without spending Kartra calls.

They work in pytest-asyncio's strict and auto modes: in strict mode a coroutine test that uses
one of them is marked ``asyncio`` by this plugin (it cannot run on another loop anyway). Without
pytest-asyncio, using them fails with a message saying what to install.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Generator, Mapping
from typing import TYPE_CHECKING, Any

import pytest

from ._admin_client import SandboxAdminClient
from ._fault_config import parse_fault_spec
from ._faults import FaultRule, Faults
from ._server import Sandbox
from ._state import SandboxAccount

if TYPE_CHECKING:
    from pathlib import Path

    from .._client import KartraClient

try:
    import pytest_asyncio
except ImportError:  # the plugin must never break a pytest run; the fixtures explain instead
    HAVE_PYTEST_ASYNCIO = False
else:
    HAVE_PYTEST_ASYNCIO = True

#: The marker configuring ``kartra_sandbox``.
MARKER = "kartra_sandbox"
FIXTURES = frozenset({"kartra_sandbox", "kartra_client", "kartra_admin"})
_OPTIONS = ("rate_limit", "faults", "account", "seed", "webhook_url", "record_events")
MISSING_PYTEST_ASYNCIO = (
    "the kartra_sandbox, kartra_client and kartra_admin fixtures need the pytest-asyncio "
    "plugin, which is {state}: pip install 'kartra-async[pytest]' (or 'pytest-asyncio>=1.0')"
)


def pytest_configure(config: pytest.Config) -> None:
    """Register the marker, so ``--strict-markers`` accepts it."""
    config.addinivalue_line(
        "markers",
        f"{MARKER}(rate_limit=20, faults=[], account=None, seed=0, webhook_url=None, "
        "record_events=True): configure the kartra_sandbox fixture (rate_limit=None: no limit "
        "and an unpaced kartra_client; faults: FaultRule objects or 'KIND:RATE[:cmd]' strings; "
        "account: a SandboxAccount or a path to an export)",
    )


@pytest.hookimpl(trylast=True, hookwrapper=True)
def pytest_pycollect_makeitem(
    collector: pytest.Module | pytest.Class, name: str, obj: object
) -> Generator[None, Any, None]:
    """Mark coroutine tests that use these fixtures ``asyncio``, so strict mode runs them.

    ``trylast`` makes this wrapper the innermost: it marks the items before pytest-asyncio's
    own wrapper decides which coroutine tests it runs.
    """
    outcome = yield
    items = outcome.get_result()
    for item in items if isinstance(items, list) else [items]:
        if (
            isinstance(item, pytest.Function)
            and _is_coroutine_test(item)
            and FIXTURES.intersection(item.fixturenames)
            and item.get_closest_marker("asyncio") is None
        ):
            item.add_marker("asyncio")


def _is_coroutine_test(item: pytest.Function) -> bool:
    import inspect

    return inspect.iscoroutinefunction(item.obj)


def sandbox_options(marker: pytest.Mark | None) -> dict[str, Any]:
    """The ``Sandbox`` arguments a ``kartra_sandbox`` marker asks for; ``ValueError`` names a
    bad option."""
    if marker is None:
        return {}
    if marker.args:
        raise ValueError(
            f"@pytest.mark.{MARKER}: takes keyword arguments only ({', '.join(_OPTIONS)})"
        )
    unknown = sorted(set(marker.kwargs) - set(_OPTIONS))
    if unknown:
        raise ValueError(
            f"@pytest.mark.{MARKER}: unknown option(s) {', '.join(unknown)} "
            f"(known: {', '.join(_OPTIONS)})"
        )
    options = dict(marker.kwargs)
    if "faults" in options:
        options["faults"] = _faults(options["faults"], options.get("seed", 0))
    return options


def _faults(value: Any, seed: int) -> Faults:
    if isinstance(value, Faults):
        return value
    if isinstance(value, (str, FaultRule)):
        value = [value]
    rules = []
    for index, item in enumerate(value):
        if isinstance(item, FaultRule):
            rules.append(item)
            continue
        try:
            rules.append(parse_fault_spec(item))
        except (ValueError, TypeError, AttributeError) as exc:
            raise ValueError(f"@pytest.mark.{MARKER}: faults[{index}]: {exc}") from None
    return Faults(*rules, seed=seed)


def _open_sandbox(request: pytest.FixtureRequest) -> Sandbox:
    try:
        options = sandbox_options(request.node.get_closest_marker(MARKER))
    except ValueError as exc:
        pytest.fail(str(exc), pytrace=False)
    account: SandboxAccount | str | Path | None = options.pop("account", None)
    options.setdefault("record_events", True)
    return Sandbox(account, **options)


def _require_pytest_asyncio(request: pytest.FixtureRequest) -> None:
    if not HAVE_PYTEST_ASYNCIO:
        pytest.fail(MISSING_PYTEST_ASYNCIO.format(state="not installed"), pytrace=False)
    if not request.config.pluginmanager.has_plugin("asyncio"):
        pytest.fail(
            MISSING_PYTEST_ASYNCIO.format(state="installed but disabled (-p no:asyncio)"),
            pytrace=False,
        )


@pytest.fixture
def _kartra_needs_asyncio(request: pytest.FixtureRequest) -> None:
    """Fails, with what to install, before any async fixture runs without pytest-asyncio."""
    _require_pytest_asyncio(request)


def _client_for(sandbox: Sandbox) -> KartraClient:
    # Imported here so that loading the plugin never imports the client eagerly.
    from .._client import KartraClient
    from .._pacing import NoPacer

    credentials = sandbox.credentials
    return KartraClient(
        app_id=credentials.app_id,
        api_key=credentials.api_key,
        api_password=credentials.api_password,
        base_url=sandbox.url,
        pacer=NoPacer() if sandbox.limiter is None else None,
    )


if HAVE_PYTEST_ASYNCIO:

    @pytest_asyncio.fixture
    async def kartra_sandbox(
        _kartra_needs_asyncio: None, request: pytest.FixtureRequest
    ) -> AsyncIterator[Sandbox]:
        """A started Kartra sandbox on 127.0.0.1, configured by ``@pytest.mark.kartra_sandbox``
        (default: the default account, 20 calls/s, no faults)."""
        async with _open_sandbox(request) as sandbox:
            yield sandbox

    @pytest_asyncio.fixture
    async def kartra_client(kartra_sandbox: Sandbox) -> AsyncIterator[KartraClient]:
        """A ``KartraClient`` connected to ``kartra_sandbox`` (``NoPacer`` when it has no limit)."""
        async with _client_for(kartra_sandbox) as client:
            yield client

    @pytest_asyncio.fixture
    async def kartra_admin(kartra_sandbox: Sandbox) -> AsyncIterator[SandboxAdminClient]:
        """The admin API of ``kartra_sandbox``: leads, journal, events, faults, reset."""
        async with SandboxAdminClient(kartra_sandbox.admin_url) as admin:
            yield admin

else:

    @pytest.fixture
    def kartra_sandbox(request: pytest.FixtureRequest) -> Mapping[str, Any]:
        """Unavailable: needs pytest-asyncio (``pip install 'kartra-async[pytest]'``)."""
        _require_pytest_asyncio(request)
        raise AssertionError("unreachable")  # pragma: no cover

    @pytest.fixture
    def kartra_client(request: pytest.FixtureRequest) -> Mapping[str, Any]:
        """Unavailable: needs pytest-asyncio (``pip install 'kartra-async[pytest]'``)."""
        _require_pytest_asyncio(request)
        raise AssertionError("unreachable")  # pragma: no cover

    @pytest.fixture
    def kartra_admin(request: pytest.FixtureRequest) -> Mapping[str, Any]:
        """Unavailable: needs pytest-asyncio (``pip install 'kartra-async[pytest]'``)."""
        _require_pytest_asyncio(request)
        raise AssertionError("unreachable")  # pragma: no cover
