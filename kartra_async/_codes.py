"""Kartra's documented message types: the 74 error codes and the success codes.

This is data, not logic, so that the client (which maps codes to exception classes) and the
sandbox (which answers with these codes) can never drift apart. Messages are the current
wording of Kartra's help centre (docs/kartra-api.md#error-codes); clients must branch on the
code, never on the message, because the wording changed between doc generations.
"""

from __future__ import annotations

from typing import Final, Literal

Family = Literal[
    "transport",
    "auth",
    "app",
    "request",
    "lead",
    "tag",
    "list",
    "points",
    "sequence",
    "calendar",
    "custom_field",
    "billing",
]

#: type code -> (current message, family)
ERROR_CODES: Final[dict[int, tuple[str, Family]]] = {
    201: ("Connection not secure", "transport"),
    202: ("API key cannot be empty. Please get an API key first", "auth"),
    203: ("API key not valid. Please get an API key first", "auth"),
    204: ("API Account inactive", "auth"),
    233: ("API password not valid. Please get an API password first", "auth"),
    238: ("App Id cannot be empty. Please get an App Id first", "app"),
    239: ("App Id is not valid. The app does not exists or is inactive", "app"),
    240: ("App Account inactive", "app"),
    242: ("This API call was sent from an unauthorized IP", "app"),
    262: ("App does not have permission to execute this CMD", "app"),
    206: ("email or lead id is required. Nothing done", "request"),
    223: ("'lead' not an array", "request"),
    224: ("'actions' not an array", "request"),
    236: ("'get_lead' not an array", "request"),
    254: ("'cmd' is required", "request"),
    234: ("No lead found", "lead"),
    243: ("No lead found", "lead"),
    244: ("Lead already exists", "lead"),
    245: ("Lead is deleted", "lead"),
    211: ("Tag cannot be empty", "tag"),
    212: ("Tag does not exist", "tag"),
    213: ("Tag cannot be empty", "tag"),
    214: ("Tag does not exist", "tag"),
    207: ("List cannot be empty", "list"),
    208: ("List cannot be empty", "list"),
    209: ("List does not exist", "list"),
    231: ("List does not exist", "list"),
    215: ("Points cannot be empty", "points"),
    217: ("Points cannot be empty", "points"),
    227: ("Points is not a number", "points"),
    228: ("Points is not a number", "points"),
    219: ("Sequence does not exist", "sequence"),
    220: ("Sequence does not exist", "sequence"),
    225: ("Step cannot be empty", "sequence"),
    226: ("Sequence cannot be empty", "sequence"),
    229: ("Step has to be alphanumeric", "sequence"),
    230: ("Step does not exist", "sequence"),
    255: ("Calendar cannot be empty", "calendar"),
    256: ("Class cannot be empty", "calendar"),
    257: ("Calendar does not exist", "calendar"),
    258: ("Class does not exist", "calendar"),
    259: ("No active/pending calendar subscription for this lead", "calendar"),
    # 260/261 are shared by calendar_subscribe and edit_subscription; the family is the
    # calendar one because that is where Kartra documented them first (the client raises them
    # from edit_subscription as billing errors: ``_errors.CMD_ERROR_CLASSES``).
    260: ("Invalid date format", "calendar"),
    261: ("Date is in the past", "calendar"),
    263: (
        "Custom Field name can only contain letters, numbers, dashes or underscores",
        "custom_field",
    ),
    264: ("Custom Field already exists or not allowed", "custom_field"),
    265: ("Custom Field cannot be empty", "custom_field"),
    269: ("Custom Field type not valid", "custom_field"),
    270: ("Options not an array", "custom_field"),
    271: ("Wrong custom field format", "custom_field"),
    272: ("Option cannot be empty", "custom_field"),
    273: ("Options must have two or more elements", "custom_field"),
    247: ("Transaction doesn't exist", "billing"),
    248: ("Subscription doesn't exist", "billing"),
    249: ("Transaction not linked to any recurring subscription", "billing"),
    250: ("Transaction outside refund period", "billing"),
    251: ("Transaction already refunded", "billing"),
    252: ("Subscription already cancelled", "billing"),
    253: ("This type of transaction cannot be refunded or cancelled", "billing"),
    266: ("Refund has failed", "billing"),
    267: ("Cancellation has failed", "billing"),
    268: ("Invalid amount", "billing"),
    274: ("Wrong status", "billing"),
    275: ("Subscriptions cancelled or terminated cannot be updated", "billing"),
    276: ("Quantity must be between 1 and 9,999", "billing"),
    277: ("Price must be between 1.00 and 9,999.99", "billing"),
    278: ("Invalid number", "billing"),
    280: ("Invalid recurring period", "billing"),
    281: ("Recurrence cannot be changed", "billing"),
    282: ("Incorrect number of installments", "billing"),
    283: ("Wrong product id or price point", "billing"),
    284: ("Paypal transactions cannot be modified", "billing"),
    285: ("No editable parameters for subscription", "billing"),
    290: ("Tax must be between 0 and 100", "billing"),
}

#: cmd -> (success type code or None, current success message)
SUCCESS_CODES: Final[dict[str, tuple[int | None, str]]] = {
    "subscribe_lead_to_list": (101, "Lead subscribed to list"),
    # The docs show 101 for unsubscribe too; we keep Kartra's documented number
    # (docs/kartra-api.md#success-types).
    "unsubscribe_lead_from_list": (101, "Lead unsubscribed from list"),
    "assign_tag": (103, "Tag added to lead"),
    "unassign_tag": (104, "Tag removed from lead"),
    "give_points_to_lead": (105, "Points added to lead"),
    "remove_points_from_lead": (106, "Points removed from lead"),
    "subscribe_lead_to_sequence_at_step": (107, "Lead added to sequence"),
    # Undocumented number; 108 is the free slot after 107 (docs/kartra-api.md#success-types).
    "unsubscribe_lead_from_sequence": (108, "Lead removed from sequence"),
    "calendar_subscribe": (112, "Lead subscribed to class"),
    "calendar_cancel": (113, "Lead unsubscribed from class"),
    "create_custom_field": (114, "Custom Field created"),
    "modify_subscription_status": (115, "Subscription modified"),
    "edit_subscription": (115, "Subscription modified"),
    "search_transaction": (None, "Transaction exists"),
    "search_subscription": (None, "Subscription exists"),
}

#: HTTP status Kartra uses for its only non-200 answer.
RATE_LIMIT_STATUS: Final = 429
RATE_LIMIT_MESSAGE: Final = "Too many requests"
