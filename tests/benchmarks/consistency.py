"""Benchmark: reading your own writes (issue 23), through the CLI as a pipeline runs it.

The benchmark Business Center of apply_changes.py (about 1,000 changes) is served with its reads
lagging its writes by --read-lag seconds (10) and --lost-rate (10%) of write answers lost after
the write committed. `bcsync plan --out`, then `bcsync apply PLANFILE`, then the same apply again
at once. Figures, on one JSON line last:

  writes_per_change     write calls the emulator answered / steps in the plan (goal 1.00)
  false_failures        changes reported failed although the BC has them (goal 0)
  resent_after_applied  write calls made by the second apply of the same plan (goal 0)
  settle_seconds        how long the first apply read back before it reported
  quiet_read_call_ratio calls of a read of an unchanged BC against the minimum (read_state.py;
                        goal <= 1.02)

Exit 1 when a goal is missed.

    python tests/benchmarks/consistency.py [--read-lag 10] [--lost-rate 0.1] [--qps 50]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from apply_changes import CONTROL_HEADERS, TOKEN, serve_world
from targets import Target, verdict

HERE = Path(__file__).resolve().parent
NOW = "2026-11-25"


def cli(work: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BCSYNC_")}
    env.update(BCSYNC_EMULATOR_TOKEN=TOKEN, NO_COLOR="1", BCSYNC_LOCK_DIR=str(work / "locks"))
    return subprocess.run(
        [sys.executable, "-m", "bcsync", *args, "--now", NOW],
        cwd=work, env=env, capture_output=True, text=True, timeout=1800,
    )  # fmt: skip


def writes(url: str) -> int:
    stats = httpx.get(f"{url}/_emulator/stats", headers=CONTROL_HEADERS, timeout=5)
    by_endpoint = stats.json()["by_endpoint"]
    return sum(n for path, n in by_endpoint.items() if not path.endswith(("get/", "list/")))


def quiet_read_ratio() -> float | None:
    """read_state.py's ratio: a read of an unchanged BC against its minimum number of calls."""
    done = subprocess.run(
        [sys.executable, str(HERE / "read_state.py")], capture_output=True, text=True, timeout=900
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    return json.loads(lines[-1]).get("quiet_read_call_ratio") if lines else None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--read-lag", type=float, default=10.0)
    parser.add_argument("--lost-rate", type=float, default=0.1)
    parser.add_argument("--qps", type=int, default=50)
    args = parser.parse_args()

    faults = ("--read-lag", str(args.read_lag), "--lost-response-rate", str(args.lost_rate))
    work, url, server = serve_world(args.qps, *faults, "--fault-seed", "7")
    try:
        figures = measure(work, url)
    finally:
        server.terminate()
        server.wait(timeout=10)
    figures["quiet_read_call_ratio"] = quiet_read_ratio()
    figures.update(read_lag_s=args.read_lag, lost_rate=args.lost_rate, qps=args.qps)
    return verdict(
        figures,
        [
            Target("writes_per_change", "==", 1.0),
            Target("false_failures", "==", 0),
            Target("resent_after_applied", "==", 0),
            Target("quiet_read_call_ratio", "<=", 1.02),
        ],
    )


def measure(work: Path, url: str) -> dict[str, Any]:
    plan = work / "plan.json"
    made = cli(work, "plan", "bcsync.yaml", "--out", str(plan), "--allow-removals")
    if made.returncode != 0:
        raise SystemExit(f"plan failed: {made.stderr}")
    steps = len(json.loads(plan.read_text())["plans"][0]["steps"])
    started = time.perf_counter()
    first = cli(work, "apply", str(plan), "--allow-removals")
    apply_s = time.perf_counter() - started
    sent = writes(url)
    records = [
        json.loads(line) for line in (work / ".bcsync" / "audit.jsonl").read_text().splitlines()
    ]
    failed = [r for r in records if r["result"] == "failed"]
    settled = re.findall(r"confirmed by a read: \d+ change\(s\) \(([\d.]+) s\)", first.stdout)
    unseen = re.findall(r"not yet visible after ([\d.]+) s", first.stdout)
    again = cli(work, "apply", str(plan), "--allow-removals")
    print(f"steps: {steps}; first apply exit {first.returncode} in {apply_s:.1f} s")
    print(f"second apply exit {again.returncode}: {again.stdout.strip()[:200]}")
    return {
        "steps": steps,
        "writes": sent,
        "writes_per_change": round(sent / steps, 3) if steps else None,
        # The BC converges (the second apply finds every change made), so any failure was false.
        "false_failures": len(failed),
        "resent_after_applied": writes(url) - sent,
        "settle_seconds": float((settled or unseen or ["0"])[-1]),
        "first_apply_exit": first.returncode,
        "second_apply_exit": again.returncode,
        "apply_s": round(apply_s, 1),
        "lost_answers_settled": sum(1 for r in records if "answer was lost" in (r["note"] or "")),
    }


if __name__ == "__main__":
    sys.exit(main())
