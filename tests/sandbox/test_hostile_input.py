"""Whatever body arrives, the engine answers with a Kartra-shaped reply and never raises."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kartra_async._codes import ERROR_CODES
from kartra_async._form import parse_query
from kartra_async.sandbox import COMMANDS, default_account, process

from .support import CREDENTIALS, NOW

_KEYS = st.sampled_from(
    [
        "lead[email]",
        "lead[id]",
        "lead[custom_fields][0][field_identifier]",
        "lead[custom_fields][0][field_value]",
        "lead[custom_fields][0][field_value][]",
        "lead[new_email]",
        "lead",
        "get_lead[email]",
        "get_lead",
        "actions",
        "actions[0]",
        "actions[0][cmd]",
        "actions[1][cmd]",
        "actions[0][tag_name]",
        "actions[0][points]",
        "actions[0][transaction_id]",
        "actions[0][subscription_id]",
        "actions[0][subscription_recurrence][recurring_period_1]",
        "actions[0][custom_field_options][0][option_name]",
        "actions[0][starting_date]",
        "actions[][cmd]",
    ]
)
_VALUES = st.one_of(
    st.sampled_from(
        [*sorted(COMMANDS), "VIP", "colour", "buyer@example.com", "1", "2", "-3", "9" * 40]
    ),
    st.text(max_size=12),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pairs=st.lists(st.tuples(_KEYS, _VALUES), max_size=8))
def test_engine_never_crashes(pairs: list[tuple[str, str]]) -> None:
    account = default_account(now=lambda: NOW)
    form = parse_query("&".join(f"{key}={value}" for key, value in pairs))
    form.update(CREDENTIALS.as_dict())
    outcome = process(account, form, credentials=CREDENTIALS, now=NOW)
    assert outcome.status in ("Success", "Error")
    if outcome.status == "Error":
        assert int(outcome.type) in ERROR_CODES
        assert outcome.body["message"] == ERROR_CODES[int(outcome.type)][0]
