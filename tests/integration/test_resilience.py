"""Apply under injected faults, killed midway, and raced: it always converges, never doubles."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import date
from pathlib import Path

import httpx
import pytest

from bcsync.config import load_strict
from bcsync.loop.audit import AuditLog
from bcsync.loop.reconcile import apply_planned, plan_all
from bcsync.providers.factory import open_providers
from bcsync.providers.tiktok.client import RetryPolicy

from .conftest import CONTROL_HEADERS, NOW, Served, serve_emulator

# Real processes and sockets: seconds each; `scripts/test --fast` skips them.
pytestmark = pytest.mark.slow

BC_ID = "7012345678901234567"
OWNER_TOKEN = "local-acme-owner-token"
# Tiny delays so a test retries many times in well under a second; the timeout is shorter than
# the emulator's hang, so "timeout" faults really time out.
FAST_RETRY = RetryPolicy(
    attempts=8,
    total_seconds=20,
    base_delay=0.01,
    max_delay=0.05,
    throttle_delay=0.01,
    request_timeout=0.5,
    connect_timeout=1.0,
    settle_seconds=0.1,
    seed=1,
)


def point_at(config_dir: Path, url: str) -> Path:
    """Switch the example's provider from the in-process emulator to a served one."""
    config = config_dir / "bcsync.yaml"
    text = config.read_text().replace(
        "type: local\n  seed: seed.yaml", f"type: emulator\n  url: {url}\n  qps: 200"
    )
    config.write_text(text)
    # The seed is the served emulator's business now; in the directory it would read as a config.
    (config_dir / "seed.yaml").rename(config_dir.parent / "served-seed.yaml")
    return config


def changelog(url: str) -> list[str]:
    """Every activity-log line of the BC, through the API."""
    lines: list[str] = []
    page = 1
    while True:
        answer = httpx.get(
            f"{url}/open_api/v1.3/changelog/get/",
            params={"bc_id": BC_ID, "page": page, "page_size": 50},
            headers={"Access-Token": OWNER_TOKEN},
            timeout=5,
        ).json()
        assert answer["code"] == 0, answer
        lines.extend(e["activity_log"] for e in answer["data"]["changelog_list"])
        if page >= answer["data"]["page_info"]["total_page"]:
            return lines
        page += 1


CLEAR = {
    "throttle_rate": 0.0,
    "error_5xx_rate": 0.0,
    "timeout_rate": 0.0,
    "lost_response_rate": 0.0,
}


def set_faults(url: str, **faults: float) -> None:
    answer = httpx.post(f"{url}/_emulator/faults", json=faults, headers=CONTROL_HEADERS, timeout=5)
    assert answer.status_code == 200, answer.text


async def plan_and_apply(config: Path, state: Path, audit: Path) -> tuple[int, int]:
    """One plan + apply round; (changes planned, changes that failed or were skipped)."""
    configs = load_strict([str(config)], now=date.fromisoformat(NOW)).configs
    env = {"BCSYNC_EMULATOR_TOKEN": OWNER_TOKEN}
    async with open_providers(configs, state_dir=state, env=env, retry=FAST_RETRY) as providers:
        planned = await plan_all(configs, providers)
        plan = planned[0].plan
        todo = sum(1 for c in plan.changes if c.is_change)
        if not todo:
            return 0, 0
        with AuditLog(audit, context={"actor": "test", "git_commit": None}) as log:
            (result,) = await apply_planned([(plan, providers[BC_ID])], audit=log)
        counts = result.counts()
        return todo, counts["failed"] + counts["skipped"]


