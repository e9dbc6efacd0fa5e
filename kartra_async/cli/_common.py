"""What the account-facing commands share: exit codes, credentials, and opening a client
(on Kartra, or on an in-process sandbox for demos)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, TypeVar

import attrs
import click

from .._client import (
    ENV_API_KEY,
    ENV_API_PASSWORD,
    ENV_APP_ID,
    ENV_BASE_URL,
    ENV_TEST_MODE,
    KartraClient,
)
from .._errors import KartraError, UsageError
from .._model import Credentials
from .._pacing import DEFAULT_RATE, LocalPacer, Pacer
from .._transport import DEFAULT_BASE_URL

if TYPE_CHECKING:  # the sandbox is imported only when --sandbox is used
    from ..sandbox import Sandbox

#: Every row succeeded (or, for get/inventory, the command did what was asked).
EXIT_OK: Final = 0
#: The import ran, but some rows failed, were invalid, or have an unknown outcome.
EXIT_ROWS_FAILED: Final = 1
#: Nothing (more) could be done: bad arguments or input, journal mismatch, account refused us.
EXIT_CANNOT_RUN: Final = 2
#: No credentials were found (and no --sandbox).
EXIT_NO_CREDENTIALS: Final = 3
#: Interrupted (Ctrl-C / SIGTERM); the journal allows ``--resume``.
EXIT_INTERRUPTED: Final = 130

_KEYS: Final = {
    ENV_APP_ID: "app_id",
    ENV_API_KEY: "api_key",
    ENV_API_PASSWORD: "api_password",
    "app_id": "app_id",
    "api_key": "api_key",
    "api_password": "api_password",
}

NO_CREDENTIALS_HELP: Final = (
    "no Kartra credentials found. Set the environment variables "
    f"{ENV_APP_ID}, {ENV_API_KEY} and {ENV_API_PASSWORD}, or pass --credentials-file FILE "
    f"(lines like {ENV_APP_ID}=...). They are never accepted as command-line values, which would "
    "land in your shell history and in 'ps'. To try things out without an account, add --sandbox."
)


class CannotRun(click.ClickException):
    """The command cannot do its job; exits with ``EXIT_CANNOT_RUN`` and a message."""

    exit_code = EXIT_CANNOT_RUN


class NoCredentials(click.ClickException):
    """No credentials anywhere; exits with ``EXIT_NO_CREDENTIALS``."""

    exit_code = EXIT_NO_CREDENTIALS

    def __init__(self) -> None:
        super().__init__(NO_CREDENTIALS_HELP)


def read_credentials_file(path: Path) -> Credentials:
    """Credentials from ``KEY=VALUE`` lines (``#`` comments, optional quotes, ``export``)."""
    found: dict[str, str] = {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeError) as exc:
        raise CannotRun(f"cannot read the credentials file {path}: {type(exc).__name__}") from None
    for number, line in enumerate(lines, start=1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        text = text.removeprefix("export ").strip()
        key, sep, value = text.partition("=")
        if not sep or key.strip() not in _KEYS:
            # The line is not echoed: it may hold a secret.
            raise CannotRun(
                f"{path}, line {number}: expected {ENV_APP_ID}=, {ENV_API_KEY}= or "
                f"{ENV_API_PASSWORD}="
            )
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        found[_KEYS[key.strip()]] = value
    missing = sorted({"app_id", "api_key", "api_password"} - set(found))
    if missing:
        raise CannotRun(f"the credentials file {path} lacks {', '.join(missing)}")
    try:
        return Credentials(**found)
    except UsageError as exc:
        raise CannotRun(f"the credentials file {path}: {exc}") from None


def find_credentials(
    path: Path | None, environ: Mapping[str, str] | None = None
) -> Credentials | None:
    """From ``path`` if given, else from the environment; None when there are none."""
    if path is not None:
        return read_credentials_file(path)
    env = os.environ if environ is None else environ
    values = [env.get(name, "") for name in (ENV_APP_ID, ENV_API_KEY, ENV_API_PASSWORD)]
    if not any(values):
        return None
    if not all(values):
        missing = [
            name
            for name, value in zip((ENV_APP_ID, ENV_API_KEY, ENV_API_PASSWORD), values, strict=True)
            if not value
        ]
        raise CannotRun(f"set the environment variable(s) {', '.join(missing)} as well")
    try:
        return Credentials(*values)
    except UsageError as exc:
        raise CannotRun(f"the KARTRA_* environment variables: {exc}") from None


@attrs.frozen
class Target:
    """Where the command talks to: the options shared by import, get and inventory."""

    sandbox: bool = False
    sandbox_rate_limit: int = 20
    credentials_file: Path | None = None
    base_url: str | None = None
    rate: float | None = None
    redis_url: str | None = None
    #: --test-mode: the App is in Test Mode (None: ``KARTRA_TEST_MODE`` decides).
    test_mode: bool | None = None


@attrs.define
class Connection:
    """An open client, and the in-process sandbox behind it when ``--sandbox`` was given."""

    client: KartraClient
    sandbox: Sandbox | None
    rate: float


@contextlib.asynccontextmanager
async def connect(
    target: Target, *, seed: Mapping[str, Any] | None = None
) -> AsyncIterator[Connection]:
    """Open a client on Kartra (or on a fresh sandbox, seeded with ``seed``); close both after."""
    if target.sandbox:
        from ..sandbox import Sandbox

        async with Sandbox(
            rate_limit=target.sandbox_rate_limit, test_mode=bool(target.test_mode)
        ) as sandbox:
            if seed:
                sandbox.seed(**seed)
            rate = target.rate or min(DEFAULT_RATE, target.sandbox_rate_limit * 0.98)
            creds = sandbox.credentials
            async with KartraClient(
                app_id=creds.app_id,
                api_key=creds.api_key,
                api_password=creds.api_password,
                base_url=sandbox.url,
                pacer=_pacer(target, rate, creds.app_id),
                test_mode=target.test_mode,
            ) as client:
                yield Connection(client, sandbox, rate)
        return
    credentials = find_credentials(target.credentials_file)
    if credentials is None:
        raise NoCredentials()
    base_url = target.base_url or os.environ.get(ENV_BASE_URL) or DEFAULT_BASE_URL
    rate = target.rate or DEFAULT_RATE
    try:
        client = KartraClient(
            app_id=credentials.app_id,
            api_key=credentials.api_key,
            api_password=credentials.api_password,
            base_url=base_url,
            pacer=_pacer(target, rate, credentials.app_id),
            test_mode=target.test_mode,
        )
    except UsageError as exc:
        raise CannotRun(str(exc)) from None
    async with client:
        yield Connection(client, None, rate)


def _pacer(target: Target, rate: float, app_id: str) -> Pacer:
    if target.redis_url is None:
        return LocalPacer(rate)
    try:
        from ..redis_pacer import RedisPacer
    except ImportError:
        raise CannotRun(
            "--redis-url needs the redis package: pip install 'kartra-async[redis]'"
        ) from None
    return RedisPacer.from_url(target.redis_url, app_id=app_id, rate=rate)


F = TypeVar("F", bound=Callable[..., Any])


def target_options(func: F) -> F:
    """The click options that say where to connect (shared by import, get and inventory)."""
    options: Iterable[Callable[[F], F]] = (
        click.option(
            "--sandbox",
            is_flag=True,
            help="Run against a fresh in-process sandbox (no account needed; for demos).",
        ),
        click.option(
            "--sandbox-rate-limit",
            type=click.IntRange(1, 100_000),
            default=20,
            show_default=True,
            help="The sandbox's calls/s limit (Kartra's is 20; raise it for fast demos).",
        ),
        click.option(
            "--credentials-file",
            type=click.Path(exists=True, dir_okay=False, path_type=Path),
            help="File with KARTRA_APP_ID=, KARTRA_API_KEY=, KARTRA_API_PASSWORD= lines "
            "(default: those environment variables).",
        ),
        click.option(
            "--base-url",
            default=None,
            help=f"API endpoint (default: ${ENV_BASE_URL} or {DEFAULT_BASE_URL}).",
        ),
        click.option(
            "--test-mode",
            is_flag=True,
            default=None,
            help="The App is in Kartra's Test Mode: look leads up by the @kartra.com address "
            f"it stores (default: ${ENV_TEST_MODE}).",
        ),
    )
    for option in reversed(tuple(options)):
        func = option(func)
    return func


def describe_error(exc: KartraError) -> str:
    """A one-line description of a library error (never holds a credential)."""
    return f"{type(exc).__name__}: {exc}"


async def until_stopped() -> None:
    """Wait for SIGINT or SIGTERM, so a server command can shut down cleanly on either."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
