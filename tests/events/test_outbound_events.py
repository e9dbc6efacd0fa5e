"""Every outbound event kind, parsed from Kartra-shaped payloads."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from kartra_async._form import build_query
from kartra_async.events import (
    AffiliateSignupEvent,
    CalendarEvent,
    EventAction,
    FormEvent,
    ListEvent,
    MembershipEvent,
    OutboundEvent,
    PageVisitEvent,
    PurchaseEvent,
    ScoreEvent,
    SequenceEvent,
    SplitTestClickEvent,
    SurveyEvent,
    TagEvent,
    UnknownEvent,
    VideoEvent,
    event_to_json,
    parse_outbound_event,
    parse_webhook,
)
from kartra_async.records import RecordFormatError, TransactionType

from .payloads import DETAILS, LEAD, outbound

EXPECTED_CLASS = {
    "jv_signup": AffiliateSignupEvent, "affiliate_signup": AffiliateSignupEvent,
    "buy_product": PurchaseEvent, "refund_product": PurchaseEvent,
    "partial_refund_product": PurchaseEvent, "cancel_subscription": PurchaseEvent,
    "assign_tag": TagEvent, "unassign_tag": TagEvent,
    "list_subscription": ListEvent, "list_unsubscription": ListEvent,
    "sequence_subscription": SequenceEvent, "sequence_unsubscription": SequenceEvent,
    "sequence_completion": SequenceEvent,
    "membership_granted": MembershipEvent, "membership_revoked": MembershipEvent,
    "filled_form": FormEvent, "reaches_score": ScoreEvent,
    "calendar_subscribe": CalendarEvent, "calendar_cancel": CalendarEvent,
    "calendar_complete": CalendarEvent, "survey_complete": SurveyEvent,
    "video_play": VideoEvent, "video_complete": VideoEvent,
    "kartra_page_visit": PageVisitEvent, "click_page_split_test_link": SplitTestClickEvent,
}


def test_every_documented_action_has_a_payload_and_a_class() -> None:
    assert set(DETAILS) == {a.value for a in EventAction} == set(EXPECTED_CLASS)


@pytest.mark.parametrize("action", sorted(EXPECTED_CLASS))
def test_each_action_parses_to_its_typed_event(action: str) -> None:
    body = json.dumps(outbound(action)).encode()
    event = parse_webhook(body, "application/json")
    assert type(event) is EXPECTED_CLASS[action]
    assert isinstance(event, OutboundEvent)
    assert event.action == action
    assert event.lead is not None
    assert event.lead.id == 1
    # 01:30 on 10 March 2024 is before New York's DST switch at 02:00.
    assert event.lead.date_joined == datetime(2024, 3, 10, 1, 30,
                                              tzinfo=ZoneInfo("America/New_York"))
    assert event.lead.lead_deleted_date is None
    assert event.lead.extra == {"google_plus": ""}
    assert json.loads(json.dumps(event_to_json(event)))["action"] == action


def test_details_are_typed() -> None:
    purchase = parse_outbound_event(outbound("buy_product"))
    assert isinstance(purchase, PurchaseEvent)
    assert purchase.transaction.transaction_id == 48110
    assert purchase.transaction.full_amount == Decimal("97.00")
    cancel = parse_outbound_event(outbound("cancel_subscription"))
    assert isinstance(cancel, PurchaseEvent)
    assert cancel.transaction.transaction_type is TransactionType.CANCELLATION
    tag = parse_outbound_event(outbound("assign_tag"))
    assert isinstance(tag, TagEvent)
    assert (tag.tag.id, tag.tag.name) == (5, "VIP")
    score = parse_outbound_event(outbound("reaches_score"))
    assert isinstance(score, ScoreEvent)
    assert score.points == 100
    membership = parse_outbound_event(outbound("membership_granted"))
    assert isinstance(membership, MembershipEvent)
    assert membership.membership.level_name == "Gold"
    calendar = parse_outbound_event(outbound("calendar_subscribe"))
    assert isinstance(calendar, CalendarEvent)
    assert calendar.calendar.hosts[0].email == "ann@example.com"
    assert calendar.calendar.calendar_subscription_id == 901
    assert len(calendar.calendar.events) == 1
    survey = parse_outbound_event(outbound("survey_complete"))
    assert isinstance(survey, SurveyEvent)
    assert survey.survey.questions[0].answers[0].value == "Blue"
    assert survey.survey.completion_time == 95
    split = parse_outbound_event(outbound("click_page_split_test_link"))
    assert isinstance(split, SplitTestClickEvent)
    assert split.link.name == "Variant B"


def test_filled_form_under_the_tag_key_reads_as_the_form() -> None:
    event = parse_outbound_event(outbound("filled_form", {"tag": {"form_id": "3",
                                                                  "form_name": "Contact"}}))
    assert isinstance(event, FormEvent)
    assert event.form.id == 3


def test_flat_action_details_are_read_too() -> None:
    event = parse_outbound_event(outbound("assign_tag", {"tag_id": "5", "tag_name": "VIP"}))
    assert isinstance(event, TagEvent)
    assert event.tag.name == "VIP"


def test_unknown_action_keeps_the_raw_payload() -> None:
    payload = outbound("webinar_attended", {"webinar": {"webinar_id": "3"}})
    event = parse_outbound_event(payload)
    assert isinstance(event, UnknownEvent)
    assert event.action == "webinar_attended"
    assert event.raw["action_details"] == {"webinar": {"webinar_id": "3"}}
    assert event.lead is not None
    assert event.lead.email == LEAD["email"]
    broken_lead = parse_outbound_event({"action": "new_thing", "lead": {"id": "x"}})
    assert isinstance(broken_lead, UnknownEvent)
    assert broken_lead.lead is None


def test_form_encoded_outbound_event_is_accepted() -> None:
    body = build_query(outbound("list_subscription")).encode()
    event = parse_webhook(body, "application/x-www-form-urlencoded")
    assert isinstance(event, ListEvent)
    assert event.list.name == "Newsletter"
    assert event.lead.custom_fields[0].value == "Johnny"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"lead": LEAD}, "action"),
        ({"action": "assign_tag"}, "lead.id"),
        ({"action": "assign_tag", "lead": "N/A?"}, "lead"),
        (outbound("buy_product", {"transaction_details": {"transaction_id": "abc"}}),
         "action_details.transaction_details.transaction_id"),
        (outbound("reaches_score", {"points": "many"}), "action_details.points"),
    ],
)
def test_unreadable_known_events_name_the_field(payload: dict[str, object], field: str) -> None:
    with pytest.raises(RecordFormatError) as caught:
        parse_outbound_event(payload)
    assert caught.value.field == field
