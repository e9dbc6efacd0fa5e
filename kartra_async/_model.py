"""Value objects shared by every layer: credentials, custom field values, and the validators.

Everything here is checked when it is built, so that nothing invalid can ever reach the wire:
each failure is a ``ValidationError`` naming the field and the reason.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Final, TypeAlias
from zoneinfo import ZoneInfo

import attrs

from ._errors import ValidationError

#: Kartra reads and writes every date in US Eastern time (docs/kartra-api.md#dates-and-time-zones).
KARTRA_TZ: Final = ZoneInfo("America/New_York")

#: The 76 values Kartra accepts for ``lead_preferred_time_zone``, in the docs' order.
TIME_ZONES: Final[tuple[str, ...]] = (
    "America/Los_Angeles",
    "America/Boise",
    "America/Chicago",
    "America/New_York",
    "Europe/London",
    "Europe/Brussels",
    "Etc/GMT+12",
    "Pacific/Midway",
    "Pacific/Honolulu",
    "America/Juneau",
    "America/Chihuahua",
    "America/Phoenix",
    "America/Regina",
    "America/Mexico_City",
    "America/Belize",
    "America/Indiana/Indianapolis",
    "America/Bogota",
    "America/Glace_Bay",
    "America/Caracas",
    "America/Santiago",
    "America/St_Johns",
    "America/Sao_Paulo",
    "America/Argentina/Buenos_Aires",
    "America/Nuuk",
    "Etc/GMT+2",
    "Atlantic/Azores",
    "Atlantic/Cape_Verde",
    "Africa/Casablanca",
    "Atlantic/Canary",
    "Europe/Belgrade",
    "Europe/Sarajevo",
    "Europe/Amsterdam",
    "Africa/Algiers",
    "Europe/Bucharest",
    "Africa/Cairo",
    "Europe/Helsinki",
    "Europe/Athens",
    "Asia/Jerusalem",
    "Africa/Harare",
    "Europe/Moscow",
    "Asia/Kuwait",
    "Africa/Nairobi",
    "Asia/Baghdad",
    "Asia/Tehran",
    "Asia/Dubai",
    "Asia/Baku",
    "Asia/Kabul",
    "Asia/Yekaterinburg",
    "Asia/Karachi",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Asia/Dhaka",
    "Asia/Colombo",
    "Asia/Almaty",
    "Asia/Rangoon",
    "Asia/Bangkok",
    "Asia/Krasnoyarsk",
    "Asia/Shanghai",
    "Asia/Kuala_Lumpur",
    "Asia/Taipei",
    "Australia/Perth",
    "Asia/Irkutsk",
    "Asia/Seoul",
    "Asia/Tokyo",
    "Asia/Yakutsk",
    "Australia/Darwin",
    "Australia/Adelaide",
    "Australia/Sydney",
    "Australia/Brisbane",
    "Australia/Hobart",
    "Asia/Vladivostok",
    "Pacific/Guam",
    "Asia/Magadan",
    "Pacific/Fiji",
    "Pacific/Auckland",
    "Pacific/Tongatapu",
)
_TIME_ZONE_SET: Final = frozenset(TIME_ZONES)

#: Upper bound on any text value. Kartra publishes none; this stops a runaway cell (a 1 MB CSV
#: field) from being sent, and is far above any real profile value.
MAX_TEXT_LENGTH: Final = 4096

#: The address rule (docs/kartra-api.md#email-addresses): an unquoted RFC 5322 dot-atom local
#: part (RFC 6531 lets it hold any Unicode letter, mark or digit) of at most 64 characters, "@",
#: then a host name of at least two dot-separated labels: letters (any script), digits and inner
#: hyphens, at most 63 characters each, the last not all digits. At most 254 characters in all.
#: Quoted local parts, comments and IP-literal domains are refused: nobody signs up with them
#: and they are where look-alike and injection tricks hide.
_ATEXT: Final = frozenset("!#$%&'*+-/=?^_`{|}~")
_EMAIL_MAX: Final = 254
_LOCAL_MAX: Final = 64
_LABEL_MAX: Final = 63
_IDENTIFIER = re.compile(r"[A-Za-z0-9_-]+")


class Credentials:
    """The three secrets Kartra wants in every call. Their values never appear in a repr or str."""

    __slots__ = ("_api_key", "_api_password", "_app_id")

    def __init__(self, app_id: str, api_key: str, api_password: str) -> None:
        # Stored first and the parameters dropped before validating: a traceback rendered with
        # locals (Sentry, --showlocals) then shows this frame's ``self`` (hidden repr) only.
        self._app_id = app_id
        self._api_key = api_key
        self._api_password = api_password
        del app_id, api_key, api_password
        self.validate()

    @classmethod
    def unchecked(cls, app_id: str, api_key: str, api_password: str) -> Credentials:
        """Wrap the three values without checking them; call ``validate`` next.

        For constructors that must drop their raw credential parameters before anything can
        raise (see ``KartraClient.__init__``).
        """
        credentials = cls.__new__(cls)
        credentials._app_id = app_id
        credentials._api_key = api_key
        credentials._api_password = api_password
        return credentials

    def validate(self) -> None:
        """Raise ``ValidationError`` naming the first unusable credential (never its value)."""
        # No local variable holds a value: each is read straight into ``_credential_problem``.
        for name in ("app_id", "api_key", "api_password"):
            reason = _credential_problem(getattr(self, "_" + name, None))
            if reason is not None:
                raise ValidationError(name, reason)

    @property
    def app_id(self) -> str:
        """The App's id (identifies the developer's App; the rate limit is per App)."""
        return self._app_id

    @property
    def api_key(self) -> str:
        """The App user's API key."""
        return self._api_key

    @property
    def api_password(self) -> str:
        """The App user's API password."""
        return self._api_password

    def form_fields(self) -> dict[str, str]:
        """The credentials as the three top-level form keys, in Kartra's documented order."""
        return {
            "app_id": self._app_id,
            "api_key": self._api_key,
            "api_password": self._api_password,
        }

    def __repr__(self) -> str:
        return "Credentials(app_id=<hidden>, api_key=<hidden>, api_password=<hidden>)"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Credentials):
            return NotImplemented
        return self.form_fields() == other.form_fields()

    def __hash__(self) -> int:
        return hash((self._app_id, self._api_key, self._api_password))

    def __reduce__(self) -> str | tuple[object, ...]:
        # Pickling would copy the secrets into wherever the pickle goes; refuse it.
        raise TypeError("Credentials cannot be pickled")


