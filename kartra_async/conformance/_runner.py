"""Running the scenarios against an endpoint and an in-process sandbox, side by side.

The only I/O of the conformance check: raw form posts over aiohttp (so the scenarios can send
what the typed client refuses), the reference sandbox's lifecycle, and the ``--record`` files.
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import time
from pathlib import Path
from typing import Any

import aiohttp
import attrs

from .._builder import AccountCall
from .._errors import KartraError
from .._form import build_query
from .._model import Credentials
from .._protocol import FormBody, decode
from ..sandbox import Sandbox, SandboxAccount, SandboxCredentials
from ._compare import Answer, Difference, compare, scrub, shape_of
from ._scenarios import SCENARIOS, Context, Form, Inventory, Scenario, Step

_CREDENTIAL_KEYS = ("app_id", "api_key", "api_password")
_WRONG_PASSWORD = "kartra-async-conformance-wrong-password"


class ConformanceError(Exception):
    """The check cannot run: the endpoint is unreachable, refuses the credentials, or lacks
    the tag every created lead must carry."""


@attrs.frozen
class Options:
    """How to run: the inventory, this run's id, the endpoint's pace and the optional extras.

    ``rate``: calls per second sent to the endpoint (0: unpaced). ``burst``: run the 429
    scenario with ``burst_size`` calls at once. ``record``: save every endpoint reply there.
    ``only``: run just these scenarios (Test Mode detection always runs: the rest depend on it).
    """

    inventory: Inventory = attrs.field(factory=Inventory)
    run_id: str = attrs.field(factory=lambda: secrets.token_hex(4))
    rate: float = 4.0
    burst: bool = False
    burst_size: int = 40
    record: Path | None = None
    timeout: float = 30.0
    only: frozenset[str] | None = None


@attrs.frozen
class ScenarioResult:
    """One scenario's outcome: its differences, or why it was skipped."""

    name: str
    summary: str
    differences: tuple[Difference, ...] = ()
    skipped: str = ""


@attrs.frozen
class Report:
    """The whole run: per-scenario results, the detected Test Mode and what was created."""

    run_id: str
    url: str
    test_mode: bool
    tag: str
    results: tuple[ScenarioResult, ...]
    created: tuple[str, ...]

    @property
    def differences(self) -> int:
        """How many differences were found, over every scenario."""
        return sum(len(result.differences) for result in self.results)

    def render(self) -> list[str]:
        """The report as printable lines."""
        lines = [
            f"conformance run {self.run_id} against {self.url}",
            f"Test Mode: {'on (leads are stored under @kartra.com)' if self.test_mode else 'off'}",
        ]
        for result in self.results:
            if result.skipped:
                lines.append(f"  skip  {result.name}: {result.skipped}")
            elif result.differences:
                lines.append(f"  DIFF  {result.name}: {result.summary}")
                lines.extend(f"          {diff.render()}" for diff in result.differences)
            else:
                lines.append(f"  same  {result.name}")
        if self.created:
            stored = " (stored under @kartra.com: Test Mode)" if self.test_mode else ""
            lines.append(f"leads created on the endpoint{stored}, each tagged {self.tag!r}:")
            lines.extend(f"  {address}" for address in self.created)
        compared = sum(1 for result in self.results if not result.skipped)
        differing = sum(1 for result in self.results if result.differences)
        lines.append(
            f"{compared} scenarios compared, {differing} differ ({self.differences} differences), "
            f"{len(self.results) - compared} skipped"
        )
        return lines


class Poster:
    """Posts raw forms to one endpoint with one set of credentials, no faster than ``rate``."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        url: str,
        credentials: Credentials,
        *,
        rate: float = 0.0,
    ) -> None:
        self._session = session
        self.url = url
        self._credentials = credentials
        self._interval = 1.0 / rate if rate > 0 else 0.0
        self._next = 0.0

    def __repr__(self) -> str:
        return f"<Poster {self.url}: credentials hidden>"

    @property
    def secrets(self) -> tuple[str, ...]:
        """The values to scrub from anything recorded."""
        return tuple(self._credentials.form_fields().values())

    async def post(self, form: Form, *, wrong_password: bool = False, paced: bool = True) -> Answer:
        """Send ``form`` with the credentials (or a wrong password); the raw answer."""
        if paced and self._interval:
            now = time.monotonic()
            wait = self._next - now
            self._next = max(now, self._next) + self._interval
            if wait > 0:
                await asyncio.sleep(wait)
        body = _form_body(self._credentials, form, wrong_password)
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        try:
            async with self._session.post(self.url, data=body, headers=headers) as response:
                raw = await response.read()
                return Answer(response.status, response.headers.get("Content-Type", ""), raw)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise ConformanceError(f"{self.url}: {type(exc).__name__}: {exc}") from None


def _form_body(credentials: Credentials, form: Form, wrong_password: bool) -> FormBody:
    """The encoded request. A function of its own, so no caller's frame holds the credentials
    as a plain local: a traceback rendered with locals shows only the ``FormBody``'s repr."""
    fields: dict[str, Any] = dict(credentials.form_fields())
    if wrong_password:
        fields["api_password"] = _WRONG_PASSWORD
    return FormBody(build_query({**fields, **form}).encode("ascii"))


