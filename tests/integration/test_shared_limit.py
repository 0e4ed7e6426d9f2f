"""The shared rate limit as typed: `plan` / `apply` with $BCSYNC_RATE_LIMIT_URL (issue 21)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from bcsync.providers.tiktok.shared_limiter import SharedLimit, open_redis

from .conftest import NOW, Bcsync, Served
from .conftest import free_port as closed_port
from .test_resilience import OWNER_TOKEN, point_at


@pytest.fixture
def redis_url() -> str:
    url = os.environ.get("REDIS_TEST_URL", "")
    if not url:
        pytest.fail("no Redis for the shared rate limit: run `bash scripts/test`, which serves one")
    return url


def reservations(url: str, app: str) -> int:
    shared = SharedLimit(url, app=app)

    async def count() -> int:
        client = open_redis(shared)
        try:
            return int(await client.llen(shared.keys[0]))
        finally:
            await client.aclose()

    return asyncio.run(count())


def test_apply_paces_through_the_shared_limit(
    bcsync: Bcsync, quickstart: Path, served: Served, redis_url: str
) -> None:
    point_at(quickstart, served.url)
    app = f"it-{uuid.uuid4().hex[:10]}"
    env = {
        "BCSYNC_EMULATOR_TOKEN": OWNER_TOKEN,
        "BCSYNC_RATE_LIMIT_URL": redis_url,
        "BCSYNC_RATE_LIMIT_APP": app,
    }
    result = bcsync("apply", str(quickstart), "--auto-approve", "--now", NOW, env=env)
    assert result.exit_code == 0, result.output
    assert "shared rate limit" not in result.output
    # Every call reserved its start in Redis (the list keeps the latest `qpm` of them).
    assert reservations(redis_url, app) > 5


def test_an_unreachable_redis_is_said_once_and_the_run_goes_on(
    bcsync: Bcsync, quickstart: Path, served: Served
) -> None:
    point_at(quickstart, served.url)
    env = {
        "BCSYNC_EMULATOR_TOKEN": OWNER_TOKEN,
        "BCSYNC_RATE_LIMIT_URL": f"redis://:hunter2-pw@127.0.0.1:{closed_port()}/0",
    }
    # A real process: the warning reaches stderr as a user sees it.
    result = subprocess.run(
        [sys.executable, "-m", "bcsync", "plan", str(quickstart), "--now", NOW],
        env={**os.environ, **env},
        cwd=bcsync.workdir,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("shared rate limit") == 1, result.stderr
    assert "paces itself at 25% of the app's limit (50 QPS)" in result.stderr
    assert "hunter2" not in result.stdout + result.stderr


def test_a_bad_setting_is_a_usage_error(bcsync: Bcsync, quickstart: Path, served: Served) -> None:
    point_at(quickstart, served.url)
    env = {
        "BCSYNC_EMULATOR_TOKEN": OWNER_TOKEN,
        "BCSYNC_RATE_LIMIT_URL": "redis://127.0.0.1:6379/0",
        "BCSYNC_RATE_LIMIT_FALLBACK": "2",
    }
    result = bcsync("plan", str(quickstart), "--now", NOW, env=env)
    assert result.exit_code == 64, result.output
    assert "BCSYNC_RATE_LIMIT_FALLBACK" in result.output
