"""``decode``: every reply shape of the fact sheet, every error code, typed accessors."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from kartra_async import (
    AccountCall,
    APIError,
    AuthError,
    Call,
    ConfigurationError,
    CustomFieldFormatError,
    GetLead,
    LeadAlreadyExists,
    LeadDeleted,
    LeadNotFound,
    LeadRequest,
    MalformedReply,
    RateLimited,
    ServerError,
    TagError,
    _errors,
    decode,
    error_class,
)
from kartra_async._codes import ERROR_CODES

from .conftest import body

CREATE_TAG = LeadRequest(email="ann@example.com").create().assign_tag("VIP")
SEARCH = LeadRequest(email="ann@example.com").search()
TAGS = AccountCall().retrieve_account_tags()


# --- success shapes ------------------------------------------------------------------------------


def test_flat_success() -> None:
    call = SEARCH.assign_tag("VIP")
    reply = decode(
        200, body({"status": "Success", "message": "Tag added to lead", "type": "103"}), call
    )
    assert reply.ok
    assert reply.type == 103
    assert reply.message == "Tag added to lead"
    assert reply.actions == ()


def test_chained_actions_envelope() -> None:
    payload = {
        "status": "Success",
        "actions": [
            {"create_lead": {"status": "Success", "lead_details": {"id": "1234"}}},
            {"assign_tag": {"status": "Success", "message": "Tag added to lead", "type": "103"}},
        ],
    }
    reply = decode(200, body(payload), CREATE_TAG)
    assert reply.lead_id == 1234
    assert [(r.index, r.cmd, r.ok, r.type) for r in reply.actions] == [
        (0, "create_lead", True, None),
        (1, "assign_tag", True, 103),
    ]
    assert reply.result("assign_tag") is not None
    assert reply.actions[0].data == {"lead_details": {"id": "1234"}}


def test_modify_subscription_status_with_integer_type() -> None:
    call = AccountCall().modify_subscription_status(5, "pause")
    payload = {
        "status": "Success",
        "actions": [
            {
                "modify_subscription_status": {
                    "status": "Success",
                    "message": "Subscription modified",
                    "type": 115,
                }
            }
        ],
    }
    assert decode(200, body(payload), call).actions[0].type == 115


@pytest.mark.parametrize("status", ["Success", "success", "SUCCESS", " Success "])
def test_status_in_any_case(status: str) -> None:
    assert decode(200, body({"status": status, "account_tags": []}), TAGS).ok


@pytest.mark.parametrize("status", ["error", "ERROR", "Error"])
@pytest.mark.parametrize("code", ["244", 244])
def test_error_status_in_any_case_and_type_as_string_or_int(status: str, code: Any) -> None:
    with pytest.raises(LeadAlreadyExists) as info:
        decode(
            200,
            body({"status": status, "message": "Lead already exists", "type": code}),
            CREATE_TAG,
        )
    assert info.value.type == 244


def test_inventory_hoisted_to_the_top_level() -> None:
    reply = decode(200, body({"status": "Success", "account_tags": ["VIP", "Customers"]}), TAGS)
    assert reply.account_tags == ("VIP", "Customers")


def test_inventory_inside_the_action_entry_and_hoisted() -> None:
    call = (
        AccountCall().retrieve_account_lists().retrieve_account_sequences().retrieve_account_pages()
    )
    payload = {
        "status": "Success",
        "actions": [
            {"retrieve_account_lists": {"status": "Success", "account_lists": ["News"]}},
            {"retrieve_account_sequences": {"status": "Success", "account_sequences": ["Welcome"]}},
            {"retrieve_account_pages": {"status": "Success"}},
        ],
        "account_pages": ["Home", "Sales"],
    }
    reply = decode(200, body(payload), call)
    assert reply.account_lists == ("News",)
    assert reply.account_sequences == ("Welcome",)
    assert reply.account_pages == ("Home", "Sales")


def test_search_lead_flat_lead_details() -> None:
    payload = {"status": "Success", "message": "Lead found", "lead_details": {"id": "39260"}}
    assert decode(200, body(payload), SEARCH).lead_id == 39260


def test_edit_lead_id_in_action() -> None:
    call = LeadRequest(id=7).edit(new_email="b@c.co")
    payload = {
        "status": "Success",
        "actions": [{"edit_lead": {"status": "Success", "lead_details": {"id": 7}}}],
    }
    assert decode(200, body(payload), call).lead_id == 7


@pytest.mark.parametrize(
    ("call", "payload", "check"),
    [
        (
            SEARCH.retrieve_transactions(),
            {
                "retrieve_transactions_from_lead": {
                    "transaction_list": [
                        {
                            "transaction_id": "48110",
                            "lead_id": "4174086",
                            "lead_email": "example@email.com",
                            "transaction_type": "sale",
                        }
                    ]
                }
            },
            lambda reply: reply.transactions[0].transaction_id == 48110,
        ),
        (
            AccountCall().refund_transaction(792354),
            {"refund_transaction": {"status": "Success", "transaction_refunded": "792354"}},
            lambda reply: reply.refunded_transaction_id == 792354,
        ),
        (
            AccountCall().cancel_transaction(1),
            {
                "cancel_transaction": {
                    "status": "Success",
                    "transaction_subscription_id": "I-EV375R0H61SM",
                    "transaction_internal_subscription_id": "14833",
                }
            },
            lambda reply: reply.cancelled_subscription == ("I-EV375R0H61SM", 14833),
        ),
        (
            AccountCall().get_subscription_details(5),
            {
                "get_subscription_details": {
                    "subscription_details": {
                        "subscription_id": "5",
                        "subscription_status": "Active",
                    }
                }
            },
            lambda reply: reply.subscription_details.subscription_id == 5,
        ),
    ],
)
def test_documented_cmd_keyed_replies_without_actions_or_status(
    call: Call, payload: dict[str, Any], check: Any
) -> None:
    reply = decode(200, body(payload), call)
    assert reply.ok
    assert check(reply)


def test_cmd_keyed_error_without_actions_raises_that_error() -> None:
    call = AccountCall().refund_transaction(5)
    payload = {
        "refund_transaction": {"status": "Error", "message": "Refund has failed", "type": "266"}
    }
    with pytest.raises(_errors.BillingError) as info:
        decode(200, body(payload), call)
    assert info.value.type == 266
    assert info.value.cmd == "refund_transaction"


def test_search_transaction_message_without_type() -> None:
    call = AccountCall().search_transaction(1)
    reply = decode(200, body({"status": "Success", "message": "Transaction exists"}), call)
    assert reply.message == "Transaction exists"
    assert reply.type is None


def test_unknown_extra_keys_are_kept() -> None:
    payload = {
        "status": "Success",
        "request_id": "abc",
        "actions": [
            {
                "create_lead": {
                    "status": "Success",
                    "lead_details": {"id": "1", "new": 1},
                    "extra": [1],
                }
            }
        ],
    }
    reply = decode(200, body(payload), LeadRequest(email="a@b.co").create())
    assert reply.raw["request_id"] == "abc"
    assert reply.actions[0].data["extra"] == [1]
    assert reply.actions[0].data["lead_details"]["new"] == 1


def test_actions_as_a_php_object_keep_their_order() -> None:
    payload = {
        "status": "Success",
        "actions": {
            "0": {"search_lead": {"status": "Success"}},
            "1": {"assign_tag": {"status": "Success"}},
        },
    }
    reply = decode(200, body(payload), SEARCH.assign_tag("VIP"))
    assert [r.cmd for r in reply.actions] == ["search_lead", "assign_tag"]


def test_json_labelled_text_html_is_decoded_from_bytes_alone() -> None:
    raw = b'\xef\xbb\xbf{"status":"Success","account_tags":["Caf\xc3\xa9"]}'
    # decode never sees a Content-Type; a UTF-8 byte order mark is tolerated by json.loads.
    assert decode(200, raw, TAGS).account_tags == ("Café",)


# --- malformed and transport-level replies -------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"   ",
        b"[1, 2]",
        b'"Success"',
        b"{",
        b"\xff\xfe",
        b'{"message": "no status"}',
        b'{"status": "Maybe"}',
        b'{"status": 1}',
        b'{"status": "Success", "actions": "create_lead"}',
        b'{"status": "Success", "actions": [{"a": {}, "b": {}}]}',
        b"[" * 100000,
        b"<br />\n<b>Warning</b>: something in /var/www/api.php",
    ],
)
def test_unreadable_200_is_a_malformed_reply_with_the_body(raw: bytes) -> None:
    with pytest.raises(MalformedReply) as info:
        decode(200, raw, TAGS)
    assert info.value.body == raw


def test_get_lead_success_needs_lead_details() -> None:
    with pytest.raises(MalformedReply):
        decode(200, body({"status": "Success"}), GetLead(email="a@b.co"))


@pytest.mark.parametrize(
    "raw",
    [
        b"Too many requests",
        b"",
        b"<html>429</html>",
        body({"status": "Error", "message": "Too many requests"}),
    ],
)
def test_http_429_is_rate_limited_whatever_the_body(raw: bytes) -> None:
    with pytest.raises(RateLimited) as info:
        decode(429, raw, CREATE_TAG)
    assert info.value.type == 429
    assert "Too many requests" in info.value.message
    assert info.value.email == "ann@example.com"


@pytest.mark.parametrize("status", [500, 502, 503, 201, 418])
def test_other_http_statuses_are_server_errors(status: int) -> None:
    with pytest.raises(ServerError) as info:
        decode(status, b"oops", TAGS)
    assert info.value.status == status
    assert info.value.body == b"oops"
    # The request reached something that may have run it.
    assert info.value.failure == "unknown"


@pytest.mark.parametrize("status", [301, 302, 307, 308, 401, 403, 404, 405])
def test_statuses_no_kartra_endpoint_gives_are_configuration_errors(status: int) -> None:
    with pytest.raises(ConfigurationError) as info:
        decode(status, b"<html>Not Found</html>", TAGS, url="https://app.kartra.com/apix")
    assert info.value.status == status
    assert info.value.url == "https://app.kartra.com/apix"
    assert "https://app.kartra.com/apix" in str(info.value)
    assert info.value.failure == "not_sent"


@pytest.mark.parametrize(
    "raw", [b"<html>Bad gateway</html>", b"\n  <!DOCTYPE html><html><body>Login</body></html>"]
)
def test_a_whole_html_page_with_status_200_is_a_configuration_error(raw: bytes) -> None:
    with pytest.raises(ConfigurationError) as info:
        decode(200, raw, TAGS)
    assert info.value.status == 200


def test_odd_type_values_do_not_crash() -> None:
    for code in ("²", "2.5e2", None, True, [244], "abc"):
        with pytest.raises(APIError):
            decode(200, body({"status": "Error", "message": "x", "type": code}), TAGS)


# --- every error code ----------------------------------------------------------------------------

FAMILY = {
    "transport": _errors.InsecureConnection,
    "auth": _errors.AuthError,
    "app": _errors.AppError,
    "request": _errors.RequestShapeError,
    "lead": _errors.LeadError,
    "tag": _errors.TagError,
    "list": _errors.ListError,
    "points": _errors.PointsError,
    "sequence": _errors.SequenceError,
    "calendar": _errors.CalendarError,
    "custom_field": _errors.CustomFieldError,
    "billing": _errors.BillingError,
}
LEAVES = {
    201: _errors.InsecureConnection,
    202: _errors.MissingAPIKey,
    203: _errors.InvalidAPIKey,
    204: _errors.AccountInactive,
    233: _errors.InvalidAPIPassword,
    238: _errors.MissingAppId,
    239: _errors.InvalidAppId,
    240: _errors.AppAccountInactive,
    242: _errors.UnauthorizedIP,
    262: _errors.CommandNotPermitted,
    234: LeadNotFound,
    243: LeadNotFound,
    244: LeadAlreadyExists,
    245: LeadDeleted,
    271: CustomFieldFormatError,
    260: _errors.CalendarDateError,
    261: _errors.CalendarDateError,
    247: _errors.TransactionNotFound,
    248: _errors.SubscriptionNotFound,
}


def test_there_are_74_documented_codes() -> None:
    assert len(ERROR_CODES) == 74
    assert set(LEAVES) <= set(ERROR_CODES)


@pytest.mark.parametrize("code", sorted(ERROR_CODES))
def test_every_code_maps_to_its_family_and_leaf(code: int) -> None:
    message, family = ERROR_CODES[code]
    cls = error_class(code)
    assert issubclass(cls, FAMILY[family])
    assert cls is LEAVES.get(code, FAMILY[family])
    # Decoded flat, as Kartra documents its errors, with the type as a string.
    with pytest.raises(cls) as info:
        decode(200, body({"status": "Error", "message": message, "type": str(code)}), CREATE_TAG)
    assert type(info.value) is cls
    assert info.value.type == code
    assert info.value.message == message
    assert str(code) in str(info.value)
    assert info.value.reply is not None


def test_unknown_codes_are_plain_api_errors() -> None:
    assert error_class(999) is APIError
    with pytest.raises(APIError) as info:
        decode(200, body({"status": "Error", "message": "New thing", "type": "999"}), TAGS)
    assert type(info.value) is APIError
    assert info.value.type == 999


def test_rate_limited_is_an_api_error() -> None:
    assert issubclass(RateLimited, APIError)
    assert error_class(429) is RateLimited


def test_global_errors_belong_to_no_action() -> None:
    with pytest.raises(AuthError) as info:
        decode(200, body({"status": "Error", "message": "API key not valid", "type": "203"}), TAGS)
    assert info.value.cmd is None
    assert info.value.action_index is None


def test_flat_error_of_a_single_action_call_names_it() -> None:
    with pytest.raises(TagError) as info:
        decode(
            200,
            body({"status": "Error", "message": "Tag does not exist", "type": "212"}),
            AccountCall().then("x_tag"),
        )
    assert info.value.cmd == "x_tag"
    assert info.value.action_index == 0


# --- a failed action inside a chain --------------------------------------------------------------


@pytest.mark.parametrize("top", ["Success", "Error"])
def test_failed_action_raises_its_error_and_keeps_the_created_lead(top: str) -> None:
    payload = {
        "status": top,
        "actions": [
            {"create_lead": {"status": "Success", "lead_details": {"id": "1234"}}},
            {"assign_tag": {"status": "Error", "message": "Tag does not exist", "type": "212"}},
        ],
    }
    with pytest.raises(TagError) as info:
        decode(200, body(payload), CREATE_TAG)
    error = info.value
    assert error.type == 212
    assert error.cmd == "assign_tag"
    assert error.action_index == 1
    assert error.email == "ann@example.com"
    assert error.reply is not None
    assert error.reply.lead_id == 1234
    assert [r.ok for r in error.reply.actions] == [True, False]


def test_action_error_without_status_is_detected_by_its_type() -> None:
    payload = {
        "status": "Success",
        "actions": [
            {"search_lead": {"lead_details": {"id": "9"}}},
            {"assign_tag": {"message": "Tag cannot be empty", "type": "211"}},
        ],
    }
    with pytest.raises(TagError) as info:
        decode(200, body(payload), SEARCH.assign_tag("VIP"))
    assert info.value.reply is not None
    assert info.value.reply.lead_id == 9


# --- typed accessors -----------------------------------------------------------------------------

LEAD_DETAILS = {
    "id": "4174086",
    "first_name": "Ann",
    "last_name": "Lee",
    "email": "ann@example.com",
    "date_joined": "2024-01-15 09:30:00",
    "score": "42",
    "blacklisted": "0",
    "lead_preferred_time_zone": "Europe/London",
    "custom_fields": [
        {
            "field_id": 1,
            "field_identifier": "text1",
            "field_type": "input_field",
            "field_value": "hi",
        },
        {
            "field_id": "2",
            "field_identifier": "colour",
            "field_type": "drop_down",
            "field_value": [{"option_id": "7", "option_value": "blue"}],
        },
    ],
    "tags": [{"tag_name": "VIP"}],
    "lists": [{"list_name": "News", "active": "1"}],
    "sequences": [{"sequence_name": "Welcome", "step": "2", "status": "active"}],
    "memberships": [
        {
            "membership_id": "3",
            "membership_name": "Gold",
            "level_id": "1",
            "level_name": "Top",
            "active": "1",
        }
    ],
    "gdpr_lead_status": "2",
    "surprise": {"new": True},
}


def test_get_lead_profile_is_typed() -> None:
    reply = decode(
        200,
        body({"status": "Success", "lead_details": LEAD_DETAILS}),
        GetLead(email="ann@example.com"),
    )
    lead = reply.lead
    assert lead.id == 4174086
    assert lead.email == "ann@example.com"
    assert lead.score == 42
    assert lead.blacklisted is False
    assert lead.date_joined is not None
    assert lead.date_joined.utcoffset() is not None
    # 09:30 US Eastern in January is 14:30 UTC.
    assert lead.date_joined == datetime(2024, 1, 15, 14, 30, tzinfo=UTC)
    assert [f.identifier for f in lead.custom_fields] == ["text1", "colour"]
    assert [t.name for t in lead.tags] == ["VIP"]
    assert lead.lists[0].name == "News"
    assert lead.lists[0].active is True
    assert lead.sequences[0].step == "2"
    assert lead.memberships[0].name == "Gold"
    assert lead.extra["surprise"] == {"new": True}


def test_get_lead_not_found_and_deleted() -> None:
    with pytest.raises(LeadNotFound):
        decode(
            200, body({"status": "Error", "message": "No lead found", "type": "234"}), GetLead(id=5)
        )
    with pytest.raises(LeadDeleted):
        decode(
            200, body({"status": "Error", "message": "Lead is deleted", "type": 245}), GetLead(id=5)
        )


def test_custom_field_definitions() -> None:
    payload = {
        "status": "Success",
        "custom_fields": [
            {
                "field_id": "1",
                "field_identifier": "gender",
                "field_type": "radio_button",
                "field_value": [
                    {"option_id": "1", "option_value": "male"},
                    {"option_id": "2", "option_value": "female"},
                ],
            },
            {"field_id": "3", "field_identifier": "field_3", "field_type": "input_field"},
        ],
    }
    fields = decode(200, body(payload), AccountCall().retrieve_custom_fields()).custom_fields
    assert [f.identifier for f in fields] == ["gender", "field_3"]
    assert [o.option_id for o in fields[0].options] == [1, 2]


def test_subscriptions_and_transaction_details() -> None:
    call = SEARCH.retrieve_subscriptions()
    payload = {
        "status": "Success",
        "actions": [
            {"search_lead": {"status": "Success", "lead_details": {"id": "1"}}},
            {
                "retrieve_subscriptions_from_lead": {
                    "subscriptions_list": [
                        {
                            "subscription_id": "14833",
                            "lead_id": "1",
                            "lead_email": "a@b.co",
                            "subscription_status": "Paused",
                        }
                    ]
                }
            },
        ],
    }
    subs = decode(200, body(payload), call).subscriptions
    assert subs[0].subscription_id == 14833
    assert subs[0].status == "Paused"

    details = {
        "transaction_id": "48110",
        "lead_id": 5,
        "transaction_full_amount": "19.99",
        "transaction_date": "0000-00-00 00:00:00",
        "transaction_affiliate": "N/A",
        "product_id": "3",
    }
    reply = decode(
        200,
        body(
            {
                "status": "Success",
                "actions": [{"get_transaction_details": {"transaction_details": details}}],
            }
        ),
        AccountCall().get_transaction_details(48110),
    )
    record = reply.transaction_details
    assert record.transaction_id == 48110
    assert record.full_amount == Decimal("19.99")
    assert record.transaction_date is None
    assert record.affiliate is None


def test_subscription_details_values() -> None:
    details = {
        "subscription_id": "32451",
        "subscription_installments_left": "Until cancelled",
        "subscription_end_date": "0000-00-00 00:00:00",
        "subscription_next_scheduled_payment_amount": "N/A",
        "subscription_recurring_period": "every 2 months",
        "subscription_status": "Active",
    }
    reply = decode(
        200,
        body({"get_subscription_details": {"subscription_details": details}}),
        AccountCall().get_subscription_details(32451),
    )
    record = reply.subscription_details
    assert record.subscription_id == 32451


def test_accessor_for_missing_data_is_malformed_reply() -> None:
    reply = decode(200, body({"status": "Success"}), TAGS)
    with pytest.raises(MalformedReply):
        _ = reply.account_tags
    with pytest.raises(MalformedReply):
        _ = reply.transactions
    with pytest.raises(MalformedReply):
        _ = reply.lead
    assert reply.lead_id is None
    assert reply.refunded_transaction_id is None


def test_accessor_for_unreadable_record_is_malformed_reply() -> None:
    bad = {"status": "Success", "transaction_list": [{"transaction_id": "not a number"}]}
    with pytest.raises(MalformedReply):
        _ = decode(200, body(bad), SEARCH.retrieve_transactions()).transactions
