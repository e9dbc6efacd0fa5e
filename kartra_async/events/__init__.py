"""Receive what Kartra sends: typed outbound events and IPN payment notifications.

``webhook_handler(on_event)`` gives an aiohttp.web handler, ``asgi_app(on_event)`` an ASGI
application (FastAPI, Starlette, Django); ``parse_webhook(body)`` does the parsing for anything
else. See the README section "Receiving events".
"""

from __future__ import annotations

from ._asgi import asgi_app
from ._dedupe import PurchaseDeduplicator, purchase_key
from ._handler import webhook_handler
from ._ipn import IpnBuyer, IpnKind, IpnNotification, IpnProduct, ipn_secret_matches, parse_ipn
from ._outbound import (
    AffiliateSignupEvent,
    CalendarDetails,
    CalendarEvent,
    CalendarHost,
    EventAction,
    FormEvent,
    ListEvent,
    MembershipEvent,
    NamedRef,
    OutboundEvent,
    PageVisitEvent,
    ProductRef,
    PurchaseDetails,
    PurchaseEvent,
    ScoreEvent,
    SequenceEvent,
    SplitTestClickEvent,
    SurveyDetails,
    SurveyEvent,
    SurveyQuestion,
    TagEvent,
    TypedEvent,
    UnknownEvent,
    VideoEvent,
    parse_outbound_event,
)
from ._payload import KartraEvent, decode_payload, event_to_json, parse_webhook
from ._receiving import DEFAULT_MAX_BODY, EventCallback, describe

__all__ = [
    "DEFAULT_MAX_BODY",
    "AffiliateSignupEvent",
    "CalendarDetails",
    "CalendarEvent",
    "CalendarHost",
    "EventAction",
    "EventCallback",
    "FormEvent",
    "IpnBuyer",
    "IpnKind",
    "IpnNotification",
    "IpnProduct",
    "KartraEvent",
    "ListEvent",
    "MembershipEvent",
    "NamedRef",
    "OutboundEvent",
    "PageVisitEvent",
    "ProductRef",
    "PurchaseDeduplicator",
    "PurchaseDetails",
    "PurchaseEvent",
    "ScoreEvent",
    "SequenceEvent",
    "SplitTestClickEvent",
    "SurveyDetails",
    "SurveyEvent",
    "SurveyQuestion",
    "TagEvent",
    "TypedEvent",
    "UnknownEvent",
    "VideoEvent",
    "asgi_app",
    "decode_payload",
    "describe",
    "event_to_json",
    "ipn_secret_matches",
    "parse_ipn",
    "parse_outbound_event",
    "parse_webhook",
    "purchase_key",
    "webhook_handler",
]
