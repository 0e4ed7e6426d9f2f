"""A client-side rate limiter: one per developer app, shared by every BC read in a run.

TikTok limits an app per second and per minute (Basic 10/600, Advanced 20/1200, Premium
30/1800, Ultimate 50/3000) and answers 40100 when exceeded. A sliding window of start times
guarantees what a token bucket only approximates: never more than `qps` starts in any
1-second window, never more than `qpm` in any 60-second window.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

TIERS: dict[str, tuple[int, int]] = {
    "basic": (10, 600),
    "advanced": (20, 1200),
    "premium": (30, 1800),
    "ultimate": (50, 3000),
}

SLOWDOWN_STEP, SLOWDOWN_MAX, SLOWDOWN_DECAY = 0.1, 1.0, 0.99


class Limiter(Protocol):
    """What the client needs of a limiter: this process's own, or one shared through Redis."""

    async def acquire(self) -> None:
        """Return when a call may start; the wait must not count against a retry budget."""

    def throttled(self) -> None:
        """The server answered a throttle code: pace slower for a while."""


@dataclass(frozen=True)
class RateLimit:
    """Calls per second and per minute; `margin` widens the windows against network jitter."""

    qps: int = 10
    qpm: int | None = 600
    # Requests leave here and reach the server a few ms apart; a slightly wider window keeps a
    # late request from landing in the server's previous second.
    margin: float = 0.05
    # Space starts 1/qps apart instead of bursting a whole second's worth at once: a burst
    # queues at the server, which then counts it spread out while the next burst arrives fast,
    # and the server's window sees more than qps.
    smooth: bool = True

    def __post_init__(self) -> None:
        if self.qps < 1 or (self.qpm is not None and self.qpm < 1):
            raise ValueError("qps and qpm must be at least 1")


class RateLimiter:
    """Async sliding-window limiter, optionally paced; `acquire()` returns when a call may start."""

    def __init__(
        self,
        limit: RateLimit,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.limit = limit
        self._windows = [(limit.qps, 1.0 + limit.margin)]
        if limit.qpm is not None:
            self._windows.append((limit.qpm, 60.0 + limit.margin))
        self._horizon = max(span for _, span in self._windows)
        # Pacing keeps a schedule (GCRA): a start that the event loop let through a little late
        # does not push every later one back; the windows stay the hard limit.
        self._interval = 1.0 / limit.qps if limit.smooth else 0.0
        self._due = float("-inf")
        # Raised by each throttle answer, decays with each start: the pace adapts to how much
        # jitter lies between our clock and the server's counting.
        self._slowdown = 0.0
        self._clock = clock
        self._sleep = sleep
        self._starts: deque[float] = deque()
        # FIFO: waiters are served in arrival order, so no BC starves another.
        self._lock = asyncio.Lock()

    def __repr__(self) -> str:
        return f"RateLimiter(qps={self.limit.qps}, qpm={self.limit.qpm})"

    async def acquire(self) -> None:
        """Wait until a call may start without breaking either window, and record it."""
        async with self._lock:
            while True:
                now = self._clock()
                wait = self._wait_time(now)
                if wait <= 0:
                    self._starts.append(now)
                    self._due = max(self._due, now) + self._interval * (1.0 + self._slowdown)
                    self._slowdown *= SLOWDOWN_DECAY
                    return
                # At least a microsecond, so a clock that cannot tell a tinier step still moves.
                await self._sleep(max(wait, 1e-6))

    def throttled(self) -> None:
        """The server said we were too fast anyway: pace slower for a while."""
        self._slowdown = min(self._slowdown + SLOWDOWN_STEP, SLOWDOWN_MAX)

    def _wait_time(self, now: float) -> float:
        while self._starts and self._starts[0] <= now - self._horizon:
            self._starts.popleft()
        wait = self._due - self._interval / 2 - now
        for limit, span in self._windows:
            # The window may take one more start once its limit-th latest start has left it.
            if len(self._starts) >= limit:
                # Compared as `start <= now - span`, the exact test of a half-open window.
                wait = max(wait, self._starts[-limit] - (now - span))
        return wait
