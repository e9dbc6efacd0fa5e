"""Typed records for the JSON Kartra returns: lead profiles, custom fields, transactions,
subscriptions.

Every ``parse_*`` function tolerates Kartra's value quirks (ids as strings, ``"N/A"``, zero
dates, Eastern-time dates, ``"1"``/``"0"`` flags), keeps unknown keys in each record's ``extra``
and raises only :class:`RecordFormatError` (a ``ValueError`` naming the field) for values it
cannot interpret.
"""

from __future__ import annotations

from ._billing import (
    SubscriptionDetails,
    SubscriptionSummary,
    TransactionDetails,
    TransactionSummary,
    parse_subscription_details,
    parse_subscription_summaries,
    parse_transaction_details,
    parse_transaction_summaries,
)
from ._custom_fields import (
    CustomFieldDefinition,
    CustomFieldOption,
    CustomFieldValue,
    parse_custom_field_definitions,
)
from ._enums import (
    CustomFieldType,
    GdprStatus,
    RecurringPeriod,
    SubscriptionStatus,
    TransactionType,
)
from ._lead import (
    LeadProfile,
    ListSubscription,
    MembershipAccess,
    SequenceSubscription,
    TagAssignment,
    parse_lead_profile,
)
from ._values import KARTRA_TIME_ZONE, RecordFormatError

__all__ = [
    "KARTRA_TIME_ZONE",
    "CustomFieldDefinition",
    "CustomFieldOption",
    "CustomFieldType",
    "CustomFieldValue",
    "GdprStatus",
    "LeadProfile",
    "ListSubscription",
    "MembershipAccess",
    "RecordFormatError",
    "RecurringPeriod",
    "SequenceSubscription",
    "SubscriptionDetails",
    "SubscriptionStatus",
    "SubscriptionSummary",
    "TagAssignment",
    "TransactionDetails",
    "TransactionSummary",
    "TransactionType",
    "parse_custom_field_definitions",
    "parse_lead_profile",
    "parse_subscription_details",
    "parse_subscription_summaries",
    "parse_transaction_details",
    "parse_transaction_summaries",
]
