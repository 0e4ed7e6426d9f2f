"""The app's rate limit shared by every process that uses it, through Redis.

TikTok limits the developer app, not the process: eight jobs side by side, each pacing itself
at the app's limit, send eight times the limit. When `$BCSYNC_RATE_LIMIT_URL` names a Redis
server (from the environment only, never a config), every process that names the same server
and app name (`$BCSYNC_RATE_LIMIT_APP`) shares one budget, whatever token or BC it uses.

How: each call *reserves* a start time in one Lua script, run atomically on the server with the
server's clock (so machines' clocks never matter). The script keeps the app's recent
reservations in a list, oldest first, and hands out the earliest time that breaks neither
window nor the pace, exactly as `limiter.RateLimiter` decides for one process; the caller
sleeps until then. Reservations are granted in the order they reach Redis and each process
holds at most one at a time, so waiting processes take turns: a process with a hundred
concurrent tasks gets no more than one with a single task. The sleep happens inside
`acquire()`, before the client starts its retry clock, so time queued never counts against a
call's retry budget.

What the server counts is when a call arrives, not when it was reserved. Two things bunch calls
on a busy machine, and both are paid for here rather than in throttle answers: a process woken
later than half the windows' margin after its start gives that start up and reserves another,
and a process's first call (a new connection, code loaded on first use) counts twice.

Why not a library: `limits` and `pyrate-limiter` check-and-record one call against a window and
leave the waiting to the caller's polling, so a process that polls at the wrong moments can
starve; neither reserves a place in a queue shared across processes, which fairness needs.

When Redis cannot be reached, or answers slower than `timeout`, the limiter says so once (a
warning on the `bcsync.providers.tiktok` logger, without the URL's password) and paces this
process by itself for the rest of the run at `fallback_share` of the app's limit: a run never
fails for its limiter.
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import redis.asyncio

from bcsync.errors import UsageError
from bcsync.providers.tiktok.limiter import (
    SLOWDOWN_DECAY,
    SLOWDOWN_MAX,
    SLOWDOWN_STEP,
    RateLimit,
    RateLimiter,
)

log = logging.getLogger("bcsync.providers.tiktok")

URL_ENV = "BCSYNC_RATE_LIMIT_URL"
APP_ENV = "BCSYNC_RATE_LIMIT_APP"
FALLBACK_ENV = "BCSYNC_RATE_LIMIT_FALLBACK"
TIMEOUT_ENV = "BCSYNC_RATE_LIMIT_TIMEOUT"
SCHEMES = ("redis", "rediss", "unix")
APP_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
DEFAULT_APP = "default"
# Four processes falling back at a quarter each stay within the limit; more get throttled
# answers, which the client retries.
DEFAULT_FALLBACK = 0.25
DEFAULT_TIMEOUT = 0.5
MICRO = 1_000_000
# A process that keeps waking late (a starved machine) goes on the third turn all the same.
LATE_RETRIES = 3

# KEYS: the app's reservations (start times in µs of Redis's clock, oldest first), its pace.
# ARGV: qps, 1-second span (µs), qpm (0: none), 60-second span (µs), pace interval (µs),
#       slowdown to add (throttle answers seen since the last call), slowdown max and decay,
#       how many starts to record (2 for a process's first call: see SharedRateLimiter.reserve).
# Returns how many µs from now the reserved start is.
RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local qps, span1 = tonumber(ARGV[1]), tonumber(ARGV[2])
local qpm, span60 = tonumber(ARGV[3]), tonumber(ARGV[4])
local interval = tonumber(ARGV[5])
local due = tonumber(redis.call('HGET', KEYS[2], 'due') or '0')
local slow = tonumber(redis.call('HGET', KEYS[2], 'slowdown') or '0')
slow = math.min(slow + tonumber(ARGV[6]), tonumber(ARGV[7]))
local start = math.max(now, due - math.floor(interval / 2))
local n = redis.call('LLEN', KEYS[1])
if n >= qps then
  start = math.max(start, tonumber(redis.call('LINDEX', KEYS[1], -qps)) + span1)
end
if qpm > 0 and n >= qpm then
  start = math.max(start, tonumber(redis.call('LINDEX', KEYS[1], -qpm)) + span60)
end
local keep = math.max(qps, qpm)
for _ = 1, tonumber(ARGV[9]) do
  redis.call('RPUSH', KEYS[1], string.format('%.0f', start))
end
redis.call('LTRIM', KEYS[1], -keep, -1)
due = math.max(due, start) + math.floor(interval * (1 + slow))
redis.call('HSET', KEYS[2], 'due', string.format('%.0f', due),
           'slowdown', string.format('%.6f', slow * tonumber(ARGV[8])))
local ttl = math.floor((math.max(span60, span1) + (start - now)) / 1000) + 1000
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('PEXPIRE', KEYS[2], ttl)
return start - now
"""


