"""Commands that act on the call's lead: the three openers, tags, lists, points, sequences,
calendars. Each validates everything first and only then mutates, so a failed command leaves
nothing behind (``Fail`` carries the Kartra code)."""

from __future__ import annotations

import re
from datetime import datetime

from .._form import PhpArray, PhpValue
from ._base import Command, Context, Data, Fail, integer, text
from ._state import CHOICE_TYPES, EASTERN, WRITABLE_FIELDS, Booking, Lead, SandboxAccount

_STEP = re.compile(r"[A-Za-z0-9]+").fullmatch


# --- lead lookup and profile data -----------------------------------------------------------


def find_lead(account: SandboxAccount, lead_form: PhpArray, *, missing: int = 243) -> Lead:
    """The lead named by ``lead[id]`` or ``lead[email]`` (id wins); 206, ``missing`` or 245."""
    raw_id = text(lead_form, "id")
    email = text(lead_form, "email")
    if not raw_id and not email:
        raise Fail(206)
    if raw_id:
        number = integer(raw_id)
        lead = account.lead_by_id(number) if number is not None else None
    else:
        lead = account.lead_by_email(email)
    if lead is None:
        raise Fail(missing)
    if lead.deleted is not None:
        raise Fail(245)
    return lead


def _custom_values(
    account: SandboxAccount, raw: PhpValue | None
) -> dict[int, str | tuple[int, ...] | None]:
    """Validate ``lead[custom_fields]``: field id -> new value (None clears); 271 if malformed.

    Unknown identifiers are silently ignored, as Kartra documents.
    """
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise Fail(271)
    changes: dict[int, str | tuple[int, ...] | None] = {}
    for entry in raw.values():
        if not isinstance(entry, dict):
            raise Fail(271)
        identifier = entry.get("field_identifier")
        if not isinstance(identifier, str) or "field_value" not in entry:
            raise Fail(271)
        field = account.custom_fields.get(identifier)
        if field is None:
            continue
        value = entry["field_value"]
        if value == "":
            changes[field.id] = None
        elif field.type not in CHOICE_TYPES:
            if not isinstance(value, str):
                raise Fail(271)
            changes[field.id] = value
        elif field.type == "checkbox":
            if not isinstance(value, dict):
                raise Fail(271)
            chosen = [_option(field.options, item) for item in value.values()]
            changes[field.id] = tuple(sorted(set(chosen)))
        else:
            changes[field.id] = (_option(field.options, value),)
    return changes


def _option(options: dict[int, str], value: PhpValue) -> int:
    number = integer(value.strip()) if isinstance(value, str) else None
    if number is None or number not in options:
        raise Fail(271)
    return number


def _profile_changes(lead_form: PhpArray) -> dict[str, str]:
    return {
        name: value.strip()
        for name, value in lead_form.items()
        if isinstance(name, str) and name in WRITABLE_FIELDS and isinstance(value, str)
    }


def _apply(
    lead: Lead, fields: dict[str, str], custom: dict[int, str | tuple[int, ...] | None]
) -> None:
    for name, text_value in fields.items():
        lead.set_field(name, text_value)
    for field_id, value in custom.items():
        if not value:
            if lead.custom:
                lead.custom.pop(field_id, None)
        else:
            if lead.custom is None:
                lead.custom = {}
            lead.custom[field_id] = value


def create_lead(ctx: Context, params: PhpArray) -> Data:
    """``create_lead``: 206 without email, 244 email taken, 245 email of a deleted lead, 271.

    In Test Mode the lead is stored (and collides) under its ``@kartra.com`` address.
    """
    email = text(ctx.lead_form, "email")
    if not email:
        raise Fail(206)
    email = ctx.stored_email(email)
    existing = ctx.account.lead_by_email(email)
    if existing is not None:
        raise Fail(245 if existing.deleted is not None else 244)
    custom = _custom_values(ctx.account, ctx.lead_form.get("custom_fields"))
    lead = ctx.account.add_lead(email)
    _apply(lead, _profile_changes(ctx.lead_form), custom)
    ctx.lead = lead
    return {"lead_details": {"id": str(lead.id)}}


def edit_lead(ctx: Context, params: PhpArray) -> Data:
    """``edit_lead``: only sent fields change, ``""`` clears; ``new_email`` taken -> 244."""
    lead = find_lead(ctx.account, ctx.lead_form)
    new_email = text(ctx.lead_form, "new_email")
    if new_email:
        new_email = ctx.stored_email(new_email)
    renamed = bool(new_email) and new_email.lower() != lead.email.lower()
    if renamed and ctx.account.lead_by_email(new_email) is not None:
        raise Fail(244)
    custom = _custom_values(ctx.account, ctx.lead_form.get("custom_fields"))
    if new_email and new_email != lead.email:
        ctx.account.change_email(lead, new_email)
    _apply(lead, _profile_changes(ctx.lead_form), custom)
    ctx.lead = lead
    return {"lead_details": {"id": str(lead.id)}}


#: search_lead's success message (the lead article's flat example, docs/kartra-api.md#commands).
LEAD_FOUND = "Lead found"


