"""Reading your own writes: a reviewed plan applies once, and apply confirms what it made.

TikTok promises nothing about read-after-write consistency, and services of its size answer reads
from copies that catch up seconds after a write. Two consequences for the loop in reconcile:

- Before reading: a reviewed plan whose every change the audit log records as made is "already
  applied" and nothing is read or sent, whatever a read would show (`already_applied`).
- After writing: apply reads back only what it changed (a scoped read of the members and partners
  its changes touched), with backoff, until every change it made is visible or the settle time
  passes (`confirm_visible`). A change still unseen then is reported "applied, not yet visible"
  (exit 5): it was made (its write was answered), but a plan made now would not show it yet; the
  ledger (bcsync.loop.applied) keeps such a plan from making it again.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bcsync.core.change import Change, Kind
from bcsync.core.plan import Plan, checksum_of
from bcsync.git.changed import ChangedScope
from bcsync.loop.applied import Ledger
from bcsync.loop.apply import ApplyResult, Outcome, audit_record
from bcsync.loop.reconcile import PlannedBC, Reviewed, plan_one
from bcsync.providers.base import Provider

FIRST_DELAY = 0.5
MAX_DELAY = 10.0


def reviewed_digests(reviewed: Reviewed | None) -> dict[str, str]:
    """Each reviewed BC's plan checksum (what its audit records name), by BC id."""
    if reviewed is None:
        return {}
    return {p.bc_id: p.checksum() for p in _sealed(reviewed)}


def already_applied(reviewed: Reviewed | None, ledger: Ledger) -> datetime | None:
    """When the reviewed plans were last made in full, by the ledger; None if any change is not.

    Only a sealed plan counts (its checksums are its content's, and none of it was refused):
    anything else goes on to the full check, which says what is wrong with it.
    """
    plans = _sealed(reviewed) if reviewed is not None else []
    times = [ledger.all_applied(p.bc_id, p.changes) for p in plans]
    if not plans or any(t is None for t in times):
        return None
    return max(t for t in times if t is not None)


def _sealed(reviewed: Reviewed) -> list[Plan]:
    try:
        plans = [Plan.from_json(body) for body in reviewed.plans]
    except (KeyError, TypeError, ValueError):
        return []
    bodies_sealed = all(
        body.get("checksum") == plan.checksum() and not body.get("refusals")
        for body, plan in zip(reviewed.plans, plans, strict=True)
    )
    content = checksum_of(plans)
    if not bodies_sealed or any(c != content for c in reviewed.checksums):
        return []
    return plans


@dataclass(frozen=True, slots=True)
class Visibility:
    """After an apply: which of the changes it made a read confirms, and how long it waited."""

    bc_id: str
    confirmed: tuple[Change, ...]
    not_visible: tuple[Change, ...]
    waited: float
    reads: int

    @property
    def settled(self) -> bool:
        return not self.not_visible


def scope_of(changes: Sequence[Change]) -> ChangedScope:
    """The members and partners a set of changes touched: what reading them back needs."""
    members = {c.target.email for c in changes if c.kind in (Kind.MEMBER, Kind.GRANT)}
    partners = {c.target.partner for c in changes if c.kind in (Kind.PARTNER, Kind.SHARE)}
    return ChangedScope(
        members=frozenset(m for m in members if m),
        partners=frozenset(p for p in partners if p),
        base="read back after apply",
    )


def made(result: ApplyResult) -> list[Change]:
    """The changes an apply made (their writes were answered as done)."""
    return [
        change
        for res in result.results.values()
        if res.outcome is Outcome.SUCCEEDED
        for change in res.changes
        if change.is_change
    ]


async def confirm_visible(
    planned: Sequence[PlannedBC],
    results: Sequence[ApplyResult],
    providers: Mapping[str, Provider],
    *,
    timeout: float,
    sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> list[Visibility]:
    """Read back each BC's changes until a fresh plan no longer makes them, or `timeout` passes."""
    by_bc = {p.plan.bc_id: p for p in planned}
    return list(
        await asyncio.gather(
            *(
                _confirm(
                    by_bc[r.plan.bc_id], made(r), providers[r.plan.bc_id], timeout, sleep, clock
                )
                for r in results
            )
        )
    )


async def _confirm(
    planned: PlannedBC,
    changes: list[Change],
    provider: Provider,
    timeout: float,
    sleep: Callable[[float], Awaitable[Any]],
    clock: Callable[[], float],
) -> Visibility:
    bc_id = planned.plan.bc_id
    if not changes or timeout <= 0:
        return Visibility(bc_id, (), tuple(changes) if timeout <= 0 else (), 0.0, 0)
    scope = scope_of(changes)
    started, delay, reads = clock(), FIRST_DELAY, 0
    unseen = changes
    while True:
        fresh = await plan_one(planned.config, provider, scope=scope)
        reads += 1
        pending = {c.id for c in fresh.plan.changes if c.is_change}
        unseen = [c for c in unseen if c.id in pending]
        waited = clock() - started
        if not unseen or waited >= timeout:
            break
        await sleep(min(delay, max(0.0, timeout - waited)))
        delay = min(delay * 2, MAX_DELAY)
    confirmed = tuple(c for c in changes if c not in unseen)
    return Visibility(bc_id, confirmed, tuple(unseen), round(clock() - started, 3), reads)


def visibility_records(
    result: ApplyResult, seen: Visibility, digest: str | None
) -> list[dict[str, object]]:
    """One audit record per change an apply made: confirmed by a read, or not visible yet."""
    records = []
    checksum = digest or result.plan.checksum()
    for res in result.results.values():
        for change in res.changes:
            if change in seen.confirmed:
                outcome, note = "confirmed", f"a read shows it ({seen.waited:g} s after apply)"
            elif change in seen.not_visible:
                outcome, note = "not_visible", f"applied, not yet visible after {seen.waited:g} s"
            else:
                continue
            record = audit_record(result.plan, checksum, res, change)
            records.append({**record, "result": outcome, "note": note, "request_ids": []})
    return records
