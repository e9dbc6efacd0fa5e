"""Lead commands: each happy path with its effect on the account, and each documented code."""

from __future__ import annotations

from typing import Any

import pytest

from kartra_async._codes import ERROR_CODES, SUCCESS_CODES
from kartra_async._form import FormValue
from kartra_async.sandbox import SandboxAccount, export_account

from .conftest import Runner
from .support import chain, code

BUYER = "buyer@example.com"


def _entry(reply: dict[str, Any], index: int = 0) -> dict[str, Any]:
    (entry,) = reply["actions"][index].values()
    assert isinstance(entry, dict)
    return entry


def _succeeded(reply: dict[str, Any], cmd: str) -> None:
    assert reply["status"] == "Success"
    entry = reply["actions"][-1][cmd]
    assert entry["status"] == "Success"
    known = SUCCESS_CODES.get(cmd)
    if known is not None:
        assert entry["message"] == known[1]
        assert entry.get("type") == (str(known[0]) if known[0] is not None else None)


def _option(account: SandboxAccount, identifier: str, name: str) -> int:
    field = account.custom_fields[identifier]
    return next(ident for ident, option in field.options.items() if option == name)


# --- openers ---------------------------------------------------------------------------------


def test_create_lead_stores_profile_and_custom_fields(run: Runner, account: SandboxAccount) -> None:
    blue = _option(account, "colour", "blue")
    video, events = _option(account, "interests", "video"), _option(account, "interests", "events")
    reply = run(
        chain(
            "Ann@Example.com",
            {"cmd": "create_lead"},
            first_name="Ann",
            phone="555",
            lead_preferred_time_zone="Europe/London",
            custom_fields=[
                {"field_identifier": "company_size", "field_value": "50"},
                {"field_identifier": "colour", "field_value": str(blue)},
                {"field_identifier": "interests", "field_value": [video, events]},
                {"field_identifier": "no_such_field", "field_value": "ignored"},
            ],
        )
    )
    _succeeded(reply, "create_lead")
    lead = account.lead_by_email("ann@example.com")
    assert lead is not None
    assert _entry(reply)["lead_details"] == {"id": str(lead.id)}
    assert lead.email == "Ann@Example.com"
    assert (lead.field("first_name"), lead.field("phone")) == ("Ann", "555")
    profile = run({"get_lead": {"id": lead.id}})["lead_details"]
    values = {item["field_identifier"]: item["field_value"] for item in profile["custom_fields"]}
    assert values["company_size"] == "50"
    assert values["colour"] == [{"option_id": blue, "option_value": "blue"}]
    assert [item["option_value"] for item in values["interests"]] == ["video", "events"]
    assert values["gender"] == []
    assert values["notes_long"] == ""
    assert profile["lead_preferred_time_zone"] == "Europe/London"


@pytest.mark.parametrize(
    ("email", "lead", "expected"),
    [
        (BUYER, {}, 244),
        ("BUYER@example.com", {}, 244),
        ("deleted@example.com", {}, 245),
        (None, {"first_name": "No email"}, 206),
        ("x@example.com", {"custom_fields": "text"}, 271),
        ("x@example.com", {"custom_fields": [{"field_identifier": "colour"}]}, 271),
        (
            "x@example.com",
            {"custom_fields": [{"field_identifier": "colour", "field_value": "x"}]},
            271,
        ),
        (
            "x@example.com",
            {"custom_fields": [{"field_identifier": "colour", "field_value": "9999"}]},
            271,
        ),
        (
            "x@example.com",
            {"custom_fields": [{"field_identifier": "interests", "field_value": "1"}]},
            271,
        ),
        (
            "x@example.com",
            {"custom_fields": [{"field_identifier": "company_size", "field_value": ["a"]}]},
            271,
        ),
        ("x@example.com", {"custom_fields": ["not a map"]}, 271),
    ],
)
def test_create_lead_errors(
    run: Runner,
    account: SandboxAccount,
    email: str | None,
    lead: dict[str, FormValue],
    expected: int,
) -> None:
    before = account.lead_count()
    reply = run(chain(email, {"cmd": "create_lead"}, **lead))
    assert code(reply) == expected
    assert reply["actions"] == [
        {
            "create_lead": {
                "status": "Error",
                "message": ERROR_CODES[expected][0],
                "type": str(expected),
            }
        }
    ]
    assert account.lead_count() == before


