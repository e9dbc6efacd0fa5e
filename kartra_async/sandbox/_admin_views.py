"""What the admin API answers, as typed JSON shapes, and the plain functions that build them
from the account, the journal and the counters (no HTTP here; ``_admin`` serves them)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, TypedDict

from ._fault_config import FaultRuleJSON
from ._journal import EventEntry, JournalEntry
from ._state import Lead, SandboxAccount, eastern


class ErrorJSON(TypedDict):
    """Any refused admin call: ``{"error": "<field>: <reason>"}``."""

    error: str


class HealthJSON(TypedDict):
    """``GET /_sandbox/health``."""

    status: str
    version: str
    url: str
    inspector_url: str
    uptime_seconds: float
    leads: int
    calls: int
    rate_limit: int | None
    webhook: bool
    record_events: bool


class LeadSummaryJSON(TypedDict):
    """One row of ``GET /_sandbox/leads``."""

    id: int
    email: str
    first_name: str
    last_name: str
    joined: str
    score: int
    tags: list[str]
    lists: list[str]
    deleted: bool


class LeadPageJSON(TypedDict):
    """``GET /_sandbox/leads?q=&email=&tag=&list=&offset=0&limit=50``."""

    total: int
    offset: int
    limit: int
    leads: list[LeadSummaryJSON]


class CustomFieldValueJSON(TypedDict):
    """A custom field of a lead: free text, or the chosen option names."""

    identifier: str
    type: str
    value: str | list[str]


class ListMembershipJSON(TypedDict):
    """A list a lead is on; ``active`` false once unsubscribed."""

    name: str
    active: bool


class SequenceStateJSON(TypedDict):
    """A lead's place in a sequence."""

    name: str
    step: str
    status: str


class GrantJSON(TypedDict):
    """Points that expire (Eastern time)."""

    points: int
    expires: str


class PointsJSON(TypedDict):
    """A lead's score and its expiring grants."""

    score: int
    grants: list[GrantJSON]


class TransactionJSON(TypedDict):
    """A payment row of a lead."""

    id: int
    type: str
    product: str
    price_point: int
    amount: str
    refunded: str
    date: str
    subscription_id: int | None
    test: bool


class SubscriptionJSON(TypedDict):
    """A subscription of a lead."""

    id: int
    product: str
    price_point: int
    status: str
    gateway: str
    plan_type: str
    recurring_period: str
    amount: str
    start: str
    next_payment: str


class BookingJSON(TypedDict):
    """A calendar booking of a lead (``start`` is ``""`` for a booking without a time)."""

    id: int
    calendar: str
    calendar_class: str
    start: str
    status: str


class LeadJSON(TypedDict):
    """``GET /_sandbox/leads/{id or email}``: one lead, whole."""

    id: int
    email: str
    joined: str
    deleted: str | None
    fields: dict[str, str]
    custom_fields: list[CustomFieldValueJSON]
    tags: list[str]
    lists: list[ListMembershipJSON]
    sequences: list[SequenceStateJSON]
    points: PointsJSON
    transactions: list[TransactionJSON]
    subscriptions: list[SubscriptionJSON]
    bookings: list[BookingJSON]
    memberships: list[dict[str, str]]


class RequestJSON(TypedDict):
    """One Kartra call of ``GET /_sandbox/requests``; ``http_status`` 0 is a reset connection."""

    seq: int
    at: str
    cmds: list[str]
    email: str
    http_status: int
    status: str
    type: str
    fault: str
    latency_ms: float | None
    app_id: str


class RequestPageJSON(TypedDict):
    """``GET /_sandbox/requests?since=SEQ&limit=200``: pass ``next`` as ``since`` to poll."""

    requests: list[RequestJSON]
    next: int


class EventJSON(TypedDict):
    """One outbound event of ``GET /_sandbox/events``."""

    seq: int
    at: str
    action: str
    lead_id: str
    email: str
    posted: bool
    payload: dict[str, Any]


class EventPageJSON(TypedDict):
    """``GET /_sandbox/events?since=SEQ&limit=200``."""

    events: list[EventJSON]
    next: int


class WindowUseJSON(TypedDict):
    """Calls one (masked) ``app_id`` has in the rate-limit window right now."""

    app_id: str
    calls: int


class SecondJSON(TypedDict):
    """Calls answered in one whole second (Unix time), and how many of them were 429."""

    t: int
    calls: int
    rate_limited: int


class RateJSON(TypedDict):
    """The rate limit and the sliding window as it is now."""

    limit: int | None
    window_seconds: float
    window: list[WindowUseJSON]
    per_second: list[SecondJSON]


class StatsJSON(TypedDict):
    """``GET /_sandbox/stats``: counters since start (or the last reset) and the window now."""

    calls: int
    cmds: dict[str, int]
    replies: dict[str, int]
    rate_limited: int
    faults: dict[str, int]
    events_sent: int
    events_recorded: int
    rate: RateJSON


class FaultsJSON(TypedDict):
    """``GET``/``PUT /_sandbox/faults``; a ``PUT`` sends ``rules`` (and optionally ``seed``)."""

    seed: int | None
    rules: list[FaultRuleJSON]
    injected: dict[str, int]
    kinds: list[str]


class ResetJSON(TypedDict):
    """The answer of ``POST /_sandbox/reset``."""

    status: str
    account: str
    leads: int


def iso(epoch: float) -> str:
    """A Unix time as ISO 8601 UTC with milliseconds."""
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds")


