"""apply.execute: stage order, dependencies, aborts, bounded concurrency, audit and fsync."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import jsonschema
import pytest
from builders import BC, Entry, bound, member, state
from fake_provider import FakeProvider, simulate

import bcsync
from bcsync.auditor.auditquery import read_records
from bcsync.core.change import Action, Change, Kind, Stage
from bcsync.core.model import (
    AssetKey,
    AssetType,
    FinanceRole,
    Grant,
    MemberRole,
    MemberStatus,
    Partner,
    PartnerShare,
)
from bcsync.core.plan import Plan
from bcsync.core.schedule import (
    Assign,
    Invite,
    Params,
    RemoveMember,
    RemovePartner,
    Share,
    Step,
    Unassign,
    Unshare,
    UpdateMember,
)
from bcsync.errors import ApiError, AuthError, BcsyncError, PermissionDeniedError
from bcsync.loop.apply import Outcome, StepResult, execute, run_step
from bcsync.loop.audit import AuditLog

SCHEMA = json.loads(
    (Path(bcsync.__file__).parent / "schemas" / "audit.schema.json").read_text(encoding="utf-8")
)
AD = AssetKey(AssetType.AD_ACCOUNT, "7100000000000000001")
CAT = AssetKey(AssetType.CATALOG, "7300000000000000001")
AGENCY = "7200000000000000009"
CONTEXT = {"actor": "tester", "git_commit": None}


def world() -> FakeProvider:
    """A BC with an owner, three standard members, a leaver and an old admin."""
    members = [
        bound("owner@x.com", "admin"),
        bound("dave@x.com"),
        bound("g1@x.com"),
        bound("gone@x.com"),
        bound("old@x.com", "admin"),
    ]
    return FakeProvider(state(members, (AD, CAT)))


def change(cid: str, stage: Stage, **extra: str) -> Change:
    return Change(
        id=cid,
        action=Action.UPDATE,
        kind=Kind.MEMBER,
        key=cid,
        before=None,
        after=None,
        reason="test",
        title=cid,
        stage=stage,
        **extra,  # type: ignore[arg-type]
    )


def plan_of(*steps: Step, changes: Sequence[Change] = ()) -> Plan:
    """A plan of these steps; each step's changes exist (one per id unless given)."""
    given = {c.id: c for c in changes}
    for step in steps:
        for cid in step.changes:
            given.setdefault(cid, change(cid, step.stage))
    return Plan(
        BC, "Acme", tuple(given.values()), steps, "sha256:" + "0" * 64, "sha256:" + "1" * 64
    )


def uid(email: str) -> str:
    return f"uid-{email}"


STEPS = (
    Step("s1", Stage.INVITE_PROMOTE, Invite(("new@x.com",), MemberRole.STANDARD, None), ("c1",)),
    Step("s2", Stage.INVITE_PROMOTE, UpdateMember(uid("dave@x.com"), "dave@x.com",
                                                  MemberRole.ADMIN, None), ("c2",)),
    Step("s3", Stage.GRANT, Assign(uid("g1@x.com"), "g1@x.com", AD, "operator"), ("c3",)),
    Step("s4", Stage.REMOVE_MEMBER, RemoveMember("gone@x.com", uid("gone@x.com")), ("c4",)),
    Step("s5", Stage.DEMOTE_ADMIN, RemoveMember("old@x.com", uid("old@x.com")), ("c5",), ("s2",)),
)  # fmt: skip


async def run(
    plan: Plan, provider: FakeProvider, log: Path, concurrency: int = 8
) -> tuple[dict[str, StepResult], list[StepResult]]:
    seen: list[StepResult] = []
    with AuditLog(log, context=CONTEXT) as audit:
        result = await execute(
            plan, provider, audit=audit, concurrency=concurrency, on_step=seen.append
        )
    return result.results, seen


