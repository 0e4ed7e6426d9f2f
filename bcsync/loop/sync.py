"""The apply loop as one library call: plan, check the reviewed plan, guards, confirm, apply, audit.

`sync` is what `bcsync apply` runs and what a program imports to do the same (after octoDNS's
`Manager.sync`). In order: take every BC's lock; skip everything when the audit log records the
reviewed plan as already applied; read and plan every BC afresh; check that the fresh plans are
the reviewed ones (or what remains of them) and that no guard refuses them; ask `confirm` when
nobody reviewed them; apply them, one audit record per change; read back what was made until it
shows. It never prints or prompts: what a person would be told arrives as a typed `Notice`, the
question "apply these changes?" is the `confirm` callback, the outcome is a `SyncResult`, and
every refusal or failure is an exception from bcsync.errors (each with its exit code). `plan` is
the same read and plan without the lock, the check or a write: what `bcsync plan` runs.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bcsync.core.change import Change
from bcsync.core.model import BusinessCenterConfig
from bcsync.core.plan import Plan
from bcsync.errors import DeclinedError
from bcsync.git.changed import ChangedScope
from bcsync.loop import ledger
from bcsync.loop.applied import SETTLE_SECONDS, Ledger
from bcsync.loop.apply import ApplyResult, ProgressCallback, StepResult
from bcsync.loop.audit import AuditLog, actor, git_commit, git_dirty
from bcsync.loop.reconcile import (
    Convergence,
    FailedBC,
    PlannedBC,
    Progress,
    Reviewed,
    apply_planned,
    check_apply,
    locks,
    plan_each,
)
from bcsync.loop.settle import (
    Visibility,
    already_applied,
    confirm_visible,
    reviewed_digests,
    visibility_records,
)
from bcsync.providers.base import Provider
from bcsync.providers.factory import open_providers
from bcsync.providers.tiktok.client import RetryPolicy


@dataclass(frozen=True, slots=True)
class AlreadyApplied:
    """The audit log records every change of the reviewed plan as made: nothing is read or sent."""

    when: datetime


@dataclass(frozen=True, slots=True)
class Planned:
    """Every BC was read and planned afresh (before any check); `reviewed`: against a review."""

    plans: tuple[Plan, ...]
    reviewed: bool


@dataclass(frozen=True, slots=True)
class Checked:
    """The plans may run: each BC's progress through the reviewed plan (none without a review)."""

    verdicts: tuple[Convergence, ...]


@dataclass(frozen=True, slots=True)
class NothingToApply:
    """No plan has a change to make; `done`: because an earlier apply made the reviewed ones."""

    done: bool


@dataclass(frozen=True, slots=True)
class ReadingBack:
    """The writes are done; reading back what they made, for at most `timeout` seconds."""

    timeout: float


Notice = AlreadyApplied | Planned | Checked | NothingToApply | ReadingBack
# Asked before plans nobody reviewed run; False declines (DeclinedError, exit 4), and it may
# raise a DeclinedError of its own (no terminal to ask). `approve` is the one that never asks.
Confirm = Callable[[Sequence[Plan]], bool]


def approve(plans: Sequence[Plan]) -> bool:
    """The confirmation of `--auto-approve`: yes, without asking."""
    return True


def _ignore(notice: Notice) -> None:
    """No one to tell."""


@contextlib.contextmanager
def _quietly(configs: Sequence[BusinessCenterConfig]) -> Iterator[None]:
    yield


@contextlib.contextmanager
def _unwatched(total: int) -> Iterator[ProgressCallback]:
    yield _no_step


def _no_step(result: StepResult) -> None:
    """No progress to show."""


@dataclass(frozen=True)
class Watchers:
    """What a caller is shown while `sync` runs; by default nothing (the library never prints)."""

    notice: Callable[[Notice], None] = _ignore
    # Held while the BCs are read and planned (the CLI's spinner).
    reading: Callable[[Sequence[BusinessCenterConfig]], AbstractContextManager[None]] = _quietly
    # Held while the changes are applied; called with their number, gives the per-step callback.
    applying: Callable[[int], AbstractContextManager[ProgressCallback]] = _unwatched


