"""`bcsync plan --changed` and `apply --changed` end to end: a copy of examples/quickstart in a
throw-away git repository, planned against its local Business Center (in-process emulator)."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
from datetime import date
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from bcsync.config import load
from bcsync.core.model import MemberStatus
from bcsync.providers import Scope
from bcsync.providers.base import ReadResult
from bcsync.providers.factory import open_providers
from tests.examples import copy_example

from .conftest import NOW, ROOT, Bcsync

PLAN_SCHEMA = json.loads((ROOT / "schemas" / "plan.schema.json").read_text())
FRANK_BEFORE = (
    "  frank@acme.com:\n    role: standard\n    access:\n      ad_accounts: { acme-apac: analyst }"
)
FRANK_AFTER = FRANK_BEFORE.replace("analyst }", "operator }")
OPS_BEFORE = "  ops@acme.com: { role: admin }"
OPS_AFTER = "  ops@acme.com: { role: standard }"


def git(root: Path, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(
        GIT_AUTHOR_NAME="Ann",
        GIT_AUTHOR_EMAIL="ann@example.org",
        GIT_COMMITTER_NAME="Ann",
        GIT_COMMITTER_EMAIL="ann@example.org",
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_CONFIG_NOSYSTEM="1",
    )
    done = subprocess.run(
        ["git", *args], cwd=root, env=env, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


@pytest.fixture
def repo(bcsync: Bcsync) -> Path:
    """quickstart committed on `main` in the test's working directory (bcsync runs there)."""
    root = bcsync.workdir / "repo"
    copy_example("quickstart", root)
    (root / ".gitignore").write_text(".bcsync/\n")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "quickstart")
    os.chdir(root)
    return root


def edit(root: Path, old: str, new: str) -> None:
    config = root / "bcsync.yaml"
    text = config.read_text()
    assert old in text, old
    config.write_text(text.replace(old, new, 1))


def plan_json(bcsync: Bcsync, *args: str) -> dict[str, Any]:
    result = bcsync("plan", *args, "--format", "json", "--now", NOW)
    assert result.exit_code == 0, result.output
    doc: dict[str, Any] = json.loads(result.stdout)
    jsonschema.validate(doc, PLAN_SCHEMA)
    return doc


def touched(doc: dict[str, Any]) -> set[str]:
    """Members and partners a plan would change."""
    return {
        c["target"].get("email") or c["target"].get("partner_bc_id")
        for p in doc["plans"]
        for c in p["changes"]
        if c["action"] != "no-op"
    }


def test_a_scoped_plan_reads_and_changes_only_what_changed(bcsync: Bcsync, repo: Path) -> None:
    edit(repo, FRANK_BEFORE, FRANK_AFTER)
    full = plan_json(bcsync)
    assert {"frank@acme.com", "mallory@acme.com", "dave@acme.com"} <= touched(full)
    scoped = plan_json(bcsync, "--changed")
    body = scoped["plans"][0]
    assert body["scope"]["members"] == ["frank@acme.com"] and body["scope"]["partners"] == []
    assert "main" in body["scope"]["base"]
    assert touched(scoped) == {"frank@acme.com"}
    assert {c["title"] for c in body["changes"]} == {
        "frank@acme.com on ad_accounts.acme-apac",
        "frank@acme.com on ad_accounts.acme-us",
    }
    text = bcsync("plan", "--changed", "--now", NOW)
    assert "Scoped plan (--changed)" in text.output and "`bcsync plan`" in text.output


def test_a_scoped_apply_leaves_everything_outside_its_scope(bcsync: Bcsync, repo: Path) -> None:
    edit(repo, FRANK_BEFORE, FRANK_AFTER)
    applied = bcsync("apply", "--changed", "--auto-approve", "--now", NOW)
    assert applied.exit_code == 0, applied.output
    after = plan_json(bcsync)
    assert "frank@acme.com" not in touched(after)
    assert {"mallory@acme.com", "dave@acme.com"} <= touched(after)


