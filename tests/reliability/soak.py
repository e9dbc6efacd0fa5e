"""The fault soak: many lead chains through ``KartraClient.stream`` against a faulty sandbox.

Run at CI size by the tests in this package, or by hand at any size::

    python -m tests.reliability.soak --leads 10000          # or KARTRA_SOAK_LEADS=10000
    python -m tests.reliability.soak --leads 300 --strict   # Kartra's real 20 calls/s

Every lead is ``create + assign_tag + subscribe`` (or the same as an upsert) and every fifth
also ``give_points`` (a never-replay action). The sandbox resets connections before and after
commit, answers 5xx, stalls replies after commit until the client's read timeout, commits
*late* (after the client gave up, as a PHP request outliving its client does), garbles and
truncates replies, adds latency and, at a few points of the run, answers bursts of 429s.

The checks (``check``) never trust the client's own account of what happened:

* the sandbox's request log is the ground truth for what committed: one committed
  ``create_lead`` per email, never two calls carrying one lead's points, at most one committed
  ``give_points`` per lead, and "outcome unknown" exactly for the leads whose points-carrying
  call lost its reply (whether it then committed or not: the client cannot know);
* the *expected* account is computed independently, by replaying every input once, without
  faults, through the sandbox engine on a fresh account, with its points where the log shows
  them committed; the faulty run's stable export must equal it byte for byte (this proves:
  nothing lost, nothing duplicated, every safe action in effect, points at most once).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from collections import Counter
from collections.abc import Iterator, Sequence

import attrs

from kartra_async import (
    Credentials,
    KartraClient,
    LeadCall,
    LeadRequest,
    LocalPacer,
    Outcome,
    OutcomeUnknown,
    Timeouts,
    UpsertCall,
    encode,
)
from kartra_async._form import parse_query
from kartra_async.sandbox import (
    FaultKind,
    FaultRule,
    Faults,
    RequestRecord,
    Sandbox,
    SandboxAccount,
    default_account,
    export_account,
    process,
)

#: The environment variable that sets the soak's size (the tests' default is CI-sized).
ENV_LEADS = "KARTRA_SOAK_LEADS"
POINTS_CMD = "give_points_to_lead"
CREATE_CMD = "create_lead"
TAG = "VIP"
LIST = "Newsletter"

#: Injected faults whose reply never reaches the client although the command committed.
LOST_AFTER_COMMIT = frozenset(
    {
        FaultKind.RESET_AFTER.value,
        FaultKind.MALFORMED_JSON.value,
        FaultKind.TRUNCATED_JSON.value,
        FaultKind.STALL.value,
        FaultKind.LATE_COMMIT.value,
    }
)
#: Injected faults after which the client cannot know whether the call ran.
LOST_REPLY = LOST_AFTER_COMMIT | {
    FaultKind.RESET_BEFORE.value,
    FaultKind.HTTP_500.value,
    FaultKind.HTTP_503.value,
}


@attrs.frozen
class SoakConfig:
    """One soak's size, speed and fault mix (probabilities are per HTTP call)."""

    leads: int = 2000
    #: The sandbox's limit (calls per sliding second) and the pacer's ceiling just under it.
    rate_limit: int = 400
    concurrency: int = 16
    seed: int = 8
    #: Every ``points_every``-th lead also gets ``give_points`` (never replayed).
    points_every: int = 5
    reset_before: float = 0.025
    reset_after: float = 0.025
    http_5xx: float = 0.02
    #: Replies stalled after commit until the client's read timeout gives up on them.
    lost_after_commit: float = 0.01
    #: Calls whose reply is lost at the read timeout and that commit a little later.
    late_commit: float = 0.01
    malformed: float = 0.01
    latency: float = 0.3
    max_latency: float = 0.01
    #: Forced 429 bursts, spread evenly over the run.
    bursts: int = 2
    burst_size: int = 4
    read_timeout: float = 1.0
    #: "create" chains or "upsert"s (every lead is new, so an upsert creates it).
    mode: str = "create"

    @property
    def pacer_rate(self) -> float:
        """2 % under the sandbox's limit, as the default pacer is under Kartra's 20/s."""
        return self.rate_limit * 0.98

    def faults(self) -> Faults:
        """The seeded fault rules of this soak."""
        half_5xx = self.http_5xx / 2
        return Faults(
            FaultRule(FaultKind.LATENCY, probability=self.latency, delay=(0.0, self.max_latency)),
            FaultRule(FaultKind.RESET_BEFORE, probability=self.reset_before),
            FaultRule(FaultKind.RESET_AFTER, probability=self.reset_after),
            FaultRule(FaultKind.HTTP_500, probability=half_5xx),
            FaultRule(FaultKind.HTTP_503, probability=half_5xx),
            FaultRule(
                FaultKind.STALL,
                probability=self.lost_after_commit,
                after_commit=True,
                delay=self.read_timeout * 2,
            ),
            FaultRule(
                FaultKind.LATE_COMMIT,
                probability=self.late_commit,
                delay=self.read_timeout * 1.5,
            ),
            FaultRule(FaultKind.MALFORMED_JSON, probability=self.malformed / 3),
            FaultRule(FaultKind.TRUNCATED_JSON, probability=self.malformed / 3),
            FaultRule(FaultKind.HTML_CONTENT_TYPE, probability=self.malformed / 3),
            seed=self.seed,
        )