class _Recorder:
    def __init__(self, root: Path | None, secrets_: tuple[str, ...]) -> None:
        self._root = root
        self._secrets = secrets_
        self._counts: dict[str, int] = {}

    def save(self, scenario: str, step: Step, form: Form, answer: Answer) -> None:
        if self._root is None:
            return
        number = self._counts.get(scenario, 0) + 1
        self._counts[scenario] = number
        slug = re.sub(r"[^a-z0-9]+", "-", step.name.lower()).strip("-")
        folder = self._root / scenario
        folder.mkdir(parents=True, exist_ok=True)
        request = {key: value for key, value in form.items() if key not in _CREDENTIAL_KEYS}
        record = {
            "scenario": scenario,
            "step": step.name,
            "request": json.loads(scrub(json.dumps(request), self._secrets)),
            "http_status": answer.http_status,
            "content_type": answer.content_type,
            "body": scrub(answer.body.decode("utf-8", "replace"), self._secrets),
        }
        path = folder / f"{number:02d}-{slug}.json"
        path.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _created(answer: Answer) -> bool:
    actions = shape_of(answer).actions
    return bool(actions) and actions[0].cmd == "create_lead" and actions[0].status == "Success"


def _ok(answer: Answer) -> bool:
    try:
        payload = json.loads(answer.body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return False
    return isinstance(payload, dict) and str(payload.get("status", "")).lower() == "success"


#: ``SandboxAccount.seed``'s custom field spec: a type, or a type and its option names.
FieldSpec = str | tuple[str, list[str]]


async def _read_account(endpoint: Poster, tag: str) -> dict[str, FieldSpec]:
    """Check the tag exists; the endpoint's custom field definitions, to mirror them.

    Two reads, nothing written: a lead profile lists every custom field of the account, so
    the sandbox must define the same ones for the profiles to be comparable.
    """
    call = AccountCall().retrieve_account_tags().retrieve_custom_fields()
    answer = await endpoint.post(
        {"actions": [{"cmd": "retrieve_account_tags"}, {"cmd": "retrieve_custom_fields"}]}
    )
    try:
        reply = decode(answer.http_status, answer.body, call)
    except KartraError as exc:
        raise ConformanceError(f"the endpoint refused the first call: {exc}") from None
    if tag not in reply.account_tags:
        raise ConformanceError(
            f"the account has no tag {tag!r}: create it in Kartra first (every lead this check "
            "creates is tagged with it), or name an existing one with --tag"
        )
    fields: dict[str, FieldSpec] = {}
    for definition in reply.custom_fields:
        kind = str(definition.type or "input_field")
        names = [option.value or str(option.option_id) for option in definition.options]
        fields[definition.identifier] = (kind, names) if names else kind
    return fields


def _account(inventory: Inventory, fields: dict[str, FieldSpec]) -> SandboxAccount:
    """The reference account: only what the scenarios use, and the endpoint's custom fields."""
    return SandboxAccount().seed(
        custom_fields=fields,
        tags=[inventory.tag],
        lists=[inventory.list] if inventory.list else [],
        sequences={inventory.sequence[0]: [inventory.sequence[1]]} if inventory.sequence else None,
        calendars={inventory.calendar[0]: [inventory.calendar[1]]} if inventory.calendar else None,
    )


@attrs.define
class _Run:
    endpoint: Poster
    options: Options
    recorder: _Recorder
    created: list[str] = attrs.field(factory=list)

    async def on_endpoint(self, scenario: Scenario, ctx: Context) -> list[Answer]:
        answers = []
        for step in scenario.steps:
            form = step.build(ctx)
            answer = await self.endpoint.post(form, wrong_password=step.wrong_password)
            self.recorder.save(scenario.name, step, form, answer)
            if _created(answer) and ctx.email() not in self.created:
                self.created.append(ctx.email())
            answers.append(answer)
        return answers

    async def compare(
        self, scenario: Scenario, ctx: Context, reference: Poster, answers: list[Answer] | None
    ) -> ScenarioResult:
        if answers is None:
            answers = await self.on_endpoint(scenario, ctx)
        differences: list[Difference] = []
        for step, theirs in zip(scenario.steps, answers, strict=True):
            ours = await reference.post(step.build(ctx), wrong_password=step.wrong_password)
            differences.extend(compare(step.name, shape_of(ours), shape_of(theirs)))
        return ScenarioResult(scenario.name, scenario.summary, tuple(differences))

    async def burst(self, scenario: Scenario, ctx: Context, reference: Poster) -> ScenarioResult:
        step = scenario.steps[0]
        size = self.options.burst_size
        differences: list[Difference] = []
        ours = await _burst(reference, step.build(ctx), size)
        theirs = await _burst(self.endpoint, step.build(ctx), size)
        name = f"{size} calls at once"
        refused = [answer.http_status == 429 for answer in (ours, theirs)]
        if refused[0] != refused[1]:
            differences.append(Difference(name, "a 429 came", repr(refused[0]), repr(refused[1])))
        else:
            differences.extend(compare(name, shape_of(ours), shape_of(theirs)))
        self.recorder.save(scenario.name, step, step.build(ctx), theirs)
        return ScenarioResult(scenario.name, scenario.summary, tuple(differences))


async def _burst(poster: Poster, form: Form, size: int) -> Answer:
    """Send ``size`` copies of ``form`` at once; the first 429 answer, else the last answer."""
    answers = await asyncio.gather(*(poster.post(form, paced=False) for _ in range(size)))
    return next((answer for answer in answers if answer.http_status == 429), answers[-1])


def _chosen(options: Options, scenario: Scenario, detection: Scenario) -> bool:
    return options.only is None or scenario.name in options.only or scenario is detection


def _detected(answers: list[Answer]) -> bool:
    """Test Mode when the lead is missing under its address and found under @kartra.com."""
    _created, by_address, by_stored = answers
    return not _ok(by_address) and _ok(by_stored)


async def run_conformance(
    url: str,
    credentials: Credentials,
    options: Options | None = None,
    *,
    session: aiohttp.ClientSession | None = None,
) -> Report:
    """Run every scenario against ``url`` and an in-process sandbox; report the differences.

    The sandbox is configured like the endpoint where that is detected (Test Mode), seeded with
    the inventory, and otherwise left as it ships, so each difference is a place where the
    sandbox and the endpoint disagree.
    """
    options = options or Options()
    timeout = aiohttp.ClientTimeout(total=options.timeout)
    own = session is None
    http = session or aiohttp.ClientSession(timeout=timeout)
    try:
        endpoint = Poster(http, url, credentials, rate=options.rate)
        fields = await _read_account(endpoint, options.inventory.tag)
        run = _Run(endpoint, options, _Recorder(options.record, endpoint.secrets))
        base = Context(options.run_id, options.inventory)
        detection = SCENARIOS[0]
        detection_answers = await run.on_endpoint(
            detection, attrs.evolve(base, scenario=detection.name)
        )
        test_mode = _detected(detection_answers)
        base = attrs.evolve(base, test_mode=test_mode)
        results: list[ScenarioResult] = []
        account = _account(options.inventory, fields)
        async with Sandbox(account, rate_limit=None, test_mode=test_mode) as sandbox:
            reference = Poster(http, sandbox.url, _credentials(sandbox.credentials))
            for scenario in SCENARIOS:
                ctx = attrs.evolve(base, scenario=scenario.name)
                missing = scenario.missing(options.inventory)
                if scenario.burst or not _chosen(options, scenario, detection):
                    continue
                if missing:
                    flags = ", ".join(f"--{need}" for need in missing)
                    results.append(
                        ScenarioResult(scenario.name, scenario.summary, skipped=f"needs {flags}")
                    )
                    continue
                answers = detection_answers if scenario is detection else None
                results.append(await run.compare(scenario, ctx, reference, answers))
        for scenario in SCENARIOS:
            if not scenario.burst or not _chosen(options, scenario, detection):
                continue
            if not options.burst:
                results.append(
                    ScenarioResult(scenario.name, scenario.summary, skipped="opt-in: --burst")
                )
                continue
            # Kartra's own limit: a fresh sandbox, so earlier calls do not count.
            limited_account = _account(options.inventory, fields)
            async with Sandbox(limited_account, test_mode=test_mode) as limited:
                reference = Poster(http, limited.url, _credentials(limited.credentials))
                ctx = attrs.evolve(base, scenario=scenario.name)
                results.append(await run.burst(scenario, ctx, reference))
    finally:
        if own:
            await http.close()
    created = tuple(run.created)
    return Report(options.run_id, url, test_mode, options.inventory.tag, tuple(results), created)


def _credentials(credentials: SandboxCredentials) -> Credentials:
    return Credentials(credentials.app_id, credentials.api_key, credentials.api_password)
