"""The rate limiter never lets more than qps calls start in any 1-second window (nor qpm in 60)."""

from __future__ import annotations

import asyncio
import time

import pytest

from bcsync.providers.tiktok.limiter import TIERS, RateLimit, RateLimiter

from .fakes import FakeClock


def max_in_window(stamps: list[float], span: float) -> int:
    """The most starts any half-open window [t, t + span) holds."""
    stamps = sorted(stamps)
    best = 0
    j = 0
    for i, start in enumerate(stamps):
        while stamps[j] <= start - span:
            j += 1
        best = max(best, i - j + 1)
    return best


async def run(limiter: RateLimiter, clock, count: int) -> list[float]:
    stamps: list[float] = []

    async def one() -> None:
        await limiter.acquire()
        stamps.append(clock())

    await asyncio.gather(*(one() for _ in range(count)))
    return stamps


@pytest.mark.parametrize(("qps", "qpm"), list(TIERS.values()))
async def test_never_more_than_qps_in_any_second(qps: int, qpm: int) -> None:
    clock = FakeClock()
    limiter = RateLimiter(RateLimit(qps, qpm, margin=0.0), clock=clock, sleep=clock.sleep)
    stamps = await run(limiter, clock, qps * 7 + 3)
    assert max_in_window(stamps, 1.0) == qps
    # ...and no slower than it must be: paced 1/qps apart (the second start may come half an
    # interval early: the pacing's tolerance for a late event loop).
    due = (qps * 7 + 2) / qps
    assert due - 0.5 / qps - 1e-6 <= stamps[-1] - stamps[0] <= due + 1e-6


async def test_unpaced_limiter_bursts_a_second_at_a_time() -> None:
    clock = FakeClock()
    limit = RateLimit(10, None, margin=0.0, smooth=False)
    stamps = await run(RateLimiter(limit, clock=clock, sleep=clock.sleep), clock, 25)
    assert max_in_window(stamps, 1.0) == 10
    assert sorted(set(stamps)) == [1000.0, 1001.0, 1002.0]


async def test_never_more_than_qpm_in_any_minute() -> None:
    clock = FakeClock()
    limiter = RateLimiter(RateLimit(10, 30, margin=0.0), clock=clock, sleep=clock.sleep)
    stamps = await run(limiter, clock, 95)
    assert max_in_window(stamps, 60.0) == 30
    assert max_in_window(stamps, 1.0) <= 10
    # Three full minutes, then five more starts paced 0.1 s apart.
    assert 180.3 <= stamps[-1] - stamps[0] <= 180.4 + 1e-6


async def test_margin_widens_the_window() -> None:
    clock = FakeClock()
    limiter = RateLimiter(RateLimit(5, None, margin=0.05), clock=clock, sleep=clock.sleep)
    stamps = await run(limiter, clock, 11)
    assert max_in_window(stamps, 1.05) == 5


async def test_real_clock() -> None:
    limiter = RateLimiter(RateLimit(100, None, margin=0.0))
    stamps = await run(limiter, time.monotonic, 110)
    assert max_in_window(stamps, 1.0) <= 100
    assert stamps[-1] - stamps[0] >= 0.99


@pytest.mark.parametrize(("qps", "qpm"), [(0, 600), (10, 0)])
def test_rate_limit_must_be_positive(qps: int, qpm: int) -> None:
    with pytest.raises(ValueError):
        RateLimit(qps, qpm)


async def test_a_throttle_answer_slows_the_pace_for_a_while() -> None:
    clock = FakeClock()
    limiter = RateLimiter(RateLimit(10, None, margin=0.0), clock=clock, sleep=clock.sleep)
    await run(limiter, clock, 5)
    limiter.throttled()
    slow = await run(limiter, clock, 3)
    assert slow[-1] - slow[0] == pytest.approx(2 * 0.11, rel=0.02)  # 10 % slower
    await run(limiter, clock, 500)
    fast = await run(limiter, clock, 3)
    assert fast[-1] - fast[0] == pytest.approx(2 * 0.1, rel=0.01)  # back to the full pace
