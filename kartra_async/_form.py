"""PHP-style form bodies: build them as ``http_build_query`` does, read them as ``parse_str`` does.

Kartra is a PHP application: it reads our body with ``parse_str`` semantics, and its own samples
build bodies with ``http_build_query``. Our output is byte-for-byte what PHP 8 produces for the
same nested array (see ``tests/golden``), so any behaviour Kartra shows for PHP clients holds for
ours. Standard library only: this is the hot path of every call.

PHP arrays are modelled as Python ``dict`` (string keys, and ``int`` keys where PHP would turn a
numeric string into an integer key) and ``list``/``tuple`` (keys ``0..n-1``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal
from typing import TypeAlias, cast

# What the encoder accepts. None and empty containers produce nothing, as in PHP.
FormScalar: TypeAlias = str | int | bool | Decimal | float | None
FormValue: TypeAlias = FormScalar | Mapping[str, "FormValue"] | Sequence["FormValue"]

# What the parser returns: PHP's arrays as dicts, every leaf a string.
PhpValue: TypeAlias = str | dict[str | int, "PhpValue"]
PhpArray: TypeAlias = dict[str | int, PhpValue]

# PHP's urlencode() leaves exactly these bytes alone (note: unlike Python's quote, not "~").
_SAFE_BYTES = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")
_QUOTED: tuple[str, ...] = tuple(
    chr(b) if b in _SAFE_BYTES else ("+" if b == 0x20 else f"%{b:02X}") for b in range(256)
)
# Most values (emails, names without spaces, ids, commands) need no escaping at all.
_ALREADY_SAFE = re.compile(r"[A-Za-z0-9_.\-]*").fullmatch
_QUOTE_CACHE: dict[object, str] = {}
_BRACKET_CACHE: dict[object, str] = {}
_CACHE_MAX = 4096


def php_urlencode(text: str) -> str:
    """Percent-encode ``text`` as PHP's ``urlencode`` does (RFC 1738 flavour, spaces as ``+``)."""
    if _ALREADY_SAFE(text):
        return text
    return "".join([_QUOTED[b] for b in text.encode("utf-8", "surrogatepass")])


def _key_text(key: object) -> str:
    # PHP array keys are ints or strings; a bool key is cast to 0/1 like any PHP array key.
    if key is True:
        return "1"
    if key is False:
        return "0"
    return str(key)


def _quote_key(key: object) -> str:
    # Keys repeat on every call ("lead", "email", "cmd"): cache their encoded form.
    quoted = _QUOTE_CACHE.get(key)
    if quoted is None:
        quoted = php_urlencode(_key_text(key))
        if len(_QUOTE_CACHE) < _CACHE_MAX:
            _QUOTE_CACHE[key] = quoted
    return quoted


def _bracket(key: object) -> str:
    # Encoding is per byte, so "a[b]" encodes as enc("a") + "%5B" + enc("b") + "%5D".
    quoted = _BRACKET_CACHE.get(key)
    if quoted is None:
        quoted = f"%5B{php_urlencode(_key_text(key))}%5D"
        if len(_BRACKET_CACHE) < _CACHE_MAX:
            _BRACKET_CACHE[key] = quoted
    return quoted


def _php_float(value: float) -> str:
    # http_build_query prints floats with PHP's default precision=14 ("%.14G"), and writes an
    # exponent mantissa with at least one decimal ("1.0E+25") and an unpadded exponent.
    if math.isnan(value):
        return "NAN"
    if math.isinf(value):
        return "INF" if value > 0 else "-INF"
    text = format(value, ".14G")
    mantissa, marker, exponent = text.partition("E")
    if not marker:
        return text
    if "." not in mantissa:
        mantissa += ".0"
    return f"{mantissa}E{exponent[0]}{exponent[1:].lstrip('0') or '0'}"


def _scalar_text(value: str | int | bool | Decimal | float) -> str:
    if isinstance(value, str):
        return value
    if value is True:
        return "1"
    if value is False:
        return "0"
    if isinstance(value, float):
        return _php_float(value)
    return str(value)


