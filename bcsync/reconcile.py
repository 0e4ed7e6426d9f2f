"""The reconcile loop as a library: read every BC, plan, decide what may run, apply.

What runs is always a plan made just now from the config and a fresh read of the BC. A saved
plan file or a `--checksum` does not say what to run; it says what was reviewed, and apply goes
ahead only when the fresh plan is that plan, change for change and step for step. The guards
then refuse, once, anything unsafe in the very steps that will execute. The CLI only parses,
prompts, shows progress and renders.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import filelock
from deepdiff import DeepDiff

from bcsync.apply import ApplyResult, ProgressCallback, execute
from bcsync.audit import AuditLog
from bcsync.changed import ChangedScope
from bcsync.errors import LockHeldError, ProviderError, StalePlanError
from bcsync.model import BusinessCenterConfig, State
from bcsync.plan import Plan, checksum_of, make_plan, raise_if_refused
from bcsync.providers import Scope
from bcsync.providers.base import Provider, ReadResult

# BCs read at once by plan_each: the rate limiter sets the pace whatever the number, and each
# BC's own reads already run concurrently; more would only hold more states in memory.
BCS_AT_ONCE = 4
REPLAN_HINT = "run `bcsync plan --out FILE` again, review the new plan, and apply that"


@dataclass(frozen=True)
class PlannedBC:
    """One BC's plan with what it was made from."""

    config: BusinessCenterConfig
    read: ReadResult
    plan: Plan


async def plan_one(
    config: BusinessCenterConfig,
    provider: Provider,
    *,
    allow_removals: bool = False,
    scope: ChangedScope | None = None,
) -> PlannedBC:
    """Read one BC (only `scope`'s members and partners, if given) and plan it."""
    wanted = Scope.of_state(config.desired)
    if scope is not None:  # `--changed`: a narrowed read, a plan of that scope only
        wanted = replace(wanted, members=scope.members, partners=scope.partners)
    read = await provider.read_state(wanted)
    plan = make_plan(
        config,
        read.state,
        unmanaged_assets=read.unmanaged_assets,
        allow_removals=allow_removals,
        scope=scope,
        unread_members=read.unread_members,
    )
    return PlannedBC(config, read, plan)


async def plan_all(
    configs: Sequence[BusinessCenterConfig],
    providers: Mapping[str, Provider],
    *,
    allow_removals: bool = False,
    scopes: Mapping[str, ChangedScope | None] | None = None,
) -> list[PlannedBC]:
    """Plan every BC, reading them concurrently; `scopes` narrows some BCs (by BC id)."""
    scoped = scopes or {}
    return list(
        await asyncio.gather(
            *(
                plan_one(
                    c, providers[c.bc_id], allow_removals=allow_removals, scope=scoped.get(c.bc_id)
                )
                for c in configs
            )
        )
    )


@dataclass(frozen=True)
class FailedBC:
    """A BC that could not be read or planned, and why."""

    config: BusinessCenterConfig
    error: ProviderError

    @property
    def name(self) -> str:
        return (
            f"{self.config.name} ({self.config.bc_id})" if self.config.name else self.config.bc_id
        )


async def plan_each(
    configs: Sequence[BusinessCenterConfig],
    providers: Mapping[str, Provider],
    *,
    allow_removals: bool = False,
    scopes: Mapping[str, ChangedScope | None] | None = None,
) -> tuple[list[PlannedBC], list[FailedBC]]:
    """Plan every BC, a few at a time; one that fails is set aside and the others go on.

    The plans keep what reading cost but not the state read, and at most BCS_AT_ONCE states are
    held at once: a hundred BCs cost memory like their few largest, not like their sum.
    """
    scoped = scopes or {}
    room = asyncio.Semaphore(BCS_AT_ONCE)

    async def one(config: BusinessCenterConfig) -> PlannedBC | FailedBC:
        async with room:
            try:
                planned = await plan_one(
                    config,
                    providers[config.bc_id],
                    allow_removals=allow_removals,
                    scope=scoped.get(config.bc_id),
                )
            except ProviderError as err:
                return FailedBC(config, err)
        read = replace(planned.read, state=State(bc_id=config.bc_id))
        return replace(planned, read=read)

    done = await asyncio.gather(*(one(c) for c in configs))
    return (
        [d for d in done if isinstance(d, PlannedBC)],
        [d for d in done if isinstance(d, FailedBC)],
    )


@dataclass(frozen=True)
class Reviewed:
    """What a reviewer approved: a saved plan document's plans and checksums, or a checksum."""

    plans: Sequence[Mapping[str, Any]] = ()
    # Every one must be the fresh run's checksum: `--checksum` and a saved plan's own.
    checksums: tuple[str, ...] = ()
    source: str = "the saved plan"


def check_reviewed(reviewed: Reviewed, fresh: Sequence[Plan]) -> None:
    """Refuse (StalePlanError, exit 4) unless the fresh plans are exactly the reviewed ones."""
    if reviewed.plans:
        _check_saved_plans(reviewed, fresh)
    now = checksum_of(fresh)
    for checksum in reviewed.checksums:
        if checksum != now:
            raise StalePlanError(
                f"the plan is not the reviewed one: checksum {now} is not "
                f"{checksum}{_summary_of(fresh)}",
                hint="the Business Center or the config changed since the review; " + REPLAN_HINT,
            )