@dataclass(frozen=True)
class SharedLimit:
    """Where the shared budget lives, read from the environment."""

    url: str = field(repr=False)
    app: str = DEFAULT_APP
    fallback_share: float = DEFAULT_FALLBACK
    timeout: float = DEFAULT_TIMEOUT

    @property
    def where(self) -> str:
        """The server, for messages: scheme, host, port and database, never a password."""
        return shown_url(self.url)

    @property
    def keys(self) -> tuple[str, str]:
        # One hash tag, so a Redis Cluster keeps both keys on one node for the script.
        return (f"bcsync:{{{self.app}}}:starts", f"bcsync:{{{self.app}}}:pace")


def shown_url(url: str) -> str:
    """The URL without user name or password."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError):
        return "(an unparsable URL)"
    if parsed.scheme == "unix":
        return f"unix://{parsed.path}"
    host = f"[{parsed.host}]" if ":" in parsed.host else parsed.host
    port = f":{parsed.port}" if parsed.port else ""
    return f"{parsed.scheme}://{host}{port}{parsed.path}"


def shared_limit_from_env(env: Mapping[str, str]) -> SharedLimit | None:
    """The shared limit the environment asks for; None without `$BCSYNC_RATE_LIMIT_URL`."""
    url = env.get(URL_ENV, "").strip()
    if not url:
        return None
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if scheme not in SCHEMES:
        raise UsageError(
            f"${URL_ENV} must be a redis://, rediss:// or unix:// URL, got {shown_url(url)}",
            hint="e.g. BCSYNC_RATE_LIMIT_URL=redis://127.0.0.1:6379/0",
        )
    app = env.get(APP_ENV, "").strip() or DEFAULT_APP
    if not APP_PATTERN.fullmatch(app):
        raise UsageError(
            f"${APP_ENV} must be 1-64 letters, digits, '.', '_' or '-', got {app[:80]!r}",
            hint="name the developer app, e.g. BCSYNC_RATE_LIMIT_APP=acme-prod",
        )
    share = _number(env, FALLBACK_ENV, DEFAULT_FALLBACK, "a share of the limit, e.g. 0.25")
    if not 0 < share <= 1:
        raise UsageError(
            f"${FALLBACK_ENV} must be more than 0 and at most 1, got {share:g}",
            hint="the share of the app's limit one process takes when Redis is unreachable",
        )
    timeout = _number(env, TIMEOUT_ENV, DEFAULT_TIMEOUT, "seconds, e.g. 0.5")
    if not 0 < timeout <= 60:
        raise UsageError(
            f"${TIMEOUT_ENV} must be more than 0 and at most 60 seconds, got {timeout:g}",
            hint="how long to wait for Redis before pacing this process by itself",
        )
    return SharedLimit(url, app, share, timeout)


def _number(env: Mapping[str, str], name: str, default: float, what: str) -> float:
    text = env.get(name, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise UsageError(f"${name} must be a number, got {text[:40]!r}", hint=what)
    return value


def open_redis(shared: SharedLimit) -> redis.asyncio.Redis:
    """A client for the shared limit's server (it connects on first use)."""
    try:
        return redis.asyncio.Redis.from_url(
            shared.url, socket_timeout=shared.timeout, socket_connect_timeout=shared.timeout
        )
    except ValueError as exc:
        raise UsageError(
            f"${URL_ENV} is not a usable Redis URL ({shown_url(shared.url)}): "
            f"{str(exc).replace(shared.url, shown_url(shared.url))[:200]}",
            hint="e.g. BCSYNC_RATE_LIMIT_URL=redis://127.0.0.1:6379/0",
        ) from None


