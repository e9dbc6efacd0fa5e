"""Secrets (issue 8 §4): one session with canary credentials, every error kind provoked, and the
canary searched for everywhere a secret could leak.

Each canary value embeds an alphanumeric core, so the search also catches encoded copies
(percent-encoding, ``repr`` escapes) and partial ones. A positive control proves the search
finds the core where it legitimately is: in the request body.
"""

from __future__ import annotations

import logging
import ssl
import traceback
from collections.abc import Iterator

import pytest
import trustme

from kartra_async import (
    APIError,
    Credentials,
    GetLead,
    KartraClient,
    KartraError,
    LeadRequest,
    LocalPacer,
    NoPacer,
    RetryPolicy,
    Timeouts,
    encode,
)
from kartra_async.sandbox import FaultKind, FaultRule, Sandbox, SandboxCredentials

CORES = ("Qz7appCANARY", "Qz7keyCANARY", "Qz7pwCANARY", "Qz7wrongCANARY")
# Values with characters that encode differently in forms, URLs and reprs.
CANARY = SandboxCredentials(
    app_id=f"app-{CORES[0]}",
    api_key=f"key&={CORES[1]}%",
    api_password=f"pw {CORES[2]}/+?#'\"",
)
WRONG_PASSWORD = f"wrong {CORES[3]}"


