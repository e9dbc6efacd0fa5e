"""``build_query`` / ``parse_query`` against PHP 8.2 itself.

Two sources of truth, both PHP: the golden files under ``tests/golden`` (committed output of
``php tests/golden/php_form.php regen``; no PHP needed to check them) and, when ``php`` is
installed, live batches of random inputs run through the same script.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import unquote_to_bytes

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kartra_async._form import MAX_NESTING, MAX_VARS, PhpArray, PhpValue, build_query, parse_query

GOLDEN = Path(__file__).parent / "golden"
PHP_SCRIPT = GOLDEN / "php_form.php"
PHP = shutil.which("php")
BUILD_CASES = sorted(p for p in (GOLDEN / "build").glob("*.json") if ".parsed" not in p.name)
PARSE_CASES = sorted((GOLDEN / "parse").glob("*.query"))

needs_php = pytest.mark.skipif(
    PHP is None and not os.environ.get("CI"),
    reason="php (php-cli) is not installed; CI installs it, so there this test runs",
)


def typed(value: PhpValue) -> Any:
    """Our parse result in the golden files' shape: arrays as [key, value] pairs, in order.

    PHP's int keys stay ints and string keys stay strings, which plain JSON would blur.
    """
    if isinstance(value, dict):
        return [[key, typed(item)] for key, item in value.items()]
    return value


def typed_array(array: PhpArray) -> Any:
    """``typed`` for a whole parse result."""
    return typed(array)


def from_php(value: Any) -> Any:
    """PHP's typed output as our parser promises to return it.

    The oracle writes non-UTF-8 strings as ``{"b64": ...}`` (PHP strings are bytes); our
    documented policy is to decode every string as UTF-8 with U+FFFD for bad bytes.
    """
    if isinstance(value, dict):
        return base64.b64decode(value["b64"]).decode("utf-8", "replace")
    if isinstance(value, list):
        return [[from_php(key), from_php(item)] for key, item in value]
    return value


def names_are_utf8(body: bytes) -> bool:
    """Whether every variable name in ``body`` decodes to valid UTF-8.

    Names that differ only in invalid bytes are distinct keys in PHP but may meet as the same
    U+FFFD string in ours: a known, documented difference, so such bodies are not compared.
    """
    for chunk in body.split(b"&"):
        name = chunk.partition(b"=")[0].replace(b"+", b" ")
        try:
            unquote_to_bytes(name).decode("utf-8")
        except UnicodeDecodeError:
            return False
    return True


def run_php(jobs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Run every job through one ``php php_form.php batch`` process (JSON lines both ways)."""
    assert PHP is not None, "php (php-cli) is required here"
    lines = "".join(json.dumps(job) + "\n" for job in jobs)
    done = subprocess.run(
        [PHP, str(PHP_SCRIPT), "batch"],
        input=lines.encode(),
        capture_output=True,
        check=True,
        timeout=60,
    )
    # Not splitlines(): it would also split inside strings at U+0085, U+2028 and friends.
    answers = [json.loads(line) for line in done.stdout.decode().split("\n") if line]
    assert len(answers) == len(jobs), done.stderr.decode()
    return answers


# --- golden files --------------------------------------------------------------------------


def test_golden_sets_are_present() -> None:
    names = {p.stem for p in BUILD_CASES}
    wanted = {"kartra_create_lead_sample", "get_lead", "create_custom_field", "edit_subscription"}
    assert wanted <= names
    assert len(PARSE_CASES) >= 10


@pytest.mark.parametrize("case", BUILD_CASES, ids=lambda p: p.stem)
def test_build_query_matches_php_bytes(case: Path) -> None:
    data = json.loads(case.read_text(encoding="utf-8"))
    expected = case.with_suffix(".query").read_bytes()
    assert build_query(data).encode("ascii") == expected


@pytest.mark.parametrize("case", BUILD_CASES, ids=lambda p: p.stem)
def test_parse_query_of_php_output_matches_parse_str(case: Path) -> None:
    body = case.with_suffix(".query").read_bytes()
    expected = json.loads(case.with_suffix(".parsed.json").read_text(encoding="utf-8"))
    assert typed_array(parse_query(body)) == from_php(expected)


@pytest.mark.parametrize("case", PARSE_CASES, ids=lambda p: p.stem)
def test_parse_query_of_hostile_bodies_matches_parse_str(case: Path) -> None:
    expected = json.loads(case.with_suffix(".parsed.json").read_text(encoding="utf-8"))
    assert typed_array(parse_query(case.read_bytes())) == from_php(expected)


