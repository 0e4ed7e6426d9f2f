"""The access report as text (terminal, wrapped to a width) and as Markdown tables. Pure.

The text view keeps the key columns (who, asset, roles, status) in an aligned table fitted to
the width (a terminal's, or 100 columns when piped), cells wrapped inside their column, and
puts each row's details (kind, source, expiry, reason, note) on a wrapped line under it.
"""

from __future__ import annotations

import functools
import textwrap
from collections.abc import Iterable, Sequence

from bcsync.auditor.access import BC_ASSET, AccessReport, AccessRow, Kind
from bcsync.render.markdown import escape
from bcsync.render.report_table import (
    ASSET_TYPE_LABELS,
    HEADERS,
    cells,
    provenance_lines,
    summary_line,
    unmanaged_line,
)
from bcsync.render.text import terminal_text

TEXT_WIDTH = 100  # when the output is not a terminal
MIN_COLUMN = 8
INDENT = "  "

# The text and Markdown views leave out the BC column (cells[0]): rows sit under their BC.


def _rows_of(report: AccessReport, bc_id: str) -> list[AccessRow]:
    return [r for r in report.rows if r.bc_id == bc_id]


def _incoming_of(report: AccessReport, bc_id: str) -> list[AccessRow]:
    return [r for r in report.incoming if r.bc_id == bc_id]


@functools.lru_cache(maxsize=1024)
def _role(role: str | None) -> str:
    """A permission set wraps at its commas: "direct_message, live, post"."""
    return role.replace(",", ", ").replace(",  ", ", ") if role else ""


def _key_cells(row: AccessRow, live: bool) -> list[str]:
    what = ASSET_TYPE_LABELS.get(row.asset_type, row.asset_type)
    asset = what if row.asset_type == BC_ASSET else f"{what} {row.asset_name}"
    out = [row.principal_name, asset, _role(row.role)]
    if live:
        out.append(_role(row.actual_role))
    out.append(row.status)
    return out


def _details(row: AccessRow) -> str:
    parts = []
    if row.kind is Kind.PARTNER:
        parts.append("partner")
    if row.sources:
        parts.append("from " + "; ".join(row.sources))
    if row.expires:
        parts.append(f"expires {row.expires.isoformat()}")
    if row.reason:
        parts.append(f"reason: {row.reason}")
    if row.note:
        parts.append(row.note)
    return "; ".join(parts)


def _widths(table: Sequence[Sequence[str]], width: int) -> tuple[list[int], bool]:
    """Column widths that fit `width` (two spaces apart): the widest shrink first, down to their
    longest word (an email is not split while anything else can give), then further. And
    whether no column had to shrink."""
    columns = range(len(table[0]))
    # Cells repeat (roles, statuses, assets): measure each distinct value once.
    values = [{row[i] for row in table} for i in columns]
    widths = [max(map(len, v)) for v in values]
    words = [
        min(widths[i], max(len(w) for v in values[i] for w in v.split() or [""])) for i in columns
    ]
    room = width - 2 * (len(widths) - 1)
    natural = sum(widths) <= room
    for floor in (words, [min(MIN_COLUMN, w) for w in widths]):
        while sum(widths) > room:
            able = [i for i in columns if widths[i] > floor[i]]
            if not able:
                break
            widths[max(able, key=widths.__getitem__)] -= 1
    return widths, natural


def _wrap(text: str, width: int) -> list[str]:
    if len(text) <= width:  # most cells: textwrap costs 20 s over 150,000 rows
        return [text]
    return _wrapped(text, width)


@functools.lru_cache(maxsize=4096)
def _wrapped(text: str, width: int) -> list[str]:
    return textwrap.wrap(text, width, break_on_hyphens=False) or [""]


def fitted(table: Sequence[Sequence[str]], width: int) -> list[list[str]]:
    """Each row of cells as aligned lines within `width`; a long cell wraps inside its column."""
    widths, natural = _widths(table, width)
    line = "  ".join(f"{{:<{w}}}" for w in widths)
    out = []
    for row in table:
        # Nothing shrunk: every row is one line (cheap at 100,000 rows).
        if natural or all(len(c) <= w for c, w in zip(row, widths, strict=True)):
            out.append([line.format(*row).rstrip()])
            continue
        wrapped = [_wrap(cell, w) for cell, w in zip(row, widths, strict=True)]
        lines = []
        for i in range(max(map(len, wrapped))):
            parts = [c[i] if i < len(c) else "" for c in wrapped]
            lines.append(line.format(*parts).rstrip())
        out.append(lines)
    return out


