"""Reading the ledger of applied changes from the audit log (the I/O half of bcsync.loop.applied).

Which successes count: every one recorded under a reviewed plan being applied again (`digests`),
whenever it happened, and any other within `window` seconds of `now` (the settle time: after that
a read is trusted to show what was applied). The log is the one apply writes, wherever it lives
(`--audit-log FILE`, or `.bcsync/audit.jsonl` beside the config); a missing log is an empty
ledger, damaged lines are skipped as `bcsync audit` skips them.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from pathlib import Path

from bcsync.auditor.auditquery import read_records, record_time
from bcsync.loop.applied import Applied, Ledger, identity


def load(path: Path, *, now: datetime, window: float, digests: Collection[str] = ()) -> Ledger:
    """The successes in the audit log at PATH that count now (see the module docstring).

    A success that a later read confirmed (a `confirmed` record) counts only for its reviewed
    plan: once a read has shown it, a plan that finds it undone is looking at a change made by
    hand since, not at a read that lags.
    """
    if not path.is_file():
        return Ledger()
    made: dict[str, Applied] = {}
    seen: dict[str, datetime] = {}
    for record in read_records(path):
        change, result = record.get("change"), record.get("result")
        when, digest = record_time(record), str(record.get("plan_digest") or "")
        if not isinstance(change, dict) or when is None:
            continue
        key = identity(str(record.get("bc_id")), change)
        if result == "confirmed":
            seen[key] = max(when, seen.get(key, when))
        elif result == "succeeded" and (key not in made or made[key].at <= when):
            made[key] = Applied(when, digest)
    entries = {}
    for key, applied in made.items():
        reviewed = applied.plan_digest in digests
        recent = 0 <= (now - applied.at).total_seconds() <= window
        unconfirmed = key not in seen or seen[key] < applied.at
        if reviewed or (recent and unconfirmed):
            entries[key] = applied
    return Ledger(entries)
