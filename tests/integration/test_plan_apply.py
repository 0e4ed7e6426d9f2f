"""`bcsync plan` and `bcsync apply` end to end against the local Business Center (in-process)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import filelock
import jsonschema

from bcsync.auditor.auditquery import read_records

from .conftest import NOW, ROOT, Bcsync

PLAN_SCHEMA = json.loads((ROOT / "schemas" / "plan.schema.json").read_text())
AUDIT_SCHEMA = json.loads((ROOT / "schemas" / "audit.schema.json").read_text())


def test_quickstart_plan_apply_then_nothing_left(bcsync: Bcsync, quickstart: Path) -> None:
    first = bcsync("plan", str(quickstart), "--detailed-exitcode", "--now", NOW)
    assert first.exit_code == 2, first.output
    assert re.search(r"Plan: [1-9]\d* to add, \d+ to change, [1-9]\d* to remove", first.output)

    applied = bcsync("apply", str(quickstart), "--auto-approve", "--now", NOW)
    assert applied.exit_code == 0, applied.output
    assert "0 failed, 0 skipped" in applied.output

    again = bcsync("plan", str(quickstart), "--detailed-exitcode", "--now", NOW)
    assert again.exit_code == 0, again.output
    assert "No changes." in again.output
    assert "waiting for acceptance" in again.output


def test_audit_log_has_a_valid_record_per_change(bcsync: Bcsync, quickstart: Path) -> None:
    log = bcsync.workdir / "audit.jsonl"
    plan = bcsync("plan", str(quickstart), "--format", "json", "--now", NOW)
    doc = json.loads(plan.output)
    expected = {c["id"] for p in doc["plans"] for c in p["changes"] if c["action"] != "no-op"}
    result = bcsync(
        "apply", str(quickstart), "--auto-approve", "--audit-log", str(log), "--now", NOW
    )
    assert result.exit_code == 0, result.output
    records = read_records(log)
    for record in records:
        jsonschema.validate(record, AUDIT_SCHEMA)
    # One record per change when it was sent, then one when a read showed it (issue 23).
    sent = [r for r in records if r["result"] == "succeeded"]
    confirmed = [r for r in records if r["result"] == "confirmed"]
    assert sorted(r["change"]["id"] for r in sent) == sorted(expected)
    assert sorted(r["change"]["id"] for r in confirmed) == sorted(expected)
    assert len(records) == 2 * len(expected)
    assert records.index(confirmed[0]) > max(records.index(r) for r in sent)


def test_json_plan_is_valid_against_its_schema(bcsync: Bcsync, quickstart: Path) -> None:
    result = bcsync("plan", str(quickstart), "--format", "json", "--now", NOW)
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    jsonschema.validate(doc, PLAN_SCHEMA)
    assert doc["plans"][0]["bc_id"] == "7012345678901234567"


def test_saved_plan_applies_when_fresh(bcsync: Bcsync, quickstart: Path) -> None:
    out = bcsync.workdir / "plan.json"
    made = bcsync("plan", str(quickstart), "--out", str(out), "--now", NOW)
    assert made.exit_code == 0, made.output
    jsonschema.validate(json.loads(out.read_text()), PLAN_SCHEMA)
    applied = bcsync("apply", str(out), "--now", NOW)
    assert applied.exit_code == 0, applied.output
    assert bcsync("plan", str(quickstart), "--detailed-exitcode", "--now", NOW).exit_code == 0


def test_stale_saved_plan_is_refused(bcsync: Bcsync, quickstart: Path) -> None:
    out = bcsync.workdir / "plan.json"
    assert bcsync("plan", str(quickstart), "--out", str(out), "--now", NOW).exit_code == 0
    # Someone changes the BC after the plan was made: a change of their own (changes the plan
    # makes too would leave a remainder of it, which applies: see test_converge.py).
    config = quickstart / "bcsync.yaml"
    reviewed_text = config.read_text()
    theirs = "members:\n  eve@acme.com: { role: standard }\n"
    config.write_text(reviewed_text.replace("members:\n", theirs, 1))
    assert bcsync("apply", str(quickstart), "--auto-approve", "--now", NOW).exit_code == 0
    config.write_text(reviewed_text)
    stale = bcsync("apply", str(out), "--now", NOW)
    assert stale.exit_code == 4, stale.output
    assert "is not part of the reviewed plan" in stale.output
    assert "eve@acme.com (delete) was not reviewed" in stale.output


def test_saved_plan_refused_when_config_changed(bcsync: Bcsync, quickstart: Path) -> None:
    out = bcsync.workdir / "plan.json"
    assert bcsync("plan", str(quickstart), "--out", str(out), "--now", NOW).exit_code == 0
    config = quickstart / "bcsync.yaml"
    config.write_text(config.read_text().replace("frank@acme.com", "francis@acme.com"))
    stale = bcsync("apply", str(out), "--now", NOW)
    assert stale.exit_code == 4, stale.output
    assert "changed since it was made" in stale.output


def test_apply_without_terminal_or_auto_approve_refuses(bcsync: Bcsync, quickstart: Path) -> None:
    result = bcsync("apply", str(quickstart), "--now", NOW)
    assert result.exit_code == 4, result.output
    assert "--auto-approve" in result.output
    # Nothing changed: the plan is still pending.
    assert bcsync("plan", str(quickstart), "--detailed-exitcode", "--now", NOW).exit_code == 2


def test_apply_refuses_while_another_holds_the_lock(bcsync: Bcsync, quickstart: Path) -> None:
    lock_path = bcsync.lock_dir / "7012345678901234567.lock"
    lock_path.parent.mkdir(parents=True)
    with filelock.FileLock(str(lock_path)):
        result = bcsync(
            "apply", str(quickstart), "--auto-approve", "--lock-timeout", "0.2", "--now", NOW
        )
    assert result.exit_code == 4, result.output
    assert "lock" in result.output


def test_guard_refuses_demoting_an_admin_before_the_new_one_joined(
    bcsync: Bcsync, quickstart: Path
) -> None:
    config = quickstart / "bcsync.yaml"
    text = config.read_text()
    # Replace ops@acme.com as admin by someone not yet in the BC: the config has two admins, but
    # the BC would keep only one until the invitation is accepted.
    text = text.replace("ops@acme.com: { role: admin }", "ops@acme.com: { role: standard }")
    text = text.replace("role: admin # promoted from standard", "role: standard")
    text = text.replace("members:\n", "members:\n  newadmin@acme.com: { role: admin }\n", 1)
    config.write_text(text)
    assert bcsync("validate", str(quickstart), "--now", NOW).exit_code == 0
    result = bcsync("plan", str(quickstart), "--now", NOW)
    assert result.exit_code == 4, result.output
    assert "demoting admin ops@acme.com (user " in result.output
    assert "would leave 1 admin(s); policy min_admins is 2" in result.output
    assert "pass --" not in result.output  # no flag overrides the admin floor
    refused = bcsync("apply", str(quickstart), "--auto-approve", "--now", NOW)
    assert refused.exit_code == 4, refused.output


def test_removal_threshold_refuses_then_allows(bcsync: Bcsync, quickstart: Path) -> None:
    config = quickstart / "bcsync.yaml"
    text = config.read_text()
    text = text.replace("max_removals: 25%", "max_removals: 1")
    config.write_text(text)
    refused = bcsync("plan", str(quickstart), "--now", NOW)
    assert refused.exit_code == 4, refused.output
    assert "--allow-removals" in refused.output
    assert re.search(r"refusing to remove \d+ of \d+ managed entries", refused.output)
    allowed = bcsync("plan", str(quickstart), "--allow-removals", "--now", NOW)
    assert allowed.exit_code == 0, allowed.output


def test_markdown_plan_for_pull_requests(bcsync: Bcsync, quickstart: Path) -> None:
    result = bcsync("plan", str(quickstart), "--format", "markdown", "--now", NOW)
    assert result.exit_code == 0, result.output
    assert "<details>" in result.output
    assert len(result.output) < 65536


def test_agency_three_business_centers(bcsync: Bcsync, agency: Path) -> None:
    first = bcsync("plan", str(agency), "--detailed-exitcode", "--now", NOW)
    assert first.exit_code == 2, first.output
    for name in ("Bright Agency", "Northwind Foods", "Harbor Outdoor"):
        assert name in first.output
    applied = bcsync("apply", str(agency), "--auto-approve", "--now", NOW)
    assert applied.exit_code == 0, applied.output
    assert bcsync("plan", str(agency), "--detailed-exitcode", "--now", NOW).exit_code == 0


def test_usage_error_exits_64(bcsync: Bcsync) -> None:
    result = bcsync("plan", "--no-such-flag")
    assert result.exit_code == 64


def test_invalid_config_exits_3(bcsync: Bcsync, quickstart: Path) -> None:
    config = quickstart / "bcsync.yaml"
    config.write_text(config.read_text().replace("role: admin }", "role: owner }", 1))
    result = bcsync("plan", str(quickstart), "--now", NOW)
    assert result.exit_code == 3, result.output
    assert "bcsync.yaml:" in result.output
    assert "Traceback" not in result.output


def test_config_warnings_reach_the_plan_in_every_format(bcsync: Bcsync, quickstart: Path) -> None:
    """What stderr warns about, a reviewer reading only the plan must see too."""
    config = quickstart / "bcsync.yaml"
    config.write_text(config.read_text().replace("expires: 2027-01-31", "expires: 2026-11-28"))
    result = bcsync("plan", str(quickstart), "--format", "json", "--now", NOW)
    assert result.exit_code == 0, result.output
    (warning,) = [w for w in json.loads(result.stdout)["plans"][0]["warnings"] if "2026-11-28" in w]
    assert "warning:" in warning and "bcsync.yaml:" in warning
    assert warning in result.stderr
    markdown = bcsync("plan", str(quickstart), "--format", "markdown", "--now", NOW)
    assert "expires on 2026-11-28" in markdown.stdout
