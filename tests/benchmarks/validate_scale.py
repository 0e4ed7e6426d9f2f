"""Benchmark `bcsync validate` at TikTok's limits (not run by pytest).

    python tests/benchmarks/validate_scale.py [--repeat N] [--keep DIR]

Writes one config directory per size, as a user's repository holds it: bcsync.yaml (every grant
on its own line) and the emulator seed it names. At 1x: 4,000 members (10 admins), 2,000 assets
of every type, ~100,000 grants (some as {role, expires, reason}, some through groups), 200
partners with 5,000 shares, a seed of ~108,000 lines. 1/4 and 2x scale the grants (members stay
at TikTok's 4,000 limit, so every size is a valid config). Each directory is validated
in-process `--repeat` times through the CLI's `validate` command (the directory, so the seed
beside the config is in play) and the median is kept; one cold run in a fresh process is timed
at 1x too, and `bcsync validate examples/quickstart` (the pre-commit case, start-up included)
in fresh processes.

The last line is one JSON object: `validate_s` (1x median, wall), `validate_s_quarter`,
`validate_s_2x`, `scaling` (2x / 1x), the same in CPU seconds (`validate_cpu_s`,
`validate_cpu_s_2x`, `scaling_cpu`: steadier when other processes share the cores),
`validate_cold_s`, `quickstart_s` (median of fresh processes), the sizes, and whether the
targets were met.
Targets on a 2-core machine: validate_s <= 1.0, scaling <= 2.2, quickstart_s <= 0.3.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import io
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from random import Random
from typing import Any

from targets import Target, verdict

from bcsync.core.model import ROLES, AssetType

ROOT = Path(__file__).resolve().parents[2]
NOW = date(2026, 1, 1)
MEMBERS, ADMINS = 4000, 10
GRANTS = 100_000
SIZES = {"quarter": GRANTS // 4, "1x": GRANTS, "2x": 2 * GRANTS}
ASSETS = {
    AssetType.AD_ACCOUNT: 1000,
    AssetType.CATALOG: 300,
    AssetType.TIKTOK_ACCOUNT: 300,
    AssetType.SHOP: 200,
    AssetType.LEAD_FORM: 100,
    AssetType.PIXEL: 100,
}
PARTNERS, SHARES_EACH = 200, 25
TARGETS = [
    Target("validate_s", "<=", 1.0),
    Target("scaling", "<=", 2.2),
    Target("quickstart_s", "<=", 0.3),
]
WIRE = {
    AssetType.AD_ACCOUNT: "ADVERTISER",
    AssetType.CATALOG: "CATALOG",
    AssetType.TIKTOK_ACCOUNT: "TT_ACCOUNT",
    AssetType.SHOP: "TIKTOK_SHOP",
    AssetType.LEAD_FORM: "LEAD",
    AssetType.PIXEL: "PIXEL",
}


def email(i: int) -> str:
    return f"user{i:04d}@acme.example"


def assets() -> list[tuple[AssetType, str, str]]:
    """(type, alias, id) of every asset."""
    out = []
    for n, (asset_type, count) in enumerate(ASSETS.items()):
        out += [(asset_type, f"{asset_type.value[:2]}{i}", f"7{n}{i:017d}") for i in range(count)]
    return out


def role(rng: Random, asset_type: AssetType) -> str:
    roles = ROLES[asset_type]
    if asset_type is AssetType.TIKTOK_ACCOUNT:
        return "[" + ", ".join(sorted(rng.sample(roles, rng.randint(1, len(roles))))) + "]"
    return rng.choice(roles)


def config_text(grants: int, rng: Random) -> tuple[str, list[tuple[str, AssetType, str, str]]]:
    """bcsync.yaml, and (email, type, asset id, role) of each member's own grants for the seed."""
    every = assets()
    lines = [
        "# yaml-language-server: $schema=../../schemas/config.schema.json",
        "version: 1",
        'business_center: { id: "7012345678901234567", name: Benchmark Retail }',
        "provider: { type: local, seed: seed.yaml }",
        "policy:",
        "  min_admins: 2",
        f"  required_admins: [{email(0)}]",
        "  max_removals: 25%",
        f'  protected: [{email(1)}, "partner:72{0:017d}"]',
        '  ignore_members: ["*@tiktok-support.example"]',
        "assets:",
    ]
    for asset_type in ASSETS:
        lines.append(f"  {asset_type.value}:")
        lines += [f'    {a}: "{i}"' for t, a, i in every if t is asset_type]
    lines.append("groups:")
    for g in range(10):
        lines += [f"  team-{g}:", "    access:", "      ad_accounts:"]
        lines += [f"        ad{g * 20 + k}: analyst" for k in range(20)]
    lines.append("members:")
    granted = []
    per_member = grants // MEMBERS
    for i in range(MEMBERS):
        lines.append(f"  {email(i)}:")
        lines.append(f"    role: {'admin' if i < ADMINS else 'standard'}")
        if i % 7 == 0:
            lines.append("    finance_role: analyst")
        if i % 3 == 0:
            lines.append(f"    groups: [team-{i % 10}]")
        if i % 50 == 0:
            lines.append('    reason: "contractor, ticket OPS-1234"')
        by_type: dict[AssetType, list[str]] = {}
        for n, (asset_type, alias, asset_id) in enumerate(rng.sample(every, per_member)):
            value = role(rng, asset_type)
            granted.append((email(i), asset_type, asset_id, value))
            if n % 20 == 0 and asset_type is not AssetType.TIKTOK_ACCOUNT:
                value = f"{{ role: {value}, expires: 2027-06-30, reason: quarterly review }}"
            by_type.setdefault(asset_type, []).append(f"        {alias}: {value}")
        lines.append("    access:")
        for asset_type, grant_lines in by_type.items():
            lines.append(f"      {asset_type.value}:")
            lines += grant_lines
    lines.append("partners:")
    ad_accounts = [a for t, a, _ in every if t is AssetType.AD_ACCOUNT]
    for p in range(PARTNERS):
        lines += [
            f"  partner-{p}:",
            f'    bc_id: "72{p:017d}"',
            "    access:",
            "      ad_accounts:",
        ]
        lines += [
            f"        {a}: {role(rng, AssetType.AD_ACCOUNT)}"
            for a in rng.sample(ad_accounts, SHARES_EACH)
        ]
    return "\n".join(lines) + "\n", granted