async def test_stages_run_in_order_whatever_the_step_order(tmp_path: Path) -> None:
    provider = world()
    results, seen = await run(plan_of(*reversed(STEPS)), provider, tmp_path / "a.jsonl")
    assert all(r.outcome is Outcome.SUCCEEDED for r in results.values())
    stages = [r.step.stage for r in seen]
    assert stages == sorted(stages)
    assert provider.calls[-1] == ("remove_member", (uid("old@x.com"),))
    after = provider.state
    assert after.members["new@x.com"].status is MemberStatus.PENDING
    assert after.members["dave@x.com"].role is MemberRole.ADMIN
    assert after.grants[(AD, "g1@x.com")].role == "operator"
    assert "gone@x.com" not in after.members and "old@x.com" not in after.members


async def test_an_audit_record_per_change_attempt_valid_against_the_schema(tmp_path: Path) -> None:
    noted = change("grant:a", Stage.INVITE_PROMOTE, note="Q1 review", expires="2027-01-31")
    invite = Step(
        "s1",
        Stage.INVITE_PROMOTE,
        Invite(("new@x.com",), MemberRole.STANDARD, None, (AD.id,), "analyst"),
        ("member:new@x.com", "grant:a"),
    )
    failing = Step("s2", Stage.GRANT, Assign("uid-nobody", "nobody@x.com", AD, "admin"), ("c2",))
    skipped = Step("s3", Stage.REVOKE, Unassign("uid-x", "x@x.com", AD), ("c3",), ("s2",))
    plan = plan_of(invite, failing, skipped, changes=[noted])
    log = tmp_path / "audit.jsonl"
    results, _ = await run(plan, world(), log)
    assert [r.outcome for r in results.values()] == [
        Outcome.SUCCEEDED,
        Outcome.FAILED,
        Outcome.SKIPPED,
    ]
    records = read_records(log)
    assert [(r["step"], r["change"]["id"]) for r in records] == [
        ("s1", "member:new@x.com"),
        ("s1", "grant:a"),
        ("s2", "c2"),
        ("s3", "c3"),
    ]
    for record in records:
        jsonschema.validate(record, SCHEMA)
        assert record["plan_digest"] == plan.checksum()
        assert record["actor"] == "tester"
    assert [r["result"] for r in records] == ["succeeded", "succeeded", "failed", "skipped"]
    assert records[0]["op"] == "invite" and records[0]["request_ids"]
    assert (records[1]["reason"], records[1]["expires"]) == ("Q1 review", "2027-01-31")
    assert records[2]["error"] and not records[2]["request_ids"]


async def test_step_results_carry_their_changes(tmp_path: Path) -> None:
    results, seen = await run(plan_of(*STEPS), world(), tmp_path / "a.jsonl")
    assert [c.id for c in results["s1"].changes] == ["c1"]
    assert {r.step.id for r in seen} == {s.id for s in STEPS}


async def test_a_failed_promotion_skips_admin_removals_and_others_continue(tmp_path: Path) -> None:
    provider = world()
    provider.fail = {f"update_member:{uid('dave@x.com')}": ApiError("boom", code=40002)}
    plan = plan_of(*STEPS)
    with AuditLog(tmp_path / "a.jsonl", context=CONTEXT) as audit:
        result = await execute(plan, provider, audit=audit)
    assert not result.ok
    outcomes = {sid: r.outcome for sid, r in result.results.items()}
    assert outcomes == {
        "s1": Outcome.SUCCEEDED,
        "s2": Outcome.FAILED,
        "s3": Outcome.SUCCEEDED,
        "s4": Outcome.SUCCEEDED,
        "s5": Outcome.SKIPPED,
    }
    assert "s2" in (result.results["s5"].error or "")
    assert "old@x.com" in provider.state.members  # the admin was never removed
    assert ("remove_member", (uid("old@x.com"),)) not in provider.calls
    assert result.counts() == {"succeeded": 3, "failed": 1, "skipped": 1}
    records = read_records(tmp_path / "a.jsonl")
    assert {r["result"] for r in records} == {"succeeded", "failed", "skipped"}


