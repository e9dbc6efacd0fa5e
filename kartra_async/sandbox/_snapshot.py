"""Export a whole sandbox account to JSON and load it back.

The export is deterministic: keys sorted, rows in id order, fixed separators, so two accounts in
the same state export byte-identical text. ``stable=True`` goes further for comparing runs whose
calls interleaved differently: leads are keyed and ordered by email (no ids), and every wall-clock
time is left out (loading such an export fills times with "now").
Credentials are not part of an account and never exported.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import attrs

from ._state import (
    Booking,
    Calendar,
    CalendarClass,
    CustomField,
    Lead,
    Product,
    SandboxAccount,
    Sequence,
    Settings,
    Subscription,
    Transaction,
)

FORMAT = "kartra-async-sandbox/1"
_ID_ORDERED = (
    "tags",
    "lists",
    "pages",
    "sequences",
    "calendars",
    "custom_fields",
    "products",
    "transactions",
    "subscriptions",
)
_TIME_KEYS = frozenset({"date", "start", "end", "next_payment"})


def _dump_lead(lead: Lead, stable: bool) -> dict[str, Any]:
    row: dict[str, Any] = {
        "email": lead.email,
        "fields": dict(lead.fields or {}),
        "custom": {
            str(k): list(v) if isinstance(v, tuple) else v for k, v in (lead.custom or {}).items()
        },
        "tags": list(lead.tags or ()),
        "lists": {str(k): v for k, v in (lead.lists or {}).items()},
        "sequences": {str(k): list(v) for k, v in (lead.sequences or {}).items()},
        "score": lead.score,
        "memberships": [dict(item) for item in lead.memberships or ()],
    }
    bookings = [attrs.asdict(booking) for booking in lead.bookings or ()]
    if stable:
        row["deleted"] = lead.deleted is not None
        row["grants"] = [points for points, _ in lead.grants or ()]
        for booking in bookings:
            del booking["id"]
    else:
        row["id"] = lead.id
        row["joined"] = lead.joined
        row["deleted"] = lead.deleted
        row["grants"] = [list(grant) for grant in lead.grants or ()]
    row["bookings"] = bookings
    return row


def _dump_row(
    row: Transaction | Subscription, emails: Mapping[int, str], stable: bool
) -> dict[str, Any]:
    data = attrs.asdict(row)
    if stable:
        data = {key: value for key, value in data.items() if key not in _TIME_KEYS}
        data["lead_id"] = emails.get(row.lead_id, "")
    return data


def export_account(account: SandboxAccount, *, stable: bool = False) -> str:
    """The account as deterministic JSON text (see the module docstring for ``stable``)."""
    emails = {lead.id: lead.email.lower() for lead in account.leads.values()}
    leads = sorted(
        account.leads.values(),
        key=(lambda lead: lead.email.lower()) if stable else (lambda lead: lead.id),
    )
    data: dict[str, Any] = {
        "format": FORMAT,
        "settings": attrs.asdict(account.settings),
        "next_ids": dict(account.next_ids),
        "tags": [{"id": ident, "name": name} for name, ident in account.tags.items()],
        "lists": [{"id": ident, "name": name} for name, ident in account.lists.items()],
        "pages": [{"id": ident, "name": name} for name, ident in account.pages.items()],
        "sequences": [attrs.asdict(seq) for seq in account.sequences.values()],
        "calendars": [
            {
                "id": cal.id,
                "name": cal.name,
                "classes": [attrs.asdict(klass) for klass in cal.classes.values()],
                "hosts": cal.hosts,
                "vendor_timezone": cal.vendor_timezone,
            }
            for cal in account.calendars.values()
        ],
        "custom_fields": [
            {
                "id": field.id,
                "identifier": field.identifier,
                "type": field.type,
                "options": [{"id": k, "name": v} for k, v in field.options.items()],
            }
            for field in account.custom_fields.values()
        ],
        "products": [
            {
                "id": p.id,
                "name": p.name,
                "price_points": {str(k): v for k, v in p.price_points.items()},
            }
            for p in account.products.values()
        ],
        "leads": [_dump_lead(lead, stable) for lead in leads],
        "transactions": [_dump_row(row, emails, stable) for row in account.transactions.values()],
        "subscriptions": [_dump_row(sub, emails, stable) for sub in account.subscriptions.values()],
    }
    for key in _ID_ORDERED:
        data[key] = sorted(data[key], key=lambda item: item["id"])
    return json.dumps(data, sort_keys=True, indent=1, ensure_ascii=False) + "\n"


def load_account(
    source: str | Path | Mapping[str, Any], *, now: Callable[[], float] | None = None
) -> SandboxAccount:
    """An account from an export (JSON text, a path to a file, or the decoded mapping)."""
    if isinstance(source, Path):
        data: Mapping[str, Any] = json.loads(source.read_text(encoding="utf-8"))
    elif isinstance(source, str):
        data = json.loads(source)
    else:
        data = source
    if data.get("format") != FORMAT:
        raise ValueError(f"not a sandbox account export (format {data.get('format')!r})")
    account = SandboxAccount() if now is None else SandboxAccount(now=now)
    clock = account.now()
    account.settings = Settings(**data.get("settings", {}))
    account.next_ids = {str(k): int(v) for k, v in data.get("next_ids", {}).items()}
    account.tags = {row["name"]: row["id"] for row in data.get("tags", ())}
    account.lists = {row["name"]: row["id"] for row in data.get("lists", ())}
    account.pages = {row["name"]: row["id"] for row in data.get("pages", ())}
    for row in data.get("sequences", ()):
        account.sequences[row["name"]] = Sequence(
            row["id"], row["name"], [str(s) for s in row["steps"]]
        )
    for row in data.get("calendars", ()):
        cal = Calendar(row["id"], row["name"], hosts=list(row.get("hosts", [])))
        cal.vendor_timezone = row.get("vendor_timezone", cal.vendor_timezone)
        for klass in row.get("classes", ()):
            cal.classes[klass["name"]] = CalendarClass(klass["id"], klass["name"])
        account.calendars[cal.name] = cal
    for row in data.get("custom_fields", ()):
        field = CustomField(row["id"], row["identifier"], row["type"])
        field.options = {opt["id"]: opt["name"] for opt in row.get("options", ())}
        account.custom_fields[field.identifier] = field
    for row in data.get("products", ()):
        points = {int(k): v for k, v in row.get("price_points", {}).items()}
        account.products[row["id"]] = Product(row["id"], row["name"], points)
    for row in data.get("leads", ()):
        _load_lead(account, row, clock)
    by_email = {lead.email.lower(): lead.id for lead in account.leads.values()}
    for row in data.get("transactions", ()):
        values = _resolve(dict(row), by_email, "date", clock)
        account.transactions[values["id"]] = Transaction(**values)
    for row in data.get("subscriptions", ()):
        values = _resolve(dict(row), by_email, "start", clock)
        account.subscriptions[values["id"]] = Subscription(**values)
    return account


def _resolve(
    values: dict[str, Any], by_email: Mapping[str, int], time_key: str, clock: float
) -> dict[str, Any]:
    # A stable export names the lead by email and leaves the row's time out.
    if isinstance(values.get("lead_id"), str):
        values["lead_id"] = by_email.get(values["lead_id"].lower(), 0)
    values.setdefault(time_key, clock)
    return values


def _load_lead(account: SandboxAccount, row: Mapping[str, Any], clock: float) -> None:
    lead_id = row.get("id")
    if lead_id is None:
        lead_id = max(account.leads, default=0) + 1
    deleted = row.get("deleted")
    lead = Lead(
        id=int(lead_id),
        email=row["email"],
        joined=float(row.get("joined", clock)),
        score=int(row.get("score", 0)),
        deleted=(
            clock if deleted is True else (None if deleted in (None, False) else float(deleted))
        ),
    )
    lead.fields = dict(row.get("fields", {})) or None
    custom = {
        int(k): tuple(v) if isinstance(v, list) else v for k, v in row.get("custom", {}).items()
    }
    lead.custom = custom or None
    lead.tags = list(row.get("tags", ())) or None
    lead.lists = {int(k): int(v) for k, v in row.get("lists", {}).items()} or None
    lead.sequences = {int(k): list(v) for k, v in row.get("sequences", {}).items()} or None
    grants = [
        (int(g[0]), float(g[1])) if isinstance(g, list) else (int(g), clock + 86400 * 365)
        for g in row.get("grants", ())
    ]
    lead.grants = grants or None
    bookings = [
        Booking(
            id=int(b.get("id", 0)) or account.new_id("booking"),
            calendar_id=b["calendar_id"],
            class_id=b["class_id"],
            start=b["start"],
            status=b.get("status", "active"),
        )
        for b in row.get("bookings", ())
    ]
    lead.bookings = bookings or None
    lead.memberships = [dict(m) for m in row.get("memberships", ())] or None
    account.leads[lead.id] = lead
    account.leads_by_email[lead.email.lower()] = lead.id
