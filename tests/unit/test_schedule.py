"""schedule: ordered changes into typed, batched API calls, with the dependencies between them."""

from __future__ import annotations

import json
from collections.abc import Iterable

import builders
import pytest
from builders import AGENCY, Entry, bc_config, bound, member

from bcsync.core.change import Action, Change, Kind, MemberValue, Stage, Target
from bcsync.core.diff import diff
from bcsync.core.model import (
    AssetKey,
    AssetType,
    FinanceRole,
    Grant,
    Member,
    MemberRole,
    Partner,
    PartnerShare,
    Policy,
)
from bcsync.core.operations import (
    MAX_INVITE_EMAILS,
    MAX_SHARE_ASSETS,
    PARAMS_OF,
    AddGroupAssets,
    AddGroupMembers,
    CreateAssetGroup,
    DeleteAssetGroup,
    RemoveGroupAssets,
    RemoveGroupMembers,
)
from bcsync.core.plan import order
from bcsync.core.schedule import (
    Assign,
    Invite,
    Op,
    Params,
    RemoveMember,
    RemovePartner,
    Share,
    Step,
    Unassign,
    Unshare,
    UpdateMember,
    params_from_json,
    params_to_json,
    schedule,
)

STUDIO = "7200000000000000010"
CAT = AssetKey(AssetType.CATALOG, "7300000000000000001")


def ad(n: int) -> AssetKey:
    return AssetKey(AssetType.AD_ACCOUNT, f"71000000000000{n:05d}")


ASSETS = (*(ad(n) for n in range(200)), CAT)


def steps_of(desired: Iterable[Entry], actual: Iterable[Entry]) -> tuple[Step, ...]:
    """The steps for this desired and actual state, as make_plan schedules them."""
    config = bc_config(builders.state(desired, ASSETS), policy=Policy(min_admins=1))
    return schedule(order(diff(config, builders.state(actual, ASSETS))))


def people(prefix: str, n: int) -> list[str]:
    return [f"{prefix}{i:03d}@acme.com" for i in range(n)]


def of(steps: Iterable[Step], params_type: type) -> list[Step]:
    return [s for s in steps if isinstance(s.params, params_type)]


@pytest.mark.parametrize(
    ("desired", "sizes"),
    [
        ([member(e) for e in people("a", 120)], [50, 50, 20]),
        ([member(e) for e in people("a", 50)], [50]),
        ([member(e) for e in people("a", 51)], [50, 1]),
        (
            [member(e) for e in people("a", 3)] + [member(e, "admin") for e in people("b", 2)],
            [3, 2],
        ),
        (
            [member(e) for e in people("a", 3)]
            + [member(e, finance="manager") for e in people("b", 2)],
            [3, 2],
        ),
    ],
    ids=["120 -> 50/50/20", "50 -> one call", "51 -> 50/1", "roles apart", "finance roles apart"],
)
def test_invites_are_batched_by_role(desired: list[Member], sizes: list[int]) -> None:
    calls = [s.params for s in of(steps_of(desired, []), Invite) if isinstance(s.params, Invite)]
    assert [len(c.emails) for c in calls] == sizes
    assert max(sizes) <= MAX_INVITE_EMAILS
    wanted = {m.email: (m.role, m.finance_role) for m in desired}
    for call in calls:
        assert isinstance(call, Invite)
        assert {wanted[e] for e in call.emails} == {(call.role, call.finance_role)}


def test_invites_carry_ad_account_grants() -> None:
    members = people("a", 3)
    desired: list[Entry] = [member(e) for e in members]
    desired += [Grant(a, e, "operator") for e in members for a in (ad(1), ad(2))]
    desired += [Grant(CAT, members[0], "admin")]
    (step,) = of(steps_of(desired, []), Invite)
    assert step.params == Invite(
        tuple(members), MemberRole.STANDARD, None, (ad(1).id, ad(2).id), "operator"
    )
    assert set(step.changes) == {f"member:{e}" for e in members} | {
        f"grant:{a}:{e}" for e in members for a in (ad(1), ad(2))
    }
    # The catalog cannot ride the invitation: no step carries it.
    assert all(f"grant:{CAT}:{members[0]}" not in s.changes for s in steps_of(desired, []))


def test_invites_with_different_carried_grants_are_separate_calls() -> None:
    desired: list[Entry] = [member("a@acme.com"), member("b@acme.com"), member("c@acme.com")]
    desired += [Grant(ad(1), "a@acme.com", "analyst"), Grant(ad(1), "b@acme.com", "operator")]
    calls = [s.params for s in of(steps_of(desired, []), Invite)]
    assert sorted((c.emails, c.advertiser_role) for c in calls if isinstance(c, Invite)) == [
        (("a@acme.com",), "analyst"),
        (("b@acme.com",), "operator"),
        (("c@acme.com",), None),
    ]


