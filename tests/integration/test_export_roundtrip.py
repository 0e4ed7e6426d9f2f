"""`bcsync export` round trips: export a live BC, validate the file, plan it: no changes."""

from __future__ import annotations

import asyncio
import re
import time
from datetime import date
from pathlib import Path

import pytest
import yaml

from bcsync.config import load
from bcsync.config.fmt import format_text
from bcsync.core.plan import Action, Plan, make_plan
from bcsync.providers import Scope
from bcsync.providers.factory import open_providers
from tests.integration.conftest import NOW, Bcsync
from tests.providers.world import generated

QUICKSTART_BC = "7012345678901234567"
AGENCY_BCS = ("7020000000000000001", "7030000000000000001", "7040000000000000001")


def export(bcsync: Bcsync, seed: Path, bc_id: str, out: Path, *extra: str) -> str:
    result = bcsync("export", "--seed", str(seed), "--bc-id", bc_id, "--out", str(out), *extra)
    assert result.exit_code == 0, result.output
    return out.read_text()


def plan_of(path: Path) -> Plan:
    """Validate `path`, then plan it against the BC its provider names."""
    result = load([str(path)], now=date.fromisoformat(NOW))
    assert not result.problems, [p.format() for p in result.problems]
    (config,) = result.configs

    async def go() -> Plan:
        async with open_providers([config]) as providers:
            read = await providers[config.bc_id].read_state(Scope.of_state(config.desired))
        return make_plan(config, read.state, unmanaged_assets=read.unmanaged_assets)

    return asyncio.run(go())


def assert_no_changes(plan: Plan) -> None:
    changes = [c for c in plan.changes if c.action is not Action.NOOP]
    assert changes == [], [f"{c.action} {c.title}: {c.reason}" for c in changes]
    assert not plan.has_changes
    assert plan.unmanaged_assets == 0  # the export declares every asset


def test_quickstart_seed_round_trips(bcsync: Bcsync, tmp_path: Path, quickstart: Path) -> None:
    out = tmp_path / "adopted" / "bcsync.yaml"
    text = export(bcsync, quickstart / "seed.yaml", QUICKSTART_BC, out)
    plan = plan_of(out)
    assert_no_changes(plan)
    # The pending invitation is a member that waits, not one to remove.
    (waiting,) = plan.changes
    assert waiting.key == "temp@contractor.example" and waiting.action is Action.NOOP
    # Everything the seed holds is there, with aliases from the names.
    data = yaml.safe_load(text)
    assert data["assets"]["ad_accounts"]["acme-legacy"] == "7100000000000000009"
    assert data["members"]["erin@acme.com"]["access"]["tiktok_accounts"] == {
        "acme": ["post", "live", "direct_message"]
    }
    assert data["partners"]["old-agency"]["access"] == {"ad_accounts": {"acme-eu": "analyst"}}
    assert data["provider"]["type"] == "local"
    seed = (out.parent / data["provider"]["seed"]).resolve()
    assert seed == (quickstart / "seed.yaml").resolve()


@pytest.mark.parametrize("bc_id", AGENCY_BCS)
@pytest.mark.parametrize("groups", [False, True])
def test_agency_seed_round_trips(
    bcsync: Bcsync, tmp_path: Path, agency: Path, bc_id: str, groups: bool
) -> None:
    out = tmp_path / f"{bc_id}.yaml"
    flags = ("--groups",) if groups else ()
    export(bcsync, agency / "seed.yaml", bc_id, out, *flags)
    assert_no_changes(plan_of(out))


def test_groups_are_proposed_for_identical_access(bcsync: Bcsync, tmp_path: Path) -> None:
    world = generated(members=6, pending=1, grants=0, partners=0)
    center = world["business_centers"][0]
    ads = [a["id"] for a in center["assets"]["ADVERTISER"]]
    same = [
        ("ADVERTISER", ads[0], "OPERATOR"),
        ("CATALOG", center["assets"]["CATALOG"][0]["id"], "ADMIN"),
    ]
    for email in ("user2@acme.example", "user3@acme.example", "user4@acme.example"):
        center["grants"] += [
            {"email": email, "asset_type": t, "asset_id": a, "role": r} for t, a, r in same
        ]
    center["grants"].append(  # user5 alone: no group of one
        {
            "email": "user5@acme.example",
            "asset_type": "ADVERTISER",
            "asset_id": ads[1],
            "role": "ANALYST",
        }
    )
    seed = tmp_path / "seed.yaml"
    seed.write_text(yaml.safe_dump(world, sort_keys=False))
    out = tmp_path / "out.yaml"
    data = yaml.safe_load(export(bcsync, seed, center["bc_id"], out, "--groups"))
    assert list(data["groups"]) == ["group-1"]
    assert data["groups"]["group-1"]["access"]["ad_accounts"] == {"advertiser-0": "operator"}
    in_group = {e for e, m in data["members"].items() if m.get("groups") == ["group-1"]}
    assert in_group == {"user2@acme.example", "user3@acme.example", "user4@acme.example"}
    assert "groups" not in data["members"]["user5@acme.example"]
    assert all("access" not in data["members"][e] for e in in_group)
    assert_no_changes(plan_of(out))


