"""Deterministic fault injection: which call gets which fault, decided from a seeded RNG.

A ``Faults`` holds ordered ``FaultRule`` s. For each call, every rule that matches the call's
cmds and still has uses left is drawn against its probability (one draw per matching rule
whose probability is below 1, from one ``random.Random(seed)``), so the same seed and the same
sequence of calls always give the same faults. At most one latency and one other fault apply
to a call; the first matching rule of each wins.
"""

from __future__ import annotations

import enum
import random
from collections import Counter
from collections.abc import Iterable

import attrs


class FaultKind(enum.Enum):
    """What can go wrong with a call, and when relative to the command running."""

    #: Delay the reply by ``delay`` seconds (or a uniform draw within a (low, high) range).
    LATENCY = "latency"
    #: HTTP 429 "Too many requests" whatever the window says (bursts: use ``count``).
    RATE_LIMITED = "rate_limited"
    #: The connection is reset before the command runs: nothing happened.
    RESET_BEFORE = "reset_before"
    #: The command commits, then the connection is reset: the effect stays, the reply is lost.
    RESET_AFTER = "reset_after"
    HTTP_500 = "http_500"
    HTTP_502 = "http_502"
    HTTP_503 = "http_503"
    #: A 200 whose body is not JSON (a PHP warning printed before the reply); committed.
    MALFORMED_JSON = "malformed_json"
    #: A 200 whose JSON is cut in the middle; committed.
    TRUNCATED_JSON = "truncated_json"
    #: The right JSON labelled ``Content-Type: text/html``; committed.
    HTML_CONTENT_TYPE = "html_content_type"
    #: No reply for ``delay`` seconds (default: an hour), then a reset; cut short on shutdown.
    STALL = "stall"
    #: PHP keeps running after the client gave up: no reply, the command commits ``delay``
    #: seconds after it arrived (default 1 s, longer than a short read timeout), then the
    #: connection is reset. The write lands *after* the client stopped waiting.
    LATE_COMMIT = "late_commit"


#: Kinds that need the command's reply, so they always apply after it committed.
AFTER_COMMIT_KINDS = frozenset(
    {
        FaultKind.RESET_AFTER,
        FaultKind.MALFORMED_JSON,
        FaultKind.TRUNCATED_JSON,
        FaultKind.HTML_CONTENT_TYPE,
    }
)
_HTTP_KINDS = frozenset({FaultKind.HTTP_500, FaultKind.HTTP_502, FaultKind.HTTP_503})


def _cmd_set(value: Iterable[str] | str | None) -> frozenset[str] | None:
    if value is None:
        return None
    return frozenset([value]) if isinstance(value, str) else frozenset(value)


@attrs.define
class FaultRule:
    """One fault: its kind, which calls it hits, how often and how many times.

    ``cmds``: only calls carrying one of these cmds (``"get_lead"`` for reads); None = any.
    ``probability``: chance per matching call. ``count``: uses left (None = unlimited).
    ``delay``: seconds for LATENCY and STALL; a ``(low, high)`` pair draws uniformly.
    ``after_commit``: for HTTP 5xx and STALL, let the command run first (its effect stays).
    """

    kind: FaultKind
    probability: float = 1.0
    cmds: frozenset[str] | None = attrs.field(default=None, converter=_cmd_set)
    count: int | None = None
    delay: float | tuple[float, float] = 0.0
    after_commit: bool = False

    def matches(self, cmds: tuple[str, ...]) -> bool:
        """Whether this rule applies to a call with these cmds and still has uses left."""
        if self.count is not None and self.count <= 0:
            return False
        return self.cmds is None or not self.cmds.isdisjoint(cmds)


@attrs.frozen
class Decision:
    """The faults chosen for one call."""

    latency: float = 0.0
    fault: FaultRule | None = None

    @property
    def before(self) -> FaultRule | None:
        """The fault to inject before the command runs, if any."""
        if self.fault is None or self.fault.kind in AFTER_COMMIT_KINDS:
            return None
        if self.fault.kind in _HTTP_KINDS or self.fault.kind is FaultKind.STALL:
            return None if self.fault.after_commit else self.fault
        return self.fault

    @property
    def after(self) -> FaultRule | None:
        """The fault to inject after the command committed, if any."""
        if self.fault is None or self.before is self.fault:
            return None
        return self.fault


NO_FAULT = Decision()


class Faults:
    """An ordered, mutable set of fault rules with a seeded random source and counters."""

    def __init__(self, *rules: FaultRule, seed: int | None = None) -> None:
        self.rules: list[FaultRule] = list(rules)
        #: The seed of ``random``; None until given (a ``Sandbox`` then reseeds with its own).
        self.seed = seed
        self.random = random.Random(seed if seed is not None else 0)
        #: How many times each kind was injected.
        self.injected: Counter[str] = Counter()

    def __repr__(self) -> str:
        rules, injected = getattr(self, "rules", ()), getattr(self, "injected", {})
        return f"<Faults rules={len(rules)} injected={dict(injected)}>"

    def reseed(self, seed: int) -> None:
        """Restart the random source from ``seed``."""
        self.seed = seed
        self.random = random.Random(seed)

    def add(self, rule: FaultRule) -> FaultRule:
        """Add a rule (it applies after the existing ones) and return it."""
        self.rules.append(rule)
        return rule

    def force(
        self,
        kind: FaultKind,
        count: int = 1,
        cmds: Iterable[str] | str | None = None,
        *,
        delay: float | tuple[float, float] = 0.0,
        after_commit: bool = False,
    ) -> FaultRule:
        """The next ``count`` matching calls get ``kind`` (e.g. a burst of 429s), before any
        other rule."""
        rule = FaultRule(
            kind, count=count, cmds=_cmd_set(cmds), delay=delay, after_commit=after_commit
        )
        self.rules.insert(0, rule)
        return rule

    def clear(self) -> None:
        """Remove every rule (counters are kept)."""
        self.rules.clear()

    def decide(self, cmds: tuple[str, ...]) -> Decision:
        """Choose this call's latency and fault, consuming uses and counting injections."""
        if not self.rules:
            return NO_FAULT
        latency_rule: FaultRule | None = None
        fault: FaultRule | None = None
        for rule in self.rules:
            is_latency = rule.kind is FaultKind.LATENCY
            if (latency_rule if is_latency else fault) is not None or not rule.matches(cmds):
                continue
            if rule.probability < 1.0 and self.random.random() >= rule.probability:
                continue
            if rule.count is not None:
                rule.count -= 1
            self.injected[rule.kind.value] += 1
            if is_latency:
                latency_rule = rule
            else:
                fault = rule
        latency = self._seconds(latency_rule.delay) if latency_rule is not None else 0.0
        return Decision(latency, fault)

    def _seconds(self, delay: float | tuple[float, float]) -> float:
        if isinstance(delay, tuple):
            return self.random.uniform(*delay)
        return float(delay)

    def late_commit_seconds(self, rule: FaultRule) -> float:
        """How long after arriving a LATE_COMMIT call commits: its delay, or one second."""
        seconds = self._seconds(rule.delay)
        return seconds if seconds > 0 else 1.0

    def stall_seconds(self, rule: FaultRule) -> float:
        """How long a STALL lasts: its delay, or an hour (longer than any client timeout)."""
        seconds = self._seconds(rule.delay)
        return seconds if seconds > 0 else 3600.0
