"""No secrets in locals (issue 17 §5).

Reproduction of the attack: a configuration error raised in ``KartraClient.__init__`` or
``Credentials.__init__``, rendered with local variables (``pytest --showlocals``, Sentry), showed
all three credentials in clear, and ``repr()`` of a half-built client raised ``AttributeError``.
Here every configuration error the constructors can raise is rendered with
``capture_locals=True`` (every frame, chained causes included) and searched for the canaries.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from kartra_async import KartraClient, KartraError, LocalPacer
from kartra_async._model import Credentials
from kartra_async.redis_pacer import RedisPacer
from kartra_async.sandbox import Sandbox
from kartra_async.sandbox._faults import Faults
from kartra_async.sandbox._state import SandboxAccount

APP, KEY, PASSWORD = "canary-app-5d1e", "canary-key-9b2f", "canary-pw-c47a"
CANARIES = (APP, KEY, PASSWORD)
GOOD = {"app_id": APP, "api_key": KEY, "api_password": PASSWORD}


def rendered(error: BaseException) -> str:
    """The traceback as Sentry or --showlocals would show it: every frame's locals."""
    exception = traceback.TracebackException.from_exception(error, capture_locals=True)
    return "".join(exception.format())


def raised(build: Callable[[], Any]) -> BaseException:
    """The error ``build`` raises, its traceback starting at the library's first frame.

    The test's own frames are left out: they hold the canaries on purpose (as a caller's
    frame would; only the library's frames are the library's responsibility).
    """
    with pytest.raises((KartraError, TypeError, ValueError)) as caught:
        build()
    error = caught.value
    assert error.__traceback__ is not None
    return error.with_traceback(error.__traceback__.tb_next)


def client_errors() -> Iterator[tuple[str, Callable[[], Any]]]:
    """Every configuration error of the client, each with the three canaries passed in."""
    for position in GOOD:
        for bad in ("", "   ", "x\x00y", None, 42):
            yield (
                f"client {position}={bad!r}",
                lambda p=position, b=bad: KartraClient(**{**GOOD, p: b}),
            )
            yield (
                f"credentials {position}={bad!r}",
                lambda p=position, b=bad: Credentials(**{**GOOD, p: b}),
            )
    for name, options in {
        "plain http": {"base_url": "http://app.kartra.com/api"},
        "user:pass url": {"base_url": "https://u:p@app.kartra.com/api"},
        "not a url": {"base_url": "kartra"},
        "bad timeout": {"timeout": -1},
        "bad timeout type": {"timeout": "soon"},
        "transport and session": {"transport": object(), "ssl_context": object()},
    }.items():
        yield name, lambda o=options: KartraClient(**GOOD, **o)


@pytest.mark.parametrize(("name", "build"), list(client_errors()), ids=lambda v: str(v)[:40])
def test_a_configuration_error_rendered_with_locals_shows_no_credential(
    name: str, build: Callable[[], Any]
) -> None:
    text = rendered(raised(build))
    assert "__init__" in text  # the constructor's frame was really captured
    for canary in CANARIES:
        assert canary not in text, name


def test_from_env_errors_show_no_credential(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KARTRA_APP_ID", APP)
    monkeypatch.setenv("KARTRA_API_KEY", KEY)
    monkeypatch.setenv("KARTRA_API_PASSWORD", "\x01" + PASSWORD)
    monkeypatch.setenv("KARTRA_BASE_URL", "https://app.kartra.com/api")
    bad_value = raised(KartraClient.from_env)
    monkeypatch.setenv("KARTRA_API_PASSWORD", PASSWORD)
    monkeypatch.setenv("KARTRA_BASE_URL", "http://evil.example/api")
    bad_url = raised(KartraClient.from_env)
    monkeypatch.delenv("KARTRA_API_PASSWORD")
    missing = raised(KartraClient.from_env)
    for error in (bad_value, bad_url, missing):
        text = rendered(error)
        assert "from_env" in text
        for canary in CANARIES:
            assert canary not in text


def test_the_validation_error_still_names_the_field() -> None:
    with pytest.raises(KartraError, match=r"api_password.*control characters"):
        KartraClient(**{**GOOD, "api_password": "a\x07b"})
    with pytest.raises(KartraError, match=r"app_id.*non-empty"):
        Credentials("", KEY, PASSWORD)
    # And good credentials still work, through both paths.
    assert Credentials(**GOOD).form_fields() == GOOD
    assert Credentials.unchecked(**GOOD) == Credentials(**GOOD)


@pytest.mark.parametrize(
    "cls", [KartraClient, Credentials, LocalPacer, RedisPacer, Sandbox, Faults, SandboxAccount]
)
def test_repr_of_a_half_built_object_never_raises(cls: type) -> None:
    # What a constructor that raised on its first line leaves behind (traceback rendering with
    # locals calls repr on it).
    half_built = cls.__new__(cls)
    text = repr(half_built)
    assert text and cls.__name__.lstrip("_").split("Account")[0] in text


def test_repr_of_a_client_whose_init_raised_late_never_raises() -> None:
    text = rendered(raised(lambda: KartraClient(**GOOD, timeout=-5)))
    assert "self = <KartraClient (not configured) closed>" in text