def test_edit_lead_changes_only_sent_fields_and_email(run: Runner, account: SandboxAccount) -> None:
    lead = account.lead_by_email(BUYER)
    assert lead is not None
    reply = run(
        chain(
            None,
            {"cmd": "edit_lead"},
            id=lead.id,
            new_email="bea@example.com",
            city="Paris",
            country="",
        )
    )
    _succeeded(reply, "edit_lead")
    assert _entry(reply)["lead_details"] == {"id": str(lead.id)}
    assert account.lead_by_email(BUYER) is None
    assert account.lead_by_email("bea@example.com") is lead
    assert (lead.field("first_name"), lead.field("city"), lead.field("country")) == (
        "Bea",
        "Paris",
        "",
    )


def test_edit_lead_id_wins_over_email(run: Runner, account: SandboxAccount) -> None:
    payer = account.lead_by_email("paypal@example.com")
    assert payer is not None
    run(chain(BUYER, {"cmd": "edit_lead"}, id=payer.id, first_name="Changed"))
    assert payer.field("first_name") == "Changed"
    buyer = account.lead_by_email(BUYER)
    assert buyer is not None
    assert buyer.field("first_name") == "Bea"


@pytest.mark.parametrize(
    ("email", "lead", "expected"),
    [
        ("nobody@example.com", {}, 243),
        (None, {"id": "99999"}, 243),
        (None, {"id": "abc"}, 243),
        ("deleted@example.com", {}, 245),
        (None, {}, 206),
        (BUYER, {"new_email": "paypal@example.com"}, 244),
        (BUYER, {"custom_fields": "bad"}, 271),
    ],
)
def test_edit_lead_errors(
    run: Runner, email: str | None, lead: dict[str, FormValue], expected: int
) -> None:
    assert code(run(chain(email, {"cmd": "edit_lead"}, **lead))) == expected


def test_search_lead_is_flat_and_in_actions(run: Runner, account: SandboxAccount) -> None:
    lead = account.lead_by_email(BUYER)
    assert lead is not None
    reply = run(chain(BUYER, {"cmd": "search_lead"}))
    assert reply["message"] == "Lead found"
    assert reply["lead_details"] == {"id": str(lead.id)} == _entry(reply)["lead_details"]
    assert code(run(chain("nobody@example.com", {"cmd": "search_lead"}))) == 243
    assert code(run(chain("deleted@example.com", {"cmd": "search_lead"}))) == 245


def test_get_lead_profile(run: Runner, account: SandboxAccount) -> None:
    run(
        chain(
            BUYER,
            {"cmd": "assign_tag", "tag_name": "VIP"},
            {"cmd": "subscribe_lead_to_list", "list_name": "Newsletter"},
            {"cmd": "subscribe_lead_to_list", "list_name": "Customers"},
            {"cmd": "unsubscribe_lead_from_list", "list_name": "Customers"},
            {"cmd": "subscribe_lead_to_sequence_at_step", "sequence_name": "Welcome", "step": "2"},
            {"cmd": "give_points_to_lead", "points": "7"},
        )
    )
    reply = run({"get_lead": {"email": BUYER}})
    assert reply["status"] == "Success"
    details = reply["lead_details"]
    assert details["email"] == BUYER
    assert details["score"] == 7
    assert details["tags"] == [{"tag_name": "VIP"}]
    assert details["lists"] == [
        {"list_name": "Newsletter", "active": 1},
        {"list_name": "Customers", "active": 0},
    ]
    assert details["sequences"] == [{"sequence_name": "Welcome", "step": "2", "status": "active"}]
    assert details["memberships"][0]["membership_name"] == "Academy"
    assert details["date_joined"] == "2026-06-01 12:00:00"  # the fixed clock, in US Eastern
    assert len(details["custom_fields"]) == len(account.custom_fields)
    assert details["gdpr_lead_communications"] == 0


@pytest.mark.parametrize(
    ("get_lead", "expected"),
    [
        ({"email": "nobody@example.com"}, 234),
        ({"email": "deleted@example.com"}, 245),
        ({"id": "12345"}, 234),
        ({"x": "1"}, 206),
    ],
)
def test_get_lead_errors(run: Runner, get_lead: dict[str, FormValue], expected: int) -> None:
    assert code(run({"get_lead": get_lead})) == expected


# --- lead-scoped actions -----------------------------------------------------------------------


def test_action_without_opener_looks_the_lead_up(run: Runner, account: SandboxAccount) -> None:
    assert code(run(chain("nobody@example.com", {"cmd": "assign_tag", "tag_name": "VIP"}))) == 243
    assert code(run(chain("deleted@example.com", {"cmd": "assign_tag", "tag_name": "VIP"}))) == 245
    assert code(run(chain(None, {"cmd": "assign_tag", "tag_name": "VIP"}))) == 206
    _succeeded(run(chain(BUYER, {"cmd": "assign_tag", "tag_name": "VIP"})), "assign_tag")


