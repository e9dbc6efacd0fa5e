"""What the account-facing commands share: exit codes, credentials, and opening a client
(on Kartra, or on an in-process sandbox for demos)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import stat
import sys
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
#: The import stopped because Kartra could not be reached (``--max-consecutive-failures`` rows
#: in a row were not sent); rows not started are untouched: resume with ``--resume --retry-failed``.
EXIT_UNREACHABLE: Final = 4
#: Interrupted (Ctrl-C / SIGTERM); the journal allows ``--resume``.
EXIT_INTERRUPTED: Final = 130

_KEYS: Final = {
    ENV_APP_ID: "app_id",
    ENV_API_KEY: "api_key",
    ENV_API_PASSWORD: "api_password",
    ENV_BASE_URL: "base_url",
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


@attrs.frozen
class CredentialsFile:
    """What a credentials file holds: the three secrets and, optionally, the endpoint."""

    credentials: Credentials
    base_url: str | None = None


def read_credentials_file(
    path: Path, *, warn: Callable[[str], None] | None = None
) -> CredentialsFile:
    """Credentials from ``KEY=VALUE`` lines (``#`` comments, optional quotes, ``export``),
    with an optional ``KARTRA_BASE_URL=`` line. ``warn`` is told when the file can be read by
    its group or by others (it holds secrets: ``chmod 600`` it)."""
    found: dict[str, str] = {}
    try:
        mode = path.stat().st_mode
    except OSError:
        mode = 0
    readers = [
        name
        for bits, name in ((stat.S_IRGRP, "its group"), (stat.S_IROTH, "others"))
        if mode & bits
    ]
    if readers and warn is not None:
        warn(
            f"warning: the credentials file {path} can be read by {' and '.join(readers)}; "
            f"it holds secrets: chmod 600 {path}"
        )
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
                f"{path}, line {number}: expected {ENV_APP_ID}=, {ENV_API_KEY}=, "
                f"{ENV_API_PASSWORD}= or {ENV_BASE_URL}="
            )
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        found[_KEYS[key.strip()]] = value
    missing = sorted({"app_id", "api_key", "api_password"} - set(found))
    if missing:
        raise CannotRun(f"the credentials file {path} lacks {', '.join(missing)}")
    base_url = found.pop("base_url", None) or None
    try:
        return CredentialsFile(Credentials(**found), base_url)
    except UsageError as exc:
        raise CannotRun(f"the credentials file {path}: {exc}") from None


def _warn(message: str) -> None:
    click.echo(message, err=True)


def find_credentials(
    path: Path | None, environ: Mapping[str, str] | None = None
) -> CredentialsFile | None:
    """From ``path`` if given, else from the environment; None when there are none."""
    if path is not None:
        return read_credentials_file(path, warn=_warn)
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
        return CredentialsFile(Credentials(*values))
    except UsageError as exc:
        raise CannotRun(f"the KARTRA_* environment variables: {exc}") from None


def require_endpoint(
    credentials_file: Path | None, base_url: str | None
) -> tuple[Credentials, str]:
    """The credentials (exit 3 when there are none) and the endpoint to send them to:
    ``--base-url``, else the credentials file's ``KARTRA_BASE_URL``, the environment's, Kartra."""
    found = find_credentials(credentials_file)
    if found is None:
        raise NoCredentials()
    url = base_url or found.base_url or os.environ.get(ENV_BASE_URL) or DEFAULT_BASE_URL
    return found.credentials, url


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
    credentials, base_url = require_endpoint(target.credentials_file, target.base_url)
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
            help="File with KARTRA_APP_ID=, KARTRA_API_KEY=, KARTRA_API_PASSWORD= lines and "
            "optionally KARTRA_BASE_URL= (default: those environment variables).",
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


# --- -v/--verbose and --log-format, on every command ----------------------------------------

#: The logger the commands' own lines go to (the library logs to ``kartra_async``).
cli_logger = logging.getLogger("kartra_async.cli")


class _Stderr(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is at the time, so that lines land above a live
    progress bar (which redirects stderr) instead of through it."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update(getattr(record, "fields", {}))
        return json.dumps(line, ensure_ascii=False, default=str)


class _FirstFailure(logging.Filter):
    """Without ``-v``: warnings, plus the first retry of the run, so that an unreachable
    Kartra shows at once instead of after the retries give up."""

    def __init__(self) -> None:
        super().__init__()
        self.shown = False

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.WARNING:
            return True
        if not self.shown and record.getMessage().startswith("retrying"):
            self.shown = True
            return True
        return False


def configure_logging(verbose: bool, log_format: str) -> Callable[[], None]:
    """Send the library's and the commands' log lines to stderr (text or JSON lines); return
    the function that puts logging back as it was (commands also run inside other programs,
    such as tests invoking them in-process)."""
    root = logging.getLogger("kartra_async")
    handler = _Stderr()
    if log_format == "json":
        handler.setFormatter(_JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(message)s"))
    if not verbose:
        handler.addFilter(_FirstFailure())
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)

    def restore() -> None:
        root.removeHandler(handler)
        root.setLevel(level)

    return restore


def log_json() -> bool:
    """True when ``--log-format json`` was given: the commands' lines go to the log."""
    return any(
        isinstance(h, _Stderr) and isinstance(h.formatter, _JsonFormatter)
        for h in logging.getLogger("kartra_async").handlers
    )


class LoggedCommand(click.Command):
    """A command with ``-v/--verbose`` and ``--log-format`` (every ``kartra-async`` command)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.params.append(
            click.Option(
                ["-v", "--verbose"],
                is_flag=True,
                help="One line per retry, reconciliation and failure (on stderr).",
            )
        )
        self.params.append(
            click.Option(
                ["--log-format"],
                type=click.Choice(["text", "json"]),
                default="text",
                show_default=True,
                help="Log lines (and an import's row problems) as text or as JSON lines.",
            )
        )

    def invoke(self, ctx: click.Context) -> Any:
        """Configure logging from the two options, then run the command without them."""
        verbose = bool(ctx.params.pop("verbose", False))
        restore = configure_logging(verbose, ctx.params.pop("log_format", "text"))
        try:
            return super().invoke(ctx)
        finally:
            restore()