def email_of(index: int) -> str:
    """The soak's email for input ``index`` (distinct per input)."""
    return f"soak-{index:06d}@example.com"


def points_of(index: int, config: SoakConfig) -> int:
    """The points input ``index`` gives, or 0 when its chain has no ``give_points``."""
    return 5 + index % 7 if index % config.points_every == 0 else 0


def build_call(index: int, config: SoakConfig, *, points: bool = True) -> LeadCall | UpsertCall:
    """Input ``index``: create (with a few non-ASCII fields) + assign_tag + subscribe (+ points)."""
    lead = LeadRequest(
        email=email_of(index), first_name=f"Zoë {index}", last_name="Ørsted & Co = 100%"
    )
    opened = lead.upsert() if config.mode == "upsert" else lead.create()
    call = opened.assign_tag(TAG).subscribe(LIST)
    given = points_of(index, config) if points else 0
    return call.give_points(given) if given else call


def inputs(config: SoakConfig) -> Iterator[LeadCall | UpsertCall]:
    """The soak's inputs, lazily (the stream takes any iterable)."""
    return (build_call(index, config) for index in range(config.leads))


@attrs.define
class SoakResult:
    """Everything a soak produced, for ``check`` and for the figures in RELIABILITY.md."""

    config: SoakConfig
    outcomes: list[Outcome]
    log: list[RequestRecord]
    export: str
    expected_export: str
    faults: dict[str, int]
    sandbox_calls: int
    limiter_429s: int
    elapsed: float
    retried_inputs: int
    reconciled_inputs: int
    pacer_429s: int