def fallback_rate(limit: RateLimit, share: float) -> RateLimit:
    """`share` of the limit, at least one call a second (and a minute)."""
    return RateLimit(
        qps=max(1, math.floor(limit.qps * share)),
        qpm=None if limit.qpm is None else max(1, math.floor(limit.qpm * share)),
        margin=limit.margin,
        smooth=limit.smooth,
    )


class SharedRateLimiter:
    """The app's limit across processes; `acquire()` returns when a call may start."""

    def __init__(
        self,
        redis: Any,
        limit: RateLimit,
        shared: SharedLimit,
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.shared = shared
        self._redis = redis
        self._script = redis.register_script(RESERVE)
        self._sleep = sleep
        self._clock = clock
        # Starts given up because this process woke too late for them (see _take_a_turn).
        self.late = 0
        self._started = False
        self._args = (
            limit.qps,
            round((1.0 + limit.margin) * MICRO),
            limit.qpm or 0,
            round((60.0 + limit.margin) * MICRO),
            round(MICRO / limit.qps) if limit.smooth else 0,
        )
        self._pending_slowdown = 0.0
        # Set once Redis failed: this process paces itself for the rest of the run.
        self.fallback: RateLimiter | None = None
        # One reservation at a time per process: processes take turns at the shared queue.
        self._lock = asyncio.Lock()

    def __repr__(self) -> str:
        return (
            f"SharedRateLimiter(qps={self.limit.qps}, qpm={self.limit.qpm}, "
            f"app={self.shared.app!r}, at={self.shared.where!r})"
        )

    async def acquire(self) -> None:
        """Reserve the app's next free start and wait for it (or pace alone without Redis)."""
        async with self._lock:
            if self.fallback is None:
                try:
                    await self._take_a_turn()
                except Exception as exc:  # any failure of the limiter must not fail the run
                    self._fall_back(exc)
                else:
                    return
        assert self.fallback is not None
        await self.fallback.acquire()

    async def _take_a_turn(self) -> None:
        """Reserve a start and wait for it; a start missed by more than the slack is redone.

        A process woken late (a busy machine) would send its call right beside the next
        process's: half the windows' margin absorbs lateness, the other half the network.
        """
        for _ in range(LATE_RETRIES):
            # Measured from before asking: an answer read late (a starved process) is lateness
            # too, and the start itself waits the whole delay after the answer.
            asked = self._clock()
            delay = await self.reserve()
            if delay > 0:
                await self._sleep(delay)
            if self._clock() - (asked + delay) <= self.limit.margin / 2:
                return
            self.late += 1

    async def reserve(self) -> float:
        """Record the app's next free start in Redis; seconds until it."""
        slowdown, self._pending_slowdown = self._pending_slowdown, 0.0
        # A process's first call leaves late (its connection is made, code loaded on first
        # use) and lands beside the next process's: it is counted twice in the windows.
        copies = 1 if self._started else 2
        args = (*self._args, f"{slowdown:.6f}", SLOWDOWN_MAX, SLOWDOWN_DECAY, copies)
        async with asyncio.timeout(self.shared.timeout):
            micros = await self._script(keys=list(self.shared.keys), args=list(args))
        self._started = True
        return int(micros) / MICRO

    def throttled(self) -> None:
        """The server said the app was too fast anyway: every process paces slower a while."""
        if self.fallback is not None:
            self.fallback.throttled()
        else:
            self._pending_slowdown = min(self._pending_slowdown + SLOWDOWN_STEP, SLOWDOWN_MAX)

    def _fall_back(self, exc: BaseException) -> None:
        rate = fallback_rate(self.limit, self.shared.fallback_share)
        self.fallback = RateLimiter(rate)
        reason = "no answer in time" if isinstance(exc, TimeoutError) else type(exc).__name__
        log.warning(
            "warning: the shared rate limit at %s is unavailable (%s); this process now paces "
            "itself at %g%% of the app's limit (%d QPS) for the rest of the run",
            self.shared.where,
            reason,
            self.shared.fallback_share * 100,
            rate.qps,
        )
