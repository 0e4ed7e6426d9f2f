"""diff: desired against actual, one table row per situation (model objects built by hand).

Rows name the action, the change and either the no-op's cause or the values the change sets:
code decides on those; the reason sentences are for people and checked only for their data.
"""

from __future__ import annotations

from collections.abc import Hashable
from datetime import date

import pytest
from builders import AGENCY, Entry, bc_config, bound, member, state

from bcsync.core.change import Action, Change, MemberValue, NoopCause, Stage, Target
from bcsync.core.diff import diff, noop_reason
from bcsync.core.model import (
    AssetKey,
    AssetType,
    BusinessCenterConfig,
    Grant,
    MemberRole,
    MemberStatus,
    Partner,
    PartnerShare,
    Policy,
    State,
)
from bcsync.core.plan import make_plan

US = AssetKey(AssetType.AD_ACCOUNT, "7100000000000000001")
EU = AssetKey(AssetType.AD_ACCOUNT, "7100000000000000002")
CAT = AssetKey(AssetType.CATALOG, "7300000000000000001")
TT = AssetKey(AssetType.TIKTOK_ACCOUNT, "7400000000000000001")
MISSING = AssetKey(AssetType.AD_ACCOUNT, "7100000000000000099")  # declared, not in the BC
UNDECLARED = AssetKey(AssetType.AD_ACCOUNT, "7100000000000000077")  # in the BC, not declared
ALIASES = {US: "acme-us", EU: "acme-eu", CAT: "main", TT: "brand", MISSING: "old"}


def grant(asset: AssetKey, email: str, role: str, *sources: str) -> Grant:
    return Grant(asset=asset, member=email, role=role, sources=sources)


def share(asset: AssetKey, role: str, partner: str = AGENCY) -> PartnerShare:
    return PartnerShare(partner=partner, asset=asset, role=role)


def config(
    desired: tuple[Entry, ...],
    *,
    policy: Policy | None = None,
    expired: dict[object, date] | None = None,
) -> BusinessCenterConfig:
    partners = {e.bc_id: e.alias for e in desired if isinstance(e, Partner) and e.alias}
    return bc_config(
        state(desired, (US, EU, CAT, TT, MISSING), ALIASES),
        policy=policy or Policy(min_admins=1, ignore_members=("*@tiktok-support.example",)),
        expired=expired,
        asset_aliases=ALIASES,
        partner_aliases=partners,
    )


def actual(*entries: Entry) -> State:
    return state(entries, (US, EU, CAT, TT, UNDECLARED), ALIASES)


Row = tuple[str, str, Hashable]


def row(c: Change) -> Row:
    """(action, id, cause) for a no-op; (action, id, the values it sets) for a change."""
    if c.cause is not None:
        return (c.action.value, c.id, c.cause)
    return (c.action.value, c.id, tuple(sorted((c.after.to_json() if c.after else {}).items())))


def rows(changes: list[Change]) -> set[Row]:
    return {row(c) for c in changes}


def sets(role: str, finance: str | None = None) -> tuple[tuple[str, str | None], ...]:
    """What a member change sets: its role and finance role."""
    return (("finance_role", finance), ("role", role))


def grants(role: str) -> tuple[tuple[str, str], ...]:
    """What a grant or share change sets: its role."""
    return (("role", role),)


GONE = ()  # a deletion sets nothing
OWNER = "owner@acme.com"
BOB = "bob@acme.com"
AGENCY_X = Partner(AGENCY, alias="agency-x", name="Agency X")
GRANT_US = f"grant:{US}:{BOB}"
MEMBER_BOB = f"member:{BOB}"

