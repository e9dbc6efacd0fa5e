"""Retry decisions: every (failure kind × safety) pair, backoff, deadline, budget, determinism."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kartra_async._errors import UsageError
from kartra_async._retry import (
    Decision,
    FailureKind,
    RetryBudget,
    RetryPolicy,
    Verdict,
    decide,
    safety_table_markdown,
    strictest,
)
from kartra_async._safety import Safety

R, N, A, E = Verdict.RETRY, Verdict.RECONCILE, Verdict.OUTCOME_UNKNOWN, Verdict.GIVE_UP

# The rules of issue 4, written out as a table independent of the code's branching.
EXPECTED = {
    (FailureKind.RATE_LIMITED, Safety.READ): R,
    (FailureKind.RATE_LIMITED, Safety.REPEATABLE): R,
    (FailureKind.RATE_LIMITED, Safety.RECONCILE): R,
    (FailureKind.RATE_LIMITED, Safety.NEVER): R,
    (FailureKind.NOT_SENT, Safety.READ): R,
    (FailureKind.NOT_SENT, Safety.REPEATABLE): R,
    (FailureKind.NOT_SENT, Safety.RECONCILE): R,
    (FailureKind.NOT_SENT, Safety.NEVER): R,
    (FailureKind.AMBIGUOUS, Safety.READ): R,
    (FailureKind.AMBIGUOUS, Safety.REPEATABLE): R,
    (FailureKind.AMBIGUOUS, Safety.RECONCILE): N,
    (FailureKind.AMBIGUOUS, Safety.NEVER): A,
    (FailureKind.API, Safety.READ): E,
    (FailureKind.API, Safety.REPEATABLE): E,
    (FailureKind.API, Safety.RECONCILE): E,
    (FailureKind.API, Safety.NEVER): E,
}


def first_failure(kind: FailureKind, safety: Safety, budget: RetryBudget | None = None) -> Decision:
    return decide(kind, safety, 1, 0.0, RetryPolicy(), budget, random.Random(7))


def test_every_pair_is_covered() -> None:
    assert len(EXPECTED) == len(FailureKind) * len(Safety)


@pytest.mark.parametrize(("kind", "safety"), sorted(EXPECTED, key=str))
def test_first_failure_verdicts(kind: FailureKind, safety: Safety) -> None:
    decision = first_failure(kind, safety)
    assert decision.verdict is EXPECTED[kind, safety]
    assert decision.reason
    if decision.verdict is not Verdict.RETRY:
        assert decision.delay == 0.0


@pytest.mark.parametrize("safety", list(Safety))
def test_429_retries_wait_at_least_a_second(safety: Safety) -> None:
    rng = random.Random(1)
    policy = RetryPolicy(base_delay=0.0)
    for attempt in range(1, 5):
        decision = decide(FailureKind.RATE_LIMITED, safety, attempt, 0.0, policy, None, rng)
        assert decision.verdict is Verdict.RETRY
        assert decision.delay >= 1.0


@given(
    attempt=st.integers(min_value=1, max_value=2000),
    base=st.floats(min_value=0.0, max_value=5.0),
    cap=st.floats(min_value=0.0, max_value=60.0),
    seed=st.integers(min_value=0, max_value=2**32),
)
def test_backoff_stays_within_full_jitter_bounds(
    attempt: int, base: float, cap: float, seed: int
) -> None:
    policy = RetryPolicy(base_delay=base, max_delay=cap)
    delay = policy.backoff(attempt, random.Random(seed))
    assert 0.0 <= delay <= cap
    assert delay <= base * 2 ** min(attempt - 1, 60)


def test_backoff_grows_on_average() -> None:
    policy = RetryPolicy(base_delay=0.1, max_delay=100.0)
    rng = random.Random(3)
    means = [sum(policy.backoff(a, rng) for _ in range(300)) / 300 for a in (1, 3, 5)]
    assert means[0] < means[1] < means[2]


def test_decisions_are_deterministic_under_a_seed() -> None:
    def run(seed: int) -> list[Decision]:
        rng = random.Random(seed)
        budget = RetryBudget()
        return [
            decide(kind, Safety.READ, attempt, 0.0, RetryPolicy(), budget, rng)
            for attempt in range(1, 5)
            for kind in (FailureKind.NOT_SENT, FailureKind.AMBIGUOUS, FailureKind.RATE_LIMITED)
        ]

    assert run(42) == run(42)
    assert run(42) != run(43)


@pytest.mark.parametrize(
    ("kind", "safety", "verdict"),
    [
        (FailureKind.NOT_SENT, Safety.NEVER, E),
        (FailureKind.RATE_LIMITED, Safety.RECONCILE, E),
        (FailureKind.AMBIGUOUS, Safety.READ, E),
        (FailureKind.AMBIGUOUS, Safety.REPEATABLE, A),
    ],
)
def test_attempts_exhausted(kind: FailureKind, safety: Safety, verdict: Verdict) -> None:
    policy = RetryPolicy(max_attempts=3)
    rng = random.Random(0)
    assert decide(kind, safety, 2, 0.0, policy, None, rng).verdict is Verdict.RETRY
    assert decide(kind, safety, 3, 0.0, policy, None, rng).verdict is verdict


def test_policy_none_sends_once_but_still_reconciles() -> None:
    policy = RetryPolicy.none()
    rng = random.Random(0)
    for kind in (FailureKind.RATE_LIMITED, FailureKind.NOT_SENT):
        assert decide(kind, Safety.READ, 1, 0.0, policy, None, rng).verdict is E
    assert decide(FailureKind.AMBIGUOUS, Safety.REPEATABLE, 1, 0.0, policy, None, rng).verdict is A
    assert decide(FailureKind.AMBIGUOUS, Safety.RECONCILE, 1, 0.0, policy, None, rng).verdict is N


def test_no_retry_starts_past_the_deadline() -> None:
    policy = RetryPolicy(deadline=10.0, base_delay=0.0)
    rng = random.Random(0)
    assert decide(FailureKind.NOT_SENT, Safety.READ, 1, 9.5, policy, None, rng).verdict is R
    # A 429 retry waits at least a second, which would end past the deadline.
    late = decide(FailureKind.RATE_LIMITED, Safety.READ, 1, 9.5, policy, None, rng)
    assert late.verdict is E
    assert "deadline" in late.reason
    assert decide(FailureKind.AMBIGUOUS, Safety.REPEATABLE, 1, 10.5, policy, None, rng).verdict is A
    assert decide(FailureKind.AMBIGUOUS, Safety.RECONCILE, 1, 10.5, policy, None, rng).verdict is A
    assert decide(FailureKind.AMBIGUOUS, Safety.RECONCILE, 1, 9.5, policy, None, rng).verdict is N


def test_budget_bounds_retries_over_a_run() -> None:
    budget = RetryBudget(ratio=0.1, floor=5.0, cap=50.0)
    rng = random.Random(0)
    retried = 0
    for _ in range(200):  # an outage: every call fails before sending, and keeps failing
        budget.record_first_attempt()
        for attempt in range(1, 4):
            decision = decide(
                FailureKind.NOT_SENT, Safety.READ, attempt, 0.0, RetryPolicy(), budget, rng
            )
            if decision.verdict is not Verdict.RETRY:
                assert "budget" in decision.reason
                break
            retried += 1
    assert retried == budget.retries
    assert retried <= 5 + 0.1 * 200
    assert retried >= 5 + 0.1 * 200 - 1
    assert budget.refused > 0


def test_budget_cap_limits_banked_credit() -> None:
    budget = RetryBudget(ratio=1.0, floor=2.0, cap=10.0)
    for _ in range(1000):
        budget.record_first_attempt()
    spent = 0
    while budget.try_spend():
        spent += 1
    assert spent == 10


def test_429s_are_not_charged_to_the_budget() -> None:
    budget = RetryBudget(ratio=0.0, floor=0.0, cap=0.0)
    rng = random.Random(0)
    assert (
        decide(FailureKind.RATE_LIMITED, Safety.RECONCILE, 1, 0, RetryPolicy(), budget, rng).verdict
        is R
    )
    assert (
        decide(FailureKind.NOT_SENT, Safety.RECONCILE, 1, 0, RetryPolicy(), budget, rng).verdict
        is E
    )
    assert (
        decide(FailureKind.AMBIGUOUS, Safety.RECONCILE, 1, 0, RetryPolicy(), budget, rng).verdict
        is N
    )
    assert budget.retries == 0


def test_nonsense_configuration_is_refused() -> None:
    with pytest.raises(UsageError):
        RetryPolicy(max_attempts=0)
    with pytest.raises(UsageError):
        RetryPolicy(rate_limit_wait=0.5)
    with pytest.raises(UsageError):
        RetryPolicy(base_delay=-1.0)
    with pytest.raises(UsageError):
        RetryBudget(floor=10.0, cap=5.0)
    with pytest.raises(UsageError):
        decide(FailureKind.NOT_SENT, Safety.READ, 0, 0.0, RetryPolicy(), None, random.Random())


def test_strictest_is_the_most_dangerous_action() -> None:
    assert strictest([Safety.READ, Safety.NEVER, Safety.REPEATABLE]) is Safety.NEVER
    assert strictest([Safety.REPEATABLE, Safety.RECONCILE]) is Safety.RECONCILE
    assert strictest([Safety.REPEATABLE]) is Safety.REPEATABLE
    assert strictest([]) is Safety.READ


def test_safety_table_renders_every_command_safest_first() -> None:
    table = {
        "give_points_to_lead": Safety.NEVER,
        "assign_tag": Safety.REPEATABLE,
        "create_lead": Safety.RECONCILE,
        "search_lead": Safety.READ,
        "subscribe_lead_to_list": Safety.REPEATABLE,
    }
    text = safety_table_markdown(table)
    lines = text.strip().splitlines()
    assert lines[0].startswith("| command")
    body = lines[2:]
    assert len(body) == len(table)
    order = [line.split("`")[1] for line in body]
    assert order == [
        "search_lead",
        "assign_tag",
        "subscribe_lead_to_list",
        "create_lead",
        "give_points_to_lead",
    ]
    assert "outcome unknown" in body[-1]
    assert all(line.count("|") == 4 for line in lines)
