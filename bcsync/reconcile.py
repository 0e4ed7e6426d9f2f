"""The reconcile loop as a library: read every BC, plan, check, apply (the CLI is thin).

Every BC in a run is read concurrently through providers that share one rate limiter per app.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import filelock
from deepdiff import DeepDiff

from bcsync import safety
from bcsync.apply import ApplyResult, ProgressCallback, execute
from bcsync.audit import AuditLog
from bcsync.diff import make_plan
from bcsync.errors import LockHeldError, StalePlanError
from bcsync.model import BusinessCenterConfig
from bcsync.plan import Change, Plan
from bcsync.providers import Scope
from bcsync.providers.base import Provider, ReadResult


@dataclass
class PlannedBC:
    """One BC's plan with what it was made from."""

    config: BusinessCenterConfig
    read: ReadResult
    plan: Plan
    violations: list[str] = field(default_factory=list)


async def plan_one(
    config: BusinessCenterConfig, provider: Provider, *, allow_removals: bool = False
) -> PlannedBC:
    read = await provider.read_state(Scope.of_state(config.desired))
    plan = make_plan(config, read.state, unmanaged_assets=read.unmanaged_assets)
    problems = safety.violations(plan, config, read.state, allow_removals=allow_removals)
    return PlannedBC(config, read, plan, problems)


async def plan_all(
    configs: Sequence[BusinessCenterConfig],
    providers: Mapping[str, Provider],
    *,
    allow_removals: bool = False,
) -> list[PlannedBC]:
    """Plan every BC, reading them concurrently."""
    return list(
        await asyncio.gather(
            *(plan_one(c, providers[c.bc_id], allow_removals=allow_removals) for c in configs)
        )
    )


@contextlib.contextmanager
def bc_lock(state_dir: Path, bc_id: str, timeout: float = 5.0) -> Iterator[None]:
    """One advisory lock per BC on this machine; a second apply waits briefly, then refuses."""
    lock_dir = state_dir / "locks"
    lock_dir.mkdir(parents=True, exist_ok=True)
    lock = filelock.FileLock(str(lock_dir / f"{bc_id}.lock"))
    try:
        lock.acquire(timeout=timeout)
    except filelock.Timeout as exc:
        raise LockHeldError(
            f"another bcsync apply holds the lock for Business Center {bc_id} "
            f"({lock_dir / (bc_id + '.lock')}); waited {timeout:g}s",
            hint="wait for it to finish, then run plan again",
        ) from exc
    try:
        yield
    finally:
        lock.release()


@contextlib.contextmanager
def locks(state_dir: Path, bc_ids: Sequence[str], timeout: float = 5.0) -> Iterator[None]:
    with contextlib.ExitStack() as stack:
        for bc_id in sorted(set(bc_ids)):
            stack.enter_context(bc_lock(state_dir, bc_id, timeout))
        yield


def stale_reason(saved: Plan, fresh: Plan) -> str:
    """What changed between a saved plan and a fresh one, for the stale-plan refusal."""
    old = {c.id: c for c in saved.changes if c.is_change}
    new = {c.id: c for c in fresh.changes if c.is_change}
    lines = []
    for cid in sorted(new.keys() - old.keys())[:10]:
        lines.append(f"now also needed: {new[cid].title} ({new[cid].action.value})")
    for cid in sorted(old.keys() - new.keys())[:10]:
        lines.append(f"no longer needed: {old[cid].title} ({old[cid].action.value})")
    for cid in sorted(old.keys() & new.keys()):
        fields = _field_changes(old[cid], new[cid])
        if fields:
            lines.append(f"changed: {new[cid].title} ({fields})")
        if len(lines) >= 20:
            break
    if not lines:
        lines.append("the Business Center changed in ways this plan does not touch")
    return "\n  - ".join(["", *lines])


def _field_changes(old: Change, new: Change) -> str:
    """Which fields of a change differ between two plans: "after.role: 'analyst' → 'admin'"."""
    keep = ("action", "before", "after", "target")
    a = {k: v for k, v in old.to_json().items() if k in keep}
    b = {k: v for k, v in new.to_json().items() if k in keep}
    found = DeepDiff(a, b, ignore_order=True)
    parts = []
    for kind in ("values_changed", "type_changes"):
        for path, delta in found.get(kind, {}).items():
            parts.append(f"{_dotted(path)}: {delta['old_value']!r} → {delta['new_value']!r}")
    for kind, verb in (("dictionary_item_added", "added"), ("dictionary_item_removed", "removed")):
        parts.extend(f"{_dotted(path)} {verb}" for path in found.get(kind, []))
    return "; ".join(parts)


def _dotted(path: str) -> str:
    """deepdiff's "root['after']['role']" as "after.role"."""
    return path.removeprefix("root").replace("']['", ".").strip("[]'")


def check_fresh(saved: Plan, planned: PlannedBC) -> None:
    """Refuse a saved plan whose config or BC changed since it was made."""
    name = saved.bc_name or saved.bc_id
    if saved.config_digest and saved.config_digest != planned.config.digest:
        raise StalePlanError(
            f"the saved plan for {name} is stale: {planned.config.path} changed since it was made",
            hint="run `bcsync plan --out FILE` again and review the new plan",
        )
    if saved.actual_fingerprint != planned.read.state.fingerprint():
        raise StalePlanError(
            f"the saved plan for {name} is stale: the Business Center changed since it was "
            f"made{stale_reason(saved, planned.plan)}",
            hint="run `bcsync plan --out FILE` again and review the new plan",
        )


async def apply_planned(
    planned: Sequence[tuple[Plan, Provider]],
    *,
    audit: AuditLog,
    concurrency: int = 8,
    on_step: ProgressCallback | None = None,
) -> list[ApplyResult]:
    """Apply several BCs' plans concurrently (they share the per-app rate limiter)."""
    return list(
        await asyncio.gather(
            *(
                execute(plan, provider, audit=audit, concurrency=concurrency, on_step=on_step)
                for plan, provider in planned
            )
        )
    )