#: Every credential a sandbox generates starts with this, so a client can tell it apart from a
#: real Kartra credential and refuse to post it anywhere but a loopback sandbox.
SANDBOX_CREDENTIAL_PREFIX: Final = "sandbox-"


def is_sandbox_credentials(credentials: Credentials) -> bool:
    """True when ``credentials`` were generated by a sandbox (``SANDBOX_CREDENTIAL_PREFIX``)."""
    return any(
        value.startswith(SANDBOX_CREDENTIAL_PREFIX)
        for value in (credentials.app_id, credentials.api_key, credentials.api_password)
    )


#: The domain Kartra gives every lead an App in Test Mode creates
#: (docs/kartra-api.md#test-mode-and-permissions).
TEST_MODE_DOMAIN: Final = "kartra.com"


def test_mode_email(email: str) -> str:
    """The address Kartra stores for ``email`` when an App in Test Mode creates the lead.

    Test Mode replaces the domain with ``@kartra.com`` (``jo@gmail.com`` -> ``jo@kartra.com``),
    so two addresses with the same local part are one lead there. The local part is kept as sent;
    a value without ``@`` is returned unchanged (it is no address to rewrite).
    """
    local, at, _domain = email.strip().rpartition("@")
    if not at:
        return email
    return f"{local}@{TEST_MODE_DOMAIN}"


# Not a test, whatever its name: keeps pytest from collecting it where a test module imports it.
test_mode_email.__test__ = False  # type: ignore[attr-defined]


def _credential_problem(value: object) -> str | None:
    # Returns instead of raising, so that no frame of the traceback holds ``value``.
    if not isinstance(value, str) or not value.strip():
        # The value itself is never echoed: it may be a secret pasted in the wrong place.
        return "is required and must be a non-empty string"
    if any(unicodedata.category(ch) == "Cc" for ch in value):
        return "must not contain control characters"
    return None


# --- validators: each returns the normalised value or raises ValidationError(field, reason) ---


def check_text(field: str, value: object, *, allow_empty: bool = True) -> str:
    """A printable string of bounded length (tabs and newlines allowed, other controls not)."""
    if not isinstance(value, str):
        raise ValidationError(field, f"must be a string, not {type(value).__name__}")
    if not allow_empty and not value.strip():
        raise ValidationError(field, "must not be empty")
    if len(value) > MAX_TEXT_LENGTH:
        raise ValidationError(
            field, f"is {len(value)} characters long; the limit is {MAX_TEXT_LENGTH}"
        )
    if not value.isprintable():
        for ch in value:
            if ch not in "\t\n\r" and unicodedata.category(ch) in ("Cc", "Cs"):
                raise ValidationError(field, f"contains the control character U+{ord(ch):04X}")
    return value


