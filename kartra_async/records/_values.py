"""Kartra's value quirks, read one field at a time.

Kartra is loose with types: ids and numbers arrive as strings or ints, empty values as ``"N/A"``,
"no date" as ``0000-00-00 00:00:00``, flags as ``"1"``/``"0"``, and every date is a naive
``YYYY-MM-DD HH:MM:SS`` in US Eastern time. Every reader here accepts all the readings we know of
and raises :class:`RecordFormatError` naming the field for anything it cannot interpret, so one
odd value never turns into a ``KeyError`` or ``TypeError`` deep inside a caller.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from enum import Enum
from types import MappingProxyType
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from .._base_errors import KartraError

#: Kartra states its dates in "EST"; in practice that is New York local time (EST or EDT).
KARTRA_TIME_ZONE = ZoneInfo("America/New_York")

_ABSENT_TEXT = frozenset({"", "n/a", "null", "none"})
_ZERO_DATES = re.compile(r"0000-00-00(?:[ T]00:00(?::00)?)?")
_DATE_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d")
# The IPN's gdpr_lead_status_date looks like "16 Jan 2019 10:30" (the source is truncated).
_LOOSE_DATE_FORMATS = (*_DATE_FORMATS, "%d %b %Y %H:%M:%S", "%d %b %Y %H:%M", "%d %b %Y")
_INTEGER = re.compile(r"[+-]?\d{1,30}")
_AMOUNT = re.compile(r"[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d*)?|[+-]?\.\d+")
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})

E = TypeVar("E", bound=Enum)
EMPTY_EXTRA: Mapping[str, Any] = MappingProxyType({})


class RecordFormatError(KartraError, ValueError):
    """A field of a Kartra record holds a value that cannot be interpreted.

    ``field`` is the dotted path of the offending field (``"custom_fields[2].field_id"``) and
    ``reason`` says what was wrong. The offending value itself is left out of the message: it may
    be personal data.
    """

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def is_absent(value: object) -> bool:
    """Return True for the ways Kartra says "no value": missing, null, ``""`` or ``"N/A"``."""
    return value is None or (isinstance(value, str) and value.strip().lower() in _ABSENT_TEXT)


def _kind(value: object) -> str:
    return type(value).__name__


def to_text(value: object, field: str) -> str | None:
    """A free-text value; numbers are accepted (Kartra sends zip codes and phones either way)."""
    if is_absent(value):
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return str(value)
    raise RecordFormatError(field, f"expected text, got {_kind(value)}")


def to_int(value: object, field: str) -> int | None:
    """An id, count or score: an int, an integral float, or a string of digits."""
    if is_absent(value):
        return None
    if isinstance(value, bool):
        raise RecordFormatError(field, "expected an integer, got a boolean")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        if _INTEGER.fullmatch(text):
            return int(text)
        # "12.0" is how a PHP float id sometimes prints.
        if re.fullmatch(r"[+-]?\d{1,30}\.0*", text):
            return int(text.split(".")[0])
        raise RecordFormatError(field, "expected an integer")
    raise RecordFormatError(field, f"expected an integer, got {_kind(value)}")


def require(value: Any, field: str) -> Any:
    """Fail with a field-naming error when a field the record cannot exist without is missing."""
    if value is None:
        raise RecordFormatError(field, "missing")
    return value


def to_decimal(value: object, field: str) -> Decimal | None:
    """A money amount as an exact Decimal (floats go through their shortest repr)."""
    if is_absent(value):
        return None
    if isinstance(value, bool):
        raise RecordFormatError(field, "expected an amount, got a boolean")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        amount = Decimal(repr(value))
    elif isinstance(value, str):
        text = value.strip().lstrip("$")
        if not _AMOUNT.fullmatch(text):
            raise RecordFormatError(field, "expected an amount")
        try:
            amount = Decimal(text.replace(",", ""))
        except InvalidOperation:  # pragma: no cover - the pattern admits only valid numbers
            raise RecordFormatError(field, "expected an amount") from None
    else:
        raise RecordFormatError(field, f"expected an amount, got {_kind(value)}")
    if not amount.is_finite():
        raise RecordFormatError(field, "expected a finite amount")
    return amount


def to_flag(value: object, field: str) -> bool | None:
    """A ``"1"``/``"0"`` (or int, or bool, or true/false) flag."""
    if is_absent(value):
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    raise RecordFormatError(field, "expected a 0/1 flag")


def _parse_date(text: str, formats: tuple[str, ...]) -> datetime | None:
    for fmt in formats:
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=KARTRA_TIME_ZONE)
        except ValueError:
            continue
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    # An explicit offset is trusted; a naive ISO value is Kartra's Eastern time like the rest.
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=KARTRA_TIME_ZONE)


def to_datetime(value: object, field: str) -> datetime | None:
    """A Kartra date (Eastern time, naive on the wire) as an aware datetime; zero dates are None."""
    if is_absent(value):
        return None
    if not isinstance(value, str):
        raise RecordFormatError(field, f"expected a date, got {_kind(value)}")
    text = value.strip()
    if _ZERO_DATES.fullmatch(text):
        return None
    parsed = _parse_date(text, _DATE_FORMATS)
    if parsed is None:
        raise RecordFormatError(field, "expected a date like YYYY-MM-DD HH:MM:SS")
    return parsed


def to_loose_datetime(value: object) -> datetime | None:
    """A date whose format is undocumented (GDPR dates): parsed when possible, else None."""
    if not isinstance(value, str) or is_absent(value) or _ZERO_DATES.fullmatch(value.strip()):
        return None
    return _parse_date(value.strip(), _LOOSE_DATE_FORMATS)


def _normalise(text: str) -> str:
    return " ".join(text.replace("_", " ").split()).lower()


def to_enum(value: object, enum: type[E], field: str) -> E | str | None:
    """An enum member matched case- and spacing-insensitively; unknown text is kept as text.

    Kartra adds values without notice, so an unknown value is data, not an error.
    """
    text = to_text(value, field)
    if text is None:
        return None
    wanted = _normalise(text)
    for member in enum:
        if _normalise(str(member.value)) == wanted:
            return member
    return text


def items_of(value: object, field: str) -> Iterator[tuple[str, Any]]:
    """Iterate a JSON array or a PHP array rendered as an object (``{"0": …, "1": …}``).

    Yields ``(path, item)`` so errors inside an item can name it.
    """
    if is_absent(value):
        return
    if isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            yield f"{field}[{index}]", item
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield f"{field}[{key}]", item
    else:
        raise RecordFormatError(field, f"expected a list, got {_kind(value)}")


def as_mapping(value: object, field: str) -> Mapping[str, Any]:
    """A JSON object (or PHP array); absent values read as an empty mapping."""
    if is_absent(value):
        return EMPTY_EXTRA
    if isinstance(value, Mapping):
        return value
    raise RecordFormatError(field, f"expected an object, got {_kind(value)}")


class FieldReader:
    """Reads the fields of one JSON object and remembers which keys were understood.

    Whatever is left over becomes the record's ``extra`` mapping, so a field Kartra adds
    tomorrow is kept for the caller rather than dropped or fatal.
    """

    def __init__(self, data: object, path: str = "") -> None:
        self._data = as_mapping(data, path or "record")
        self._path = path
        self._used: set[str] = set()

    def name(self, key: str) -> str:
        """The dotted path of ``key`` for error messages."""
        return f"{self._path}.{key}" if self._path else key

    def raw(self, *keys: str) -> Any:
        """The first present value among ``keys`` (aliases for one field), marking all as used."""
        found: Any = None
        for key in keys:
            self._used.add(key)
            if found is None and key in self._data:
                found = self._data[key]
        return found

    def text(self, *keys: str) -> str | None:
        """An optional text field."""
        return to_text(self.raw(*keys), self.name(keys[0]))

    def integer(self, *keys: str) -> int | None:
        """An optional integer field."""
        return to_int(self.raw(*keys), self.name(keys[0]))

    def required_integer(self, *keys: str) -> int:
        """An integer field the record cannot exist without (its id)."""
        value: int = require(self.integer(*keys), self.name(keys[0]))
        return value

    def amount(self, *keys: str) -> Decimal | None:
        """An optional amount."""
        return to_decimal(self.raw(*keys), self.name(keys[0]))

    def flag(self, *keys: str) -> bool | None:
        """An optional 0/1 flag."""
        return to_flag(self.raw(*keys), self.name(keys[0]))

    def date(self, *keys: str) -> datetime | None:
        """An optional Eastern-time date."""
        return to_datetime(self.raw(*keys), self.name(keys[0]))

    def enum(self, enum: type[E], *keys: str) -> E | str | None:
        """An optional enum value; unknown values are kept as text."""
        return to_enum(self.raw(*keys), enum, self.name(keys[0]))

    def extra(self, *, drop: frozenset[str] = frozenset()) -> Mapping[str, Any]:
        """The keys not read so far (minus ``drop``), as a read-only mapping."""
        rest = {
            str(key): value
            for key, value in self._data.items()
            if key not in self._used and key not in drop
        }
        return MappingProxyType(rest) if rest else EMPTY_EXTRA
