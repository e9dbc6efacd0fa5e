"""Tracebacks rendered with local variables (Sentry, rich, --showlocals) never show secrets."""

from __future__ import annotations

import traceback

import pytest

from kartra_async import KartraClient, LeadRequest, NetworkError, NoPacer, RetryPolicy, encode
from kartra_async._model import Credentials

CANARY = "canary-7f3a9c1e-secret"


def test_an_encoded_body_hides_its_bytes_in_repr_and_str() -> None:
    body = encode(LeadRequest(email="a@b.co").create(), Credentials("app", CANARY, CANARY))
    assert CANARY.encode() in body  # the secret is really on the wire...
    assert CANARY not in repr(body)  # ...but never in its text forms
    assert CANARY not in str(body)
    assert isinstance(body, bytes)


async def test_a_failed_send_formatted_with_locals_shows_no_secret() -> None:
    # Port 9 on loopback: nothing listens, so the transport fails inside post(body).
    client = KartraClient(
        app_id=CANARY,
        api_key=CANARY,
        api_password=CANARY,
        base_url="http://127.0.0.1:9/api",
        pacer=NoPacer(),
        retry=RetryPolicy.none(),
    )
    async with client:
        with pytest.raises(NetworkError) as caught:
            await client.send(LeadRequest(email="a@b.co").create())
    rendered = "".join(
        traceback.TracebackException.from_exception(caught.value, capture_locals=True).format()
    )
    assert "FormBody" in rendered  # the body was a local of a captured frame
    assert CANARY not in rendered
