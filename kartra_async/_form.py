"""PHP-style form bodies: build them as ``http_build_query`` does, read them as ``parse_str`` does.

Kartra is a PHP application: it reads our body with ``parse_str`` semantics, and its own samples
build bodies with ``http_build_query``. Our output is byte-for-byte what PHP 8 produces for the
same nested array (see ``tests/golden``), so any behaviour Kartra shows for PHP clients holds for
ours. Standard library only: this is the hot path of every call.

PHP arrays are modelled as Python ``dict`` (string keys, and ``int`` keys where PHP would turn a
numeric string into an integer key) and ``list``/``tuple`` (keys ``0..n-1``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal
from typing import TypeAlias, Union

# What the encoder accepts. None and empty containers produce nothing, as in PHP.
FormScalar: TypeAlias = str | int | bool | Decimal | float | None
FormValue: TypeAlias = Union[FormScalar, Mapping[str, "FormValue"], Sequence["FormValue"]]

# What the parser returns: PHP's arrays as dicts, every leaf a string.
PhpValue: TypeAlias = Union[str, dict[str | int, "PhpValue"]]
PhpArray: TypeAlias = dict[str | int, PhpValue]

# PHP's urlencode() leaves exactly these bytes alone (note: unlike Python's quote, not "~").
_SAFE_BYTES = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")
_QUOTED: tuple[str, ...] = tuple(
    chr(b) if b in _SAFE_BYTES else ("+" if b == 0x20 else f"%{b:02X}") for b in range(256)
)
_ALREADY_SAFE = re.compile(r"[A-Za-z0-9_.\-]*").fullmatch
_QUOTE_CACHE: dict[str, str] = {}
_QUOTE_CACHE_MAX = 4096


def php_urlencode(text: str) -> str:
    """Percent-encode ``text`` exactly as PHP's ``urlencode`` (RFC 1738 flavour, spaces as ``+``)."""
    if _ALREADY_SAFE(text):
        return text
    return "".join([_QUOTED[b] for b in text.encode("utf-8", "surrogatepass")])


def _quote_key(key: str) -> str:
    # Keys repeat on every call ("lead[email]", "actions[0][cmd]"): cache their encoded form.
    quoted = _QUOTE_CACHE.get(key)
    if quoted is None:
        quoted = php_urlencode(key)
        if len(_QUOTE_CACHE) < _QUOTE_CACHE_MAX:
            _QUOTE_CACHE[key] = quoted
    return quoted


def _scalar_text(value: str | int | bool | Decimal | float) -> str:
    if isinstance(value, str):
        return value
    if value is True:
        return "1"
    if value is False:
        return "0"
    if isinstance(value, float):
        # PHP prints integral floats without a fraction ("2", not "2.0").
        text = repr(value)
        return text[:-2] if text.endswith(".0") else text
    return str(value)


def flatten(data: Mapping[str, FormValue]) -> Iterator[tuple[str, str]]:
    """Yield ``(key, value)`` pairs in PHP's order, keys in bracket notation, nothing encoded."""
    for key, value in data.items():
        yield from _flatten_value(str(key), value)


def _flatten_value(prefix: str, value: FormValue) -> Iterator[tuple[str, str]]:
    if value is None:
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            yield from _flatten_value(f"{prefix}[{key}]", item)
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
    return encode_pairs(flatten(data))


# --- parse_str -----------------------------------------------------------------------------

#: PHP's default ``max_input_nesting_level``: deeper variables are dropped whole.
MAX_NESTING = 64
#: PHP's default ``max_input_vars``: variables after this many are dropped.
MAX_VARS = 1000

_HEX = re.compile(rb"%([0-9A-Fa-f]{2})")


def php_urldecode(raw: bytes) -> str:
    """Decode like PHP's ``urldecode``: ``+`` is a space, invalid ``%`` escapes stay as they are."""
    raw = raw.replace(b"+", b" ")
    if b"%" in raw:
        raw = _HEX.sub(lambda m: bytes([int(m.group(1), 16)]), raw)
    # PHP strings are bytes; Kartra expects UTF-8, so undecodable bytes become U+FFFD.
    return raw.decode("utf-8", "replace")


def _array_key(segment: str) -> str | int:
    # PHP turns canonical decimal integer strings into integer keys ("7" but not "07" or "+7").
    if segment.isdigit() and (segment == "0" or segment[0] != "0") and len(segment) < 19:
        return int(segment)
    if segment.startswith("-") and segment[1:].isdigit() and segment[1:2] != "0" and len(segment) < 20:
        return int(segment)
    return segment


def _split_name(name: str) -> tuple[str, list[str]] | None:
    """Split ``a[b][c]`` into ``("a", ["b", "c"])`` the way PHP's variable registration does."""
    name = name.lstrip(" ")
    open_at = name.find("[")
    if open_at == -1:
        base, rest = name, ""
    else:
        base, rest = name[:open_at], name[open_at:]
    if not base:
        return None
    segments: list[str] = []
    position = 0
    while position < len(rest) and rest[position] == "[":
        close_at = rest.find("]", position + 1)
        if close_at == -1:
            if not segments:
                # An unmatched first "[" is not an array: PHP keeps it as part of the name.
                base = base + "_" + rest[position + 1 :]
            break
        segments.append(rest[position + 1 : close_at])
        position = close_at + 1
    # PHP mangles spaces and dots in the top-level name into underscores.
    base = base.replace(" ", "_").replace(".", "_")
    return base, segments


def _next_index(array: PhpArray) -> int:
    numeric = [key for key in array if isinstance(key, int)]
    return max(numeric) + 1 if numeric and max(numeric) >= 0 else 0


def parse_query(body: bytes | str) -> PhpArray:
    """Parse a form body into nested dicts exactly as PHP's ``parse_str`` would.

    Duplicate keys: the last one wins. ``name[]`` appends. Numeric string keys become ints.
    Never raises on hostile input: malformed names are handled as PHP handles them.
    """
    raw = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body
    result: PhpArray = {}
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
        base, segments = split
        if len(segments) >= MAX_NESTING:
            continue
        value = php_urldecode(value_raw)
        _assign(result, base, segments, value)
    return result


def _assign(result: PhpArray, base: str, segments: list[str], value: str) -> None:
    if not segments:
        result[base] = value
        return
    container = result.get(base)
    if not isinstance(container, dict):
        container = {}
        result[base] = container
    for depth, segment in enumerate(segments):
        last = depth == len(segments) - 1
        key: str | int = _next_index(container) if segment == "" else _array_key(segment)
        if last:
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
