"""What an account accepts: its custom fields (with their options), tags, lists and sequences.

Kartra silently ignores a custom field it does not know and answers an unknown tag, list or
sequence only after the lead was written, so a typo is lost data or a half-applied chain. An
``AccountSchema`` is built from the four inventory replies (``KartraClient.account_schema``) or
from a saved JSON file, and is pure: ``values`` turns option *names* into the ids Kartra wants,
``check`` refuses a call naming anything the account does not have, before it is sent.

An inventory that was not loaded (``None``) is not checked: ``custom_field_schema`` loads only the
custom fields, so tags, lists and sequences then pass unchecked.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any, Final

import attrs

from ._actions import (
    AssignTag,
    SubscribeToList,
    SubscribeToSequence,
    UnassignTag,
    UnsubscribeFromList,
    UnsubscribeFromSequence,
)
from ._builder import Call, LeadCall
from ._errors import UsageError, ValidationError
from ._model import CustomField, CustomFieldValue, check_text
from .records import CustomFieldDefinition

SCHEMA_FORMAT: Final = "kartra-async-account-schema/1"
_OPTION_KINDS: Final = frozenset({"drop_down", "radio_button", "checkbox"})
_DIGITS: Final = re.compile(r"[0-9]+")
# Error messages list at most this many allowed values: enough to spot a typo.
_SHOWN: Final = 20


def _shown(items: Iterable[str]) -> str:
    items = list(items)
    head = ", ".join(items[:_SHOWN])
    return head + (f", … ({len(items) - _SHOWN} more)" if len(items) > _SHOWN else "")


@attrs.frozen
class CustomFieldSchema:
    """One custom field: its identifier, kind and (for option kinds) its options in order.

    ``options`` is a tuple of ``(option_id, name)`` pairs; ``name`` may be None when Kartra gave
    an option without a value. ``kind`` is the ``custom_field_type`` text (``input_field``,
    ``text_area``, ``drop_down``, ``radio_button``, ``checkbox``, or a kind Kartra adds later,
    whose values are then passed through unchecked).
    """

    identifier: str
    kind: str
    options: tuple[tuple[int, str | None], ...] = ()
    field_id: int | None = None

    @property
    def has_options(self) -> bool:
        """True for drop-downs, radio buttons and checkboxes (sent as option ids)."""
        return self.kind in _OPTION_KINDS

    @property
    def option_ids(self) -> frozenset[int]:
        """The ids of the field's options."""
        return frozenset(ident for ident, _ in self.options)

    def allowed(self) -> str:
        """The allowed options as text for messages: ``'blue' (1), 'brown' (2)``."""
        return _shown(
            f"{name!r} ({ident})" if name is not None else str(ident)
            for ident, name in self.options
        )

    def option_id(self, value: object, *, field: str | None = None) -> int:
        """An option given by id (int or digits) or by name (case-insensitive), checked."""
        where = field or self.identifier
        if isinstance(value, int) and not isinstance(value, bool):
            option = value
        elif isinstance(value, str) and _DIGITS.fullmatch(value.strip()):
            option = int(value.strip())
        elif isinstance(value, str):
            wanted = value.strip().casefold()
            for ident, name in self.options:
                if name is not None and name.strip().casefold() == wanted:
                    return ident
            raise ValidationError(
                where, f"{value[:80]!r} is not an option of this field (allowed: {self.allowed()})"
            )
        else:
            raise ValidationError(where, f"an option must be a name or an id, not {value!r}")
        if option not in self.option_ids:
            raise ValidationError(
                where, f"{option} is not an option id of this field (allowed: {self.allowed()})"
            )
        return option

    def resolve(self, value: object, *, field: str | None = None) -> CustomFieldValue:
        """The value Kartra wants for ``value``: text, an option id, or a tuple of option ids.

        Drop-downs and radio buttons take one option (name or id); checkboxes a list of them
        (or one). ``""`` clears the field whatever its kind. ``field`` names the field in errors
        (default: the identifier).
        """
        where = field or self.identifier
        if value == "":
            return ""
        if not self.has_options:
            if isinstance(value, int) and not isinstance(value, bool):
                return str(value)
            if not isinstance(value, str):
                raise ValidationError(
                    where, f"is a {self.kind} field: give text, not {type(value).__name__}"
                )
            return check_text(where, value)
        many = isinstance(value, (list, tuple))
        parts: list[object] = list(value) if isinstance(value, (list, tuple)) else [value]
        if self.kind == "checkbox":
            return tuple(
                self.option_id(part, field=f"{where}[{i}]" if many else where)
                for i, part in enumerate(parts)
            )
        if len(parts) != 1:
            raise ValidationError(where, f"takes one option, got {len(parts)}")
        return self.option_id(parts[0], field=where)

    def check(self, value: CustomFieldValue, *, field: str | None = None) -> None:
        """Raise ``ValidationError`` unless ``value`` (as sent) suits this field."""
        where = field or self.identifier
        if value == "" or self.kind not in (*_OPTION_KINDS, "input_field", "text_area"):
            return
        if not self.has_options:
            if isinstance(value, tuple):
                raise ValidationError(where, f"is a {self.kind} field: give text, not options")
            return
        if isinstance(value, str):
            raise ValidationError(
                where,
                f"is a {self.kind} field: give option ids (or names through "
                f"AccountSchema.values); allowed: {self.allowed()}",
            )
        if isinstance(value, int):
            if self.kind == "checkbox":
                value = (value,)
            else:
                self.option_id(value, field=where)
                return
        if self.kind != "checkbox" and len(value) != 1:
            raise ValidationError(where, f"takes one option, got {len(value)}")
        for index, option in enumerate(value):
            self.option_id(option, field=f"{where}[{index}]")

    def as_json(self) -> dict[str, Any]:
        """The field as JSON values."""
        return {
            "identifier": self.identifier,
            "type": self.kind,
            "field_id": self.field_id,
            "options": [{"id": ident, "name": name} for ident, name in self.options],
        }

    @classmethod
    def from_definition(cls, definition: CustomFieldDefinition) -> CustomFieldSchema:
        """From one entry of ``retrieve_custom_fields``."""
        kind = definition.type
        return cls(
            identifier=definition.identifier,
            kind=str(getattr(kind, "value", kind) or ""),
            options=tuple((option.option_id, option.value) for option in definition.options),
            field_id=definition.field_id,
        )