def check_email(field: str, value: object) -> str:
    """An email address by the project's documented rule (docs/kartra-api.md#email-addresses)."""
    text = check_text(field, value, allow_empty=False)
    problem = _email_problem(text)
    if problem is not None:
        raise ValidationError(field, f"is not a valid email address ({problem}): {text[:80]!r}")
    return text


def _email_problem(text: str) -> str | None:
    """Why ``text`` is not an address by the project's rule, or None when it is one.

    The rule: ``local@domain``, at most 254 characters. ``local``: dot-separated atoms of ASCII
    letters, digits and ``!#$%&'*+-/=?^_`{|}~`` or non-ASCII letters, marks and digits; no
    leading, trailing or doubled dot; at most 64 characters. ``domain``: two or more labels of
    letters (any script), digits and hyphens (not first or last), 1 to 63 characters each; the
    last label not all digits. Syntax only: nothing is looked up.
    """
    if len(text) > _EMAIL_MAX:
        return f"longer than {_EMAIL_MAX} characters"
    local, at, domain = text.rpartition("@")
    if not at:
        return "no '@'"
    if not local:
        return "nothing before the '@'"
    if len(local) > _LOCAL_MAX:
        return f"more than {_LOCAL_MAX} characters before the '@'"
    for atom in local.split("."):
        if not atom:
            return "a dot at the start or end of the name, or two dots in a row"
        for ch in atom:
            if not _atom_char(ch):
                return f"the character {_shown(ch)} is not allowed before the '@'"
    labels = domain.split(".")
    if len(labels) < 2:
        return "the domain has no dot"
    for label in labels:
        if not label:
            return "an empty part in the domain"
        if len(label) > _LABEL_MAX:
            return f"a domain part longer than {_LABEL_MAX} characters"
        if label[0] == "-" or label[-1] == "-":
            return "a domain part starts or ends with '-'"
        for ch in label:
            if not (ch == "-" or _letter_or_digit(ch)):
                return f"the character {_shown(ch)} is not allowed in the domain"
    if labels[-1].isdigit():
        return "the last domain part is all digits"
    return None


def _letter_or_digit(ch: str) -> bool:
    if ch.isascii():
        return ch.isalnum()
    # Letters, combining marks and digits of any script; never format characters (U+200B…).
    return unicodedata.category(ch)[0] in "LMN"


def _atom_char(ch: str) -> bool:
    return _letter_or_digit(ch) or ch in _ATEXT


def _shown(ch: str) -> str:
    return repr(ch) if ch.isprintable() and not ch.isspace() else f"U+{ord(ch):04X}"


def check_identifier(field: str, value: object) -> str:
    """A custom field identifier: letters, digits, ``-`` and ``_`` only.

    Kartra's own rule (error 263); it also guarantees the identifier cannot inject form keys.
    """
    text = check_text(field, value, allow_empty=False)
    if not _IDENTIFIER.fullmatch(text):
        raise ValidationError(field, f"{text[:80]!r} may contain only letters, digits, '-' and '_'")
    return text


#: Kartra's ids and counts are database integers; nothing larger can mean anything to it.
MAX_INT: Final = 2**63 - 1


def check_int(field: str, value: object, *, minimum: int | None = None) -> int:
    """A true integer (not a bool, not a float, not a numeric string) that fits in 64 bits."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(field, f"must be an integer, not {type(value).__name__}")
    if not -MAX_INT - 1 <= value <= MAX_INT:
        # Also keeps Python's 4,300-digit int-to-str limit from surfacing as a crash in encode.
        raise ValidationError(field, "is out of range (more than a 64-bit integer)")
    if minimum is not None and value < minimum:
        raise ValidationError(field, f"must be at least {minimum}, got {value}")
    return value


def check_choice(field: str, value: object, choices: Iterable[str]) -> str:
    """One of a fixed set of strings (an enum member's value is accepted too)."""
    raw = getattr(value, "value", value)
    allowed = tuple(choices)
    if not isinstance(raw, str) or raw not in allowed:
        raise ValidationError(field, f"must be one of {', '.join(allowed)}; got {raw!r}")
    return raw


def check_time_zone(field: str, value: object) -> str:
    """One of Kartra's 76 accepted time zone names."""
    text = check_text(field, value, allow_empty=False)
    if text not in _TIME_ZONE_SET:
        raise ValidationError(
            field, f"{text!r} is not one of Kartra's 76 time zones (see TIME_ZONES)"
        )
    return text


#: Amounts above 10**12 are not money Kartra moves; the bound keeps encoding finite.
MAX_AMOUNT_DIGITS: Final = 12


def check_amount(field: str, value: object) -> Decimal:
    """A money amount: Decimal, int or decimal string; positive, at most two decimals."""
    if isinstance(value, (bool, float)):
        # Floats cannot represent cents exactly; make the caller say what they mean.
        raise ValidationError(field, "must be a Decimal, an int or a decimal string, not a float")
    try:
        amount = Decimal(value) if isinstance(value, (int, str, Decimal)) else None
    except InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite():
        raise ValidationError(field, f"is not a decimal amount: {value!r}")
    if amount.adjusted() > MAX_AMOUNT_DIGITS:
        # "1e999999999" is a valid Decimal that would print as a gigabyte of zeros.
        raise ValidationError(field, "is too large to be an amount")
    if amount <= 0:
        raise ValidationError(field, f"must be positive, got {amount}")
    if amount.as_tuple().exponent < -2:  # type: ignore[operator]
        raise ValidationError(field, f"has more than two decimals: {amount}")
    return amount


_MONTHS: Final = (
    "Jan",
    "Feb",
    "Mar",
    "Apr",
    "May",
    "Jun",
    "Jul",
    "Aug",
    "Sep",
    "Oct",
    "Nov",
    "Dec",
)
# [0-9], not \d: \d matches any Unicode digit ("١٦"), which Kartra would not read as a date.
_KARTRA_DATE = re.compile(r"([0-9]{2}) (" + "|".join(_MONTHS) + r") ([0-9]{4})")
_KARTRA_HOUR = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])")
# strptime alone accepts "2021-1-5 5:46"; Kartra documents zero-padded fields.
_PAYMENT_DATETIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}(:[0-9]{2})?")


