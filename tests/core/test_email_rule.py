"""The email rule the README promises ("email syntax"), fuzzed against hypothesis' generator."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kartra_async import LeadRequest, ValidationError

VALID = [
    "ann@example.com",
    "ann+tag@example.co.uk",
    "o'brien@example.ie",
    "first.last@sub-domain.example.com",
    "x@x.co",
    "josé@exämple.de",
    "用户@例子.广告",
    "a!#$%&'*+-/=?^_`{|}~z@example.org",
    "a@123.example",
]

INVALID = {
    "a..b@x.co": "two dots in a row",
    ".a@x.co": "a dot at the start",
    "a.@x.co": "or end of the name",
    "<x>@x.co": "the character '<'",
    "a\u200b@x.co": "U+200B",
    "a@x\u200b.co": "U+200B",
    "a\u200d@x.co": "U+200D",
    "\ufeffa@x.co": "U+FEFF",
    "a b@x.co": "U+0020",
    '"a b"@x.co': "the character '\"'",
    "a,b@x.co": "the character ','",
    "a@b@x.co": "the character '@'",
    "a@x": "the domain has no dot",
    "a@x..co": "an empty part",
    "a@-x.co": "starts or ends with '-'",
    "a@x-.co": "starts or ends with '-'",
    "a@x_y.co": "the character '_'",
    "a@[127.0.0.1]": "the character '['",
    "a@1.2.3.4": "all digits",
    "@x.co": "nothing before",
    "ax.co": "no '@'",
    "a" * 65 + "@x.co": "more than 64",
    "a@" + "x" * 64 + ".co": "longer than 63",
    "a@" + ("x" * 60 + ".") * 5 + "co": "longer than 254",
}


@pytest.mark.parametrize("email", VALID)
def test_ordinary_and_international_addresses_pass(email: str) -> None:
    assert LeadRequest(email=email).email == email


@pytest.mark.parametrize(("email", "reason"), INVALID.items())
def test_malformed_addresses_are_refused_with_the_reason(email: str, reason: str) -> None:
    with pytest.raises(ValidationError, match="email: is not a valid email address") as caught:
        LeadRequest(email=email)
    assert reason in str(caught.value)
    assert caught.value.field == "email"


@given(st.emails())
def test_every_address_hypothesis_generates_is_accepted(email: str) -> None:
    assert LeadRequest(email=email).email == email


#: Characters that may never appear anywhere in an address.
FORBIDDEN = st.sampled_from(
    list(' \t<>()[]\\,;:"@\u200b\u200c\u200d\u2060\ufeff\u00ad\u202e\u3000\xa0')
)


@given(st.emails(), FORBIDDEN, st.data())
def test_a_forbidden_character_anywhere_is_refused(
    email: str, bad: str, data: st.DataObject
) -> None:
    at = data.draw(st.integers(min_value=0, max_value=len(email)))
    tampered = email[:at] + bad + email[at:]
    with pytest.raises(ValidationError, match="not a valid email address"):
        LeadRequest(email=tampered)


@given(st.emails(), st.data())
def test_doubling_any_dot_is_refused(email: str, data: st.DataObject) -> None:
    dots = [i for i, ch in enumerate(email) if ch == "."]
    at = data.draw(st.sampled_from(dots))
    with pytest.raises(ValidationError, match="not a valid email address"):
        LeadRequest(email=email[:at] + "." + email[at:])
