"""Values the bulk layer hands back: one ``Outcome`` per input, and live ``Progress`` counters."""

from __future__ import annotations

from typing import Any

import attrs

from ._builder import Call
from ._errors import Failure, KartraError, OutcomeUnknown
from ._replies import Reply
from ._settle import Trace


@attrs.frozen
class Outcome:
    """The settled result of one input of ``stream``/``send_many``.

    Exactly one of ``reply`` and ``error`` is set, except for ``OutcomeUnknown`` errors, which
    may carry the reply of the reconciliation that applied the safe actions.
    ``attempts`` counts every HTTP call made for this input (retries and read-backs included).
    ``key`` is the caller's key for the input (a ``(key, call)`` pair or ``stream(key=...)``).
    """

    index: int
    call: Call
    reply: Reply | None
    error: KartraError | None
    attempts: int
    elapsed: float
    retries: int = 0
    reconciled: bool = False
    upsert: str | None = None
    key: Any = None

    @property
    def ok(self) -> bool:
        """True when the call fully succeeded."""
        return self.error is None

    @property
    def unknown(self) -> bool:
        """True when some write's effect could not be known (see ``OutcomeUnknown``)."""
        return isinstance(self.error, OutcomeUnknown)

    @property
    def failure(self) -> Failure | None:
        """How far a failed call got (``not_sent``, ``rejected``, ``unknown``); None when ok."""
        return self.error.failure if self.error is not None else None

    @property
    def lead_id(self) -> int | None:
        """The lead's id, when the reply (or the reconciliation) gave one."""
        if self.reply is not None:
            return self.reply.lead_id
        reply = getattr(self.error, "reply", None)
        return reply.lead_id if isinstance(reply, Reply) else None


@attrs.define
class Progress:
    """Live counters of a run, updated by the workers and cheap to read at any time.

    Plain integers: a progress bar polls them without locks or callbacks slowing the workers.
    """

    total: int | None = None
    started: int = 0
    done: int = 0
    ok: int = 0
    failed: int = 0
    unknown: int = 0
    retried: int = 0
    reconciled: int = 0
    calls: int = 0
    rate_limited: int = 0
    created: int = 0
    updated: int = 0

    def record(self, outcome: Outcome, trace: Trace) -> None:
        """Count one settled input."""
        self.done += 1
        self.calls += trace.calls
        self.rate_limited += trace.rate_limited
        if trace.retries:
            self.retried += 1
        if trace.reconciled:
            self.reconciled += 1
        if outcome.ok:
            self.ok += 1
        elif outcome.unknown:
            self.unknown += 1
        else:
            self.failed += 1
        if trace.upsert == "created":
            self.created += 1
        elif trace.upsert == "updated":
            self.updated += 1

    @property
    def calls_per_item(self) -> float:
        """HTTP calls per settled input so far."""
        return self.calls / self.done if self.done else 0.0
