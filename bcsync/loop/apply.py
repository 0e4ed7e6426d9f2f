"""Carry out a plan: stages in order, steps within a stage concurrently, an audit record per change.

A failed step skips the steps that depend on it; independent ones go on. Retries, rate limiting and
the verification of ambiguous writes live in the provider, so a step either succeeded, failed with a
clear error, or was skipped. A crash leaves a consistent world: the next plan reads the actual state
and shows exactly what remains. `execute` runs the steps it is given and nothing else: deciding
that they are the reviewed ones, and safe, is `reconcile`'s job before it is called.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import StrEnum

from bcsync.core.change import Change, Stage
from bcsync.core.plan import Plan
from bcsync.core.schedule import Step
from bcsync.errors import AuthError, BcsyncError, PermissionDeniedError
from bcsync.loop.audit import AuditLog
from bcsync.providers.base import Provider, WriteResult


class Outcome(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclass
class StepResult:
    step: Step
    outcome: Outcome
    error: str | None = None
    request_ids: tuple[str, ...] = ()
    note: str | None = None
    # The plan's changes this step carried, for progress lines and audit records.
    changes: tuple[Change, ...] = ()


@dataclass
class ApplyResult:
    plan: Plan
    results: dict[str, StepResult] = field(default_factory=dict)

    def changes_with(self, outcome: Outcome) -> list[str]:
        return [c for r in self.results.values() if r.outcome is outcome for c in r.step.changes]

    @property
    def ok(self) -> bool:
        return all(r.outcome is Outcome.SUCCEEDED for r in self.results.values())

    def counts(self) -> dict[str, int]:
        return {o.value: len(self.changes_with(o)) for o in Outcome}

    def sentence(self) -> str:
        c = self.counts()
        return (
            f"{self.plan.name}: {c['succeeded']} succeeded, {c['failed']} failed, "
            f"{c['skipped']} skipped."
        )


ProgressCallback = Callable[[StepResult], None]


async def run_step(provider: Provider, step: Step) -> WriteResult:
    """Perform a step: its typed parameters name the provider operation."""
    return await provider.write(step.params)


def audit_record(plan: Plan, checksum: str, res: StepResult, change: Change) -> dict[str, object]:
    """One audit record: which change of which plan, what happened, and the config's words."""
    return {
        "bc_id": plan.bc_id,
        "plan_digest": checksum,
        "config_path": plan.config_path,
        "step": res.step.id,
        "op": res.step.op.value,
        "change": change.to_json(),
        "reason": change.note,
        "expires": change.expires,
        "result": res.outcome.value,
        "error": res.error,
        "request_ids": list(res.request_ids),
        "note": res.note,
    }


async def execute(
    plan: Plan,
    provider: Provider,
    *,
    audit: AuditLog,
    concurrency: int = 8,
    on_step: ProgressCallback | None = None,
    digest: str | None = None,
) -> ApplyResult:
    """Run every step of `plan` in stage order; never raises for a failed step. Audit records
    name `digest` (the reviewed plan this is all or part of), else the plan's own checksum."""
    result = ApplyResult(plan)
    by_id = {c.id: c for c in plan.changes}
    semaphore = asyncio.Semaphore(max(1, concurrency))
    aborted: str | None = None
    checksum = digest or plan.checksum()

    def record(res: StepResult) -> None:
        res.changes = tuple(by_id[c] for c in res.step.changes if c in by_id)
        result.results[res.step.id] = res
        for change in res.changes:
            audit.write(audit_record(plan, checksum, res, change))
        if on_step is not None:
            on_step(res)

    async def attempt(step: Step) -> None:
        nonlocal aborted
        async with semaphore:
            if aborted is not None:
                record(StepResult(step, Outcome.SKIPPED, error=aborted))
                return
            try:
                written = await run_step(provider, step)
            except (AuthError, PermissionDeniedError) as exc:
                # Every later call would fail the same way: stop sending them.
                aborted = f"not attempted: {exc.message}"
                record(StepResult(step, Outcome.FAILED, error=exc.message))
                return
            except BcsyncError as exc:
                record(StepResult(step, Outcome.FAILED, error=exc.message))
                return
            record(StepResult(step, Outcome.SUCCEEDED, None, written.request_ids, written.note))

    for stage in Stage:
        await _run_stage([s for s in plan.steps if s.stage is stage], result, record, attempt)
        audit.sync()
    return result


async def _run_stage(
    pending: list[Step],
    result: ApplyResult,
    record: Callable[[StepResult], None],
    attempt: Callable[[Step], Awaitable[None]],
) -> None:
    """Run a stage's steps as their dependencies allow; skip those whose dependencies failed."""
    while pending:
        ready, waiting = [], []
        for step in pending:
            done = {d: result.results[d].outcome for d in step.depends_on if d in result.results}
            failed = [d for d, outcome in done.items() if outcome is not Outcome.SUCCEEDED]
            if failed:
                reason = f"skipped: depends on {', '.join(failed)}, which did not succeed"
                record(StepResult(step, Outcome.SKIPPED, error=reason))
            elif len(done) < len(set(step.depends_on)):
                waiting.append(step)
            else:
                ready.append(step)
        if not ready:
            for step in waiting:  # dependencies outside the plan or later in it: cannot run
                record(StepResult(step, Outcome.SKIPPED, error="skipped: unmet dependency"))
            return
        await asyncio.gather(*(attempt(s) for s in ready))
        pending = waiting
