"""plan: lock-out-safe order, the guards' verdict, checksum and JSON round trip."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import replace

import builders
import pytest
from builders import AGENCY, Entry, bc_config, bound, member

from bcsync.core.change import WARNING_CAUSES, NoopCause, Stage
from bcsync.core.model import (
    AssetKey,
    AssetType,
    Grant,
    Member,
    MemberRole,
    MemberStatus,
    Partner,
    PartnerShare,
    Policy,
    State,
)
from bcsync.core.plan import Plan, Summary, checksum_of, make_plan, order
from bcsync.core.refusal import RefusalKind
from bcsync.core.schedule import Invite, Op

STUDIO = "7200000000000000010"
CAT = AssetKey(AssetType.CATALOG, "7300000000000000001")


def ad(n: int) -> AssetKey:
    return AssetKey(AssetType.AD_ACCOUNT, f"71000000000000{n:05d}")


ASSETS = (*(ad(n) for n in range(200)), CAT)


want = member


def state(entries: Iterable[Entry]) -> State:
    return builders.state(entries, ASSETS)


def plan_of(desired: Iterable[Entry], actual: Iterable[Entry]) -> Plan:
    config = bc_config(state(desired), policy=Policy(min_admins=1), digest="sha256:" + "1" * 64)
    return make_plan(config, state(actual))


def people(prefix: str, n: int) -> list[str]:
    return [f"{prefix}{i:03d}@acme.com" for i in range(n)]


# One change in every stage, and a no-op, for the order tests.
EVERY_STAGE = plan_of(
    desired=[
        want("owner@acme.com", "admin"),
        want("new@acme.com"),
        want("promo@acme.com", "admin"),
        want("fin@acme.com", finance="analyst"),
        want("demo@acme.com"),
        want("pend@acme.com"),
        Grant(ad(1), "fin@acme.com", "operator"),
        Partner(AGENCY, alias="agency-x"),
        PartnerShare(AGENCY, ad(1), "analyst"),
    ],
    actual=[
        bound("owner@acme.com", "admin"),
        bound("promo@acme.com"),
        bound("fin@acme.com"),
        bound("demo@acme.com", "admin"),
        bound("gone@acme.com"),
        bound("oldadmin@acme.com", "admin"),
        Member("pend@acme.com", MemberRole.STANDARD, status=MemberStatus.PENDING),
        Grant(ad(2), "fin@acme.com", "admin"),
        Partner(STUDIO),
        PartnerShare(STUDIO, ad(3), "analyst"),
    ],
)


def test_changes_are_in_stage_order_with_no_ops_last() -> None:
    ids = [c.id for c in EVERY_STAGE.changes]
    assert ids == [
        "member:new@acme.com",
        "member:promo@acme.com",
        "member:fin@acme.com",
        f"grant:{ad(1)}:fin@acme.com",
        f"partner:{AGENCY}",
        f"share:{AGENCY}:{ad(1)}",
        f"partner:{STUDIO}",
        f"grant:{ad(2)}:fin@acme.com",
        "member:gone@acme.com",
        "member:demo@acme.com",
        "member:oldadmin@acme.com",
        "member:pend@acme.com",
    ]
    stages = [c.stage for c in EVERY_STAGE.changes if c.stage is not None and c.is_change]
    assert len(stages) == len([c for c in EVERY_STAGE.changes if c.is_change])
    assert stages == sorted(stages)
    assert set(stages) == set(Stage)


def test_steps_follow_the_stages() -> None:
    stages = [s.stage for s in EVERY_STAGE.steps]
    assert stages == sorted(stages)
    assert [s.op for s in EVERY_STAGE.steps] == [
        Op.UPDATE_MEMBER,  # promotion first: nobody is locked out
        Op.INVITE,
        Op.UPDATE_MEMBER,
        Op.ASSIGN,
        Op.SHARE,
        Op.REMOVE_PARTNER,
        Op.UNASSIGN,
        Op.REMOVE_MEMBER,
        Op.UPDATE_MEMBER,
        Op.REMOVE_MEMBER,
    ]


def test_demotions_and_admin_removals_depend_on_promotions() -> None:
    steps = {s.changes[0]: s for s in EVERY_STAGE.steps}
    promotion = steps["member:promo@acme.com"].id
    assert steps["member:demo@acme.com"].depends_on == (promotion,)
    assert steps["member:oldadmin@acme.com"].depends_on == (promotion,)
    assert steps["member:gone@acme.com"].depends_on == ()


def carried_by_steps(plan: Plan) -> list[str]:
    return [change for step in plan.steps for change in step.changes]


@pytest.mark.parametrize(
    "plan",
    [
        EVERY_STAGE,
        plan_of(
            [want(e) for e in people("x", 60)]
            + [Grant(ad(1), e, "analyst") for e in people("x", 60)],
            [],
        ),
    ],
    ids=["every stage", "invites with grants"],
)
def test_every_change_is_carried_by_exactly_one_step(plan: Plan) -> None:
    carried = carried_by_steps(plan)
    assert sorted(carried) == sorted(c.id for c in plan.changes if c.is_change)


def test_checksum_is_stable() -> None:
    desired: list[Entry] = [
        want("a@acme.com"),
        want("b@acme.com", "admin"),
        Grant(ad(1), "a@acme.com", "admin"),
    ]
    actual: list[Entry] = [bound("b@acme.com"), bound("c@acme.com")]
    first = plan_of(desired, actual)
    assert first.checksum() == plan_of(desired, actual).checksum()
    assert first.checksum() == plan_of(reversed(desired), reversed(actual)).checksum()
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", first.checksum())
    assert first.checksum() != plan_of(desired, [*actual, bound("d@acme.com")]).checksum()


def test_checksum_changes_with_any_value_that_would_run() -> None:
    plan = EVERY_STAGE
    invite = next(s for s in plan.steps if isinstance(s.params, Invite))
    assert isinstance(invite.params, Invite)
    admin_invite = replace(invite, params=replace(invite.params, role=MemberRole.ADMIN))
    steps = tuple(admin_invite if s is invite else s for s in plan.steps)
    assert replace(plan, steps=steps).checksum() != plan.checksum()
    assert replace(plan, steps=plan.steps[:-1]).checksum() != plan.checksum()
    assert replace(plan, steps=(*plan.steps, plan.steps[-1])).checksum() != plan.checksum()
    first = plan.changes[0]
    retitled = (replace(first, key="someone@else.com"), *plan.changes[1:])
    assert replace(plan, changes=retitled).checksum() != plan.checksum()
    assert replace(plan, bc_id="7099999999999999999").checksum() != plan.checksum()


def test_checksum_ignores_run_metadata() -> None:
    """What runs is the BC, the changes and the steps; where and when the plan was made is not."""
    plan = EVERY_STAGE
    other = replace(
        plan,
        actual_fingerprint="sha256:" + "9" * 64,
        config_path="elsewhere/bcsync.yaml",
        unmanaged_assets=7,
        warnings=("w",),
    )
    assert other.checksum() == plan.checksum()


def test_checksum_of_several_plans_is_independent_of_their_order() -> None:
    one = EVERY_STAGE
    two = replace(plan_of([want("a@acme.com")], []), bc_id="7099999999999999999")
    assert checksum_of([one, two]) == checksum_of([two, one])
    assert checksum_of([one, two]) != checksum_of([one])
    assert checksum_of([one]) != one.checksum()  # a run's checksum is not one plan's


@pytest.mark.parametrize("plan", [EVERY_STAGE, plan_of([], [])], ids=["every stage", "empty"])
def test_plan_json_round_trip(plan: Plan) -> None:
    text = json.dumps(plan.to_json())
    back = Plan.from_json(json.loads(text))
    assert back == plan
    assert back.checksum() == plan.checksum() == plan.to_json()["checksum"]
    assert back.summary == plan.summary


def test_order_puts_no_ops_last_then_stage_kind_key() -> None:
    assert order(reversed(EVERY_STAGE.changes)) == EVERY_STAGE.changes
    noops = [c for c in EVERY_STAGE.changes if not c.is_change]
    assert noops and EVERY_STAGE.changes[-len(noops) :] == tuple(noops)


def test_guards_give_a_verdict_without_changing_what_runs() -> None:
    desired = [want("owner@acme.com", "admin")]
    actual = [bound("owner@acme.com", "admin"), *(bound(e) for e in people("s", 12))]
    config = bc_config(state(desired), policy=Policy(min_admins=1))
    refused = make_plan(config, state(actual))
    allowed = make_plan(config, state(actual), allow_removals=True)
    (refusal,) = refused.refusals
    assert (refusal.kind, refusal.override) == (RefusalKind.REMOVAL_LIMIT, "--allow-removals")
    assert allowed.refusals == ()
    assert refused.steps == allowed.steps
    assert refused.to_json()["refusals"] == [refusal.to_json()]
    assert Plan.from_json(refused.to_json()).refusals == refused.refusals


def test_warnings_are_the_changes_a_reviewer_should_check() -> None:
    missing = AssetKey(AssetType.AD_ACCOUNT, "7100000000000099999")
    desired: list[Entry] = [want("a@acme.com"), Grant(missing, "a@acme.com", "analyst")]
    config = bc_config(builders.state(desired, [missing]), policy=Policy(min_admins=0))
    plan = make_plan(config, state([bound("a@acme.com")]))
    flagged = [c for c in plan.changes if c.cause in WARNING_CAUSES]
    assert [c.cause for c in flagged] == [NoopCause.ASSET_MISSING]
    assert len(plan.warnings) == 1 and plan.warnings[0].startswith(flagged[0].title)
    assert not plan.has_changes


def test_unchanged_counts_declared_entries_that_need_nothing() -> None:
    desired: list[Entry] = [want("a@acme.com"), want("b@acme.com")]
    desired.append(Grant(ad(1), "a@acme.com", "admin"))
    actual: list[Entry] = [bound("a@acme.com"), bound("c@acme.com")]
    actual.append(Grant(ad(1), "a@acme.com", "admin"))
    plan = plan_of(desired, actual)
    assert plan.unchanged == {"member": 1, "grant": 1, "partner": 0, "partner_share": 0}


@pytest.mark.parametrize(
    ("summary", "sentence"),
    [
        (
            Summary(3, 1, 2, 2),
            "Plan: 3 to add, 1 to change, 2 to remove; 2 waiting for acceptance.",
        ),
        (Summary(1, 0, 0, 0), "Plan: 1 to add, 0 to change, 0 to remove."),
    ],
)
def test_summary_sentence(summary: Summary, sentence: str) -> None:
    assert summary.sentence() == sentence
    assert summary.to_json()["total"] == summary.add + summary.change + summary.remove


def test_summary_counts_actions() -> None:
    assert EVERY_STAGE.summary == Summary(add=4, change=3, remove=4, waiting=1)
    assert EVERY_STAGE.has_changes
    assert not plan_of([want("a@acme.com")], [bound("a@acme.com")]).has_changes
