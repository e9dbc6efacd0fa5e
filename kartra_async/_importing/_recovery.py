"""After an outage: which journaled failures a resumed run sends again, and the circuit breaker.

A failed row's ``failure`` (``kartra_async.Failure``) says how far it got, which decides what
``--resume --retry-failed`` may do with it:

- ``not_sent``: nothing reached Kartra, so the row is sent again as if new;
- ``unknown``: it may have been applied, so it is settled through recovery (``Recover``): looked
  up or re-applied with its safe actions only, points and money never replayed;
- ``rejected``: Kartra answered with an error; sent again only with ``--retry-rejected`` (after the
  account was fixed, say), since the same call would most likely be refused again.

Invalid rows are never retried: the input file is the same (the journal checks its checksum),
so they would be invalid again; fix them in the rejects file and import that.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from .._errors import Failure
from ._results import record_failure


@attrs.frozen
class RetryChoice:
    """Which failure classes of journaled rows a resumed run sends again."""

    failed: bool = False
    rejected: bool = False

    def wants(self, record: Mapping[str, Any]) -> Failure | None:
        """The failure class to retry ``record`` as, or None to keep its result."""
        if record.get("outcome") not in ("failed", "unknown"):
            return None
        failure = Failure(record_failure(record) or Failure.REJECTED)
        if failure is Failure.REJECTED:
            return failure if self.rejected else None
        return failure if self.failed or self.rejected else None


class Breaker:
    """Trips after ``limit`` consecutive rows failed ``not_sent``: Kartra is unreachable, and
    every further row would only fail the same way. Any other outcome resets the count."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.consecutive = 0
        self.tripped = False

    def observe(self, record: Mapping[str, Any]) -> bool:
        """Count one sent row's result; True once the breaker has tripped."""
        if record.get("outcome") == "failed" and record_failure(record) == Failure.NOT_SENT:
            self.consecutive += 1
        else:
            self.consecutive = 0
        if self.limit and self.consecutive >= self.limit:
            self.tripped = True
        return self.tripped
