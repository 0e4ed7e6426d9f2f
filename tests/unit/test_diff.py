"""diff: desired against actual, one table row per situation (model objects built by hand)."""

from __future__ import annotations

from datetime import date

import pytest
from builders import AGENCY, Entry, bc_config, bound, member, state

from bcsync.diff import diff, make_plan
from bcsync.model import (
    AssetKey,
    AssetType,
    BusinessCenterConfig,
    Grant,
    Partner,
    PartnerShare,
    Policy,
    State,
)
from bcsync.plan import Action, Change, Stage

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


def rows(changes: list[Change]) -> set[tuple[str, str, str]]:
    return {(c.action.value, c.id, c.reason) for c in changes}


OWNER = "owner@acme.com"
BOB = "bob@acme.com"
INVITE = "invite: in config, not in the Business Center"
AGENCY_X = Partner(AGENCY, alias="agency-x", name="Agency X")
GRANT_US = f"grant:{US}:{BOB}"
NOT_FOUND = "asset not found in the Business Center; check its id in config"

CASES = [
    # id, desired, actual, expected (action, change id, reason)
    ("nothing to do", (member(BOB),), (bound(BOB),), set()),
    ("invite", (member(BOB),), (), {("create", f"member:{BOB}", INVITE)}),
    ("remove", (), (bound(BOB),), {("delete", f"member:{BOB}", "not in config")}),
    (
        "promote",
        (member(BOB, "admin"),),
        (bound(BOB),),
        {("update", f"member:{BOB}", "role standard → admin")},
    ),
    (
        "demote",
        (member(BOB),),
        (bound(BOB, "admin"),),
        {("update", f"member:{BOB}", "role admin → standard")},
    ),
    (
        "finance role added",
        (member(BOB, finance="analyst"),),
        (bound(BOB),),
        {("update", f"member:{BOB}", "finance role none → analyst")},
    ),
    (
        "finance role cleared",
        (member(BOB),),
        (bound(BOB, finance="manager"),),
        {("update", f"member:{BOB}", "finance role manager → none")},
    ),
    (
        "role and finance role",
        (member(BOB, "admin", "manager"),),
        (bound(BOB, finance="analyst"),),
        {("update", f"member:{BOB}", "role standard → admin, finance role analyst → manager")},
    ),
    (
        "pending invitee waits",
        (member(BOB),),
        (member(BOB, status="pending"),),
        {("no-op", f"member:{BOB}", f"waiting for {BOB} to accept the invitation")},
    ),
    (
        "pending invitee with a new role",
        (member(BOB, "admin"),),
        (member(BOB, status="pending"),),
        {
            (
                "no-op",
                f"member:{BOB}",
                f"waiting for {BOB} to accept the invitation; roles are updated after acceptance",
            )
        },
    ),
    (
        "pending invitation not in config is revoked",
        (),
        (member(BOB, status="pending"),),
        {("delete", f"member:{BOB}", "not in config; revoke the pending invitation")},
    ),
    (
        "rejected invitee",
        (member(BOB),),
        (member(BOB, status="rejected"),),
        {
            (
                "no-op",
                f"member:{BOB}",
                f"{BOB} rejected the invitation; bcsync does not invite again on its own: "
                "remove them from config, or send a new invitation from Business Center",
            )
        },
    ),
    ("rejected and not in config: nothing", (), (member(BOB, status="rejected"),), set()),
    (
        "unbound is invited again",
        (member(BOB),),
        (member(BOB, status="unbound"),),
        {("create", f"member:{BOB}", INVITE)},
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
        {("create", GRANT_US, "in config")},
    ),
    (
        "grant create from a group",
        (member(BOB), grant(US, BOB, "operator", "group media-buyers", "bcsync.yaml:12")),
        (bound(BOB),),
        {("create", GRANT_US, "in config (from group media-buyers)")},
    ),
    (
        "grant update",
        (member(BOB), grant(US, BOB, "operator")),
        (bound(BOB), grant(US, BOB, "analyst")),
        {("update", GRANT_US, "role analyst → operator")},
    ),
    (
        "grant update from a group",
        (member(BOB), grant(US, BOB, "operator", "group media-buyers")),
        (bound(BOB), grant(US, BOB, "analyst")),
        {("update", GRANT_US, "role analyst → operator (from group media-buyers)")},
    ),
    (
        "tiktok account permission set",
        (member(BOB), grant(TT, BOB, "direct_message,live,post")),
        (bound(BOB), grant(TT, BOB, "live,post")),
        {("update", f"grant:{TT}:{BOB}", "role live,post → direct_message,live,post")},
    ),
    (
        "grant delete",
        (member(BOB),),
        (bound(BOB), grant(US, BOB, "analyst")),
        {("delete", GRANT_US, "not in config")},
    ),
    (
        "grants of a removed member go with the member",
        (),
        (bound(BOB), grant(US, BOB, "analyst"), grant(CAT, BOB, "admin")),
        {("delete", f"member:{BOB}", "not in config")},
    ),
    (
        "grant on an asset not in the BC",
        (member(BOB), grant(MISSING, BOB, "analyst")),
        (bound(BOB),),
        {("no-op", f"grant:{MISSING}:{BOB}", NOT_FOUND)},
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
            ("create", f"member:{BOB}", INVITE),
            ("create", f"grant:{EU}:{BOB}", "with the invitation"),
            ("no-op", GRANT_US, f"deferred: assigned after {BOB} accepts the invitation"),
            (
                "no-op",
                f"grant:{CAT}:{BOB}",
                f"deferred: assigned after {BOB} accepts the invitation",
            ),
        },
    ),
    (
        "partner add with a share",
        (AGENCY_X, share(US, "analyst")),
        (),
        {
            ("create", f"partner:{AGENCY}", "in config, not a partner yet"),
            ("create", f"share:{AGENCY}:{US}", "in config"),
        },
    ),
    (
        "partner add needs a share",
        (AGENCY_X,),
        (),
        {
            (
                "no-op",
                f"partner:{AGENCY}",
                "cannot add a partner without sharing at least one ad account",
            )
        },
    ),
    (
        "partner remove takes its shares",
        (),
        (AGENCY_X, share(US, "analyst"), share(EU, "operator")),
        {("delete", f"partner:{AGENCY}", "not in config")},
    ),
    (
        "share add",
        (AGENCY_X, share(US, "analyst"), share(EU, "operator")),
        (AGENCY_X, share(US, "analyst")),
        {("create", f"share:{AGENCY}:{EU}", "in config")},
    ),
    (
        "share update",
        (AGENCY_X, share(US, "operator")),
        (AGENCY_X, share(US, "analyst")),
        {("update", f"share:{AGENCY}:{US}", "role analyst → operator")},
    ),
    (
        "share remove",
        (AGENCY_X, share(US, "analyst")),
        (AGENCY_X, share(US, "analyst"), share(EU, "operator")),
        {("delete", f"share:{AGENCY}:{EU}", "not in config")},
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
        {("no-op", f"share:{AGENCY}:{MISSING}", NOT_FOUND)},
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
    changes = diff(config(desired, expired={key: when}), actual(*have))
    assert {c.id: c.reason for c in changes}[change_id] == f"expired {when.isoformat()}"


def test_change_targets_carry_what_the_api_needs() -> None:
    desired = (member(BOB), grant(US, BOB, "operator"), AGENCY_X, share(EU, "analyst"))
    changes = {c.id: c for c in diff(config(desired), actual(bound(BOB), AGENCY_X))}
    assert changes[GRANT_US].target == {
        "email": BOB,
        "asset_type": "ad_accounts",
        "asset_id": US.id,
        "user_id": f"uid-{BOB}",
    }
    assert changes[f"share:{AGENCY}:{EU}"].target == {
        "partner_bc_id": AGENCY,
        "asset_type": "ad_accounts",
        "asset_id": EU.id,
    }


def test_titles_use_aliases() -> None:
    desired = (member(BOB), grant(US, BOB, "operator"), AGENCY_X, share(EU, "analyst"))
    titles = {c.id: c.title for c in diff(config(desired), actual(bound(BOB), AGENCY_X))}
    assert titles[GRANT_US] == f"{BOB} on ad_accounts.acme-us"
    assert titles[f"share:{AGENCY}:{EU}"] == f"ad_accounts.acme-eu shared with agency-x ({AGENCY})"


def test_missing_asset_is_a_plan_warning() -> None:
    plan = make_plan(config((member(BOB), grant(MISSING, BOB, "analyst"))), actual(bound(BOB)))
    assert plan.warnings == (f"{BOB} on ad_accounts.old: {NOT_FOUND}",)
    assert not plan.has_changes


def test_member_emails_are_keys_and_updates_keep_the_user_id() -> None:
    changes = diff(
        config((member(OWNER, "admin"), member(BOB, "admin"))),
        actual(bound(OWNER, "admin"), bound(BOB)),
    )
    (change,) = changes
    assert change.action is Action.UPDATE
    assert change.target == {"email": BOB, "user_id": f"uid-{BOB}"}
    assert change.before == {"role": "standard", "finance_role": None, "status": "bound"}
    assert change.after == {"role": "admin", "finance_role": None}


# -- regressions: bugs found in review (fixed in diff.py and plan.Summary) -----------------------


def test_pending_invitees_grants_are_deferred_not_waiting() -> None:
    """DESIGN 6: a pending member waits; its grants are *deferred* and not counted as waiting."""
    desired = (member(BOB), grant(US, BOB, "analyst"), grant(CAT, BOB, "admin"))
    plan = make_plan(config(desired), actual(member(BOB, status="pending")))
    reasons = {c.id: c.reason for c in plan.changes}
    assert reasons[GRANT_US].startswith("deferred: ")
    assert reasons[f"grant:{CAT}:{BOB}"].startswith("deferred: ")
    assert plan.summary.waiting == 1


def test_rejected_invitees_grants_do_not_wait_for_acceptance() -> None:
    desired = (member(BOB), grant(US, BOB, "analyst"))
    plan = make_plan(config(desired), actual(member(BOB, status="rejected")))
    assert "waiting" not in plan.change(GRANT_US).reason
    assert plan.summary.waiting == 0


def test_unbound_reinvite_carries_ad_account_grants() -> None:
    """An unbound member is invited again; the invite carries ad-account grants as for a new one."""
    changes = diff(
        config((member(BOB), grant(US, BOB, "analyst"))), actual(member(BOB, status="unbound"))
    )
    assert ("create", GRANT_US, "with the invitation") in rows(changes)


def test_partner_whose_shares_all_miss_is_not_added() -> None:
    """A partner can only be added by sharing an asset; with none shareable it cannot be created."""
    desired = (AGENCY_X, share(MISSING, "analyst"))
    changes = {c.id: c for c in diff(config(desired), actual())}
    assert changes[f"partner:{AGENCY}"].action is Action.NOOP