def test_shares_are_batched_by_partner_and_role() -> None:
    desired: list[Entry] = [Partner(AGENCY), Partner(STUDIO)]
    desired += [PartnerShare(AGENCY, ad(n), "analyst") for n in range(120)]
    desired += [PartnerShare(AGENCY, ad(n), "operator") for n in range(120, 130)]
    desired += [PartnerShare(STUDIO, ad(n), "analyst") for n in range(5)]
    steps = of(steps_of(desired, [Partner(AGENCY)]), Share)
    shape = []
    for s in steps:
        assert isinstance(s.params, Share)
        shape.append((s.params.partner_bc_id, s.params.role, len(s.params.asset_ids), s.depends_on))
    assert shape == [
        (AGENCY, "analyst", 50, ()),
        (AGENCY, "analyst", 50, ()),
        (AGENCY, "analyst", 20, ()),
        (AGENCY, "operator", 10, ()),
        (STUDIO, "analyst", 5, ()),
    ]
    assert max(n for _, _, n, _ in shape) <= MAX_SHARE_ASSETS
    # The new partner is created by its first share call.
    assert steps[-1].changes[0] == f"partner:{STUDIO}"


def test_later_shares_of_a_new_partner_wait_for_the_first() -> None:
    desired: list[Entry] = [Partner(STUDIO)]
    desired += [PartnerShare(STUDIO, ad(n), "analyst") for n in range(60)]
    desired += [PartnerShare(STUDIO, ad(n), "admin") for n in range(60, 62)]
    first, *rest = of(steps_of(desired, []), Share)
    assert first.changes[0] == f"partner:{STUDIO}" and first.depends_on == ()
    assert [s.depends_on for s in rest] == [(first.id,), (first.id,)]
    sizes = [len(s.params.asset_ids) for s in (first, *rest) if isinstance(s.params, Share)]
    assert sizes == [50, 10, 2]


def test_share_role_change_is_a_share_call() -> None:
    (step,) = steps_of(
        [Partner(AGENCY), PartnerShare(AGENCY, ad(1), "admin")],
        [Partner(AGENCY), PartnerShare(AGENCY, ad(1), "analyst")],
    )
    assert (step.op, step.stage, step.params) == (
        Op.SHARE,
        Stage.SHARE,
        Share(AGENCY, (ad(1).id,), "admin"),
    )


def test_unshares_are_batched_by_partner_and_asset_type() -> None:
    keep = PartnerShare(AGENCY, ad(199), "analyst")
    actual: list[Entry] = [Partner(AGENCY), keep]
    actual += [PartnerShare(AGENCY, ad(n), "analyst") for n in range(70)]
    steps = of(steps_of([Partner(AGENCY), keep], actual), Unshare)
    params = [s.params for s in steps if isinstance(s.params, Unshare)]
    assert [len(p.asset_ids) for p in params] == [50, 20]
    assert {p.asset_type for p in params} == {AssetType.AD_ACCOUNT}
    assert {a for p in params for a in p.asset_ids} == {ad(n).id for n in range(70)}


def test_grant_steps_are_one_user_one_asset() -> None:
    desired: list[Entry] = [member("a@acme.com")]
    desired += [Grant(ad(n), "a@acme.com", "admin") for n in range(3)]
    assigns = of(steps_of(desired, [bound("a@acme.com")]), Assign)
    assert [s.params for s in assigns] == [
        Assign("uid-a@acme.com", "a@acme.com", ad(n), "admin") for n in range(3)
    ]


def test_a_removed_partner_is_one_call_that_takes_its_shares() -> None:
    actual: list[Entry] = [Partner(AGENCY)]
    actual += [PartnerShare(AGENCY, ad(n), "analyst") for n in range(3)]
    (step,) = steps_of([], actual)
    assert (step.stage, step.params) == (Stage.REVOKE, RemovePartner(AGENCY))


def test_a_pending_invitation_is_revoked_by_email() -> None:
    (step,) = steps_of([], [member("p@acme.com", status="pending")])
    assert step.params == RemoveMember("p@acme.com", None)


