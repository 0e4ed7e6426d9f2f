"""The reconcile loop as a library: read every BC, plan, decide what may run, apply.

What runs is always a plan made just now from the config and a fresh read of the BC. A saved
plan file or a `--checksum` does not say what to run; it says what was reviewed, and apply goes
ahead only when the fresh plan is that plan, change for change and step for step -- or, once an
earlier apply made part of it, what remains of it (`progress_of`: re-runs converge). The guards
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
from enum import StrEnum
from pathlib import Path
from typing import Any

import filelock
from deepdiff import DeepDiff

from bcsync.core.change import Change
from bcsync.core.incoming import differences_of
from bcsync.core.model import BusinessCenterConfig, State
from bcsync.core.plan import Plan, checksum_of, make_plan, order, raise_if_refused
from bcsync.core.schedule import schedule
from bcsync.errors import LockHeldError, ProviderError, StalePlanError
from bcsync.git.changed import ChangedScope
from bcsync.loop.applied import Ledger
from bcsync.loop.apply import ApplyResult, ProgressCallback, execute
from bcsync.loop.audit import AuditLog
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
    applied: Ledger | None = None,
    target: str | None = None,
) -> PlannedBC:
    """Read one BC (only `scope`'s members and partners, if given) and plan it; what the
    `applied` ledger holds as made is not made again (bcsync.loop.applied); `target` names where the
    BC was read (the plan records it, and a saved plan applies only there)."""
    wanted = Scope.of_config(config)
    if scope is not None:  # `--changed`: a narrowed read, a plan of that scope only
        wanted = replace(wanted, members=scope.members, partners=scope.partners)
    read = await provider.read_state(wanted)
    plan = make_plan(
        config,
        read.state,
        unmanaged_assets=read.unmanaged_assets,
        incoming_assets=len(read.incoming),
        incoming=differences_of(config, read.incoming_shares),
        allow_removals=allow_removals,
        scope=scope,
        unread_members=read.unread_members,
        applied=applied,
    )
    return PlannedBC(config, read, replace(plan, target=target) if target else plan)


async def plan_all(
    configs: Sequence[BusinessCenterConfig],
    providers: Mapping[str, Provider],
    *,
    allow_removals: bool = False,
    scopes: Mapping[str, ChangedScope | None] | None = None,
    applied: Ledger | None = None,
    targets: Mapping[str, str] | None = None,
) -> list[PlannedBC]:
    """`plan_each` for callers that want every BC planned or an error: the first BC that could
    not be read or planned raises its ProviderError."""
    planned, failed = await plan_each(
        configs,
        providers,
        allow_removals=allow_removals,
        scopes=scopes,
        applied=applied,
        targets=targets,
    )
    if failed:
        raise failed[0].error
    return planned


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
    applied: Ledger | None = None,
    targets: Mapping[str, str] | None = None,
) -> tuple[list[PlannedBC], list[FailedBC]]:
    """Plan every BC, a few at a time; one that fails is set aside and the others go on.

    `scopes` narrows some BCs, `targets` names where each was read (both by BC id; by default
    where each config's provider reaches). The plans keep what reading cost but not the
    state read, and at most BCS_AT_ONCE states are held at once: a hundred BCs cost memory
    like their few largest, not like their sum.
    """
    scoped = scopes or {}
    where = targets if targets is not None else {c.bc_id: _target(c) for c in configs}
    room = asyncio.Semaphore(BCS_AT_ONCE)

    async def one(config: BusinessCenterConfig) -> PlannedBC | FailedBC:
        async with room:
            try:
                planned = await plan_one(
                    config,
                    providers[config.bc_id],
                    allow_removals=allow_removals,
                    scope=scoped.get(config.bc_id),
                    applied=applied,
                    target=where.get(config.bc_id),
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


class Progress(StrEnum):
    """How far a fresh plan is through the reviewed one."""

    WHOLE = "whole"  # nothing of it is made yet: the fresh plan is the reviewed plan
    REMAINDER = "remainder"  # an earlier apply made part of it; the rest runs
    DONE = "done"  # all of it is made: already applied, nothing runs


@dataclass(frozen=True, slots=True)
class Convergence:
    """One BC's verdict: how many of the reviewed plan's changes are still to make."""

    bc_id: str
    name: str
    progress: Progress
    reviewed: int  # changes (not no-ops) the reviewed plan makes
    remaining: int  # of those, the ones the fresh plan still makes

    def sentence(self) -> str:
        if self.progress is Progress.DONE:
            return f"{self.name}: already applied (all {self.reviewed} reviewed changes are made)."
        if self.progress is Progress.REMAINDER:
            return (
                f"{self.name}: {self.remaining} of {self.reviewed} reviewed changes remain "
                "(an earlier apply made the rest); applying them."
            )
        return f"{self.name}: the reviewed plan, unchanged."


def progress_of(reviewed: Plan, fresh: Plan) -> Convergence:
    """How far `fresh` is through `reviewed`; StalePlanError (exit 4) when it is not part of it.

    The fresh plan is the reviewed one (WHOLE), or it makes only changes identical to reviewed
    ones, fewer of them (REMAINDER, or DONE when none), from the same config, scope and BC and
    from a reviewed plan that is itself well formed. No-ops never run, so once part of the plan
    is made they are not compared (an invite made earlier is "waiting" now). What remains is
    scheduled afresh, and the guards judge those steps, not the reviewed ones.
    """
    made = {c.id: c for c in reviewed.changes if c.is_change}
    todo = [c for c in fresh.changes if c.is_change]
    difference = first_difference(reviewed.to_json(), fresh)
    if difference is None:
        return _whole(fresh)
    if len(todo) >= len(made):  # nothing of it was made: the plans must be one
        raise StalePlanError(
            f"{fresh.name}: not what would run now: {difference}", hint=REPLAN_HINT
        )
    why = _not_a_remainder(reviewed, fresh)
    if why is not None:
        raise StalePlanError(f"{fresh.name}: {why}", hint=REPLAN_HINT)
    for change in todo:
        was = made.get(change.id)
        if was is None or not _within_review(was, change):
            what = (
                _describe_difference(was.to_json(), change.to_json())
                if was is not None
                else f"{change.title or change.id} ({change.action.value}) was not reviewed"
            )
            raise StalePlanError(
                f"{fresh.name}: what remains is not part of the reviewed plan: {what}",
                hint=REPLAN_HINT,
            )
    progress = Progress.REMAINDER if todo else Progress.DONE
    return Convergence(fresh.bc_id, fresh.name, progress, len(made), len(todo))


def _within_review(was: Change, now: Change) -> bool:
    """`now` is the reviewed change `was`; a removal may take away less than reviewed (an
    earlier apply revoked some of it), never more."""
    if not set(now.takes_away) <= set(was.takes_away):
        return False
    return replace(was, takes_away=()).to_json() == replace(now, takes_away=()).to_json()


def _whole(plan: Plan) -> Convergence:
    n = sum(c.is_change for c in plan.changes)
    return Convergence(plan.bc_id, plan.name, Progress.WHOLE, n, n)


def _not_a_remainder(reviewed: Plan, fresh: Plan) -> str | None:
    """Why what remains of `reviewed` cannot be `fresh`, whatever their changes; None if it can."""
    if reviewed.refusals:
        return "it was refused by the safety guards when it was made"
    if not reviewed.config_digest or reviewed.config_digest != fresh.config_digest:
        return f"the config {fresh.config_path} changed since it was made"
    if reviewed.target != fresh.target:
        return (
            f"it was made for the Business Center at {_target_shown(reviewed.target)}, and its "
            f"config {fresh.config_path} now reaches {_target_shown(fresh.target)}"
        )
    if reviewed.bc_id != fresh.bc_id:
        return f"it is the plan of Business Center {reviewed.bc_id}"
    if (reviewed.scope and reviewed.scope.key()) != (fresh.scope and fresh.scope.key()):
        return "its scope is not the one read now"
    # A plan that bcsync made is its changes in order and their schedule, nothing else.
    if order(reviewed.changes) != reviewed.changes:
        return "its changes are not in the order bcsync makes them: it was edited"
    if [s.to_json() for s in schedule(reviewed.changes)] != [s.to_json() for s in reviewed.steps]:
        return "its steps are not the schedule of its changes: it was edited"
    return None


def check_reviewed(reviewed: Reviewed, fresh: Sequence[Plan]) -> list[Convergence]:
    """Each BC's progress through the reviewed plans; StalePlanError (exit 4) when not theirs.

    With saved plans, every checksum (the document's, `--checksum`) must be theirs, and each
    fresh plan must be its reviewed plan or what remains of it. With a checksum alone there is
    nothing to compare a remainder with: the fresh plan must have that very checksum.
    """
    if not reviewed.plans:
        now = checksum_of(fresh)
        for checksum in reviewed.checksums:
            if checksum != now:
                raise StalePlanError(
                    f"the plan is not the reviewed one: checksum {now} is not "
                    f"{checksum}{_summary_of(fresh)}",
                    hint="the Business Center or the config changed since the review; "
                    + REPLAN_HINT
                    + " (to finish or confirm an apply of the reviewed plan, pass it: --plan FILE)",
                )
        return [_whole(plan) for plan in fresh]
    bodies = _bodies_by_bc(reviewed, fresh)
    verdicts, plans = [], []
    for plan in fresh:
        body = bodies[plan.bc_id]
        saved = Plan.from_json(body)
        plans.append(saved)
        try:
            verdicts.append(_progress_of_body(body, saved, plan))
        except StalePlanError as exc:
            raise StalePlanError(f"{reviewed.source} for {exc.message}", hint=exc.hint) from None
    content = checksum_of(plans)
    for checksum in reviewed.checksums:
        if checksum != content:
            raise StalePlanError(
                f"{reviewed.source} is not the reviewed plan: its checksum {content} is not "
                f"{checksum}",
                hint="pass the plan file saved by the reviewed `bcsync plan --out`, or "
                + REPLAN_HINT,
            )
    return verdicts


def _progress_of_body(body: Mapping[str, Any], saved: Plan, fresh: Plan) -> Convergence:
    """`progress_of` for a saved plan body, whose stated checksum must be its content's."""
    difference = first_difference(body, fresh)
    if difference is None:
        return _whole(fresh)
    if body.get("checksum") != saved.checksum():  # edited and not re-sealed: not a remainder
        raise StalePlanError(
            f"{fresh.name}: not what would run now: {difference}", hint=REPLAN_HINT
        )
    return progress_of(saved, fresh)


def _bodies_by_bc(reviewed: Reviewed, fresh: Sequence[Plan]) -> dict[str, Mapping[str, Any]]:
    """The saved plan bodies by BC, when they cover the very BCs of the fresh plans."""
    saved = {str(p.get("bc_id")): p for p in reviewed.plans}
    if len(saved) != len(reviewed.plans) or set(saved) != {p.bc_id for p in fresh}:
        raise StalePlanError(
            f"{reviewed.source} covers Business Centers {sorted(saved)}, the config "
            f"{sorted(p.bc_id for p in fresh)}",
            hint=REPLAN_HINT,
        )
    return saved


def _target(config: BusinessCenterConfig) -> str | None:
    """Where a config's BC is reached (`providers.factory.target_of`); None when its provider
    settings cannot say (reading it fails with that error anyway)."""
    from bcsync.errors import ConfigError
    from bcsync.providers.factory import target_of

    try:
        return target_of(config)
    except ConfigError:
        return None


def first_difference(saved: Mapping[str, Any], fresh: Plan) -> str | None:
    """The first way a saved plan body differs from a fresh plan, or None when they are one."""
    now = fresh.to_json()
    if saved.get("refusals"):
        return "it was refused by the safety guards when it was made"
    if saved.get("target") != now.get("target"):
        return (
            f"it was made for the Business Center at {_target_shown(saved.get('target'))}, "
            f"and its config {fresh.config_path} now reaches {_target_shown(now.get('target'))}"
        )
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


def _target_shown(target: Any) -> str:
    """A plan's target as a refusal quotes it: bounded; absent said so."""
    if not isinstance(target, str) or not target:
        return "(no target named)"
    return target if len(target) <= 300 else target[:300] + "…"


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


def check_apply(plans: Sequence[Plan], reviewed: Reviewed | None = None) -> list[Convergence]:
    """What may run: fresh plans that are the reviewed ones, or what remains of them (if any
    were reviewed), and that no guard refused; each BC's progress through the reviewed plan."""
    progress = check_reviewed(reviewed, plans) if reviewed is not None else []
    raise_if_refused(plans)
    return progress


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
    digests: Mapping[str, str] | None = None,
) -> list[ApplyResult]:
    """Apply several BCs' plans concurrently (they share the per-app rate limiter).

    `digests`: the reviewed plan's checksum per BC, which the audit records name even when only
    what remains of it runs, so the ledger knows every change of that plan (bcsync.loop.applied).
    """
    named = digests or {}
    return list(
        await asyncio.gather(
            *(
                execute(
                    plan,
                    provider,
                    audit=audit,
                    concurrency=concurrency,
                    on_step=on_step,
                    digest=named.get(plan.bc_id),
                )
                for plan, provider in planned
            )
        )
    )