CASES = [
    # id, desired, actual, expected rows
    ("nothing to do", (member(BOB),), (bound(BOB),), set()),
    ("invite", (member(BOB),), (), {("create", MEMBER_BOB, sets("standard"))}),
    ("remove", (), (bound(BOB),), {("delete", MEMBER_BOB, GONE)}),
    ("promote", (member(BOB, "admin"),), (bound(BOB),), {("update", MEMBER_BOB, sets("admin"))}),
    (
        "demote",
        (member(BOB),),
        (bound(BOB, "admin"),),
        {("update", MEMBER_BOB, sets("standard"))},
    ),
    (
        "finance role added",
        (member(BOB, finance="analyst"),),
        (bound(BOB),),
        {("update", MEMBER_BOB, sets("standard", "analyst"))},
    ),
    (
        "role and finance role",
        (member(BOB, "admin", "manager"),),
        (bound(BOB, finance="analyst"),),
        {("update", MEMBER_BOB, sets("admin", "manager"))},
    ),
    (
        "a finance role the API cannot clear is kept",
        (member(BOB),),
        (bound(BOB, finance="manager"),),
        {("no-op", MEMBER_BOB, NoopCause.FINANCE_ROLE_UNCLEARABLE)},
    ),
    (
        "a role change keeps the finance role the API cannot clear",
        (member(BOB, "admin"),),
        (bound(BOB, finance="manager"),),
        {("update", MEMBER_BOB, sets("admin", "manager"))},
    ),
    (
        "pending invitee waits",
        (member(BOB),),
        (member(BOB, status="pending"),),
        {("no-op", MEMBER_BOB, NoopCause.PENDING)},
    ),
    (
        "pending invitee with a new role waits",
        (member(BOB, "admin"),),
        (member(BOB, status="pending"),),
        {("no-op", MEMBER_BOB, NoopCause.PENDING)},
    ),
    (
        "pending invitation not in config is revoked",
        (),
        (member(BOB, status="pending"),),
        {("delete", MEMBER_BOB, GONE)},
    ),
    (
        "rejected invitee",
        (member(BOB),),
        (member(BOB, status="rejected"),),
        {("no-op", MEMBER_BOB, NoopCause.REJECTED)},
    ),
    ("rejected and not in config: nothing", (), (member(BOB, status="rejected"),), set()),
    (
        "unbound is invited again",
        (member(BOB),),
        (member(BOB, status="unbound"),),
        {("create", MEMBER_BOB, sets("standard"))},
    ),
    ("unbound and not in config: nothing", (), (member(BOB, status="unbound"),), set()),
    (
        "ignored members untouched",
        (),
        (
            bound("agent@tiktok-support.example", "admin"),
            grant(US, "agent@tiktok-support.example", "admin"),
        ),
        set(),
    ),
    (
        "grant create",
        (member(BOB), grant(US, BOB, "operator")),
        (bound(BOB),),
        {("create", GRANT_US, grants("operator"))},
    ),
    (
        "grant update",
        (member(BOB), grant(US, BOB, "operator")),
        (bound(BOB), grant(US, BOB, "analyst")),
        {("update", GRANT_US, grants("operator"))},
    ),
    (
        "tiktok account permission set",
        (member(BOB), grant(TT, BOB, "direct_message,live,post")),
        (bound(BOB), grant(TT, BOB, "live,post")),
        {("update", f"grant:{TT}:{BOB}", grants("direct_message,live,post"))},
    ),
    (
        "grant delete",
        (member(BOB),),
        (bound(BOB), grant(US, BOB, "analyst")),
        {("delete", GRANT_US, GONE)},
    ),
    (
        "grants of a removed member go with the member",
        (),
        (bound(BOB), grant(US, BOB, "analyst"), grant(CAT, BOB, "admin")),
        {("delete", MEMBER_BOB, GONE)},
    ),
    (
        "grant on an asset not in the BC",
        (member(BOB), grant(MISSING, BOB, "analyst")),
        (bound(BOB),),
        {("no-op", f"grant:{MISSING}:{BOB}", NoopCause.ASSET_MISSING)},
    ),
    (
        "grant on an undeclared asset left alone",
        (member(BOB),),
        (bound(BOB), grant(UNDECLARED, BOB, "admin")),
        set(),
    ),
    (
        "invite carries the most common ad-account role, ties to the weaker",
        (
            member(BOB),
            grant(US, BOB, "operator", "group media-buyers"),
            grant(EU, BOB, "analyst"),
            grant(CAT, BOB, "admin"),
        ),
        (),
        {
            ("create", MEMBER_BOB, sets("standard")),
            ("create", f"grant:{EU}:{BOB}", grants("analyst")),
            ("no-op", GRANT_US, NoopCause.DEFERRED),
            ("no-op", f"grant:{CAT}:{BOB}", NoopCause.DEFERRED),
        },
    ),
    (
        "partner add with a share",
        (AGENCY_X, share(US, "analyst")),
        (),
        {
            ("create", f"partner:{AGENCY}", (("bc_id", AGENCY), ("name", "Agency X"))),
            ("create", f"share:{AGENCY}:{US}", grants("analyst")),
        },
    ),
    (
        "partner add needs a share",
        (AGENCY_X,),
        (),
        {("no-op", f"partner:{AGENCY}", NoopCause.PARTNER_NEEDS_SHARE)},
    ),
    (
        "partner remove takes its shares",
        (),
        (AGENCY_X, share(US, "analyst"), share(EU, "operator")),
        {("delete", f"partner:{AGENCY}", GONE)},
    ),
    (
        "share add",
        (AGENCY_X, share(US, "analyst"), share(EU, "operator")),
        (AGENCY_X, share(US, "analyst")),
        {("create", f"share:{AGENCY}:{EU}", grants("operator"))},
    ),
    (
        "share update",
        (AGENCY_X, share(US, "operator")),
        (AGENCY_X, share(US, "analyst")),
        {("update", f"share:{AGENCY}:{US}", grants("operator"))},
    ),
    (
        "share remove",
        (AGENCY_X, share(US, "analyst")),
        (AGENCY_X, share(US, "analyst"), share(EU, "operator")),
        {("delete", f"share:{AGENCY}:{EU}", GONE)},
    ),
    (
        "share of an undeclared asset left alone",
        (AGENCY_X, share(US, "analyst")),
        (AGENCY_X, share(US, "analyst"), share(UNDECLARED, "admin")),
        set(),
    ),
    (
        "share of an asset not in the BC",
        (AGENCY_X, share(US, "analyst"), share(MISSING, "analyst")),
        (AGENCY_X, share(US, "analyst")),
        {("no-op", f"share:{AGENCY}:{MISSING}", NoopCause.ASSET_MISSING)},
    ),
]