def test_admin_demotions_and_removals_wait_for_every_promotion() -> None:
    desired = [member("a@acme.com", "admin"), member("b@acme.com", "admin"), member("c@acme.com")]
    actual = [
        bound("a@acme.com"),
        bound("b@acme.com"),
        bound("c@acme.com", "admin"),
        bound("d@acme.com", "admin"),
        bound("e@acme.com"),
    ]
    steps = steps_of(desired, actual)
    promotions = tuple(s.id for s in steps if s.stage is Stage.INVITE_PROMOTE)
    assert len(promotions) == 2
    last = [s for s in steps if s.stage is Stage.DEMOTE_ADMIN]
    assert {type(s.params) for s in last} == {UpdateMember, RemoveMember}
    assert all(s.depends_on == promotions for s in last)
    (removal,) = [s for s in steps if s.stage is Stage.REMOVE_MEMBER]
    assert removal.depends_on == ()


def test_no_ops_and_stageless_changes_are_never_scheduled() -> None:
    noop = Change("member:p", Action.NOOP, Kind.MEMBER, "p", None, None, "waiting")
    assert schedule([noop]) == ()


def test_step_ids_are_unique_and_numbered_in_order() -> None:
    desired: list[Entry] = [member(e) for e in people("a", 60)]
    desired.append(Partner(STUDIO))
    desired += [PartnerShare(STUDIO, ad(n), "analyst") for n in range(60)]
    steps = steps_of(desired, [bound("old@acme.com")])
    assert [s.id for s in steps] == [f"s{i}" for i in range(1, len(steps) + 1)]


def upd(email: str, role: MemberRole) -> Change:
    return Change(
        f"member:{email}",
        Action.UPDATE,
        Kind.MEMBER,
        email,
        MemberValue(MemberRole.STANDARD),
        MemberValue(role),
        "role",
        stage=Stage.GRANT,
        target=Target(email=email, user_id=f"u-{email}"),
    )


def test_a_step_carries_typed_values_from_the_change() -> None:
    (step,) = schedule([upd("a@acme.com", MemberRole.ADMIN)])
    assert step.params == UpdateMember("u-a@acme.com", "a@acme.com", MemberRole.ADMIN, None)
    assert step.params.role is MemberRole.ADMIN


EVERY_OP: list[Params] = [
    Invite(("a@x.com",), MemberRole.ADMIN, FinanceRole.MANAGER, ("71",), "analyst"),
    Invite(("a@x.com", "b@x.com"), MemberRole.STANDARD, None),
    UpdateMember("u1", "a@x.com", MemberRole.STANDARD, FinanceRole.ANALYST),
    UpdateMember("u1", "a@x.com", MemberRole.ADMIN, None),
    RemoveMember("a@x.com", "u1"),
    RemoveMember("p@x.com", None),
    Assign("u1", "a@x.com", CAT, "ad_promote"),
    Unassign("u1", "a@x.com", CAT),
    Share(AGENCY, ("71", "72"), "operator"),
    Unshare(AGENCY, AssetType.AD_ACCOUNT, ("71",)),
    RemovePartner(AGENCY),
    CreateAssetGroup("g", ("71", "72"), ("u1",), ("a@x.com",), ("operator",)),
    AddGroupAssets("g", "75", ("73",)),
    AddGroupMembers("g", "75", ("u1", "u2"), ("a@x.com", "b@x.com"), ("admin", "analyst")),
    RemoveGroupAssets("g", "75", ("71",)),
    RemoveGroupMembers("g", "75", ("u2",), ("b@x.com",)),
    DeleteAssetGroup("g", "75"),
]


def test_every_params_type_has_one_op() -> None:
    assert set(PARAMS_OF.values()) == {type(p) for p in EVERY_OP}
    assert sorted(PARAMS_OF) == sorted(Op)
    assert all(PARAMS_OF[p.op] is type(p) for p in EVERY_OP)


@pytest.mark.parametrize("params", EVERY_OP, ids=lambda p: type(p).__name__)
def test_params_json_round_trip(params: Params) -> None:
    step = Step("s1", Stage.GRANT, params, ("c1", "c2"), ("s0",))
    text = json.dumps(step.to_json())
    back = Step.from_json(json.loads(text))
    assert back == step
    assert back.op is params.op
    assert params_from_json(step.op, params_to_json(params)) == params


def test_params_json_holds_enum_values_not_names() -> None:
    doc = params_to_json(UpdateMember("u1", "a@x.com", MemberRole.ADMIN, FinanceRole.ANALYST))
    assert doc == {
        "user_id": "u1",
        "email": "a@x.com",
        "role": "admin",
        "finance_role": "analyst",
    }
    assert json.loads(json.dumps(doc)) == doc
