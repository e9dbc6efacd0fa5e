"""The ``kartra-async`` click group that every sub-command module registers itself on."""

from __future__ import annotations

import click

from .. import __version__
from ._common import LoggedCommand


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="kartra-async")
def main() -> None:
    """Work with Kartra's inbound API: import leads, inspect an account, run a sandbox."""


# Every sub-command gets -v/--verbose and --log-format.
main.command_class = LoggedCommand