@pytest.mark.parametrize(
    ("desired", "have", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_diff_table(desired: tuple[Entry, ...], have: tuple[Entry, ...], expected: set) -> None:
    assert rows(diff(config(desired), actual(*have))) == expected


STAGES = [
    ("invite", (member(BOB),), (), Stage.INVITE_PROMOTE),
    ("promotion", (member(BOB, "admin"),), (bound(BOB),), Stage.INVITE_PROMOTE),
    ("finance role", (member(BOB, finance="manager"),), (bound(BOB),), Stage.GRANT),
    ("grant", (member(BOB), grant(US, BOB, "admin")), (bound(BOB),), Stage.GRANT),
    (
        "grant update",
        (member(BOB), grant(US, BOB, "admin")),
        (bound(BOB), grant(US, BOB, "analyst")),
        Stage.GRANT,
    ),
    ("new partner", (AGENCY_X, share(US, "analyst")), (), Stage.SHARE),
    ("share update", (AGENCY_X, share(US, "admin")), (AGENCY_X, share(US, "analyst")), Stage.SHARE),
    ("revoke", (member(BOB),), (bound(BOB), grant(US, BOB, "admin")), Stage.REVOKE),
    ("partner removal", (), (AGENCY_X, share(US, "analyst")), Stage.REVOKE),
    ("member removal", (), (bound(BOB),), Stage.REMOVE_MEMBER),
    ("pending removal", (), (member(BOB, "admin", status="pending"),), Stage.REMOVE_MEMBER),
    ("demotion", (member(BOB),), (bound(BOB, "admin"),), Stage.DEMOTE_ADMIN),
    ("admin removal", (), (bound(BOB, "admin"),), Stage.DEMOTE_ADMIN),
]


@pytest.mark.parametrize(
    ("desired", "have", "stage"), [c[1:] for c in STAGES], ids=[c[0] for c in STAGES]
)
def test_change_stage(desired: tuple[Entry, ...], have: tuple[Entry, ...], stage: Stage) -> None:
    stages = {c.stage for c in diff(config(desired), actual(*have)) if c.is_change}
    assert stages == {stage}


EXPIRED = [
    ("member", (), (bound(BOB),), BOB, date(2027, 6, 30), f"member:{BOB}"),
    (
        "grant",
        (member(BOB),),
        (bound(BOB), grant(US, BOB, "analyst")),
        (US, BOB),
        date(2027, 1, 31),
        GRANT_US,
    ),
    (
        "partner",
        (),
        (AGENCY_X, share(US, "analyst")),
        AGENCY,
        date(2027, 3, 1),
        f"partner:{AGENCY}",
    ),
    (
        "share",
        (AGENCY_X,),
        (AGENCY_X, share(US, "analyst")),
        (AGENCY, US),
        date(2026, 12, 31),
        f"share:{AGENCY}:{US}",
    ),
]


@pytest.mark.parametrize(
    ("desired", "have", "key", "when", "change_id"),
    [c[1:] for c in EXPIRED],
    ids=[c[0] for c in EXPIRED],
)
def test_expired_entries_say_when(
    desired: tuple[Entry, ...], have: tuple[Entry, ...], key: object, when: date, change_id: str
) -> None:
    changes = {c.id: c for c in diff(config(desired, expired={key: when}), actual(*have))}
    assert changes[change_id].action is Action.DELETE
    assert when.isoformat() in changes[change_id].reason
    unexpired = {c.id: c for c in diff(config(desired), actual(*have))}
    assert when.isoformat() not in unexpired[change_id].reason


@pytest.mark.parametrize(
    ("desired", "have", "change_id", "data"),
    [
        ((member(BOB, "admin"),), (bound(BOB),), MEMBER_BOB, ["standard", "admin"]),
        (
            (member(BOB, finance="analyst"),),
            (bound(BOB, finance="manager"),),
            MEMBER_BOB,
            ["manager", "analyst"],
        ),
        (
            (member(BOB), grant(US, BOB, "operator", "group media-buyers", "bcsync.yaml:12")),
            (bound(BOB),),
            GRANT_US,
            ["media-buyers"],
        ),
        (
            (member(BOB), grant(US, BOB, "operator", "group media-buyers")),
            (bound(BOB), grant(US, BOB, "analyst")),
            GRANT_US,
            ["analyst", "operator", "media-buyers"],
        ),
        (
            (AGENCY_X, share(US, "operator")),
            (AGENCY_X, share(US, "analyst")),
            f"share:{AGENCY}:{US}",
            ["analyst", "operator"],
        ),
        ((), (member(BOB, status="pending"),), MEMBER_BOB, ["invitation"]),
        ((member(BOB, "admin"),), (member(BOB, status="pending"),), MEMBER_BOB, [BOB, "role"]),
    ],
    ids=[
        "role change",
        "finance role change",
        "grant from a group",
        "grant update from a group",
        "share update",
        "pending revocation",
        "pending with a new role",
    ],
)
def test_reasons_name_what_changed_and_why(
    desired: tuple[Entry, ...], have: tuple[Entry, ...], change_id: str, data: list[str]
) -> None:
    """A reason is for people: it names the values and sources (the wording is render's)."""
    reason = {c.id: c.reason for c in diff(config(desired), actual(*have))}[change_id]
    assert all(d in reason for d in data), reason


@pytest.mark.parametrize("cause", list(NoopCause))
def test_every_noop_cause_has_a_sentence(cause: NoopCause) -> None:
    sentence = noop_reason(cause, "bob@acme.com")
    assert sentence and sentence == sentence.strip()
    if cause in (NoopCause.PENDING, NoopCause.DEFERRED, NoopCause.REJECTED):
        assert "bob@acme.com" in sentence


def test_noop_reasons_are_rendered_from_their_cause() -> None:
    desired = (member(BOB), grant(US, BOB, "analyst"), grant(MISSING, BOB, "analyst"))
    for c in diff(config(desired), actual(member(BOB, status="pending"))):
        assert c.cause is not None and c.reason.startswith(noop_reason(c.cause, BOB))
        assert c.stage is None


def test_change_targets_carry_what_the_api_needs() -> None:
    desired = (member(BOB), grant(US, BOB, "operator"), AGENCY_X, share(EU, "analyst"))
    changes = {c.id: c for c in diff(config(desired), actual(bound(BOB), AGENCY_X))}
    assert changes[GRANT_US].target == Target(email=BOB, user_id=f"uid-{BOB}", asset=US)
    assert changes[f"share:{AGENCY}:{EU}"].target == Target(partner=AGENCY, asset=EU)


def test_titles_use_aliases() -> None:
    desired = (member(BOB), grant(US, BOB, "operator"), AGENCY_X, share(EU, "analyst"))
    titles = {c.id: c.title for c in diff(config(desired), actual(bound(BOB), AGENCY_X))}
    assert titles[GRANT_US] == f"{BOB} on ad_accounts.acme-us"
    assert titles[f"share:{AGENCY}:{EU}"] == f"ad_accounts.acme-eu shared with agency-x ({AGENCY})"


def test_config_reasons_and_expiry_are_carried_as_notes() -> None:
    noted = Grant(US, BOB, "analyst", expires=date(2027, 1, 31), reason="Q1 campaign review")
    changes = {c.id: c for c in diff(config((member(BOB), noted)), actual(bound(BOB)))}
    assert (changes[GRANT_US].note, changes[GRANT_US].expires) == (
        "Q1 campaign review",
        "2027-01-31",
    )


def test_member_emails_are_keys_and_updates_keep_the_user_id() -> None:
    changes = diff(
        config((member(OWNER, "admin"), member(BOB, "admin"))),
        actual(bound(OWNER, "admin"), bound(BOB)),
    )
    (change,) = changes
    assert change.action is Action.UPDATE
    assert change.target == Target(email=BOB, user_id=f"uid-{BOB}")
    # Typed from the diff on: a role is a MemberRole, not the string a plan file holds.
    assert change.before == MemberValue(MemberRole.STANDARD, None, MemberStatus.BOUND)
    assert change.after == MemberValue(MemberRole.ADMIN)


def test_a_pending_invitation_is_revoked_by_email_alone() -> None:
    (change,) = diff(config(()), actual(member(BOB, "admin", status="pending")))
    assert change.target == Target(email=BOB)  # no user id: the API revokes it by email


# -- regressions: bugs found in review (fixed in diff.py and plan.Summary) -----------------------


def test_pending_invitees_grants_are_deferred_not_waiting() -> None:
    """A pending member waits; its grants are *deferred* and not counted as waiting."""
    desired = (member(BOB), grant(US, BOB, "analyst"), grant(CAT, BOB, "admin"))
    plan = make_plan(config(desired), actual(member(BOB, status="pending")))
    causes = {c.id: c.cause for c in plan.changes}
    assert causes[GRANT_US] is NoopCause.DEFERRED
    assert causes[f"grant:{CAT}:{BOB}"] is NoopCause.DEFERRED
    assert plan.summary.waiting == 1


def test_rejected_invitees_grants_do_not_wait_for_acceptance() -> None:
    desired = (member(BOB), grant(US, BOB, "analyst"))
    plan = make_plan(config(desired), actual(member(BOB, status="rejected")))
    causes = {c.id: c.cause for c in plan.changes}
    assert causes[MEMBER_BOB] is NoopCause.REJECTED
    assert causes[GRANT_US] is NoopCause.REJECTED  # not "deferred": nobody will accept
    assert plan.summary.waiting == 0
    assert not plan.steps


def test_unbound_reinvite_carries_ad_account_grants() -> None:
    """An unbound member is invited again; the invite carries ad-account grants as for a new one."""
    changes = {
        c.id: c
        for c in diff(
            config((member(BOB), grant(US, BOB, "analyst"))), actual(member(BOB, status="unbound"))
        )
    }
    carried = changes[GRANT_US]
    assert (carried.action, carried.stage) == (Action.CREATE, Stage.INVITE_PROMOTE)
    assert carried.target.with_invite


def test_partner_whose_shares_all_miss_is_not_added() -> None:
    """A partner can only be added by sharing an asset; with none shareable it cannot be created."""
    desired = (AGENCY_X, share(MISSING, "analyst"))
    changes = {c.id: c for c in diff(config(desired), actual())}
    assert changes[f"partner:{AGENCY}"].action is Action.NOOP
    assert changes[f"partner:{AGENCY}"].cause is NoopCause.PARTNER_NEEDS_SHARE
