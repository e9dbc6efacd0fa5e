"""The two-stage builder: how calls read, what actions they hold, immutability and the guards."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, time
from decimal import Decimal
from typing import Any

import attrs
import pytest

from kartra_async import (
    AccountCall,
    Action,
    CustomField,
    GetLead,
    LeadCall,
    LeadRequest,
    Safety,
    UsageError,
    ValidationError,
)
from kartra_async._actions import AssignTag, CreateCustomField, CreateLead, EditLead, SearchLead

LEAD = LeadRequest(email="ann@example.com")


def params(action: Action) -> dict[str, Any]:
    """The action's parameters, by their Kartra wire names, leaving out unset ones."""
    fields = attrs.asdict(action, recurse=False)  # type: ignore[arg-type]
    return {k: v for k, v in fields.items() if v not in (None, ())}


def test_the_headline_chain_reads_as_documented() -> None:
    call = LeadRequest(email="a@b.co").create().assign_tag("VIP").subscribe("News")

    assert isinstance(call, LeadCall)
    assert call.lead.email == "a@b.co"
    assert [a.wire_cmd for a in call.actions] == [
        "create_lead",
        "assign_tag",
        "subscribe_lead_to_list",
    ]
    assert params(call.actions[1]) == {"tag_name": "VIP"}
    assert params(call.actions[2]) == {"list_name": "News"}


@pytest.mark.parametrize(
    ("opener", "cmd"),
    [
        (lambda lead: lead.create(), "create_lead"),
        (lambda lead: lead.edit(), "edit_lead"),
        (lambda lead: lead.search(), "search_lead"),
    ],
)
def test_each_opener_is_actions_0(opener: Callable[[LeadRequest], LeadCall], cmd: str) -> None:
    call = opener(LEAD)
    assert [a.wire_cmd for a in call.actions] == [cmd]
    assert call.opener is call.actions[0]


def test_edit_carries_new_email() -> None:
    call = LeadRequest(id=42).edit(new_email="new@example.com")
    assert isinstance(call.opener, EditLead)
    assert call.opener.new_email == "new@example.com"
    assert call.lead.id == 42


LEAD_METHODS: list[tuple[Callable[[LeadCall], LeadCall], str, dict[str, Any]]] = [
    (lambda c: c.assign_tag("VIP"), "assign_tag", {"tag_name": "VIP"}),
    (lambda c: c.unassign_tag("VIP"), "unassign_tag", {"tag_name": "VIP"}),
    (lambda c: c.subscribe("News"), "subscribe_lead_to_list", {"list_name": "News"}),
    (lambda c: c.unsubscribe("News"), "unsubscribe_lead_from_list", {"list_name": "News"}),
    (lambda c: c.give_points(10), "give_points_to_lead", {"points": 10}),
    (
        lambda c: c.give_points(10, expiration=30),
        "give_points_to_lead",
        {"points": 10, "expiration": 30},
    ),
    (lambda c: c.remove_points(3), "remove_points_from_lead", {"points": 3}),
    (
        lambda c: c.subscribe_to_sequence("Welcome", "2"),
        "subscribe_lead_to_sequence_at_step",
        {"sequence_name": "Welcome", "step": "2"},
    ),
    (
        lambda c: c.subscribe_to_sequence("Welcome", 3),
        "subscribe_lead_to_sequence_at_step",
        {"sequence_name": "Welcome", "step": "3"},
    ),
    (
        lambda c: c.unsubscribe_from_sequence("Welcome"),
        "unsubscribe_lead_from_sequence",
        {"sequence_name": "Welcome"},
    ),
    (
        lambda c: c.calendar_subscribe("Coaching", "Intro"),
        "calendar_subscribe",
        {"calendar_name": "Coaching", "class_name": "Intro"},
    ),
    (
        lambda c: c.calendar_subscribe("Coaching", "Intro", "16 Jan 2019", "09:30"),
        "calendar_subscribe",
        {
            "calendar_name": "Coaching",
            "class_name": "Intro",
            "starting_date": "16 Jan 2019",
            "starting_hour": "09:30",
        },
    ),
    (
        lambda c: c.calendar_subscribe("Coaching", "Intro", date(2019, 1, 6), time(7, 5)),
        "calendar_subscribe",
        {
            "calendar_name": "Coaching",
            "class_name": "Intro",
            "starting_date": "06 Jan 2019",
            "starting_hour": "07:05",
        },
    ),
    (
        lambda c: c.calendar_cancel("Coaching", "Intro"),
        "calendar_cancel",
        {"calendar_name": "Coaching", "class_name": "Intro"},
    ),
    (lambda c: c.retrieve_transactions(), "retrieve_transactions_from_lead", {}),
    (lambda c: c.retrieve_subscriptions(), "retrieve_subscriptions_from_lead", {}),
]


