"""Re-runs converge: a reviewed plan applies what remains of it, or says it is already applied.

`progress_of` is the one rule (issue 16, item 3): the fresh plan is the reviewed plan, or it makes
only changes identical to reviewed ones and fewer of them; anything else is refused (exit 4).
The attacker's tests edit the reviewed plan, re-seal it, and try it against a half-applied BC.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from builders import BC, bound
from fake_provider import FakeProvider
from test_reconcile import config_of, fresh, world

from bcsync.core.model import BusinessCenterConfig, Policy, RemovalLimit
from bcsync.core.plan import Plan, checksum_of
from bcsync.core.refusal import Act, Refusal, RefusalKind, Subject, SubjectKind
from bcsync.core.schedule import schedule
from bcsync.errors import ApiError, BcsyncError, ExitCode, StalePlanError, UnsafePlanError
from bcsync.loop.apply import ApplyResult, Outcome
from bcsync.loop.audit import AuditLog
from bcsync.loop.reconcile import (
    Progress,
    Reviewed,
    apply_planned,
    check_apply,
    check_reviewed,
    plan_all,
    progress_of,
)

Doc = dict[str, Any]
FAIL_SHARES = {"share": ApiError("no such partner", code=40002)}


async def applied(
    plan: Plan, provider: FakeProvider, tmp_path: Path, fail: Mapping[str, BcsyncError]
) -> ApplyResult:
    provider.fail = fail
    with AuditLog(tmp_path / "audit.jsonl", context={"actor": "t", "git_commit": None}) as log:
        (result,) = await apply_planned([(plan, provider)], audit=log)
    provider.fail = {}
    return result


async def half_applied(
    tmp_path: Path, config: BusinessCenterConfig | None = None
) -> tuple[Plan, FakeProvider, BusinessCenterConfig]:
    """A reviewed plan, applied with its partner share failing: the rest is made."""
    config = config or config_of()
    provider = world()
    (reviewed,) = await fresh([config], {BC: provider})
    result = await applied(reviewed, provider, tmp_path, FAIL_SHARES)
    assert not result.ok and result.changes_with(Outcome.SUCCEEDED)
    return reviewed, provider, config


def made(plan: Plan) -> int:
    return sum(c.is_change for c in plan.changes)


async def test_an_untouched_bc_runs_the_whole_reviewed_plan() -> None:
    provider = world()
    (reviewed,) = await fresh([config_of()], {BC: provider})
    (again,) = await fresh([config_of()], {BC: provider})
    verdict = progress_of(reviewed, again)
    assert verdict.progress is Progress.WHOLE
    assert verdict.reviewed == verdict.remaining == made(reviewed) > 0


async def test_after_a_partial_apply_what_remains_runs_and_then_it_is_done(tmp_path: Path) -> None:
    reviewed, provider, config = await half_applied(tmp_path)
    (rest,) = await fresh([config], {BC: provider})
    verdict = progress_of(reviewed, rest)
    assert verdict.progress is Progress.REMAINDER
    assert 0 < verdict.remaining == made(rest) < verdict.reviewed == made(reviewed)
    assert {c.kind.value for c in rest.changes if c.is_change} == {"partner", "partner_share"}
    assert "remain" in verdict.sentence()
    assert check_apply([rest], Reviewed(plans=[reviewed.to_json()])) == [verdict]
    assert (await applied(rest, provider, tmp_path, {})).ok

    (after,) = await fresh([config], {BC: provider})
    done = progress_of(reviewed, after)
    assert done.progress is Progress.DONE and done.remaining == 0
    assert "already applied" in done.sentence()
    checksum = checksum_of([reviewed])
    (verdict,) = check_reviewed(Reviewed([reviewed.to_json()], (checksum, checksum)), [after])
    assert verdict == done


async def test_a_checksum_alone_cannot_say_what_remains(tmp_path: Path) -> None:
    reviewed, provider, config = await half_applied(tmp_path)
    (rest,) = await fresh([config], {BC: provider})
    with pytest.raises(StalePlanError) as caught:
        check_reviewed(Reviewed(checksums=(checksum_of([reviewed]),)), [rest])
    assert caught.value.exit_code is ExitCode.REFUSED
    assert caught.value.hint and "--plan FILE" in caught.value.hint


async def test_another_plan_file_under_the_reviewed_checksum_is_refused(tmp_path: Path) -> None:
    """The artifact swapped for another plan: the checksum pins the reviewed one."""
    reviewed, provider, config = await half_applied(tmp_path)
    (rest,) = await fresh([config], {BC: provider})
    for checksum in (checksum_of([rest]), "sha256:" + "0" * 64):
        with pytest.raises(StalePlanError) as caught:
            check_reviewed(Reviewed([reviewed.to_json()], (checksum,)), [rest])
        assert checksum_of([reviewed]) in caught.value.message


def by_hand(provider: FakeProvider, **changes: Any) -> None:
    provider.state = replace(provider.state, **changes)


async def test_a_change_nobody_reviewed_is_refused(tmp_path: Path) -> None:
    """The BC changed by hand after the partial apply: the fresh plan makes one more change."""
    reviewed, provider, config = await half_applied(tmp_path)
    intruder = bound("intruder@acme.com", "admin")
    by_hand(provider, members={**provider.state.members, intruder.email: intruder})
    (rest,) = await fresh([config], {BC: provider})
    with pytest.raises(StalePlanError) as caught:
        progress_of(reviewed, rest)
    assert "intruder@acme.com" in caught.value.message and "not reviewed" in caught.value.message


async def test_a_change_altered_since_the_review_is_refused(tmp_path: Path) -> None:
    """A remaining change whose `before` moved (a role changed by hand) is not the reviewed one."""
    config = config_of()
    provider = world()
    (reviewed,) = await fresh([config], {BC: provider})
    fail: dict[str, BcsyncError] = {"assign": ApiError("busy", code=40100), **FAIL_SHARES}
    assert not (await applied(reviewed, provider, tmp_path, fail)).ok
    grants = provider.state.grants
    key = next(k for k, g in grants.items() if g.member == "bob@acme.com")
    by_hand(provider, grants={**grants, key: replace(grants[key], role="admin")})
    (rest,) = await fresh([config], {BC: provider})
    with pytest.raises(StalePlanError) as caught:
        progress_of(reviewed, rest)
    assert "bob@acme.com" in caught.value.message and "before.role" in caught.value.message


async def test_the_guards_judge_what_remains(tmp_path: Path) -> None:
    """A plan reviewed with --allow-removals: finishing it without the flag is refused."""
    policy = Policy(
        min_admins=1, max_removals=RemovalLimit(0, percent=False), removal_threshold_floor=0
    )
    config = config_of(policy=policy)
    provider = world()
    (reviewed,) = [p.plan for p in await _plan(config, provider, allow_removals=True)]
    assert not reviewed.refusals
    fail: dict[str, BcsyncError] = {"remove_member": ApiError("busy", code=40100)}
    assert not (await applied(reviewed, provider, tmp_path, fail)).ok
    (rest,) = [p.plan for p in await _plan(config, provider, allow_removals=False)]
    assert progress_of(reviewed, rest).progress is Progress.REMAINDER
    with pytest.raises(UnsafePlanError):
        check_apply([rest], Reviewed(plans=[reviewed.to_json()]))


async def _plan(config: BusinessCenterConfig, provider: FakeProvider, **kw: bool) -> Any:
    return await plan_all([config], {BC: provider}, **kw)


REMOVAL_REFUSED = Refusal(
    RefusalKind.REMOVAL_LIMIT,
    Subject(SubjectKind.ENTRIES),
    Act.REMOVE,
    count=9,
    total=10,
    limit="25%",
    override="--allow-removals",
)


async def test_a_refused_or_other_config_plan_is_never_a_remainder(tmp_path: Path) -> None:
    reviewed, provider, config = await half_applied(tmp_path)
    (rest,) = await fresh([config], {BC: provider})
    for other in (
        replace(reviewed, refusals=(REMOVAL_REFUSED,)),
        replace(reviewed, config_digest="sha256:" + "f" * 64),
        replace(reviewed, config_digest=""),
    ):
        with pytest.raises(StalePlanError):
            progress_of(other, rest)


# -- the attacker edits the reviewed plan and re-seals it, against a half-applied BC ----------


def reseal(doc: Doc) -> Doc:
    plan = Plan.from_json(doc)
    doc["checksum"] = plan.checksum()
    return doc


def drop_remaining(doc: Doc) -> None:
    """Drop the change that is still to make: what remains is then not part of the file."""
    doc["changes"] = [c for c in doc["changes"] if c["kind"] != "partner_share"]


def reorder(doc: Doc) -> None:
    doc["changes"].reverse()


def drop_step(doc: Doc) -> None:
    doc["steps"].pop()


def swap_steps(doc: Doc) -> None:
    doc["steps"][0], doc["steps"][-1] = doc["steps"][-1], doc["steps"][0]


def alter_remaining(doc: Doc) -> None:
    share = next(c for c in doc["changes"] if c["kind"] == "partner_share")
    share["after"]["role"] = "admin"


def rescheduled(edit: Callable[[Doc], None]) -> Callable[[Doc], None]:
    """`edit`, then the steps made again from the edited changes, as a careful attacker would."""

    def both(doc: Doc) -> None:
        edit(doc)
        doc["steps"] = [s.to_json() for s in schedule(Plan.from_json(doc).changes)]

    return both


EDITS: dict[str, Callable[[Doc], None]] = {
    "the remaining change dropped, rescheduled": rescheduled(drop_remaining),
    "the remaining change altered, rescheduled": rescheduled(alter_remaining),
    "the remaining change dropped": drop_remaining,
    "changes reordered": reorder,
    "a step dropped": drop_step,
    "steps swapped": swap_steps,
    "the remaining change altered": alter_remaining,
    "another BC": lambda d: d.update(bc_id="7099999999999999999"),
    "a refusal emptied into one": lambda d: d.update(refusals=[REMOVAL_REFUSED.to_json()]),
}


@pytest.mark.parametrize("edit", list(EDITS.values()), ids=list(EDITS))
async def test_an_edited_reviewed_plan_finishes_nothing(
    tmp_path: Path, edit: Callable[[Doc], None]
) -> None:
    reviewed, provider, config = await half_applied(tmp_path)
    (rest,) = await fresh([config], {BC: provider})
    doc = copy.deepcopy(reviewed.to_json())
    edit(doc)
    with pytest.raises(StalePlanError) as caught:
        check_apply([rest], Reviewed(plans=[reseal(doc)], source="the saved plan p.json"))
    assert caught.value.exit_code is ExitCode.REFUSED
    assert "p.json" in caught.value.message


async def test_an_unsealed_edit_is_refused_with_the_first_difference(tmp_path: Path) -> None:
    reviewed, provider, config = await half_applied(tmp_path)
    (rest,) = await fresh([config], {BC: provider})
    doc = copy.deepcopy(reviewed.to_json())
    doc["changes"].append(copy.deepcopy(doc["changes"][0]) | {"id": "member:x@acme.com"})
    with pytest.raises(StalePlanError) as caught:
        check_apply([rest], Reviewed(plans=[doc]))
    assert "not what would run now" in caught.value.message


async def test_a_padded_plan_runs_only_what_the_config_makes(tmp_path: Path) -> None:
    """Extra changes in the file never run: what runs is the fresh plan, a part of the file."""
    provider = world()
    (reviewed,) = await fresh([config_of()], {BC: provider})
    doc = copy.deepcopy(reviewed.to_json())
    extra = copy.deepcopy(next(c for c in doc["changes"] if c["action"] == "update"))
    doc["changes"].append(extra | {"id": "member:zz@acme.com", "key": "zz@acme.com"})
    with pytest.raises(StalePlanError):  # the padded plan is not well formed: not a bcsync plan
        check_apply([reviewed], Reviewed(plans=[reseal(doc)]))
