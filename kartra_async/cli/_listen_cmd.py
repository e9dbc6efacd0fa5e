"""``kartra-async listen``: receive Kartra's outbound events and IPNs, print them as JSONL."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import click
from aiohttp import web

from ..events import KartraEvent, event_to_json, webhook_handler
from ._common import until_stopped
from ._main import main


def _read_secret(path: Path | None) -> str | None:
    if path is None:
        return None
    secret = path.read_text(encoding="utf-8").strip()
    if not secret:
        raise click.UsageError(f"the IPN secret file {path} is empty")
    return secret


def _print_event(event: KartraEvent) -> None:
    sys.stdout.write(json.dumps(event_to_json(event), ensure_ascii=False) + "\n")
    sys.stdout.flush()


async def _serve(host: str, port: int, ipn_secret: str | None) -> None:
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", webhook_handler(_print_event, ipn_secret=ipn_secret))
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        bound = runner.addresses[0][1] if runner.addresses else port
        # Stderr, so stdout stays pure JSONL; the bound port matters when --port is 0.
        click.echo(f"listening on http://{host}:{bound}/", err=True)
        await until_stopped()
    finally:
        await runner.cleanup()
    click.echo("stopped", err=True)


@main.command("listen")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8081,
    show_default=True,
    help="TCP port to listen on (0: any free port, printed on stderr).",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option(
    "--ipn-secret-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="File holding the IPN secret_key; IPNs without it get 403.",
)
def listen(port: int, host: str, ipn_secret_file: Path | None) -> None:
    """Receive outbound events and IPNs on any path and print each one as a JSON line.

    Stops cleanly on Ctrl-C or SIGTERM.
    """
    secret = _read_secret(ipn_secret_file)
    try:
        asyncio.run(_serve(host, port, secret))
    except OSError as error:
        raise click.ClickException(f"cannot listen on {host}:{port}: {error.strerror}") from None