def search_lead(ctx: Context, params: PhpArray) -> Data:
    """``search_lead``: the lead's id, or 243/245."""
    lead = find_lead(ctx.account, ctx.lead_form)
    ctx.lead = lead
    return {"message": LEAD_FOUND, "lead_details": {"id": str(lead.id)}}


# --- tags and lists ---------------------------------------------------------------------------


def _named(
    params: PhpArray, key: str, known: dict[str, int], empty: int, unknown: int
) -> tuple[int, str]:
    """The id and name of an existing tag or list named by ``params[key]``, or its error code."""
    name = text(params, key)
    if not name:
        raise Fail(empty)
    found = known.get(name)
    if found is None:
        raise Fail(unknown)
    return found, name


def _tag(ctx: Context, params: PhpArray, empty: int, unknown: int) -> tuple[int, str]:
    return _named(params, "tag_name", ctx.account.tags, empty, unknown)


def assign_tag(ctx: Context, params: PhpArray) -> Data:
    """``assign_tag``: 211 empty, 212 unknown; assigning a tag the lead has is a no-op."""
    tag_id, name = _tag(ctx, params, 211, 212)
    lead = ctx.subject()
    if lead.tags is None:
        lead.tags = []
    if tag_id not in lead.tags:
        lead.tags.append(tag_id)
        ctx.event("assign_tag", {"tag": {"tag_id": str(tag_id), "tag_name": name}})
    return {}


def unassign_tag(ctx: Context, params: PhpArray) -> Data:
    """``unassign_tag``: 213 empty, 214 unknown; a tag the lead lacks is ignored."""
    tag_id, name = _tag(ctx, params, 213, 214)
    lead = ctx.subject()
    if lead.tags and tag_id in lead.tags:
        lead.tags.remove(tag_id)
        ctx.event("unassign_tag", {"tag": {"tag_id": str(tag_id), "tag_name": name}})
    return {}


def _list(ctx: Context, params: PhpArray, empty: int, unknown: int) -> tuple[int, str]:
    return _named(params, "list_name", ctx.account.lists, empty, unknown)


def subscribe_lead_to_list(ctx: Context, params: PhpArray) -> Data:
    """``subscribe_lead_to_list``: 207 empty, 231 unknown."""
    list_id, name = _list(ctx, params, 207, 231)
    lead = ctx.subject()
    if lead.lists is None:
        lead.lists = {}
    if lead.lists.get(list_id) != 1:
        lead.lists[list_id] = 1
        ctx.event("list_subscription", {"list": {"list_id": str(list_id), "list_name": name}})
    return {}


def unsubscribe_lead_from_list(ctx: Context, params: PhpArray) -> Data:
    """``unsubscribe_lead_from_list``: 208 empty, 209 unknown; the row stays with active 0."""
    list_id, name = _list(ctx, params, 208, 209)
    lead = ctx.subject()
    if lead.lists and lead.lists.get(list_id) == 1:
        lead.lists[list_id] = 0
        ctx.event("list_unsubscription", {"list": {"list_id": str(list_id), "list_name": name}})
    return {}


# --- points -----------------------------------------------------------------------------------


def _points(params: PhpArray, empty: int, not_number: int) -> int:
    raw = text(params, "points")
    if not raw:
        raise Fail(empty)
    points = integer(raw)
    if points is None:
        raise Fail(not_number)
    return points


def give_points_to_lead(ctx: Context, params: PhpArray) -> Data:
    """``give_points_to_lead``: 215 empty, 227 not a number (also for a bad ``expiration``)."""
    points = _points(params, 215, 227)
    raw_days = text(params, "expiration")
    days = integer(raw_days) if raw_days else 0
    if days is None:
        raise Fail(227)
    lead = ctx.subject()
    lead.current_score(ctx.now)
    lead.score += points
    if days > 0:
        if lead.grants is None:
            lead.grants = []
        lead.grants.append((points, ctx.now + days * 86400))
    return {}


def remove_points_from_lead(ctx: Context, params: PhpArray) -> Data:
    """``remove_points_from_lead``: 217 empty, 228 not a number."""
    points = _points(params, 217, 228)
    lead = ctx.subject()
    lead.current_score(ctx.now)
    lead.score -= points
    return {}


# --- sequences --------------------------------------------------------------------------------


def subscribe_lead_to_sequence_at_step(ctx: Context, params: PhpArray) -> Data:
    """226 no sequence, 225 no step, 219 unknown sequence, 229 step not alphanumeric, 230."""
    name = text(params, "sequence_name")
    if not name:
        raise Fail(226)
    step = text(params, "step")
    if not step:
        raise Fail(225)
    sequence = ctx.account.sequences.get(name)
    if sequence is None:
        raise Fail(219)
    if not _STEP(step):
        raise Fail(229)
    if step not in sequence.steps:
        raise Fail(230)
    lead = ctx.subject()
    if lead.sequences is None:
        lead.sequences = {}
    lead.sequences[sequence.id] = [step, "active"]
    details = {"sequence": {"sequence_id": str(sequence.id), "sequence_name": name}}
    ctx.event("sequence_subscription", details)
    return {}


