"""The fault soak at CI size (issue 8 §1): see ``soak.py`` for the faults and the invariants.

``KARTRA_SOAK_LEADS`` raises the size of the fast run (e.g. 10000); the strict run at
Kartra's real 20 calls/s stays small because its length is set by the rate, not by faults.
"""

from __future__ import annotations

import json
import os

import pytest

from .soak import ENV_LEADS, SoakConfig, check, figures, run_soak, strict_config

pytestmark = pytest.mark.slow

CI_LEADS = 2000
STRICT_LEADS = 100


def _report(name: str, result_figures: dict[str, object]) -> None:
    # Shown with `pytest -s`; RELIABILITY.md quotes these figures from a real run.
    print(f"\n{name}: {json.dumps(result_figures, ensure_ascii=False)}")


async def test_fault_soak_holds_every_invariant() -> None:
    config = SoakConfig(leads=int(os.environ.get(ENV_LEADS, str(CI_LEADS))))
    result = await run_soak(config)
    result_figures = figures(result)
    _report("fault soak", result_figures)
    assert check(result) == []
    # The soak must actually have exercised what it claims to prove.
    for kind in (
        "reset_before",
        "reset_after",
        "http_500",
        "http_503",
        "stall",
        "late_commit",
        "rate_limited",
    ):
        assert result.faults.get(kind, 0) > 0, kind
    assert result_figures["inputs_reconciled"] > 0
    assert result_figures["outcome_unknown"] > 0
    assert result_figures["duplicates"] == 0
    assert result_figures["lost"] == 0


async def test_upsert_soak_with_late_commits_never_doubles_points() -> None:
    config = SoakConfig(leads=1000, mode="upsert", late_commit=0.03, seed=12)
    result = await run_soak(config)
    result_figures = figures(result)
    _report("upsert soak", result_figures)
    assert check(result) == []
    assert result.faults.get("late_commit", 0) > 0
    assert result_figures["outcome_unknown"] > 0
    assert result_figures["duplicates"] == 0


async def test_strict_rate_soak_with_429_bursts_completes_every_lead() -> None:
    config = strict_config(STRICT_LEADS)
    result = await run_soak(config)
    result_figures = figures(result)
    _report("strict 20/s soak", result_figures)
    assert check(result) == []
    assert result.faults.get("rate_limited", 0) == config.bursts * config.burst_size
    assert result.pacer_429s >= config.bursts