def check_calendar_date(field: str, value: object) -> str:
    """A calendar date as Kartra wants it, ``DD Mmm YYYY`` (a ``date`` is formatted for you)."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return f"{value.day:02d} {_MONTHS[value.month - 1]} {value.year:04d}"
    text = check_text(field, value, allow_empty=False)
    match = _KARTRA_DATE.fullmatch(text)
    if match is None:
        raise ValidationError(
            field, f"{text!r} is not in Kartra's 'DD Mmm YYYY' format (e.g. '16 Jan 2019')"
        )
    try:
        date(int(match[3]), _MONTHS.index(match[2]) + 1, int(match[1]))
    except ValueError as exc:
        raise ValidationError(field, f"{text!r} is not a real date") from exc
    return text


def check_calendar_hour(field: str, value: object) -> str:
    """An hour as Kartra wants it, ``HH:MM`` US Eastern (a ``time`` is formatted for you)."""
    if isinstance(value, time):
        return f"{value.hour:02d}:{value.minute:02d}"
    text = check_text(field, value, allow_empty=False)
    if not _KARTRA_HOUR.fullmatch(text):
        raise ValidationError(field, f"{text!r} is not in Kartra's 'HH:MM' 24-hour format")
    return text


def check_payment_datetime(field: str, value: object) -> str:
    """A ``yyyy-mm-dd hh:mm`` date-time in US Eastern time.

    An aware ``datetime`` is converted to Eastern time; a naive one is taken as Eastern already.
    """
    if isinstance(value, datetime):
        moment = value.astimezone(KARTRA_TZ) if value.tzinfo is not None else value
        return moment.strftime("%Y-%m-%d %H:%M")
    text = check_text(field, value, allow_empty=False)
    if _PAYMENT_DATETIME.fullmatch(text):
        for pattern in ("%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"):
            try:
                datetime.strptime(text, pattern)
            except ValueError:
                continue
            return text
    raise ValidationError(field, f"{text!r} is not in Kartra's 'yyyy-mm-dd hh:mm' format")


# --- custom field values ------------------------------------------------------------------

CustomFieldValue: TypeAlias = str | int | tuple[int, ...]


def _custom_value(value: object) -> CustomFieldValue:
    # Runs as the attrs converter, before the validator, so lists arrive as tuples.
    if isinstance(value, list):
        return tuple(value)
    return value  # type: ignore[return-value]


@attrs.frozen
class CustomField:
    """A custom field value to set on a lead.

    ``value`` kinds follow the field's type: a string for input fields and text areas, an int
    option id for drop-downs and radio buttons, a sequence of int option ids for checkboxes,
    and ``""`` to clear the value. The identifier must exist in the account, or Kartra silently
    ignores the entry.
    """

    identifier: str
    value: CustomFieldValue = attrs.field(converter=_custom_value)

    def __attrs_post_init__(self) -> None:
        check_identifier("custom_fields.field_identifier", self.identifier)
        value = self.value
        where = f"custom_fields[{self.identifier}].field_value"
        if isinstance(value, str):
            check_text(where, value)
        elif isinstance(value, tuple):
            for index, option in enumerate(value):
                check_int(f"{where}[{index}]", option, minimum=0)
        else:
            check_int(where, value, minimum=0)
