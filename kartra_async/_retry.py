"""What to do after a failed attempt: retry, reconcile, report the outcome unknown, or give up.

Kartra has no idempotency keys, so whether a failure may be retried depends on two things:
whether the request can have reached Kartra (:class:`FailureKind`) and what resending it would
do (:class:`~kartra_async._safety.Safety`). The rules (docs: "Retries by idempotency"):

=================  ==========  ==========  =============  ===============
failure            READ        REPEATABLE  RECONCILE      NEVER
=================  ==========  ==========  =============  ===============
RATE_LIMITED       retry       retry       retry          retry
NOT_SENT           retry       retry       retry          retry
AMBIGUOUS          retry       retry       reconcile      outcome unknown
API                give up     give up     give up        give up
=================  ==========  ==========  =============  ===============

A retry also needs attempts left, time left before the call's deadline and, except for 429s,
credit in the run-wide :class:`RetryBudget`. When a retry is refused, a write whose first
attempt may have landed is reported as outcome unknown, never as a plain failure.

Everything here is pure and deterministic: time is passed in, randomness comes from the
caller's ``random.Random``.
"""

from __future__ import annotations

import enum
import math
import random
from collections.abc import Iterable, Mapping
from typing import Final

import attrs

from ._errors import UsageError
from ._safety import Safety

__all__ = [
    "Decision",
    "FailureKind",
    "RetryBudget",
    "RetryPolicy",
    "Verdict",
    "decide",
    "safety_table_markdown",
    "strictest",
]

#: Kartra's documented remedy for a 429: wait one second.
RATE_LIMIT_WAIT: Final = 1.0


class FailureKind(enum.Enum):
    """How an attempt failed, seen from whether Kartra can have acted on it."""

    #: HTTP 429: Kartra refused the call without acting on it.
    RATE_LIMITED = "rate_limited"
    #: The request never left (DNS failure, connection refused, connect timeout).
    NOT_SENT = "not_sent"
    #: The request may have been received: read timeout, reset after sending, 5xx, or a 200
    #: whose body cannot be read.
    AMBIGUOUS = "ambiguous"
    #: Kartra answered with an error: resending the same call gets the same answer.
    API = "api"


class Verdict(enum.Enum):
    """The four possible decisions."""

    #: Send the same call again after ``Decision.delay`` seconds.
    RETRY = "retry"
    #: Read back whether the write happened, then resend only what is missing.
    RECONCILE = "reconcile"
    #: The write may have happened and must not be replayed: tell the caller.
    OUTCOME_UNKNOWN = "outcome_unknown"
    #: Stop and report the failure as it is.
    GIVE_UP = "give_up"


@attrs.frozen
class Decision:
    """A verdict, the delay before acting on it (retries only), and a reason for the log."""

    verdict: Verdict
    reason: str
    delay: float = 0.0


