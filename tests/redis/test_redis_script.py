"""The shared GCRA's Lua arithmetic, on fakeredis with a controlled ``TIME``.

The Lua script must schedule exactly like the in-process ``PacingState``: the same slots, the
same pause, the same adaptive rate. Both are driven with the same sequence of events and must
agree at every step.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import fakeredis
import pytest
from fakeredis.commands_mixins import server_mixin
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kartra_async._pacing import AdaptiveRate, Gcra, PacingState
from kartra_async._redis_gcra import GCRA_SCRIPT, SharedParams, SharedResult, keys_for

EPOCH = 1_700_000_000.0


class RedisClock:
    """Stands in for the ``time`` module inside fakeredis, so ``TIME`` answers what we say."""

    def __init__(self) -> None:
        self.now = EPOCH

    def time(self) -> float:
        return self.now


Run = Callable[[str], SharedResult]


@pytest.fixture
def redis_clock(monkeypatch: pytest.MonkeyPatch) -> RedisClock:
    clock = RedisClock()
    monkeypatch.setattr(server_mixin, "time", clock)
    return clock


def make_runner(params: SharedParams, app_id: str = "app-1") -> tuple[Run, fakeredis.FakeRedis]:
    client = fakeredis.FakeRedis()
    client.flushall()  # fakeredis instances share one server: start every case clean
    script = client.register_script(GCRA_SCRIPT)
    keys = list(keys_for("kartra_async", app_id))

    def run(op: str) -> SharedResult:
        return SharedResult.parse(script(keys=keys, args=params.argv(op)))

    return run, client


@pytest.fixture
def runner(redis_clock: RedisClock) -> Iterator[tuple[Run, fakeredis.FakeRedis]]:
    run, client = make_runner(SharedParams(ceiling=10.0, floor=1.0))
    yield run, client
    client.close()


def test_slots_are_evenly_spaced_without_burst(
    redis_clock: RedisClock, runner: tuple[Run, fakeredis.FakeRedis]
) -> None:
    run, _ = runner
    delays = [run("acquire").delay for _ in range(5)]
    assert delays == pytest.approx([0.0, 0.1, 0.2, 0.3, 0.4], abs=1e-6)
    redis_clock.now += 60  # long idle: no credit is banked
    assert run("acquire").delay == 0.0
    assert run("acquire").delay == pytest.approx(0.1, abs=1e-6)


def test_a_pause_blocks_every_caller_and_cuts_the_rate_once(
    redis_clock: RedisClock, runner: tuple[Run, fakeredis.FakeRedis]
) -> None:
    run, _ = runner
    first = run("pause")
    redis_clock.now += 0.4
    second = run("pause")
    assert first.started
    assert not second.started
    assert first.rate == pytest.approx(8.0)
    assert second.rate == pytest.approx(8.0)
    assert run("acquire").delay == pytest.approx(1.0, abs=1e-6)
    assert run("acquire").delay == pytest.approx(1.0 + 1 / 8.0, abs=1e-6)


def test_keys_expire_and_do_not_reveal_the_app_id(
    redis_clock: RedisClock, runner: tuple[Run, fakeredis.FakeRedis]
) -> None:
    run, client = runner
    run("acquire")
    run("pause")
    names = [k if isinstance(k, str) else k.decode() for k in client.keys("*")]
    assert len(names) == 2
    assert all("app-1" not in name for name in names)
    assert all(0 < client.pttl(name) <= 62_000 for name in names)


def test_apps_do_not_share_a_schedule(redis_clock: RedisClock) -> None:
    params = SharedParams(ceiling=10.0, floor=1.0)
    run_a, client = make_runner(params, "app-a")
    run_a("acquire")
    script = client.register_script(GCRA_SCRIPT)
    other = SharedResult.parse(
        script(keys=list(keys_for("kartra_async", "app-b")), args=params.argv("acquire"))
    )
    assert other.delay == 0.0
    assert run_a("acquire").delay == pytest.approx(0.1, abs=1e-6)
    client.close()


def test_an_unknown_op_is_an_error(runner: tuple[Run, fakeredis.FakeRedis]) -> None:
    run, _ = runner
    with pytest.raises(Exception, match="unknown op"):
        run("burst")


events = st.lists(
    st.tuples(
        st.sampled_from(["acquire", "acquire", "acquire", "pause"]),
        st.floats(min_value=0.0, max_value=3.0),
    ),
    min_size=1,
    max_size=40,
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(events=events, rate=st.floats(min_value=1.0, max_value=25.0))
def test_lua_agrees_with_the_python_model(
    redis_clock: RedisClock, events: list[tuple[str, float]], rate: float
) -> None:
    params = SharedParams(ceiling=rate, floor=rate / 10, quiet=2.0, step=0.1)
    run, client = make_runner(params)
    model = PacingState(
        gcra=Gcra(rate=rate),
        adaptive=AdaptiveRate(ceiling=rate, floor=rate / 10, quiet=2.0, step=0.1),
    )
    t = 0.0
    for op, gap in events:
        t += gap
        redis_clock.now = EPOCH + t
        got = run(op)
        if op == "acquire":
            expected_delay, model = model.reserve(t)
        else:
            started = model.paused_until <= t
            model = model.rate_limited(t)
            expected_delay = model.paused_until - t
            assert got.started == started
        assert got.delay == pytest.approx(expected_delay, abs=2e-6)
        assert got.rate == pytest.approx(model.rate, rel=1e-9)
    client.close()
