"""The ``kartra-async`` command line: one click group, one module per sub-command."""

from __future__ import annotations

from . import _commands  # noqa: F401  (importing the sub-commands registers them on main)
from ._main import main

__all__ = ["main"]
