"""Benchmark the pure core at TikTok's documented limits (not run by pytest).

    python tests/benchmarks/plan_core.py [--repeat N]

Generates one Business Center at the limits: 4,000 members, 2,000 assets, 100,000 grants, 200
partners with 5,000 shares, with about 10% of entries differing between desired and actual.
Desired and actual `State`s are generated from model objects (no YAML); the desired side is also
written as the parsed config document, so the build (`bcsync.config.build.build_config`) is timed
too. Times build + `plan.make_plan` (diff, order, schedule and
the safety guards on the steps) + JSON render (`render.json.dumps(document)`). The model objects
are made with the unit tests' builders (tests/unit/builders.py).

Prints figures, then as the last line one JSON object:
`seconds` (the median of --repeat runs, default 5: on a busy machine the best run flatters and
a single run varies by 25%), `seconds_runs` (every run), `peak_mb` (tracemalloc peak of the
timed pipeline; its inputs, the parsed document and the actual state, are not counted),
`scaling` (median seconds with the grants doubled / median seconds at the base size), and
details.
Targets on a 2-core machine: seconds < 1.5, peak_mb < 400, scaling <= 2.2; the exit status is 1
when one is missed (tests/benchmarks/targets.py).
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from datetime import date
from pathlib import Path
from random import Random
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit"))

from builders import bc_config, state  # the unit tests' builders, found above
from targets import Target, verdict

from bcsync.cli.gctune import tune_gc
from bcsync.config.build import build_config
from bcsync.config.document import Document, Marks
from bcsync.core import safety
from bcsync.core.model import (
    ROLES,
    AssetKey,
    AssetType,
    BusinessCenterConfig,
    FinanceRole,
    Grant,
    Member,
    MemberRole,
    MemberStatus,
    Partner,
    PartnerShare,
    Policy,
    State,
)
from bcsync.core.plan import Plan, make_plan
from bcsync.render import json as render_json
from bcsync.render import markdown, text

MEMBERS = 4000
ASSET_COUNTS = {
    AssetType.AD_ACCOUNT: 1000,
    AssetType.CATALOG: 300,
    AssetType.TIKTOK_ACCOUNT: 300,
    AssetType.SHOP: 250,
    AssetType.LEAD_FORM: 150,
}
GRANTS = 100_000
PARTNERS = 200
SHARES = 5_000
# Of the entries present on both sides, these fractions are removed / added / changed.
REMOVED, ADDED, CHANGED = 0.03, 0.03, 0.04
TARGETS = [
    Target("seconds", "<", 1.5),
    Target("peak_mb", "<", 400.0),
    Target("scaling", "<=", 2.2),
]
NOW = date(2026, 1, 1)


def asset_keys() -> list[AssetKey]:
    keys = []
    for n, (asset_type, count) in enumerate(ASSET_COUNTS.items()):
        keys += [AssetKey(asset_type, f"7{n}{i:017d}") for i in range(count)]
    return keys


def random_role(rng: Random, asset_type: AssetType, other_than: str | None = None) -> str:
    roles = ROLES[asset_type]
    while True:
        if asset_type is AssetType.TIKTOK_ACCOUNT:
            picked = sorted(rng.sample(roles, rng.randint(1, len(roles))))
            role = ",".join(picked)
        else:
            role = rng.choice(roles)
        if role != other_than or len(roles) == 1:
            return role


def split(rng: Random) -> str:
    """Where an entry is: "both", "actual" (removal), "desired" (addition), "changed" (role)."""
    r = rng.random()
    if r < REMOVED:
        return "actual"
    if r < REMOVED + ADDED:
        return "desired"
    if r < REMOVED + ADDED + CHANGED:
        return "changed"
    return "both"


def generate(grants: int, seed: int = 7) -> tuple[BusinessCenterConfig, State]:
    """A desired config and an actual state at the limits, ~10% of entries differing."""
    rng = Random(seed)
    assets = asset_keys()
    ad_accounts = [a for a in assets if a.type is AssetType.AD_ACCOUNT]
    # 100 members leave, 100 join: the BC holds 4,000 members on both sides.
    universe = [f"user{i:04d}@acme.example" for i in range(MEMBERS + 100)]
    leavers, joiners = set(universe[3900:4000]), set(universe[4000:])
    pending = set(universe[3800:3850])
    desired_members: dict[str, Member] = {}
    actual_members: dict[str, Member] = {}
    for i, email in enumerate(universe):
        role = MemberRole.ADMIN if i < 10 else MemberRole.STANDARD
        finance = FinanceRole.ANALYST if i % 7 == 0 else None
        status = MemberStatus.PENDING if email in pending else MemberStatus.BOUND
        if email not in joiners:
            actual_members[email] = Member(email, role, finance, status, user_id=f"68{i:017d}")
        if email in leavers:
            continue
        if i in (10, 11):
            role = MemberRole.ADMIN  # promotions
        elif i in (8, 9):
            role = MemberRole.STANDARD  # demotions, after the promotions
        if i % 20 == 0:
            finance = FinanceRole.MANAGER
        desired_members[email] = Member(email, role, finance)

    desired_grants: dict[tuple[AssetKey, str], Grant] = {}
    actual_grants: dict[tuple[AssetKey, str], Grant] = {}
    # Pending members have no actual grants and ~3% are additions: aim the actual side at `grants`.
    per_member = round(grants * 1.04 / MEMBERS)
    for email in universe:
        for asset in rng.sample(assets, per_member):
            granted = random_role(rng, asset.type)
            side = split(rng)
            bound_actual = email in actual_members and email not in pending
            if side != "desired" and bound_actual:
                actual_grants[(asset, email)] = Grant(asset, email, granted)
            if side != "actual" and email in desired_members:
                if side == "changed":
                    granted = random_role(rng, asset.type, other_than=granted)
                sources = ("group media-buyers",) if rng.random() < 0.3 else ()
                desired_grants[(asset, email)] = Grant(asset, email, granted, sources)

    partner_ids = [f"72{i:017d}" for i in range(PARTNERS + 10)]
    desired_partners = {p: Partner(p, alias=f"partner-{n}") for n, p in enumerate(partner_ids[10:])}
    actual_partners = {p: Partner(p, name=f"Partner {n}") for n, p in enumerate(partner_ids[:-10])}
    desired_shares: dict[tuple[str, AssetKey], PartnerShare] = {}
    actual_shares: dict[tuple[str, AssetKey], PartnerShare] = {}
    for partner in partner_ids:
        for asset in rng.sample(ad_accounts, round(SHARES * 1.03 / PARTNERS)):
            granted = random_role(rng, asset.type)
            side = split(rng)
            if side != "desired" and partner in actual_partners:
                actual_shares[(partner, asset)] = PartnerShare(partner, asset, granted)
            if side != "actual" and partner in desired_partners:
                if side == "changed":
                    granted = random_role(rng, asset.type, other_than=granted)
                desired_shares[(partner, asset)] = PartnerShare(partner, asset, granted)

    aliases = {a: f"a{n}" for n, a in enumerate(assets)}
    desired = state(
        [
            *desired_members.values(),
            *desired_grants.values(),
            *desired_partners.values(),
            *desired_shares.values(),
        ],
        assets,
        aliases,
    )
    actual = state(
        [
            *actual_members.values(),
            *actual_grants.values(),
            *actual_partners.values(),
            *actual_shares.values(),
        ],
        assets,
        aliases,
    )
    config = bc_config(
        desired,
        policy=Policy(min_admins=2, required_admins=(universe[0],), protected=(universe[1],)),
        asset_aliases=aliases,
        partner_aliases={p: d.alias or p for p, d in desired_partners.items()},
    )
    return config, actual


def config_document(config: BusinessCenterConfig) -> Document:
    """The parsed config file (a `bcsync.config.document.Document`) that builds `config`.

    Every grant is written in the member's own `access` section, with a key position for each
    line as the loader records them.
    """
    key_marks = Marks()

    def mark(*path: str) -> None:
        key_marks[path] = (len(key_marks) + 1, 3)

    aliases = config.asset_aliases
    assets: dict[str, dict[str, str]] = {t.value: {} for t in AssetType}
    for key, alias in aliases.items():
        assets[key.type.value][alias] = key.id
    members: dict[str, Any] = {}
    for email, m in config.desired.members.items():
        entry: dict[str, Any] = {"role": m.role.value, "access": {}}
        if m.finance_role:
            entry["finance_role"] = m.finance_role.value
        members[email] = entry
        mark("members", email)
    for (asset, email), g in config.desired.grants.items():
        section = members[email]["access"].setdefault(asset.type.value, {})
        multi = asset.type is AssetType.TIKTOK_ACCOUNT
        section[aliases[asset]] = g.role.split(",") if multi else g.role
        mark("members", email, "access", asset.type.value, aliases[asset])
    partners: dict[str, Any] = {}
    for bc_id, partner in config.desired.partners.items():
        partners[partner.alias or bc_id] = {"bc_id": bc_id, "access": {"ad_accounts": {}}}
        mark("partners", partner.alias or bc_id)
    for (bc_id, asset), share in config.desired.shares.items():
        alias = config.desired.partners[bc_id].alias or bc_id
        partners[alias]["access"]["ad_accounts"][aliases[asset]] = share.role
        mark("partners", alias, "access", "ad_accounts", aliases[asset])
    policy = config.policy
    data = {
        "version": 1,
        "business_center": {"id": config.bc_id, "name": config.name},
        "provider": {"type": "local", "seed": "seed.yaml"},
        "policy": {
            "min_admins": policy.min_admins,
            "required_admins": list(policy.required_admins),
            "max_removals": str(policy.max_removals),
            "protected": list(policy.protected),
        },
        "assets": assets,
        "members": members,
        "partners": partners,
    }
    return Document(config.path, data, key_marks=key_marks, digest=config.digest)


def builder(doc: Document) -> BusinessCenterConfig:
    """The build step the pipeline times (a missing or renamed build fails here, loudly)."""
    return build_config(doc, NOW)


def pipeline(source: Document, actual: State) -> tuple[Plan, list[str], int]:
    """The timed pipeline: build + diff + plan, safety, JSON render."""
    return core(builder(source), actual)


def core(config: BusinessCenterConfig, actual: State) -> tuple[Plan, list[str], int]:
    """make_plan (diff, order, schedule, guards), JSON render."""
    plan = make_plan(config, actual)
    doc = render_json.document(
        [plan], created_at="2026-01-01T00:00:00.000Z", tool_version="bench", git_commit=None
    )
    return plan, list(plan.refusals), len(render_json.dumps(doc))


def run_times(func: Callable[[], Any], repeat: int) -> list[float]:
    """Seconds of each of `repeat` runs (a collection before each, so none pays for another)."""
    times = []
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return times


def median_time(func: Callable[[], Any], repeat: int) -> float:
    """The median of `repeat` runs: stable on a busy machine, where the best run is luck."""
    return statistics.median(run_times(func, repeat))


def peak_mb(func: Callable[[], Any]) -> float:
    gc.collect()
    tracemalloc.start()
    try:
        func()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak / 2**20


def measure_base(repeat: int) -> dict:
    """Generate the base case, print what it is, time it and each stage, measure its memory."""
    start = time.perf_counter()
    config, actual = generate(GRANTS)
    source = config_document(config)
    print(
        f"generated in {time.perf_counter() - start:.2f}s: {len(actual.members)} members, "
        f"{len(actual.assets)} assets, {len(actual.grants)} actual / "
        f"{len(config.desired.grants)} desired grants, {len(actual.partners)} partners, "
        f"{len(actual.shares)} shares"
    )
    built = builder(source).desired
    same = (built.members, built.grants, built.partners, built.shares) == (
        config.desired.members,
        config.desired.grants,
        config.desired.partners,
        config.desired.shares,
    )
    if not same:
        raise SystemExit("config.build does not build the generated state: nothing to time")
    print("timing config.build.build_config too (it builds the generated state)")

    plan, problems, json_chars = pipeline(source, actual)
    summary = plan.summary
    print(
        f"plan: {len(plan.changes)} entries ({summary.sentence()}), {len(plan.steps)} steps, "
        f"JSON {json_chars / 1e6:.1f} MB, {len(problems)} guard refusals"
    )
    for problem in problems[:3]:
        print(f"  guard: {problem}")
    runs = run_times(lambda: pipeline(source, actual), repeat)
    seconds = statistics.median(runs)
    memory = peak_mb(lambda: pipeline(source, actual))
    shown = " ".join(f"{t:.3f}" for t in runs)
    print(f"base: {seconds:.3f}s (median of {repeat}: {shown}), peak {memory:.1f} MB")

    stages = {
        "make_plan": lambda: make_plan(config, actual),
        "safety.refusals (in make_plan)": lambda: safety.refusals(plan.steps, config, actual),
        "render.json": lambda: render_json.dumps(
            render_json.document([plan], created_at="x", tool_version="x", git_commit=None)
        ),
        "render.text (extra)": lambda: text.render([plan]),
        "render.markdown (extra)": lambda: markdown.render([plan]),
    }
    stages = {"config.build": lambda: builder(source), **stages}
    stage_seconds = {name: median_time(f, repeat) for name, f in stages.items()}
    for name, value in stage_seconds.items():
        print(f"  {name:<24} {value:.3f}s")
    return {
        "seconds": seconds,
        "seconds_runs": [round(t, 3) for t in runs],
        "peak_mb": memory,
        "changes": summary.total,
        "entries": len(plan.changes),
        "steps": len(plan.steps),
        "stage_seconds": {k: round(v, 3) for k, v in stage_seconds.items()},
    }


def measure_doubled(repeat: int) -> tuple[float, list[float]]:
    """Median seconds (and every run) for the pipeline with twice the grants."""
    config, actual = generate(2 * GRANTS)
    source = config_document(config)
    del config  # only the document goes into the timed build
    runs = run_times(lambda: pipeline(source, actual), repeat)
    seconds = statistics.median(runs)
    shown = " ".join(f"{t:.3f}" for t in runs)
    print(f"doubled grants ({len(actual.grants)} actual): {seconds:.3f}s (median of {shown})")
    return seconds, runs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--repeat", type=int, default=5, help="timed runs per size (the median is kept)"
    )
    args = parser.parse_args(argv)
    tune_gc()  # as `bcsync` itself does at start-up
    # The base case is measured in a function of its own, so its objects are freed (and do not
    # slow the garbage collector) before the doubled case runs.
    base = measure_base(args.repeat)
    gc.collect()
    doubled, doubled_runs = measure_doubled(args.repeat)
    seconds, memory = base["seconds"], base["peak_mb"]
    scaling = doubled / seconds
    print(f"scaling {scaling:.2f}")
    stages = "plan.make_plan (guards included) + render.json.dumps(document)"
    result = {
        **base,
        "seconds": round(seconds, 3),
        "peak_mb": round(memory, 1),
        "scaling": round(scaling, 2),
        "seconds_doubled": round(doubled, 3),
        "seconds_doubled_runs": [round(t, 3) for t in doubled_runs],
        "repeat": args.repeat,
        "timed": "config.build + " + stages,
    }
    return verdict(result, TARGETS, sort_keys=True)


if __name__ == "__main__":
    sys.exit(main())
