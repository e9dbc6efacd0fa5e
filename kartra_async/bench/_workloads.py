"""What a benchmark sends: the built-in workloads and leads read from a file, as calls.

Every write is marked: emails end in ``TEST_DOMAIN`` (a file's addresses keep their local part
and get this domain) and lead chains assign ``TEST_TAG``, so a run against a real App is easy
to find and delete afterwards. Building calls is pure; reading a file is the importer's reader.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Final

import attrs

from .._builder import AccountCall, Call, GetLead, LeadRequest
from .._errors import UsageError
from .._importing import ColumnPlan, ImportOptions, guess_format, read_rows

#: The tag every benchmark write assigns (it must exist in a real account: Kartra never
#: creates tags on assignment).
TEST_TAG: Final = "kartra-async-bench"
#: The domain of every lead a benchmark writes (``.example`` is reserved: it never delivers).
TEST_DOMAIN: Final = "bench.kartra-async.example"
#: The built-in workloads; any other value of ``--workload`` is a CSV/JSONL file of leads.
BUILTIN: Final = ("create-chain", "upsert", "get-lead", "inventory")
#: Leads the get-lead workload looks up in a sandbox (seeded before the clock starts).
LOOKUP_POOL: Final = 100


@attrs.frozen
class Workload:
    """A named stream of calls: whether it writes, and whether its items are leads."""

    name: str
    writes: bool
    leads: bool
    path: Path | None = None
    description: str = ""


def workload(name: str) -> Workload:
    """The workload called ``name``, or a file workload when ``name`` is not built in."""
    descriptions = {
        "create-chain": f"create_lead + assign_tag({TEST_TAG}) + give_points(1), a new lead each",
        "upsert": f"adaptive upsert + assign_tag({TEST_TAG}); every lead twice (create, then edit)",
        "get-lead": "get_lead by email (read-only)",
        "inventory": "retrieve tags, lists, sequences and custom fields in one call (read-only)",
    }
    if name in descriptions:
        return Workload(
            name,
            writes=name in ("create-chain", "upsert"),
            leads=name != "inventory",
            description=descriptions[name],
        )
    path = Path(name)
    if not path.is_file():
        raise UsageError(
            f"--workload: {name!r} is neither one of {', '.join(BUILTIN)} nor a readable file"
        )
    return Workload(
        path.name,
        writes=True,
        leads=True,
        path=path,
        description=f"adaptive upsert + assign_tag({TEST_TAG}) of each lead in {path.name}",
    )


def run_tag() -> str:
    """A short random marker that keeps this run's emails apart from earlier runs'."""
    return uuid.uuid4().hex[:8]


def test_email(run: str, index: int) -> str:
    """The ``index``-th email of run ``run`` on ``TEST_DOMAIN``."""
    return f"bench-{run}-{index}@{TEST_DOMAIN}"


def create_chain(email: str) -> Call:
    """A new lead with the benchmark tag and a point: the typical import call."""
    return (
        LeadRequest(email=email, first_name="Bench", last_name="Mark")
        .create()
        .assign_tag(TEST_TAG)
        .give_points(1)
    )


def upsert(email: str) -> Call:
    """Create-or-update the lead, tagged."""
    return (
        LeadRequest(email=email, first_name="Bench", last_name="Mark").upsert().assign_tag(TEST_TAG)
    )


def inventory() -> Call:
    """What ``kartra-async inventory`` asks: the account's tags, lists, sequences, fields."""
    return (
        AccountCall()
        .retrieve_account_tags()
        .retrieve_account_lists()
        .retrieve_account_sequences()
        .retrieve_custom_fields()
    )


def calls(spec: Workload, run: str, *, lookup: tuple[str, ...] = ()) -> Iterator[Call]:
    """The endless (or, for a file, finite) stream of calls of ``spec``.

    ``lookup``: the emails get-lead cycles through (an address that matches no lead is still a
    full round trip: Kartra answers "not found").
    """
    if spec.path is not None:
        yield from file_calls(spec.path, run)
        return
    if spec.name == "create-chain":
        for index in itertools.count():
            yield create_chain(test_email(run, index))
    elif spec.name == "upsert":
        # Each lead twice, the second time as an edit: half the calls take each upsert path.
        for index in itertools.count():
            yield upsert(test_email(run, index // 2))
    elif spec.name == "get-lead":
        emails = lookup or (test_email(run, 0),)
        for email in itertools.cycle(emails):
            yield GetLead(email=email)
    else:
        while True:
            yield inventory()


def file_calls(path: Path, run: str) -> Iterator[Call]:
    """One tagged upsert per valid lead of a CSV/JSONL file, its email moved to ``TEST_DOMAIN``.

    Malformed rows and invalid leads are skipped (``kartra-async import`` reports them; a
    benchmark measures the calls). The local part is kept, so duplicates stay duplicates.
    """
    plan = ColumnPlan()
    options = ImportOptions(mode="upsert", tags=(TEST_TAG,))
    for row in read_rows(path, guess_format(path, None)):
        if row.problem is not None:
            continue
        try:
            lead = plan.lead(row.values, None)
            if lead.email is None:
                continue
            local = lead.email.rsplit("@", 1)[0]
            marked = attrs.evolve(lead, email=f"{local}-{run}@{TEST_DOMAIN}")
            yield options.call_for(marked)
        except UsageError:
            continue


def has_leads(path: Path) -> bool:
    """Whether the file holds a lead to send; ``UsageError`` when it cannot be read at all.

    Reads only up to the first valid lead, so a huge file costs nothing before the run.
    """
    return next(file_calls(path, "check"), None) is not None