def test_chain_stops_at_first_failure_and_keeps_earlier_effects(
    run: Runner, account: SandboxAccount
) -> None:
    reply = run(
        chain(
            "chain@example.com",
            {"cmd": "create_lead"},
            {"cmd": "assign_tag", "tag_name": "VIP"},
            {"cmd": "assign_tag", "tag_name": "No such tag"},
            {"cmd": "subscribe_lead_to_list", "list_name": "Newsletter"},
        )
    )
    lead = account.lead_by_email("chain@example.com")
    assert lead is not None
    assert (reply["status"], code(reply)) == ("Error", 212)
    assert [next(iter(item)) for item in reply["actions"]] == [
        "create_lead",
        "assign_tag",
        "assign_tag",
    ]
    assert _entry(reply)["lead_details"] == {"id": str(lead.id)}
    assert _entry(reply, 2) == {"status": "Error", "message": "Tag does not exist", "type": "212"}
    assert lead.tags == [account.tags["VIP"]]
    assert lead.lists is None


CASES: list[tuple[dict[str, FormValue], int]] = [
    ({"cmd": "assign_tag"}, 211),
    ({"cmd": "assign_tag", "tag_name": "Nope"}, 212),
    ({"cmd": "unassign_tag", "tag_name": ""}, 213),
    ({"cmd": "unassign_tag", "tag_name": "Nope"}, 214),
    ({"cmd": "subscribe_lead_to_list"}, 207),
    ({"cmd": "subscribe_lead_to_list", "list_name": "Nope"}, 231),
    ({"cmd": "unsubscribe_lead_from_list"}, 208),
    ({"cmd": "unsubscribe_lead_from_list", "list_name": "Nope"}, 209),
    ({"cmd": "give_points_to_lead"}, 215),
    ({"cmd": "give_points_to_lead", "points": "ten"}, 227),
    ({"cmd": "give_points_to_lead", "points": "1.5"}, 227),
    ({"cmd": "give_points_to_lead", "points": "5", "expiration": "soon"}, 227),
    ({"cmd": "remove_points_from_lead"}, 217),
    ({"cmd": "remove_points_from_lead", "points": "x"}, 228),
    ({"cmd": "subscribe_lead_to_sequence_at_step", "step": "1"}, 226),
    ({"cmd": "subscribe_lead_to_sequence_at_step", "sequence_name": "Welcome"}, 225),
    ({"cmd": "subscribe_lead_to_sequence_at_step", "sequence_name": "Nope", "step": "1"}, 219),
    ({"cmd": "subscribe_lead_to_sequence_at_step", "sequence_name": "Welcome", "step": "1-a"}, 229),
    ({"cmd": "subscribe_lead_to_sequence_at_step", "sequence_name": "Welcome", "step": "9"}, 230),
    ({"cmd": "unsubscribe_lead_from_sequence"}, 226),
    ({"cmd": "unsubscribe_lead_from_sequence", "sequence_name": "Nope"}, 220),
    ({"cmd": "calendar_subscribe", "class_name": "Intro call"}, 255),
    ({"cmd": "calendar_subscribe", "calendar_name": "Coaching"}, 256),
    ({"cmd": "calendar_subscribe", "calendar_name": "Nope", "class_name": "Intro call"}, 257),
    ({"cmd": "calendar_subscribe", "calendar_name": "Coaching", "class_name": "Nope"}, 258),
    (
        {
            "cmd": "calendar_subscribe",
            "calendar_name": "Coaching",
            "class_name": "Intro call",
            "starting_date": "2026-07-01",
            "starting_hour": "10:00",
        },
        260,
    ),
    (
        {
            "cmd": "calendar_subscribe",
            "calendar_name": "Coaching",
            "class_name": "Intro call",
            "starting_date": "01 Jul 2026",
        },
        260,
    ),
    (
        {
            "cmd": "calendar_subscribe",
            "calendar_name": "Coaching",
            "class_name": "Intro call",
            "starting_date": "01 Jul 2026",
            "starting_hour": "25:00",
        },
        260,
    ),
    (
        {
            "cmd": "calendar_subscribe",
            "calendar_name": "Coaching",
            "class_name": "Intro call",
            "starting_date": "01 Jun 2026",
            "starting_hour": "11:59",
        },
        261,
    ),
    ({"cmd": "calendar_cancel", "class_name": "Intro call"}, 255),
    ({"cmd": "calendar_cancel", "calendar_name": "Coaching"}, 256),
    ({"cmd": "calendar_cancel", "calendar_name": "Nope", "class_name": "Intro call"}, 257),
    ({"cmd": "calendar_cancel", "calendar_name": "Coaching", "class_name": "Nope"}, 258),
    ({"cmd": "calendar_cancel", "calendar_name": "Coaching", "class_name": "Intro call"}, 259),
]


