"""The invariant, over random scripts of late commits, resets, timeouts, 429s and refusals.

Each example settles one call against the sandbox's engine in memory; every call the flow
sends gets a random fate (answered, lost before or after its commit, committed later, 429,
refused). After every late commit has landed, the account is the judge:

* points are applied at most once, and never put on the wire again after an attempt carrying
  them may have been applied;
* an ``ok`` outcome means everything was applied exactly once;
* a 244 (``LeadAlreadyExists``) or a ``not_sent`` failure means nothing changed;
* points missing from the account are never reported ``ok``.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from kartra_async import (
    Failure,
    KartraError,
    LeadAlreadyExists,
    LeadRequest,
    OutcomeUnknown,
    Reply,
    RetryPolicy,
)
from kartra_async._settle import Trace

from .harness import Kartra, run

EMAIL = "prop@example.com"
POINTS = 7
FATES = st.sampled_from(["ok", "ok", "ok", "lost_before", "lost_after", "late", "rate_limited", "refused"])
SCRIPT = st.lists(st.tuples(FATES, st.integers(0, 3)), min_size=12, max_size=12)
SHAPES = st.sampled_from(["create", "upsert-create-first", "upsert-edit-first", "search"])
POLICY = RetryPolicy(max_attempts=4, base_delay=0, max_delay=0)


def build(shape: str) -> object:
    lead = LeadRequest(email=EMAIL, first_name="Prop")
    if shape == "create":
        start: object = lead.create()
    elif shape == "search":
        start = LeadRequest(email=EMAIL).search()
    else:
        start = lead.upsert("create-first" if shape.endswith("create-first") else "edit-first")
    return start.assign_tag("VIP").give_points(POINTS).subscribe("Newsletter")  # type: ignore[attr-defined]


def carries_points(call: object) -> bool:
    return any(a.wire_cmd == "give_points_to_lead" for a in getattr(call, "actions", ()))


@settings(max_examples=400, deadline=None)
@given(shape=SHAPES, exists=st.sampled_from(["no", "old", "recent"]), script=SCRIPT)
def test_never_replay_actions_land_at_most_once_and_outcomes_tell_the_truth(
    shape: str, exists: str, script: list[tuple[str, int]]
) -> None:
    kartra = Kartra()
    if exists != "no":
        kartra.account.add_lead(EMAIL)
        kartra.clock.tick(3600 if exists == "old" else 30)
    before = kartra.account.lead_by_email(EMAIL)
    score_before = before.score if before is not None else 0
    leads_before = kartra.account.lead_count()
    fates = iter(script)
    wire: list[tuple[object, str]] = []

    def answer(call: object, n: int) -> object:
        fate, after = next(fates, ("ok", 0))
        wire.append((call, fate))
        return kartra.answer(call, fate, late_after=after)  # type: ignore[arg-type]

    call = build(shape)
    result, _, _ = run(kartra.settler(POLICY).flow(call, Trace()), answer)  # type: ignore[arg-type]
    kartra.land_all()

    # No second lead, ever.
    assert kartra.account.lead_count() <= leads_before + 1
    lead = kartra.account.lead_by_email(EMAIL)
    applied = (lead.score - score_before) // POINTS if lead is not None else 0
    assert applied in (0, 1), f"points applied {applied} times"
    # Once an attempt carrying the points may have landed, no later call carries them.
    spent = False
    for sent, fate in wire:
        if spent:
            assert not carries_points(sent)
        if carries_points(sent) and fate in ("lost_before", "lost_after", "late"):
            spent = True

    if isinstance(result, Reply):
        assert lead is not None
        assert applied == 1
        assert kartra.account.tags["VIP"] in (lead.tags or [])
    else:
        assert isinstance(result, KartraError)
        if isinstance(result, LeadAlreadyExists):
            assert result.failure is Failure.REJECTED
            assert applied == 0
        if result.failure is Failure.NOT_SENT:
            assert applied == 0
            if exists == "no":
                assert lead is None
        if isinstance(result, OutcomeUnknown):
            assert result.cmds
            if applied == 0 and spent:
                assert "give_points_to_lead" in result.cmds
