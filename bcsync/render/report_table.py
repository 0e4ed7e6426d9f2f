"""The access report's columns, shared by its text, Markdown, CSV and HTML views. Pure."""

from __future__ import annotations

from collections.abc import Sequence

from bcsync.auditor.access import BC_ASSET, AccessReport, AccessRow, BCSummary, Status

ASSET_TYPE_LABELS = {
    BC_ASSET: "business center",
    "ad_accounts": "ad account",
    "catalogs": "catalog",
    "tiktok_accounts": "TikTok account",
    "shops": "shop",
    "storefronts": "storefront",
    "lead_forms": "lead form",
    "pixels": "pixel",
}


def _asset(row: AccessRow) -> str:
    if row.asset_name != row.asset_id:
        return f"{row.asset_name} ({row.asset_id})"
    return row.asset_id


HEADERS: Sequence[str] = (
    "Business Center",
    "Kind",
    "Who",
    "Asset type",
    "Asset",
    "Role (config)",
    "Role (BC)",
    "Status",
    "Source",
    "Expires",
    "Reason",
    "Note",
)


def cells(row: AccessRow) -> list[str]:
    """One row's cells in HEADERS order (one place decides what a row shows)."""
    # Kind and Status are StrEnums: already strings, and `.value` is slow on 100,000 rows.
    return [
        row.bc_name,
        row.kind,
        row.principal_name,
        ASSET_TYPE_LABELS.get(row.asset_type, row.asset_type),
        _asset(row),
        row.role or "",
        row.actual_role or "",
        row.status,
        "; ".join(row.sources),
        row.expires.isoformat() if row.expires else "",
        row.reason or "",
        row.note or "",
    ]


def summary_line(report: AccessReport) -> str:
    """One sentence: how many rows, from where, and how many differences."""
    mode = "from the config alone (offline)" if report.offline else "config compared with the BC"
    text = (
        f"{len(report.rows)} access entr{'y' if len(report.rows) == 1 else 'ies'} in "
        f"{len(report.bcs)} Business Center(s), {mode}, as of {report.as_of}"
    )
    if report.offline:
        return text + "."
    counts = report.counts()
    parts = [f"{counts[s.value]} {s.value}" for s in Status if counts.get(s.value)]
    return f"{text}: {', '.join(parts)}."


def unmanaged_line(bc: BCSummary) -> str | None:
    """The BC's assets its config does not declare, by name."""
    if not bc.read or not bc.unmanaged_assets:
        return None
    count = len(bc.unmanaged_assets)
    names = ", ".join(
        f"{ASSET_TYPE_LABELS.get(a.key.type.value, a.key.type.value)} "
        + (f"{a.name} ({a.key.id})" if a.name else a.key.id)
        for a in bc.unmanaged_assets
    )
    return f"{count} asset(s) in the BC are not declared in {bc.path}: {names}"


def provenance_lines(report: AccessReport) -> list[tuple[str, str]]:
    """(label, value) pairs saying where the report comes from: commit, tool, each BC's read."""
    p = report.provenance
    out: list[tuple[str, str]] = []
    if p is not None:
        out.append(("Generated", f"{p.generated_at} by bcsync {p.tool_version}"))
        if p.git_commit is None:
            commit = "not in a git checkout"
        else:
            state = {True: "uncommitted changes in the checkout", False: "clean checkout"}
            dirty = state[p.git_dirty] if p.git_dirty is not None else "checkout state unknown"
            commit = f"{p.git_commit} ({dirty})"
        out.append(("Commit", commit))
    out.append(("Expiry evaluated as of", report.as_of.isoformat()))
    for bc in report.bcs:
        read = (
            f"read {bc.read_at} from {bc.read_via}"
            if bc.read
            else "offline: the BC was not read (config alone)"
        )
        digest = f", digest {bc.digest}" if bc.digest else ""
        out.append((f"{bc.bc_name} ({bc.bc_id})", f"config {bc.path}{digest}; {read}"))
    return out