def lead_summary(account: SandboxAccount, lead: Lead) -> LeadSummaryJSON:
    """A lead as one row of the leads table."""
    return {
        "id": lead.id,
        "email": lead.email,
        "first_name": lead.field("first_name"),
        "last_name": lead.field("last_name"),
        "joined": eastern(lead.joined),
        "score": lead.score,
        "tags": [account.tag_name(tag) for tag in lead.tags or ()],
        "lists": [
            account.list_name(list_id) for list_id, active in (lead.lists or {}).items() if active
        ],
        "deleted": lead.deleted is not None,
    }


def find_leads(
    account: SandboxAccount,
    *,
    q: str = "",
    email: str = "",
    tag: str = "",
    list_name: str = "",
) -> list[Lead]:
    """Leads (newest first) whose email or name contains ``q``, whose email contains ``email``
    (case-insensitive), that carry tag ``tag`` and are active on list ``list_name``."""
    wanted_tag = account.tags.get(tag) if tag else None
    wanted_list = account.lists.get(list_name) if list_name else None
    if (tag and wanted_tag is None) or (list_name and wanted_list is None):
        return []
    needle = q.strip().lower()
    email_part = email.strip().lower()
    found = []
    for lead in reversed(account.leads.values()):
        if email_part and email_part not in lead.email.lower():
            continue
        if needle and not any(
            needle in value.lower()
            for value in (lead.email, lead.field("first_name"), lead.field("last_name"))
        ):
            continue
        if wanted_tag is not None and wanted_tag not in (lead.tags or ()):
            continue
        if wanted_list is not None and not (lead.lists or {}).get(wanted_list):
            continue
        found.append(lead)
    return found


def lead_record(account: SandboxAccount, lead: Lead) -> LeadJSON:
    """One lead whole, with names instead of ids wherever the account knows them."""
    now = account.now()
    score = lead.current_score(now)
    products = account.products
    calendars = {cal.id: cal for cal in account.calendars.values()}

    def product(product_id: int) -> str:
        found = products.get(product_id)
        return found.name if found is not None else str(product_id)

    def booking(item: Any) -> BookingJSON:
        calendar = calendars.get(item.calendar_id)
        klass = ""
        if calendar is not None:
            klass = next(
                (c.name for c in calendar.classes.values() if c.id == item.class_id),
                str(item.class_id),
            )
        return {
            "id": item.id,
            "calendar": calendar.name if calendar is not None else str(item.calendar_id),
            "calendar_class": klass,
            "start": item.start,
            "status": item.status,
        }

    return {
        "id": lead.id,
        "email": lead.email,
        "joined": eastern(lead.joined),
        "deleted": eastern(lead.deleted) if lead.deleted is not None else None,
        "fields": dict(sorted((lead.fields or {}).items())),
        "custom_fields": _custom_fields(account, lead),
        "tags": [account.tag_name(tag) for tag in lead.tags or ()],
        "lists": [
            {"name": account.list_name(list_id), "active": bool(active)}
            for list_id, active in (lead.lists or {}).items()
        ],
        "sequences": [
            {"name": account.sequence_by_id(seq_id).name, "step": step, "status": status}
            for seq_id, (step, status) in (lead.sequences or {}).items()
        ],
        "points": {
            "score": score,
            "grants": [
                {"points": points, "expires": eastern(expires)}
                for points, expires in lead.grants or ()
            ],
        },
        "transactions": [
            {
                "id": row.id,
                "type": row.type,
                "product": product(row.product_id),
                "price_point": row.price_point,
                "amount": row.amount,
                "refunded": row.refunded,
                "date": eastern(row.date),
                "subscription_id": row.subscription_id,
                "test": row.test,
            }
            for row in account.transactions.values()
            if row.lead_id == lead.id
        ],
        "subscriptions": [
            {
                "id": sub.id,
                "product": product(sub.product_id),
                "price_point": sub.price_point,
                "status": sub.status,
                "gateway": sub.gateway,
                "plan_type": sub.plan_type,
                "recurring_period": sub.recurring_period,
                "amount": sub.amount,
                "start": eastern(sub.start),
                "next_payment": eastern(sub.next_payment) if sub.next_payment else "",
            }
            for sub in account.subscriptions.values()
            if sub.lead_id == lead.id
        ],
        "bookings": [booking(item) for item in lead.bookings or ()],
        "memberships": [dict(item) for item in lead.memberships or ()],
    }


def _custom_fields(account: SandboxAccount, lead: Lead) -> list[CustomFieldValueJSON]:
    values = lead.custom or {}
    shown: list[CustomFieldValueJSON] = []
    for field in account.custom_fields.values():
        value = values.get(field.id)
        if value is None:
            continue
        rendered: str | list[str] = (
            [field.options.get(option, str(option)) for option in value]
            if isinstance(value, tuple)
            else value
        )
        shown.append({"identifier": field.identifier, "type": field.type, "value": rendered})
    return shown


def request_json(entry: JournalEntry) -> RequestJSON:
    """A journal entry as the admin API shows it."""
    return {
        "seq": entry.seq,
        "at": iso(entry.at),
        "cmds": list(entry.cmds),
        "email": entry.email,
        "http_status": entry.http_status,
        "status": entry.status,
        "type": entry.type,
        "fault": entry.fault,
        "latency_ms": entry.latency_ms,
        "app_id": entry.app_id,
    }


def event_json(entry: EventEntry) -> EventJSON:
    """An event entry as the admin API shows it."""
    return {
        "seq": entry.seq,
        "at": iso(entry.at),
        "action": entry.action,
        "lead_id": entry.lead_id,
        "email": entry.email,
        "posted": entry.posted,
        "payload": entry.payload,
    }
