"""Audit log queries: filters, and hostile lines that warn (located) instead of failing."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bcsync.auditor import auditquery
from bcsync.auditor.auditquery import AuditFilter, parse_since, query
from bcsync.errors import BcsyncError


def record(time: str, email: str, bc: str = "7012345678901234567", **extra: object) -> str:
    change = {
        "id": f"member:{email}",
        "action": "create",
        "kind": "member",
        "key": email,
        "before": None,
        "after": {"role": "standard"},
        "reason": "invite",
        "target": {"email": email},
    }
    doc = {"time": time, "bc_id": bc, "change": change, "actor": "ci", "result": "succeeded"}
    return json.dumps({**doc, **extra})


def grant_record(time: str, email: str) -> str:
    doc = json.loads(record(time, email))
    doc["change"] = {"key": f"ad_accounts/71:{email}", "kind": "grant", "action": "delete"}
    return json.dumps(doc)


@pytest.fixture
def log(tmp_path: Path) -> Path:
    path = tmp_path / "audit.jsonl"
    lines = [
        record("2026-11-01T10:00:00.000Z", "bob@acme.com"),
        grant_record("2026-11-20T10:00:00.000Z", "Bob@Acme.com"),
        record("2026-11-21T10:00:00.000Z", "carol@acme.com", bc="7000000000000000001"),
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_filters_by_member_since_and_bc(log: Path) -> None:
    assert len(query(log, AuditFilter()).records) == 3
    bob = query(log, AuditFilter(member="bob@acme.com")).records
    assert [r["change"]["kind"] for r in bob] == ["member", "grant"]
    since = query(log, AuditFilter(since=parse_since("2026-11-20"))).records
    assert [r["time"][:10] for r in since] == ["2026-11-20", "2026-11-21"]
    other = query(log, AuditFilter(bc_id="7000000000000000001")).records
    assert [r["change"]["key"] for r in other] == ["carol@acme.com"]


def test_parse_since_accepts_dates_and_times() -> None:
    assert parse_since("2026-11-20") == datetime(2026, 11, 20, tzinfo=UTC)
    assert parse_since("2026-11-20T10:00:00Z") == datetime(2026, 11, 20, 10, tzinfo=UTC)
    with pytest.raises(ValueError):
        parse_since("yesterday")


def test_hostile_lines_become_located_warnings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(auditquery, "MAX_LINE_BYTES", 200_000)
    path = tmp_path / "audit.jsonl"
    good = record("2026-11-01T10:00:00.000Z", "bob@acme.com")
    body = [
        good,
        "not json at all",
        "[1, 2, 3]",
        '"' + "x" * 300_000 + '"',  # oversized
        "",
        "[" * 100000,  # deep nesting
        good,
    ]
    raw = ("\n".join(body) + "\n").encode() + b"\xff\xfe\n" + good[:40].encode()
    path.write_bytes(raw)
    result = query(path, AuditFilter())
    assert len(result.records) == 2
    where = [(w.line, w.message.split(" ")[0]) for w in result.warnings]
    assert where == [(2, "not"), (3, "a"), (4, "line"), (6, "not"), (8, "not"), (9, "truncated")]
    assert result.warnings[0].format().startswith(f"{path}:2: warning: not JSON")
    assert result.lines == 9


def test_missing_time_is_a_warning_only_when_filtering_by_time(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    path.write_text('{"bc_id": "1"}\n')
    assert len(query(path, AuditFilter()).records) == 1
    result = query(path, AuditFilter(since=parse_since("2026-01-01")))
    assert result.records == [] and "no valid time" in result.warnings[0].message


def test_missing_or_odd_log_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(BcsyncError, match="no audit log at"):
        query(tmp_path / "nope.jsonl", AuditFilter())
    with pytest.raises(BcsyncError, match="not a regular file"):
        query(tmp_path, AuditFilter())


NOON = datetime(2026, 11, 25, 12, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("today", datetime(2026, 11, 25, tzinfo=UTC)),
        ("Yesterday", datetime(2026, 11, 24, tzinfo=UTC)),
        ("7d", datetime(2026, 11, 18, 12, 30, tzinfo=UTC)),
        ("2w", datetime(2026, 11, 11, 12, 30, tzinfo=UTC)),
        ("3", datetime(2026, 11, 22, 12, 30, tzinfo=UTC)),
        ("2026-11-01", datetime(2026, 11, 1, tzinfo=UTC)),
        ("2026-11-01T10:00:00Z", datetime(2026, 11, 1, 10, tzinfo=UTC)),
    ],
)
def test_since_reads_relative_windows_as_expiring_within_does(
    text: str, expected: datetime
) -> None:
    assert auditquery.parse_when(text, NOON) == expected


@pytest.mark.parametrize("text", ["last week", "7x", "-7d", "", "tomorrow"])
def test_since_refuses_what_it_cannot_read(text: str) -> None:
    with pytest.raises(ValueError):
        auditquery.parse_when(text, NOON)
