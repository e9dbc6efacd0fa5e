"""``kartra-async sandbox``: run the Kartra sandbox standalone, for clients in any language.

Credentials: taken from ``KARTRA_APP_ID``/``KARTRA_API_KEY``/``KARTRA_API_PASSWORD`` when all three
are set, else generated afresh. They are never printed unless asked: ``--credentials-file``
writes them (as ``NAME=value`` lines, mode 0600; generated ones go to a private temporary file
when no file is named, removed on exit) and ``--show-credentials`` prints them as ``export``
lines on stdout. The inspector page and the admin API are served under ``/_sandbox/``.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import time
from pathlib import Path

import click

from ..sandbox import (
    JSON_CONTENT_TYPE,
    KARTRA_CONTENT_TYPE,
    ChainFailure,
    FaultRule,
    Faults,
    Sandbox,
    SandboxAccount,
    SandboxCredentials,
)
from ..sandbox._credentials import ENV_NAMES
from ..sandbox._fault_config import parse_fault_spec
from ..sandbox._journal import JournalEntry
from ..sandbox._snapshot import load_account
from ._common import until_stopped
from ._main import main


def _rate_limit(value: str) -> int | None:
    if value.lower() in ("off", "none", "0"):
        return None
    try:
        limit = int(value)
    except ValueError:
        raise click.BadParameter("a number of calls per second, or 'off'") from None
    if limit < 1:
        raise click.BadParameter("must be at least 1 (or 'off')")
    return limit


def _write_credentials(path: Path, credentials: SandboxCredentials, url: str) -> None:
    # The URL goes with the secrets: a client reading this file must never post them elsewhere.
    lines = {**credentials.as_env(), "KARTRA_BASE_URL": url}
    text = "".join(f"{name}={value}\n" for name, value in lines.items())
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)


def _fault(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> list[FaultRule]:
    rules = []
    for spec in values:
        try:
            rules.append(parse_fault_spec(spec))
        except ValueError as exc:
            raise click.BadParameter(str(exc)) from None
    return rules


def _load(path: Path, option: str) -> SandboxAccount:
    """An account export from a file, or exit 2 naming the option, the file and the reason."""
    try:
        return load_account(path)
    except OSError as exc:
        raise click.BadParameter(
            f"{path}: cannot read it ({exc.strerror})", param_hint=option
        ) from None
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        reason = exc if isinstance(exc, ValueError) else f"{type(exc).__name__}: {exc}"
        raise click.BadParameter(
            f"{path}: not a sandbox account export ({reason})", param_hint=option
        ) from None


def _save(path: Path, text: str) -> None:
    """Write the file whole or not at all: a crash mid-write never leaves half an account."""
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)


def log_line(entry: JournalEntry) -> str:
    """One ``--log-requests`` line: time, HTTP status, reply, cmds, lead, latency, masked app."""
    when = (
        time.strftime("%H:%M:%S", time.localtime(entry.at)) + f".{int(entry.at * 1000) % 1000:03d}"
    )
    http = str(entry.http_status) if entry.http_status else "RST"
    reply = entry.status + (f" {entry.type}" if entry.type else "")
    if entry.http_status == 429:
        reply = "Too many requests"
    latency = f"{entry.latency_ms:.1f}ms" if entry.latency_ms is not None else "-"
    fault = f" fault={entry.fault}" if entry.fault else ""
    return (
        f"{when} {http} {reply or '-'} {','.join(entry.cmds) or '-'} {entry.email or '-'} "
        f"{latency} app={entry.app_id or '-'}{fault}"
    )


async def _serve(
    sandbox: Sandbox, announce: list[str], log_requests: bool, credentials_file: Path | None
) -> None:
    if log_requests:
        sandbox.admin.journal.listeners.append(lambda entry: click.echo(log_line(entry)))
    async with sandbox:
        if credentials_file is not None:
            _write_credentials(credentials_file, sandbox.credentials, sandbox.url)
        click.echo(f"Kartra sandbox listening on {sandbox.url}")
        click.echo(f"inspector: {sandbox.admin_url}")
        for line in announce:
            click.echo(line)
        await until_stopped()
    click.echo(f"stopped after {sandbox.stats.calls} calls")


@main.command("sandbox")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8080,
    show_default=True,
    help="TCP port (0: any free port; the URL is printed).",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option(
    "--account",
    "account_path",
    default=None,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Start from this account export instead of the default seeded account.",
)
@click.option(
    "--rate-limit",
    default="20",
    show_default=True,
    help="Accepted calls per sliding second per app_id, or 'off'.",
)
@click.option(
    "--seed",
    type=int,
    default=0,
    show_default=True,
    help="Seed of fault injection: the same seed and calls give the same faults.",
)
@click.option(
    "--fault",
    "faults",
    multiple=True,
    callback=_fault,
    metavar="KIND:RATE[:cmd,...]",
    help="Inject a fault into this share of calls (of these cmds), e.g. http_500:0.1:create_lead. "
    "Repeatable.",
)
@click.option(
    "--state",
    "state_path",
    default=None,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Load the account from this export at start (if it exists) and save it there on exit.",
)
@click.option(
    "--reset-on-start",
    is_flag=True,
    help="With --state: ignore the saved account and start fresh (it is still saved on exit).",
)
@click.option("--log-requests", is_flag=True, help="Print one line per Kartra call.")
@click.option(
    "--allow-remote-admin",
    is_flag=True,
    help="Serve the admin API and inspector to non-loopback clients too (they show every lead).",
)
@click.option(
    "--record-events/--no-record-events",
    default=True,
    show_default=True,
    help="Keep the outbound events for the inspector even without --webhook-url.",
)
@click.option("--webhook-url", default=None, help="Post outbound events (tags, lists, ...) here.")
@click.option("--require-tls", is_flag=True, help="Answer plain-http calls with error 201.")
@click.option(
    "--test-mode",
    is_flag=True,
    help="Answer as an App in Test Mode: created leads' emails become @kartra.com.",
)
@click.option(
    "--content-type",
    type=click.Choice(["kartra", "json"]),
    default="kartra",
    show_default=True,
    help="Label replies text/html as Kartra does, or application/json.",
)
@click.option(
    "--chain-failure",
    type=click.Choice(["stop", "continue"]),
    default="stop",
    show_default=True,
    help="After a failing action, end the chain (Kartra's documented way) or go on.",
)
@click.option(
    "--credentials-file",
    default=None,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the credentials and KARTRA_BASE_URL here as NAME=value lines (mode 0600).",
)
@click.option(
    "--show-credentials",
    is_flag=True,
    help="Print the credentials as shell export lines (they are secret otherwise).",
)
@click.option(
    "--export-on-exit",
    default=None,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the account export to this file when stopping.",
)
def sandbox_command(
    port: int,
    host: str,
    account_path: Path | None,
    rate_limit: str,
    seed: int,
    webhook_url: str | None,
    require_tls: bool,
    test_mode: bool,
    content_type: str,
    chain_failure: ChainFailure,
    credentials_file: Path | None,
    show_credentials: bool,
    export_on_exit: Path | None,
    faults: list[FaultRule],
    state_path: Path | None,
    reset_on_start: bool,
    log_requests: bool,
    allow_remote_admin: bool,
    record_events: bool,
) -> None:
    """Run a faithful Kartra sandbox until SIGINT or SIGTERM.

    Point any Kartra client at the printed URL; open the printed inspector URL in a browser.
    Stops cleanly on Ctrl-C or SIGTERM.
    """
    if reset_on_start and state_path is None:
        raise click.BadParameter("only with --state FILE", param_hint="--reset-on-start")
    account: SandboxAccount | None = None
    state_note = ""
    if state_path is not None and state_path.exists() and not reset_on_start:
        account = _load(state_path, "--state")
        state_note = f"state: loaded from {state_path} (saved there on exit)"
    elif account_path is not None:
        account = _load(account_path, "--account")
    if state_path is not None and not state_note:
        state_note = f"state: starting fresh, saved to {state_path} on exit"
    from_env = SandboxCredentials.from_env()
    credentials = from_env or SandboxCredentials.generate()
    announce = []
    if from_env is not None:
        announce.append(f"credentials: from the environment ({', '.join(ENV_NAMES)})")
    else:
        announce.append("credentials: generated for this run")
    private_dir = None
    if credentials_file is None and from_env is None:
        # Generated credentials are useless outside this run: a private file, removed on exit.
        private_dir = Path(tempfile.mkdtemp(prefix="kartra-sandbox-"))
        credentials_file = private_dir / "credentials.env"
    if credentials_file is not None:
        announce.append(f"credentials written to {credentials_file}")
    if show_credentials:
        announce.extend(f"export {name}={value}" for name, value in credentials.as_env().items())
    if faults:
        announce.append(f"faults: {', '.join(_describe(rule) for rule in faults)} (seed {seed})")
    if state_note:
        announce.append(state_note)
    sandbox = Sandbox(
        account,
        credentials=credentials,
        rate_limit=_rate_limit(rate_limit),
        faults=Faults(*faults, seed=seed),
        require_tls=require_tls,
        test_mode=test_mode,
        content_type=JSON_CONTENT_TYPE if content_type == "json" else KARTRA_CONTENT_TYPE,
        chain_failure=chain_failure,
        webhook_url=webhook_url,
        host=host,
        port=port,
        allow_remote_admin=allow_remote_admin,
        record_events=record_events,
    )
    try:
        asyncio.run(_serve(sandbox, announce, log_requests, credentials_file))
    finally:
        if private_dir is not None:
            shutil.rmtree(private_dir, ignore_errors=True)
    if state_path is not None:
        _save(state_path, sandbox.export())
        click.echo(f"state saved to {state_path}")
    if export_on_exit is not None:
        export_on_exit.write_text(sandbox.export(), encoding="utf-8")


def _describe(rule: FaultRule) -> str:
    cmds = f":{','.join(sorted(rule.cmds))}" if rule.cmds is not None else ""
    return f"{rule.kind.value}:{rule.probability:g}{cmds}"
