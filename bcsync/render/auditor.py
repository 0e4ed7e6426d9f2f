"""Views for `why`, `expiring` and `audit`: text for people, JSON and CSV for tools. Pure."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

from bcsync.render.csvtext import csv_text
from bcsync.render.report_data import row_json
from bcsync.render.report_table import ASSET_TYPE_LABELS
from bcsync.render.text import terminal_text

if TYPE_CHECKING:
    from bcsync.auditor.expiry import Expiring
    from bcsync.auditor.revisions import Commit
    from bcsync.auditor.story import Gained, LineStory, WhyResult


# --- why -----------------------------------------------------------------------------------


def _commit_words(commit: Commit) -> str:
    day = commit.authored.date().isoformat()
    return f"{commit.short} {day} {commit.author} <{commit.email}> {commit.subject!r}"


def gained_text(gained: Gained | None, unavailable: bool) -> str:
    """ "gained in 1a2b3c4d5e 2026-10-01 Bob <b@x> 'Bob runs EU' via group buyers"."""
    if gained is None:
        return "history unavailable" if unavailable else "not in the configs' history"
    if gained.commit is None:
        return "gained in the working tree: not committed yet"
    text = f"gained in {_commit_words(gained.commit)}"
    if gained.via:
        text += f" via {', '.join(gained.via)}"
    if gained.merged_in is not None:
        text += f"; merged in {_commit_words(gained.merged_in)}"
    return text


def why_text(result: WhyResult) -> str:
    """Each grant, where it was gained (commit, author, via), then the lines behind it now."""
    scope = f" on {result.asset}" if result.asset else ""
    shared = [f"  {s}" for s in result.shared_with]
    if not result.stories and not result.expired:
        text = f"{result.who} has no access{scope} in the config.\n"
        if shared:
            text += "\n".join(["Partner shares of it (another way people reach it):", *shared])
            text += "\n"
        return terminal_text(text)
    out = [f"Access of {result.who}{scope}:"]
    for story in result.stories:
        row = story.row
        what = ASSET_TYPE_LABELS.get(row.asset_type, row.asset_type)
        extra = "".join(
            [
                f", expires {row.expires}" if row.expires else "",
                f", reason: {row.reason}" if row.reason else "",
            ]
        )
        out.append(f"  {row.bc_name}: {what} {row.asset_name}: {row.role}{extra}")
        if story.through:
            out.append(f"    {story.through}")
        if row.kind != "incoming":  # no history: an expectation, not access bcsync gave
            out.append(f"    {gained_text(story.gained, bool(result.history_unavailable))}")
        for line in story.lines:
            text = f"  `{line.text}`" if line.text else ""
            out.append(f"    now: {line.label}: {line.ref}{text}")
    for gone in result.expired:
        out.append(f"  {gone.bc_name}: {gone.what}: expired {gone.expired_on} (no longer granted)")
    for file, reason in sorted(result.history_unavailable.items()):
        out.append(f"History unavailable for {file}: {reason}.")
    if shared:
        out += ["Partner shares of it (another way people reach it):", *shared]
    return terminal_text("\n".join(out) + "\n")


def _commit_json(commit: Commit | None) -> dict[str, Any] | None:
    if commit is None:
        return None
    return {
        "commit": commit.sha,
        "author": commit.author,
        "email": commit.email,
        "date": commit.authored.isoformat(),
        "subject": commit.subject,
    }


def _gained_json(gained: Gained | None) -> dict[str, Any] | None:
    if gained is None:
        return None
    return {
        **(_commit_json(gained.commit) or {"commit": None}),
        "committed": gained.commit is not None,
        "via": list(gained.via),
        "merged_in": _commit_json(gained.merged_in),
    }


def why_json(result: WhyResult) -> str:
    def line(s: LineStory) -> dict[str, Any]:
        return {"label": s.label, "ref": s.ref, "text": s.text}

    doc = {
        "who": result.who,
        "asset": result.asset,
        "access": [
            {
                **row_json(s.row),
                "gained": _gained_json(s.gained),
                "through": s.through,
                "lines": [line(x) for x in s.lines],
            }
            for s in result.stories
        ],
        "shared_with": result.shared_with,
        "expired": [
            {"bc_name": e.bc_name, "what": e.what, "expired_on": e.expired_on.isoformat()}
            for e in result.expired
        ],
        "history_unavailable": result.history_unavailable,
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


# --- expiring ------------------------------------------------------------------------------


def _when(entry: Expiring, now: date) -> str:
    days = entry.days_left(now)
    if entry.expired or days <= 0:
        return f"expired {entry.expires}"
    return f"expires {entry.expires} (in {days} day{'s' if days != 1 else ''})"


def expiring_text(entries: Sequence[Expiring], now: date, window: str) -> str:
    """Per BC: each entry, its date, its reason and its line."""
    if not entries:
        return f"Nothing expires within {window} of {now}.\n"
    out: list[str] = []
    bc = None
    for e in entries:
        if e.bc_id != bc:
            bc = e.bc_id
            out.append(f"{e.bc_name} ({e.bc_id}):")
        what = f"{e.kind} {e.who}" + (f" on {e.asset}" if e.asset else "")
        what += f" ({e.role})" if e.role else ""
        out.append(f"  {_when(e, now)}: {what}")
        if e.reason:
            out.append(f"    reason: {e.reason}")
        if e.source:
            out.append(f"    from: {e.source}")
    gone = sum(e.expired for e in entries)
    out.append(f"{len(entries) - gone} expiring within {window}, {gone} expired already.")
    return terminal_text("\n".join(out) + "\n")


def _expiring_row(e: Expiring, now: date) -> dict[str, Any]:
    return {
        "bc_id": e.bc_id,
        "bc_name": e.bc_name,
        "kind": e.kind,
        "who": e.who,
        "asset": e.asset,
        "role": e.role,
        "expires": e.expires.isoformat(),
        "days_left": e.days_left(now),
        "expired": e.expired,
        "reason": e.reason,
        "source": e.source,
    }


def expiring_json(entries: Sequence[Expiring], now: date) -> str:
    doc = {"as_of": now.isoformat(), "entries": [_expiring_row(e, now) for e in entries]}
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def expiring_csv(entries: Sequence[Expiring], now: date) -> str:
    rows = [list(_expiring_row(e, now).values()) for e in entries]
    return csv_text(EXPIRING_HEADER, rows)


EXPIRING_HEADER: tuple[str, ...] = ("bc_id", "bc_name", "kind", "who", "asset", "role")
EXPIRING_HEADER += ("expires", "days_left", "expired", "reason", "source")


# --- audit ---------------------------------------------------------------------------------

AUDIT_COLUMNS: tuple[str, ...] = (
    "time",
    "actor",
    "bc_id",
    "op",
    "result",
    "change",
    "reason",
    "commit",
    "plan",
)
# Filled by newer records (config path, the config's own reason and expiry); blank otherwise.
AUDIT_COLUMNS += ("config", "config_reason", "expires")


def _commit(record: dict[str, Any]) -> str:
    commit = record.get("git_commit")
    text = str(commit)[:12] if commit else "no commit"
    return text + (" (dirty)" if record.get("git_dirty") is True else "")


def audit_fields(record: dict[str, Any]) -> list[str]:
    """One record's columns (AUDIT_COLUMNS), tolerant of missing or odd fields."""
    found = record.get("change")
    change: dict[str, Any] = found if isinstance(found, dict) else {}
    title = change.get("title") or change.get("key") or change.get("id") or ""
    action = change.get("action") or ""
    digest = str(record.get("plan_digest") or "")
    return [
        str(record.get("time", "")),
        str(record.get("actor", "")),
        str(record.get("bc_id", "")),
        str(record.get("op", "")),
        str(record.get("result", "")) + (f": {record['error']}" if record.get("error") else ""),
        f"{action} {title}".strip(),
        str(change.get("reason") or ""),
        _commit(record),
        digest.removeprefix("sha256:")[:12],
        str(record.get("config_path") or ""),
        str(record.get("reason") or ""),
        str(record.get("expires") or ""),
    ]


def audit_text(records: Sequence[dict[str, Any]], lines: int) -> str:
    if not records:
        return f"No matching records ({lines} line(s) read).\n"
    out = ["  ".join(_clip(c) for c in audit_fields(r) if c) for r in records]
    runs = len({str(r.get("plan_digest")) for r in records})  # any JSON value, hashable
    out.append(f"{len(records)} record(s) from {runs} plan(s); {lines} line(s) read.")
    return terminal_text("\n".join(out) + "\n")


def _clip(text: str, width: int = 200) -> str:
    one = " ".join(text.split())
    return one if len(one) <= width else one[: width - 1] + "…"


def audit_json(records: Sequence[dict[str, Any]]) -> str:
    return json.dumps({"records": list(records)}, indent=2, ensure_ascii=False) + "\n"


def audit_csv(records: Sequence[dict[str, Any]]) -> str:
    return csv_text(AUDIT_COLUMNS, [audit_fields(r) for r in records])