@dataclass(frozen=True)
class SyncOptions:
    """Where the run keeps its state and what it may do (the `bcsync apply` flags)."""

    state_dir: Path  # the local Business Center's state
    audit_log: Path  # appended to, and read as the ledger of what was applied
    reviewed: Reviewed | None = None  # a saved plan or --checksum; None: plans nobody reviewed
    scopes: Mapping[str, ChangedScope | None] | None = None  # `--changed` or a saved scoped plan
    allow_removals: bool = False
    parallelism: int = 8  # concurrent API calls within a stage
    settle_timeout: float = SETTLE_SECONDS  # read back what was made for at most this (0: skip)
    lock_timeout: float = 5.0
    lock_dir: Path | None = None  # default: reconcile.lock_dir()


@dataclass(frozen=True)
class SyncResult:
    """What a run did: per BC what was applied and seen; the BCs that could not be planned."""

    audit_log: Path
    plans: tuple[Plan, ...] = ()
    verdicts: tuple[Convergence, ...] = ()  # progress through the reviewed plan, per BC
    results: tuple[ApplyResult, ...] = ()  # one per BC that had changes to apply
    seen: tuple[Visibility, ...] = ()  # what a read back confirmed, per BC (settle)
    failed: tuple[FailedBC, ...] = ()  # could not be read or planned; the others were applied
    already_applied: datetime | None = None  # the reviewed plan was made then: nothing ran

    @property
    def ok(self) -> bool:
        """Every step of every applied plan succeeded (a failed BC is `failed`'s, not this)."""
        return all(result.ok for result in self.results)

    @property
    def not_visible(self) -> tuple[Change, ...]:
        """Changes applied (their writes answered) that reads do not show yet (exit 5)."""
        return tuple(change for visibility in self.seen for change in visibility.not_visible)


async def plan(
    configs: Sequence[BusinessCenterConfig],
    options: SyncOptions,
    watchers: Watchers | None = None,
) -> SyncResult:
    """What `sync` would apply, without a lock, a check or a write (`bcsync plan`).

    Every BC is read and planned afresh; one that fails is in `failed` and the others go on, but
    when none could be planned the first one's error is raised. The guards' refusals are on the
    plans (`Plan.refusals`): raising them is the caller's, once it has shown the plans.
    """
    applied = ledger.load(
        options.audit_log,
        now=datetime.now(UTC),
        window=max(options.settle_timeout, SETTLE_SECONDS),
    )
    async with open_providers(configs, state_dir=options.state_dir) as providers:
        planned, failed = await _plan_each(configs, providers, options, applied, watchers)
    if failed and not planned:
        raise failed[0].error
    plans = tuple(p.plan for p in planned)
    return SyncResult(options.audit_log, plans=plans, failed=tuple(failed))


async def _plan_each(
    configs: Sequence[BusinessCenterConfig],
    providers: Mapping[str, Provider],
    options: SyncOptions,
    applied: Ledger,
    watchers: Watchers | None,
) -> tuple[list[PlannedBC], list[FailedBC]]:
    """Read and plan every BC (reconcile.plan_each) while the caller's `reading` is held."""
    with (watchers or Watchers()).reading(configs):
        return await plan_each(
            configs,
            providers,
            allow_removals=options.allow_removals,
            scopes=options.scopes,
            applied=applied,
        )


async def sync(
    configs: Sequence[BusinessCenterConfig],
    options: SyncOptions,
    confirm: Confirm,
    watchers: Watchers | None = None,
) -> SyncResult:
    """Apply `configs` to their Business Centers; raises the errors.py exceptions (see above)."""
    ids = [c.bc_id for c in configs]
    with locks(ids, timeout=options.lock_timeout, directory=options.lock_dir):
        return await _Run(configs, options, confirm, watchers or Watchers()).go()


