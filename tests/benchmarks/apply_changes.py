"""Benchmark: apply about 1,000 changes of mixed kinds to a served emulator under a QPS limit.

Serves the emulator on 127.0.0.1 (QPS limit and latency as flags), generates a seed and a
config that differ by invites, grants to add / change / revoke, finance-role updates, member
removals, partner shares to add and revoke; plans through the real provider, applies, and
checks that the BC converged.

Prints figures, and as its last line one JSON object:
  changes, calls (write calls the emulator saw during apply), min_calls (steps after batching),
  wall_s, qps, ratio_wall (= wall_s / (calls / qps)), converged.
Targets: calls == min_calls, ratio_wall <= 1.15, every change applied (nothing failed, the BC
converged); the exit status is 1 when one is missed.

    python tests/benchmarks/apply_changes.py [--qps 50] [--latency-ms 30]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import yaml
from targets import Target, verdict

from bcsync.config import load_strict
from bcsync.loop.audit import AuditLog
from bcsync.loop.reconcile import apply_planned, plan_all
from bcsync.providers.factory import open_providers

BC_ID = "7012345678901234567"
PARTNER = "7200000000000000009"
TOKEN = "bench-admin-token"


def ad(i: int) -> str:
    return f"71{i:017d}"


def generate(n_existing: int = 720, n_accounts: int = 60) -> tuple[dict[str, Any], dict[str, Any]]:
    """A seed and a config whose difference is about 1,000 changes of mixed kinds."""
    users = [{"user_id": "6900000000000000001", "email": "owner@bench.example",
              "name": "Owner", "token": TOKEN},
             {"user_id": "6900000000000000002", "email": "ops@bench.example",
              "name": "Ops", "token": "bench-ops-token"}]  # fmt: skip
    members = [
        {"email": "owner@bench.example", "role": "ADMIN", "status": "BOUND"},
        {"email": "ops@bench.example", "role": "ADMIN", "status": "BOUND"},
    ]
    grants = []
    for i in range(n_existing):
        email = f"m{i}@bench.example"
        users.append({"user_id": f"69{i + 10:017d}", "email": email, "name": f"M{i}"})
        members.append({"email": email, "role": "STANDARD", "status": "BOUND"})
        # Every existing member has one grant; the config keeps, changes or revokes it.
        grants.append({"email": email, "asset_type": "ADVERTISER", "asset_id": ad(i % n_accounts),
                       "role": "ANALYST"})  # fmt: skip
    shares = [{"asset_type": "ADVERTISER", "asset_id": ad(i), "role": "ANALYST"}
              for i in range(0, 50)]  # fmt: skip
    seed = {
        "version": 1,
        "users": users,
        "business_centers": [{
            "bc_id": BC_ID,
            "name": "Bench BC",
            "members": members,
            "assets": {"ADVERTISER": [{"id": ad(i), "name": f"Account {i}"}
                                      for i in range(n_accounts)]},
            "grants": grants,
            "partners": [{"bc_id": PARTNER, "shares": shares}],
        }],
        "external_business_centers": [{"bc_id": PARTNER, "name": "Partner"}],
    }  # fmt: skip

    config_members: dict[str, Any] = {
        "owner@bench.example": {"role": "admin"},
        "ops@bench.example": {"role": "admin"},
    }
    for i in range(n_existing):
        email = f"m{i}@bench.example"
        account = f"a{i % n_accounts}"
        kind = i % 6
        if kind == 0:
            continue  # removed: not in config (1 change)
        if kind == 1:
            # role changed (1) and a new grant on another account (1)
            other = f"a{(i + 1) % n_accounts}"
            access = {"ad_accounts": {account: "operator", other: "analyst"}}
            config_members[email] = {"role": "standard", "access": access}
        elif kind == 2:
            config_members[email] = {"role": "standard"}  # grant revoked (1)
        elif kind == 3:
            access = {"ad_accounts": {account: "analyst"}}
            config_members[email] = {"role": "standard", "finance_role": "analyst",
                                     "access": access}  # finance role added (1)  # fmt: skip
        else:
            config_members[email] = {"role": "standard",
                                     "access": {"ad_accounts": {account: "analyst"}}}  # fmt: skip
    for i in range(200):  # new members, invited in batches of 50 carrying one ad account
        config_members[f"new{i}@bench.example"] = {
            "role": "standard",
            "access": {"ad_accounts": {"a0": "analyst"}},
        }
    partner_access = {f"a{i}": "analyst" for i in range(25, n_accounts)}  # 25 kept, 10 added
    config = {
        "version": 1,
        "business_center": {"id": BC_ID, "name": "Bench BC"},
        "provider": {"type": "emulator", "url": "", "qps": 50},
        "policy": {"min_admins": 2, "max_removals": "100%"},
        "assets": {"ad_accounts": {f"a{i}": ad(i) for i in range(n_accounts)}},
        "members": config_members,
        "partners": {"partner": {"bc_id": PARTNER, "access": {"ad_accounts": partner_access}}},
    }
    return seed, config


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--qps", type=int, default=50)
    parser.add_argument("--latency-ms", type=float, default=30.0)
    parser.add_argument("--parallelism", type=int, default=16)
    args = parser.parse_args()

    work, url, server = serve_world(args.qps, "--latency-ms", str(args.latency_ms))
    try:
        return asyncio.run(run(work, url, args))
    finally:
        server.terminate()
        server.wait(timeout=10)


def serve_world(qps: int, *faults: str) -> tuple[Path, str, subprocess.Popen[bytes]]:
    """The benchmark BC in a new directory (seed and config), served on a free loopback port
    with a QPS limit and `faults` (serve's options); its directory, URL and process."""
    work = Path(tempfile.mkdtemp(prefix="bcsync-bench-"))
    seed, config = generate()
    (work / "seed.yaml").write_text(yaml.safe_dump(seed))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    config["provider"].update(url=url, qps=qps)
    (work / "bcsync.yaml").write_text(yaml.safe_dump(config))
    server = subprocess.Popen(
        [sys.executable, "-m", "bcsync", "emulator", "serve", "--seed", str(work / "seed.yaml"),
         "--db", str(work / "bench.db"), "--port", str(port), "--control",
         "--qps-limit", str(qps), *faults],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env={**os.environ, "BCSYNC_EMULATOR_CONTROL_TOKEN": CONTROL_TOKEN},
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while True:
        try:
            httpx.get(f"{url}/_emulator/stats", headers=CONTROL_HEADERS, timeout=1)
            return work, url, server
        except httpx.TransportError:
            if time.monotonic() > deadline or server.poll() is not None:
                server.kill()
                raise SystemExit("the emulator did not start") from None
            time.sleep(0.2)


# The served emulator's control token: its own, chosen per run, never a TikTok token.
CONTROL_TOKEN = secrets.token_urlsafe(24)
CONTROL_HEADERS = {"Emulator-Control-Token": CONTROL_TOKEN}


def stats(url: str) -> dict[str, Any]:
    return httpx.get(f"{url}/_emulator/stats", headers=CONTROL_HEADERS, timeout=5).json()


async def run(work: Path, url: str, args: argparse.Namespace) -> int:
    from datetime import date

    configs = load_strict([str(work / "bcsync.yaml")], now=date(2026, 11, 25)).configs
    env = {"BCSYNC_EMULATOR_TOKEN": TOKEN}
    async with open_providers(configs, state_dir=work / "state", env=env) as providers:
        planned = await plan_all(configs, providers, allow_removals=True)
        plan = planned[0].plan
        changes = sum(1 for c in plan.changes if c.is_change)
        min_calls = len(plan.steps)
        before = stats(url)
        start = time.perf_counter()
        with AuditLog(work / "audit.jsonl", context={"actor": "bench", "git_commit": None}) as log:
            results = await apply_planned(
                [(plan, providers[plan.bc_id])], audit=log, concurrency=args.parallelism
            )
        wall = time.perf_counter() - start
        after = stats(url)
        calls = after["total"] - before["total"]
        throttled = after.get("throttled", 0) - before.get("throttled", 0)
        again = await plan_all(configs, providers, allow_removals=True)
    remaining = sum(1 for c in again[0].plan.changes if c.is_change)
    counts = results[0].counts()
    print(f"changes planned:        {changes}")
    print(f"steps (min calls):      {min_calls}")
    print(f"write calls made:       {calls} (throttled by the emulator: {throttled})")
    print(f"outcome:                {counts}")
    print(f"wall time:              {wall:.2f} s at {args.qps} QPS, {args.latency_ms} ms latency")
    print(f"changes left after:     {remaining}")
    figures = {
        "changes": changes,
        "calls": calls,
        "min_calls": min_calls,
        "wall_s": round(wall, 3),
        "qps": args.qps,
        "ratio_wall": round(wall / (calls / args.qps), 3) if calls else None,
        "throttled": throttled,
        "failed": counts["failed"],
        "converged": remaining == 0,
    }
    targets = [
        Target("calls", "==", min_calls),
        Target("ratio_wall", "<=", 1.15),
        Target("failed", "==", 0),
        Target("converged", "==", True),
    ]
    return verdict(figures, targets)


if __name__ == "__main__":
    sys.exit(main())
