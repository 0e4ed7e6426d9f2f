"""`report`, `why`, `expiring` and `audit` end to end on the quickstart example."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from .conftest import NOW, Bcsync


def rows_of(output: str) -> dict[tuple[str, str, str], dict[str, object]]:
    doc = json.loads(output)
    return {(r["principal"], r["asset_type"], r["asset_name"]): r for r in doc["rows"]}


def test_offline_report_needs_no_bc_and_explains_every_line(
    bcsync: Bcsync, quickstart: Path
) -> None:
    before = sorted(bcsync.workdir.rglob("*"))
    result = bcsync("report", "quickstart", "--offline", "--format", "json", "--now", NOW)
    assert result.exit_code == 0, result.output
    rows = rows_of(result.output)
    temp = rows[("temp@contractor.example", "ad_accounts", "acme-us")]
    assert (temp["role"], temp["expires"], temp["reason"]) == (
        "analyst",
        "2027-01-31",
        "Q1 campaign review",
    )
    lines = (quickstart / "bcsync.yaml").read_text().splitlines()
    temp_line = 1 + next(i for i, t in enumerate(lines) if "acme-us: { role: analyst, exp" in t)
    bob_line = 1 + lines.index("  bob@acme.com:")
    assert temp["sources"] == [f"quickstart/bcsync.yaml:{temp_line}"]
    assert temp["status"] == "config"
    bob_us = rows[("bob@acme.com", "ad_accounts", "acme-us")]
    assert bob_us["sources"] == [f"group media-buyers (member quickstart/bcsync.yaml:{bob_line})"]
    assert bob_us["role"] == "operator"
    every = json.loads(result.output)["rows"]
    assert {r["status"] for r in every} == {"config", "admin role"}
    # Every asset lists the BC admins who reach it through their role, marked as such.
    on_us = [r for r in every if r["asset_name"] == "acme-us" and r["status"] == "admin role"]
    assert {r["principal"] for r in on_us} == {"owner@acme.com", "ops@acme.com", "dave@acme.com"}
    assert all(r["sources"][0].startswith("admin role (member quickstart/") for r in on_us)
    # Offline means the BC was not even opened: no local database, no state directory.
    assert sorted(bcsync.workdir.rglob("*")) == before


def test_live_report_marks_differences_and_unmanaged_access(
    bcsync: Bcsync, quickstart: Path
) -> None:
    result = bcsync("report", "quickstart", "--format", "json", "--now", NOW)
    assert result.exit_code == 0, result.output
    rows = rows_of(result.output)
    support = ("agent@tiktok-support.example", "ad_accounts", "acme-us")
    assert rows[support]["status"] == "ignored" and rows[support]["actual_role"] == "analyst"
    assert rows[("mallory@acme.com", "ad_accounts", "acme-us")]["status"] == "not in config"
    assert rows[("grace@acme.com", "business_center", "Acme Retail")]["status"] == "missing in BC"
    bob = rows[("bob@acme.com", "ad_accounts", "acme-us")]
    assert (bob["status"], bob["role"], bob["actual_role"]) == (
        "role differs",
        "operator",
        "analyst",
    )
    assert rows[("owner@acme.com", "business_center", "Acme Retail")]["status"] == "ok"
    doc = json.loads(result.output)
    assert doc["offline"] is False
    assert doc["business_centers"][0]["unmanaged_assets_count"] == 1


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [
        ("text", "  Unmanaged: 1 asset(s)"),
        ("markdown", "| Kind | Who | Asset type |"),
        ("csv", "BC id,Business Center,Kind,Who,Asset type,Asset,"),
        ("html", '<table id="access">'),
    ],
)
def test_report_formats(bcsync: Bcsync, quickstart: Path, fmt: str, expected: str) -> None:
    result = bcsync("report", "quickstart", "--format", fmt, "--now", NOW)
    assert result.exit_code == 0, result.output
    assert expected in result.output
    assert "ignored" in result.output and "agent@tiktok-support.example" in result.output


def test_report_out_writes_the_file(bcsync: Bcsync, quickstart: Path, tmp_path: Path) -> None:
    page = tmp_path / "access.html"
    result = bcsync("report", "quickstart", "--offline", "--format", "html", "--out", str(page))
    assert result.exit_code == 0, result.output
    assert page.read_text().startswith("<!DOCTYPE html>")
    assert "<table" not in result.stdout


def git(cwd: Path, *args: str, author: str = "Alice Auditor") -> None:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": author,
        "GIT_AUTHOR_EMAIL": "a@example.com",
        "GIT_COMMITTER_NAME": author,
        "GIT_COMMITTER_EMAIL": "a@example.com",
        "GIT_AUTHOR_DATE": "2026-10-01T12:00:00Z",
    }
    subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True)


def test_why_names_lines_groups_and_the_commits_behind_them(
    bcsync: Bcsync, quickstart: Path
) -> None:
    git(quickstart, "init", "-q")
    git(quickstart, "add", "bcsync.yaml")
    git(quickstart, "commit", "-q", "-m", "Acme as code")
    config = quickstart / "bcsync.yaml"
    config.write_text(
        config.read_text().replace("acme-eu: operator }", "acme-eu: admin }"), encoding="utf-8"
    )
    git(quickstart, "commit", "-q", "-am", "Bob runs Acme EU", author="Bob Builder")
    result = bcsync("why", "bob@acme.com", "--format", "json", "quickstart", "--now", NOW)
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    access = {a["asset_name"]: a for a in doc["access"]}
    eu = access["acme-eu"]
    assert eu["role"] == "admin"
    own, group, joins = eu["lines"]
    lines = config.read_text().splitlines()
    own_line = 1 + next(i for i, t in enumerate(lines) if "acme-eu: admin }" in t)
    group_line = 1 + next(i for i, t in enumerate(lines) if "acme-eu: analyst" in t)
    assert own["ref"] == f"quickstart/bcsync.yaml:{own_line}" and "acme-eu: admin" in own["text"]
    assert eu["gained"]["author"] == "Bob Builder"
    assert eu["gained"]["subject"] == "Bob runs Acme EU"
    assert f"quickstart/bcsync.yaml:{own_line}" in eu["gained"]["via"]
    assert group["label"] == "group media-buyers grants it"
    assert group["ref"] == f"quickstart/bcsync.yaml:{group_line}"
    assert "acme-eu: analyst" in group["text"]
    us = access["acme-us"]["gained"]
    assert (us["author"], us["via"]) == ("Alice Auditor", ["group media-buyers"])
    assert us["date"].startswith("2026-10-01")
    assert joins["label"] == "member joins group media-buyers" and "media-buyers" in joins["text"]
    assert doc["history_unavailable"] == {}
    text = bcsync("why", "bob@acme.com", "acme-eu", "quickstart", "--now", NOW).output
    assert "Bob Builder" in text and "ad account acme-us" not in text


def test_why_outside_git_still_explains(bcsync: Bcsync, quickstart: Path) -> None:
    result = bcsync("why", "temp@contractor.example", "quickstart", "--now", NOW)
    assert result.exit_code == 0, result.output
    assert "acme-us: analyst, expires 2027-01-31, reason: Q1 campaign review" in result.output
    assert "History unavailable for quickstart/bcsync.yaml: not inside a git checkout" in (
        result.output
    )
    later = bcsync("why", "temp@contractor.example", "quickstart", "--now", "2027-02-15")
    assert "ad_accounts acme-us: expired 2027-01-31 (no longer granted)" in later.output
    nobody = bcsync("why", "nobody@acme.com", "quickstart", "--now", NOW)
    assert nobody.exit_code == 0 and "has no access" in nobody.output


@pytest.mark.parametrize(
    ("now", "within", "code", "expected"),
    [
        (NOW, "30d", 0, "Nothing expires within 30d"),
        (NOW, "10w", 2, "expires 2027-01-31 (in 67 days): grant temp@contractor.example"),
        ("2027-02-15", "30d", 2, "expired 2027-01-31: grant temp@contractor.example"),
        ("2027-12-20", "2w", 2, "expires 2027-12-31 (in 11 days): partner measurement-co"),
    ],
)
def test_expiring_window_and_exit_code(
    bcsync: Bcsync, quickstart: Path, now: str, within: str, code: int, expected: str
) -> None:
    result = bcsync("expiring", "quickstart", "--within", within, "--now", now)
    assert result.exit_code == code, result.output
    assert expected in result.output


def test_expiring_shows_reasons_and_refuses_a_bad_window(bcsync: Bcsync, quickstart: Path) -> None:
    result = bcsync("expiring", "quickstart", "--within", "10w", "--now", NOW, "--format", "json")
    entry = json.loads(result.output)["entries"][0]
    assert entry["reason"] == "Q1 campaign review" and entry["days_left"] == 67
    bad = bcsync("expiring", "quickstart", "--within", "soon")
    assert bad.exit_code == 64 and "30d" in bad.output


def test_audit_queries_what_apply_wrote(bcsync: Bcsync, quickstart: Path) -> None:
    applied = bcsync("apply", "quickstart", "--auto-approve", "--now", NOW)
    assert applied.exit_code == 0, applied.output
    # From where apply ran, the log is found beside the config it was given (no --state-dir).
    beside = bcsync("audit")
    assert beside.exit_code == 1 and "bcsync audit PATHS" in beside.output
    result = bcsync("audit", "quickstart", "--member", "grace@acme.com", "--format", "json")
    assert result.exit_code == 0, result.output
    records = json.loads(result.output)["records"]
    assert {r["change"]["kind"] for r in records} == {"member", "grant"}
    # Each change: sent ("succeeded"), then seen by the read-back after apply ("confirmed").
    assert {r["result"] for r in records} == {"succeeded", "confirmed"}
    assert all(r["actor"] for r in records)
    text = bcsync("audit", "quickstart", "--bc", "7012345678901234567").output
    assert "invite" in text and "record(s) from 1 plan(s)" in text
    assert "No matching records" in bcsync("audit", "quickstart", "--since", "2999-01-01").output
    csv_out = bcsync(
        "audit", "quickstart", "--format", "csv", "--member", "mallory@acme.com"
    ).output
    assert csv_out.startswith("time,actor,bc_id,op,result,change,reason,commit,plan,config,")
    assert "remove" in csv_out or "delete" in csv_out


def test_audit_survives_a_damaged_log(bcsync: Bcsync, tmp_path: Path) -> None:
    log = tmp_path / "audit.jsonl"
    good = {"time": "2026-11-01T10:00:00.000Z", "bc_id": "1", "change": {"key": "a@b.example"}}
    log.write_text(json.dumps(good) + "\nnot json\n" + json.dumps(good)[:30])
    result = bcsync("audit", "--log", str(log))
    assert result.exit_code == 0
    assert f"{log}:2: warning: not JSON" in result.stderr
    assert f"{log}:3: warning: truncated last line" in result.stderr
    assert "1 record(s)" in result.stdout and "Traceback" not in result.output
    missing = bcsync("audit", "--log", str(tmp_path / "none.jsonl"))
    assert missing.exit_code == 1 and "no audit log at" in missing.output
    bad_date = bcsync("audit", "--log", str(log), "--since", "last week")
    assert bad_date.exit_code == 64
