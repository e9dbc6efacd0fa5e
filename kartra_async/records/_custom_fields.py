"""Custom fields: the account's definitions and a lead's values."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from ._enums import CustomFieldType
from ._values import EMPTY_EXTRA, FieldReader, RecordFormatError, items_of, to_text


@attrs.frozen
class CustomFieldOption:
    """One option of a drop-down, radio-button or checkbox field."""

    option_id: int
    value: str | None


@attrs.frozen
class CustomFieldDefinition:
    """A custom field defined in the account (``retrieve_custom_fields``).

    ``type`` is a :class:`CustomFieldType`, or the raw text if Kartra adds a kind.
    """

    field_id: int | None
    identifier: str
    type: CustomFieldType | str | None
    options: tuple[CustomFieldOption, ...] = ()
    extra: Mapping[str, Any] = EMPTY_EXTRA


@attrs.frozen
class CustomFieldValue:
    """A lead's value for one custom field.

    ``value`` is text for input fields and text areas, and the chosen options (possibly none)
    for drop-downs, radio buttons and checkboxes.
    """

    identifier: str
    field_id: int | None
    type: CustomFieldType | str | None
    value: str | tuple[CustomFieldOption, ...]
    extra: Mapping[str, Any] = EMPTY_EXTRA


def _option(item: object, path: str) -> CustomFieldOption:
    reader = FieldReader(item, path)
    return CustomFieldOption(
        option_id=reader.required_integer("option_id", "id"),
        value=reader.text("option_value", "option_name", "value"),
    )


def parse_options(value: object, path: str) -> tuple[CustomFieldOption, ...]:
    """A list of ``{option_id, option_value}``: custom field options, survey answers."""
    return tuple(_option(item, item_path) for item_path, item in items_of(value, path))


def _identifier(reader: FieldReader) -> str:
    identifier = reader.text("field_identifier", "identifier", "custom_field_identifier")
    if identifier is None:
        raise RecordFormatError(reader.name("field_identifier"), "missing")
    return identifier


def parse_custom_field_definition(data: object, path: str = "") -> CustomFieldDefinition:
    """Read one item of ``retrieve_custom_fields``."""
    reader = FieldReader(data, path)
    return CustomFieldDefinition(
        field_id=reader.integer("field_id", "id"),
        identifier=_identifier(reader),
        type=reader.enum(CustomFieldType, "field_type", "type", "custom_field_type"),
        options=parse_options(
            reader.raw("field_value", "options", "custom_field_options"), reader.name("field_value")
        ),
        extra=reader.extra(),
    )


def parse_custom_field_definitions(items: Any) -> tuple[CustomFieldDefinition, ...]:
    """Read ``retrieve_custom_fields``' ``custom_fields`` list (absent or empty → ``()``)."""
    return tuple(
        parse_custom_field_definition(item, path) for path, item in items_of(items, "custom_fields")
    )


def parse_custom_field_value(data: object, path: str = "") -> CustomFieldValue:
    """Read one item of a lead's ``custom_fields`` (get_lead or an outbound event)."""
    reader = FieldReader(data, path)
    field_type = reader.enum(CustomFieldType, "field_type", "type")
    raw = reader.raw("field_value", "value")
    name = reader.name("field_value")
    value: str | tuple[CustomFieldOption, ...]
    if isinstance(raw, (list, tuple, Mapping)):
        value = parse_options(raw, name)
    elif (
        isinstance(field_type, CustomFieldType)
        and field_type.has_options
        and (raw is None or raw == "")
    ):
        value = ()
    else:
        # A text field's value is kept verbatim, "N/A" included: it is what the lead typed.
        value = raw if isinstance(raw, str) else (to_text(raw, name) or "")
    return CustomFieldValue(
        identifier=_identifier(reader),
        field_id=reader.integer("field_id", "id"),
        type=field_type,
        value=value,
        extra=reader.extra(),
    )
