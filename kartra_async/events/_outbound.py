"""Kartra's outbound API events: ``{"lead": {…}, "action": "…", "action_details": {…}}``.

Each of the 24 documented actions maps to a frozen event class carrying the lead and the typed
details; an action Kartra adds later becomes an :class:`UnknownEvent` that keeps the raw payload.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from enum import StrEnum
from typing import Any, TypeAlias

import attrs

from ..records import (
    LeadProfile,
    MembershipAccess,
    RecordFormatError,
    TransactionDetails,
    parse_lead_profile,
    parse_transaction_details,
)
from ..records._custom_fields import CustomFieldOption, parse_options
from ..records._lead import parse_membership
from ..records._values import (
    EMPTY_EXTRA,
    FieldReader,
    as_mapping,
    is_absent,
    items_of,
    to_int,
    to_text,
)


class EventAction(StrEnum):
    """The 24 documented ``action`` values of outbound events."""

    JV_SIGNUP = "jv_signup"
    AFFILIATE_SIGNUP = "affiliate_signup"
    BUY_PRODUCT = "buy_product"
    REFUND_PRODUCT = "refund_product"
    PARTIAL_REFUND_PRODUCT = "partial_refund_product"
    CANCEL_SUBSCRIPTION = "cancel_subscription"
    ASSIGN_TAG = "assign_tag"
    UNASSIGN_TAG = "unassign_tag"
    LIST_SUBSCRIPTION = "list_subscription"
    LIST_UNSUBSCRIPTION = "list_unsubscription"
    SEQUENCE_SUBSCRIPTION = "sequence_subscription"
    SEQUENCE_UNSUBSCRIPTION = "sequence_unsubscription"
    SEQUENCE_COMPLETION = "sequence_completion"
    MEMBERSHIP_GRANTED = "membership_granted"
    MEMBERSHIP_REVOKED = "membership_revoked"
    FILLED_FORM = "filled_form"
    REACHES_SCORE = "reaches_score"
    CALENDAR_SUBSCRIBE = "calendar_subscribe"
    CALENDAR_CANCEL = "calendar_cancel"
    CALENDAR_COMPLETE = "calendar_complete"
    SURVEY_COMPLETE = "survey_complete"
    VIDEO_PLAY = "video_play"
    VIDEO_COMPLETE = "video_complete"
    KARTRA_PAGE_VISIT = "kartra_page_visit"
    CLICK_PAGE_SPLIT_TEST_LINK = "click_page_split_test_link"


@attrs.frozen
class NamedRef:
    """An id/name pair: the tag, list, sequence, form, video, page or split-test link."""

    id: int | None
    name: str | None
    extra: Mapping[str, Any] = EMPTY_EXTRA


@attrs.frozen
class ProductRef:
    """The product of a JV or affiliate sign-up."""

    product_id: int | None
    name: str | None
    official_name: str | None
    extra: Mapping[str, Any] = EMPTY_EXTRA


#: An event's ``transaction_details``: the same Kartra object as ``get_transaction_details``
#: returns (purchase events carry a subset of its fields; the others read as None).
PurchaseDetails = TransactionDetails


@attrs.frozen
class CalendarHost:
    """A host of a calendar class."""

    first_name: str | None
    last_name: str | None
    email: str | None


@attrs.frozen
class CalendarDetails:
    """The calendar class a lead subscribed to, cancelled or completed.

    ``events`` (the class's sessions) is kept as Kartra sends it: its shape is undocumented.
    """

    calendar_id: int | None
    calendar_name: str | None
    class_id: int | None = None
    class_name: str | None = None
    hosts: tuple[CalendarHost, ...] = ()
    vendor_timezone: str | None = None
    calendar_subscription_id: int | None = None
    events: tuple[Any, ...] = ()
    extra: Mapping[str, Any] = EMPTY_EXTRA


@attrs.frozen
class SurveyQuestion:
    """One answered question of a survey or quiz."""

    question_id: int | None
    title: str | None
    correct: str | None
    answers: tuple[CustomFieldOption, ...] = ()


@attrs.frozen
class SurveyDetails:
    """A completed survey or quiz with its answers."""

    survey_id: int | None
    survey_name: str | None
    survey_type: int | None = None
    score: str | None = None
    completion_time: int | None = None
    questions: tuple[SurveyQuestion, ...] = ()
    extra: Mapping[str, Any] = EMPTY_EXTRA


@attrs.frozen
class OutboundEvent:
    """The part every typed outbound event shares: its action and the lead's full profile."""

    action: EventAction
    lead: LeadProfile


@attrs.frozen
class AffiliateSignupEvent(OutboundEvent):
    """``jv_signup`` / ``affiliate_signup``: the lead joined a product's JV or affiliate program."""

    product: ProductRef


@attrs.frozen
class PurchaseEvent(OutboundEvent):
    """``buy_product``, ``refund_product``, ``partial_refund_product``, ``cancel_subscription``."""

    transaction: PurchaseDetails


@attrs.frozen
class TagEvent(OutboundEvent):
    """``assign_tag`` / ``unassign_tag``."""

    tag: NamedRef


@attrs.frozen
class ListEvent(OutboundEvent):
    """``list_subscription`` / ``list_unsubscription``."""

    list: NamedRef


@attrs.frozen
class SequenceEvent(OutboundEvent):
    """``sequence_subscription``, ``sequence_unsubscription``, ``sequence_completion``."""

    sequence: NamedRef


@attrs.frozen
class MembershipEvent(OutboundEvent):
    """``membership_granted`` / ``membership_revoked`` (Kartra or external memberships)."""

    membership: MembershipAccess


@attrs.frozen
class FormEvent(OutboundEvent):
    """``filled_form``."""

    form: NamedRef


@attrs.frozen
class ScoreEvent(OutboundEvent):
    """``reaches_score``: the lead's score reached ``points`` for the first time."""

    points: int | None


@attrs.frozen
class CalendarEvent(OutboundEvent):
    """``calendar_subscribe``, ``calendar_cancel``, ``calendar_complete``."""

    calendar: CalendarDetails


@attrs.frozen
class SurveyEvent(OutboundEvent):
    """``survey_complete``."""

    survey: SurveyDetails


@attrs.frozen
class VideoEvent(OutboundEvent):
    """``video_play`` / ``video_complete``."""

    video: NamedRef


@attrs.frozen
class PageVisitEvent(OutboundEvent):
    """``kartra_page_visit``."""

    page: NamedRef


@attrs.frozen
class SplitTestClickEvent(OutboundEvent):
    """``click_page_split_test_link``."""

    link: NamedRef


@attrs.frozen
class UnknownEvent:
    """An action this library does not know yet: the raw payload, and the lead if readable."""

    action: str
    lead: LeadProfile | None
    raw: Mapping[str, Any]


TypedEvent: TypeAlias = (
    AffiliateSignupEvent
    | PurchaseEvent
    | TagEvent
    | ListEvent
    | SequenceEvent
    | MembershipEvent
    | FormEvent
    | ScoreEvent
    | CalendarEvent
    | SurveyEvent
    | VideoEvent
    | PageVisitEvent
    | SplitTestClickEvent
)


def _section(details: Mapping[str, Any], key: str) -> tuple[object, str]:
    # Documented as action_details.<key>; a flat action_details is read the same way.
    path = f"action_details.{key}"
    return (details[key], path) if key in details else (details, "action_details")


def _named(prefix: str) -> Callable[[object, str], NamedRef]:
    def parse(data: object, path: str) -> NamedRef:
        reader = FieldReader(data, path)
        return NamedRef(
            id=reader.integer(f"{prefix}_id", "id"),
            name=reader.text(f"{prefix}_name", "name"),
            extra=reader.extra(),
        )

    return parse


def _product(data: object, path: str) -> ProductRef:
    reader = FieldReader(data, path)
    return ProductRef(
        product_id=reader.integer("product_id", "id"),
        name=reader.text("product_name", "name"),
        official_name=reader.text("official_product_name"),
        extra=reader.extra(),
    )


def parse_purchase_details(data: object, path: str = "transaction_details") -> PurchaseDetails:
    """Read an event's ``transaction_details``."""
    return parse_transaction_details(data, path)


def _calendar(data: object, path: str) -> CalendarDetails:
    reader = FieldReader(data, path)
    hosts = []
    for host_path, item in items_of(reader.raw("hosts"), reader.name("hosts")):
        host = FieldReader(item, host_path)
        hosts.append(
            CalendarHost(
                first_name=host.text("host_first_name", "first_name"),
                last_name=host.text("host_last_name", "last_name"),
                email=host.text("host_email_address", "host_email", "email"),
            )
        )
    events = tuple(item for _, item in items_of(reader.raw("events"), reader.name("events")))
    return CalendarDetails(
        calendar_id=reader.integer("calendar_id"),
        calendar_name=reader.text("calendar_name"),
        class_id=reader.integer("class_id"),
        class_name=reader.text("class_name"),
        hosts=tuple(hosts),
        vendor_timezone=reader.text("vendor_timezone"),
        calendar_subscription_id=reader.integer("calendar_subscription_id"),
        events=events,
        extra=reader.extra(),
    )


def _question(data: object, path: str) -> SurveyQuestion:
    reader = FieldReader(data, path)
    answers = parse_options(reader.raw("answers"), reader.name("answers"))
    return SurveyQuestion(
        question_id=reader.integer("question_id", "id"),
        title=reader.text("question_title", "title"),
        # Undocumented encoding (flag, text or score): kept as text.
        correct=reader.text("question_correct"),
        answers=answers,
    )


def _survey(data: object, path: str) -> SurveyDetails:
    reader = FieldReader(data, path)
    questions = tuple(
        _question(item, item_path)
        for item_path, item in items_of(reader.raw("questions"), reader.name("questions"))
    )
    return SurveyDetails(
        survey_id=reader.integer("survey_id", "id"),
        survey_name=reader.text("survey_name", "name"),
        survey_type=reader.integer("survey_type"),
        score=reader.text("survey_score"),
        completion_time=reader.integer("survey_completion_time"),
        questions=questions,
        extra=reader.extra(),
    )


def _points(details: Mapping[str, Any], payload: Mapping[str, Any]) -> int | None:
    value = details.get("points", payload.get("points"))
    if isinstance(value, Mapping):
        value = value.get("points")
    return to_int(value, "action_details.points")


# action → (event class, details key, details parser)
_Parser = Callable[[object, str], object]
_SECTIONS: dict[EventAction, tuple[type[OutboundEvent], str, _Parser]] = {}


def _register(cls: type[OutboundEvent], key: str, parser: _Parser, *actions: EventAction) -> None:
    for action in actions:
        _SECTIONS[action] = (cls, key, parser)


A = EventAction
_register(AffiliateSignupEvent, "product", _product, A.JV_SIGNUP, A.AFFILIATE_SIGNUP)
_register(
    PurchaseEvent,
    "transaction_details",
    parse_purchase_details,
    A.BUY_PRODUCT,
    A.REFUND_PRODUCT,
    A.PARTIAL_REFUND_PRODUCT,
    A.CANCEL_SUBSCRIPTION,
)
_register(TagEvent, "tag", _named("tag"), A.ASSIGN_TAG, A.UNASSIGN_TAG)
_register(ListEvent, "list", _named("list"), A.LIST_SUBSCRIPTION, A.LIST_UNSUBSCRIPTION)
_register(
    SequenceEvent,
    "sequence",
    _named("sequence"),
    A.SEQUENCE_SUBSCRIPTION,
    A.SEQUENCE_UNSUBSCRIPTION,
    A.SEQUENCE_COMPLETION,
)
_register(
    MembershipEvent, "membership", parse_membership, A.MEMBERSHIP_GRANTED, A.MEMBERSHIP_REVOKED
)
# One source lists the form's key as "tag" (likely a typo); _section falls back to the object.
_register(FormEvent, "form", _named("form"), A.FILLED_FORM)
_register(
    CalendarEvent,
    "calendar",
    _calendar,
    A.CALENDAR_SUBSCRIBE,
    A.CALENDAR_CANCEL,
    A.CALENDAR_COMPLETE,
)
_register(SurveyEvent, "survey", _survey, A.SURVEY_COMPLETE)
_register(VideoEvent, "video", _named("video"), A.VIDEO_PLAY, A.VIDEO_COMPLETE)
_register(PageVisitEvent, "kartra_page", _named("kartra_page"), A.KARTRA_PAGE_VISIT)
_register(
    SplitTestClickEvent,
    "page_split_test_link",
    _named("page_split_test_link"),
    A.CLICK_PAGE_SPLIT_TEST_LINK,
)
del A


def _form_details(details: Mapping[str, Any]) -> Mapping[str, Any]:
    if "form" not in details and isinstance(details.get("tag"), Mapping):
        return {"form": details["tag"]}
    return details


def parse_outbound_event(payload: Mapping[str, Any]) -> TypedEvent | UnknownEvent:
    """Read a decoded outbound event; an unknown ``action`` gives an :class:`UnknownEvent`.

    Raises :class:`~kartra_async.records.RecordFormatError` when the payload is not an object,
    has no ``action``, or a known event's lead or details cannot be interpreted.
    """
    payload = as_mapping(payload, "event")
    action_text = to_text(payload.get("action"), "action")
    if action_text is None:
        raise RecordFormatError("action", "missing")
    try:
        action = EventAction(action_text.strip().lower())
    except ValueError:
        return UnknownEvent(action=action_text, lead=_lead_if_readable(payload), raw=payload)
    lead = parse_lead_profile(as_mapping(payload.get("lead"), "lead"))
    details = as_mapping(payload.get("action_details"), "action_details")
    if action is EventAction.REACHES_SCORE:
        return ScoreEvent(action=action, lead=lead, points=_points(details, payload))
    cls, key, parser = _SECTIONS[action]
    if action is EventAction.FILLED_FORM:
        details = _form_details(details)
    section, path = _section(details, key)
    event = cls(action, lead, parser(section, path))  # type: ignore[call-arg]
    return event  # type: ignore[return-value]


def _lead_if_readable(payload: Mapping[str, Any]) -> LeadProfile | None:
    lead = payload.get("lead")
    if is_absent(lead) or not isinstance(lead, Mapping):
        return None
    try:
        return parse_lead_profile(lead)
    except RecordFormatError:
        return None
