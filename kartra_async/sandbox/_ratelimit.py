"""Kartra's limit: at most N accepted calls in any sliding one-second window, per ``app_id``."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

#: Length of the sliding window, in seconds (docs/kartra-api.md#rate-limit).
WINDOW = 1.0


class SlidingWindow:
    """Admit a call when fewer than ``limit`` calls were admitted in the last second.

    Only admitted calls are remembered, so a client hammering a full window is not pushed
    further back by its own rejected calls. ``clock`` is monotonic seconds (injectable).
    """

    __slots__ = ("_clock", "_windows", "limit")

    def __init__(self, limit: int, clock: Callable[[], float]) -> None:
        if limit < 1:
            raise ValueError("rate limit must be at least 1 call per second")
        self.limit = limit
        self._clock = clock
        self._windows: dict[str, deque[float]] = {}

    def admit(self, key: str) -> bool:
        """Record and admit a call for ``key``, or refuse it (the caller answers 429)."""
        now = self._clock()
        window = self._windows.get(key)
        if window is None:
            window = self._windows[key] = deque()
        horizon = now - WINDOW
        while window and window[0] <= horizon:
            window.popleft()
        if len(window) >= self.limit:
            return False
        window.append(now)
        return True

    def occupancy(self) -> dict[str, int]:
        """Calls each key has in the window right now (keys with none are left out)."""
        horizon = self._clock() - WINDOW
        used = {}
        for key, window in self._windows.items():
            while window and window[0] <= horizon:
                window.popleft()
            if window:
                used[key] = len(window)
        return used

    def clear(self) -> None:
        """Forget every window."""
        self._windows.clear()