@pytest.mark.parametrize(("action", "expected"), CASES)
def test_lead_action_errors(
    run: Runner, account: SandboxAccount, action: dict[str, FormValue], expected: int
) -> None:
    before = export_account(account)
    reply = run(chain(BUYER, action))
    assert (reply["status"], code(reply)) == ("Error", expected)
    assert reply["message"] == ERROR_CODES[expected][0]
    assert export_account(account) == before


def test_tags_assign_and_unassign(run: Runner, account: SandboxAccount) -> None:
    lead = account.lead_by_email(BUYER)
    assert lead is not None
    for _ in range(2):  # assigning twice keeps one tag
        _succeeded(run(chain(BUYER, {"cmd": "assign_tag", "tag_name": "VIP"})), "assign_tag")
    assert lead.tags == [account.tags["VIP"]]
    _succeeded(run(chain(BUYER, {"cmd": "unassign_tag", "tag_name": "VIP"})), "unassign_tag")
    _succeeded(run(chain(BUYER, {"cmd": "unassign_tag", "tag_name": "VIP"})), "unassign_tag")
    assert lead.tags == []


def test_lists_keep_unsubscribed_rows(run: Runner, account: SandboxAccount) -> None:
    lead = account.lead_by_email(BUYER)
    assert lead is not None
    _succeeded(
        run(chain(BUYER, {"cmd": "subscribe_lead_to_list", "list_name": "Prospects"})),
        "subscribe_lead_to_list",
    )
    _succeeded(
        run(chain(BUYER, {"cmd": "unsubscribe_lead_from_list", "list_name": "Prospects"})),
        "unsubscribe_lead_from_list",
    )
    assert lead.lists == {account.lists["Prospects"]: 0}


def test_points_with_expiration(run: Runner, account: SandboxAccount) -> None:
    from .support import NOW

    lead = account.lead_by_email(BUYER)
    assert lead is not None
    _succeeded(
        run(chain(BUYER, {"cmd": "give_points_to_lead", "points": "10", "expiration": "2"})),
        "give_points_to_lead",
    )
    _succeeded(
        run(chain(BUYER, {"cmd": "give_points_to_lead", "points": "5"})), "give_points_to_lead"
    )
    _succeeded(
        run(chain(BUYER, {"cmd": "remove_points_from_lead", "points": "3"})),
        "remove_points_from_lead",
    )
    assert lead.current_score(NOW) == 12
    assert lead.current_score(NOW + 2 * 86400 + 1) == 2  # the 10 expiring points are taken back


def test_sequences(run: Runner, account: SandboxAccount) -> None:
    lead = account.lead_by_email(BUYER)
    assert lead is not None
    sequence = account.sequences["Onboarding"]
    _succeeded(
        run(
            chain(
                BUYER,
                {
                    "cmd": "subscribe_lead_to_sequence_at_step",
                    "sequence_name": "Onboarding",
                    "step": "2",
                },
            )
        ),
        "subscribe_lead_to_sequence_at_step",
    )
    assert lead.sequences == {sequence.id: ["2", "active"]}
    _succeeded(
        run(chain(BUYER, {"cmd": "unsubscribe_lead_from_sequence", "sequence_name": "Onboarding"})),
        "unsubscribe_lead_from_sequence",
    )
    assert lead.sequences == {sequence.id: ["2", "unsubscribed"]}


def test_calendar_subscribe_and_cancel(run: Runner, account: SandboxAccount) -> None:
    lead = account.lead_by_email(BUYER)
    assert lead is not None
    booking = {"calendar_name": "Coaching", "class_name": "Deep dive"}
    timed = {**booking, "starting_date": "16 Jan 2027", "starting_hour": "09:30"}
    _succeeded(run(chain(BUYER, {"cmd": "calendar_subscribe", **timed})), "calendar_subscribe")
    assert lead.bookings is not None
    assert [(b.start, b.status) for b in lead.bookings] == [("2027-01-16 09:30", "active")]
    _succeeded(run(chain(BUYER, {"cmd": "calendar_cancel", **booking})), "calendar_cancel")
    assert [b.status for b in lead.bookings] == ["cancelled"]
    assert code(run(chain(BUYER, {"cmd": "calendar_cancel", **booking}))) == 259
    _succeeded(run(chain(BUYER, {"cmd": "calendar_subscribe", **booking})), "calendar_subscribe")
    assert lead.bookings[-1].start == ""
