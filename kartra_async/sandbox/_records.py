"""What the sandbox records about its calls: one ``RequestRecord`` per call, and counters.

Apart from the server so that the journal and the admin API can name them without importing
the server (which imports them).
"""

from __future__ import annotations

from collections import Counter

import attrs


@attrs.frozen
class RequestRecord:
    """One logged call: what was asked and answered, never a credential."""

    cmds: tuple[str, ...]
    email: str
    http_status: int
    status: str = ""
    type: str = ""
    fault: str = ""


@attrs.define
class SandboxStats:
    """Counters: calls, calls per cmd, 429s sent by the limiter, faults injected, replies."""

    calls: int = 0
    cmds: Counter[str] = attrs.field(factory=Counter)
    rate_limited: int = 0
    faults: Counter[str] = attrs.field(factory=Counter)
    replies: Counter[str] = attrs.field(factory=Counter)
    events_sent: int = 0
    events_failed: int = 0
