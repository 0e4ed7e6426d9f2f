"""Benchmark: does the emulator's per-call cost stay flat as the Business Center grows? (issue 13)

    python tests/benchmarks/emulator_scale.py [--calls 150] [--repeat 3] [--sizes 0.25,1]

Generates one BC at 1/4 of TikTok's limits and at the limits (1x: 4,000 members, 2,000 assets,
100,000 grants, 100 partners with 5,000 shares; the generator is read_state.make_seed), writes
each as a seed YAML, times loading it (`create_app(..., reset=True)`: YAML, schema, cross-checks,
SQLite), then times typical reads in-process through httpx.ASGITransport:
member/get pages, asset/get with filtering.user_id, asset/member/get, partner/asset/get.

Prints figures; the last line is one JSON object with `call_ms_quarter`, `call_ms_full` (mean ms
per call over the four kinds, the median of --repeat rounds), `per_call_ratio` (full / quarter),
`seed_load_s_quarter`, `seed_load_s_full` and per-kind figures. Targets: per_call_ratio <= 1.3,
seed_load_s_full <= ~10. Not collected by pytest (no test_ prefix).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from read_state import BC_ID, TOKEN, make_seed  # noqa: E402

from bcsync.emulator import create_app  # noqa: E402

API = "/open_api/v1.3/"
# TikTok's limits (DESIGN.md section 3; issue 13): the 1x world.
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
            response = await client.get(API + path, params={"bc_id": BC_ID, **params}, headers=headers)
            body = response.json()
            if response.status_code != 200 or body["code"] != 0:
                raise SystemExit(f"{path} {params} answered {response.status_code} {body}")
        return (time.perf_counter() - started) * 1000 / len(batch)


def measure(scale: float, tmp: Path, calls: int, repeat: int) -> dict[str, Any]:
    """Seed load seconds and per-kind ms per call (median of `repeat` rounds) at `scale`."""
    seed = world(scale)
    seed_file = tmp / f"seed-{scale}.yaml"
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    seed_file.write_text(yaml.dump(seed, Dumper=dumper, sort_keys=False))
    started = time.perf_counter()
    app = create_app(tmp / f"bench-{scale}.db", seed_file, reset=True)
    load_s = time.perf_counter() - started
    rng = random.Random(7)
    try:
        asyncio.run(time_calls(app, requests(seed, 20, rng)["member_get"]))  # warm up
        rounds = [
            {kind: asyncio.run(time_calls(app, batch)) for kind, batch in kinds.items()}
            for kinds in (requests(seed, calls, rng) for _ in range(repeat))
        ]
    finally:
        app.state.emulator.close()
    per_kind = {kind: statistics.median(r[kind] for r in rounds) for kind in rounds[0]}
    bc = seed["business_centers"][0]
    return {
        "scale": scale,
        "members": len(bc["members"]),
        "assets": sum(len(v) for v in bc["assets"].values()),
        "grants": len(bc["grants"]),
        "shares": sum(len(p["shares"]) for p in bc["partners"]),
        "seed_mb": seed_file.stat().st_size / 1e6,
        "seed_load_s": load_s,
        "per_kind_ms": per_kind,
        "call_ms": statistics.mean(per_kind.values()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--calls", type=int, default=150, help="calls of each kind per round")
    parser.add_argument("--repeat", type=int, default=3, help="rounds; the median is reported")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bcsync-emu-scale-") as name:
        quarter = measure(0.25, Path(name), args.calls, args.repeat)
        full = measure(1.0, Path(name), args.calls, args.repeat)
    for r in (quarter, full):
        kinds = ", ".join(f"{k} {v:.2f}" for k, v in r["per_kind_ms"].items())
        print(
            f"{r['scale']:g}x: {r['members']} members, {r['assets']} assets, {r['grants']} grants, "
            f"{r['shares']} shares; seed {r['seed_mb']:.1f} MB loaded in {r['seed_load_s']:.2f} s"
        )
        print(f"  ms per call: {kinds}; mean {r['call_ms']:.2f}")
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
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
