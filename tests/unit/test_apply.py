"""The apply executor: stage order, concurrency, dependency skipping, audit records."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from pathlib import Path

import jsonschema
import pytest

from bcsync.apply import Outcome, execute
from bcsync.audit import AuditLog, read_records
from bcsync.errors import ApiError, AuthError
from bcsync.model import AssetKey, AssetType, FinanceRole, MemberRole
from bcsync.plan import Action, Change, Kind, Op, Plan, Stage, Step
from bcsync.providers.base import ReadResult, Scope, WriteResult

SCHEMA = json.loads(Path("bcsync/schemas/audit.schema.json").read_text())


class RecordingProvider:
    """Implements the Provider protocol by recording calls; fails the ops it is told to."""

    bc_id = "7012345678901234567"

    def __init__(self, fail: dict[str, Exception] | None = None) -> None:
        self.calls: list[tuple[str, tuple[object, ...]]] = []
        self.fail = fail or {}
        self.active = 0
        self.max_active = 0

    async def _call(self, name: str, *args: object) -> WriteResult:
        self.active += 1
        self.max_active = max(self.max_active, self.active)
        await asyncio.sleep(0.001)
        self.active -= 1
        self.calls.append((name, args))
        key = f"{name}:{args[0]}"
        if key in self.fail:
            raise self.fail[key]
        return WriteResult((f"req-{len(self.calls)}",))

    async def read_state(self, scope: Scope) -> ReadResult:  # pragma: no cover - unused
        raise NotImplementedError

    async def invite(
        self,
        emails: Sequence[str],
        role: MemberRole,
        finance_role: FinanceRole | None,
        ad_accounts: Sequence[str] = (),
        advertiser_role: str | None = None,
    ) -> WriteResult:
        return await self._call("invite", tuple(emails), role, finance_role)

    async def update_member(
        self, user_id: str, role: MemberRole, finance_role: FinanceRole | None
    ) -> WriteResult:
        return await self._call("update_member", user_id, role, finance_role)

    async def remove_member(
        self, *, user_id: str | None = None, email: str | None = None
    ) -> WriteResult:
        return await self._call("remove_member", user_id or email)

    async def assign(self, user_id: str, asset: AssetKey, role: str) -> WriteResult:
        return await self._call("assign", user_id, asset, role)

    async def unassign(self, user_id: str, asset: AssetKey) -> WriteResult:
        return await self._call("unassign", user_id, asset)

    async def share(self, partner_bc_id: str, asset_ids: Sequence[str], role: str) -> WriteResult:
        return await self._call("share", partner_bc_id, tuple(asset_ids), role)

    async def unshare(
        self, partner_bc_id: str, asset_type: AssetType, asset_ids: Sequence[str]
    ) -> WriteResult:
        return await self._call("unshare", partner_bc_id, asset_type, tuple(asset_ids))

    async def remove_partner(self, partner_bc_id: str) -> WriteResult:
        return await self._call("remove_partner", partner_bc_id)


def member_change(cid: str, action: Action, stage: Stage) -> Change:
    return Change(
        id=f"member:{cid}",
        action=action,
        kind=Kind.MEMBER,
        key=cid,
        before=None,
        after={"role": "admin"},
        reason="test",
        title=cid,
        stage=stage,
    )


def make_plan() -> Plan:
    changes = (
        member_change("new@x.com", Action.CREATE, Stage.INVITE_PROMOTE),
        member_change("dave@x.com", Action.UPDATE, Stage.INVITE_PROMOTE),
        member_change("g1", Action.UPDATE, Stage.GRANT),
        member_change("gone@x.com", Action.DELETE, Stage.REMOVE_MEMBER),
        member_change("oldadmin@x.com", Action.DELETE, Stage.DEMOTE_ADMIN),
    )
    ad = {"asset_type": "ad_accounts", "asset_id": "71"}
    steps = (
        Step("s1", Stage.INVITE_PROMOTE, Op.INVITE,
             {"emails": ["new@x.com"], "role": "standard"}, ("member:new@x.com",)),
        Step("s2", Stage.INVITE_PROMOTE, Op.UPDATE_MEMBER,
             {"user_id": "u-dave", "role": "admin", "finance_role": None}, ("member:dave@x.com",)),
        Step("s3", Stage.GRANT, Op.ASSIGN,
             {"user_id": "u-g1", "role": "operator", **ad}, ("member:g1",)),
        Step("s4", Stage.REMOVE_MEMBER, Op.REMOVE_MEMBER,
             {"user_id": "u-gone", "email": "gone@x.com"}, ("member:gone@x.com",)),
        Step("s5", Stage.DEMOTE_ADMIN, Op.REMOVE_MEMBER,
             {"user_id": "u-old", "email": "oldadmin@x.com"}, ("member:oldadmin@x.com",), ("s2",)),
    )  # fmt: skip
    return Plan("7012345678901234567", "Acme", changes, steps, "sha256:" + "0" * 64, "sha256:x")


async def test_runs_stages_in_order_and_writes_an_audit_record_per_change(tmp_path: Path) -> None:
    provider = RecordingProvider()
    log = tmp_path / "audit.jsonl"
    with AuditLog(log, context={"actor": "tester", "git_commit": None}) as audit:
        result = await execute(make_plan(), provider, audit=audit)
    assert result.ok
    names = [name for name, _ in provider.calls]
    assert names.index("invite") < names.index("assign") < names.index("remove_member")
    assert provider.calls[-1] == ("remove_member", ("u-old",))
    records = read_records(log)
    assert [r["change"]["id"] for r in records] == [c.id for c in make_plan().changes]
    for record in records:
        jsonschema.validate(record, SCHEMA)
        assert record["result"] == "succeeded"
        assert record["request_ids"]


async def test_a_failed_promotion_skips_admin_removals_and_others_continue(tmp_path: Path) -> None:
    provider = RecordingProvider(fail={"update_member:u-dave": ApiError("boom", code=40002)})
    with AuditLog(tmp_path / "a.jsonl", context={"actor": "t", "git_commit": None}) as audit:
        result = await execute(make_plan(), provider, audit=audit)
    assert not result.ok
    assert result.results["s2"].outcome is Outcome.FAILED
    assert result.results["s5"].outcome is Outcome.SKIPPED
    assert "s2" in (result.results["s5"].error or "")
    assert result.results["s3"].outcome is Outcome.SUCCEEDED
    assert result.results["s4"].outcome is Outcome.SUCCEEDED
    assert ("remove_member", ("u-old",)) not in provider.calls
    assert result.counts() == {"succeeded": 3, "failed": 1, "skipped": 1}
    records = read_records(tmp_path / "a.jsonl")
    assert {r["result"] for r in records} == {"succeeded", "failed", "skipped"}


async def test_an_auth_error_stops_further_calls(tmp_path: Path) -> None:
    provider = RecordingProvider(fail={"invite:('new@x.com',)": AuthError("token revoked")})
    with AuditLog(tmp_path / "a.jsonl", context={"actor": "t", "git_commit": None}) as audit:
        result = await execute(make_plan(), provider, audit=audit, concurrency=1)
    assert result.results["s1"].outcome is Outcome.FAILED
    later = [r for sid, r in result.results.items() if sid != "s1"]
    assert all(r.outcome is Outcome.SKIPPED for r in later)
    assert [name for name, _ in provider.calls] == ["invite"]


@pytest.mark.parametrize("concurrency", [1, 3])
async def test_concurrency_within_a_stage_is_bounded(tmp_path: Path, concurrency: int) -> None:
    steps = tuple(
        Step(f"s{i}", Stage.GRANT, Op.ASSIGN,
             {"user_id": f"u{i}", "asset_type": "catalogs", "asset_id": "73", "role": "admin"},
             (f"member:m{i}",))
        for i in range(12)
    )  # fmt: skip
    changes = tuple(member_change(f"m{i}", Action.UPDATE, Stage.GRANT) for i in range(12))
    plan = Plan("1", None, changes, steps, "sha256:" + "0" * 64, "")
    provider = RecordingProvider()
    with AuditLog(tmp_path / "a.jsonl", context={"actor": "t", "git_commit": None}) as audit:
        result = await execute(plan, provider, audit=audit, concurrency=concurrency)
    assert result.ok
    assert provider.max_active == concurrency
    assert len(provider.calls) == 12