def _block(title: str, pairs: Iterable[tuple[str, str]], width: int) -> list[str]:
    out = [title]
    for label, value in pairs:
        out += textwrap.wrap(
            f"{label}: {value}",
            width,
            initial_indent=INDENT,
            subsequent_indent=INDENT * 3,
            break_on_hyphens=False,
        )
    return out


# The incoming section: partners' assets this BC reaches; the partner, not bcsync, decides.
INCOMING_TITLE = "Shared with this BC by partners (incoming; only the partner can change these):"
INCOMING_HEADERS = ("Shared by", "Asset", "Expected role", "Role (BC)", "Status")


def _table(
    rows: Sequence[AccessRow], headers: Sequence[str], live: bool, width: int, detail_width: int
) -> list[str]:
    """Aligned rows under their headers, each row's details on a wrapped line under it."""
    out = []
    table = [list(headers), *(_key_cells(r, live) for r in rows)]
    head, *body = fitted(table, width - len(INDENT))
    out += [INDENT + line for line in head]
    for row, lines in zip(rows, body, strict=True):
        out += [INDENT + line for line in lines]
        details = _details(row)
        if details:
            out += [INDENT * 3 + line for line in _wrap(details, detail_width)]
    return out


def render_text(report: AccessReport, width: int = TEXT_WIDTH) -> str:
    """Provenance, then one table per BC (details under each row), unmanaged assets, summary."""
    out = [*_block("Provenance", provenance_lines(report), width), ""]
    live = not report.offline
    headers = ["Who", "Asset", "Role (config)", *(["Role (BC)"] if live else []), "Status"]
    detail_width = max(width - 6, 20)
    for bc in report.bcs:
        out.append(f"{bc.bc_name} ({bc.bc_id}) from {bc.path}")
        out += _table(_rows_of(report, bc.bc_id), headers, live, width, detail_width)
        note = unmanaged_line(bc)
        if note:
            out += textwrap.wrap(
                f"Unmanaged: {note}", width, initial_indent=INDENT, subsequent_indent=INDENT * 2
            )
        incoming = _incoming_of(report, bc.bc_id)
        if incoming:
            out.append(f"{INDENT}{INCOMING_TITLE}")
            shown = [h for h in INCOMING_HEADERS if live or h != "Role (BC)"]
            out += _table(incoming, shown, live, width, detail_width)
        out.append("")
    out += textwrap.wrap(summary_line(report), width)
    return terminal_text("\n".join(out) + "\n")


def render_markdown(report: AccessReport) -> str:
    """Summary and provenance first, then one Markdown table per BC."""
    out = ["## bcsync access report", "", escape(summary_line(report)), "", "**Provenance**", ""]
    out += [f"- {escape(label)}: {escape(value)}" for label, value in provenance_lines(report)]
    out.append("")
    for bc in report.bcs:
        out += [f"### {escape(bc.bc_name)} ({escape(bc.bc_id)})", "", f"Config: `{bc.path}`", ""]
        headers = HEADERS[1:]
        out.append("| " + " | ".join(headers) + " |")
        out.append("|" + "---|" * len(headers))
        # Most cells repeat (roles, names, statuses): escape each distinct value once.
        escaped: dict[str, str] = {}
        for row in _rows_of(report, bc.bc_id):
            line = [escaped.get(c) or escaped.setdefault(c, escape(c)) for c in cells(row)[1:]]
            out.append("| " + " | ".join(line) + " |")
        note = unmanaged_line(bc)
        if note:
            out += ["", f"**Unmanaged:** {escape(note)}"]
        incoming = _incoming_of(report, bc.bc_id)
        if incoming:
            out += ["", f"#### {escape(INCOMING_TITLE.rstrip(':'))}", ""]
            out.append("| " + " | ".join(HEADERS[1:]) + " |")
            out.append("|" + "---|" * len(HEADERS[1:]))
            out += ["| " + " | ".join(escape(c) for c in cells(r)[1:]) + " |" for r in incoming]
        out.append("")
    return "\n".join(out)