@pytest.mark.parametrize("fault_seed", [1, 2, 3])
def test_apply_under_faults_converges_without_duplicate_invites(
    quickstart: Path, served: Served, tmp_path: Path, fault_seed: int
) -> None:
    config = point_at(quickstart, served.url)
    set_faults(
        served.url,
        throttle_rate=0.15,
        error_5xx_rate=0.1,
        timeout_rate=0.05,
        lost_response_rate=0.2,
        hang_seconds=1.0,
        seed=fault_seed,
    )
    rounds = []
    for _ in range(4):  # re-running apply finishes whatever a round left
        todo, _failed = asyncio.run(plan_and_apply(config, tmp_path / "s", tmp_path / "a.jsonl"))
        rounds.append(todo)
        if todo == 0:
            break
    assert rounds[-1] == 0, f"did not converge: changes per round {rounds}"
    # The control endpoint merges what it is sent: name every fault to clear it.
    set_faults(served.url, **CLEAR)
    todo, _ = asyncio.run(plan_and_apply(config, tmp_path / "s", tmp_path / "a.jsonl"))
    assert todo == 0
    # Entries read "owner@acme.com invited grace@acme.com as STANDARD...".
    invites = Counter(
        line.split()[2] for line in changelog(served.url) if line.split()[1:2] == ["invited"]
    )
    assert invites["grace@acme.com"] == 1, invites
    assert all(n == 1 for n in invites.values()), invites


def run_cli(*args: str, env: dict[str, str], cwd: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "bcsync", *args],
        env={**os.environ, **env},
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def wait_for_records(path: Path, count: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and len(path.read_text().splitlines()) >= count:
            return
        time.sleep(0.02)
    raise AssertionError(f"{path} did not reach {count} records in {timeout}s")


@pytest.fixture
def slow_served(quickstart: Path, tmp_path: Path) -> Served:
    """A served emulator slow enough (150 ms a call) to interrupt an apply midway."""
    server = serve_emulator(quickstart / "seed.yaml", tmp_path / "slow.db", "--latency-ms", "150")
    yield server  # type: ignore[misc]
    server.process.terminate()
    server.process.wait(timeout=10)


def cli_env(tmp_path: Path) -> dict[str, str]:
    return {
        "BCSYNC_EMULATOR_TOKEN": OWNER_TOKEN,
        "NO_COLOR": "1",
    }


def start_slow_apply(
    quickstart: Path, url: str, tmp_path: Path, records: int
) -> tuple[tuple[str, ...], dict[str, str], Path, subprocess.Popen[bytes]]:
    """Point the example at the slow emulator and start an apply; return once it wrote `records`."""
    point_at(quickstart, url)
    env = cli_env(tmp_path)
    audit = tmp_path / "audit.jsonl"
    args = ("apply", str(quickstart), "--auto-approve", "--now", NOW, "--parallelism", "1")
    first = run_cli(*args, "--audit-log", str(audit), env=env, cwd=tmp_path)
    wait_for_records(audit, records)
    return args, env, audit, first


def test_apply_killed_midway_then_rerun_converges(
    quickstart: Path, slow_served: Served, tmp_path: Path
) -> None:
    args, env, audit, first = start_slow_apply(quickstart, slow_served.url, tmp_path, 3)
    first.send_signal(signal.SIGKILL)
    first.communicate(timeout=10)
    done = len(audit.read_text().splitlines())

    second = run_cli(*args, "--audit-log", str(audit), env=env, cwd=tmp_path)
    out, _ = second.communicate(timeout=60)
    assert second.returncode == 0, out.decode()
    # The rerun planned only what the killed run had not done.
    records = [json.loads(line) for line in audit.read_text().splitlines()]
    ids = [r["change"]["id"] for r in records if r["result"] != "confirmed"]
    assert len(ids) == len(set(ids)), "a change was applied twice"
    assert done < len(records)

    check = run_cli("plan", str(quickstart), "--detailed-exitcode", "--now", NOW, env=env,
                    cwd=tmp_path)  # fmt: skip
    out, _ = check.communicate(timeout=60)
    assert check.returncode == 0, out.decode()


def test_two_concurrent_applies_one_proceeds_one_refuses(
    quickstart: Path, slow_served: Served, tmp_path: Path
) -> None:
    args, env, _, first = start_slow_apply(quickstart, slow_served.url, tmp_path, 1)
    second = run_cli(*args, "--lock-timeout", "0.2", env=env, cwd=tmp_path)
    out2, _ = second.communicate(timeout=60)
    out1, _ = first.communicate(timeout=60)
    assert first.returncode == 0, out1.decode()
    assert second.returncode == 4, out2.decode()
    assert "lock" in out2.decode()
