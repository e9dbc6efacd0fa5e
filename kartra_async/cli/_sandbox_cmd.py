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

from ..sandbox import Sandbox, SandboxCredentials
from ..sandbox._credentials import ENV_NAMES
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


async def _serve(sandbox: Sandbox, announce: list[str], credentials_file: Path | None) -> None:
    async with sandbox:
        if credentials_file is not None:
            _write_credentials(credentials_file, sandbox.credentials, sandbox.url)
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
        announce.append(f"credentials and KARTRA_BASE_URL written to {credentials_file}")
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
        webhook_url=webhook_url,
        host=host,
        port=port,
    )
    asyncio.run(_serve(sandbox, announce, credentials_file))
    if export_on_exit is not None:
        export_on_exit.write_text(sandbox.export(), encoding="utf-8")
