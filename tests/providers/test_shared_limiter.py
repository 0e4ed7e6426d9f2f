"""The app's rate limit shared across processes through a real Redis (issue 21).

scripts/test serves a private redis-server and names it in $REDIS_TEST_URL; each test
works under its own app name, so tests never share a budget.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import subprocess
import sys
import textwrap
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
import redis.asyncio

from bcsync.core.model import ProviderSettings, ProviderType
from bcsync.errors import UsageError
from bcsync.providers.factory import open_providers
from bcsync.providers.tiktok.client import RetryPolicy
from bcsync.providers.tiktok.limiter import RateLimit, RateLimiter
from bcsync.providers.tiktok.shared_limiter import (
    SharedLimit,
    SharedRateLimiter,
    open_redis,
    shared_limit_from_env,
)

from .fakes import TOKEN, FakeApi, FakeClock, envelope
from .test_factory import config
from .test_limiter import max_in_window

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def redis_url() -> str:
    url = os.environ.get("REDIS_TEST_URL", "")
    if not url:
        pytest.fail("no Redis for the shared rate limit: run `bash scripts/test`, which serves one")
    return url


@pytest.fixture
def shared(redis_url: str) -> SharedLimit:
    return SharedLimit(redis_url, app=f"test-{uuid.uuid4().hex[:12]}")


Make = Callable[..., SharedRateLimiter]


@pytest.fixture
async def process(shared: SharedLimit) -> AsyncIterator[Make]:
    """`process(limit)`: a limiter with its own connection, as another process would hold."""
    clients: list[redis.asyncio.Redis] = []

    def make(limit: RateLimit, where: SharedLimit = shared, **kwargs: object) -> SharedRateLimiter:
        client = open_redis(where)
        clients.append(client)
        return SharedRateLimiter(client, limit, where, **kwargs)  # type: ignore[arg-type]

    yield make
    for client in clients:
        await client.aclose()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- the guarantees ----------------------------------------------------------------------------


async def test_processes_together_never_exceed_the_apps_qps(process: Make) -> None:
    limit = RateLimit(qps=25, qpm=1500)
    stamps: list[float] = []

    async def calls(limiter: SharedRateLimiter, count: int) -> None:
        for _ in range(count):
            await limiter.acquire()
            stamps.append(time.monotonic())

    # Each would take all 25 a second alone; three of them together still get 25 in all.
    await asyncio.gather(*(calls(process(limit), 25) for _ in range(3)))
    assert len(stamps) == 75
    assert max_in_window(stamps, 1.0) <= 25


async def test_qpm_holds_across_processes(process: Make) -> None:
    limit = RateLimit(qps=100, qpm=10)
    a, b = process(limit), process(limit)
    # Each process's first call counts twice (it leaves late): 8 calls fill the 10.
    delays = [await (a if i % 2 else b).reserve() for i in range(8)]
    assert max(delays) < 1.0
    # The next start of the minute waits for the first to leave the 60-second window.
    assert await a.reserve() >= 60.0
    assert await b.reserve() >= 60.0


async def test_another_app_name_has_its_own_budget(process: Make, shared: SharedLimit) -> None:
    limit = RateLimit(qps=100, qpm=5)
    a = process(limit)
    for _ in range(4):  # the first counts twice
        assert await a.reserve() < 1.0
    assert await a.reserve() >= 60.0
    other = SharedLimit(shared.url, app=shared.app + "-other")
    assert await process(limit, other).reserve() < 1.0


async def test_waiting_processes_take_turns_whatever_their_concurrency(process: Make) -> None:
    limit = RateLimit(qps=40, qpm=2400)
    served: list[str] = []

    async def task(name: str, limiter: SharedRateLimiter) -> None:
        while len(served) < 60:
            await limiter.acquire()
            served.append(name)

    greedy, modest, quiet = process(limit), process(limit), process(limit)
    # One process floods the limiter with 20 concurrent tasks; the others have one each.
    tasks = [task("greedy", greedy) for _ in range(20)]
    await asyncio.gather(*tasks, task("modest", modest), task("quiet", quiet))
    shares = Counter(served[:60])
    assert set(shares) == {"greedy", "modest", "quiet"}
    assert max(shares.values()) - min(shares.values()) <= 2, shares


async def test_a_throttle_answer_slows_every_process(process: Make, shared: SharedLimit) -> None:
    limit = RateLimit(qps=10, qpm=600)
    a = process(limit)
    a.throttled()
    await a.reserve()
    client = open_redis(shared)
    try:
        slowdown = float(await client.hget(shared.keys[1], "slowdown"))
        starts = await client.llen(shared.keys[0])
    finally:
        await client.aclose()
    assert slowdown > 0
    assert starts == 2  # a process's first call counts twice


async def test_a_start_missed_by_a_late_wakeup_is_given_up(process: Make) -> None:
    clock = FakeClock()

    async def oversleep(seconds: float) -> None:
        await clock.sleep(seconds + 0.2)  # a starved machine wakes the process late

    late = process(RateLimit(qps=1, qpm=60), sleep=oversleep, clock=clock)
    await late.acquire()  # the first start is now: no wait, nothing to miss
    await late.acquire()
    # Each missed start is given up and another reserved; the third try goes all the same.
    assert late.late == 3
    on_time = process(RateLimit(qps=1, qpm=60), sleep=clock.sleep, clock=clock)
    await on_time.acquire()
    await on_time.acquire()
    assert on_time.late == 0


async def test_an_answer_read_late_is_a_late_start_too(
    process: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = FakeClock()
    limiter = process(RateLimit(qps=10, qpm=600), sleep=clock.sleep, clock=clock)
    reserve = limiter.reserve

    async def starved() -> float:
        delay = await reserve()
        clock.now += 0.2  # Redis answered at once; this process read it 200 ms later
        return delay

    monkeypatch.setattr(limiter, "reserve", starved)
    await limiter.acquire()
    assert limiter.late == 3


async def test_time_queued_does_not_count_against_the_retry_budget(process: Make) -> None:
    clock = FakeClock()
    limit = RateLimit(qps=100, qpm=3)
    for _ in range(3):  # the minute's budget is gone: the next call queues for about a minute
        await process(limit).reserve()
    limiter = process(limit, sleep=clock.sleep)
    answers = iter([envelope(40100, message="app QPS limit"), envelope(data={"list": []})])
    api = FakeApi(lambda _request: next(answers))
    retry = RetryPolicy(attempts=3, total_seconds=1.0, base_delay=0.01, throttle_delay=0.01)
    client = api.client(retry=retry, limiter=limiter, sleep=clock.sleep, clock=clock)
    assert await client.get("bc/get/", {"bc_id": "1"}) == {"list": []}
    assert clock.now - 1000.0 >= 59.0  # queued a minute and more, on a 1-second budget
    assert len(api.requests) == 2


# -- Redis unreachable or slow -----------------------------------------------------------------


async def test_unreachable_redis_is_said_once_and_the_process_paces_alone(
    process: Make, caplog: pytest.LogCaptureFixture
) -> None:
    where = SharedLimit(
        f"redis://:hunter2-secret@127.0.0.1:{closed_port()}/0", app="x", timeout=0.5
    )
    limiter = process(RateLimit(qps=10, qpm=600), where)
    with caplog.at_level(logging.WARNING, logger="bcsync.providers.tiktok"):
        for _ in range(3):
            await limiter.acquire()
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1
    assert "25% of the app's limit (2 QPS)" in warnings[0].getMessage()
    assert "127.0.0.1" in warnings[0].getMessage()
    assert "hunter2" not in caplog.text
    assert isinstance(limiter.fallback, RateLimiter)
    assert limiter.fallback.limit == RateLimit(qps=2, qpm=150)


async def test_a_redis_that_never_answers_falls_back_in_time(
    process: Make, caplog: pytest.LogCaptureFixture
) -> None:
    done = asyncio.Event()
    handlers: list[asyncio.Task[None]] = []

    async def mute(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        handlers.append(asyncio.current_task())  # type: ignore[arg-type]
        await reader.read(1 << 16)  # takes the command, never answers
        await done.wait()
        writer.close()

    server = await asyncio.start_server(mute, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        where = SharedLimit(f"redis://127.0.0.1:{port}/0", app="x", fallback_share=0.5, timeout=0.2)
        limiter = process(RateLimit(qps=10, qpm=600), where)
        started = time.monotonic()
        with caplog.at_level(logging.WARNING, logger="bcsync.providers.tiktok"):
            await limiter.acquire()
            await limiter.acquire()
        assert time.monotonic() - started < 5
    finally:
        done.set()
        await asyncio.gather(*handlers)
        server.close()
        await server.wait_closed()
    assert [r.getMessage() for r in caplog.records if "no answer in time" in r.getMessage()]
    assert limiter.fallback is not None and limiter.fallback.limit.qps == 5


# -- settings from the environment -------------------------------------------------------------


def test_no_url_no_shared_limit() -> None:
    assert shared_limit_from_env({}) is None
    assert shared_limit_from_env({"BCSYNC_RATE_LIMIT_APP": "a"}) is None


def test_settings_are_read_from_the_environment() -> None:
    env = {
        "BCSYNC_RATE_LIMIT_URL": "redis://:pw@127.0.0.1:6379/2",
        "BCSYNC_RATE_LIMIT_APP": "acme-prod",
        "BCSYNC_RATE_LIMIT_FALLBACK": "0.5",
        "BCSYNC_RATE_LIMIT_TIMEOUT": "2",
    }
    shared = shared_limit_from_env(env)
    assert shared == SharedLimit(env["BCSYNC_RATE_LIMIT_URL"], "acme-prod", 0.5, 2.0)
    assert shared.where == "redis://127.0.0.1:6379/2"
    assert "pw" not in repr(shared)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("BCSYNC_RATE_LIMIT_URL", "http://user:s3cret-pw@127.0.0.1:6379"),
        ("BCSYNC_RATE_LIMIT_URL", "127.0.0.1:6379"),
        ("BCSYNC_RATE_LIMIT_APP", "a b"),
        ("BCSYNC_RATE_LIMIT_APP", "../other"),
        ("BCSYNC_RATE_LIMIT_APP", "x" * 65),
        ("BCSYNC_RATE_LIMIT_APP", "app}:starts"),
        ("BCSYNC_RATE_LIMIT_FALLBACK", "0"),
        ("BCSYNC_RATE_LIMIT_FALLBACK", "1.5"),
        ("BCSYNC_RATE_LIMIT_FALLBACK", "nan"),
        ("BCSYNC_RATE_LIMIT_FALLBACK", "half"),
        ("BCSYNC_RATE_LIMIT_TIMEOUT", "0"),
        ("BCSYNC_RATE_LIMIT_TIMEOUT", "inf"),
    ],
)
def test_a_bad_setting_is_a_usage_error_naming_it(name: str, value: str) -> None:
    env = {"BCSYNC_RATE_LIMIT_URL": "redis://127.0.0.1:6379/0", name: value}
    with pytest.raises(UsageError) as caught:
        shared_limit_from_env(env)
    assert name in caught.value.message
    assert "s3cret" not in caught.value.message


def test_an_unusable_redis_url_is_a_usage_error_without_its_password() -> None:
    shared = SharedLimit("redis://:s3cret-pw@127.0.0.1:notaport/0")
    with pytest.raises(UsageError) as caught:
        open_redis(shared)
    assert "BCSYNC_RATE_LIMIT_URL" in caught.value.message
    assert "s3cret" not in caught.value.message


async def test_every_networked_app_of_a_run_shares_the_redis_limit(redis_url: str) -> None:
    url = "http://127.0.0.1:9"
    a = config(ProviderSettings(type=ProviderType.EMULATOR, url=url, qps=20), bc_id="1")
    other = ProviderSettings(type=ProviderType.EMULATOR, url=url, token_env="BCSYNC_OTHER")
    b = config(other, bc_id="2")
    env = {
        "BCSYNC_EMULATOR_TOKEN": TOKEN,
        "BCSYNC_OTHER": "another-token",
        "BCSYNC_RATE_LIMIT_URL": redis_url,
    }
    async with open_providers([a, b], env=env) as providers:
        one, two = providers["1"].client.limiter, providers["2"].client.limiter
        # Two tokens, one app as far as bcsync can know: one budget, the strictest limit.
        assert isinstance(one, SharedRateLimiter) and one is two
        assert one.limit == RateLimit(10, 600)
    async with open_providers([a], env={"BCSYNC_EMULATOR_TOKEN": TOKEN}) as providers:
        assert isinstance(providers["1"].client.limiter, RateLimiter)


# -- real processes ----------------------------------------------------------------------------

CHILD = textwrap.dedent(
    """
    import asyncio, json, sys, time
    from bcsync.providers.tiktok.limiter import RateLimit
    from bcsync.providers.tiktok.shared_limiter import SharedLimit, SharedRateLimiter, open_redis

    async def main(url, app, count):
        shared = SharedLimit(url, app=app)
        client = open_redis(shared)
        limiter = SharedRateLimiter(client, RateLimit(qps=12, qpm=720), shared)
        stamps = []
        for _ in range(count):
            await limiter.acquire()
            stamps.append(time.time())
        await client.aclose()
        print(json.dumps(stamps))

    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
    """
)


@pytest.mark.slow
def test_separate_processes_share_one_budget(shared: SharedLimit) -> None:
    children = [
        subprocess.Popen(
            [sys.executable, "-c", CHILD, shared.url, shared.app, "12"],
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        for _ in range(3)
    ]
    stamps = []
    for child in children:
        out, _ = child.communicate(timeout=60)
        assert child.returncode == 0
        stamps.extend(json.loads(out))
    assert len(stamps) == 36
    assert max_in_window(stamps, 1.0) <= 12
