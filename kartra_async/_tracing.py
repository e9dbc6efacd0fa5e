"""Optional OpenTelemetry spans: one CLIENT span per HTTP attempt, when ``opentelemetry-api``
is installed (``pip install kartra-async[otel]``); nothing at all otherwise.

Only the API package is used: the application chooses the SDK, exporter and sampler. Spans are
named ``kartra <cmd>`` and carry the attributes listed in ``SPAN_ATTRIBUTES``; never an email
nor a credential.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Final

try:  # pragma: no cover - exercised by whichever of the two environments runs the tests
    from opentelemetry import trace as _otel_trace
    from opentelemetry.trace import (
        NoOpTracerProvider,
        ProxyTracerProvider,
        SpanKind,
        Status,
        StatusCode,
        Tracer,
    )
except ImportError:  # pragma: no cover
    _otel_trace = None  # type: ignore[assignment]
    Tracer = Any  # type: ignore[misc,assignment]

__all__ = [
    "SPAN_ATTRIBUTES",
    "TRACER_NAME",
    "AttemptSpan",
    "Tracer",
    "active_tracer",
    "attempt_span",
    "tracing_available",
]

#: The instrumentation scope name spans are created under.
TRACER_NAME: Final = "kartra_async"

#: Every attribute a span may carry (semantic-convention names where one exists).
SPAN_ATTRIBUTES: Final = (
    "kartra.cmd",
    "kartra.attempt",
    "kartra.type",
    "kartra.lead_id",
    "http.request.method",
    "http.response.status_code",
    "server.address",
    "error.type",
)

# The tracer of the provider it came from, so each call does not ask the provider again.
_cached: tuple[object, Tracer] | None = None


def tracing_available() -> bool:
    """True when ``opentelemetry-api`` is importable."""
    return _otel_trace is not None


def active_tracer() -> Tracer | None:
    """Our tracer when the application configured an OpenTelemetry SDK, else None.

    Without a configured provider every span would be a no-op: skipping them keeps the
    uninstrumented path free of span and context bookkeeping.
    """
    global _cached
    if _otel_trace is None:
        return None
    provider = _otel_trace.get_tracer_provider()
    if isinstance(provider, (ProxyTracerProvider, NoOpTracerProvider)):
        return None
    if _cached is None or _cached[0] is not provider:
        _cached = (provider, provider.get_tracer(TRACER_NAME))
    return _cached[1]


class AttemptSpan:
    """What the client records on an attempt's span."""

    __slots__ = ("_span",)

    def __init__(self, span: Any) -> None:
        self._span = span

    def finish(
        self,
        status: int | None,
        kartra_type: int | None,
        lead_id: int | None,
        error: BaseException | None,
    ) -> None:
        """Record the attempt's result on the span."""
        span = self._span
        if not span.is_recording():
            return
        if status is not None:
            span.set_attribute("http.response.status_code", status)
        if kartra_type is not None:
            span.set_attribute("kartra.type", kartra_type)
        if lead_id is not None:
            span.set_attribute("kartra.lead_id", lead_id)
        if error is not None:
            span.set_attribute("error.type", type(error).__name__)
            # The exception's message may name a lead's email: record only its class.
            span.set_status(Status(StatusCode.ERROR, type(error).__name__))


@contextmanager
def attempt_span(tracer: Tracer, cmd: str, attempt: int, host: str | None) -> Iterator[AttemptSpan]:
    """A CLIENT span around one HTTP attempt (``kartra <cmd>``), current while it runs."""
    attributes: dict[str, str | int] = {
        "kartra.cmd": cmd,
        "kartra.attempt": attempt,
        "http.request.method": "POST",
    }
    if host:
        attributes["server.address"] = host
    with tracer.start_as_current_span(
        f"kartra {cmd}",
        kind=SpanKind.CLIENT,
        attributes=attributes,
        record_exception=False,
        set_status_on_exception=False,
    ) as span:
        yield AttemptSpan(span)
