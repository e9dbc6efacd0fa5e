"""The closed vocabularies of Kartra's records, shared by replies, requests and events."""

from __future__ import annotations

from enum import IntEnum, StrEnum


class CustomFieldType(StrEnum):
    """The five kinds of custom field (``custom_field_type`` / ``field_type``)."""

    INPUT_FIELD = "input_field"
    TEXT_AREA = "text_area"
    DROP_DOWN = "drop_down"
    RADIO_BUTTON = "radio_button"
    CHECKBOX = "checkbox"

    @property
    def has_options(self) -> bool:
        """True for the kinds whose value is chosen among options (and sent as option ids)."""
        return self in (
            CustomFieldType.DROP_DOWN,
            CustomFieldType.RADIO_BUTTON,
            CustomFieldType.CHECKBOX,
        )


class TransactionType(StrEnum):
    """What a transaction row records (``transaction_type``)."""

    SALE = "sale"
    REFUND = "refund"
    PARTIAL_REFUND = "partial_refund"
    CHARGEBACK = "chargeback"
    FAILED = "failed"
    REBILL = "rebill"
    CANCELLATION = "cancellation"


class SubscriptionStatus(StrEnum):
    """The state of a recurring subscription (``subscription_status``)."""

    ACTIVE = "Active"
    PAUSED = "Paused"
    CANCELLED = "Cancelled"
    TERMINATED = "Terminated"


class RecurringPeriod(StrEnum):
    """How often a subscription bills (``subscription_recurring_period``)."""

    WEEKLY = "weekly"
    EVERY_2_WEEKS = "every 2 weeks"
    MONTHLY = "monthly"
    EVERY_2_MONTHS = "every 2 months"
    QUARTERLY = "quarterly"
    YEARLY = "yearly"
    EVERY_2_YEARS = "every 2 years"


class GdprStatus(IntEnum):
    """A lead's GDPR state (``gdpr_lead_status``)."""

    GDPR_OFF = 0
    NOT_SUBJECT = 1
    ACCEPTED = 2
    NOT_ACCEPTED = 3
    UNKNOWN_LOCATION = 4
    PENDING = 5
