"""Incoming access: what partners share with a BC, expected in `incoming:`, never written.

The agency example's Bright Agency (7020000000000000001): Northwind (7030000000000000001, also
its partner) shares three ad accounts with it, Harbor (7040000000000000001, no partner of its
list) two. bcsync cannot grant or revoke these: plan shows them as information (exit 2 with
--detailed-exitcode only for what apply can do), drift counts them (exit 2), report gives them a
section of their own, and export never adopts them as the BC's own.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import yaml

from .conftest import NOW, Bcsync

NORTHWIND, HARBOR = "7030000000000000001", "7040000000000000001"
EXPECTED = f"""incoming:
  northwind:
    bc_id: "{NORTHWIND}"
    ad_accounts:
      "7130000000000000001": operator
      "7130000000000000002": operator
      "7130000000000000003": analyst
  harbor:
    bc_id: "{HARBOR}"
    reason: Harbor's accounts, run by us
    ad_accounts:
      "7140000000000000001": analyst
      "7140000000000000002": analyst
"""


def config(agency: Path) -> Path:
    return agency / "agency.yaml"


def expect(agency: Path, text: str = EXPECTED) -> None:
    with config(agency).open("a") as f:
        f.write(text)


def applied(bcsync: Bcsync, agency: Path) -> None:
    """Bright Agency as its config wants it (the invitation accepted), so nothing is left to do."""
    done = bcsync("apply", str(config(agency)), "--auto-approve", "--now", NOW)
    assert done.exit_code == 0, done.output
    accepted = bcsync("emulator", "accept", "intern@bright.example", str(config(agency)))
    assert accepted.exit_code == 0, accepted.output
    done = bcsync("apply", str(config(agency)), "--auto-approve", "--now", NOW)
    assert done.exit_code == 0, done.output


def plan_json(bcsync: Bcsync, agency: Path, *extra: str) -> dict[str, Any]:
    result = bcsync("plan", str(config(agency)), "--format", "json", "--now", NOW, *extra)
    assert result.exit_code == 0, result.output
    plan: dict[str, Any] = json.loads(result.stdout)["plans"][0]
    return plan


def test_met_expectations_are_quiet(bcsync: Bcsync, agency: Path) -> None:
    expect(agency)
    plan = plan_json(bcsync, agency)
    assert "incoming" not in plan
    assert plan["incoming_assets"] == 5  # still shown as not this BC's own


def test_differences_are_information_not_changes(bcsync: Bcsync, agency: Path) -> None:
    applied(bcsync, agency)
    text = EXPECTED.replace('"7130000000000000002": operator', '"7130000000000000002": admin')
    expect(agency, text.replace('"7140000000000000002": analyst', '"7140000000000000009": analyst'))
    plan = bcsync("plan", str(config(agency)), "--detailed-exitcode", "--now", NOW)
    assert plan.exit_code == 0, plan.output  # apply can do nothing about them
    assert "No changes." in plan.stdout
    assert "Incoming shares differ from the config (only the partner can change these)" in (
        plan.stdout
    )
    assert (
        "ad_accounts 7130000000000000002 from northwind (BC 7030000000000000001): shared as "
        "operator, the config expects admin" in plan.stdout
    )
    assert "7140000000000000009 from harbor (BC 7040000000000000001): expected as analyst, " in (
        plan.stdout
    )
    assert "7140000000000000002 from harbor (BC 7040000000000000001): shared with this BC as " in (
        plan.stdout
    )
    found = {(d["finding"], d["asset_id"]) for d in plan_json(bcsync, agency)["incoming"]}
    assert found == {
        ("role differs", "7130000000000000002"),
        ("missing", "7140000000000000009"),
        ("unexpected", "7140000000000000002"),
    }
    drift = bcsync("drift", str(config(agency)), "--now", NOW)
    assert drift.exit_code == 2, drift.output
    assert "3 difference(s)" in drift.stdout
    assert "only the partner can change it" in drift.stdout
    doc = json.loads(bcsync("drift", str(config(agency)), "--format", "json").stdout)
    assert doc["drift"] is True and len(doc["business_centers"][0]["incoming"]) == 3


def test_a_saved_plan_keeps_them_and_apply_writes_nothing_for_them(
    bcsync: Bcsync, agency: Path, tmp_path: Path
) -> None:
    applied(bcsync, agency)
    expect(agency, EXPECTED.replace("7130000000000000003", "7130000000000000008"))
    out = tmp_path / "plan.json"
    saved = bcsync("plan", str(config(agency)), "--out", str(out), "--now", NOW)
    assert saved.exit_code == 0, saved.output
    shown = bcsync("show", str(out))
    assert "7130000000000000008 from northwind (BC 7030000000000000001): expected" in shown.stdout
    plan = json.loads(out.read_text())["plans"][0]
    assert plan["steps"] == [] and len(plan["incoming"]) == 2
    done = bcsync("apply", str(out), "--auto-approve", "--now", NOW)
    assert done.exit_code == 0, done.output
    assert "incoming" in plan_json(bcsync, agency)  # still there: only Northwind can fix it


def test_partners_are_matched_by_id_never_by_a_lookalike_name(bcsync: Bcsync, agency: Path) -> None:
    # "Northwind Foods" by name, another BC by id: Northwind's real shares stay unexpected.
    expect(
        agency,
        'incoming:\n  northwind-foods:\n    bc_id: "7030000000000000009"\n'
        '    name: Northwind Foods\n    ad_accounts: { "7130000000000000001": operator }\n',
    )
    found = {
        (d["finding"], d["partner"], d["alias"], d["asset_id"])
        for d in plan_json(bcsync, agency)["incoming"]
    }
    assert ("missing", "7030000000000000009", "northwind-foods", "7130000000000000001") in found
    # Northwind's own share of the same account is another BC's: unexpected, under its own alias.
    assert ("unexpected", NORTHWIND, "northwind", "7130000000000000001") in found


def test_one_alias_names_one_business_center(bcsync: Bcsync, agency: Path) -> None:
    expect(agency, 'incoming:\n  northwind:\n    bc_id: "7030000000000000009"\n')
    result = bcsync("validate", str(config(agency)))
    assert result.exit_code == 3
    assert (
        "incoming.northwind.bc_id: 'northwind' is BC 7030000000000000001 under partners"
        in result.output
    )


def test_the_same_partner_under_two_aliases_is_refused(bcsync: Bcsync, agency: Path) -> None:
    expect(agency, f'incoming:\n  nw:\n    bc_id: "{NORTHWIND}"\n')
    result = bcsync("validate", str(config(agency)))
    assert result.exit_code == 3
    assert f"BC {NORTHWIND} is 'northwind' under partners" in result.output


def test_a_malformed_expectation_is_a_located_error(bcsync: Bcsync, agency: Path) -> None:
    expect(
        agency,
        'incoming:\n  harbor:\n    bc_id: "7040000000000000001"\n'
        '    ad_accounts:\n      "7140-01": analyst\n      "7140000000000000002": owner\n'
        '    catalogs: { "71400000000000000x1": admin }\n',
    )
    result = bcsync("validate", str(config(agency)))
    assert result.exit_code == 3
    lines = config(agency).read_text().splitlines()
    out = result.output
    row = next(n for n, line in enumerate(lines, 1) if "7140-01" in line)
    assert (
        f"agency.yaml:{row}:7: error: incoming.harbor.ad_accounts.7140-01: expected an asset id"
        in out
    )
    assert "incoming.harbor.ad_accounts.7140000000000000002: expected an ad account role" in out
    assert "incoming.harbor.catalogs.71400000000000000x1: expected an asset id" in out
    plan = bcsync("plan", str(config(agency)), "--now", NOW)
    assert plan.exit_code == 3  # nothing read, nothing planned


def test_report_gives_incoming_a_section_of_its_own(bcsync: Bcsync, agency: Path) -> None:
    expect(agency, EXPECTED.replace("7130000000000000003", "7130000000000000008"))
    path = str(config(agency))
    text = bcsync("report", path, "--now", NOW).stdout
    head, section = text.split("Shared with this BC by partners (incoming; only the partner")
    assert "7130000000000000008" not in head and "7130000000000000008" in section
    assert "missing in BC" in section and "not in config" in section
    doc = json.loads(bcsync("report", path, "--format", "json", "--now", NOW).stdout)
    rows = {(r["asset_id"], r["status"]) for r in doc["incoming"]}
    assert ("7130000000000000008", "missing in BC") in rows
    assert ("7130000000000000003", "not in config") in rows
    assert ("7140000000000000001", "ok") in rows
    assert all(r["kind"] == "incoming" for r in doc["incoming"])
    assert not any(r["asset_id"].startswith(("7130", "7140")) for r in doc["rows"])
    table = csv.DictReader(
        line for line in io.StringIO(bcsync("report", path, "--format", "csv").stdout)
        if not line.startswith("#")
    )  # fmt: skip
    kinds = {row["Asset id"]: row["Kind"] for row in table}
    assert kinds["7140000000000000002"] == "incoming"
    html = bcsync("report", path, "--format", "html", "--now", NOW).stdout
    assert '<section id="incoming">' in html and "7140000000000000002" in html
    markdown = bcsync("report", path, "--format", "markdown", "--now", NOW).stdout
    assert "#### Shared with this BC by partners" in markdown


def test_without_an_incoming_section_they_are_shown_not_checked(
    bcsync: Bcsync, agency: Path
) -> None:
    path = str(config(agency))
    doc = json.loads(bcsync("report", path, "--format", "json", "--now", NOW).stdout)
    assert {r["status"] for r in doc["incoming"]} == {"incoming"}
    assert len(doc["incoming"]) == 5
    assert "incoming" not in plan_json(bcsync, agency)
    drift = bcsync("drift", path, "--format", "json", "--now", NOW)
    assert json.loads(drift.stdout)["business_centers"][0]["incoming"] == []


def test_export_never_adopts_incoming_assets_as_owned(
    bcsync: Bcsync, agency: Path, tmp_path: Path
) -> None:
    out = tmp_path / "adopted.yaml"
    exported = bcsync(
        "export", "--seed", str(agency / "seed.yaml"), "--bc-id", "7020000000000000001",
        "--out", str(out),
    )  # fmt: skip
    assert exported.exit_code == 0, exported.output
    text = out.read_text()
    owned = {i for section in yaml.safe_load(text)["assets"].values() for i in section.values()}
    assert "7110000000000000001" in owned  # its own
    assert not any(i.startswith(("7130", "7140")) for i in owned)
    # Harbor's shares name no partner of Bright's list: no `incoming:` that would call them
    # unexpected, a comment instead.
    assert "\nincoming:" not in text
    assert "# incoming: not written: TikTok names no partner for 2 asset(s)" in text


def test_export_writes_incoming_expectations_when_every_partner_is_named(
    bcsync: Bcsync, agency: Path, tmp_path: Path
) -> None:
    seed = agency / "seed.yaml"
    harbor = (
        '      - bc_id: "7020000000000000001" # Bright Agency: harbor-main ANALYST -> OPERATOR, '
        "harbor-promo goes\n        shares:\n"
        '          - { asset_type: ADVERTISER, asset_id: "7140000000000000001", role: ANALYST }\n'
        '          - { asset_type: ADVERTISER, asset_id: "7140000000000000002", role: ANALYST }\n'
    )
    text = seed.read_text()
    assert harbor in text
    seed.write_text(text.replace(harbor, '      - bc_id: "7020000000000000001"\n'))
    out = tmp_path / "adopted.yaml"
    exported = bcsync(
        "export", "--seed", str(seed), "--bc-id", "7020000000000000001", "--out", str(out)
    )
    assert exported.exit_code == 0, exported.output
    incoming = yaml.safe_load(out.read_text())["incoming"]
    assert incoming == {
        "northwind-foods": {
            "bc_id": NORTHWIND,
            "ad_accounts": {
                "7130000000000000001": "operator",
                "7130000000000000002": "operator",
                "7130000000000000003": "analyst",
            },
        }
    }
    plan = bcsync("plan", str(out), "--detailed-exitcode", "--now", NOW)
    assert plan.exit_code == 0 and "Incoming shares differ" not in plan.stdout, plan.output
    drift = bcsync("drift", str(out), "--now", NOW)
    assert drift.exit_code == 0, drift.output


def test_report_names_the_partners_of_every_asset_type(bcsync: Bcsync, agency: Path) -> None:
    # Bright's TikTok account is shared with Northwind too (no role: TikTok reports none).
    seed = agency / "seed.yaml"
    old = '          - { asset_type: ADVERTISER, asset_id: "7110000000000000001", role: ANALYST }\n'
    text = seed.read_text()
    assert old in text
    tt = '          - { asset_type: TT_ACCOUNT, asset_id: "7410000000000000001" }\n'
    seed.write_text(text.replace(old, old + tt, 1))
    doc = json.loads(bcsync("report", str(config(agency)), "--format", "json").stdout)
    [row] = [r for r in doc["rows"] if r["status"] == "partner share"]
    assert (row["kind"], row["principal"], row["asset_id"]) == (
        "partner", NORTHWIND, "7410000000000000001"
    )  # fmt: skip
    assert row["principal_name"] == f"northwind (BC {NORTHWIND})"
    assert row["actual_role"] == "shared"
    why = bcsync("why", "creator1@bright.example", "bright-brand", str(config(agency)))
    assert why.exit_code == 0, why.output


def test_why_explains_access_through_a_partner_share(bcsync: Bcsync, agency: Path) -> None:
    expect(agency)
    path = str(config(agency))
    partner = bcsync("why", "northwind", "bright-test", path)
    assert partner.exit_code == 0, partner.output
    assert "ad account bright-test: analyst" in partner.stdout
    assert "through a partner share: the partner's Business Center holds analyst on it" in (
        partner.stdout
    )
    incoming = bcsync("why", "northwind", path).stdout
    assert "an incoming share: this Business Center is expected to hold operator" in incoming
    assert "now: incoming line: " in incoming and '"7130000000000000001": operator' in incoming
    someone = bcsync("why", "nobody@bright.example", "bright-test", path).stdout
    assert "nobody@bright.example has no access on bright-test in the config." in someone
    assert (
        f"ad account bright-test is shared with partner northwind (Northwind Foods) (BC "
        f"{NORTHWIND}) as analyst" in someone
    )
    doc = json.loads(bcsync("why", "northwind", "--format", "json", path).stdout)
    assert any(a["through"] and a["kind"] == "incoming" for a in doc["access"])


def test_an_edited_incoming_entry_in_a_saved_plan_is_refused(
    bcsync: Bcsync, agency: Path, tmp_path: Path
) -> None:
    expect(agency, EXPECTED.replace("7130000000000000003", "7130000000000000008"))
    out = tmp_path / "plan.json"
    assert bcsync("plan", str(config(agency)), "--out", str(out), "--now", NOW).exit_code == 0
    doc = json.loads(out.read_text())
    doc["plans"][0]["incoming"][0]["finding"] = "granted"
    out.write_text(json.dumps(doc))
    shown = bcsync("show", str(out))
    assert shown.exit_code == 3
    assert "plans/0/incoming/0/finding: 'granted' is not one of" in shown.output
