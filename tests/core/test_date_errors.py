"""260/261 are billing errors from edit_subscription, calendar errors from calendar_subscribe,
and ``InvalidDate`` from either (answered by the sandbox, decoded by the client)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest

from kartra_async import (
    AccountCall,
    BillingError,
    CalendarDateError,
    CalendarError,
    InvalidDate,
    KartraClient,
    LeadRequest,
    SubscriptionDateError,
    decode,
    error_class,
)
from kartra_async._codes import ERROR_CODES
from kartra_async.sandbox import Sandbox


@pytest.fixture
async def client() -> AsyncIterator[tuple[KartraClient, Sandbox]]:
    async with (
        Sandbox(rate_limit=None) as sandbox,
        KartraClient(**sandbox.credentials.as_dict(), base_url=sandbox.url) as client,
    ):
        yield client, sandbox


def test_the_class_depends_on_the_cmd() -> None:
    for code in (260, 261):
        assert error_class(code) is CalendarDateError
        assert error_class(code, "calendar_subscribe") is CalendarDateError
        assert error_class(code, "edit_subscription") is SubscriptionDateError
    assert error_class(248, "edit_subscription") is error_class(248)
    assert issubclass(SubscriptionDateError, BillingError)
    assert issubclass(SubscriptionDateError, InvalidDate)
    assert not issubclass(SubscriptionDateError, CalendarError)
    assert issubclass(CalendarDateError, CalendarError)
    assert issubclass(CalendarDateError, InvalidDate)
    assert not issubclass(CalendarDateError, BillingError)


@pytest.mark.parametrize("code", [260, 261])
def test_edit_subscription_date_codes_decode_as_billing_errors(code: int) -> None:
    # The builder refuses a malformed date before sending, so 260 is decoded from a reply here.
    call = AccountCall().edit_subscription(7, next_payment_date="2030-01-01 09:00")
    message = ERROR_CODES[code][0]
    for reply in (
        {"status": "Error", "message": message, "type": str(code)},
        {
            "status": "Error",
            "message": message,
            "type": str(code),
            "actions": [{"edit_subscription": {"status": "Error", "message": message, "type": code}}],
        },
    ):
        with pytest.raises(BillingError) as info:
            decode(200, json.dumps(reply).encode(), call)
        assert type(info.value) is SubscriptionDateError
        assert isinstance(info.value, InvalidDate)
        assert (info.value.type, info.value.cmd) == (code, "edit_subscription")


async def test_a_past_date_from_the_builder(client: tuple[KartraClient, Sandbox]) -> None:
    kartra, sandbox = client
    subscription = next(
        sub for sub in sandbox.account.subscriptions.values() if sub.gateway == "card"
    )
    call = AccountCall().edit_subscription(
        int(subscription.id), next_payment_date="2020-01-01 09:00"
    )
    with pytest.raises(SubscriptionDateError) as info:
        await kartra.send(call)
    assert info.value.type == 261


async def test_calendar_dates_stay_calendar_errors(client: tuple[KartraClient, Sandbox]) -> None:
    kartra, sandbox = client
    calendar = next(iter(sandbox.account.calendars.values()))
    klass = next(iter(calendar.classes.values()))
    await kartra.send(LeadRequest(email="cal@example.com").create())
    call = LeadRequest(email="cal@example.com").search().calendar_subscribe(
        calendar.name, klass.name, "01 Jan 2020", "09:00"
    )
    with pytest.raises(InvalidDate) as info:
        await kartra.send(call)
    assert type(info.value) is CalendarDateError
    assert info.value.type == 261
