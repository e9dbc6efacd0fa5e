"""The ``kartra-async`` command line: one click group, one module per sub-command."""

from __future__ import annotations

import click

from .. import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="kartra-async")
def main() -> None:
    """Work with Kartra's inbound API: import leads, inspect an account, run a sandbox."""


def _register() -> None:
    # Every sub-command gets -v/--verbose and --log-format.
    from ._common import LoggedCommand

    main.command_class = LoggedCommand
    # Sub-commands live in their own modules; importing them here keeps `main` the one entry point.
    from . import _commands  # noqa: F401


_register()
