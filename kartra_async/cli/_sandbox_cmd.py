"""``kartra-async sandbox``: run the Kartra sandbox standalone, for clients in any language.

Credentials: taken from ``KARTRA_APP_ID``/``KARTRA_API_KEY``/``KARTRA_API_PASSWORD`` when all three
are set, else generated afresh. They are never printed unless asked: ``--credentials-file``
writes them (as ``NAME=value`` lines, mode 0600) and ``--show-credentials`` prints them as
``export`` lines on stdout.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import click

from ..sandbox import (
    JSON_CONTENT_TYPE,
    KARTRA_CONTENT_TYPE,
    ChainFailure,
    Sandbox,
    SandboxCredentials,
)
from ..sandbox._credentials import ENV_NAMES
from . import main
from ._common import until_stopped


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


def _write_credentials(path: Path, credentials: SandboxCredentials) -> None:
    text = "".join(f"{name}={value}\n" for name, value in credentials.as_env().items())
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)


async def _serve(sandbox: Sandbox, announce: list[str]) -> None:
    async with sandbox:
        click.echo(f"Kartra sandbox listening on {sandbox.url}")
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
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of fault injection.")
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
    help="Write the credentials here as NAME=value lines (mode 0600).",
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
) -> None:
    """Run a faithful Kartra sandbox until SIGINT or SIGTERM.

    Point any Kartra client at the printed URL. Stops cleanly on Ctrl-C or SIGTERM.
    """
    from_env = SandboxCredentials.from_env()
    credentials = from_env or SandboxCredentials.generate()
    announce = []
    if from_env is not None:
        announce.append(f"credentials: from the environment ({', '.join(ENV_NAMES)})")
    else:
        announce.append("credentials: generated for this run")
    if credentials_file is not None:
        _write_credentials(credentials_file, credentials)
        announce.append(f"credentials written to {credentials_file}")
    if show_credentials:
        announce.extend(f"export {name}={value}" for name, value in credentials.as_env().items())
    elif credentials_file is None and from_env is None:
        announce.append("(use --credentials-file FILE or --show-credentials to obtain them)")
    sandbox = Sandbox(
        account_path,
        credentials=credentials,
        rate_limit=_rate_limit(rate_limit),
        seed=seed,
        require_tls=require_tls,
        test_mode=test_mode,
        content_type=JSON_CONTENT_TYPE if content_type == "json" else KARTRA_CONTENT_TYPE,
        chain_failure=chain_failure,
        webhook_url=webhook_url,
        host=host,
        port=port,
    )
    asyncio.run(_serve(sandbox, announce))
    if export_on_exit is not None:
        export_on_exit.write_text(sandbox.export(), encoding="utf-8")
