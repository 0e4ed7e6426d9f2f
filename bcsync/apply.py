"""Carry out a plan: stages in order, steps within a stage concurrently, an audit record per change.

A failed step skips the steps that depend on it; independent ones go on. Retries, rate limiting and
the verification of ambiguous writes live in the provider, so a step either succeeded, failed with a
clear error, or was skipped. A crash leaves a consistent world: the next plan reads the actual state
and shows exactly what remains.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from bcsync.audit import AuditLog
from bcsync.errors import AuthError, BcsyncError, PermissionDeniedError
from bcsync.model import AssetKey, AssetType, FinanceRole, MemberRole
from bcsync.plan import Op, Plan, Stage, Step
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
        name = self.plan.bc_name or self.plan.bc_id
        return f"{name}: {c['succeeded']} succeeded, {c['failed']} failed, {c['skipped']} skipped."


ProgressCallback = Callable[[StepResult], None]


async def run_step(provider: Provider, step: Step) -> WriteResult:
    """Call the provider operation a step names."""
    p: dict[str, Any] = dict(step.params)
    if step.op is Op.INVITE:
        return await provider.invite(
            p["emails"],
            MemberRole(p["role"]),
            FinanceRole(p["finance_role"]) if p.get("finance_role") else None,
            p.get("ad_accounts") or (),
            p.get("advertiser_role"),
        )
    if step.op is Op.UPDATE_MEMBER:
        return await provider.update_member(
            _required(p, "user_id", step),
            MemberRole(p["role"]),
            FinanceRole(p["finance_role"]) if p.get("finance_role") else None,
        )
    if step.op is Op.REMOVE_MEMBER:
        if p.get("user_id"):
            return await provider.remove_member(user_id=p["user_id"])
        return await provider.remove_member(email=p["email"])
    if step.op is Op.ASSIGN:
        asset = AssetKey(AssetType(p["asset_type"]), p["asset_id"])
        return await provider.assign(_required(p, "user_id", step), asset, p["role"])
    if step.op is Op.UNASSIGN:
        asset = AssetKey(AssetType(p["asset_type"]), p["asset_id"])
        return await provider.unassign(_required(p, "user_id", step), asset)
    if step.op is Op.SHARE:
        return await provider.share(p["partner_bc_id"], p["asset_ids"], p["role"])
    if step.op is Op.UNSHARE:
        return await provider.unshare(
            p["partner_bc_id"], AssetType(p["asset_type"]), p["asset_ids"]
        )
    if step.op is Op.REMOVE_PARTNER:
        return await provider.remove_partner(p["partner_bc_id"])
    raise BcsyncError(f"unknown operation {step.op!r} in the plan")


def _required(params: dict[str, Any], name: str, step: Step) -> str:
    value = params.get(name)
    if not value:
        raise BcsyncError(f"step {step.id} ({step.op.value}) lacks {name}; re-run plan")
    return str(value)


async def execute(
    plan: Plan,
    provider: Provider,
    *,
    audit: AuditLog,
    concurrency: int = 8,
    on_step: ProgressCallback | None = None,
) -> ApplyResult:
    """Run every step of `plan` in stage order; never raises for a failed step."""
    result = ApplyResult(plan)
    by_id = {c.id: c for c in plan.changes}
    semaphore = asyncio.Semaphore(max(1, concurrency))
    aborted: str | None = None
    digest = plan.digest()

    def record(res: StepResult) -> None:
        result.results[res.step.id] = res
        for change_id in res.step.changes:
            change = by_id.get(change_id)
            audit.write(
                {
                    "bc_id": plan.bc_id,
                    "plan_digest": digest,
                    "step": res.step.id,
                    "op": res.step.op.value,
                    "change": change.to_json() if change else {"id": change_id},
                    "result": res.outcome.value,
                    "error": res.error,
                    "request_ids": list(res.request_ids),
                    "note": res.note,
                }
            )
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
        pending = [s for s in plan.steps if s.stage is stage]
        while pending:
            ready, waiting = [], []
            for step in pending:
                blockers = [d for d in step.depends_on if d not in result.results]
                failed = [
                    d
                    for d in step.depends_on
                    if d in result.results and result.results[d].outcome is not Outcome.SUCCEEDED
                ]
                if failed:
                    reason = f"skipped: depends on {', '.join(failed)}, which did not succeed"
                    record(StepResult(step, Outcome.SKIPPED, error=reason))
                elif blockers:
                    waiting.append(step)
                else:
                    ready.append(step)
            if not ready and waiting:
                for step in waiting:  # dependencies outside the plan: cannot run
                    record(StepResult(step, Outcome.SKIPPED, error="skipped: unmet dependency"))
                break
            await asyncio.gather(*(attempt(s) for s in ready))
            pending = waiting
        audit.sync()
    return result
