"""The arithmetic of a benchmark: percentiles, per-second buckets, rates and the ceiling ratio.

Pure functions over plain numbers (times are seconds on one monotonic clock); no clock, no I/O.
The command, the chart and the repository's ``benchmarks/`` all measure with these.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Final

import attrs

#: Kartra's documented limit, calls per second per App: the ceiling every rate is compared to.
CEILING: Final = 20.0


def percentile(values: Iterable[float], q: float) -> float:
    """The ``q``-th percentile (0-100) by linear interpolation between closest ranks.

    0.0 for no values; ``q=50`` is the median, ``q=100`` the maximum.
    """
    if not 0 <= q <= 100:
        raise ValueError(f"q must be within 0..100, got {q!r}")
    ordered = sorted(values)
    if not ordered:
        return 0.0
    position = (len(ordered) - 1) * q / 100
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def per_second(times: Iterable[float], start: float, seconds: int) -> list[int]:
    """How many of ``times`` fall in each whole second ``[start + i, start + i + 1)``.

    ``seconds`` buckets; times before ``start`` are ignored, later ones land in the last bucket.
    """
    buckets = [0] * max(seconds, 0)
    if not buckets:
        return buckets
    for moment in times:
        offset = moment - start
        if offset < 0:
            continue
        buckets[min(int(offset), seconds - 1)] += 1
    return buckets


def max_in_window(times: Sequence[float], window: float = 1.0) -> int:
    """The most timestamps in any half-open window of ``window`` seconds."""
    ordered = sorted(times)
    best = 0
    start = 0
    for end, moment in enumerate(ordered):
        while moment - ordered[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


def rate(times: Sequence[float], warmup: float = 0.0) -> float:
    """Events per second between the first and the last of ``times`` (sorted or not).

    ``warmup`` seconds after the first event are left out (connections opening). With ``n``
    events spanning ``s`` seconds the rate is ``(n - 1) / s``: evenly spaced calls at 20/s give
    exactly 20. 0.0 when fewer than two events remain.
    """
    ordered = sorted(times)
    if len(ordered) < 2:
        return 0.0
    if warmup > 0:
        if ordered[-1] - ordered[0] <= warmup:
            return 0.0
        begin = ordered[0] + warmup
        ordered = [moment for moment in ordered if moment >= begin]
        if len(ordered) < 2:
            return 0.0
    span = ordered[-1] - ordered[0]
    return (len(ordered) - 1) / span if span > 0 else 0.0


def ratio_to_ceiling(calls_per_second: float, ceiling: float = CEILING) -> float:
    """``calls_per_second`` as a share of Kartra's limit (1.0 = exactly 20 calls/s)."""
    return calls_per_second / ceiling


@attrs.frozen
class Latency:
    """Seconds: the distribution of HTTP round trips."""

    count: int
    p50: float
    p90: float
    p99: float
    max: float
    mean: float

    @classmethod
    def of(cls, seconds: Sequence[float]) -> Latency:
        """Summarise round-trip times (all zeros for none)."""
        if not seconds:
            return cls(0, 0.0, 0.0, 0.0, 0.0, 0.0)
        ordered = sorted(seconds)
        return cls(
            count=len(ordered),
            p50=percentile(ordered, 50),
            p90=percentile(ordered, 90),
            p99=percentile(ordered, 99),
            max=ordered[-1],
            mean=sum(ordered) / len(ordered),
        )


@attrs.frozen
class Histogram:
    """Equal-width bins from 0 to ``edges[-1]``; ``overflow`` counts values past the last edge."""

    edges: tuple[float, ...]
    counts: tuple[int, ...]
    overflow: int

    @classmethod
    def of(cls, values: Sequence[float], bins: int = 40, upper: float | None = None) -> Histogram:
        """Bin ``values`` into ``bins`` bins up to ``upper`` (default: the 99.5th percentile)."""
        if bins < 1:
            raise ValueError("bins must be at least 1")
        top = upper if upper is not None else percentile(values, 99.5)
        if top <= 0:
            top = max(values, default=0.0)
        if top / bins <= 0:
            # No spread, or one so small the bin width underflows: an arbitrary small range.
            top = 1e-3
        width = top / bins
        counts = [0] * bins
        overflow = 0
        for value in values:
            index = int(value / width)
            if index >= bins:
                if value <= top:
                    counts[-1] += 1
                else:
                    overflow += 1
            else:
                counts[max(index, 0)] += 1
        edges = tuple(width * i for i in range(bins + 1))
        return cls(edges, tuple(counts), overflow)
