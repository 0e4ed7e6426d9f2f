"""Catalog shares with partners: read, kept, stopped; never created (partner/add takes ad accounts).

The quickstart's world, with Measurement Co (not protected) also holding the catalog `main`, as
shared in Business Center.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .conftest import NOW, Bcsync

CATALOG = "7300000000000000001"
SHARE = f"7200000000000000010:catalogs/{CATALOG}"


def share_catalog(quickstart: Path, role: str = "AD_PROMOTE") -> None:
    seed = quickstart / "seed.yaml"
    text = seed.read_text()
    old = '      - bc_id: "7200000000000000010" # Measurement Co: acme-us goes, acme-apac comes\n'
    old += "        shares:\n"
    assert old in text
    new = f'          - {{ asset_type: CATALOG, asset_id: "{CATALOG}", role: {role} }}\n'
    seed.write_text(text.replace(old, old + new))


def declare(quickstart: Path, catalogs: str) -> None:
    config = quickstart / "bcsync.yaml"
    text = config.read_text()
    old = "      ad_accounts: { acme-apac: analyst }\n"
    assert old in text
    config.write_text(text.replace(old, old + f"      catalogs: {{ {catalogs} }}\n"))


def share_changes(bcsync: Bcsync, quickstart: Path) -> list[dict[str, Any]]:
    plan = bcsync("plan", str(quickstart), "--format", "json", "--now", NOW)
    assert plan.exit_code == 0, plan.output
    return [c for c in json.loads(plan.stdout)["plans"][0]["changes"] if c["key"] == SHARE]


def test_a_declared_catalog_share_that_exists_is_no_change(
    bcsync: Bcsync, quickstart: Path
) -> None:
    share_catalog(quickstart)
    declare(quickstart, "main: ad_promote")
    assert share_changes(bcsync, quickstart) == []


def test_an_undeclared_catalog_share_is_stopped(bcsync: Bcsync, quickstart: Path) -> None:
    share_catalog(quickstart)
    [change] = share_changes(bcsync, quickstart)
    assert (change["action"], change["before"]) == ("delete", {"role": "ad_promote"})
    applied = bcsync("apply", str(quickstart), "--auto-approve", "--now", NOW)
    assert applied.exit_code == 0, applied.output
    assert share_changes(bcsync, quickstart) == []


def test_a_catalog_share_to_make_or_change_is_explained_not_attempted(
    bcsync: Bcsync, quickstart: Path
) -> None:
    declare(quickstart, "main: admin")
    [made] = share_changes(bcsync, quickstart)
    assert (made["action"], made["cause"]) == ("no-op", "share_not_creatable")
    assert "the API shares only ad accounts" in made["reason"]
    share_catalog(quickstart)  # now it exists, with another role
    reset = bcsync("emulator", "reset", str(quickstart))
    assert reset.exit_code == 0, reset.output
    [changed] = share_changes(bcsync, quickstart)
    assert (changed["action"], changed["cause"]) == ("no-op", "share_not_creatable")
    assert (changed["before"], changed["after"]) == ({"role": "ad_promote"}, {"role": "admin"})


def test_export_adopts_catalog_shares(bcsync: Bcsync, quickstart: Path, tmp_path: Path) -> None:
    share_catalog(quickstart)
    out = tmp_path / "adopted" / "bcsync.yaml"
    exported = bcsync("export", "--seed", str(quickstart / "seed.yaml"), "--out", str(out))
    assert exported.exit_code == 0, exported.output
    partners = out.read_text().split("\npartners:\n")[1]
    assert "catalogs: { main-catalog: ad_promote }" in partners
    plan = bcsync("plan", str(out.parent), "--detailed-exitcode", "--now", NOW)
    assert plan.exit_code == 0, plan.output
