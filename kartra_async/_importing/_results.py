"""Per-row results: the record kept for each row (journal and results file) and the run's tally.

A result record is plain JSON: ``row``, ``email``, ``lead_id``, ``outcome`` (``created``,
``updated``, ``failed``, ``invalid``, ``unknown``, or ``valid`` in a dry run), ``error_type``,
``error_code`` (Kartra's code when it gave one), ``error`` (the message), ``field`` (for invalid
rows), ``attempts`` (HTTP calls spent on the row), ``retries``, ``reconciled`` and ``failure`` (how
far a failed row got: ``not_sent``, ``rejected`` or ``unknown``; see ``kartra_async.Failure``).
Messages come from our exceptions, which never carry credentials.

Whatever the input held comes back out: values holding bytes that were not valid in the file's
encoding (kept as ``U+DC00 + byte``, see ``_source``) are written to a CSV results file as the
original bytes and to a JSONL one as ``\\udcXX`` escapes, which JSON readers decode back to the
same string. Record strings are bounded (a 16 MiB cell does not make a 16 MiB record).
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any, Final

import attrs

from .._errors import APIError, Failure, OutcomeUnknown, ValidationError
from .._outcome import Outcome
from ._source import BYTES_ERRORS

RESULT_FIELDS: Final = (
    "row",
    "email",
    "lead_id",
    "outcome",
    "error_type",
    "error_code",
    "error",
    "field",
    "attempts",
    "retries",
    "reconciled",
    "failure",
)
# Cells a spreadsheet would evaluate as a formula (OWASP "CSV injection").
_FORMULA_START: Final = ("=", "+", "-", "@", "\t", "\r", "\n")
#: Longest email, field name and message kept in a record (an address is at most 254).
_MAX_EMAIL: Final = 320
_MAX_FIELD: Final = 200
_MAX_ERROR: Final = 1000


def _bounded(text: str | None, limit: int) -> str | None:
    if text is None or len(text) <= limit:
        return text
    return text[:limit] + f"… ({len(text)} characters)"


def failure_of(outcome: Outcome) -> Failure | None:
    """How far a failed outcome's call got (None when it succeeded)."""
    return outcome.failure


def record_failure(record: Mapping[str, Any]) -> str | None:
    """A result record's failure class; records of older journals lack it and are inferred
    conservatively (a failure that cannot be told apart counts as ``rejected``)."""
    outcome = record.get("outcome")
    if outcome not in ("failed", "unknown", "invalid"):
        return None
    failure = record.get("failure")
    if failure in (Failure.NOT_SENT, Failure.REJECTED, Failure.UNKNOWN):
        return str(failure)
    if outcome == "invalid":
        return Failure.NOT_SENT.value
    return Failure.UNKNOWN.value if outcome == "unknown" else Failure.REJECTED.value


def outcome_record(row: int, mode: str, outcome: Outcome) -> dict[str, Any]:
    """The result record of a row that was sent."""
    error = outcome.error
    if error is None:
        if mode == "create":
            label = "created"
        elif mode == "edit":
            label = "updated"
        else:
            label = outcome.upsert or "updated"
    else:
        label = "unknown" if isinstance(error, OutcomeUnknown) else "failed"
    call = outcome.call
    email = getattr(getattr(call, "lead", None), "email", None)
    return {
        "row": row,
        "email": email,
        "lead_id": outcome.lead_id,
        "outcome": label,
        "error_type": type(error).__name__ if error is not None else None,
        "error_code": error.type if isinstance(error, APIError) else None,
        "error": str(error) if error is not None else None,
        "field": None,
        "attempts": outcome.attempts,
        "retries": outcome.retries,
        "reconciled": outcome.reconciled,
        "failure": None if error is None else str(failure_of(outcome)),
    }


def invalid_record(row: int, email: object, error: ValidationError) -> dict[str, Any]:
    """The result record of a row that failed validation (never sent)."""
    return {
        "row": row,
        "email": _bounded(email, _MAX_EMAIL) if isinstance(email, str) else None,
        "lead_id": None,
        "outcome": "invalid",
        "error_type": "ValidationError",
        "error_code": None,
        "error": _bounded(error.reason, _MAX_ERROR),
        "field": _bounded(error.field, _MAX_FIELD),
        "attempts": 0,
        "retries": 0,
        "reconciled": False,
        "failure": Failure.NOT_SENT.value,
    }


def valid_record(row: int, email: str | None) -> dict[str, Any]:
    """The dry-run record of a row that would be sent."""
    return {
        "row": row,
        "email": email,
        "lead_id": None,
        "outcome": "valid",
        "error_type": None,
        "error_code": None,
        "error": None,
        "field": None,
        "attempts": 0,
        "retries": 0,
        "reconciled": False,
        "failure": None,
    }


def neutralize_cell(value: object) -> object:
    """A CSV cell a spreadsheet will show as text: formula-looking strings get a leading '."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


class ResultsWriter:
    """Writes result records as JSONL, or as CSV (formula-safe) when the path ends in .csv."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._csv = path.suffix.lower() == ".csv"
        # CSV: undecodable input bytes go back out as themselves; JSONL: as \udcXX escapes,
        # which keep the file valid UTF-8 and valid JSON.
        errors = BYTES_ERRORS if self._csv else "backslashreplace"
        self._handle: IO[str] = path.open("w", encoding="utf-8", errors=errors, newline="")
        self._writer: Any = None
        if self._csv:
            self._writer = csv.writer(self._handle)
            self._writer.writerow(RESULT_FIELDS)

    def write(self, record: dict[str, Any]) -> None:
        """Append one record (flushed, so a crash loses at most this line)."""
        if self._csv:
            cells = ["" if record.get(k) is None else record.get(k) for k in RESULT_FIELDS]
            self._writer.writerow([neutralize_cell(cell) for cell in cells])
        else:
            row = {key: record.get(key) for key in RESULT_FIELDS}
            self._handle.write(json.dumps(row, ensure_ascii=False) + "\n")
        self._handle.flush()

    def close(self) -> None:
        """Close the file."""
        self._handle.close()


@attrs.define
class Tally:
    """Counts over result records: what the summary table shows."""

    rows: int = 0
    created: int = 0
    updated: int = 0
    failed: int = 0
    invalid: int = 0
    unknown: int = 0
    valid: int = 0
    calls: int = 0
    reasons: Counter[str] = attrs.field(factory=Counter)
    #: Failed, unknown and invalid rows by failure class (``not_sent``, ``rejected``, ``unknown``).
    failures: Counter[str] = attrs.field(factory=Counter)
    #: Rows (of this run) whose lead (email, else id) an earlier row already named.
    repeated: int = 0

    def add(self, record: dict[str, Any]) -> None:
        """Count one result record."""
        self.rows += 1
        self.calls += int(record.get("attempts") or 0)
        outcome = record.get("outcome")
        if outcome in ("created", "updated", "failed", "invalid", "unknown", "valid"):
            setattr(self, outcome, getattr(self, outcome) + 1)
        failure = record_failure(record)
        if failure is not None and outcome != "invalid":
            self.failures[failure] += 1
        if outcome == "invalid":
            self.reasons[f"invalid {record.get('field')}"] += 1
        elif outcome in ("failed", "unknown"):
            code = record.get("error_code")
            label = str(record.get("error_type"))
            self.reasons[f"{label} ({code})" if code is not None else label] += 1

    @property
    def ok(self) -> int:
        """Rows that fully succeeded."""
        return self.created + self.updated

    @property
    def not_ok(self) -> int:
        """Rows that did not fully succeed (failed, invalid or unknown)."""
        return self.failed + self.invalid + self.unknown
