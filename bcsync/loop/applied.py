"""What the audit log says was applied: the ledger that keeps a reviewed plan from running twice.

TikTok promises no read-after-write consistency: for a while after an apply, a read can still show
the old state, and a plan made from it would send every change again. The audit log records each
change attempt with the plan it belonged to and its outcome, so it is also the ledger of what was
applied. Pure: `bcsync.loop.ledger` reads the log into a `Ledger`; plan and reconcile consult it.

A change counts as applied when the ledger holds a success of the very same change (same BC, id,
action, key, before and after): under the reviewed plan being applied, at any time, or under any
plan within the settle window (see ledger.load).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from bcsync.core.change import Action, Change, NoopCause


@dataclass(frozen=True, slots=True)
class Applied:
    """One recorded success: when, and under which plan (its checksum)."""

    at: datetime
    plan_digest: str


def identity(bc_id: str, change: Mapping[str, Any]) -> str:
    """A change as the ledger knows it: everything that says what it does, nothing said about it."""
    keys = ("id", "action", "kind", "key", "before", "after")
    return json.dumps([bc_id, *(change.get(k) for k in keys)], sort_keys=True, default=str)


@dataclass(frozen=True)
class Ledger:
    """Successes by change identity (the latest of each)."""

    entries: Mapping[str, Applied] = field(default_factory=dict)

    def applied(self, bc_id: str, change: Change) -> Applied | None:
        """When `change` of `bc_id` was recorded as applied, or None."""
        return self.entries.get(identity(bc_id, change.to_json())) if change.is_change else None

    def all_applied(self, bc_id: str, changes: Iterable[Change]) -> datetime | None:
        """The time of the last of `changes` applied, if every change among them was; else None."""
        made = [c for c in changes if c.is_change]
        found = [self.applied(bc_id, c) for c in made]
        if not made or any(f is None for f in found):
            return None
        return max(f.at for f in found if f is not None)


def settle(bc_id: str, changes: Iterable[Change], ledger: Ledger) -> tuple[Change, ...]:
    """The changes, with each one the ledger holds as applied turned into an explained no-op.

    Its read has not caught up yet: sending it again would repeat it (a second invitation email,
    or a removal answered "not found"), so it is shown as "applied at T, not yet visible".
    """
    out = []
    for change in changes:
        done = ledger.applied(bc_id, change)
        if done is None:
            out.append(change)
            continue
        out.append(
            replace(
                change,
                action=Action.NOOP,
                cause=NoopCause.APPLIED_NOT_VISIBLE,
                reason=f"applied at {done.at:%Y-%m-%d %H:%M:%S} UTC, not yet visible",
            )
        )
    return tuple(out)
