"""From a row's cells to a ``LeadRequest`` and the call the import sends for it.

Columns named like Kartra's lead fields map directly (case-insensitive; spaces and hyphens
count as underscores, so ``First Name`` is ``first_name``); ``cf:<identifier>`` columns are
custom fields; ``--map "Header=field"`` renames any other column, and ``--map "Header="`` ignores
it. An empty cell (or a JSON ``null``) leaves the field unchanged: it is not sent at all.

Custom field values follow the field's type in the account's ``AccountSchema`` (the public
API: ``KartraClient.account_schema``): text for input fields and text areas, an option id *or
option name* for drop-downs and radio buttons, and ids or names separated by ``|`` for
checkboxes. Without a schema (an offline ``--dry-run``) values are checked for shape only, and
nothing that depends on the account is reported.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, Final

import attrs

from .._builder import LEAD_TEXT_FIELDS, LeadCall, LeadRequest, UpsertCall
from .._errors import UsageError, ValidationError
from .._model import CustomField, CustomFieldValue, check_identifier, check_int, check_text
from .._schema import AccountSchema
from ._source import short

CF_PREFIX: Final = "cf:"
MODES: Final = ("create", "edit", "upsert")
#: Every lead field a column may name (besides ``cf:<identifier>``).
LEAD_COLUMNS: Final = frozenset(
    {"email", "id", "lead_preferred_time_zone", "business_type", *LEAD_TEXT_FIELDS}
)
#: The columns a rejects file adds (why each row was rejected); an import ignores them, so a
#: fixed rejects file imports as it is.
REJECT_COLUMNS: Final = ("reason", "field", "failure")
_INT_COLUMNS: Final = frozenset({"id", "business_type"})
_DIGITS = re.compile(r"[0-9]+")


def normalise_header(name: str) -> str:
    """The lead field a header names, if it is one: ``First Name`` → ``first_name``."""
    if name.strip().lower().startswith(CF_PREFIX):
        stripped = name.strip()
        return CF_PREFIX + stripped[len(CF_PREFIX) :].strip()
    return re.sub(r"[\s-]+", "_", name.strip().lower())


def parse_map_option(items: Iterable[str]) -> dict[str, str]:
    """``--map`` values (``Header=field``) as a dict; an empty field means "ignore the column"."""
    mapping: dict[str, str] = {}
    for item in items:
        header, sep, target = item.partition("=")
        header, target = header.strip(), target.strip()
        if not sep or not header:
            raise UsageError(f"--map {item!r}: expected 'Header=field' (or 'Header=' to ignore it)")
        if target:
            target = normalise_header(target)
            if target not in LEAD_COLUMNS and not target.startswith(CF_PREFIX):
                raise UsageError(
                    f"--map {item!r}: {target!r} is not a lead field or 'cf:<identifier>'"
                )
        mapping[header] = target
    return mapping


#: Column names whose targets a plan remembers (a CSV header is bounded well below this).
_MAX_CACHED_COLUMNS: Final = 10_000


@attrs.frozen
class ColumnPlan:
    """How each column name becomes a lead field, a custom field, or nothing."""

    overrides: Mapping[str, str] = attrs.field(factory=dict)
    # Each column's target, worked out once per run (a file repeats the same few columns on
    # every row): the plan is compiled as it meets the columns, not per cell.
    _targets: dict[str, str | None] = attrs.field(
        factory=dict, init=False, repr=False, eq=False, alias="_targets"
    )

    def target(self, column: str) -> str | None:
        """The field ``column`` fills; ``""`` for an ignored column; None if unknown."""
        try:
            return self._targets[column]
        except KeyError:
            target = self._resolve(column)
            if len(self._targets) < _MAX_CACHED_COLUMNS:  # JSONL rows may invent keys
                self._targets[column] = target
            return target

    def _resolve(self, column: str) -> str | None:
        if column in self.overrides:
            return self.overrides[column]
        if column in REJECT_COLUMNS:
            return ""
        name = normalise_header(column)
        if name in LEAD_COLUMNS or name.startswith(CF_PREFIX):
            return name
        return None

    def check_columns(self, columns: Iterable[str], schema: AccountSchema | None) -> None:
        """Refuse a header with unknown columns or unknown custom fields, before any call."""
        columns = tuple(columns)
        unknown = [column for column in columns if self.target(column) is None]
        if unknown:
            # Bounded: a million-column header must not make a megabyte message.
            names = ", ".join(short(c) for c in unknown[:10])
            if len(unknown) > 10:
                names += f" and {len(unknown) - 10} more"
            raise UsageError(
                f"unknown column(s) {names}: name them like Kartra's lead fields, use "
                "'cf:<identifier>' for custom fields, or --map 'Header=field' "
                "(--map 'Header=' ignores a column)"
            )
        targets = [self.target(column) for column in columns]
        if "email" not in targets and "id" not in targets:
            raise UsageError("the file has no 'email' column (map one with --map 'Header=email')")
        if schema is not None:
            missing = sorted(
                target[len(CF_PREFIX) :]
                for target in targets
                if target
                and target.startswith(CF_PREFIX)
                and target[len(CF_PREFIX) :] not in schema.custom_fields
            )
            if missing:
                raise UsageError(
                    f"custom field(s) {', '.join(missing)} do not exist in the account "
                    "(Kartra would silently ignore them); see 'kartra-async inventory'"
                )

    def email_of(self, values: Mapping[str, Any]) -> str | None:
        """The row's email cell, for reporting a row that is invalid (None if absent)."""
        for column, raw in values.items():
            if self.target(str(column)) == "email" and isinstance(raw, str):
                return raw.strip() or None
        return None

    def lead(self, values: Mapping[str, Any], schema: AccountSchema | None) -> LeadRequest:
        """The ``LeadRequest`` for one row; ``ValidationError`` names the first bad field."""
        fields: dict[str, Any] = {}
        custom: list[CustomField] = []
        for column, raw in values.items():
            target = self.target(str(column))
            if target is None:
                raise ValidationError(
                    str(column), "is not a lead field; map it with --map or ignore it with --map"
                )
            value = _present(raw)
            if not target or value is None:
                continue
            if target.startswith(CF_PREFIX):
                identifier = check_identifier(target, target[len(CF_PREFIX) :])
                custom.append(CustomField(identifier, _custom_value(identifier, value, schema)))
            elif target in _INT_COLUMNS:
                fields[target] = _integer(target, value)
            else:
                fields[target] = _text(target, value)
        return LeadRequest(**fields, custom_fields=custom)


