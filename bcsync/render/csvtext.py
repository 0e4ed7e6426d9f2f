"""CSV for spreadsheets: the one writer every CSV view uses, with formulas neutralised.

A value read from the BC, the config or git (a partner's name, a commit subject) may start with
`=`, `+`, `-` or `@`; a spreadsheet would run it as a formula (CSV injection), so such a cell
gets a leading apostrophe.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: str) -> str:
    """The value as a spreadsheet shows it, never as a formula."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def csv_text(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A header line and one line per row; None is an empty cell."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if value is None else safe_cell(str(value)) for value in row])
    return buffer.getvalue()
