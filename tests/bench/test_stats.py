"""The pure measuring core: percentiles, buckets, rates, the ceiling ratio, histograms."""

from __future__ import annotations

import statistics

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kartra_async.bench import (
    CEILING,
    Histogram,
    Latency,
    max_in_window,
    per_second,
    percentile,
    rate,
    ratio_to_ceiling,
)

floats = st.floats(min_value=0, max_value=1e4, allow_nan=False)


@given(st.lists(floats, min_size=1, max_size=200))
def test_percentile_50_is_the_median_and_100_the_max(values: list[float]) -> None:
    assert percentile(values, 50) == pytest.approx(statistics.median(values))
    assert percentile(values, 100) == max(values)
    assert percentile(values, 0) == min(values)


@given(st.lists(floats, min_size=1, max_size=200), st.floats(0, 100), st.floats(0, 100))
def test_percentile_is_monotonic_in_q(values: list[float], a: float, b: float) -> None:
    low, high = sorted((a, b))
    assert percentile(values, low) <= percentile(values, high)


def test_percentile_interpolates_between_ranks() -> None:
    # Ranks 0..3 of (10, 20, 30, 40): the 90th percentile sits at rank 2.7.
    assert percentile([40, 10, 30, 20], 90) == pytest.approx(30 + 0.7 * 10)
    assert percentile([], 50) == 0.0
    with pytest.raises(ValueError, match=r"0\.\.100"):
        percentile([1.0], 101)


def test_per_second_buckets_by_whole_second_since_start() -> None:
    times = [100.0, 100.5, 100.99, 101.0, 102.2, 99.0, 250.0]
    # 99.0 is before the start; 250.0 lands in the last bucket.
    assert per_second(times, 100.0, 3) == [3, 1, 2]
    assert per_second(times, 100.0, 0) == []


def test_rate_of_evenly_spaced_calls_is_their_frequency() -> None:
    times = [i / 20 for i in range(101)]
    assert rate(times) == pytest.approx(20.0)
    assert ratio_to_ceiling(rate(times)) == pytest.approx(20.0 / CEILING)
    # The first second left out: the remaining 81 calls still come 20 a second.
    assert rate(times, warmup=1.0) == pytest.approx(20.0)
    assert rate([1.0]) == 0.0


def test_max_in_window_counts_a_half_open_second() -> None:
    assert max_in_window([0.0, 0.5, 0.99, 1.0, 1.5]) == 3
    assert max_in_window([]) == 0


def test_latency_summary() -> None:
    summary = Latency.of([0.3, 0.1, 0.2])
    assert (summary.count, summary.p50, summary.max) == (3, 0.2, 0.3)
    assert summary.mean == pytest.approx(0.2)
    assert Latency.of([]).count == 0


@given(st.lists(floats, max_size=300), st.integers(1, 50))
def test_histogram_keeps_every_value(values: list[float], bins: int) -> None:
    histogram = Histogram.of(values, bins=bins)
    assert sum(histogram.counts) + histogram.overflow == len(values)
    assert len(histogram.edges) == bins + 1
