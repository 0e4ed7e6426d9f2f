"""CSV for spreadsheets: the one writer every CSV view uses, with formulas neutralised.

A value read from the BC, the config or git (a partner's name, a commit subject) may start with
`=`, `+`, `-` or `@`; a spreadsheet would run it as a formula (CSV injection), so such a cell
gets a leading apostrophe. Spreadsheets skip what comes first to find a formula: spaces, a
no-break space, tabs, line breaks, zero-width characters; so does this check. The full-width
forms (＝ ＋ － ＠) are treated like the ASCII ones, since some spreadsheets fold them.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

FORMULA_STARTS = ("=", "+", "-", "@", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def _skipped(ch: str) -> bool:
    """Characters a spreadsheet may pass over before a formula: white space, controls, format
    and other invisible characters (whatever `str.isprintable` calls unprintable)."""
    return ch.isspace() or not ch.isprintable()


def safe_cell(value: str) -> str:
    """The value as a spreadsheet shows it, never as a formula."""
    start = 0
    while start < len(value) and _skipped(value[start]):
        start += 1
    evaluated = value.startswith(FORMULA_STARTS, start) or value.startswith(("\t", "\r"))
    return "'" + value if evaluated else value


def csv_text(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A header line and one line per row; None is an empty cell."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if value is None else safe_cell(str(value)) for value in row])
    return buffer.getvalue()