def unsubscribe_lead_from_sequence(ctx: Context, params: PhpArray) -> Data:
    """226 no sequence, 220 unknown sequence; the row stays with status ``unsubscribed``."""
    name = text(params, "sequence_name")
    if not name:
        raise Fail(226)
    sequence = ctx.account.sequences.get(name)
    if sequence is None:
        raise Fail(220)
    lead = ctx.subject()
    row = (lead.sequences or {}).get(sequence.id)
    if row is not None and row[1] == "active":
        row[1] = "unsubscribed"
        details = {"sequence": {"sequence_id": str(sequence.id), "sequence_name": name}}
        ctx.event("sequence_unsubscription", details)
    return {}


# --- calendars --------------------------------------------------------------------------------


def _calendar_class(ctx: Context, params: PhpArray) -> tuple[int, int]:
    calendar_name = text(params, "calendar_name")
    if not calendar_name:
        raise Fail(255)
    class_name = text(params, "class_name")
    if not class_name:
        raise Fail(256)
    calendar = ctx.account.calendars.get(calendar_name)
    if calendar is None:
        raise Fail(257)
    klass = calendar.classes.get(class_name)
    if klass is None:
        raise Fail(258)
    return calendar.id, klass.id


def _start(ctx: Context, params: PhpArray) -> str:
    """``starting_date`` (``DD Mmm YYYY``) + ``starting_hour`` (``HH:MM``), Eastern; 260/261."""
    day = text(params, "starting_date")
    hour = text(params, "starting_hour")
    if not day and not hour:
        return ""
    try:
        start = datetime.strptime(f"{day} {hour}", "%d %b %Y %H:%M").replace(tzinfo=EASTERN)
    except ValueError:
        raise Fail(260) from None
    if start.timestamp() < ctx.now:
        raise Fail(261)
    return start.strftime("%Y-%m-%d %H:%M")


def _calendar_details(ctx: Context, booking: Booking) -> dict[str, object]:
    calendar = ctx.account.calendar_by_id(booking.calendar_id)
    class_name = next(k.name for k in calendar.classes.values() if k.id == booking.class_id)
    return {
        "calendar": {
            "calendar_id": str(calendar.id),
            "calendar_name": calendar.name,
            "class_id": str(booking.class_id),
            "class_name": class_name,
            "hosts": [dict(host) for host in calendar.hosts],
            "vendor_timezone": calendar.vendor_timezone,
            "calendar_subscription_id": str(booking.id),
            "events": [{"event_start": f"{booking.start}:00"}] if booking.start else [],
        }
    }


def calendar_subscribe(ctx: Context, params: PhpArray) -> Data:
    """255 256 257 258, then 260 bad date/hour, 261 in the past (both optional together)."""
    calendar_id, class_id = _calendar_class(ctx, params)
    start = _start(ctx, params)
    lead = ctx.subject()
    booking = Booking(ctx.account.new_id("booking"), calendar_id, class_id, start)
    if lead.bookings is None:
        lead.bookings = []
    lead.bookings.append(booking)
    ctx.event("calendar_subscribe", _calendar_details(ctx, booking))
    return {}


def calendar_cancel(ctx: Context, params: PhpArray) -> Data:
    """255 256 257 258, 259 when the lead has no active booking of that class."""
    calendar_id, class_id = _calendar_class(ctx, params)
    lead = ctx.subject()
    active = [
        booking
        for booking in lead.bookings or ()
        if booking.calendar_id == calendar_id
        and booking.class_id == class_id
        and booking.status == "active"
    ]
    if not active:
        raise Fail(259)
    for booking in active:
        booking.status = "cancelled"
        ctx.event("calendar_cancel", _calendar_details(ctx, booking))
    return {}


#: Lead-scoped commands other than the openers.
LEAD_COMMANDS: dict[str, Command] = {
    "assign_tag": Command(assign_tag, True),
    "unassign_tag": Command(unassign_tag, True),
    "subscribe_lead_to_list": Command(subscribe_lead_to_list, True),
    "unsubscribe_lead_from_list": Command(unsubscribe_lead_from_list, True),
    "give_points_to_lead": Command(give_points_to_lead, True),
    "remove_points_from_lead": Command(remove_points_from_lead, True),
    "subscribe_lead_to_sequence_at_step": Command(subscribe_lead_to_sequence_at_step, True),
    "unsubscribe_lead_from_sequence": Command(unsubscribe_lead_from_sequence, True),
    "calendar_subscribe": Command(calendar_subscribe, True),
    "calendar_cancel": Command(calendar_cancel, True),
}

#: The commands that must be ``actions[0]`` and establish the lead themselves.
OPENERS: dict[str, Command] = {
    "create_lead": Command(create_lead, False),
    "edit_lead": Command(edit_lead, False),
    "search_lead": Command(search_lead, False),
}

__all__ = ["LEAD_COMMANDS", "LEAD_FOUND", "OPENERS", "find_lead"]
