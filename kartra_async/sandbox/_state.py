"""The sandbox's in-memory Kartra account: inventories, leads, transactions, subscriptions.

Plain mutable ``attrs`` classes with ``__slots__``: a stored lead costs a few hundred bytes
because every optional relation (tags, lists, points, ...) stays ``None`` until it is used.
Nothing here knows about HTTP or about Kartra's reply shapes; the command modules mutate this
state and the view modules render it.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from zoneinfo import ZoneInfo

import attrs

from .._actions import CUSTOM_FIELD_TYPES as CLIENT_CUSTOM_FIELD_TYPES
from .._actions import MULTI_CHOICE_TYPES
from .._builder import LEAD_FIELDS as CLIENT_LEAD_FIELDS

#: Kartra reports dates in US Eastern time, naive (docs/kartra-api.md#dates-and-time-zones).
EASTERN = ZoneInfo("America/New_York")

#: Profile fields a lead carries, in the order ``get_lead`` lists them
#: (docs/kartra-api.md#leads-and-chaining and #get_lead).
#: Every profile field a lead carries: the client's own list, so the two can never drift.
LEAD_FIELDS: tuple[str, ...] = CLIENT_LEAD_FIELDS
#: Fields a client may set through ``lead[...]`` (email is handled separately).
WRITABLE_FIELDS: frozenset[str] = frozenset(LEAD_FIELDS) - {"email"}

CUSTOM_FIELD_TYPES: tuple[str, ...] = CLIENT_CUSTOM_FIELD_TYPES
#: Types whose values are option ids rather than free text.
CHOICE_TYPES: frozenset[str] = MULTI_CHOICE_TYPES

TRANSACTION_TYPES: tuple[str, ...] = (
    "sale",
    "refund",
    "failed",
    "rebill",
    "cancellation",
    "chargeback",
    "partial_refund",
)
SUBSCRIPTION_STATUSES: tuple[str, ...] = ("Active", "Paused", "Cancelled", "Terminated")


def eastern(epoch: float) -> str:
    """Format a Unix time the way Kartra prints dates: ``YYYY-MM-DD HH:MM:SS`` in US Eastern."""
    return datetime.fromtimestamp(epoch, EASTERN).strftime("%Y-%m-%d %H:%M:%S")


@attrs.define(slots=True)
class CustomField:
    """A custom field definition; ``options`` maps option id to option name (choice types)."""

    id: int
    identifier: str
    type: str
    options: dict[int, str] = attrs.field(factory=dict)


@attrs.define(slots=True)
class Sequence:
    """A sequence and the box numbers of its steps (Kartra's ``step`` parameter)."""

    id: int
    name: str
    steps: list[str] = attrs.field(factory=list)


@attrs.define(slots=True)
class CalendarClass:
    """A bookable class of a calendar."""

    id: int
    name: str


@attrs.define(slots=True)
class Calendar:
    """A calendar, its classes (by name) and its hosts."""

    id: int
    name: str
    classes: dict[str, CalendarClass] = attrs.field(factory=dict)
    hosts: list[dict[str, str]] = attrs.field(factory=list)
    vendor_timezone: str = "America/New_York"


@attrs.define(slots=True)
class Product:
    """A product and its price points (number -> plan type: recurring, installments, ...)."""

    id: int
    name: str
    price_points: dict[int, str] = attrs.field(factory=dict)


@attrs.define(slots=True)
class Booking:
    """A lead's booking of a calendar class; ``start`` is ``YYYY-MM-DD HH:MM`` Eastern or ``""``."""

    id: int
    calendar_id: int
    class_id: int
    start: str
    status: str = "active"


@attrs.define(slots=True)
class Lead:
    """One lead. Optional relations stay ``None`` until used, to keep a stored lead small."""

    id: int
    email: str
    joined: float
    fields: dict[str, str] | None = None
    custom: dict[int, str | tuple[int, ...]] | None = None
    tags: list[int] | None = None
    lists: dict[int, int] | None = None
    sequences: dict[int, list[str]] | None = None
    score: int = 0
    #: (points, expires_at epoch) for grants with an expiration.
    grants: list[tuple[int, float]] | None = None
    bookings: list[Booking] | None = None
    memberships: list[dict[str, str]] | None = None
    deleted: float | None = None

    def field(self, name: str) -> str:
        """A profile field's value, ``""`` when unset."""
        if name == "email":
            return self.email
        return self.fields.get(name, "") if self.fields else ""

    def set_field(self, name: str, value: str) -> None:
        """Set a profile field; an empty string clears it."""
        if value:
            if self.fields is None:
                self.fields = {}
            # Field names arrive as fresh strings in every request; one shared copy per name
            # keeps the per-lead cost under 1 KB.
            self.fields[sys.intern(name)] = value
        elif self.fields:
            self.fields.pop(name, None)

    def current_score(self, now: float) -> int:
        """The score after expired point grants are taken back (lazily, on read)."""
        if self.grants:
            expired = [grant for grant in self.grants if grant[1] <= now]
            if expired:
                self.score -= sum(points for points, _ in expired)
                self.grants = [grant for grant in self.grants if grant[1] > now] or None
        return self.score


@attrs.define(slots=True)
class Transaction:
    """A payment row. ``amount`` is a decimal string; ``refunded`` is the sum refunded so far."""

    id: int
    lead_id: int
    type: str
    product_id: int
    price_point: int
    amount: str
    date: float
    quantity: int = 1
    subscription_id: int | None = None
    parent_id: int = 0
    affiliate: str = ""
    refunded: str = "0"
    test: bool = False
    #: Sandbox switch: the payment gateway refuses a refund of this row (-> 266).
    gateway_fails: bool = False


@attrs.define(slots=True)
class Subscription:
    """A recurring payment subscription."""

    id: int
    lead_id: int
    product_id: int
    price_point: int
    start: float
    status: str = "Active"
    gateway: str = "card"
    #: The gateway's own id (PayPal ``I-...``); empty for card subscriptions.
    gateway_id: str = ""
    plan_type: str = "recurring"
    recurring_period: str = "monthly"
    recurring_period_2: str = ""
    installments_left: int | None = None
    current_installment: int = 1
    next_payment: float = 0.0
    amount: str = "0.00"
    quantity: int = 1
    tax_percent: str = "0"
    affiliate: str = ""
    jv: str = ""
    end: float | None = None
    recurrence_locked: bool = False
    #: Sandbox switch: the gateway refuses to cancel this subscription (-> 267).
    gateway_fails: bool = False


@attrs.define(slots=True, repr=False)
class Settings:
    """Account settings the sandbox exposes to provoke Kartra's app/account errors."""

    app_active: bool = True
    account_active: bool = True
    #: Client IPs allowed to call (None: any) -> 242.
    allowed_ips: list[str] | None = None
    #: Commands the App may run (None: all) -> 262.
    allowed_cmds: list[str] | None = None
    refund_period_days: int = 30
    #: GDPR status reported for API-created leads (0: GDPR off for the account).
    gdpr_lead_status: int = 0


class SandboxAccount:
    """A whole Kartra account held in memory.

    Inventories are keyed by name (Kartra's commands address tags, lists, sequences and
    calendars by name); leads are keyed by id with a case-insensitive email index.
    """

    __slots__ = (
        "calendars",
        "custom_fields",
        "leads",
        "leads_by_email",
        "lists",
        "next_ids",
        "now",
        "pages",
        "products",
        "sequences",
        "settings",
        "subscriptions",
        "tags",
        "transactions",
    )

    def __init__(self, *, now: Callable[[], float] = time.time) -> None:
        #: Wall clock (Unix time) used for dates; injectable for deterministic tests.
        self.now = now
        self.settings = Settings()
        self.tags: dict[str, int] = {}
        self.lists: dict[str, int] = {}
        self.sequences: dict[str, Sequence] = {}
        self.calendars: dict[str, Calendar] = {}
        self.custom_fields: dict[str, CustomField] = {}
        self.pages: dict[str, int] = {}
        self.products: dict[int, Product] = {}
        self.leads: dict[int, Lead] = {}
        self.leads_by_email: dict[str, int] = {}
        self.transactions: dict[int, Transaction] = {}
        self.subscriptions: dict[int, Subscription] = {}
        self.next_ids: dict[str, int] = {}

    def __repr__(self) -> str:
        leads, tags = getattr(self, "leads", ()), getattr(self, "tags", ())
        return f"<SandboxAccount leads={len(leads)} tags={len(tags)}>"

    # --- ids and lookups ---------------------------------------------------------------------

    def new_id(self, kind: str) -> int:
        """The next id of ``kind`` (ids start at 1 and are never reused)."""
        value = self.next_ids.get(kind, 1)
        self.next_ids[kind] = value + 1
        return value

    def lead_by_email(self, email: str) -> Lead | None:
        """The lead with this email (case-insensitive), deleted or not."""
        lead_id = self.leads_by_email.get(email.lower())
        return None if lead_id is None else self.leads[lead_id]

    def lead_by_id(self, lead_id: int) -> Lead | None:
        """The lead with this id, deleted or not."""
        return self.leads.get(lead_id)

    def tag_name(self, tag_id: int) -> str:
        """A tag's name from its id."""
        return _name_of(self.tags, tag_id)

    def list_name(self, list_id: int) -> str:
        """A list's name from its id."""
        return _name_of(self.lists, list_id)

    def sequence_by_id(self, sequence_id: int) -> Sequence:
        """A sequence from its id."""
        return next(seq for seq in self.sequences.values() if seq.id == sequence_id)

    def calendar_by_id(self, calendar_id: int) -> Calendar:
        """A calendar from its id."""
        return next(cal for cal in self.calendars.values() if cal.id == calendar_id)

    # --- mutation helpers used by commands, seeding and tests ----------------------------------

    def add_lead(self, email: str, **fields: str) -> Lead:
        """Store a new lead (no uniqueness check: callers check first)."""
        lead = Lead(id=self.new_id("lead"), email=email, joined=self.now())
        for name, value in fields.items():
            lead.set_field(name, value)
        self.leads[lead.id] = lead
        self.leads_by_email[_index_key(email)] = lead.id
        return lead

    def change_email(self, lead: Lead, new_email: str) -> None:
        """Move a lead to a new email, keeping the index consistent."""
        del self.leads_by_email[lead.email.lower()]
        lead.email = new_email
        self.leads_by_email[_index_key(new_email)] = lead.id

    def delete_lead(self, lead: Lead) -> None:
        """Soft-delete a lead: its email stays reserved and commands answer 245."""
        lead.deleted = self.now()

    def seed(
        self,
        *,
        tags: Iterable[str] = (),
        lists: Iterable[str] = (),
        sequences: Mapping[str, Iterable[str | int]] | None = None,
        calendars: Mapping[str, Iterable[str]] | None = None,
        custom_fields: Mapping[str, str | tuple[str, Iterable[str]]] | None = None,
        pages: Iterable[str] = (),
    ) -> SandboxAccount:
        """Add inventory by name; names that already exist are left alone. Returns ``self``.

        ``sequences`` maps a name to its step numbers; ``calendars`` a name to its class names;
        ``custom_fields`` an identifier to a type, or to ``(type, option names)``.
        """
        for name in tags:
            if name not in self.tags:
                self.tags[name] = self.new_id("tag")
        for name in lists:
            if name not in self.lists:
                self.lists[name] = self.new_id("list")
        for name in pages:
            if name not in self.pages:
                self.pages[name] = self.new_id("page")
        for name, steps in (sequences or {}).items():
            if name not in self.sequences:
                self.sequences[name] = Sequence(self.new_id("sequence"), name, [])
            known = self.sequences[name].steps
            known.extend(str(step) for step in steps if str(step) not in known)
        for name, classes in (calendars or {}).items():
            if name not in self.calendars:
                self.calendars[name] = Calendar(self.new_id("calendar"), name)
            calendar = self.calendars[name]
            for class_name in classes:
                if class_name not in calendar.classes:
                    calendar.classes[class_name] = CalendarClass(self.new_id("class"), class_name)
        for identifier, spec in (custom_fields or {}).items():
            if identifier in self.custom_fields:
                continue
            kind, options = (spec, ()) if isinstance(spec, str) else spec
            field = CustomField(self.new_id("custom_field"), identifier, kind)
            for option in options:
                field.options[self.new_id("option")] = option
            self.custom_fields[identifier] = field
        return self

    def lead_count(self) -> int:
        """How many leads are stored, deleted ones included."""
        return len(self.leads)


def _index_key(email: str) -> str:
    # Most emails are lower case already: index them by the same string object (saves a copy).
    lowered = email.lower()
    return email if lowered == email else lowered


def _name_of(names: Mapping[str, int], wanted: int) -> str:
    for name, ident in names.items():
        if ident == wanted:
            return name
    return ""