@pytest.mark.parametrize(("method", "cmd", "expected"), LEAD_METHODS)
def test_every_lead_call_method(
    method: Callable[[LeadCall], LeadCall], cmd: str, expected: dict[str, Any]
) -> None:
    base = LEAD.search()
    call = method(base)
    assert len(call.actions) == 2
    assert call.actions[0] == base.actions[0]
    assert call.actions[1].wire_cmd == cmd
    assert call.actions[1].action_scope == "lead"
    assert params(call.actions[1]) == expected


ACCOUNT_METHODS: list[tuple[Callable[[AccountCall], AccountCall], str, dict[str, Any]]] = [
    (lambda c: c.retrieve_account_lists(), "retrieve_account_lists", {}),
    (lambda c: c.retrieve_account_tags(), "retrieve_account_tags", {}),
    (lambda c: c.retrieve_account_sequences(), "retrieve_account_sequences", {}),
    (lambda c: c.retrieve_account_pages(), "retrieve_account_pages", {}),
    (lambda c: c.retrieve_custom_fields(), "retrieve_custom_fields", {}),
    (
        lambda c: c.create_custom_field("nickname", "input_field"),
        "create_custom_field",
        {"custom_field_identifier": "nickname", "custom_field_type": "input_field"},
    ),
    (
        lambda c: c.create_custom_field("colour", "drop_down", ["blue", "brown"]),
        "create_custom_field",
        {
            "custom_field_identifier": "colour",
            "custom_field_type": "drop_down",
            "custom_field_options": ("blue", "brown"),
        },
    ),
    (lambda c: c.search_transaction(48110), "search_transaction", {"transaction_id": 48110}),
    (
        lambda c: c.get_transaction_details(48110),
        "get_transaction_details",
        {"transaction_id": 48110},
    ),
    (lambda c: c.refund_transaction(48110), "refund_transaction", {"transaction_id": 48110}),
    (
        lambda c: c.refund_transaction(48110, "12.50"),
        "refund_transaction",
        {"transaction_id": 48110, "refund_amount": Decimal("12.50")},
    ),
    (lambda c: c.cancel_transaction(48110), "cancel_transaction", {"transaction_id": 48110}),
    (
        lambda c: c.cancel_transaction(internal_subscription_id=14833),
        "cancel_transaction",
        {"transaction_internal_subscription_id": 14833},
    ),
    (lambda c: c.search_subscription(7), "search_subscription", {"subscription_id": 7}),
    (
        lambda c: c.get_subscription_details(7),
        "get_subscription_details",
        {"subscription_id": 7},
    ),
    (
        lambda c: c.modify_subscription_status(7, "pause"),
        "modify_subscription_status",
        {"subscription_id": 7, "subscription_status_modification": "pause"},
    ),
    (
        lambda c: c.edit_subscription(7, quantity=2),
        "edit_subscription",
        {"subscription_id": 7, "subscription_product_quantity": 2},
    ),
]


@pytest.mark.parametrize(("method", "cmd", "expected"), ACCOUNT_METHODS)
def test_every_account_call_method(
    method: Callable[[AccountCall], AccountCall], cmd: str, expected: dict[str, Any]
) -> None:
    call = method(AccountCall())
    assert [a.wire_cmd for a in call.actions] == [cmd]
    assert call.actions[0].action_scope == "account"
    assert params(call.actions[0]) == expected


def test_edit_subscription_every_parameter() -> None:
    call = AccountCall().edit_subscription(
        32451,
        product_id=5,
        price_point=2,
        next_payment_date="2031-01-18 05:46",
        amount="19.99",
        recurring_period_1="monthly",
        recurring_period_2="yearly",
        quantity=3,
        installments_left="until cancelled",
        tax_percent=Decimal("7.5"),
    )
    action = call.actions[0]
    got = params(action)
    recurrence = got.pop("subscription_recurrence")
    assert (recurrence.recurring_period_1, recurrence.recurring_period_2) == ("monthly", "yearly")
    assert got == {
        "subscription_id": 32451,
        "subscription_product_id": 5,
        "subscription_price_point": 2,
        "subscription_next_payment_date": "2031-01-18 05:46",
        "subscription_amount": Decimal("19.99"),
        "subscription_product_quantity": 3,
        "subscription_installments_left": "until cancelled",
        "subscription_tax_percent": Decimal("7.5"),
    }


