"""Benchmark: does the emulator's per-call cost stay flat as the Business Center grows?

    python tests/benchmarks/emulator_scale.py [--calls 150] [--repeat 5] [--loads 3]

Generates one BC at 1/4 of TikTok's limits and at the limits (1x: 4,000 members, 2,000 assets,
100,000 grants, 100 partners with 5,000 shares; the generator is read_state.make_seed), writes
each as a seed YAML, times loading it (`create_app(..., reset=True)`: YAML, schema, cross-checks,
SQLite; the median of --loads loads), then times typical reads in-process through
httpx.ASGITransport: member/get pages, asset/get with filtering.user_id, asset/member/get,
partner/asset/get; the two worlds take turns, round by round, so a busy machine slows both alike.

Prints figures; the last line is one JSON object with `call_ms_quarter`, `call_ms_full` (mean ms
per call over the four kinds, the median of --repeat rounds), `per_call_ratio` (full / quarter),
`seed_load_s_quarter`, `seed_load_s_full` and per-kind figures. Targets: per_call_ratio <= 1.3,
seed_load_s_full <= 10; the exit status is 1 when one is missed. Not collected by pytest.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from read_state import BC_ID, TOKEN, make_seed
from targets import Target, verdict

from bcsync.emulator import create_app

API = "/open_api/v1.3/"
# TikTok's documented limits (4,000 members, 20 admins): the 1x world.
FULL = {
    "members": 4000,
    "pending": 200,
    "ad_accounts": 1500,
    "catalogs": 500,
    "grants": 100_000,
    "partners": 100,
}
SHARES_PER_PARTNER = 50
Request = tuple[str, dict[str, Any]]


def world(scale: float) -> dict[str, Any]:
    """The generated seed at `scale` times TikTok's limits."""
    sizes = {k: max(1, round(v * scale)) for k, v in FULL.items()}
    args = argparse.Namespace(**sizes, shares=SHARES_PER_PARTNER, seed=1)
    return make_seed(args)


