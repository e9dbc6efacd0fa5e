"""Typing-only checks of the builder, run by ``mypy --strict kartra_async tests/typing``.

Not a test module (pytest collects only ``test_*.py``) and never imported: the checks live in
functions so that nothing runs even if it were. Lines marked ``# type: ignore[...]`` MUST be
type errors; under ``--strict`` (``warn_unused_ignores``) an ignore that is no longer needed is
itself an error, so if one of those lines ever type-checks, CI fails.
"""

from __future__ import annotations

from decimal import Decimal
from typing import assert_type

from kartra_async import (
    AccountCall,
    Call,
    Credentials,
    CustomField,
    GetLead,
    LeadCall,
    LeadRequest,
    Reply,
    UpsertCall,
    WireCall,
    encode,
)


def valid_chains() -> None:
    """Everything here must type-check."""
    lead = LeadRequest(email="a@b.co", first_name="Ann", custom_fields=[CustomField("t", "x")])
    assert_type(lead.create(), LeadCall)
    assert_type(lead.edit(), LeadCall)
    assert_type(lead.edit(new_email="b@c.co"), LeadCall)
    assert_type(lead.search(), LeadCall)
    call = LeadRequest(email="a@b.co").create().assign_tag("VIP").subscribe("News")
    assert_type(call, LeadCall)
    chain = (
        lead.search()
        .unassign_tag("Old")
        .unsubscribe("Old list")
        .give_points(5, expiration=30)
        .remove_points(1)
        .subscribe_to_sequence("Welcome", 2)
        .unsubscribe_from_sequence("Welcome")
        .calendar_subscribe("Coaching", "Intro", "16 Jan 2019", "09:30")
        .calendar_cancel("Coaching", "Intro")
        .retrieve_transactions()
        .retrieve_subscriptions()
        .then("future_cmd", colour="red")
    )
    assert_type(chain, LeadCall)
    account = (
        AccountCall()
        .retrieve_account_lists()
        .retrieve_account_tags()
        .retrieve_account_sequences()
        .retrieve_account_pages()
        .retrieve_custom_fields()
        .create_custom_field("colour", "drop_down", ["blue", "brown"])
        .search_transaction(1)
        .get_transaction_details(1)
        .refund_transaction(1, Decimal("9.99"))
        .cancel_transaction(internal_subscription_id=2)
        .search_subscription(3)
        .get_subscription_details(3)
        .modify_subscription_status(3, "pause")
        .edit_subscription(3, quantity=2)
        .then("future_account_cmd")
    )
    assert_type(account, AccountCall)
    upsert = LeadRequest(email="a@b.co").upsert("edit-first").assign_tag("VIP").give_points(5)
    assert_type(upsert, UpsertCall)
    calls: list[Call] = [call, account, GetLead(email="a@b.co"), GetLead(id=7), upsert]
    wire: list[WireCall] = [call, account, GetLead(email="a@b.co")]
    body = encode(wire[0], Credentials("app", "key", "password"))
    assert_type(body, bytes)
    assert len(calls) == 5


def invalid_chains(reply: Reply) -> None:
    """Every line here must be a type error (see the module docstring)."""
    lead = LeadRequest(email="a@b.co")
    # An upsert is settled by the client, never encoded: not a wire call.
    encode(lead.upsert(), Credentials("app", "key", "password"))  # type: ignore[arg-type]
    # Only the three strategies exist.
    lead.upsert("sometimes")  # type: ignore[arg-type]
    # An action before create/edit/search does not exist on LeadRequest.
    lead.assign_tag("VIP")  # type: ignore[attr-defined]
    lead.subscribe("News")  # type: ignore[attr-defined]
    lead.give_points(5)  # type: ignore[attr-defined]
    lead.then("future_cmd")  # type: ignore[attr-defined]
    # Account commands are not lead actions, and lead actions are not account commands.
    lead.create().refund_transaction(1)  # type: ignore[attr-defined]
    lead.create().retrieve_account_tags()  # type: ignore[attr-defined]
    AccountCall().assign_tag("VIP")  # type: ignore[attr-defined]
    AccountCall().create()  # type: ignore[attr-defined]
    # Openers exist only on LeadRequest: a second opener cannot be chained.
    lead.create().create()  # type: ignore[attr-defined]
    lead.create().search()  # type: ignore[attr-defined]
    # Wrong value kinds.
    lead.create().give_points("5")  # type: ignore[arg-type]
    LeadRequest(email="a@b.co", id="7")  # type: ignore[arg-type]
    LeadRequest("a@b.co")  # type: ignore[call-arg]
    # Calls are frozen.
    lead.email = "c@d.co"  # type: ignore[misc]
    # Only calls can be encoded.
    encode(lead, Credentials("app", "key", "password"))  # type: ignore[arg-type]
    assert_type(reply.lead_id, int | None)
