"""The first-attempt fast path (``Settler.first_attempt`` / ``after_first``) settles exactly as
``Settler.flow``: same sends, sleeps, outcome, trace, budget and account, whatever the first
attempt's fate. The client takes it for every fresh call but an upsert."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from kartra_async import GetLead, KartraError, LeadRequest, Reply
from kartra_async._builder import WireCall
from kartra_async._settle import Send, Settler, Sleep, Trace

from .harness import Fate, Kartra, cmds, run

FATES: tuple[Fate, ...] = ("ok", "lost_before", "lost_after", "late", "rate_limited", "refused")

CALLS: dict[str, Callable[[], WireCall]] = {
    "create": lambda: (
        LeadRequest(email="new.lead@example.com", first_name="Ann")
        .create()
        .assign_tag("VIP")
        .give_points(5)
        .subscribe("Newsletter")
    ),
    "search + points": lambda: LeadRequest(email="buyer@example.com").search().give_points(3),
    "search + tag": lambda: LeadRequest(email="buyer@example.com").search().assign_tag("VIP"),
    "get_lead": lambda: GetLead(email="buyer@example.com"),
}

Outcome = tuple[Reply | KartraError, list[Send], list[Sleep]]


def _fates(first: Fate) -> Iterator[Fate]:
    yield first
    while True:
        yield "ok"


def _by_flow(
    kartra: Kartra, settler: Settler, call: WireCall, trace: Trace, first: Fate
) -> Outcome:
    fates = _fates(first)
    return run(settler.flow(call, trace), lambda c, n: kartra.answer(c, next(fates)))


def _by_fast_path(
    kartra: Kartra, settler: Settler, call: WireCall, trace: Trace, first: Fate
) -> Outcome:
    fates = _fates(first)
    assert settler.direct(call)
    times = settler.first_attempt(trace)
    sent = [Send(call, "attempt", 1)]
    answer = kartra.answer(call, next(fates))
    if not isinstance(answer, KartraError):
        return answer, sent, []
    result, sends, sleeps = run(
        settler.after_first(call, trace, times, answer), lambda c, n: kartra.answer(c, next(fates))
    )
    return result, sent + sends, sleeps


def _summary(kartra: Kartra, settler: Settler, trace: Trace, outcome: Outcome) -> object:
    result, sends, sleeps = outcome
    kartra.land_all()
    budget = settler.budget
    return (
        type(result).__name__,
        str(result) if isinstance(result, KartraError) else result.lead_id,
        getattr(result, "failure", None),
        [(cmds(send), send.purpose, send.attempt) for send in sends],
        [(sleep.reason, sleep.attempt) for sleep in sleeps],
        trace,
        (budget.first_attempts, budget.balance, budget.retries, budget.refused),
        [
            (lead.email, lead.score, sorted(lead.tags or []))
            for lead in kartra.account.leads.values()
        ],
    )


@pytest.mark.parametrize("first", FATES)
@pytest.mark.parametrize("name", list(CALLS))
def test_the_fast_path_settles_exactly_as_the_flow(name: str, first: Fate) -> None:
    summaries = []
    for settle in (_by_flow, _by_fast_path):
        kartra = Kartra()
        settler = kartra.settler()
        trace = Trace()
        outcome = settle(kartra, settler, CALLS[name](), trace, first)
        summaries.append(_summary(kartra, settler, trace, outcome))
    assert summaries[0] == summaries[1]


def test_upserts_never_take_the_fast_path() -> None:
    upsert = LeadRequest(email="new.lead@example.com").upsert("create-first")
    assert not Settler.direct(upsert)
