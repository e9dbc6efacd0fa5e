"""A faithful Kartra you can run anywhere: ``async with Sandbox() as sb`` then point a client at
``sb.url`` with ``sb.credentials``.

The sandbox implements every documented command and ``get_lead`` over an in-memory account,
Kartra's credential checks and codes, its 20 calls/s sliding-window limit, seeded fault
injection, outbound events to a webhook, counters, a credential-free request log, and a
deterministic JSON export/import of the whole account. Where Kartra's documentation is silent
the choices are documented in ``_engine`` and in the README's table of sandbox decisions.
"""

from __future__ import annotations

from ._credentials import SandboxCredentials
from ._defaults import default_account
from ._engine import COMMANDS, process
from ._faults import FaultKind, FaultRule, Faults
from ._server import RequestRecord, Sandbox, SandboxStats
from ._snapshot import export_account, load_account
from ._state import SandboxAccount

__all__ = [
    "COMMANDS",
    "FaultKind",
    "FaultRule",
    "Faults",
    "RequestRecord",
    "Sandbox",
    "SandboxAccount",
    "SandboxCredentials",
    "SandboxStats",
    "default_account",
    "export_account",
    "load_account",
    "process",
]
