"""Asset groups as code through the real CLI, on a copy of examples/quickstart.

Declared groups are created, changed and deleted by plan and apply; report, why, drift and
export show them; an edited saved plan, a removal beyond max_removals and a protected member's
group access are refused with the local Business Center left byte for byte as it was.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from bcsync.core.plan import Plan, checksum_of

from .conftest import NOW, Bcsync

pytestmark = pytest.mark.slow

GROUP = """
asset_groups:
  eu-buyers:
    description: Europe's buyers
    ad_accounts: [acme-eu, acme-apac]
    members: {members}
"""
BUYERS = "{ bob@acme.com: operator, carol@acme.com: analyst, frank@acme.com: analyst }"


def declare(config: Path, members: str = BUYERS, *, raw: str | None = None) -> None:
    """Replace (or add) the config's asset_groups section."""
    path = config / "bcsync.yaml"
    text = path.read_text(encoding="utf-8")
    text = text.split("\nasset_groups:", 1)[0].rstrip("\n") + "\n"
    path.write_text(text + (raw if raw is not None else GROUP.format(members=members)), "utf-8")


def database(config: Path) -> Path:
    return config / ".bcsync" / "local" / "seed.yaml.db"


def snapshot(config: Path) -> str:
    with closing(sqlite3.connect(database(config))) as db:
        return "\n".join(db.iterdump())


def groups_in(config: Path) -> dict[str, dict[str, str]]:
    """name -> {user id: role} of the local BC's asset groups, read from its database."""
    with closing(sqlite3.connect(database(config))) as db:
        rows = db.execute(
            "SELECT g.name, m.user_id, m.role FROM asset_groups g "
            "JOIN asset_group_members m ON m.group_id = g.group_id"
        ).fetchall()
    out: dict[str, dict[str, str]] = {}
    for name, user_id, role in rows:
        out.setdefault(name, {})[user_id] = role
    return out


def run(bcsync: Bcsync, *args: str) -> tuple[int, str]:
    result = bcsync(*args, "--now", NOW)
    return result.exit_code, result.output


def applied(bcsync: Bcsync, config: Path) -> None:
    code, out = run(bcsync, "apply", str(config), "--auto-approve")
    assert code == 0, out


@pytest.fixture
def bcsync(tmp_path: Path) -> Bcsync:
    return Bcsync(tmp_path)


def test_plan_apply_report_why_drift_export_and_delete(
    bcsync: Bcsync, quickstart: Path, tmp_path: Path
) -> None:
    declare(quickstart)
    code, out = run(bcsync, "plan", str(quickstart))
    assert code == 0, out
    assert "+ asset group eu-buyers" in out
    assert "+ frank@acme.com in asset group eu-buyers" in out
    applied(bcsync, quickstart)
    assert groups_in(quickstart) == {
        "eu-buyers": {
            "6900000000000000004": "ADVERTISER_ROLE_OPERATOR",
            "6900000000000000005": "ADVERTISER_ROLE_ANALYST",
            "6900000000000000008": "ADVERTISER_ROLE_ANALYST",
        }
    }
    code, out = run(bcsync, "plan", str(quickstart))
    assert "asset group eu-buyers" not in out, out

    code, out = run(bcsync, "report", str(quickstart), "--format", "csv")
    assert code == 0, out
    rows = [line for line in out.splitlines() if "asset group eu-buyers" in line]
    assert len(rows) == 6 and all(",ok," in row for row in rows), rows
    code, out = run(bcsync, "why", "frank@acme.com", "acme-apac", str(quickstart))
    assert "asset group eu-buyers gives it (analyst)" in out, out

    # A change made in Business Center shows as drift through the group; plan puts it back.
    with closing(sqlite3.connect(database(quickstart))) as db, db:
        db.execute("UPDATE asset_group_members SET role = 'ADVERTISER_ROLE_ADMIN'")
    code, out = run(bcsync, "drift", str(quickstart))
    assert code == 2 and "through asset group eu-buyers" in out, out
    code, out = run(bcsync, "plan", str(quickstart))
    assert "~ carol@acme.com in asset group eu-buyers" in out and "admin → analyst" in out
    applied(bcsync, quickstart)

    exported = tmp_path / "exported"
    exported.mkdir()
    result = bcsync(
        "export", "--from", str(quickstart / "bcsync.yaml"), "--out", str(exported / "bcsync.yaml")
    )
    assert result.exit_code == 0, result.output
    text = (exported / "bcsync.yaml").read_text(encoding="utf-8")
    section = text.split("asset_groups:\n", 1)[1].split("\n\n", 1)[0]
    assert section.startswith("  eu-buyers:\n    ad_accounts: [") and section.count(", ") == 1
    assert section.endswith("frank@acme.com: analyst"), section

    declare(quickstart, raw="asset_groups: {}\n")
    code, out = run(bcsync, "plan", str(quickstart), "--allow-removals")
    assert "- asset group eu-buyers" in out and "takes 2 ad account(s) away from 3 member(s)" in out
    code, out = run(bcsync, "apply", str(quickstart), "--auto-approve", "--allow-removals")
    assert code == 0, out
    assert groups_in(quickstart) == {}