async def test_a_skipped_step_skips_its_own_dependents(tmp_path: Path) -> None:
    provider = world()
    provider.fail = {"share": ApiError("boom", code=40002)}
    first = Step("s1", Stage.SHARE, Share(AGENCY, (AD.id,), "analyst"), ("c1",))
    second = Step("s2", Stage.SHARE, Share(AGENCY, ("2",), "admin"), ("c2",), ("s1",))
    third = Step(
        "s3", Stage.REVOKE, Unshare(AGENCY, AssetType.AD_ACCOUNT, ("2",)), ("c3",), ("s2",)
    )
    results, _ = await run(plan_of(first, second, third), provider, tmp_path / "a.jsonl")
    assert [results[s].outcome for s in ("s1", "s2", "s3")] == [
        Outcome.FAILED,
        Outcome.SKIPPED,
        Outcome.SKIPPED,
    ]
    assert provider.ops == ["share"]


async def test_a_dependency_within_a_stage_runs_first(tmp_path: Path) -> None:
    provider = world()
    later = Step(
        "s2", Stage.SHARE, Share(AGENCY, ("7100000000000000002",), "admin"), ("c2",), ("s1",)
    )
    first = Step("s1", Stage.SHARE, Share(AGENCY, (AD.id,), "analyst"), ("c1",))
    results, seen = await run(plan_of(later, first), provider, tmp_path / "a.jsonl")
    assert [r.step.id for r in seen] == ["s1", "s2"]
    assert all(r.outcome is Outcome.SUCCEEDED for r in results.values())


@pytest.mark.parametrize(
    "depends_on",
    ["s99", "s9"],
    ids=["not in the plan", "in a later stage"],
)
async def test_unmet_dependencies_are_skipped_never_called(tmp_path: Path, depends_on: str) -> None:
    provider = world()
    orphan = Step("s1", Stage.GRANT, Assign(uid("g1@x.com"), "g1@x.com", AD, "admin"), ("c1",),
                  (depends_on,))  # fmt: skip
    later = Step("s9", Stage.REMOVE_MEMBER, RemoveMember("gone@x.com", uid("gone@x.com")), ("c9",))
    results, _ = await run(plan_of(orphan, later), provider, tmp_path / "a.jsonl")
    assert results["s1"].outcome is Outcome.SKIPPED
    assert "unmet dependency" in (results["s1"].error or "")
    assert results["s9"].outcome is Outcome.SUCCEEDED
    assert "assign" not in provider.ops


@pytest.mark.parametrize("error", [AuthError("token revoked"), PermissionDeniedError("not admin")])
async def test_an_auth_error_stops_every_later_call(tmp_path: Path, error: BcsyncError) -> None:
    provider = world()
    provider.fail = {"invite": error}
    results, _ = await run(plan_of(*STEPS), provider, tmp_path / "a.jsonl", concurrency=1)
    assert results["s1"].outcome is Outcome.FAILED
    later = [r for sid, r in results.items() if sid != "s1"]
    assert len(later) == 4
    assert all(r.outcome is Outcome.SKIPPED for r in later)
    # Steps not attempted say why; a dependent of one says which dependency did not succeed.
    assert all(error.message in (r.error or "") for r in later if not r.step.depends_on)
    assert provider.ops == ["invite"]


async def test_an_api_error_does_not_stop_independent_steps(tmp_path: Path) -> None:
    provider = world()
    provider.fail = {"invite": ApiError("bad email", code=40002)}
    results, _ = await run(plan_of(*STEPS), provider, tmp_path / "a.jsonl", concurrency=1)
    assert [r.outcome for r in results.values()].count(Outcome.SUCCEEDED) == 4


@pytest.mark.parametrize("concurrency", [1, 3])
async def test_concurrency_within_a_stage_is_bounded(tmp_path: Path, concurrency: int) -> None:
    members = [bound(f"m{i}@x.com") for i in range(12)]
    provider = FakeProvider(state(members, (CAT,)))
    steps = tuple(
        Step(f"s{i}", Stage.GRANT, Assign(uid(f"m{i}@x.com"), f"m{i}@x.com", CAT, "admin"),
             (f"c{i}",))
        for i in range(12)
    )  # fmt: skip
    results, _ = await run(plan_of(*steps), provider, tmp_path / "a.jsonl", concurrency)
    assert all(r.outcome is Outcome.SUCCEEDED for r in results.values())
    assert provider.max_active == concurrency
    assert len(provider.calls) == 12