def test_account_commands_chain_in_one_call() -> None:
    call = AccountCall().retrieve_account_tags().retrieve_account_lists().search_transaction(1)
    assert [a.wire_cmd for a in call.actions] == [
        "retrieve_account_tags",
        "retrieve_account_lists",
        "search_transaction",
    ]


def test_get_lead_by_email_or_id() -> None:
    assert GetLead(email="ann@example.com").email == "ann@example.com"
    assert GetLead(id=7).id == 7
    with pytest.raises(ValidationError) as info:
        GetLead()
    assert info.value.field == "get_lead"


# --- the escape hatch ---------------------------------------------------------------------------


def test_then_appends_an_unknown_command_with_its_params() -> None:
    call = LEAD.search().then("tag_with_colour", tag_name="VIP", colour="red")
    action = call.actions[1]
    assert action.wire_cmd == "tag_with_colour"
    assert dict(action.params) == {"tag_name": "VIP", "colour": "red"}  # type: ignore[attr-defined]
    assert action.action_scope == "lead"
    # Unknown commands are never replayed unless the caller says so.
    assert action.action_safety is Safety.NEVER
    declared = LEAD.search().then("peek", safety=Safety.READ).actions[1]
    assert declared.action_safety is Safety.READ


def test_account_then_is_account_scoped() -> None:
    call = AccountCall().then("retrieve_account_forms")
    assert call.actions[0].wire_cmd == "retrieve_account_forms"
    assert call.actions[0].action_scope == "account"


@pytest.mark.parametrize("cmd", ["assign_tag", "create_lead", "upsert"])
def test_then_refuses_commands_that_have_a_typed_method(cmd: str) -> None:
    with pytest.raises(ValidationError) as info:
        LEAD.search().then(cmd)
    assert info.value.field == "cmd"


@pytest.mark.parametrize(
    ("cmd", "extra"),
    [
        ("bad[cmd]", {}),
        ("ok", {"bad]key": 1}),
        ("ok", {"nested": {"a][b": 1}}),
        ("ok", {"nested": [{"x[": 1}]}),
        ("ok", {"cmd": "other"}),
        ("ok", {"blob": object()}),
        ("ok", {"text": "bell\x07"}),
    ],
)
def test_then_refuses_injection_and_unsendable_values(cmd: str, extra: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        LEAD.search().then(cmd, **extra)


def test_then_params_are_frozen_deeply() -> None:
    tags = ["a", "b"]
    call = LEAD.search().then("multi_tag", tags=tags, meta={"k": [1]})
    tags.append("c")
    params_ = call.actions[1].params  # type: ignore[attr-defined]
    assert list(params_["tags"]) == ["a", "b"]
    with pytest.raises(TypeError):
        params_["tags"] = ()
    with pytest.raises(TypeError):
        params_["meta"]["k"] = ()


# --- immutability -------------------------------------------------------------------------------


def test_every_method_returns_a_new_call_and_leaves_the_original_alone() -> None:
    base = LEAD.create()
    snapshot = base.actions
    tagged = base.assign_tag("VIP")
    listed = base.subscribe("News")

    assert tagged is not base
    assert listed is not base
    assert base.actions == snapshot == (CreateLead(),)
    assert tagged.actions == (CreateLead(), AssignTag("VIP"))
    assert [a.wire_cmd for a in listed.actions] == ["create_lead", "subscribe_lead_to_list"]

    account = AccountCall()
    assert account.retrieve_account_tags() is not account
    assert account.actions == ()


def test_calls_and_requests_are_frozen() -> None:
    call = LEAD.create()
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        call.actions = ()  # type: ignore[misc]
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        LEAD.email = "other@example.com"  # type: ignore[misc]
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        call.actions[0].cmd = "edit_lead"  # type: ignore[misc]
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        AccountCall().actions = ()  # type: ignore[misc]
    assert isinstance(call.actions, tuple)


def test_custom_fields_list_is_copied() -> None:
    fields = [CustomField("text1", "hi")]
    lead = LeadRequest(email="ann@example.com", custom_fields=fields)
    fields.append(CustomField("text2", "later"))
    assert lead.custom_fields == (CustomField("text1", "hi"),)


def test_equal_calls_are_equal_and_hashable() -> None:
    one = LEAD.create().assign_tag("VIP")
    two = LeadRequest(email="ann@example.com").create().assign_tag("VIP")
    assert one == two
    assert hash(one) == hash(two)


# --- the stage rule -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "assign_tag",
        "unassign_tag",
        "subscribe",
        "unsubscribe",
        "give_points",
        "remove_points",
        "subscribe_to_sequence",
        "unsubscribe_from_sequence",
        "calendar_subscribe",
        "calendar_cancel",
        "retrieve_transactions",
        "retrieve_subscriptions",
        "then",
    ],
)
def test_actions_do_not_exist_before_an_opener(name: str) -> None:
    with pytest.raises(AttributeError):
        getattr(LEAD, name)


