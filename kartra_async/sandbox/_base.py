"""What every sandbox command shares: the failure signal, the call context, parameter readers."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import attrs

from .._form import PhpArray, PhpValue
from .._model import test_mode_email
from ._state import Lead, SandboxAccount
from ._views import outbound_lead

#: A command's extra reply data, merged into its ``{cmd: {...}}`` entry.
Data = dict[str, Any]

# At most 18 digits: anything longer is no id or point count, and int() of a huge string raises.
_INTEGER = re.compile(r"[+-]?\d{1,18}").fullmatch
_DECIMAL = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)").fullmatch


class Fail(Exception):
    """A command failed with a Kartra error code; nothing of that command was applied."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


@attrs.define(slots=True)
class Event:
    """An outbound event: ``action``, its ``action_details`` and the lead as it was then."""

    action: str
    details: dict[str, Any]
    lead: dict[str, Any]

    def payload(self) -> dict[str, Any]:
        """The JSON body Kartra posts (docs/kartra-api.md#webhooks)."""
        return {"lead": self.lead, "action": self.action, "action_details": self.details}


@attrs.define(slots=True)
class Context:
    """One request being processed: the account, the clock, the subject lead, emitted events."""

    account: SandboxAccount
    now: float
    lead_form: PhpArray
    lead: Lead | None = None
    events: list[Event] | None = None
    #: Whether outbound events are wanted (building them costs time).
    emit: bool = False
    #: Whether the App is in Test Mode (created and renamed leads are stored under @kartra.com).
    test_mode: bool = False

    def stored_email(self, email: str) -> str:
        """The address a lead created or renamed to ``email`` is stored under."""
        return test_mode_email(email) if self.test_mode else email

    def event(self, action: str, details: dict[str, Any]) -> None:
        """Record an outbound event for the current lead, if events are wanted."""
        if self.emit and self.lead is not None:
            if self.events is None:
                self.events = []
            lead = outbound_lead(self.account, self.lead, self.now)
            self.events.append(Event(action, details, lead))

    def subject(self) -> Lead:
        """The lead of a lead-scoped command (resolved by the engine before the call)."""
        assert self.lead is not None, "lead-scoped command ran without a lead"
        return self.lead


@attrs.frozen
class Command:
    """A command handler and whether it acts on the call's lead."""

    run: Callable[[Context, PhpArray], Data]
    lead_scoped: bool


def text(params: PhpArray, key: str) -> str:
    """A scalar parameter as a stripped string; absent or array-valued counts as empty."""
    value = params.get(key)
    return value.strip() if isinstance(value, str) else ""


def integer(value: str) -> int | None:
    """PHP-ish integer reading: an optional sign and digits, nothing else."""
    return int(value) if _INTEGER(value) else None


def decimal_text(value: str) -> str | None:
    """A decimal number's text (normalised to two places), or None when it is not one."""
    if not _DECIMAL(value):
        return None
    return f"{float(value):.2f}"


def is_array(value: PhpValue | None) -> bool:
    """Whether a parsed value is a PHP array."""
    return isinstance(value, dict)