async def test_the_audit_log_is_synced_after_every_stage(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At each fsync, exactly the records of the stages run so far are on disk."""
    log = tmp_path / "audit.jsonl"
    synced: list[tuple[int, int]] = []
    original = AuditLog.sync

    def spy(self: AuditLog) -> None:
        original(self)
        on_disk = len(log.read_text(encoding="utf-8").splitlines()) if log.exists() else 0
        synced.append((self.count, on_disk))

    monkeypatch.setattr(AuditLog, "sync", spy)
    with AuditLog(log, context=CONTEXT) as audit:
        await execute(plan_of(*STEPS), world(), audit=audit)
        during = list(synced)
    per_stage = [sum(len(s.changes) for s in STEPS if s.stage <= stage) for stage in Stage]
    assert during == [(n, n) for n in per_stage]
    assert len(during) == len(Stage)


OWNER_UID = uid("owner@x.com")


@pytest.mark.parametrize(
    ("params", "call"),
    [
        (
            Invite(("a@x.com", "b@x.com"), MemberRole.ADMIN, FinanceRole.MANAGER),
            ("invite", ("a@x.com,b@x.com",)),
        ),
        (
            UpdateMember(uid("dave@x.com"), "dave@x.com", MemberRole.ADMIN, None),
            ("update_member", (uid("dave@x.com"),)),
        ),
        (RemoveMember("gone@x.com", uid("gone@x.com")), ("remove_member", (uid("gone@x.com"),))),
        (RemoveMember("pend@x.com", None), ("remove_member", ("pend@x.com",))),
        (Assign(OWNER_UID, "owner@x.com", AD, "admin"), ("assign", (OWNER_UID,))),
        (Unassign(OWNER_UID, "owner@x.com", CAT), ("unassign", (OWNER_UID,))),
        (Share(AGENCY, ("7100000000000000002",), "analyst"), ("share", (AGENCY,))),
        (Unshare(AGENCY, AssetType.AD_ACCOUNT, (AD.id,)), ("unshare", (AGENCY,))),
        (RemovePartner(AGENCY), ("remove_partner", (AGENCY,))),
    ],
    ids=lambda v: type(v).__name__ if not isinstance(v, tuple) else "",
)
async def test_run_step_calls_the_operation_its_parameters_name(
    params: Params, call: tuple[str, tuple[object, ...]]
) -> None:
    members = [*world().state.members.values(), member("pend@x.com", status="pending")]
    shared: list[Entry] = [Partner(AGENCY), PartnerShare(AGENCY, AD, "operator")]
    entries: list[Entry] = [*members, Grant(CAT, "owner@x.com", "admin"), *shared]
    provider = FakeProvider(state(entries, (AD, CAT)))
    before = provider.state
    written = await run_step(provider, Step("s1", Stage.GRANT, params, ("c1",)))
    assert provider.calls == [call]
    assert written.request_ids == ("req-1",)
    # Every parameter reached the provider: the BC changed exactly as the step says.
    assert provider.state.fingerprint() == simulate(before, params).fingerprint()
    assert provider.state.fingerprint() != before.fingerprint()


async def test_run_step_passes_typed_values_to_the_provider() -> None:
    provider = world()
    step = Step(
        "s1",
        Stage.GRANT,
        UpdateMember(uid("dave@x.com"), "dave@x.com", MemberRole.ADMIN, FinanceRole.ANALYST),
        ("c",),
    )
    await run_step(provider, step)
    dave = provider.state.members["dave@x.com"]
    assert (dave.role, dave.finance_role) == (MemberRole.ADMIN, FinanceRole.ANALYST)


def test_exit_codes_of_the_error_classes() -> None:
    """Each class owns its exit code (errors.py's tree); a refactor must not move one."""
    from bcsync import errors

    expected = {
        errors.ConfigError: 3,
        errors.PlanFileError: 3,
        errors.UsageError: 64,
        errors.FileAccessError: 1,
        errors.UnsafePlanError: 4,
        errors.StalePlanError: 4,
        errors.LockHeldError: 4,
        errors.DeclinedError: 4,
        errors.FormatRefusedError: 4,
        errors.ProviderError: 1,
        errors.AuthError: 1,
    }
    assert {cls: int(cls.exit_code) for cls in expected} == expected