def test_a_saved_scoped_plan_applies_only_with_its_own_scope(bcsync: Bcsync, repo: Path) -> None:
    edit(repo, FRANK_BEFORE, FRANK_AFTER)
    out = repo.parent / "plan.json"
    saved = bcsync("plan", "--changed", "--out", str(out), "--now", NOW)
    assert saved.exit_code == 0, saved.output
    original = out.read_text()
    for members in (["frank@acme.com", "mallory@acme.com"], []):
        doc = json.loads(original)
        doc["plans"][0]["scope"]["members"] = members
        out.write_text(json.dumps(doc))
        refused = bcsync("apply", str(out), "--now", NOW)
        assert refused.exit_code == 4, refused.output
        assert "not what would run now" in refused.output
    out.write_text(original)
    mixed = bcsync("apply", str(out), "--changed", "--now", NOW)
    assert mixed.exit_code == 64
    applied = bcsync("apply", str(out), "--now", NOW)
    assert applied.exit_code == 0, applied.output
    assert "mallory@acme.com" in touched(plan_json(bcsync))


def test_a_scoped_plan_refuses_demoting_the_second_to_last_admin(
    bcsync: Bcsync, repo: Path
) -> None:
    # The BC has two admins (owner, ops); the config also promotes dave, but dave's entry did
    # not change, so a scoped plan does not promote him: demoting ops would leave one admin.
    edit(repo, OPS_BEFORE, OPS_AFTER)
    full = bcsync("plan", "--now", NOW)
    assert full.exit_code == 0, full.output
    scoped = bcsync("plan", "--changed", "--now", NOW)
    assert scoped.exit_code == 4, scoped.output
    assert "ops@acme.com" in scoped.output and "min_admins is 2" in scoped.output


def test_changed_options_are_checked(bcsync: Bcsync, repo: Path, tmp_path: Path) -> None:
    assert bcsync("plan", "--base", "main", "--now", NOW).exit_code == 64
    unknown = bcsync("plan", "--changed", "--base", "no-such-ref", "--now", NOW)
    assert unknown.exit_code == 64 and "no-such-ref" in unknown.output
    git(repo, "commit", "-q", "--allow-empty", "-m", "nothing")
    edit(repo, OPS_BEFORE, "  ops@acme.com: { role: [admin }")
    git(repo, "commit", "-q", "-am", "broken")
    edit(repo, "  ops@acme.com: { role: [admin }", OPS_BEFORE)
    broken = bcsync("plan", "--changed", "--base", "HEAD", "--now", NOW)
    assert broken.exit_code == 3 and "base" in broken.output
    nothing = bcsync("plan", "--changed", "--base", "main~1", "--format", "json", "--now", NOW)
    assert nothing.exit_code == 0 and touched(json.loads(nothing.stdout)) == set()
    os.chdir(tmp_path)
    outside = tmp_path / "outside"
    shutil.copytree(repo, outside, ignore=shutil.ignore_patterns(".git", ".bcsync"))
    assert bcsync("plan", str(outside), "--changed", "--now", NOW).exit_code == 1


# -- the narrowed read, through the provider ---------------------------------------------------

MEMBERS, ADS, PARTNERS = 120, 40, 4


