"""Encode and decode µs per call, typical and large, beside stdlib references.

References (not targets): ``urllib.parse.urlencode`` over the same nested request flattened
to PHP-style keys by a plain recursive function, and ``json.loads`` of the same reply: what
a hand-rolled loop pays at least.
"""

from __future__ import annotations

import json
import time
import timeit
from collections.abc import Callable
from functools import partial
from typing import Any
from urllib.parse import urlencode

from kartra_async import Credentials, decode, encode
from kartra_async._form import parse_query
from kartra_async._protocol import Encoder, to_request
from kartra_async.sandbox import SandboxCredentials, default_account, process

from ._common import Table, Target, large_call, median, typical_call


def flatten(value: Any, prefix: str, out: list[tuple[str, str]]) -> None:
    if isinstance(value, dict):
        for key, inner in value.items():
            flatten(inner, f"{prefix}[{key}]" if prefix else str(key), out)
    elif isinstance(value, (list, tuple)):
        for index, inner in enumerate(value):
            flatten(inner, f"{prefix}[{index}]", out)
    elif value is not None:
        out.append((prefix, str(value)))


def stdlib_encode(nested: dict[str, Any]) -> bytes:
    """The reference: flatten, then ``urlencode``."""
    pairs: list[tuple[str, str]] = []
    flatten(nested, "", pairs)
    return urlencode(pairs).encode("ascii")


def per_call_us(func: Callable[[], object], seconds: float) -> float:
    """Median µs per call over 5 timed batches sized to take about ``seconds`` in total."""
    timer = timeit.Timer(func, timer=time.process_time)
    probe = 10
    while (spent := timer.timeit(probe)) < 0.01:
        probe *= 4
    batch = max(1, int(probe * seconds / 5 / spent))
    return median(t / batch * 1e6 for t in timer.repeat(5, batch))


def sandbox_reply(call: Any) -> bytes:
    """The sandbox's reply body to ``call`` (realistic shapes for decode)."""
    secrets = SandboxCredentials.generate()
    account = default_account()
    body = encode(call, Credentials(**secrets.as_dict()))
    outcome = process(account, parse_query(body), credentials=secrets, now=account.now())
    return json.dumps(outcome.body, separators=(",", ":")).encode()


def table(seconds: float) -> Table:
    """Encode/decode µs per call."""
    credentials = Credentials("app-0123456789ab", "key-" + "a" * 24, "pw-" + "b" * 24)
    result = Table(
        "Encode and decode (µs per call, median of 5 batches)",
        ["call", "operation", "kartra_async µs", "stdlib reference µs", "bytes", "target"],
    )
    for name, call in (("typical", typical_call(7)), ("large", large_call(7))):
        nested = {**credentials.form_fields(), **to_request(call)}
        body = encode(call, credentials)
        mine = per_call_us(partial(encode, call, credentials), seconds)
        ref = per_call_us(partial(stdlib_encode, nested), seconds)
        target = Target("≤ 20 µs", mine <= 20.0) if name == "typical" else ""
        result.add(f"{name} ({_shape(call)})", "encode", mine, ref, len(body), target)
        # What KartraClient actually runs: credentials encoded once, the chain cached.
        encoder = Encoder(credentials)
        assert encoder.encode(call) == body
        cached = per_call_us(partial(encoder.encode, call), seconds)
        result.add(
            f"{name} ({_shape(call)})", "encode (client's Encoder)", cached, ref, len(body), ""
        )
        reply = sandbox_reply(call)
        mine = per_call_us(partial(decode, 200, reply, call), seconds)
        ref = per_call_us(partial(json.loads, reply), seconds)
        result.add(f"{name} ({_shape(call)})", "decode", mine, ref, len(reply), "")
    result.notes.append(
        "Typical: 8 lead fields, create_lead + assign_tag + subscribe + give_points. Large: 20 "
        "lead fields, 5 custom fields (one ~550 chars of non-ASCII text), 10 actions."
    )
    result.notes.append(
        "References: urlencode over the same request flattened by a plain recursive function; "
        "json.loads of the same reply."
    )
    return result


def _shape(call: Any) -> str:
    return f"{len(call.actions)} actions"
