"""The shared GCRA as one Lua script, run atomically by Redis on Redis's own clock.

Mirrors :class:`kartra_async._pacing.PacingState` (same slots, same pause, same adaptive rate)
so several processes see one schedule. Redis's ``TIME`` is the only clock, so machines whose
clocks disagree still share one timeline: a caller only ever sleeps the *delay* the script
returns. Times are microseconds; numbers are stored and returned as ``%.17g`` strings because
Redis truncates Lua numbers to integers in replies and Lua 5.1's ``tostring`` keeps only 14
significant digits (not enough for a microsecond timestamp).

State (one App = one hash tag, so both keys live in the same Redis Cluster slot):

* ``<prefix>:{<app>}:gcra``   hash: ``tat`` (next free slot), ``rate``, ``changed`` (last rate
  change), ``cut_until`` (no second cut for the same burst of 429s), ``rejoin_until`` (a worker
  came back from local pacing: until then every worker also keeps its local share, because
  others may still be pacing locally, see ``redis_pacer``);
* ``<prefix>:{<app>}:paused`` the moment until which nobody may send.

Both expire (``ttl`` after the last use, or after the pause) so a crashed worker leaves nothing.
"""

from __future__ import annotations

import hashlib
from typing import Final

import attrs

__all__ = ["GCRA_SCRIPT", "SharedParams", "SharedResult", "keys_for"]

GCRA_SCRIPT: Final = """
-- Keep the writes below replicable even though TIME is not deterministic (Redis < 5).
if redis.replicate_commands then pcall(redis.replicate_commands) end

local function num(x) return string.format('%.17g', x) end

local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local op = ARGV[1]
local ceiling = tonumber(ARGV[2])
local floor_rate = tonumber(ARGV[3])
local decrease = tonumber(ARGV[4])
local step = tonumber(ARGV[5])
local quiet = tonumber(ARGV[6])
local pause = tonumber(ARGV[7])
local ttl = tonumber(ARGV[8])
local rejoin = tonumber(ARGV[9]) or 0

local s = redis.call('HMGET', KEYS[1], 'tat', 'rate', 'changed', 'cut_until', 'rejoin_until')
local tat = tonumber(s[1]) or 0
local rate = tonumber(s[2]) or ceiling
local changed = tonumber(s[3]) or now
local cut_until = tonumber(s[4]) or 0
local rejoin_until = tonumber(s[5]) or 0
-- A caller back from local pacing opens (or extends) the rejoin period for everyone.
if rejoin > 0 then rejoin_until = math.max(rejoin_until, now + rejoin) end
local paused = tonumber(redis.call('GET', KEYS[2])) or 0

-- A worker configured lower than the shared rate never goes faster than its own setting.
if rate > ceiling then rate = ceiling end
-- Additive increase: one step per quiet period elapsed since the last change.
if rate < ceiling then
  local periods = math.floor((now - changed) / quiet)
  if periods > 0 then
    rate = math.min(ceiling, rate + periods * step * ceiling)
    changed = changed + periods * quiet
  end
end

local delay = 0
local started = 0
if op == 'acquire' then
  local slot = math.max(now, tat, paused)
  tat = slot + 1000000 / rate
  delay = slot - now
elseif op == 'pause' then
  if paused <= now then started = 1 end
  paused = math.max(paused, now + pause)
  redis.call('SET', KEYS[2], num(paused), 'PX', math.ceil((paused - now) / 1000) + 1000)
  -- Multiplicative decrease, once per burst of 429s.
  if now >= cut_until then
    rate = math.max(floor_rate, rate * decrease)
    changed = now
    cut_until = now + pause
  end
  delay = paused - now
else
  return redis.error_reply('unknown op ' .. tostring(op))
end

redis.call('HSET', KEYS[1], 'tat', num(tat), 'rate', num(rate), 'changed', num(changed),
           'cut_until', num(cut_until), 'rejoin_until', num(rejoin_until))
redis.call('PEXPIRE', KEYS[1], ttl + math.ceil(math.max(0, tat - now, rejoin_until - now) / 1000))
return {num(delay), num(rate), started, num(math.max(0, rejoin_until - now))}
"""


def keys_for(prefix: str, app_id: str) -> tuple[str, str]:
    """The two keys of one App. The App ID is hashed: it never appears in Redis in clear."""
    tag = hashlib.sha256(app_id.encode("utf-8")).hexdigest()[:16]
    return f"{prefix}:{{{tag}}}:gcra", f"{prefix}:{{{tag}}}:paused"


@attrs.frozen
class SharedParams:
    """The caller's settings, sent with every script call (seconds and calls/s)."""

    ceiling: float
    floor: float
    decrease: float = 0.8
    step: float = 0.05
    quiet: float = 5.0
    pause: float = 1.0
    ttl: float = 60.0

    def argv(self, op: str, *, rejoin: float = 0.0) -> list[str]:
        """Script arguments for ``op`` (``acquire`` or ``pause``), times in micro/milliseconds.

        ``rejoin`` (seconds) is given by a caller coming back from local pacing: every caller
        keeps its local share too for that long (``SharedResult.rejoin``).
        """
        return [
            op,
            repr(self.ceiling),
            repr(self.floor),
            repr(self.decrease),
            repr(self.step),
            repr(self.quiet * 1e6),
            repr(self.pause * 1e6),
            str(round(self.ttl * 1000)),
            repr(rejoin * 1e6),
        ]


@attrs.frozen
class SharedResult:
    """What the script answered: seconds to wait (or the pause length), the shared rate."""

    delay: float
    rate: float
    #: For ``pause``: whether this 429 started a new pause (rather than extending one).
    started: bool
    #: Seconds left of a rejoin period (0 when none): keep the local share until then.
    rejoin: float = 0.0

    @classmethod
    def parse(cls, reply: list[bytes | str | int]) -> SharedResult:
        """Parse the script's ``{delay_us, rate, started, rejoin_us}`` reply."""
        delay_us, rate, started, rejoin_us = reply
        return cls(
            delay=float(delay_us) / 1e6,
            rate=float(rate),
            started=int(started) == 1,
            rejoin=float(rejoin_us) / 1e6,
        )