def seed_text(granted: list[tuple[str, AssetType, str, str]]) -> str:
    """The emulator seed: one flow mapping a line, as users write them."""
    lines = ["# seed", "version: 1", "users:"]
    lines += [f"  - {{ user_id: '68{i:017d}', email: {email(i)} }}" for i in range(MEMBERS)]
    lines += ["business_centers:", "  - bc_id: '7012345678901234567'", "    name: Benchmark"]
    lines.append("    members:")
    lines += [
        f"      - {{ email: {email(i)}, role: STANDARD, status: BOUND }}" for i in range(MEMBERS)
    ]
    lines.append("    grants:")
    for member, asset_type, asset_id, value in granted:
        lines.append(
            f"      - {{ email: {member}, asset_type: {WIRE[asset_type]}, "
            f"asset_id: '{asset_id}', role: {value.upper()} }}"
        )
    return "\n".join(lines) + "\n"


def write_dir(directory: Path, grants: int) -> dict[str, int]:
    """A config directory: bcsync.yaml and the seed it names."""
    config, granted = config_text(grants, Random(7))
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "bcsync.yaml").write_text(config)
    seed = seed_text(granted)
    (directory / "seed.yaml").write_text(seed)
    return {
        "grant_lines": len(granted),
        "config_bytes": len(config.encode()),
        "seed_lines": seed.count("\n"),
    }


def validate_in_process(directory: Path) -> Callable[[], int]:
    """A call running `bcsync validate --now NOW DIRECTORY` in this process; returns its exit."""
    from bcsync.cli import cli

    args = ["validate", "--now", NOW.isoformat(), str(directory)]

    def run() -> int:
        out = io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            try:
                cli.main(args, standalone_mode=False)
            except SystemExit as exc:
                return int(exc.code or 0)
        return 0

    return run


def median_seconds(func: Callable[[], int], repeat: int) -> tuple[float, float, list[float], int]:
    """Median wall and CPU seconds of `repeat` calls, the wall times, and the last exit code.

    CPU time is reported beside wall time: on a busy 2-core machine a process waits for a core
    and wall time measures the neighbours as much as bcsync.
    """
    walls, cpus, code = [], [], 0
    for _ in range(repeat):
        gc.collect()
        start, cpu = time.perf_counter(), time.process_time()
        code = func()
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus), walls, code


def cold_seconds(args: list[str], repeat: int) -> float:
    """Median wall time of `python -m bcsync ARGS` in fresh processes (start-up included)."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "bcsync", *args], cwd=ROOT, capture_output=True, check=False
        )
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per size (median kept)")
    parser.add_argument("--keep", type=Path, help="write the generated configs here and keep them")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        base = args.keep or Path(tmp)
        result: dict[str, Any] = {"sizes": {}}
        medians: dict[str, float] = {}
        cpu: dict[str, float] = {}
        for name, grants in SIZES.items():
            directory = base / name
            result["sizes"][name] = write_dir(directory, grants)
            run = validate_in_process(directory)
            medians[name], cpu[name], times, code = median_seconds(run, args.repeat)
            runs = " ".join(f"{t:.3f}" for t in times)
            print(
                f"{name:>7}: {result['sizes'][name]} exit {code}: median {medians[name]:.3f}s "
                f"wall ({runs}), {cpu[name]:.3f}s CPU"
            )
            gc.collect()
        one_x = str(base / "1x")
        cold = cold_seconds(["validate", "--now", NOW.isoformat(), one_x], 1)
        print(f"1x in a fresh process: {cold:.3f}s")
    quickstart = cold_seconds(["validate", "examples/quickstart"], args.repeat)
    print(f"examples/quickstart in fresh processes: median {quickstart:.3f}s")
    scaling = medians["2x"] / medians["1x"]
    result.update(
        validate_s=round(medians["1x"], 3),
        validate_s_quarter=round(medians["quarter"], 3),
        validate_s_2x=round(medians["2x"], 3),
        scaling=round(scaling, 2),
        validate_cpu_s=round(cpu["1x"], 3),
        validate_cpu_s_2x=round(cpu["2x"], 3),
        scaling_cpu=round(cpu["2x"] / cpu["1x"], 2),
        validate_cold_s=round(cold, 3),
        quickstart_s=round(quickstart, 3),
        repeat=args.repeat,
    )
    return verdict(result, TARGETS, sort_keys=True)


if __name__ == "__main__":
    sys.exit(main())