def test_export_is_stable_and_already_formatted(
    bcsync: Bcsync, tmp_path: Path, quickstart: Path
) -> None:
    seed = quickstart / "seed.yaml"
    first = export(bcsync, seed, QUICKSTART_BC, tmp_path / "a.yaml", "--groups")
    second = export(bcsync, seed, QUICKSTART_BC, tmp_path / "b.yaml", "--groups")
    assert first == second
    assert format_text(first) == first
    # Ids stay strings: every id is quoted.
    assert not re.search(r":\s+[0-9]{6,}\s*($|#)", first, re.M)


def test_export_after_apply_round_trips(bcsync: Bcsync, quickstart: Path, tmp_path: Path) -> None:
    """A BC that bcsync already manages exports to a config equivalent to the original."""
    result = bcsync("apply", "--auto-approve", "--now", NOW, str(quickstart))
    assert result.exit_code == 0, result.output
    # The local BC's state lives beside its config: export next to it.
    out = quickstart / "again.yaml"
    result = bcsync("export", "--from", str(quickstart / "bcsync.yaml"), "--out", str(out))
    assert result.exit_code == 0, result.output
    assert_no_changes(plan_of(out))
    exported = load([str(out)], now=date.fromisoformat(NOW)).configs[0]
    source = load([str(quickstart / "bcsync.yaml")], now=date.fromisoformat(NOW)).configs[0]
    # The config's members (grace now invited), plus the member it ignores; mallory is gone.
    ignored = {"agent@tiktok-support.example"}
    assert set(exported.desired.members) == set(source.desired.members) | ignored
    assert exported.desired.shares.keys() == source.desired.shares.keys()


@pytest.mark.slow
def test_a_4000_member_bc_round_trips(bcsync: Bcsync, tmp_path: Path) -> None:
    world = generated(
        members=3996,
        pending=4,
        assets={"ADVERTISER": 30, "CATALOG": 6, "LEAD": 3},
        grants=9000,
        partners=4,
        shares=6,
        seed=7,
    )
    seed = tmp_path / "big-seed.yaml"
    seed.write_text(yaml.safe_dump(world, sort_keys=False))
    out = tmp_path / "big.yaml"
    started = time.monotonic()
    text = export(bcsync, seed, world["business_centers"][0]["bc_id"], out, "--groups")
    plan = plan_of(out)
    assert_no_changes(plan)
    members = yaml.safe_load(text)["members"]
    assert len(members) == 4000
    waiting = [c for c in plan.changes if c.key.startswith("invitee")]
    assert len(waiting) == 4
    assert time.monotonic() - started < 600  # a hang guard, not a speed target


def test_pending_and_rejected_members(bcsync: Bcsync, tmp_path: Path) -> None:
    """Pending invitations are exported as members; rejected ones are not members at all."""
    world = generated(members=5, pending=2, grants=10, partners=1, shares=1)
    center = world["business_centers"][0]
    center["members"].append(
        {"email": "declined@acme.example", "role": "STANDARD", "status": "REJECTED"}
    )
    seed = tmp_path / "seed.yaml"
    seed.write_text(yaml.safe_dump(world, sort_keys=False))
    out = tmp_path / "out.yaml"
    data = yaml.safe_load(export(bcsync, seed, center["bc_id"], out))
    assert "declined@acme.example" not in data["members"]
    assert {"invitee0@acme.example", "invitee1@acme.example"} <= set(data["members"])
    assert_no_changes(plan_of(out))


def test_usage_and_token_errors_are_clear(
    bcsync: Bcsync, tmp_path: Path, quickstart: Path, agency: Path
) -> None:
    several = bcsync("export", "--seed", str(agency / "seed.yaml"))
    assert several.exit_code == 64 and "pick one with --bc-id" in several.output
    no_token = bcsync("export", "--bc-id", "7012345678901234567")
    assert no_token.exit_code == 1 and "TIKTOK_ACCESS_TOKEN is not set" in no_token.output
    existing = tmp_path / "taken.yaml"
    existing.write_text("keep me\n")
    seed = str(quickstart / "seed.yaml")
    refused = bcsync("export", "--seed", seed, "--out", str(existing))
    assert refused.exit_code == 64 and existing.read_text() == "keep me\n"
    mixed = bcsync("export", "--from", str(existing), "--bc-id", "1")
    assert mixed.exit_code == 64


def test_export_from_a_skeleton_config(bcsync: Bcsync, tmp_path: Path, quickstart: Path) -> None:
    """--from needs only business_center and provider: the rest is what export writes."""
    skeleton = tmp_path / "bcsync.yaml"
    seed = (quickstart / "seed.yaml").resolve()
    skeleton.write_text(
        f'version: 1\nbusiness_center: {{ id: "{QUICKSTART_BC}" }}\n'
        f'provider: {{ type: local, seed: "{seed}" }}\n'
    )
    out = tmp_path / "sub" / "full.yaml"
    result = bcsync("export", "--from", str(skeleton), "--out", str(out))
    assert result.exit_code == 0, result.output
    assert_no_changes(plan_of(out))
