"""Imports every sub-command module so that each registers itself on ``main``."""

from __future__ import annotations

from . import _listen_cmd  # noqa: F401
from ._account_cmds import get, inventory  # noqa: F401
from ._bench_cmd import bench  # noqa: F401
from ._conformance_cmd import conformance  # noqa: F401
from ._import_cmd import import_  # noqa: F401
from ._sandbox_cmd import sandbox_command  # noqa: F401