def requests(seed: dict[str, Any], calls: int, rng: random.Random) -> dict[str, list[Request]]:
    """`calls` random requests of each kind, with ids drawn from the seed."""
    bc = seed["business_centers"][0]
    user_ids = {u["email"]: u["user_id"] for u in seed["users"]}
    bound = [user_ids[m["email"]] for m in bc["members"] if m.get("status", "BOUND") == "BOUND"]
    assets = [(t, a["id"]) for t, lst in bc["assets"].items() for a in lst]
    partners = [p["bc_id"] for p in bc["partners"]]
    member_pages = -(-len(bc["members"]) // 50)

    def member_page() -> Request:
        return "bc/member/get/", {"page": rng.randint(1, member_pages), "page_size": 50}

    def member_assets() -> Request:
        kind = rng.choice(("ADVERTISER", "CATALOG"))
        filtering = json.dumps({"user_id": rng.choice(bound)})
        return "bc/asset/get/", {"asset_type": kind, "filtering": filtering, "page_size": 50}

    def asset_members() -> Request:
        kind, asset_id = rng.choice(assets)
        return "bc/asset/member/get/", {"asset_type": kind, "asset_id": asset_id, "page_size": 20}

    def partner_assets() -> Request:
        params = {"partner_id": rng.choice(partners), "asset_type": "ADVERTISER"}
        return "bc/partner/asset/get/", {**params, "share_type": "SHARING", "page_size": 50}

    makers: dict[str, Callable[[], Request]] = {
        "member_get": member_page,
        "asset_get_by_user": member_assets,
        "asset_member_get": asset_members,
        "partner_asset_get": partner_assets,
    }
    return {kind: [make() for _ in range(calls)] for kind, make in makers.items()}


async def time_calls(app: Any, batch: list[Request]) -> float:
    """Mean milliseconds per call over `batch`; every answer must be a success envelope."""
    transport = httpx.ASGITransport(app)
    headers = {"Access-Token": TOKEN}
    async with httpx.AsyncClient(transport=transport, base_url="http://emulator") as client:
        started = time.perf_counter()
        for path, params in batch:
            query = {"bc_id": BC_ID, **params}
            response = await client.get(API + path, params=query, headers=headers)
            body = response.json()
            if response.status_code != 200 or body["code"] != 0:
                raise SystemExit(f"{path} {params} answered {response.status_code} {body}")
        return (time.perf_counter() - started) * 1000 / len(batch)


@dataclass
class World:
    """One generated BC served in-process, its figures, and the calls to time on it."""

    scale: float
    app: Any
    figures: dict[str, Any]
    batches: list[dict[str, list[Request]]]
    rounds: list[dict[str, float]] = field(default_factory=list)

    def per_kind(self) -> dict[str, float]:
        """Median ms per call of each kind over the rounds."""
        return {k: statistics.median(r[k] for r in self.rounds) for k in self.rounds[0]}


def prepare(scale: float, tmp: Path, calls: int, repeat: int, loads: int) -> World:
    """Generate and load the world at `scale` (seed load: the median of `loads` loads)."""
    seed = world(scale)
    seed_file = tmp / f"seed-{scale}.yaml"
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    seed_file.write_text(yaml.dump(seed, Dumper=dumper, sort_keys=False))
    load_times = []
    for _ in range(loads):
        gc.collect()
        started = time.perf_counter()
        app = create_app(tmp / f"bench-{scale}.db", seed_file, reset=True)
        load_times.append(time.perf_counter() - started)
        if len(load_times) < loads:
            app.state.emulator.close()
    rng = random.Random(7)
    batches = [requests(seed, calls, rng) for _ in range(repeat + 1)]  # the first warms up
    bc = seed["business_centers"][0]
    figures = {
        "members": len(bc["members"]),
        "assets": sum(len(v) for v in bc["assets"].values()),
        "grants": len(bc["grants"]),
        "shares": sum(len(p["shares"]) for p in bc["partners"]),
        "seed_mb": seed_file.stat().st_size / 1e6,
        "seed_load_s": statistics.median(load_times),
    }
    return World(scale, app, figures, batches)


def time_rounds(worlds: list[World]) -> None:
    """Time every world's batches, the worlds taking turns so a busy machine slows all alike."""
    # The generated worlds are millions of objects that the garbage collector would walk during
    # the timed calls, charging the bigger world for the benchmark's own memory.
    gc.collect()
    gc.freeze()
    for index in range(len(worlds[0].batches)):
        for w in worlds:
            timed = {k: asyncio.run(time_calls(w.app, b)) for k, b in w.batches[index].items()}
            if index:  # round 0 warms up
                w.rounds.append(timed)


TARGETS = [Target("per_call_ratio", "<=", 1.3), Target("seed_load_s_full", "<=", 10.0)]


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--calls", type=int, default=150, help="calls of each kind per round")
    parser.add_argument("--repeat", type=int, default=5, help="rounds; the median is reported")
    parser.add_argument("--loads", type=int, default=3, help="seed loads; the median is reported")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bcsync-emu-scale-") as name:
        worlds = [prepare(s, Path(name), args.calls, args.repeat, args.loads) for s in (0.25, 1.0)]
        try:
            time_rounds(worlds)
        finally:
            for w in worlds:
                w.app.state.emulator.close()
    results = []
    for w in worlds:
        per_kind = w.per_kind()
        r = {**w.figures, "scale": w.scale, "per_kind_ms": per_kind}
        r["call_ms"] = statistics.mean(per_kind.values())
        results.append(r)
        kinds = ", ".join(f"{k} {v:.2f}" for k, v in per_kind.items())
        print(
            f"{w.scale:g}x: {r['members']} members, {r['assets']} assets, {r['grants']} grants, "
            f"{r['shares']} shares; seed {r['seed_mb']:.1f} MB loaded in {r['seed_load_s']:.2f} s"
        )
        print(f"  ms per call: {kinds}; mean {r['call_ms']:.2f}")
    quarter, full = results
    figures = {
        "call_ms_quarter": round(quarter["call_ms"], 3),
        "call_ms_full": round(full["call_ms"], 3),
        "per_call_ratio": round(full["call_ms"] / quarter["call_ms"], 3),
        "seed_load_s_quarter": round(quarter["seed_load_s"], 2),
        "seed_load_s_full": round(full["seed_load_s"], 2),
        "per_kind_ratio": {
            k: round(full["per_kind_ms"][k] / quarter["per_kind_ms"][k], 3)
            for k in full["per_kind_ms"]
        },
        "per_kind_ms_full": {k: round(v, 3) for k, v in full["per_kind_ms"].items()},
    }
    return verdict(figures, TARGETS)


if __name__ == "__main__":
    sys.exit(main())