def _present(raw: object) -> object | None:
    if raw is None:
        return None
    if isinstance(raw, str):
        raw = raw.strip()
        return raw or None
    if isinstance(raw, list) and not raw:
        return None
    return raw


def _text(field: str, value: object) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str):
        raise ValidationError(field, f"must be text, not {type(value).__name__}")
    if any("\udc80" <= ch <= "\udcff" for ch in value):
        raise ValidationError(field, "is not valid UTF-8 text")
    return check_text(field, value)


def _integer(field: str, value: object) -> int:
    if isinstance(value, str) and _DIGITS.fullmatch(value):
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise ValidationError(field, f"must be a whole number, got {str(value)[:80]!r}")


def _custom_value(identifier: str, value: object, schema: AccountSchema | None) -> CustomFieldValue:
    where = f"cf:{identifier}"
    parts: list[object] = list(value) if isinstance(value, list) else [value]
    if isinstance(value, str) and "|" in value:
        parts = [part.strip() for part in value.split("|") if part.strip()]
    if schema is None:
        # Offline: nothing is sent, and whether a name is an option is the account's to say.
        # Only the shape is checked; option names are kept as text.
        if all(isinstance(p, int) and not isinstance(p, bool) for p in parts) and parts:
            ints = tuple(check_int(f"{where}[{i}]", p, minimum=0) for i, p in enumerate(parts))
            return ints if len(ints) > 1 or isinstance(value, list) else ints[0]
        return "|".join(_text(f"{where}[{i}]", p) for i, p in enumerate(parts))
    field = schema.field(identifier, field=where)
    if not field.has_options:
        return field.resolve(_text(where, value), field=where)
    for index, part in enumerate(parts):
        if isinstance(part, str):
            _text(f"{where}[{index}]", part)
    return field.resolve(
        parts if len(parts) > 1 or isinstance(value, list) else parts[0], field=where
    )


@attrs.frozen
class ImportOptions:
    """What the import does with each lead: the opener and the chained actions."""

    mode: str = "upsert"
    tags: tuple[str, ...] = ()
    lists: tuple[str, ...] = ()
    sequences: tuple[tuple[str, str], ...] = ()
    points: int | None = None

    def __attrs_post_init__(self) -> None:
        if self.mode not in MODES:
            raise UsageError(f"mode: must be one of {', '.join(MODES)}, got {self.mode!r}")
        if self.points is not None:
            check_int("points", self.points, minimum=1)

    def call_for(self, lead: LeadRequest) -> LeadCall | UpsertCall:
        """The call for one lead: create/edit/upsert, then tags, lists, sequences, points."""
        if lead.email is None and (self.mode != "edit" or lead.id is None):
            raise ValidationError("email", f"is empty; --mode {self.mode} needs the lead's email")
        call: LeadCall | UpsertCall
        if self.mode == "create":
            call = lead.create()
        elif self.mode == "edit":
            call = lead.edit()
        else:
            call = lead.upsert()
        for tag in self.tags:
            call = call.assign_tag(tag)
        for list_name in self.lists:
            call = call.subscribe(list_name)
        for name, step in self.sequences:
            call = call.subscribe_to_sequence(name, step)
        if self.points is not None:
            call = call.give_points(self.points)
        return call

    def as_json(self) -> dict[str, Any]:
        """The options as JSON values, for the journal header."""
        return {
            "mode": self.mode,
            "tags": list(self.tags),
            "lists": list(self.lists),
            "sequences": [list(item) for item in self.sequences],
            "points": self.points,
        }


def parse_sequence_option(value: str) -> tuple[str, str]:
    """``--sequence NAME:STEP`` → ``(name, step)``; the step is after the last colon."""
    name, sep, step = value.rpartition(":")
    if not sep or not name.strip() or not step.strip():
        raise UsageError(f"--sequence {value!r}: expected NAME:STEP, e.g. 'Welcome:1'")
    return name.strip(), step.strip()