async def run_soak(config: SoakConfig) -> SoakResult:
    """Run one soak and return what it produced (``check`` says whether it held)."""
    async with Sandbox(
        rate_limit=config.rate_limit,
        faults=config.faults(),
        seed=config.seed,
        log_size=config.leads * 4 + 1000,
    ) as sandbox:
        creds = sandbox.credentials
        started = time.monotonic()
        outcomes: list[Outcome] = []
        marks = {config.leads * (k + 1) // (config.bursts + 1) for k in range(config.bursts)}
        async with KartraClient(
            app_id=creds.app_id,
            api_key=creds.api_key,
            api_password=creds.api_password,
            base_url=sandbox.url,
            pacer=LocalPacer(config.pacer_rate),
            timeout=Timeouts(connect=5.0, read=config.read_timeout, total=30.0),
        ) as client:
            async with client.stream(inputs(config), concurrency=config.concurrency) as stream:
                async for outcome in stream:
                    outcomes.append(outcome)
                    if len(outcomes) in marks:
                        sandbox.faults.force(FaultKind.RATE_LIMITED, count=config.burst_size)
                progress = stream.progress
            pacer_429s = client.pacer.snapshot().rate_limited
        elapsed = time.monotonic() - started
    # Read the log once the sandbox closed: a stalled handler logs its call only when its
    # stall ends, and closing cuts every stall short and lands every late commit.
    log = list(sandbox.log)
    return SoakResult(
        config=config,
        outcomes=outcomes,
        log=log,
        export=sandbox.export(stable=True),
        expected_export=expected_export(config, creds.app_id, points_committed(log)),
        faults=dict(sandbox.stats.faults),
        sandbox_calls=sandbox.stats.calls,
        limiter_429s=sandbox.stats.rate_limited,
        elapsed=elapsed,
        retried_inputs=progress.retried,
        reconciled_inputs=progress.reconciled,
        pacer_429s=pacer_429s,
    )


def points_committed(log: Sequence[RequestRecord]) -> set[str]:
    """The emails whose points a committed call carried, by the sandbox's log."""
    return {
        record.email
        for record in log
        if record.status == "Success" and POINTS_CMD in record.cmds
    }


def expected_export(config: SoakConfig, app_id: str, with_points: set[str]) -> str:
    """The account a fault-free run must leave: every input applied once, by the engine alone.

    Independent of the client's retry logic: each input is encoded once and processed once on
    a fresh default account, with no network, no faults, no retries. Points are included where
    the sandbox's log shows them committed: after a lost reply the client must never resend
    them, so whether they landed is the sandbox's fact, not the client's claim.
    """
    from kartra_async.sandbox import SandboxCredentials

    account: SandboxAccount = default_account()
    oracle = SandboxCredentials(app_id, "oracle-key", "oracle-password")
    credentials = Credentials(oracle.app_id, oracle.api_key, oracle.api_password)
    for index in range(config.leads):
        call = build_call(index, config, points=email_of(index) in with_points)
        wire = call.as_create() if isinstance(call, UpsertCall) else call
        form = parse_query(encode(wire, credentials))
        result = process(account, form, credentials=oracle, now=account.now())
        if result.status != "Success":
            raise AssertionError(f"the oracle rejected an input: {result.body}")
    return export_account(account, stable=True)


def check(result: SoakResult) -> list[str]:
    """Every broken invariant, as a sentence; an empty list means the soak held."""
    config = result.config
    problems: list[str] = []
    indexes = sorted(outcome.index for outcome in result.outcomes)
    if indexes != list(range(config.leads)):
        problems.append(f"{len(indexes)} outcomes for {config.leads} inputs (or repeated indexes)")

    if len(result.log) != result.sandbox_calls:
        problems.append(
            f"{result.sandbox_calls} calls reached the sandbox, {len(result.log)} logged"
        )
    committed_creates: Counter[str] = Counter()
    committed_points: Counter[str] = Counter()
    points_on_wire: Counter[str] = Counter()
    lost_points: set[str] = set()
    late: set[str] = set()
    for record in result.log:
        if record.fault == FaultKind.LATE_COMMIT.value:
            late.add(record.email)
        # A 429 is Kartra's limiter refusing the call before anything runs: not a send.
        if POINTS_CMD in record.cmds and record.http_status != 429:
            points_on_wire[record.email] += 1
            if record.fault in LOST_REPLY:
                lost_points.add(record.email)
        # A 244 is expected only where a late commit met (or was met by) the resend.
        if record.type == "244" and record.email not in late:
            problems.append(f"a create was resent blindly: 244 for {record.email}")
        if record.status != "Success":
            continue
        if CREATE_CMD in record.cmds:
            committed_creates[record.email] += 1
        if POINTS_CMD in record.cmds:
            committed_points[record.email] += 1
    resent = sorted(email for email, n in points_on_wire.items() if n > 1)
    if resent:
        seen = [
            (r.http_status, r.status, r.type, r.fault)
            for r in result.log
            if r.email == resent[0] and POINTS_CMD in r.cmds
        ]
        problems.append(f"points put on the wire twice: {resent[:5]}, first: {seen}")
    twice = sorted(email for email, n in committed_creates.items() if n > 1)
    if twice:
        problems.append(f"leads created twice: {twice[:5]}")
    missing = [email_of(i) for i in range(config.leads) if committed_creates[email_of(i)] != 1]
    if missing:
        problems.append(f"{len(missing)} leads never created, e.g. {missing[:5]}")
    replayed = sorted(email for email, n in committed_points.items() if n > 1)
    if replayed:
        problems.append(f"points applied more than once: {replayed[:5]}")

    unknown: set[str] = set()
    for outcome in result.outcomes:
        email = email_of(outcome.index)
        if outcome.ok:
            continue
        error = outcome.error
        if isinstance(error, OutcomeUnknown) and error.cmds == (POINTS_CMD,):
            unknown.add(email)
            if outcome.lead_id is None:
                problems.append(f"{email}: outcome unknown without the reconciled lead id")
        else:
            problems.append(f"{email}: failed with {error!r}")
    if unknown != lost_points:
        problems.append(
            "outcome unknown must be reported exactly where a points reply was lost: "
            f"unknown-only {sorted(unknown - lost_points)[:5]}, "
            f"lost-but-reported {sorted(lost_points - unknown)[:5]}"
        )
    if result.export != result.expected_export:
        problems.append("the final account differs from the expected account")
    return problems


def figures(result: SoakResult) -> dict[str, object]:
    """The run's figures, as RELIABILITY.md reports them."""
    outcomes = result.outcomes
    committed = Counter(
        record.email
        for record in result.log
        if record.status == "Success" and CREATE_CMD in record.cmds
    )
    return {
        "leads": result.config.leads,
        "rate_limit": result.config.rate_limit,
        "http_calls": result.sandbox_calls,
        "calls_per_lead": round(result.sandbox_calls / max(1, result.config.leads), 3),
        "faults_injected": dict(sorted(result.faults.items())),
        "limiter_429s": result.limiter_429s,
        "inputs_retried": result.retried_inputs,
        "retries": sum(outcome.retries for outcome in outcomes),
        "inputs_reconciled": result.reconciled_inputs,
        "outcome_unknown": sum(1 for outcome in outcomes if outcome.unknown),
        "failed": sum(1 for outcome in outcomes if not outcome.ok and not outcome.unknown),
        "duplicates": sum(n - 1 for n in committed.values() if n > 1),
        "lost": result.config.leads - len(committed),
        "elapsed_s": round(result.elapsed, 1),
    }


def strict_config(leads: int) -> SoakConfig:
    """A soak at Kartra's real limit (20/s, the default pacer's 19.6/s) with 429 bursts."""
    return SoakConfig(leads=leads, rate_limit=20, concurrency=8, bursts=2, burst_size=3)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: run one soak, print its figures as JSON, exit 1 if an invariant broke."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=int(os.environ.get(ENV_LEADS, "2000")))
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument("--strict", action="store_true", help="Kartra's real 20 calls/s limit")
    parser.add_argument("--upsert", action="store_true", help="upserts instead of creates")
    args = parser.parse_args(argv)
    config = strict_config(args.leads) if args.strict else SoakConfig(leads=args.leads)
    config = attrs.evolve(config, seed=args.seed, mode="upsert" if args.upsert else "create")
    result = asyncio.run(run_soak(config))
    problems = check(result)
    print(json.dumps({**figures(result), "problems": problems}, indent=1, ensure_ascii=False))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
