"""A canary credential never shows in a repr, str, message, log line or formatted traceback."""

from __future__ import annotations

import json
import logging
import pickle
import socket
import traceback
from typing import Any

import pytest
from aioresponses import aioresponses

from kartra_async import (
    AccountCall,
    Credentials,
    KartraClient,
    KartraError,
    LeadRequest,
    NetworkError,
    NoPacer,
    RetryPolicy,
    TagError,
    UsageError,
    decode,
    encode,
)

from .conftest import CANARIES, CANARY_APP_ID, CANARY_KEY, CANARY_PASSWORD

URL = "https://app.kartra.com/api"


def assert_clean(*texts: str) -> None:
    for text in texts:
        for canary in CANARIES:
            assert canary not in text


def formatted(error: BaseException) -> str:
    """The whole traceback as Python prints it, chained causes included."""
    return "".join(traceback.format_exception(error))


def client(base_url: str = URL, **kwargs: Any) -> KartraClient:
    kwargs.setdefault("retry", RetryPolicy.none())
    return KartraClient(
        app_id=CANARY_APP_ID,
        api_key=CANARY_KEY,
        api_password=CANARY_PASSWORD,
        base_url=base_url,
        pacer=NoPacer(),
        **kwargs,
    )


def test_credentials_hide_their_values(credentials: Credentials) -> None:
    assert_clean(repr(credentials), str(credentials), f"{credentials}", f"{credentials!r}")
    # The secrets are still there for encode.
    assert CANARY_KEY.encode() in encode(AccountCall().retrieve_account_tags(), credentials)
    with pytest.raises(TypeError):
        pickle.dumps(credentials)


async def test_client_repr_hides_credentials() -> None:
    async with client() as kartra:
        assert_clean(repr(kartra), str(kartra))
    assert_clean(repr(kartra))


def test_calls_and_replies_hold_no_credentials(credentials: Credentials) -> None:
    call = LeadRequest(email="a@b.co").create().assign_tag("VIP")
    reply = decode(200, json.dumps({"status": "Success"}).encode(), call)
    assert_clean(repr(call), str(call), repr(reply), str(reply))


async def test_api_errors_and_their_tracebacks_are_clean() -> None:
    payload = {
        "status": "Error",
        "actions": [
            {"create_lead": {"status": "Success", "lead_details": {"id": "1"}}},
            {"assign_tag": {"status": "Error", "message": "Tag does not exist", "type": "212"}},
        ],
    }
    with aioresponses() as mocked:
        mocked.post(URL, payload=payload)
        async with client() as kartra:
            with pytest.raises(TagError) as info:
                await kartra.send(LeadRequest(email="a@b.co").create().assign_tag("Missing"))
    error = info.value
    assert_clean(str(error), repr(error), formatted(error), repr(error.reply))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def test_network_errors_with_chained_causes_are_clean(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    policy = RetryPolicy(max_attempts=2, base_delay=0.0)
    async with client(f"http://127.0.0.1:{free_port()}/api", retry=policy) as kartra:
        with pytest.raises(NetworkError) as info:
            await kartra.send(LeadRequest(email="a@b.co").create().give_points(5))
    error = info.value
    assert error.__cause__ is not None or error.__context__ is not None
    assert_clean(str(error), repr(error), formatted(error), caplog.text)
    assert_clean(*(repr(record.__dict__) for record in caplog.records))


async def test_server_and_malformed_reply_errors_are_clean(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    with aioresponses() as mocked:
        mocked.post(URL, status=502, body="bad gateway")
        mocked.post(URL, status=200, body="<html>not json</html>")
        async with client() as kartra:
            errors = []
            for _ in range(2):
                with pytest.raises(KartraError) as info:
                    await kartra.send(AccountCall().retrieve_account_tags())
                errors.append(info.value)
    for error in errors:
        assert_clean(str(error), repr(error), formatted(error), repr(vars(error)))
    assert_clean(caplog.text)


@pytest.mark.parametrize("field", ["app_id", "api_key", "api_password"])
def test_a_refused_credential_is_not_echoed(field: str) -> None:
    values: dict[str, Any] = {
        "app_id": CANARY_APP_ID,
        "api_key": CANARY_KEY,
        "api_password": CANARY_PASSWORD,
    }
    values[field] = values[field] + "\x00"
    with pytest.raises(UsageError) as info:
        KartraClient(**values)
    assert_clean(str(info.value), formatted(info.value))


async def test_a_closed_client_error_is_clean() -> None:
    kartra = client()
    await kartra.aclose()
    with pytest.raises(UsageError) as info:
        await kartra.send(AccountCall().retrieve_account_tags())
    assert_clean(formatted(info.value))
