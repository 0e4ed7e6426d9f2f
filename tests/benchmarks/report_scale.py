"""Benchmark `bcsync report --offline` at TikTok's limits (not run by pytest).

    python tests/benchmarks/report_scale.py [--repeat N] [--keep DIR]

Writes the config validate_scale.py writes at 1x (4,000 members, ~100,000 grants, some through
groups and some with {role, expires, reason}, 200 partners, 5,000 shares) and runs
`bcsync report DIR --offline --format F --out FILE` for every format in fresh processes
(start-up, YAML loading, checks and build included: what a user waits for). Each format's
median wall time is kept, its CPU time (user + system: what the neighbours of a shared machine
cannot inflate much) and its peak resident memory (the child's ru_maxrss).

The last line is one JSON object: `report_offline_s` (text, the default format), one
`report_offline_s_<format>` per format, `peak_mb` (the largest over formats), `rows`, and
whether the target was met. Target on a 2-core machine: every format under 5 s.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from targets import Target, verdict
from validate_scale import GRANTS, NOW, write_dir

ROOT = Path(__file__).resolve().parents[2]
FORMATS = ("text", "json", "csv", "markdown", "html")
TARGET_S = 5.0


def run_once(directory: Path, fmt: str, out: Path) -> tuple[float, float, float]:
    """(wall seconds, CPU seconds, peak MB) of one `report --offline` in a fresh process."""
    args = ["report", str(directory), "--offline", "--format", fmt, "--out", str(out)]
    args += ["--now", NOW.isoformat()]
    start = time.perf_counter()
    pid = os.fork()
    if pid == 0:  # the child: exec bcsync, its rusage is its own
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        os.chdir(ROOT)
        os.execv(sys.executable, [sys.executable, "-m", "bcsync", *args])
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"bcsync report --format {fmt} failed ({status})")
    # CPU time as well as wall: on a shared, loaded machine wall time measures the neighbours.
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024  # KiB on Linux


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="write the config here and keep it")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        directory = args.keep or Path(tmp) / "scale"
        sizes = write_dir(directory, GRANTS)
        results: dict[str, float] = {}
        cpu: dict[str, float] = {}
        peak = 0.0
        rows = 0
        for fmt in FORMATS:
            out = Path(tmp) / f"report.{fmt}"
            runs = [run_once(directory, fmt, out) for _ in range(args.repeat)]
            results[f"report_offline_s_{fmt}"] = round(statistics.median(r[0] for r in runs), 3)
            cpu[f"report_offline_cpu_s_{fmt}"] = round(statistics.median(r[1] for r in runs), 3)
            peak = max(peak, *(r[2] for r in runs))
            if fmt == "json":
                rows = len(json.loads(out.read_text())["rows"])
            wall, used = results[f"report_offline_s_{fmt}"], cpu[f"report_offline_cpu_s_{fmt}"]
            print(f"{fmt:9} median {wall:.2f} s wall, {used:.2f} s CPU", flush=True)
    figures = {
        "report_offline_s": results["report_offline_s_text"],
        **results,
        **cpu,
        "load_avg_1m": round(os.getloadavg()[0], 2),
        "peak_mb": round(peak, 1),
        "rows": rows,
        "grant_lines": sizes["grant_lines"],
        "target_s": TARGET_S,
        "met_cpu": all(v < TARGET_S for v in cpu.values()),
    }
    # The target is wall time, every format: what a user waits for.
    return verdict(figures, [Target(name, "<", TARGET_S) for name in results])


if __name__ == "__main__":
    sys.exit(main())
