"""Fixtures for the core client tests: credentials with canary secrets, JSON reply bodies."""

from __future__ import annotations

import json
from typing import Any

import pytest

from kartra_async import Credentials

#: Values that must never show up in any repr, message or traceback.
CANARY_APP_ID = "canary-app-7f3e91"
CANARY_KEY = "canary-key-5b0c2d"
CANARY_PASSWORD = "canary-pass-a94e17"
CANARIES = (CANARY_APP_ID, CANARY_KEY, CANARY_PASSWORD)


@pytest.fixture
def credentials() -> Credentials:
    """Credentials made of canary values."""
    return Credentials(CANARY_APP_ID, CANARY_KEY, CANARY_PASSWORD)


def body(payload: Any) -> bytes:
    """A reply body as Kartra would send it."""
    return json.dumps(payload).encode()