class Capture(logging.Handler):
    """Every record of every logger, fully formatted (exception tracebacks included)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))
        self.lines.append(repr(record.args))


@pytest.fixture
def captured() -> Iterator[Capture]:
    handler = Capture()
    root = logging.getLogger()
    library = logging.getLogger("kartra_async")
    old_root, old_library = root.level, library.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    library.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(old_root)
        library.setLevel(old_library)


def leaks(text: str) -> list[str]:
    """The canary cores found in ``text``."""
    return [core for core in CORES if core in text]


def error_texts(error: BaseException) -> list[str]:
    """Everything an exception shows: str, repr, attributes, and the chained traceback."""
    return [
        str(error),
        repr(error),
        repr(vars(error)),
        "".join(traceback.format_exception(error, chain=True)),
    ]


def client(sandbox: Sandbox, **options: object) -> KartraClient:
    return KartraClient(
        **CANARY.as_dict(),
        base_url=sandbox.url,
        pacer=NoPacer(),
        retry=RetryPolicy.none(),
        **options,  # type: ignore[arg-type]
    )


def test_the_search_finds_the_canary_where_it_legitimately_is() -> None:
    body = encode(GetLead(email="a@example.com"), Credentials(**CANARY.as_dict())).decode()
    assert leaks(body) == list(CORES[:3])


async def test_canary_credentials_never_leak(captured: Capture) -> None:
    texts: list[str] = []
    errors: dict[str, BaseException] = {}

    def provoke(name: str, error: BaseException) -> None:
        errors[name] = error
        texts.extend(error_texts(error))

    async with Sandbox(credentials=CANARY, rate_limit=None) as sandbox:
        # Validation errors that receive the secrets themselves.
        for bad in ({"api_key": ""}, {"api_password": CANARY.api_password + "\x00"}):
            with pytest.raises(KartraError) as caught:
                Credentials(**{**CANARY.as_dict(), **bad})
            provoke(f"credentials {sorted(bad)}", caught.value)
        with pytest.raises(KartraError) as caught:
            KartraClient(**CANARY.as_dict(), base_url="http://app.kartra.com/api")
        provoke("insecure url", caught.value)

        async with client(sandbox) as kartra:
            texts += [repr(kartra), str(kartra), repr(kartra.pacer)]
            # API errors.
            api_calls = {
                "lead not found": GetLead(email="nobody@example.com"),
                "lead exists": LeadRequest(email="buyer@example.com").create(),
                "unknown tag": LeadRequest(email="buyer@example.com").search().assign_tag("No"),
            }
            for name, call in api_calls.items():
                texts += [repr(call), str(call)]
                with pytest.raises(APIError) as api_error:
                    await kartra.send(call)
                provoke(name, api_error.value)
            # Transport failures and 429, forced one at a time.
            forced = {
                "429": FaultKind.RATE_LIMITED,
                "5xx": FaultKind.HTTP_502,
                "malformed": FaultKind.MALFORMED_JSON,
                "truncated": FaultKind.TRUNCATED_JSON,
                "reset": FaultKind.RESET_BEFORE,
            }
            for name, kind in forced.items():
                sandbox.faults.force(kind)
                with pytest.raises(KartraError) as transport_error:
                    await kartra.send(GetLead(email="buyer@example.com"))
                provoke(name, transport_error.value)
            # A never-replay action whose reply is lost: outcome unknown.
            sandbox.faults.force(FaultKind.RESET_AFTER)
            with pytest.raises(KartraError) as unknown:
                await kartra.send(LeadRequest(email="buyer@example.com").search().give_points(3))
            provoke("outcome unknown", unknown.value)
            # A successful reply and its typed views.
            reply = await kartra.send(GetLead(email="buyer@example.com"))
            texts += [repr(reply), str(reply), repr(reply.raw), repr(reply.lead)]
        with pytest.raises(KartraError) as closed:
            await kartra.send(GetLead(email="buyer@example.com"))
        provoke("closed client", closed.value)

        # A read timeout.
        sandbox.faults.force(FaultKind.STALL, delay=30.0)
        async with client(sandbox, timeout=Timeouts(connect=5, read=0.2, total=5)) as slow:
            with pytest.raises(KartraError) as timeout:
                await slow.send(GetLead(email="buyer@example.com"))
        provoke("read timeout", timeout.value)

        # Wrong credentials (the wrong password is a secret too).
        async with KartraClient(
            **{**CANARY.as_dict(), "api_password": WRONG_PASSWORD},
            base_url=sandbox.url,
            pacer=NoPacer(),
        ) as wrong:
            with pytest.raises(APIError) as refused:
                await wrong.send(GetLead(email="buyer@example.com"))
        provoke("wrong password", refused.value)

        # A faulty bulk run at DEBUG: retries, reconciliations, 429 pauses, outcomes, progress.
        sandbox.faults.clear()
        for rule in (
            FaultRule(FaultKind.RESET_AFTER, probability=0.2),
            FaultRule(FaultKind.HTTP_500, probability=0.1),
            FaultRule(FaultKind.RATE_LIMITED, count=2),
        ):
            sandbox.faults.add(rule)
        calls = [
            LeadRequest(email=f"canary-{i}@example.com").create().assign_tag("VIP").give_points(1)
            for i in range(30)
        ]
        async with (
            KartraClient(
                **CANARY.as_dict(),
                base_url=sandbox.url,
                pacer=LocalPacer(500),
                retry=RetryPolicy(base_delay=0.01, max_delay=0.05),
            ) as bulk,
            bulk.stream(calls, concurrency=4) as outcomes,
        ):
            async for outcome in outcomes:
                texts += [repr(outcome), str(outcome)]
                if outcome.error is not None:
                    texts.extend(error_texts(outcome.error))
            texts.append(repr(outcomes.progress))
        texts += [
            repr(sandbox),
            repr(sandbox.stats),
            repr(sandbox.faults),
            repr(sandbox.credentials),
        ]
        texts += [repr(record) for record in sandbox.log]
        texts.append(sandbox.export())
        texts.append(sandbox.export(stable=True))

    # Connection refused and an untrusted TLS certificate.
    async with Sandbox(credentials=CANARY, rate_limit=None) as gone:
        url = gone.url
    async with client_to(url) as refused_client:
        with pytest.raises(KartraError) as no_server:
            await refused_client.send(GetLead(email="buyer@example.com"))
    provoke("connection refused", no_server.value)
    ca = trustme.CA()
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(tls)
    async with Sandbox(credentials=CANARY, rate_limit=None, ssl=tls) as secure:
        async with client(secure) as untrusting:
            with pytest.raises(KartraError) as untrusted:
                await untrusting.send(GetLead(email="buyer@example.com"))
        provoke("untrusted certificate", untrusted.value)

    texts.extend(captured.lines)
    # The session really provoked what it claims, and logged at DEBUG.
    kinds = {type(error).__name__ for error in errors.values()}
    assert {
        "ValidationError",
        "UsageError",
        "LeadNotFound",
        "LeadAlreadyExists",
        "TagError",
        "RateLimited",
        "ServerError",
        "MalformedReply",
        "NetworkError",
        "RequestTimeout",
        "OutcomeUnknown",
        "InvalidAPIPassword",
    } <= kinds
    assert any("retrying" in line for line in captured.lines)
    assert any("reconcil" in line for line in captured.lines)
    found = {index: leaks(text) for index, text in enumerate(texts) if leaks(text)}
    assert found == {}, [texts[index][:300] for index in found]


def client_to(url: str) -> KartraClient:
    return KartraClient(**CANARY.as_dict(), base_url=url, pacer=NoPacer(), retry=RetryPolicy.none())