def _names(value: Iterable[str] | None) -> frozenset[str] | None:
    return None if value is None else frozenset(value)


def _fields(value: Iterable[CustomFieldSchema] | Mapping[str, CustomFieldSchema]) -> dict[str, Any]:
    items = value.values() if isinstance(value, Mapping) else value
    return {field.identifier: field for field in items}


@attrs.frozen
class AccountSchema:
    """An account's custom fields, tags, lists and sequences; ``None`` means "not loaded".

    ::

        schema = await client.account_schema()
        lead = LeadRequest(email="a@b.co", custom_fields=schema.values(colour="blue"))
        schema.check(lead.create().assign_tag("VIP"))   # ValidationError if "VIP" is unknown
    """

    custom_fields: Mapping[str, CustomFieldSchema] = attrs.field(factory=dict, converter=_fields)
    tags: frozenset[str] | None = attrs.field(default=None, converter=_names)
    lists: frozenset[str] | None = attrs.field(default=None, converter=_names)
    sequences: frozenset[str] | None = attrs.field(default=None, converter=_names)

    @classmethod
    def from_inventory(
        cls,
        custom_fields: Iterable[CustomFieldDefinition],
        *,
        tags: Iterable[str] | None = None,
        lists: Iterable[str] | None = None,
        sequences: Iterable[str] | None = None,
    ) -> AccountSchema:
        """From the replies of ``retrieve_custom_fields`` and the three account inventories."""
        return cls(
            [CustomFieldSchema.from_definition(d) for d in custom_fields],
            tags=tags,
            lists=lists,
            sequences=sequences,
        )

    def field(self, identifier: str, *, field: str | None = None) -> CustomFieldSchema:
        """The custom field ``identifier``; ``ValidationError`` listing the known ones if absent."""
        found = self.custom_fields.get(identifier)
        if found is None:
            raise ValidationError(
                field or identifier,
                "no such custom field in the account (Kartra would silently ignore it); "
                f"known: {_shown(sorted(self.custom_fields)) or 'none'}",
            )
        return found

    def values(self, **fields: object) -> tuple[CustomField, ...]:
        """Custom field values by identifier, option names resolved to ids, for ``LeadRequest``.

        ``schema.values(colour="blue", interests=["email", "video"])`` →
        ``(CustomField("colour", 1), CustomField("interests", (7, 8)))``.
        """
        return tuple(
            CustomField(identifier, self.field(identifier).resolve(value))
            for identifier, value in fields.items()
        )

    def check(self, call: Call) -> None:
        """Raise ``ValidationError`` if ``call`` names a custom field, option, tag, list or
        sequence the account does not have. Calls about no lead pass."""
        if not isinstance(call, LeadCall):
            return
        for item in call.lead.custom_fields:
            where = f"custom_fields[{item.identifier}]"
            self.field(item.identifier, field=where).check(item.value, field=where)
        for index, action in enumerate(call.actions):
            where = f"actions[{index}]"
            if isinstance(action, (AssignTag, UnassignTag)):
                _known(where, "tag", action.tag_name, self.tags)
            elif isinstance(action, (SubscribeToList, UnsubscribeFromList)):
                _known(where, "list", action.list_name, self.lists)
            elif isinstance(action, (SubscribeToSequence, UnsubscribeFromSequence)):
                _known(where, "sequence", action.sequence_name, self.sequences)

    def to_json(self) -> str:
        """The schema as JSON text (``from_json`` reads it back), for offline use."""
        return json.dumps(
            {
                "format": SCHEMA_FORMAT,
                "custom_fields": [field.as_json() for field in self.custom_fields.values()],
                "tags": None if self.tags is None else sorted(self.tags),
                "lists": None if self.lists is None else sorted(self.lists),
                "sequences": None if self.sequences is None else sorted(self.sequences),
            },
            ensure_ascii=False,
            indent=1,
        )

    @classmethod
    def from_json(cls, text: str | bytes) -> AccountSchema:
        """A schema saved by ``to_json``; ``UsageError`` naming the problem if it is not one."""
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise UsageError(f"not an account schema: invalid JSON ({exc})") from None
        if not isinstance(data, dict) or data.get("format") != SCHEMA_FORMAT:
            raise UsageError(f"not an account schema (expected format {SCHEMA_FORMAT!r})")
        try:
            fields = [
                CustomFieldSchema(
                    identifier=str(item["identifier"]),
                    kind=str(item["type"]),
                    options=tuple(
                        (int(option["id"]), None if option["name"] is None else str(option["name"]))
                        for option in item.get("options", ())
                    ),
                    field_id=None if item.get("field_id") is None else int(item["field_id"]),
                )
                for item in data["custom_fields"]
            ]
            names = {
                key: None if data.get(key) is None else [str(name) for name in data[key]]
                for key in ("tags", "lists", "sequences")
            }
        except (KeyError, TypeError, ValueError) as exc:
            raise UsageError(f"not an account schema: {type(exc).__name__}: {exc}") from None
        return cls(fields, **names)


def _known(where: str, kind: str, name: str, known: frozenset[str] | None) -> None:
    if known is not None and name not in known:
        raise ValidationError(
            where,
            f"the account has no {kind} {name!r} (Kartra cannot create it through the API); "
            f"known: {_shown(sorted(map(repr, known))) or 'none'}",
        )