def test_kartra_sample_reads_like_the_fact_sheet() -> None:
    # The fact sheet (§1.5) shows this body decoded; the encoded form must read back to it.
    body = (GOLDEN / "build" / "kartra_create_lead_sample.query").read_text()
    assert "%5B" in body
    assert "[" not in body
    assert "actions%5B1%5D%5Btag_name%5D=Membership2024+-+GBP+30+Trial" in body.split("&")
    parsed = parse_query(body)
    assert parsed["lead"] == {
        "email": "testkartra@gmail.com",
        "first_name": "Test",
        "last_name": "Kartra",
        "custom_fields": {
            0: {"field_identifier": "text1", "field_value": "text message"},
            1: {"field_identifier": "dropdown1", "field_value": "612"},
            2: {"field_identifier": "checkbox1", "field_value": {0: "620", 1: "621"}},
        },
    }


def test_limits_are_php_defaults_as_the_golden_files_show() -> None:
    deep_kept = json.loads((GOLDEN / "parse" / "nesting_64_kept.parsed.json").read_text())
    deep_dropped = json.loads((GOLDEN / "parse" / "nesting_65_drops_name.parsed.json").read_text())
    flood = json.loads((GOLDEN / "parse" / "vars_1005_truncated.parsed.json").read_text())
    assert [key for key, _ in deep_kept] == ["x", "y"]
    assert deep_dropped == [["y", "3"]]
    assert len(flood) == MAX_VARS
    assert MAX_NESTING == 64


# --- live PHP, random inputs ---------------------------------------------------------------

_INT64 = st.integers(min_value=-(2**63), max_value=2**63 - 1)
_ANY_KEY = st.one_of(st.text(max_size=8), _INT64)
_LEAF = st.one_of(
    st.text(max_size=12),
    _INT64,
    st.booleans(),
    st.none(),
    # Floats with at most 14 significant digits: beyond that PHP's dtoa keeps a trailing zero
    # on exact ties (8.0510008432720E+14), a quirk we do not copy; Kartra sends no floats.
    st.builds(
        lambda mantissa, exponent: float(f"{mantissa}e{exponent}"),
        st.integers(min_value=-(10**14) + 1, max_value=10**14 - 1),
        st.integers(min_value=-30, max_value=30),
    ),
)
_ANY_TREE = st.recursive(
    _LEAF,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(_ANY_KEY, children, max_size=4),
    ),
    max_leaves=12,
)
_ANY_FORM = st.dictionaries(st.text(min_size=1, max_size=8), _ANY_TREE, max_size=5)
# Bytes a hostile body is likely to be made of, plus anything at all.
_BODY_BYTES = st.one_of(
    st.sampled_from([b"[", b"]", b"=", b"&", b"%", b"+", b".", b" ", b"%5B", b"%5D", b"%00", b"a"]),
    st.sampled_from([b"0", b"1", b"-", b"%2", b"%E2", b"%82", b"%FF", b"\xc3", b"\xa9"]),
    st.binary(min_size=1, max_size=3),
)
_BODY = st.lists(_BODY_BYTES, max_size=40).map(b"".join)


@needs_php
@settings(max_examples=2, deadline=None, suppress_health_check=[HealthCheck.data_too_large])
@given(st.lists(_ANY_FORM, min_size=50, max_size=50))
def test_build_query_matches_live_php_on_random_arrays(forms: list[dict[str, Any]]) -> None:
    answers = run_php([{"build": form} for form in forms])
    for form, answer in zip(forms, answers, strict=True):
        ours = build_query(form)
        assert ours == answer["query"], form
        assert typed_array(parse_query(ours)) == from_php(answer["parsed"]), form


@needs_php
@settings(max_examples=2, deadline=None, suppress_health_check=[HealthCheck.data_too_large])
@given(st.lists(_BODY, min_size=50, max_size=50))
def test_parse_query_matches_live_php_on_random_bodies(bodies: list[bytes]) -> None:
    comparable = [body for body in bodies if names_are_utf8(body)]
    answers = run_php([{"parse_b64": base64.b64encode(body).decode()} for body in comparable])
    for body, answer in zip(comparable, answers, strict=True):
        assert typed_array(parse_query(body)) == from_php(answer["parsed"]), body