def _check_saved_plans(reviewed: Reviewed, fresh: Sequence[Plan]) -> None:
    saved = {str(p.get("bc_id")): p for p in reviewed.plans}
    if len(saved) != len(reviewed.plans) or set(saved) != {p.bc_id for p in fresh}:
        raise StalePlanError(
            f"{reviewed.source} covers Business Centers {sorted(saved)}, the config "
            f"{sorted(p.bc_id for p in fresh)}",
            hint=REPLAN_HINT,
        )
    for plan in fresh:
        difference = first_difference(saved[plan.bc_id], plan)
        if difference is not None:
            raise StalePlanError(
                f"{reviewed.source} for {plan.name} is not what would run now: {difference}",
                hint=REPLAN_HINT,
            )


def first_difference(saved: Mapping[str, Any], fresh: Plan) -> str | None:
    """The first way a saved plan body differs from a fresh plan, or None when they are one."""
    now = fresh.to_json()
    if saved.get("refusals"):
        return "it was refused by the safety guards when it was made"
    if not saved.get("config_digest") or saved.get("config_digest") != now["config_digest"]:
        return f"the config {fresh.config_path} changed since it was made"
    for field in ("changes", "steps"):
        old, new = saved.get(field), now[field]
        if not isinstance(old, list):
            return f"its {field} are missing"
        for i, (a, b) in enumerate(zip(old, new, strict=False)):
            if a != b:
                return f"{field[:-1]} {i + 1} differs ({_describe_difference(a, b)})"
        if len(old) != len(new):
            extra = "more" if len(old) > len(new) else "fewer"
            return f"it has {extra} {field} ({len(old)}) than a fresh plan ({len(new)})"
    if saved.get("checksum") != now["checksum"]:
        return f"its checksum {saved.get('checksum')!r} is not {now['checksum']}"
    return None


def _describe_difference(old: Any, new: Any) -> str:
    """Which fields differ: "after.role: 'analyst' → 'admin'" (deepdiff describes only)."""
    name = new.get("title") or new.get("id") if isinstance(new, Mapping) else None
    found = DeepDiff(old, new, ignore_order=False, verbose_level=2)
    parts = []
    for kind in ("values_changed", "type_changes"):
        for path, delta in found.get(kind, {}).items():
            parts.append(f"{_dotted(path)}: {delta['old_value']!r} → {delta['new_value']!r}")
    for kind, verb in (("dictionary_item_added", "added"), ("dictionary_item_removed", "removed")):
        parts.extend(f"{_dotted(path)} {verb}" for path in found.get(kind, {}))
    for kind, verb in (("iterable_item_added", "added"), ("iterable_item_removed", "removed")):
        parts.extend(f"{_dotted(path)} {verb}" for path in found.get(kind, {}))
    text = "; ".join(parts[:5]) or "different"
    return f"{name}: {text}" if name else text


def _dotted(path: str) -> str:
    """deepdiff's "root['after']['role']" as "after.role"."""
    return path.removeprefix("root").replace("']['", ".").replace("][", ".").strip("[]'")


def _summary_of(plans: Sequence[Plan]) -> str:
    lines = [f"{p.name}: {p.summary.sentence()}" for p in plans]
    return "; a fresh plan is:\n  - " + "\n  - ".join(lines) if lines else ""


def check_apply(plans: Sequence[Plan], reviewed: Reviewed | None = None) -> None:
    """What may run: fresh plans that are the reviewed ones (if any) and that no guard refused."""
    if reviewed is not None:
        check_reviewed(reviewed, plans)
    raise_if_refused(plans)


def lock_dir(env: Mapping[str, str] = os.environ) -> Path:
    """One directory per machine and user for apply locks, whatever --state-dir says."""
    if env.get("BCSYNC_LOCK_DIR"):
        return Path(env["BCSYNC_LOCK_DIR"])
    base = env.get("XDG_RUNTIME_DIR") or tempfile.gettempdir()
    return Path(base) / f"bcsync-locks-{os.getuid()}"


@contextlib.contextmanager
def bc_lock(directory: Path, bc_id: str, timeout: float = 5.0) -> Iterator[None]:
    """One advisory lock per BC on this machine; a second apply waits briefly, then refuses."""
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = directory / f"{bc_id}.lock"
    lock = filelock.FileLock(str(path))
    try:
        lock.acquire(timeout=timeout)
    except filelock.Timeout as exc:
        raise LockHeldError(
            f"another bcsync apply holds the lock for Business Center {bc_id} ({path}); "
            f"waited {timeout:g}s",
            hint="wait for it to finish, then run plan again",
        ) from exc
    try:
        yield
    finally:
        lock.release()


@contextlib.contextmanager
def locks(
    bc_ids: Sequence[str], timeout: float = 5.0, directory: Path | None = None
) -> Iterator[None]:
    """Hold every BC's lock (in a stable order, so two runs cannot deadlock)."""
    where = directory or lock_dir()
    with contextlib.ExitStack() as stack:
        for bc_id in sorted(set(bc_ids)):
            stack.enter_context(bc_lock(where, bc_id, timeout))
        yield


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