def write_world(root: Path) -> None:
    """A BC of 120 members with 3 ad-account grants each, 4 partners sharing 5 accounts each."""
    emails = [f"m{i:03d}@acme.example" for i in range(MEMBERS)]
    ads = [f"71{i:017d}" for i in range(ADS)]
    partners = [f"72{i:017d}" for i in range(PARTNERS)]

    def grants(i: int) -> list[str]:
        return [ads[(i * 7 + k) % ADS] for k in range(3)]

    users = [{"user_id": f"69{i:017d}", "email": e, "name": f"M {i}"} for i, e in enumerate(emails)]
    users[0]["token"] = "local-world-admin-token"
    seed = {
        "version": 1,
        "users": users,
        "external_business_centers": [{"bc_id": p, "name": f"P {p}"} for p in partners],
        "business_centers": [
            {
                "bc_id": "7012345678901234567",
                "name": "World",
                "members": [
                    {"email": e, "role": "ADMIN" if i < 3 else "STANDARD", "status": "BOUND"}
                    for i, e in enumerate(emails)
                ],
                "assets": {"ADVERTISER": [{"id": a, "name": f"Ad {a}"} for a in ads]},
                "grants": [
                    {"email": e, "asset_type": "ADVERTISER", "asset_id": a, "role": "ANALYST"}
                    for i, e in enumerate(emails)
                    for a in grants(i)
                ],
                "partners": [
                    {
                        "bc_id": p,
                        "shares": [
                            {"asset_type": "ADVERTISER", "asset_id": a, "role": "ANALYST"}
                            for a in ads[n * 5 : n * 5 + 5]
                        ],
                    }
                    for n, p in enumerate(partners)
                ],
            }
        ],
    }
    config = {
        "version": 1,
        "business_center": {"id": "7012345678901234567", "name": "World"},
        "provider": {"type": "local", "seed": "seed.yaml"},
        "assets": {"ad_accounts": {f"ad{i}": a for i, a in enumerate(ads)}},
        "members": {
            e: {
                "role": "admin" if i < 3 else "standard",
                "access": {"ad_accounts": {f"ad{ads.index(a)}": "analyst" for a in grants(i)}},
            }
            for i, e in enumerate(emails)
        },
    }
    (root / "seed.yaml").write_text(json.dumps(seed))  # JSON is YAML
    (root / "bcsync.yaml").write_text(json.dumps(config))


async def read_both(root: Path, members: frozenset[str], partners: frozenset[str]) -> Any:
    result = load([str(root / "bcsync.yaml")], now=date.fromisoformat(NOW))
    assert not result.errors, result.problems
    config = result.configs[0]
    async with open_providers([config]) as providers:
        provider = providers[config.bc_id]
        wanted = Scope.of_state(config.desired)
        full = await provider.read_state(wanted)
        narrow = await provider.read_state(
            Scope(wanted.asset_types, wanted.assets, members=members, partners=partners)
        )
    return full, narrow


def test_a_narrowed_read_is_small_and_agrees_with_the_full_read(tmp_path: Path) -> None:
    write_world(tmp_path)
    members = frozenset({"m050@acme.example", "m051@acme.example", "nobody@acme.example"})
    partner = "72" + "0" * 16 + "1"
    full, narrow = asyncio.run(read_both(tmp_path, members, frozenset({partner})))
    assert isinstance(full, ReadResult) and isinstance(narrow, ReadResult)
    # bc/get 1, admins 1, one keyword search per email 3, two totals, assets 1, partners 1,
    # shares 1, one asset/get per bound scoped member (one declared type) 2: 12 calls.
    assert narrow.calls <= 12, narrow.calls
    assert full.calls >= 3 * narrow.calls, (full.calls, narrow.calls)
    state, whole = narrow.state, full.state
    admins = {e for e, m in whole.members.items() if m.role.value == "admin"}
    assert set(state.members) == admins | {"m050@acme.example", "m051@acme.example"}
    assert {e: m.status for e, m in state.members.items()} == {
        e: whole.members[e].status for e in state.members
    }
    assert all(m.status is MemberStatus.BOUND for m in state.members.values())
    assert state.grants == {k: g for k, g in whole.grants.items() if k[1] in members}
    assert len(state.grants) == 6
    assert state.partners.keys() == whole.partners.keys()
    assert state.shares == {k: s for k, s in whole.shares.items() if k[0] == partner}
    assert len(state.shares) == 5
    assert state.assets == whole.assets and narrow.unmanaged == full.unmanaged
    assert narrow.unread_members == MEMBERS - len(state.members)
