"""A lead's full profile, as ``get_lead`` returns it and as outbound events carry it."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Any

import attrs

from ._custom_fields import CustomFieldValue, parse_custom_field_value
from ._enums import GdprStatus
from ._values import (
    EMPTY_EXTRA,
    FieldReader,
    RecordFormatError,
    items_of,
    to_loose_datetime,
    to_text,
)


@attrs.frozen
class TagAssignment:
    """A tag on a lead (recent replies carry only the name)."""

    name: str
    tag_id: int | None = None


@attrs.frozen
class ListSubscription:
    """A list the lead is or was on; unsubscribing keeps the row with ``active`` False."""

    name: str
    list_id: int | None = None
    active: bool | None = None
    extra: Mapping[str, Any] = EMPTY_EXTRA


@attrs.frozen
class SequenceSubscription:
    """A sequence the lead is in, with its step and status (``active``/``unsubscribed``)."""

    name: str
    sequence_id: int | None = None
    step: str | None = None
    status: str | None = None
    extra: Mapping[str, Any] = EMPTY_EXTRA


@attrs.frozen
class MembershipAccess:
    """A membership level the lead holds (or held: ``active`` False)."""

    name: str | None
    membership_id: int | None = None
    level_id: int | None = None
    level_name: str | None = None
    active: bool | None = None
    granted_at: datetime | None = None
    extra: Mapping[str, Any] = EMPTY_EXTRA


@attrs.frozen
class LeadProfile:
    """A lead as Kartra describes it (``get_lead``'s ``lead_details``, an event's ``lead``).

    Absent values (missing, empty, ``"N/A"``) are None. Dates are aware datetimes in
    America/New_York. ``gdpr_lead_communications`` is kept as the raw 0/1 because sources
    disagree on which value means consent. Keys we do not know are kept in ``extra``.
    """

    id: int
    email: str | None = None
    first_name: str | None = None
    middle_name: str | None = None
    last_name: str | None = None
    last_name2: str | None = None
    phone_country_code: str | None = None
    phone: str | None = None
    company: str | None = None
    address: str | None = None
    city: str | None = None
    zip: str | None = None
    state: str | None = None
    country: str | None = None
    ip: str | None = None
    ip_country: str | None = None
    website: str | None = None
    facebook: str | None = None
    twitter: str | None = None
    linkedin: str | None = None
    lead_picture: str | None = None
    sales_tax_id: str | None = None
    business_type: str | None = None
    lead_preferred_time_zone: str | None = None
    notes: str | None = None
    source: str | None = None
    source_id: str | None = None
    referring_id: str | None = None
    date_joined: datetime | None = None
    score: int | None = None
    blacklisted: bool | None = None
    lead_deleted: bool | None = None
    lead_deleted_date: datetime | None = None
    gdpr_lead_status: GdprStatus | int | None = None
    gdpr_lead_status_date: datetime | None = None
    gdpr_lead_status_ip: str | None = None
    gdpr_lead_communications: int | None = None
    custom_fields: tuple[CustomFieldValue, ...] = ()
    tags: tuple[TagAssignment, ...] = ()
    lists: tuple[ListSubscription, ...] = ()
    sequences: tuple[SequenceSubscription, ...] = ()
    memberships: tuple[MembershipAccess, ...] = ()
    extra: Mapping[str, Any] = EMPTY_EXTRA

    def custom_field(self, identifier: str) -> CustomFieldValue | None:
        """The value of custom field ``identifier``; None if the account has no such field."""
        return next((f for f in self.custom_fields if f.identifier == identifier), None)


def _name_of(item: object, path: str, *keys: str) -> tuple[str, FieldReader | None]:
    # Relations arrive as objects, or (older replies) as bare names.
    if isinstance(item, str):
        return item, None
    reader = FieldReader(item, path)
    name = reader.text(*keys)
    if name is None:
        raise RecordFormatError(reader.name(keys[0]), "missing")
    return name, reader


def _tags(value: object) -> tuple[TagAssignment, ...]:
    tags = []
    for path, item in items_of(value, "lead.tags"):
        name, reader = _name_of(item, path, "tag_name", "name")
        tags.append(TagAssignment(name, reader.integer("tag_id", "id") if reader else None))
    return tuple(tags)


def _lists(value: object) -> tuple[ListSubscription, ...]:
    lists = []
    for path, item in items_of(value, "lead.lists"):
        name, reader = _name_of(item, path, "list_name", "name")
        if reader is None:
            lists.append(ListSubscription(name))
            continue
        lists.append(
            ListSubscription(
                name=name,
                list_id=reader.integer("list_id", "id"),
                active=reader.flag("active", "list_active"),
                extra=reader.extra(),
            )
        )
    return tuple(lists)


def _sequences(value: object) -> tuple[SequenceSubscription, ...]:
    sequences = []
    for path, item in items_of(value, "lead.sequences"):
        name, reader = _name_of(item, path, "sequence_name", "name")
        if reader is None:
            sequences.append(SequenceSubscription(name))
            continue
        sequences.append(
            SequenceSubscription(
                name=name,
                sequence_id=reader.integer("sequence_id", "id"),
                step=reader.text("step", "sequence_step"),
                status=reader.text("status", "sequence_status"),
                extra=reader.extra(),
            )
        )
    return tuple(sequences)


def parse_membership(data: object, path: str = "membership") -> MembershipAccess:
    """Read a membership object (get_lead's ``memberships[]``, an event's ``membership``).

    Accepts ``membership_name`` or ``name`` for the name, as clients report both.
    """
    reader = FieldReader(data, path)
    return MembershipAccess(
        name=reader.text("membership_name", "name"),
        membership_id=reader.integer("membership_id", "id"),
        level_id=reader.integer("level_id"),
        level_name=reader.text("level_name"),
        active=reader.flag("active"),
        granted_at=reader.date("granted_at"),
        extra=reader.extra(),
    )


def read_gdpr_status(reader: FieldReader) -> GdprStatus | int | None:
    """Read ``gdpr_lead_status``; a status Kartra adds later is kept as its number."""
    status = reader.integer("gdpr_lead_status")
    if status is None:
        return None
    try:
        return GdprStatus(status)
    except ValueError:
        return status


def parse_lead_profile(data: Mapping[str, Any]) -> LeadProfile:
    """Read a lead object (``get_lead``'s ``lead_details`` or an outbound event's ``lead``).

    Raises :class:`RecordFormatError` naming the field when a value cannot be interpreted
    (an id ``"abc"``, a date ``"yesterday"``) or the lead id is missing.
    """
    reader = FieldReader(data, "lead")
    gdpr_date_raw = reader.raw("gdpr_lead_status_date")
    gdpr_date = to_loose_datetime(gdpr_date_raw)
    custom_fields = tuple(
        parse_custom_field_value(item, path)
        for path, item in items_of(reader.raw("custom_fields"), "lead.custom_fields")
    )
    memberships = tuple(
        parse_membership(item, path)
        for path, item in items_of(reader.raw("memberships"), "lead.memberships")
    )
    profile = LeadProfile(
        id=reader.required_integer("id", "lead_id"),
        email=reader.text("email"),
        first_name=reader.text("first_name"),
        middle_name=reader.text("middle_name"),
        last_name=reader.text("last_name"),
        last_name2=reader.text("last_name2"),
        phone_country_code=reader.text("phone_country_code"),
        phone=reader.text("phone"),
        company=reader.text("company"),
        address=reader.text("address"),
        city=reader.text("city"),
        zip=reader.text("zip"),
        state=reader.text("state"),
        country=reader.text("country"),
        ip=reader.text("ip"),
        ip_country=reader.text("ip_country"),
        website=reader.text("website"),
        facebook=reader.text("facebook"),
        twitter=reader.text("twitter"),
        linkedin=reader.text("linkedin"),
        lead_picture=reader.text("lead_picture"),
        sales_tax_id=reader.text("sales_tax_id"),
        business_type=reader.text("business_type"),
        lead_preferred_time_zone=reader.text("lead_preferred_time_zone"),
        notes=reader.text("notes"),
        source=reader.text("source"),
        source_id=reader.text("source_id"),
        referring_id=reader.text("referring_id"),
        date_joined=reader.date("date_joined"),
        score=reader.integer("score"),
        blacklisted=reader.flag("blacklisted"),
        lead_deleted=reader.flag("lead_deleted"),
        lead_deleted_date=reader.date("lead_deleted_date"),
        gdpr_lead_status=read_gdpr_status(reader),
        gdpr_lead_status_date=gdpr_date,
        gdpr_lead_status_ip=reader.text("gdpr_lead_status_ip"),
        gdpr_lead_communications=reader.integer("gdpr_lead_communications"),
        custom_fields=custom_fields,
        tags=_tags(reader.raw("tags")),
        lists=_lists(reader.raw("lists")),
        sequences=_sequences(reader.raw("sequences")),
        memberships=memberships,
        # An undocumented GDPR date format we could not read is kept raw rather than lost.
        extra=_with_unread_date(reader.extra(), gdpr_date_raw, gdpr_date),
    )
    return profile


def _with_unread_date(
    extra: Mapping[str, Any], raw: object, parsed: datetime | None
) -> Mapping[str, Any]:
    if parsed is not None or to_text(raw, "lead.gdpr_lead_status_date") is None:
        return extra
    return MappingProxyType({**extra, "gdpr_lead_status_date": raw})