def flatten(data: Mapping[str, FormValue]) -> Iterator[tuple[str, str]]:
    """Yield ``(key, value)`` pairs in PHP's order, keys in bracket notation, nothing encoded."""
    for key, value in data.items():
        yield from _flatten_value(_key_text(key), value)


def _flatten_value(prefix: str, value: FormValue) -> Iterator[tuple[str, str]]:
    if value is None:
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            yield from _flatten_value(f"{prefix}[{_key_text(key)}]", item)
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            yield from _flatten_value(f"{prefix}[{index}]", item)
    elif isinstance(value, (str, int, bool, Decimal, float)):
        yield prefix, _scalar_text(value)
    else:
        raise TypeError(f"cannot form-encode {prefix!r}: unsupported type {type(value).__name__}")


def encode_pairs(pairs: Iterator[tuple[str, str]] | Sequence[tuple[str, str]]) -> str:
    """Join already flattened pairs into a query string, percent-encoding keys and values."""
    return "&".join([f"{_quote_key(key)}={php_urlencode(value)}" for key, value in pairs])


def build_query(data: Mapping[str, FormValue]) -> str:
    """Return what PHP's ``http_build_query($data)`` returns for the same nested array."""
    parts: list[str] = []
    for key, value in data.items():
        _emit(parts, _quote_key(key), value)
    return "&".join(parts)


def _emit(parts: list[str], name: str, value: object) -> None:
    # One recursive function appending to a shared list: no generators, no intermediate pairs,
    # key prefixes encoded once per level, exact type checks before the slower ABC checks.
    # ``name`` is already percent-encoded.
    kind = type(value)
    if kind is str:
        text = cast(str, value)
        parts.append(f"{name}={text if _ALREADY_SAFE(text) else php_urlencode(text)}")
    elif kind is dict or (kind is not list and isinstance(value, Mapping)):
        for key, item in cast(Mapping[object, object], value).items():
            _emit(parts, name + (_BRACKET_CACHE.get(key) or _bracket(key)), item)
    elif kind is list or kind is tuple:
        for index, item in enumerate(cast(Sequence[object], value)):
            _emit(parts, name + (_BRACKET_CACHE.get(index) or _bracket(index)), item)
    elif value is None:
        return
    elif isinstance(value, (str, int, bool, Decimal, float)):
        parts.append(f"{name}={php_urlencode(_scalar_text(value))}")
    else:
        raise TypeError(f"cannot form-encode {name!r}: unsupported type {type(value).__name__}")


# --- parse_str -----------------------------------------------------------------------------

#: PHP's default ``max_input_nesting_level``: a deeper variable removes its whole top-level name.
MAX_NESTING = 64
#: PHP's default ``max_input_vars``: variables after this many are dropped.
MAX_VARS = 1000

_HEX = re.compile(rb"%([0-9A-Fa-f]{2})")
# PHP (zend_handle_numeric_str) turns canonical decimal integers within int64 into integer keys.
_CANONICAL_INT = re.compile(r"-?[1-9][0-9]{0,18}|0").fullmatch
_LONE_SPACES = frozenset(" \t\n\v\f\r")
_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1


def php_urldecode(raw: bytes) -> str:
    """Decode like PHP's ``urldecode``: ``+`` is a space, invalid ``%`` escapes stay as they are."""
    raw = raw.replace(b"+", b" ")
    if b"%" in raw:
        raw = _HEX.sub(lambda m: bytes([int(m.group(1), 16)]), raw)
    # PHP strings are bytes; Kartra expects UTF-8, so undecodable bytes become U+FFFD.
    return raw.decode("utf-8", "replace")


def _array_key(segment: str) -> str | int:
    # "7" and "-7" become ints; "07", "+7", "-0", " 7" and out-of-range numbers stay strings.
    if _CANONICAL_INT(segment):
        number = int(segment)
        if _INT64_MIN <= number <= _INT64_MAX:
            return number
    return segment


def _mangle(name: str) -> str:
    # PHP variable names cannot contain " " or ".", so it rewrites them to "_".
    return name.replace(" ", "_").replace(".", "_")