@dataclass
class _Run:
    configs: Sequence[BusinessCenterConfig]
    options: SyncOptions
    confirm: Confirm
    watchers: Watchers
    failed: list[FailedBC] = field(default_factory=list)

    async def go(self) -> SyncResult:
        options, notice = self.options, self.watchers.notice
        digests = reviewed_digests(options.reviewed)
        # How long reads may lag is TikTok's, not this run's: a shorter settle timeout makes
        # this run wait less, never trusts a read sooner.
        applied = ledger.load(
            options.audit_log,
            now=datetime.now(UTC),
            window=max(options.settle_timeout, SETTLE_SECONDS),
            digests=set(digests.values()),
        )
        when = already_applied(options.reviewed, applied)
        if when is not None:
            notice(AlreadyApplied(when))
            return SyncResult(options.audit_log, already_applied=when)
        # A write whose answer was lost is read back for as long as apply reads back its writes.
        retry = RetryPolicy(settle_seconds=options.settle_timeout)
        async with open_providers(
            self.configs, state_dir=options.state_dir, retry=retry
        ) as providers:
            planned, self.failed = await _plan_each(
                self.configs, providers, options, applied, self.watchers
            )
            # A reviewed plan runs whole or not at all; otherwise the others go on.
            if self.failed and (options.reviewed is not None or not planned):
                raise self.failed[0].error
            plans = tuple(p.plan for p in planned)
            notice(Planned(plans, reviewed=options.reviewed is not None))
            verdicts = tuple(check_apply(plans, options.reviewed))
            notice(Checked(verdicts))
            result = SyncResult(
                options.audit_log, plans=plans, verdicts=verdicts, failed=tuple(self.failed)
            )
            if not any(p.has_changes for p in plans):
                notice(NothingToApply(done=any(v.progress is Progress.DONE for v in verdicts)))
                return result
            if options.reviewed is None and not self.confirm(plans):
                raise DeclinedError("apply cancelled; nothing was changed")
            results, seen = await self._apply(planned, providers, digests)
            return SyncResult(
                options.audit_log,
                plans=plans,
                verdicts=verdicts,
                results=tuple(results),
                seen=tuple(seen),
                failed=tuple(self.failed),
            )

    async def _apply(
        self,
        planned: Sequence[PlannedBC],
        providers: Mapping[str, Provider],
        digests: Mapping[str, str],
    ) -> tuple[list[ApplyResult], list[Visibility]]:
        """Apply every plan, an audit record per change; then read back what was made."""
        plans = [p.plan for p in planned]
        audit = AuditLog(self.options.audit_log, context=audit_context(self.configs))
        # What the steps carry: the changes, not the no-ops (they never run).
        total = sum(c.is_change for p in plans for c in p.changes)
        with self.watchers.applying(total) as on_step, audit:
            results = await apply_planned(
                [(p, providers[p.bc_id]) for p in plans],
                audit=audit,
                concurrency=self.options.parallelism,
                on_step=on_step,
                digests=digests,
            )
            seen = await self._read_back(planned, results, providers, audit, digests)
        return results, seen

    async def _read_back(
        self,
        planned: Sequence[PlannedBC],
        results: Sequence[ApplyResult],
        providers: Mapping[str, Provider],
        audit: AuditLog,
        digests: Mapping[str, str],
    ) -> list[Visibility]:
        """Read back what the apply made until it shows (settle.py); record what was seen."""
        timeout = self.options.settle_timeout
        if timeout <= 0:
            return []
        if any(r.results for r in results):
            self.watchers.notice(ReadingBack(timeout))
        seen = await confirm_visible(planned, results, providers, timeout=timeout)
        for result, visibility in zip(results, seen, strict=True):
            for record in visibility_records(result, visibility, digests.get(result.plan.bc_id)):
                audit.write(record)
        audit.sync()
        return seen


def audit_context(configs: Sequence[BusinessCenterConfig]) -> dict[str, Any]:
    """Who applies, from which commit, and whether that checkout had uncommitted changes."""
    where = Path(configs[0].path).parent if configs else Path(".")
    return {
        "actor": actor(),
        "git_commit": git_commit(where),
        "git_dirty": git_dirty(where),
        "mode": "apply",
    }
