"""The access report as aligned text (terminal) and as Markdown tables. Pure."""

from __future__ import annotations

from collections.abc import Iterable

from bcsync.access import AccessReport, AccessRow
from bcsync.render.markdown import escape
from bcsync.render.report_table import HEADERS, cells, summary_line, unmanaged_line
from bcsync.render.text import terminal_text

# The text and Markdown views leave out the BC column (cells[0]): rows sit under their BC.


def _rows_of(report: AccessReport, bc_id: str) -> list[AccessRow]:
    return [r for r in report.rows if r.bc_id == bc_id]


def _aligned(table: list[list[str]]) -> Iterable[str]:
    widths = [max(map(len, column)) for column in zip(*table, strict=True)]
    line = "  ".join(f"{{:<{w}}}" for w in widths)
    for row in table:
        yield line.format(*row).rstrip()


def render_text(report: AccessReport) -> str:
    """One table per BC, its unmanaged assets under it, the summary last."""
    out: list[str] = []
    for bc in report.bcs:
        out.append(f"{bc.bc_name} ({bc.bc_id}) from {bc.path}")
        rows = _rows_of(report, bc.bc_id)
        table = [list(HEADERS[1:])]
        table += [cells(r)[1:] for r in rows]
        out.extend("  " + line for line in _aligned(table))
        note = unmanaged_line(bc)
        if note:
            out.append(f"  Unmanaged: {note}")
        out.append("")
    out.append(summary_line(report))
    return terminal_text("\n".join(out) + "\n")


def render_markdown(report: AccessReport) -> str:
    """Summary first, then one Markdown table per BC."""
    out = ["## bcsync access report", "", escape(summary_line(report)), ""]
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
        out.append("")
    return "\n".join(out)