def _split_name(name: str) -> tuple[str, list[str], bool] | None:
    """Split ``a[b][c]`` into ``("a", ["b", "c"], too_deep)`` like ``php_register_variable_ex``."""
    # The name is a C string there: everything from a NUL byte on is ignored.
    name = name.partition("\0")[0].lstrip(" ")
    open_at = name.find("[")
    base = _mangle(name if open_at == -1 else name[:open_at])
    if not base:
        return None
    segments: list[str] = []
    if open_at == -1:
        return base, segments, False
    position = open_at
    while True:
        if len(segments) >= MAX_NESTING:
            return base, segments, True
        close_at = name.find("]", position + 1)
        if close_at == -1:
            if not segments:
                # An unmatched first "[" is not an array: it and the rest join the plain name.
                return base + "_" + _mangle(name[position + 1 :]).replace("[", "_"), segments, False
            return base, segments, False
        segment = name[position + 1 : close_at]
        # PHP skips one isspace() byte before testing for "]": "[ ]" appends just like "[]".
        segments.append("" if segment in _LONE_SPACES else segment)
        position = close_at + 1
        # Anything after a "]" other than another "[" is ignored.
        if position >= len(name) or name[position] != "[":
            return base, segments, False


class _NextIndex:
    """PHP's per-array "next free element": one past the largest int key ever used, else 0.

    Kept on the side so that ``name[]`` appends cost O(1), not a scan of the array (1000
    appends would otherwise be quadratic). Holds the arrays it tracks, so ids stay unique.
    """

    __slots__ = ("_by_id",)

    def __init__(self) -> None:
        self._by_id: dict[int, tuple[PhpArray, int]] = {}

    def get(self, array: PhpArray) -> int:
        entry = self._by_id.get(id(array))
        return 0 if entry is None else entry[1]

    def used(self, array: PhpArray, key: int) -> None:
        entry = self._by_id.get(id(array))
        if entry is None or key + 1 > entry[1]:
            self._by_id[id(array)] = (array, key + 1)


def parse_query(body: bytes | str) -> PhpArray:
    """Parse a form body into nested dicts exactly as PHP's ``parse_str`` would.

    Duplicate keys: the last one wins. ``name[]`` appends. Numeric string keys become ints.
    Never raises on hostile input: malformed names, deep nesting (more than ``MAX_NESTING``
    brackets removes that top-level name) and floods (only the first ``MAX_VARS`` variables
    count) are handled as PHP 8.2 handles them.
    """
    raw = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body
    result: PhpArray = {}
    next_index = _NextIndex()
    count = 0
    for chunk in raw.split(b"&"):
        if not chunk:
            continue
        count += 1
        if count > MAX_VARS:
            break
        name_raw, _, value_raw = chunk.partition(b"=")
        split = _split_name(php_urldecode(name_raw))
        if split is None:
            continue
        base, segments, too_deep = split
        if too_deep:
            result.pop(_array_key(base), None)
            continue
        _assign(result, _array_key(base), segments, php_urldecode(value_raw), next_index)
    return result


def _assign(
    result: PhpArray,
    top: str | int,
    segments: list[str],
    value: str,
    next_index: _NextIndex,
) -> None:
    if not segments:
        result[top] = value
        return
    container = result.get(top)
    if not isinstance(container, dict):
        container = {}
        result[top] = container
    last = len(segments) - 1
    for depth, segment in enumerate(segments):
        key: str | int
        if segment == "":
            key = next_index.get(container)
            if key > _INT64_MAX:
                # PHP's append fails once the largest int64 key is taken: the variable is lost.
                return
        else:
            key = _array_key(segment)
        if isinstance(key, int):
            next_index.used(container, key)
        if depth == last:
            container[key] = value
            return
        child = container.get(key)
        if not isinstance(child, dict):
            child = {}
            container[key] = child
        container = child


def as_list(value: PhpValue | None) -> list[PhpValue] | None:
    """A PHP array's values in order, or None when ``value`` is not an array."""
    if isinstance(value, dict):
        return list(value.values())
    return None
