"""Top-level test configuration: only what every test directory needs.

aioresponses 0.7.9 builds ``ClientResponse`` without the ``stream_writer`` argument that aiohttp
3.14 made mandatory, so every mocked request fails (pnuckowski/aioresponses#289). Until a fixed
release exists, we default that argument to a finished, empty upload. The shim probes the real
failure first and stays off when aioresponses works by itself; ``tests/compat`` proves which
case holds. Fixtures belong in the subdirectories' own conftest files.
"""

from __future__ import annotations

import functools
import importlib
import inspect
from typing import Any, cast

from aiohttp import ClientResponse
from aiohttp.abc import AbstractStreamWriter
from yarl import URL

RequestMatch: Any
try:
    RequestMatch = importlib.import_module("aioresponses.core").RequestMatch
except ImportError:  # aioresponses is a dev dependency; without it there is nothing to fix
    RequestMatch = None


class _FinishedUpload:
    """Stands in for the request's stream writer: the (mock) upload sent zero bytes."""

    output_size = 0


class ShimClientResponse(ClientResponse):
    """``ClientResponse`` whose ``stream_writer`` defaults to a finished, empty upload."""

    def __init__(
        self,
        method: str,
        url: URL,
        *,
        stream_writer: AbstractStreamWriter | None = None,
        **kwargs: Any,
    ) -> None:
        writer = stream_writer or cast(AbstractStreamWriter, _FinishedUpload())
        super().__init__(method, url, stream_writer=writer, **kwargs)


def aioresponses_is_broken() -> bool:
    """Whether unpatched aioresponses fails to build a response on this aiohttp."""
    if RequestMatch is None:
        return False
    if "stream_writer" not in inspect.signature(ClientResponse.__init__).parameters:
        return False
    build = getattr(RequestMatch._build_response, "__wrapped__", RequestMatch._build_response)
    url = URL("http://127.0.0.1/probe")
    try:
        build(RequestMatch(url), url).close()
    except TypeError as error:
        return "stream_writer" in str(error)
    return False


def _install_shim() -> bool:
    if RequestMatch is None or not aioresponses_is_broken():
        return False
    original = RequestMatch._build_response

    @functools.wraps(original)
    def build_response(self: Any, *args: Any, **kwargs: Any) -> ClientResponse:
        # aioresponses passes everything by keyword; a caller's own response_class wins.
        if kwargs.get("response_class") is None and len(args) < 8:
            kwargs["response_class"] = ShimClientResponse
        response: ClientResponse = original(self, *args, **kwargs)
        return response

    RequestMatch._build_response = build_response
    return True


#: True when this session runs aioresponses through the shim.
AIORESPONSES_SHIM_ACTIVE = _install_shim()