def test_a_lead_call_has_no_account_methods_and_vice_versa() -> None:
    for obj, name in ((LEAD.create(), "refund_transaction"), (AccountCall(), "assign_tag")):
        with pytest.raises(AttributeError):
            getattr(obj, name)


# --- the run-time guard for hand-built and structured chains -----------------------------------


def test_guard_accepts_a_hand_built_chain_that_follows_the_rules() -> None:
    call = LeadCall(lead=LEAD, actions=[SearchLead(), AssignTag("VIP")])
    assert call.actions == (SearchLead(), AssignTag("VIP"))


@pytest.mark.parametrize(
    ("actions", "field"),
    [
        ((), "actions[0]"),
        ((AssignTag("VIP"),), "actions[0]"),
        ((AssignTag("VIP"), CreateLead()), "actions[0]"),
        ((CreateLead(), SearchLead()), "actions[1]"),
        ((SearchLead(), AssignTag("VIP"), EditLead()), "actions[2]"),
        ((SearchLead(), CreateCustomField("colour", "input_field")), "actions[1]"),
        ((SearchLead(), "assign_tag"), "actions[1]"),
    ],
)
def test_guard_refuses_misplaced_openers_and_foreign_actions(
    actions: tuple[Any, ...], field: str
) -> None:
    with pytest.raises(ValidationError) as info:
        LeadCall(lead=LEAD, actions=actions)
    assert info.value.field == field


def test_guard_refuses_lead_actions_in_an_account_call() -> None:
    with pytest.raises(ValidationError) as info:
        AccountCall(actions=[CreateCustomField("colour", "input_field"), AssignTag("VIP")])
    assert info.value.field == "actions[1]"
    assert "lead" in info.value.reason
    with pytest.raises(ValidationError):
        AccountCall(actions=[SearchLead()])


def test_guard_runs_on_evolve_too() -> None:
    call = LEAD.search()
    with pytest.raises(ValidationError):
        attrs.evolve(call, actions=(AssignTag("VIP"),))


def test_guard_applies_to_cattrs_structured_calls() -> None:
    import cattrs

    converter = cattrs.Converter()
    converter.register_structure_hook(Action, lambda value, _type: value)
    good = converter.structure(
        {"lead": {"email": "ann@example.com"}, "actions": [SearchLead(), AssignTag("VIP")]},
        LeadCall,
    )
    assert [a.wire_cmd for a in good.actions] == ["search_lead", "assign_tag"]
    with pytest.raises(Exception) as info:  # noqa: PT011 - cattrs may wrap it in a group
        converter.structure(
            {"lead": {"email": "ann@example.com"}, "actions": [AssignTag("VIP")]}, LeadCall
        )
    assert _contains(info.value, ValidationError)


def _contains(error: BaseException, kind: type[BaseException]) -> bool:
    if isinstance(error, kind):
        return True
    inner = getattr(error, "exceptions", ())
    return any(_contains(item, kind) for item in inner) or (
        error.__cause__ is not None and _contains(error.__cause__, kind)
    )


def test_openers_need_a_locator() -> None:
    with pytest.raises(ValidationError) as info:
        LeadRequest(id=5).create()
    assert info.value.field == "email"
    for opener in (LeadRequest().edit, LeadRequest().search):
        with pytest.raises(ValidationError) as info:
            opener()
        assert info.value.field == "lead"


def test_a_lead_call_must_hold_a_lead_request() -> None:
    with pytest.raises(ValidationError) as info:
        LeadCall(lead={"email": "ann@example.com"}, actions=[SearchLead()])  # type: ignore[arg-type]
    assert info.value.field == "lead"


def test_validation_errors_are_usage_and_value_errors() -> None:
    with pytest.raises(UsageError):
        LeadCall(lead=LEAD, actions=())
    with pytest.raises(ValueError, match=r"actions\[0\]"):
        LeadCall(lead=LEAD, actions=())
