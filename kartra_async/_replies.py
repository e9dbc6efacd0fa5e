"""Typed replies: what Kartra said, per call and per action, with typed views of its data.

Kartra's reply shapes vary by command and by doc generation (docs/kartra-api.md#reply-shapes):
data may sit in ``actions[i][cmd]``, at the top level, or both. ``Reply.find`` looks in both
places so callers never have to know which; the typed accessors (``lead``, ``account_tags``,
...) build on it.
Unknown keys are kept in ``raw`` and in each ``ActionResult.data``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

import attrs

from ._base_errors import MalformedReply

if TYPE_CHECKING:
    from .records import (
        CustomFieldDefinition,
        LeadProfile,
        SubscriptionDetails,
        SubscriptionSummary,
        TransactionDetails,
        TransactionSummary,
    )


_INTEGER: Final = re.compile(r"-?[0-9]{1,19}")  # 64-bit ids; longer is not a Kartra number


#: Kartra's type codes as the strings it sends them: most replies resolve with one lookup.
_KNOWN_CODES: Final = {str(code): code for code in range(100, 300)}


def as_int(value: object) -> int | None:
    """Kartra's numbers arrive as ints or numeric strings; anything else is None."""
    if type(value) is str:
        known = _KNOWN_CODES.get(value)
        if known is not None:
            return known
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    # ASCII digits only: str.isdigit() accepts "²" and other digits int() refuses.
    if isinstance(value, str) and _INTEGER.fullmatch(value.strip()):
        return int(value.strip())
    return None


@attrs.frozen
class ActionResult:
    """The outcome of one action of a chained call.

    ``data`` is the action's object without ``status``/``message``/``type`` (e.g.
    ``{"lead_details": {"id": "1234"}}`` or ``{"transaction_list": [...]}``).
    """

    index: int
    cmd: str
    ok: bool
    type: int | None
    message: str | None
    data: Mapping[str, Any]


def _records() -> Any:
    # Imported on first use: most replies never need the typed records.
    from . import records

    return records


@attrs.frozen
class Reply:
    """A successful reply from Kartra (errors raise instead; see ``APIError``)."""

    ok: bool
    message: str | None
    type: int | None
    actions: tuple[ActionResult, ...]
    raw: Mapping[str, Any] = attrs.field(repr=False)

    def result(self, cmd: str) -> ActionResult | None:
        """The first action result for ``cmd``, if the reply has one."""
        for result in self.actions:
            if result.cmd == cmd:
                return result
        return None

    def find(self, key: str, cmd: str | None = None) -> Any:
        """A data key from the action results (``cmd``'s first, if given), else the top level."""
        for result in self.actions:
            if (cmd is None or result.cmd == cmd) and key in result.data:
                return result.data[key]
        if key in self.raw:
            return self.raw[key]
        return None

    @property
    def lead_id(self) -> int | None:
        """The lead's id from create/edit/search (``lead_details.id``), wherever it was put."""
        for result in self.actions:
            details = result.data.get("lead_details")
            if isinstance(details, Mapping) and as_int(details.get("id")) is not None:
                return as_int(details.get("id"))
        details = self.raw.get("lead_details")
        if isinstance(details, Mapping):
            return as_int(details.get("id"))
        return None

    def _parse(self, parser: str, key: str, cmd: str | None = None) -> Any:
        value = self.find(key, cmd)
        if value is None:
            raise MalformedReply(f"the reply has no {key!r}", _preview(self.raw))
        records = _records()
        try:
            return getattr(records, parser)(value)
        except records.RecordFormatError as exc:
            raise MalformedReply(f"{key}: {exc}", _preview(self.raw)) from exc

    @property
    def lead(self) -> LeadProfile:
        """``get_lead``'s profile, typed."""
        value = self.raw.get("lead_details")
        if not isinstance(value, Mapping):
            raise MalformedReply("the reply has no 'lead_details' object", _preview(self.raw))
        result: LeadProfile = self._parse("parse_lead_profile", "lead_details")
        return result

    def _names(self, key: str) -> tuple[str, ...]:
        value = self.find(key)
        if not isinstance(value, list):
            raise MalformedReply(f"{key!r} is not a list", _preview(self.raw))
        return tuple(str(item) for item in value)

    @property
    def account_tags(self) -> tuple[str, ...]:
        """``retrieve_account_tags``: the tag names."""
        return self._names("account_tags")

    @property
    def account_lists(self) -> tuple[str, ...]:
        """``retrieve_account_lists``: the list names."""
        return self._names("account_lists")

    @property
    def account_sequences(self) -> tuple[str, ...]:
        """``retrieve_account_sequences``: the sequence names."""
        return self._names("account_sequences")

    @property
    def account_pages(self) -> tuple[str, ...]:
        """``retrieve_account_pages``: the page names."""
        return self._names("account_pages")

    @property
    def custom_fields(self) -> tuple[CustomFieldDefinition, ...]:
        """``retrieve_custom_fields``: the custom field definitions."""
        result: tuple[CustomFieldDefinition, ...] = self._parse(
            "parse_custom_field_definitions", "custom_fields", "retrieve_custom_fields"
        )
        return result

    @property
    def transactions(self) -> tuple[TransactionSummary, ...]:
        """``retrieve_transactions_from_lead``: the lead's transactions."""
        result: tuple[TransactionSummary, ...] = self._parse(
            "parse_transaction_summaries", "transaction_list"
        )
        return result

    @property
    def subscriptions(self) -> tuple[SubscriptionSummary, ...]:
        """``retrieve_subscriptions_from_lead``: the lead's subscriptions."""
        result: tuple[SubscriptionSummary, ...] = self._parse(
            "parse_subscription_summaries", "subscriptions_list"
        )
        return result

    @property
    def transaction_details(self) -> TransactionDetails:
        """``get_transaction_details``: the transaction, typed."""
        result: TransactionDetails = self._parse("parse_transaction_details", "transaction_details")
        return result

    @property
    def subscription_details(self) -> SubscriptionDetails:
        """``get_subscription_details``: the subscription, typed."""
        result: SubscriptionDetails = self._parse(
            "parse_subscription_details", "subscription_details"
        )
        return result

    @property
    def refunded_transaction_id(self) -> int | None:
        """``refund_transaction``: the transaction id Kartra reports as refunded."""
        return as_int(self.find("transaction_refunded", "refund_transaction"))

    @property
    def cancelled_subscription(self) -> tuple[str | None, int | None]:
        """``cancel_transaction``: (gateway subscription id, Kartra's internal subscription id)."""
        gateway = self.find("transaction_subscription_id", "cancel_transaction")
        internal = self.find("transaction_internal_subscription_id", "cancel_transaction")
        return (None if gateway is None else str(gateway)), as_int(internal)


def _preview(raw: Mapping[str, Any]) -> bytes:
    import json

    return json.dumps(raw, default=str)[:2000].encode()
