"""plan: lock-out-safe order, batching into API calls, digest and JSON round trip."""

from __future__ import annotations

import json
from collections.abc import Iterable

import builders
import pytest
from builders import AGENCY, Entry, bc_config, bound, member

from bcsync.diff import make_plan
from bcsync.model import (
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
from bcsync.plan import STAGE_TITLES, Action, Op, Plan, Stage, Summary

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


def test_stage_titles_follow_design_section_6() -> None:
    assert [STAGE_TITLES[s] for s in sorted(Stage)] == [
        "invites and promotions",
        "grants and role changes",
        "partner shares",
        "revocations",
        "member removals",
        "admin demotions and removals",
    ]


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
    stages = [c.stage for c in EVERY_STAGE.changes if c.is_change]
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


def invites(plan: Plan) -> list[dict]:
    return [dict(s.params) for s in plan.steps if s.op is Op.INVITE]


@pytest.mark.parametrize(
    ("desired", "sizes"),
    [
        ([want(e) for e in people("a", 120)], [50, 50, 20]),
        ([want(e) for e in people("a", 50)], [50]),
        ([want(e) for e in people("a", 51)], [50, 1]),
        ([want(e) for e in people("a", 3)] + [want(e, "admin") for e in people("b", 2)], [3, 2]),
        (
            [want(e) for e in people("a", 3)]
            + [want(e, finance="manager") for e in people("b", 2)],
            [3, 2],
        ),
    ],
    ids=["120 -> 50/50/20", "50 -> one call", "51 -> 50/1", "roles apart", "finance roles apart"],
)
def test_invites_are_batched_by_role(desired: list[Member], sizes: list[int]) -> None:
    plan = plan_of(desired, [])
    calls = invites(plan)
    assert [len(c["emails"]) for c in calls] == sizes
    for call in calls:
        roles = {(plan.change(f"member:{e}").after or {}).get("role") for e in call["emails"]}
        assert roles == {call["role"]}


def test_invites_carry_ad_account_grants() -> None:
    members = people("a", 3)
    desired: list[Entry] = [want(e) for e in members]
    desired += [Grant(a, e, "operator") for e in members for a in (ad(1), ad(2))]
    desired += [Grant(CAT, members[0], "admin")]
    plan = plan_of(desired, [])
    (call,) = invites(plan)
    assert call == {
        "emails": members,
        "role": "standard",
        "finance_role": None,
        "ad_accounts": [ad(1).id, ad(2).id],
        "advertiser_role": "operator",
    }
    (step,) = [s for s in plan.steps if s.op is Op.INVITE]
    assert set(step.changes) == {f"member:{e}" for e in members} | {
        f"grant:{a}:{e}" for e in members for a in (ad(1), ad(2))
    }
    assert plan.change(f"grant:{CAT}:{members[0]}").action is Action.NOOP


def test_invites_with_different_carried_grants_are_separate_calls() -> None:
    desired = [want("a@acme.com"), want("b@acme.com"), want("c@acme.com")]
    desired += [Grant(ad(1), "a@acme.com", "analyst"), Grant(ad(1), "b@acme.com", "operator")]
    calls = invites(plan_of(desired, []))
    assert sorted((c["emails"], c["advertiser_role"]) for c in calls) == [
        (["a@acme.com"], "analyst"),
        (["b@acme.com"], "operator"),
        (["c@acme.com"], None),
    ]


def shares(plan: Plan) -> list[tuple[str, str, int, tuple[str, ...]]]:
    return [
        (s.params["partner_bc_id"], s.params["role"], len(s.params["asset_ids"]), s.depends_on)
        for s in plan.steps
        if s.op is Op.SHARE
    ]


def test_shares_are_batched_by_partner_and_role() -> None:
    desired: list[Entry] = [Partner(AGENCY), Partner(STUDIO)]
    desired += [PartnerShare(AGENCY, ad(n), "analyst") for n in range(120)]
    desired += [PartnerShare(AGENCY, ad(n), "operator") for n in range(120, 130)]
    desired += [PartnerShare(STUDIO, ad(n), "analyst") for n in range(5)]
    actual = [Partner(AGENCY)]
    plan = plan_of(desired, actual)
    assert shares(plan) == [
        (AGENCY, "analyst", 50, ()),
        (AGENCY, "analyst", 50, ()),
        (AGENCY, "analyst", 20, ()),
        (AGENCY, "operator", 10, ()),
        (STUDIO, "analyst", 5, ()),
    ]
    # The new partner is created by its first share call.
    (studio,) = [s for s in plan.steps if s.params.get("partner_bc_id") == STUDIO]
    assert studio.changes[0] == f"partner:{STUDIO}"


def test_later_shares_of_a_new_partner_wait_for_the_first() -> None:
    desired: list[Entry] = [Partner(STUDIO)]
    desired += [PartnerShare(STUDIO, ad(n), "analyst") for n in range(60)]
    desired += [PartnerShare(STUDIO, ad(n), "admin") for n in range(60, 62)]
    plan = plan_of(desired, [])
    steps = [s for s in plan.steps if s.op is Op.SHARE]
    first = steps[0]
    assert first.changes[0] == f"partner:{STUDIO}" and first.depends_on == ()
    assert all(s.depends_on == (first.id,) for s in steps[1:])
    assert [len(s.params["asset_ids"]) for s in steps] == [50, 10, 2]


def test_share_role_change_is_a_share_call() -> None:
    plan = plan_of(
        [Partner(AGENCY), PartnerShare(AGENCY, ad(1), "admin")],
        [Partner(AGENCY), PartnerShare(AGENCY, ad(1), "analyst")],
    )
    (step,) = plan.steps
    assert (step.op, step.stage, dict(step.params)) == (
        Op.SHARE,
        Stage.SHARE,
        {"partner_bc_id": AGENCY, "asset_ids": [ad(1).id], "role": "admin"},
    )


def test_unshares_are_batched_by_partner() -> None:
    keep = PartnerShare(AGENCY, ad(199), "analyst")
    actual: list[Entry] = [Partner(AGENCY), keep]
    actual += [PartnerShare(AGENCY, ad(n), "analyst") for n in range(70)]
    plan = plan_of([Partner(AGENCY), keep], actual)
    steps = [s for s in plan.steps if s.op is Op.UNSHARE]
    assert [len(s.params["asset_ids"]) for s in steps] == [50, 20]
    assert {s.params["asset_type"] for s in steps} == {"ad_accounts"}


def test_grant_steps_are_one_user_one_asset() -> None:
    desired: list[Entry] = [want("a@acme.com")] + [
        Grant(ad(n), "a@acme.com", "admin") for n in range(3)
    ]
    plan = plan_of(desired, [bound("a@acme.com")])
    assigns = [s for s in plan.steps if s.op is Op.ASSIGN]
    assert [dict(s.params) for s in assigns] == [
        {
            "user_id": "uid-a@acme.com",
            "email": "a@acme.com",
            "asset_type": "ad_accounts",
            "asset_id": ad(n).id,
            "role": "admin",
        }
        for n in range(3)
    ]


def test_digest_is_stable() -> None:
    desired = [want("a@acme.com"), want("b@acme.com", "admin"), Grant(ad(1), "a@acme.com", "admin")]
    actual = [bound("b@acme.com"), bound("c@acme.com")]
    first = plan_of(desired, actual)
    assert first.digest() == plan_of(desired, actual).digest()
    assert first.digest() == plan_of(reversed(desired), reversed(actual)).digest()
    assert first.digest().startswith("sha256:") and len(first.digest()) == 71
    assert first.digest() != plan_of(desired, [*actual, bound("d@acme.com")]).digest()


@pytest.mark.parametrize("plan", [EVERY_STAGE, plan_of([], [])], ids=["every stage", "empty"])
def test_plan_json_round_trip(plan: Plan) -> None:
    text = json.dumps(plan.to_json())
    back = Plan.from_json(json.loads(text))
    assert back == plan
    assert back.digest() == plan.digest()
    assert back.summary == plan.summary


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
