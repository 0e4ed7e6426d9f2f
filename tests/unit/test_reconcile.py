"""reconcile: plan every BC, run only the reviewed plan, once per machine; with the shared fake."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

import builders
import pytest
from builders import AGENCY, BC, Entry, bc_config, bound, member
from fake_provider import FakeProvider

from bcsync.auditor.auditquery import read_records
from bcsync.core.change import MemberValue, RoleValue
from bcsync.core.model import (
    AssetKey,
    AssetType,
    BusinessCenterConfig,
    Grant,
    Partner,
    PartnerShare,
    Policy,
    State,
)
from bcsync.core.plan import Plan, checksum_of
from bcsync.errors import (
    ApiError,
    ExitCode,
    LockHeldError,
    PermissionDeniedError,
    StalePlanError,
    UnsafePlanError,
)
from bcsync.loop.apply import Outcome
from bcsync.loop.audit import AuditLog
from bcsync.loop.planfile import first_difference
from bcsync.loop.reconcile import (
    BCS_AT_ONCE,
    Reviewed,
    apply_planned,
    bc_lock,
    check_apply,
    check_reviewed,
    lock_dir,
    locks,
    plan_all,
    plan_each,
)
from bcsync.providers import Scope
from bcsync.providers.base import ReadResult

US = AssetKey(AssetType.AD_ACCOUNT, "7100000000000000001")
CAT = AssetKey(AssetType.CATALOG, "7300000000000000001")
OTHER_BC = "7099999999999999999"

DESIRED: list[Entry] = [
    member("owner@acme.com", "admin"),
    member("ops@acme.com", "admin"),
    member("bob@acme.com"),
    member("new@acme.com"),
    Grant(US, "bob@acme.com", "operator"),
    Grant(US, "new@acme.com", "analyst"),
    Grant(CAT, "new@acme.com", "admin"),
    Partner(AGENCY),
    PartnerShare(AGENCY, US, "analyst"),
]
ACTUAL: list[Entry] = [
    bound("owner@acme.com", "admin"),
    bound("ops@acme.com"),
    bound("bob@acme.com"),
    bound("gone@acme.com"),
    Grant(US, "bob@acme.com", "analyst"),
]


def config_of(
    desired: Iterable[Entry] = DESIRED, bc_id: str = BC, policy: Policy | None = None
) -> BusinessCenterConfig:
    config = bc_config(builders.state(desired, (US, CAT)), policy=policy or Policy(min_admins=1))
    return replace(config, bc_id=bc_id)


def world(entries: Iterable[Entry] = ACTUAL, bc_id: str = BC, accept: bool = False) -> FakeProvider:
    state = replace(builders.state(entries, (US, CAT)), bc_id=bc_id)
    return FakeProvider(state, accept_invites=accept)


async def fresh(
    configs: list[BusinessCenterConfig], providers: dict[str, FakeProvider]
) -> list[Plan]:
    return [p.plan for p in await plan_all(configs, providers)]


async def test_plan_apply_plan_converges(tmp_path: Path) -> None:
    """Apply, let the invitees accept, apply what they unlocked: nothing is left to do."""
    configs = [config_of()]
    providers = {BC: world(accept=True)}
    for _ in range(2):
        plans = await fresh(configs, providers)
        check_apply(plans)
        with AuditLog(tmp_path / "audit.jsonl", context={"actor": "t", "git_commit": None}) as log:
            results = await apply_planned([(p, providers[p.bc_id]) for p in plans], audit=log)
        assert all(r.ok for r in results)
    (last,) = await fresh(configs, providers)
    assert not last.has_changes
    attempted = {r["change"]["id"] for r in read_records(tmp_path / "audit.jsonl")}
    assert f"grant:{CAT}:new@acme.com" in attempted  # deferred, then assigned after acceptance


async def test_several_bcs_are_planned_and_applied_each_with_its_provider(tmp_path: Path) -> None:
    configs = [config_of(), config_of(bc_id=OTHER_BC)]
    providers = {BC: world(), OTHER_BC: world(bc_id=OTHER_BC)}
    plans = await fresh(configs, providers)
    assert [p.bc_id for p in plans] == [BC, OTHER_BC]
    assert plans[0].checksum() != plans[1].checksum()  # the BC id is part of what runs
    with AuditLog(tmp_path / "audit.jsonl", context={"actor": "t", "git_commit": None}) as log:
        results = await apply_planned([(p, providers[p.bc_id]) for p in plans], audit=log)
    assert [r.plan.bc_id for r in results] == [BC, OTHER_BC]
    assert all(r.ok for r in results)
    assert providers[BC].calls and providers[OTHER_BC].calls
    assert {r["bc_id"] for r in read_records(tmp_path / "audit.jsonl")} == {BC, OTHER_BC}


async def saved_and_fresh() -> tuple[dict[str, Any], Plan]:
    (plan,) = await fresh([config_of()], {BC: world()})
    return plan.to_json(), plan


def edited(doc: dict[str, Any], field: str, index: int, *path: str, value: Any) -> dict[str, Any]:
    """A deep copy of a saved plan body with one value replaced."""
    import copy

    out = copy.deepcopy(doc)
    target = out[field][index]
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return out


async def test_first_difference_of_an_identical_plan_is_none() -> None:
    saved, plan = await saved_and_fresh()
    assert first_difference(saved, plan) is None


async def test_first_difference_names_the_first_differing_change() -> None:
    saved, plan = await saved_and_fresh()
    roles = (MemberValue, RoleValue)
    index = next(i for i, c in enumerate(plan.changes) if isinstance(c.after, roles))
    doc = edited(saved, "changes", index, "after", "role", value="admin")
    difference = first_difference(doc, plan)
    assert difference is not None
    assert f"change {index + 1} " in difference
    assert plan.changes[index].title in difference
    assert "after.role" in difference and "'admin'" in difference


async def test_first_difference_names_the_first_differing_step() -> None:
    saved, plan = await saved_and_fresh()
    index = len(plan.steps) - 1
    doc = edited(saved, "steps", index, "params", "email", value="owner@acme.com")
    difference = first_difference(doc, plan)
    assert difference is not None
    assert f"step {index + 1} " in difference and "params.email" in difference
    assert "owner@acme.com" in difference


@pytest.mark.parametrize(
    ("edit", "says"),
    [
        (lambda d: d["steps"].append(d["steps"][-1]), "more steps"),
        (lambda d: d["steps"].pop(), "fewer steps"),
        (lambda d: d["changes"].pop(0), "change 1 "),
        (lambda d: d.update(refusals=["refusing to remove 9 of 10"]), "refused"),
        (lambda d: d.update(config_digest=""), "config"),
        (lambda d: d.update(config_digest="sha256:" + "f" * 64), "config"),
        (lambda d: d.update(checksum="sha256:" + "0" * 64), "checksum"),
        (lambda d: d.pop("steps"), "steps are missing"),
    ],
    ids=[
        "extra step",
        "missing step",
        "missing change",
        "refused",
        "empty config digest",
        "other config",
        "checksum",
        "no steps",
    ],
)
async def test_first_difference_of_an_edited_plan(edit: Any, says: str) -> None:
    saved, plan = await saved_and_fresh()
    edit(saved)
    difference = first_difference(saved, plan)
    assert difference is not None and says in difference


async def test_check_reviewed_accepts_the_checksum_plan_printed() -> None:
    saved, plan = await saved_and_fresh()
    check_reviewed(Reviewed(checksums=(checksum_of([plan]),)), [plan])
    check_reviewed(Reviewed(plans=[saved], checksums=(checksum_of([plan]),)), [plan])


@pytest.mark.parametrize(
    "reviewed",
    [
        Reviewed(checksums=("sha256:" + "0" * 64,)),
        Reviewed(checksums=("",)),
    ],
    ids=["another checksum", "empty checksum"],
)
async def test_check_reviewed_refuses_another_checksum(reviewed: Reviewed) -> None:
    _, plan = await saved_and_fresh()
    with pytest.raises(StalePlanError) as caught:
        check_reviewed(reviewed, [plan])
    assert caught.value.exit_code is ExitCode.REFUSED
    assert checksum_of([plan]) in caught.value.message
    assert plan.summary.sentence() in caught.value.message  # what a fresh plan would do


async def test_check_reviewed_needs_every_checksum_to_match() -> None:
    saved, plan = await saved_and_fresh()
    both = Reviewed(plans=[saved], checksums=(checksum_of([plan]), "sha256:" + "1" * 64))
    with pytest.raises(StalePlanError):
        check_reviewed(both, [plan])


async def test_check_reviewed_refuses_another_set_of_bcs() -> None:
    saved, plan = await saved_and_fresh()
    other = {**saved, "bc_id": OTHER_BC}
    for plans in ([other], [saved, saved], [saved, other]):
        with pytest.raises(StalePlanError) as caught:
            check_reviewed(Reviewed(plans=plans, source="the saved plan p.json"), [plan])
        assert "p.json" in caught.value.message or OTHER_BC in caught.value.message


async def test_check_reviewed_names_the_source_and_the_difference() -> None:
    saved, plan = await saved_and_fresh()
    saved["steps"][0]["stage"] = 6
    with pytest.raises(StalePlanError) as caught:
        check_reviewed(Reviewed(plans=[saved], source="the saved plan p.json"), [plan])
    assert "p.json" in caught.value.message and "step 1 " in caught.value.message
    assert caught.value.hint and "plan --out" in caught.value.hint


async def test_check_apply_refuses_a_refused_plan_even_when_reviewed() -> None:
    policy = Policy(min_admins=1, protected=("gone@acme.com",))
    (plan,) = await fresh([config_of(policy=policy)], {BC: world()})
    assert plan.refusals
    reviewed = Reviewed(plans=[plan.to_json()], checksums=(checksum_of([plan]),))
    for given in (None, Reviewed(checksums=(checksum_of([plan]),)), reviewed):
        with pytest.raises((UnsafePlanError, StalePlanError)) as caught:
            check_apply([plan], given)
        assert caught.value.exit_code is ExitCode.REFUSED


async def test_a_refused_plan_runs_nothing(tmp_path: Path) -> None:
    policy = Policy(min_admins=1, protected=("gone@acme.com",))
    provider = world()
    (plan,) = await fresh([config_of(policy=policy)], {BC: provider})
    with pytest.raises(UnsafePlanError):
        check_apply([plan])
    assert provider.calls == []


async def test_apply_results_report_per_step_outcomes(tmp_path: Path) -> None:
    provider = world()
    (plan,) = await fresh([config_of()], {BC: provider})
    provider.fail = {"share": ApiError("no such partner", code=40002)}
    with AuditLog(tmp_path / "audit.jsonl", context={"actor": "t", "git_commit": None}) as log:
        (result,) = await apply_planned([(plan, provider)], audit=log)
    assert not result.ok
    assert [r.step.op.value for r in result.results.values() if r.outcome is Outcome.FAILED] == [
        "share"
    ]


# -- locks: one per BC on the machine, whatever --state-dir says ------------------------------


def test_lock_dir_is_per_machine_not_per_state_dir(tmp_path: Path) -> None:
    assert lock_dir({"BCSYNC_LOCK_DIR": str(tmp_path)}) == tmp_path
    runtime = lock_dir({"XDG_RUNTIME_DIR": "/run/user/1000"})
    assert runtime.parent == Path("/run/user/1000") and runtime.name.startswith("bcsync-locks-")
    fallback = lock_dir({})
    assert fallback.name == runtime.name and fallback.is_absolute()


def test_a_second_lock_on_the_same_bc_is_refused(tmp_path: Path) -> None:
    with bc_lock(tmp_path, BC):
        with pytest.raises(LockHeldError) as info, bc_lock(tmp_path, BC, timeout=0.05):
            pass  # pragma: no cover - never entered
        assert info.value.exit_code is ExitCode.REFUSED
        assert BC in info.value.message
        with bc_lock(tmp_path, OTHER_BC, timeout=0.05):
            pass  # another BC is independent
    with bc_lock(tmp_path, BC, timeout=0.05):
        pass  # released


def test_locks_default_to_the_machine_lock_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BCSYNC_LOCK_DIR", str(tmp_path / "machine"))
    with locks([BC, OTHER_BC]):
        assert {p.name for p in (tmp_path / "machine").iterdir()} == {
            f"{BC}.lock",
            f"{OTHER_BC}.lock",
        }
        with pytest.raises(LockHeldError), locks([OTHER_BC], timeout=0.05):
            pass  # pragma: no cover - never entered


def test_a_lock_held_by_another_process_is_refused(tmp_path: Path) -> None:
    """Two processes (two applies with different --state-dir) share the machine's lock."""
    holder = textwrap.dedent(
        f"""
        import sys, time
        from pathlib import Path
        from bcsync.loop.reconcile import bc_lock
        with bc_lock(Path({str(tmp_path)!r}), {BC!r}):
            print("held", flush=True)
            sys.stdin.readline()
        """
    )
    process = subprocess.Popen(
        [sys.executable, "-c", holder], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None and process.stdout.readline().strip() == "held"
        with pytest.raises(LockHeldError), bc_lock(tmp_path, BC, timeout=0.1):
            pass  # pragma: no cover - never entered
    finally:
        assert process.stdin is not None and process.stdout is not None
        process.stdin.close()
        process.wait(timeout=10)
        process.stdout.close()
    with bc_lock(tmp_path, BC, timeout=1):
        pass  # released when the other process ended


class Failing(FakeProvider):
    """A BC whose read fails: another token's, a BC the admin left."""

    def __init__(self, state: State, error: Exception) -> None:
        super().__init__(state)
        self.error = error

    async def read_state(self, scope: Scope) -> ReadResult:
        raise self.error


class Counting(FakeProvider):
    """Notes how many BCs are being read at once."""

    reading = 0
    most = 0

    async def read_state(self, scope: Scope) -> ReadResult:
        Counting.reading += 1
        Counting.most = max(Counting.most, Counting.reading)
        await asyncio.sleep(0.01)
        try:
            return await super().read_state(scope)
        finally:
            Counting.reading -= 1


async def test_one_bc_that_fails_does_not_stop_the_others() -> None:
    ids = [f"70000000000000000{n:02d}" for n in range(3)]
    configs = [config_of(bc_id=b) for b in ids]
    denied = PermissionDeniedError("the token's user is not a member of BC 7000000000000000001")
    providers: dict[str, FakeProvider] = {b: world(bc_id=b) for b in ids}
    providers[ids[1]] = Failing(providers[ids[1]].state, denied)
    planned, failed = await plan_each(configs, providers)
    assert [p.plan.bc_id for p in planned] == [ids[0], ids[2]]
    assert [(f.config.bc_id, f.error) for f in failed] == [(ids[1], denied)]
    assert all(p.plan.has_changes for p in planned)


async def test_a_bug_is_not_taken_for_a_failed_bc() -> None:
    providers: dict[str, FakeProvider] = {BC: Failing(world().state, KeyError("bug"))}
    with pytest.raises(KeyError):
        await plan_each([config_of()], providers)


async def test_a_few_bcs_are_read_at_once_and_no_state_is_kept() -> None:
    ids = [f"70000000000000001{n:02d}" for n in range(12)]
    providers: dict[str, FakeProvider] = {
        b: Counting(replace(builders.state(ACTUAL, (US, CAT)), bc_id=b)) for b in ids
    }
    planned, failed = await plan_each([config_of(bc_id=b) for b in ids], providers)
    assert not failed and len(planned) == 12
    assert Counting.most == BCS_AT_ONCE
    # What was read is dropped once planned: memory follows the few BCs being read.
    assert all(not p.read.state.members and not p.read.state.grants for p in planned)