def _non_negative(_: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not (math.isfinite(value) and value >= 0):
        raise UsageError(f"{attribute.name} must be a finite number >= 0, got {value!r}")


@attrs.frozen
class RetryPolicy:
    """Per-call limits and backoff.

    The wait before retry ``n`` (``n`` = attempts made so far) is drawn uniformly from
    ``[0, min(max_delay, base_delay × 2**(n-1))]`` ("full jitter"), so workers that failed
    together do not come back together. After a 429 the wait is at least one second
    (Kartra's documented remedy) plus that jitter.
    """

    #: Attempts per call, the first one included.
    max_attempts: int = attrs.field(default=6)
    base_delay: float = attrs.field(default=0.5, validator=_non_negative)
    max_delay: float = attrs.field(default=30.0, validator=_non_negative)
    #: Seconds from the first attempt after which no retry is started.
    deadline: float = attrs.field(default=120.0, validator=_non_negative)
    rate_limit_wait: float = attrs.field(default=RATE_LIMIT_WAIT, validator=_non_negative)
    #: Seconds Kartra's clock may be behind ours. After a lost create, a lead whose
    #: ``date_joined`` is older than the first attempt by more than this existed before the
    #: call (it ends as Kartra's 244); within it, the read-back cannot tell and says so.
    clock_skew: float = attrs.field(default=300.0, validator=_non_negative)

    @max_attempts.validator
    def _check_attempts(self, _: attrs.Attribute[int], value: int) -> None:
        if value < 1:
            raise UsageError(f"max_attempts must be at least 1, got {value!r}")

    @rate_limit_wait.validator
    def _check_rate_limit_wait(self, _: attrs.Attribute[float], value: float) -> None:
        if value < RATE_LIMIT_WAIT:
            raise UsageError(f"rate_limit_wait must be at least {RATE_LIMIT_WAIT} s")

    @classmethod
    def none(cls) -> RetryPolicy:
        """A policy that sends each call once (an ambiguous write is still reconciled)."""
        return cls(max_attempts=1)

    def backoff(self, attempt: int, rng: random.Random) -> float:
        """The full-jitter wait after ``attempt`` attempts (``attempt`` >= 1)."""
        # Cap the exponent: 2**1100 overflows a float long before max_delay matters.
        ceiling = min(self.max_delay, self.base_delay * 2.0 ** min(attempt - 1, 60))
        return rng.uniform(0.0, ceiling)


@attrs.define
class RetryBudget:
    """A run-wide allowance of retries, so an outage does not multiply the load.

    Every first attempt deposits ``ratio`` retries; every retry withdraws one; the balance
    starts at ``floor`` and never exceeds ``cap`` (so a long healthy run cannot bank enough
    credit to hammer Kartra through a later outage). Over a whole run, retries therefore never
    exceed ``floor + ratio × first attempts``. 429 retries are not charged: the pacer, which
    pauses and slows everyone, is what answers a 429.

    Time-free and deterministic. Not thread-safe; within one event loop each method is atomic.
    """

    ratio: float = attrs.field(default=0.2, validator=_non_negative)
    floor: float = attrs.field(default=10.0, validator=_non_negative)
    cap: float = attrs.field(default=100.0, validator=_non_negative)
    balance: float = attrs.field(init=False)
    first_attempts: int = attrs.field(init=False, default=0)
    retries: int = attrs.field(init=False, default=0)
    refused: int = attrs.field(init=False, default=0)

    def __attrs_post_init__(self) -> None:
        if self.cap < self.floor:
            raise UsageError(f"cap ({self.cap}) must be at least floor ({self.floor})")
        self.balance = self.floor

    def record_first_attempt(self) -> None:
        """A new call was sent for the first time."""
        self.first_attempts += 1
        self.balance = min(self.cap, self.balance + self.ratio)

    def can_retry(self) -> bool:
        """Whether one more retry is allowed now."""
        return self.balance >= 1.0

    def try_spend(self) -> bool:
        """Take one retry from the budget; False (and nothing taken) when it is exhausted."""
        if not self.can_retry():
            self.refused += 1
            return False
        self.balance -= 1.0
        self.retries += 1
        return True


_MOST_DANGEROUS_FIRST: Final = (Safety.NEVER, Safety.RECONCILE, Safety.REPEATABLE, Safety.READ)


def strictest(safeties: Iterable[Safety]) -> Safety:
    """The safety of a chained call: that of its most dangerous action (READ if none)."""
    present = set(safeties)
    return next((s for s in _MOST_DANGEROUS_FIRST if s in present), Safety.READ)


def _refused(kind: FailureKind, safety: Safety, why: str) -> Decision:
    # A write that may have landed is not a plain failure: the caller must be told.
    if kind is FailureKind.AMBIGUOUS and safety is not Safety.READ:
        return Decision(Verdict.OUTCOME_UNKNOWN, f"{why}; the write may have been applied")
    return Decision(Verdict.GIVE_UP, why)


def decide(
    kind: FailureKind,
    safety: Safety,
    attempt: int,
    elapsed: float,
    policy: RetryPolicy,
    budget: RetryBudget | None,
    rng: random.Random,
) -> Decision:
    """Decide what to do after attempt number ``attempt`` (1 = the first) failed.

    ``elapsed`` is the time since the first attempt started. A RETRY decision has already been
    charged to ``budget`` (None = unlimited), so the caller just waits ``delay`` and resends.
    RECONCILE is not charged: the read-back it asks for is needed to know the truth, and it
    passes the pacer like any other call.
    """
    if attempt < 1:
        raise UsageError(f"attempt counts from 1, got {attempt!r}")
    if kind is FailureKind.API:
        return Decision(Verdict.GIVE_UP, "Kartra answered with an error; resending changes nothing")
    if kind is FailureKind.AMBIGUOUS and safety is Safety.NEVER:
        return Decision(Verdict.OUTCOME_UNKNOWN, "may have been applied and must never be replayed")
    if kind is FailureKind.AMBIGUOUS and safety is Safety.RECONCILE:
        if elapsed >= policy.deadline:
            return _refused(kind, safety, f"deadline of {policy.deadline:g} s passed")
        return Decision(Verdict.RECONCILE, "may have been applied: check before resending")

    if attempt >= policy.max_attempts:
        return _refused(kind, safety, f"gave up after {attempt} attempts")
    delay = policy.backoff(attempt, rng)
    if kind is FailureKind.RATE_LIMITED:
        delay += policy.rate_limit_wait
    if elapsed + delay > policy.deadline:
        return _refused(kind, safety, f"deadline of {policy.deadline:g} s reached")
    charged = kind is not FailureKind.RATE_LIMITED
    if charged and budget is not None and not budget.try_spend():
        return _refused(kind, safety, "run-wide retry budget exhausted")
    return Decision(Verdict.RETRY, f"retry {attempt + 1} of {policy.max_attempts}", delay)


_WHAT_HAPPENS: Final[Mapping[Safety, tuple[str, str]]] = {
    Safety.READ: ("read", "resent"),
    Safety.REPEATABLE: ("sets state; safe to repeat", "resent (the same effect twice)"),
    Safety.RECONCILE: (
        "creates once",
        "read back first; resent only if the effect is missing",
    ),
    Safety.NEVER: (
        "moves points or money, or books a seat",
        "never resent: reported as outcome unknown",
    ),
}


def safety_table_markdown(table: Mapping[str, Safety]) -> str:
    """Render ``{cmd: Safety}`` as a Markdown table, safest first, for the docs.

    Every command is retried after a 429 or a failure before sending; the table says what
    happens when the reply of a call that may have been received is lost.
    """
    order = {safety: i for i, safety in enumerate(reversed(_MOST_DANGEROUS_FIRST))}
    rows = sorted(table.items(), key=lambda item: (order[item[1]], item[0]))
    lines = [
        "| command | kind | after a lost reply |",
        "|---|---|---|",
    ]
    for cmd, safety in rows:
        kind, action = _WHAT_HAPPENS[safety]
        lines.append(f"| `{cmd}` | {kind} | {action} |")
    return "\n".join(lines) + "\n"
