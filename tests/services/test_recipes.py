"""The recipes in ``examples/`` run as documented, against the sandbox."""

from __future__ import annotations

import importlib.util
import json
import sqlite3
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import aiohttp
import pytest

from kartra_async.events import TagEvent
from kartra_async.sandbox import Sandbox

from .asgi_server import loopback_socket, serving
from .support import threaded_sandbox

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def load_example(name: str) -> ModuleType:
    """Import ``examples/<name>.py`` as a fresh module."""
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def point_env_at(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in sandbox.credentials.as_env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("KARTRA_BASE_URL", sandbox.url)


# --- the FastAPI service -----------------------------------------------------------------


async def test_fastapi_service_upserts_leads_and_receives_events(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sock = loopback_socket()
    port = sock.getsockname()[1]
    monkeypatch.setenv("KARTRA_WEBHOOK_PATH", "/kartra/secret-path")
    hook_url = f"http://127.0.0.1:{port}/kartra/secret-path"
    async with Sandbox(webhook_url=hook_url) as sandbox:
        point_env_at(sandbox, monkeypatch)
        service = load_example("fastapi_service")
        app = service.create_app()
        async with serving(app, sock=sock) as base, aiohttp.ClientSession() as http:
            body = {"email": "svc@example.com", "first_name": "Svc", "tags": ["VIP"]}
            async with http.post(f"{base}/leads", json=body) as response:
                created = (response.status, await response.json())
            async with http.post(f"{base}/leads", json={**body, "last_name": "Two"}) as response:
                updated = (response.status, await response.json())
            async with http.post(f"{base}/leads", json={"email": "a..b@x.co"}) as response:
                invalid = (response.status, await response.json())
            async with http.post(
                f"{base}/leads", json={"email": "x@example.com", "tags": [""]}
            ) as r:
                empty_tag = r.status
            await sandbox.wait_events()
            events = list(app.state.events)
        assert app.state.kartra.closed  # the lifespan closed the client
    assert created[0] == 200 and created[1]["lead_id"] is not None
    assert updated == (200, created[1])
    assert invalid[0] == 422 and "email" in invalid[1]["detail"]
    assert empty_tag == 422
    lead = sandbox.account.lead_by_email("svc@example.com")
    assert lead is not None and lead.field("last_name") == "Two"
    assert any(isinstance(event, TagEvent) and event.tag.name == "VIP" for event in events)


# --- the nightly cron job ----------------------------------------------------------------


@pytest.fixture
def sandbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    with threaded_sandbox(rate_limit=None) as sb:
        point_env_at(sb, monkeypatch)
        yield sb


def make_database(path: Path, rows: list[tuple[str, str, str, str]]) -> None:
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE IF NOT EXISTS customers"
            " (email TEXT, first_name TEXT, last_name TEXT, updated_at TEXT)"
        )
        db.executemany("INSERT INTO customers VALUES (?, ?, ?, ?)", rows)


def results(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_nightly_sync_runs_resumes_and_reports_by_exit_status(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    nightly = load_example("nightly_sync")
    database, runs = tmp_path / "app.sqlite3", tmp_path / "runs"
    make_database(
        database,
        [
            ("ann@example.com", "Ann", "Lee", "2026-11-29T10:00"),
            ("bob@example.com", "Bob", "Ray", "2026-11-29T11:00"),
            ("cy@example.com", "Cy", "Oz", "2026-11-30T01:00"),
        ],
    )
    args = [str(database), "--runs", str(runs), "--tag", "Customer"]

    assert nightly.main([*args, "--date", "2026-11-30"]) == 0
    first = runs / "2026-11-30"
    assert {r["outcome"] for r in results(first / "results.jsonl")} == {"created"}
    assert len(results(first / "results.jsonl")) == 3
    assert (first / "journal.jsonl").exists()
    assert (runs / "last-success").read_text() == "2026-11-30\n"
    ann = sandbox.account.lead_by_email("ann@example.com")
    assert ann is not None and sandbox.account.tags["Customer"] in ann.tags

    # Running the same night again resumes its journal: nothing is sent twice.
    leads_before = len(sandbox.account.leads)
    assert nightly.main([*args, "--date", "2026-11-30"]) == 0
    assert len(sandbox.account.leads) == leads_before

    # The next night exports only what changed since; one bad row makes it exit 1.
    make_database(
        database,
        [
            ("dee@example.com", "Dee", "Ng", "2026-11-30T20:00"),
            ("bad@@x.co", "X", "Y", "2026-12-01"),
        ],
    )
    assert nightly.main([*args, "--date", "2026-12-01"]) == 1
    second = results(runs / "2026-12-01" / "results.jsonl")
    assert sorted(str(r["outcome"]) for r in second) == ["created", "invalid", "updated"]
    assert (runs / "last-success").read_text() == "2026-11-30\n"


def test_nightly_sync_exit_statuses_for_a_missing_database_and_credentials(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    nightly = load_example("nightly_sync")
    runs = tmp_path / "runs"
    assert nightly.main([str(tmp_path / "nope.sqlite3"), "--runs", str(runs)]) == 2
    database = tmp_path / "app.sqlite3"
    make_database(database, [("eve@example.com", "Eve", "Ho", "2026-11-30")])
    for name in sandbox.credentials.as_env():
        monkeypatch.delenv(name)
    assert nightly.main([str(database), "--runs", str(runs), "--date", "2026-11-30"]) == 3
    with pytest.raises(SystemExit) as bad_date:
        nightly.main([str(database), "--date", "30/11/2026"])
    assert bad_date.value.code == 2
