"""The inspector page in a real browser: Debian's chromium, headless, driven by Selenium.

Real API traffic goes through a ``KartraClient``; the assertions are about what a person sees:
the new lead in the table with its tags, its whole record, a forced 429 in the request log.
Set ``KARTRA_INSPECTOR_SCREENSHOT=path.png`` to keep a screenshot (docs/sandbox-inspector.png).
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from kartra_async import KartraClient, KartraError, LeadRequest, NoPacer
from kartra_async.sandbox import Sandbox

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver") or (
    "/usr/bin/chromedriver" if Path("/usr/bin/chromedriver").exists() else None
)

pytestmark = pytest.mark.skipif(
    CHROMIUM is None or CHROMEDRIVER is None,
    reason="needs Debian's chromium and chromium-driver (apt-get install chromium "
    "chromium-driver); .ci/run installs them",
)


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    """Headless chromium with a fresh profile, no network chatter of its own."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    assert CHROMIUM is not None
    options.binary_location = CHROMIUM
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--window-size=1440,1800",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    """A sandbox journaling events (no webhook), at Kartra's 20 calls/s."""
    async with Sandbox(record_events=True) as sb:
        yield sb


async def _until(check: Callable[[], Any], what: str, seconds: float = 15.0) -> Any:
    """Poll a (blocking) browser check in a thread until it returns something truthy."""
    deadline = asyncio.get_running_loop().time() + seconds
    last: Any = None
    while asyncio.get_running_loop().time() < deadline:
        last = await asyncio.to_thread(check)
        if last:
            return last
        await asyncio.sleep(0.2)
    raise AssertionError(f"the page never showed {what} (last seen: {last!r})")


def _texts(driver: Any, css: str) -> list[str]:
    from selenium.webdriver.common.by import By

    return [element.text for element in driver.find_elements(By.CSS_SELECTOR, css)]


async def test_a_person_sees_the_traffic(browser: Any, sandbox: Sandbox, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    await asyncio.to_thread(browser.get, sandbox.admin_url)
    assert await asyncio.to_thread(lambda: browser.title) == "Kartra sandbox inspector"
    await _until(lambda: "/api" in browser.find_element(By.ID, "endpoint").text, "the endpoint")

    async with KartraClient(base_url=sandbox.url, **sandbox.credentials.as_dict()) as client:
        await client.send(
            LeadRequest(email="vip@example.com", first_name="Vera", last_name="Ip")
            .create()
            .assign_tag("VIP")
            .assign_tag("Customer")
            .subscribe("Newsletter")
            .give_points(15)
        )
        row_css = '#leads tbody tr[data-email="vip@example.com"]'
        await _until(lambda: _texts(browser, row_css), "the new lead in the leads table")
        tags = await asyncio.to_thread(_texts, browser, row_css + " td.tags .chip")
        assert tags == ["VIP", "Customer"]

        # The person switches on a 429 for the next call, then the client makes one.
        await asyncio.to_thread(lambda: browser.find_element(By.ID, "force-429").click())
        await _until(
            lambda: "rate_limited" in browser.find_element(By.ID, "fault-message").text,
            "the forced 429 acknowledged",
        )
        assert sandbox.faults.rules[0].count == 1
        await client.send(
            LeadRequest(email="vip@example.com").search().assign_tag("Webinar attendee")
        )
        with pytest.raises(KartraError):
            await client.send(LeadRequest(email="missing@example.com").search())

    kartra_error = await _until(
        lambda: _texts(browser, "#request-log tr.kartra-error"), "the Kartra error in the log"
    )
    assert "missing@example.com" in kartra_error[0]
    limited = await asyncio.to_thread(
        _texts, browser, '#request-log tr.rate-limited[data-status="429"]'
    )
    assert len(limited) == 1
    assert "429" in limited[0]
    assert "Too many requests" in limited[0]
    log = await asyncio.to_thread(_texts, browser, "#request-log tbody tr")
    # Newest first: the Kartra error of the missing lead, the retried call, the 429, the create.
    assert "search_lead" in log[0]
    assert "Error" in log[0]
    assert len(log) == 4
    assert "search_lead, assign_tag" in log[1]
    assert " 200 " in log[1]
    assert "create_lead" in log[3]
    assert " 200 " in log[3]

    # A person opens the lead: the whole record, with the tag the retried call added.
    await asyncio.to_thread(lambda: browser.find_element(By.CSS_SELECTOR, row_css).click())
    detail = await _until(
        lambda: " ".join(_texts(browser, "#lead-body [data-email='vip@example.com']")),
        "the lead's record",
    )
    for shown in (
        "vip@example.com",
        "VIP",
        "Customer",
        "Webinar attendee",
        "Newsletter",
        "score 15",
    ):
        assert shown in detail
    events = await _until(
        lambda: [t for t in _texts(browser, "#events li") if "assign_tag" in t], "the events"
    )
    assert any("vip@example.com" in event for event in events)
    gauge = await asyncio.to_thread(lambda: browser.find_element(By.ID, "gauge-now").text)
    assert "/ 20 calls/s" in gauge
    assert await asyncio.to_thread(
        lambda: browser.find_elements(By.CSS_SELECTOR, "#history .bar.limited")
    ), "the second with a 429 is marked on the gauge"

    shot = Path(os.environ.get("KARTRA_INSPECTOR_SCREENSHOT") or tmp_path / "inspector.png")
    assert await asyncio.to_thread(browser.save_screenshot, str(shot))
    assert (await asyncio.to_thread(shot.stat)).st_size > 10_000


async def test_the_search_box_filters_the_leads(browser: Any, sandbox: Sandbox) -> None:
    from selenium.webdriver.common.by import By

    async with KartraClient(
        base_url=sandbox.url, pacer=NoPacer(), **sandbox.credentials.as_dict()
    ) as client:
        for name in ("alpha", "beta", "gamma"):
            await client.send(LeadRequest(email=f"{name}@example.com").create())
    await asyncio.to_thread(browser.get, sandbox.admin_url)
    await _until(lambda: _texts(browser, '#leads tr[data-email="gamma@example.com"]'), "gamma")
    await asyncio.to_thread(lambda: browser.find_element(By.ID, "search").send_keys("bet"))
    emails = await _until(
        lambda: (
            found
            if (found := _texts(browser, "#leads tbody tr td.email")) == ["beta@example.com"]
            else None
        ),
        "only beta after searching 'bet'",
    )
    assert emails == ["beta@example.com"]
