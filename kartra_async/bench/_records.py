"""What a run records, as plain values: each HTTP call (``Attempt``), all of them with live
counters (``Recorder``), the settled items (``Tally``) and the whole run (``RunData``).

Pure: no clock, no I/O; the transport wrapper and the runner fill them in.
"""

from __future__ import annotations

from collections import Counter

import attrs

#: The status recorded for a call that got no HTTP response (reset, timeout, refused).
NO_RESPONSE = 0
RATE_LIMIT_STATUS = 429


@attrs.frozen
class Attempt:
    """One HTTP call: when it was posted and answered (monotonic seconds), and its status."""

    start: float
    end: float
    status: int

    @property
    def latency(self) -> float:
        """Seconds from post to the whole reply read (or to the failure)."""
        return self.end - self.start

    @property
    def rate_limited(self) -> bool:
        """True when the server answered 429."""
        return self.status == RATE_LIMIT_STATUS


@attrs.define
class Recorder:
    """Every attempt of a run, plus live counters a progress line can poll without locks."""

    attempts: list[Attempt] = attrs.field(factory=list)
    in_flight: int = 0
    rate_limited: int = 0
    no_response: int = 0

    def add(self, attempt: Attempt) -> None:
        """Record one finished HTTP call."""
        self.attempts.append(attempt)
        if attempt.rate_limited:
            self.rate_limited += 1
        elif attempt.status == NO_RESPONSE:
            self.no_response += 1

    def reset(self) -> None:
        """Forget everything recorded (calls made before the measurement starts)."""
        self.attempts.clear()
        self.rate_limited = 0
        self.no_response = 0

    @property
    def calls(self) -> int:
        """HTTP calls finished so far."""
        return len(self.attempts)


@attrs.define
class Tally:
    """Settled items: successes, failures by error type, and when retries happened."""

    ok: int = 0
    failed: int = 0
    retries: int = 0
    retried_items: int = 0
    #: (settle time, retries) for every item that needed at least one retry.
    retry_marks: list[tuple[float, int]] = attrs.field(factory=list)
    #: Items settled by reading the outcome back (a write whose reply was lost or refused).
    reconciled: int = 0
    errors: Counter[str] = attrs.field(factory=Counter)
    created: int = 0
    updated: int = 0

    @property
    def items(self) -> int:
        """Items settled (ok or not)."""
        return self.ok + self.failed


@attrs.define
class RunData:
    """Everything measured during one run (monotonic seconds on the recorder's clock)."""

    recorder: Recorder
    tally: Tally
    started: float
    ended: float
    cpu_process: float
    cpu_sandbox: float | None
    peak_rss: int | None
