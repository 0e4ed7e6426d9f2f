"""The access report for tools: a JSON document and CSV. Pure (strings in memory)."""

from __future__ import annotations

import json
from typing import Any

from bcsync.auditor.access import AccessReport, AccessRow, BCSummary
from bcsync.render.csvtext import csv_text
from bcsync.render.report_table import HEADERS, cells, provenance_lines

REPORT_FORMAT_VERSION = 1


def row_json(row: AccessRow) -> dict[str, Any]:
    """One row as JSON: every field, dates as ISO strings."""
    return {
        "bc_id": row.bc_id,
        "bc_name": row.bc_name,
        "kind": row.kind.value,
        "principal": row.principal,
        "principal_name": row.principal_name,
        "asset_type": row.asset_type,
        "asset_id": row.asset_id,
        "asset_name": row.asset_name,
        "role": row.role,
        "actual_role": row.actual_role,
        "status": row.status.value,
        "sources": list(row.sources),
        "expires": row.expires.isoformat() if row.expires else None,
        "reason": row.reason,
        "note": row.note,
    }


def _bc_json(bc: BCSummary) -> dict[str, Any]:
    return {
        "bc_id": bc.bc_id,
        "name": bc.bc_name,
        "config": bc.path,
        "config_digest": bc.digest or None,
        "read": bc.read,
        "read_at": bc.read_at,
        "read_via": bc.read_via,
        "unmanaged_assets_count": len(bc.unmanaged_assets),
        "unmanaged_assets": [
            {"type": a.key.type.value, "id": a.key.id, "name": a.name} for a in bc.unmanaged_assets
        ],
    }


def _provenance_json(report: AccessReport) -> dict[str, Any] | None:
    p = report.provenance
    if p is None:
        return None
    return {
        "tool": "bcsync",
        "tool_version": p.tool_version,
        "generated_at": p.generated_at,
        "git_commit": p.git_commit,
        "git_dirty": p.git_dirty,
        "bc_read": "offline" if report.offline else "live",
    }


def document(report: AccessReport) -> dict[str, Any]:
    """The whole report as one JSON-ready document."""
    return {
        "format_version": REPORT_FORMAT_VERSION,
        "as_of": report.as_of.isoformat(),
        "offline": report.offline,
        "provenance": _provenance_json(report),
        "summary": report.counts(),
        "business_centers": [_bc_json(bc) for bc in report.bcs],
        "rows": [row_json(r) for r in report.rows],
        # Partners' assets shared with these BCs: read-only, a section of its own.
        "incoming": [row_json(r) for r in report.incoming],
    }


def render_json(report: AccessReport) -> str:
    """The document with one row per line: readable, diffable, and C-encoded (100,000 rows)."""
    doc = document(report)
    rows = doc.pop("rows")
    incoming = doc.pop("incoming")
    doc["incoming"] = incoming  # before the rows: `rows` stays the last key
    head = json.dumps(doc, indent=2, ensure_ascii=False)
    dump = json.JSONEncoder(ensure_ascii=False).encode
    body = ",\n    ".join(dump(r) for r in rows)
    return head[:-2] + (
        f',\n  "rows": [\n    {body}\n  ]\n}}\n' if rows else ',\n  "rows": []\n}\n'
    )


def render_csv(report: AccessReport) -> str:
    """Provenance as `#` comment lines, then one header line and one line per row; BC id and
    asset id as their own columns for joins (pandas: `comment="#"`)."""
    head = "".join(
        "# " + " ".join(f"{label}: {value}".split()) + "\n"
        for label, value in provenance_lines(report)
    )
    # Incoming rows follow, Kind "incoming": one table, so joins and filters see them too.
    every = [*report.rows, *report.incoming]
    rows = ([row.bc_id, *cells(row), row.asset_id] for row in every)
    return head + csv_text(["BC id", *HEADERS, "Asset id"], rows)
