"""Properties of the form codec that need no PHP: round trips and hostile input."""

from __future__ import annotations

import re
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from kartra_async._form import (
    MAX_NESTING,
    MAX_VARS,
    PhpArray,
    build_query,
    encode_pairs,
    flatten,
    parse_query,
)

# PHP's rule for array keys: a canonical decimal int64 string becomes an int key.
_PHP_INT_KEY = re.compile(r"-?[1-9][0-9]*|0")


def php_key(key: str | int) -> str | int:
    """The key PHP stores for ``key`` (``"7"`` → ``7``; ``"07"``, ``"-0"`` stay strings)."""
    if isinstance(key, int):
        return key
    if _PHP_INT_KEY.fullmatch(key) and -(2**63) <= int(key) < 2**63:
        return int(key)
    return key


def php_array(value: Any) -> Any:
    """``value`` as PHP sees it after a round trip, or None when PHP would send nothing.

    Lists become dicts with int keys, ints and bools become strings ("1"/"0" for bools),
    None and empty containers vanish.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (int, str)):
        return str(value)
    items = enumerate(value) if isinstance(value, list) else value.items()
    out = {php_key(key): php_array(item) for key, item in items}
    kept = {key: item for key, item in out.items() if item is not None}
    return kept or None


def unique_after_php(mapping: dict[Any, Any]) -> bool:
    """No two keys that PHP would store as one (``1`` and ``"1"``)."""
    return len({php_key(key) for key in mapping}) == len(mapping)


_INT64 = st.integers(min_value=-(2**63), max_value=2**63 - 1)
# Keys PHP's parse_str keeps as they are: no brackets, no NUL, not empty; a lone whitespace
# byte would mean "append". Top-level names also may not hold " " or "." (PHP rewrites them).
_NESTED_KEY = st.one_of(
    st.text(min_size=1, max_size=10)
    .filter(lambda k: not set(k) & set("[]\0"))
    .filter(lambda k: k not in {" ", "\t", "\n", "\v", "\f", "\r"}),
    _INT64,
)
_TOP_KEY = st.text(min_size=1, max_size=10).filter(lambda k: not set(k) & set("[]\0 ."))
_LEAF = st.one_of(st.text(max_size=20), _INT64, st.booleans(), st.none())
_TREE = st.recursive(
    _LEAF,
    lambda children: st.one_of(
        st.lists(children, max_size=5),
        st.dictionaries(_NESTED_KEY, children, max_size=5).filter(unique_after_php),
    ),
    max_leaves=25,
)
_FORM = st.dictionaries(_TOP_KEY, _TREE, max_size=6).filter(unique_after_php)


@settings(max_examples=300)
@given(_FORM)
def test_parse_query_inverts_build_query(form: dict[str, Any]) -> None:
    expected = php_array(form) or {}
    assert parse_query(build_query(form)) == expected


@given(_FORM)
def test_build_query_is_pure_ascii_with_encoded_brackets(form: dict[str, Any]) -> None:
    body = build_query(form)
    assert body.isascii()
    assert not set(body) & set("[] ~")


@settings(max_examples=300)
@given(st.binary(max_size=200))
def test_parse_query_never_raises_on_random_bytes(body: bytes) -> None:
    parsed = parse_query(body)
    assert isinstance(parsed, dict)


_HOSTILE_PIECES = st.sampled_from(
    ["[", "]", "=", "&", "%", "%5B", "%5D", "%00", "%FF", "+", ".", " ", "a", "0", "-1", "[]"]
)


@settings(max_examples=300)
@given(st.lists(_HOSTILE_PIECES, max_size=60).map("".join))
def test_parse_query_never_raises_on_bracket_soup(body: str) -> None:
    parsed = parse_query(body)
    assert all(isinstance(key, (str, int)) for key in parsed)


def _depth(value: Any) -> int:
    return 1 + max(map(_depth, value.values()), default=0) if isinstance(value, dict) else 0


@given(st.integers(min_value=MAX_NESTING + 1, max_value=MAX_NESTING + 200))
def test_too_deep_variables_drop_their_whole_name(levels: int) -> None:
    parsed = parse_query("x[keep]=1&x" + "[a]" * levels + "=2&y=3")
    assert parsed == {"y": "3"}


def test_nesting_at_the_limit_is_kept() -> None:
    parsed = parse_query("x" + "[a]" * MAX_NESTING + "=2")
    assert _depth(parsed) == MAX_NESTING + 1


@given(st.integers(min_value=MAX_VARS + 1, max_value=MAX_VARS * 3))
def test_variables_beyond_the_limit_are_ignored(count: int) -> None:
    parsed: PhpArray = parse_query("&".join(f"v{i}=1" for i in range(count)))
    assert len(parsed) == MAX_VARS
    assert f"v{MAX_VARS - 1}" in parsed
    assert f"v{MAX_VARS}" not in parsed


@given(_FORM)
def test_flatten_then_encode_pairs_agrees_with_build_query(form: dict[str, Any]) -> None:
    assert encode_pairs(flatten(form)) == build_query(form)