def test_groups_not_in_a_config_without_the_section_are_left_alone(
    bcsync: Bcsync, quickstart: Path
) -> None:
    declare(quickstart)
    applied(bcsync, quickstart)
    declare(quickstart, raw="")  # no asset_groups section at all
    code, out = run(bcsync, "plan", str(quickstart))
    assert code == 0 and "asset group" not in out.replace("asset groups", ""), out
    code, out = run(bcsync, "report", str(quickstart), "--format", "csv")
    assert code == 0 and sum(",asset group," in line for line in out.splitlines()) == 6, out


def reseal(doc: dict[str, Any]) -> dict[str, Any]:
    """Recompute the checksums as an attacker would, so only the content can give it away."""
    plans = [Plan.from_json(p) for p in doc["plans"]]
    for body, plan in zip(doc["plans"], plans, strict=True):
        body["checksum"] = plan.checksum()
    doc["checksum"] = checksum_of(plans)
    return doc


@pytest.mark.parametrize(
    ("edit", "why"),
    [
        ("role", "params.roles"),
        ("member", "params.user_ids"),
        ("change", "after.role"),
    ],
)
def test_an_edited_saved_plan_that_changes_a_groups_members_is_refused(
    bcsync: Bcsync, quickstart: Path, tmp_path: Path, edit: str, why: str
) -> None:
    declare(quickstart)
    saved = tmp_path / "plan.json"
    code, out = run(bcsync, "plan", str(quickstart), "--out", str(saved))
    assert code == 0, out
    doc = json.loads(saved.read_text(encoding="utf-8"))
    steps = doc["plans"][0]["steps"]
    create = next(s for s in steps if s["op"] == "create_asset_group")
    if edit == "role":
        create["params"]["roles"][0] = "admin"
    elif edit == "member":  # owner@acme.com slipped in for frank
        create["params"]["user_ids"][-1] = "6900000000000000001"
        create["params"]["emails"][-1] = "owner@acme.com"
    else:
        change = next(
            c for c in doc["plans"][0]["changes"] if c["id"].startswith("asset_group_member:bob")
        )
        change["after"]["role"] = "admin"
    saved.write_text(json.dumps(reseal(doc)), encoding="utf-8")
    before = snapshot(quickstart)
    code, out = run(bcsync, "apply", str(saved), "--auto-approve")
    assert code == 4, out
    assert why in out, out
    assert snapshot(quickstart) == before


def test_a_group_change_beyond_max_removals_is_refused(bcsync: Bcsync, quickstart: Path) -> None:
    everyone = (
        "{ bob@acme.com: analyst, carol@acme.com: analyst, dave@acme.com: analyst, "
        "erin@acme.com: analyst, frank@acme.com: analyst, ops@acme.com: analyst, "
        "cfo@acme.com: analyst }"
    )
    declare(quickstart, everyone)
    path = quickstart / "bcsync.yaml"
    path.write_text(
        path.read_text("utf-8").replace("[acme-eu, acme-apac]", "[acme-eu, acme-apac, acme-us]"),
        "utf-8",
    )
    applied(bcsync, quickstart)
    declare(quickstart, raw="asset_groups: {}\n")  # 21 (member, ad account) pairs go
    before = snapshot(quickstart)
    code, out = run(bcsync, "apply", str(quickstart), "--auto-approve")
    assert code == 4, out
    assert "max_removals" in out or "removal" in out, out
    assert "--allow-removals" in out
    assert snapshot(quickstart) == before


def test_a_protected_members_group_access_is_not_taken_away(
    bcsync: Bcsync, quickstart: Path
) -> None:
    declare(quickstart, "{ owner@acme.com: admin, bob@acme.com: operator }")
    applied(bcsync, quickstart)
    declare(quickstart, "{ bob@acme.com: operator }")
    before = snapshot(quickstart)
    code, out = run(bcsync, "apply", str(quickstart), "--auto-approve", "--allow-removals")
    assert code == 4, out
    assert "owner@acme.com" in out and "asset group eu-buyers" in out, out
    assert snapshot(quickstart) == before
