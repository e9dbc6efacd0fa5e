"""Account-level inventory commands: custom field creation and the ``retrieve_*`` family."""

from __future__ import annotations

import re

from .._form import PhpArray
from ._base import Command, Context, Data, Fail, text
from ._state import CHOICE_TYPES, CUSTOM_FIELD_TYPES, LEAD_FIELDS, CustomField
from ._views import custom_field_values

_IDENTIFIER = re.compile(r"[A-Za-z0-9_-]+").fullmatch
#: Identifiers Kartra would not allow because they name built-in lead fields (-> 264).
_RESERVED = frozenset(LEAD_FIELDS) | {"id", "new_email", "custom_fields", "score"}


def create_custom_field(ctx: Context, params: PhpArray) -> Data:
    """265 empty, 263 bad characters, 264 exists/reserved, 269 bad type, 270 272 273 options."""
    identifier = text(params, "custom_field_identifier")
    if not identifier:
        raise Fail(265)
    if not _IDENTIFIER(identifier):
        raise Fail(263)
    if identifier in ctx.account.custom_fields or identifier.lower() in _RESERVED:
        raise Fail(264)
    kind = text(params, "custom_field_type")
    if kind not in CUSTOM_FIELD_TYPES:
        raise Fail(269)
    names: list[str] = []
    if kind in CHOICE_TYPES:
        raw = params.get("custom_field_options")
        if not isinstance(raw, dict):
            raise Fail(270)
        for option in raw.values():
            name = text(option, "option_name") if isinstance(option, dict) else ""
            if not name:
                raise Fail(272)
            names.append(name)
        if len(names) < 2:
            raise Fail(273)
    field = CustomField(ctx.account.new_id("custom_field"), identifier, kind)
    for name in names:
        field.options[ctx.account.new_id("option")] = name
    ctx.account.custom_fields[identifier] = field
    return {}


def retrieve_custom_fields(ctx: Context, params: PhpArray) -> Data:
    """Every custom field; ids as strings, options only for choice types.

    See docs/kartra-api.md#custom-fields.
    """
    fields = []
    for field in ctx.account.custom_fields.values():
        item: dict[str, object] = {
            "field_id": str(field.id),
            "field_identifier": field.identifier,
            "field_type": field.type,
        }
        if field.type in CHOICE_TYPES:
            item["field_value"] = [
                {"option_id": str(option), "option_value": name}
                for option, name in field.options.items()
            ]
        fields.append(item)
    return {"custom_fields": fields}


def retrieve_account_lists(ctx: Context, params: PhpArray) -> Data:
    """List names."""
    return {"account_lists": list(ctx.account.lists)}


def retrieve_account_tags(ctx: Context, params: PhpArray) -> Data:
    """Tag names."""
    return {"account_tags": list(ctx.account.tags)}


def retrieve_account_sequences(ctx: Context, params: PhpArray) -> Data:
    """Sequence names."""
    return {"account_sequences": list(ctx.account.sequences)}


def retrieve_account_pages(ctx: Context, params: PhpArray) -> Data:
    """Page names, like its three siblings (the article was never captured: [INF])."""
    return {"account_pages": list(ctx.account.pages)}


#: Data keys that are also copied to the top level of a reply (docs/kartra-api.md#reply-shapes).
HOISTED_KEYS: frozenset[str] = frozenset(
    {"account_lists", "account_tags", "account_sequences", "account_pages", "custom_fields"}
)

ACCOUNT_COMMANDS: dict[str, Command] = {
    "create_custom_field": Command(create_custom_field, False),
    "retrieve_custom_fields": Command(retrieve_custom_fields, False),
    "retrieve_account_lists": Command(retrieve_account_lists, False),
    "retrieve_account_tags": Command(retrieve_account_tags, False),
    "retrieve_account_sequences": Command(retrieve_account_sequences, False),
    "retrieve_account_pages": Command(retrieve_account_pages, False),
}

__all__ = ["ACCOUNT_COMMANDS", "HOISTED_KEYS", "custom_field_values"]
