"""TikTok asset groups as code: the config's limits and rules, the diff, the steps, the guards."""

from __future__ import annotations

from datetime import date

import builders
from builders import BC, bc_config, bound, member

from bcsync.auditor.access_diff import between
from bcsync.config import load_sources
from bcsync.config.loader import SourceFile
from bcsync.core import safety
from bcsync.core.change import Action, Kind, RoleValue, Stage
from bcsync.core.model import (
    AssetGroup,
    AssetKey,
    AssetType,
    BusinessCenterConfig,
    Grant,
    Member,
    Policy,
    RemovalLimit,
    State,
)
from bcsync.core.operations import (
    AddGroupAssets,
    AddGroupMembers,
    CreateAssetGroup,
    DeleteAssetGroup,
    RemoveGroupAssets,
    RemoveGroupMembers,
)
from bcsync.core.plan import make_plan
from bcsync.core.refusal import Act, RefusalKind
from bcsync.git.changed import scopes_between

NOW = date(2026, 11, 25)
US, EU, APAC = "7100000000000000001", "7100000000000000002", "7100000000000000003"
ACCOUNTS = {US: "acme-us", EU: "acme-eu", APAC: "acme-apac"}
KEYS = [AssetKey(AssetType.AD_ACCOUNT, a) for a in ACCOUNTS]
OWNER, BOB, CAROL, DAVE = "owner@acme.com", "bob@acme.com", "carol@acme.com", "dave@acme.com"


# -- the config ------------------------------------------------------------------------------


def config_text(groups: str, members: str = "") -> str:
    assets = "".join(f'    acct-{i}: "71{i:017d}"\n' for i in range(205))
    people = "".join(f"  m{i}@acme.com: {{ role: standard }}\n" for i in range(55))
    return (
        'version: 1\nbusiness_center: { id: "7012345678901234567" }\n'
        "policy: { min_admins: 1 }\n"
        f"assets:\n  ad_accounts:\n{assets}"
        f"asset_groups:\n{groups}"
        f"members:\n  owner@acme.com: {{ role: admin }}\n{people}{members}"
    )


def problems(text: str) -> list[str]:
    result = load_sources([(SourceFile("bcsync.yaml"), text.encode())], NOW)
    return [f"{p.line}:{p.col}: {p.path}: {p.message}" for p in result.errors]


def load_config_text(text: str, now: date) -> BusinessCenterConfig:
    result = load_sources([(SourceFile("bcsync.yaml"), text.encode())], now)
    assert not result.errors, result.errors
    return result.configs[0]


def test_a_group_over_tiktoks_limits_is_a_located_error() -> None:
    accounts = ", ".join(f"acct-{i}" for i in range(201))
    people = ", ".join(f"m{i}@acme.com: analyst" for i in range(51))
    found = problems(
        config_text(f"  big:\n    ad_accounts: [{accounts}]\n    members: {{ {people} }}\n")
    )
    assert any("asset_groups.big.ad_accounts" in p and "at most 200, got 201" in p for p in found)
    assert any("asset_groups.big.members" in p and "at most 50, got 51" in p for p in found)
    assert all(p.split(":")[0] != "None" for p in found), found  # each one located


def test_exactly_the_limits_are_valid() -> None:
    accounts = ", ".join(f"acct-{i}" for i in range(200))
    people = ", ".join(f"m{i}@acme.com: analyst" for i in range(50))
    text = config_text(f"  big:\n    ad_accounts: [{accounts}]\n    members: {{ {people} }}\n")
    assert problems(text) == []


def test_unknown_ad_accounts_and_members_and_roles_are_located_errors() -> None:
    groups = (
        "  buyers:\n"
        "    ad_accounts: [acct-1, acct-9999]\n"
        "    members: { m1@acme.com: operator, nobody@else.example: analyst, M1@acme.com: admin }\n"
        "  bad-role:\n"
        "    ad_accounts: [acct-1]\n"
        "    members: { m2@acme.com: ad_promote }\n"
        "  empty: { ad_accounts: [], members: {} }\n"
    )
    found = problems(config_text(groups))
    assert any("ad_accounts[1]" in p and "unknown ad account alias 'acct-9999'" in p for p in found)
    assert any("unknown member 'nobody@else.example'" in p for p in found)
    assert any("duplicate member 'M1@acme.com'" in p for p in found)
    assert any("bad-role.members.m2@acme.com" in p and "ad account role" in p for p in found)
    assert any("empty.ad_accounts" in p and "must not be empty" in p for p in found)
    assert any("empty.members" in p and "must not be empty" in p for p in found)


def test_an_ignored_member_cannot_be_in_a_group() -> None:
    text = config_text("  g: { ad_accounts: [acct-1], members: { m1@acme.com: analyst } }\n")
    text = text.replace(
        "policy: { min_admins: 1 }", 'policy: { min_admins: 1, ignore_members: ["m1@*"] }'
    )
    assert any("matches policy.ignore_members" in p for p in problems(text))


def test_without_the_section_groups_are_left_alone_and_with_it_managed() -> None:
    without = load_config_text(config_text("").replace("asset_groups:\n", ""), now=NOW)
    assert without.desired.asset_groups is None
    empty = load_config_text(
        config_text("").replace("asset_groups:\n", "asset_groups: {}\n"), now=NOW
    )
    assert empty.desired.asset_groups == {}
    one = load_config_text(
        config_text("  g: { ad_accounts: [acct-1, acct-2], members: { M1@acme.com: operator } }\n"),
        now=NOW,
    )
    assert one.desired.asset_groups == {
        "g": AssetGroup(
            "g",
            frozenset({"71" + "1".zfill(17), "71" + "2".zfill(17)}),
            {"m1@acme.com": "operator"},
        )
    }


# -- plan: diff, steps, guards ---------------------------------------------------------------


def group(
    name: str, accounts: set[str], members: dict[str, str], gid: str | None = None
) -> AssetGroup:
    ids = {e: f"uid-{e}" for e in members} if gid else {}
    return AssetGroup(name, frozenset(accounts), members, group_id=gid, user_ids=ids)


PEOPLE = [bound(OWNER, "admin"), bound("ops@acme.com", "admin"), bound(BOB), bound(CAROL)]


def world(
    want: dict[str, AssetGroup] | None,
    have: dict[str, AssetGroup] | None,
    *,
    policy: Policy | None = None,
    actual_people: list[Member] = PEOPLE,
    grants: int = 0,
) -> tuple[BusinessCenterConfig, State]:
    # Every actual member is declared: only the groups differ.
    desired_people = [member(m.email, m.role.value) for m in actual_people]
    desired = builders.state(desired_people, KEYS, {k: ACCOUNTS[k.id] for k in KEYS})
    desired = State(bc_id=BC, members=desired.members, assets=desired.assets, asset_groups=want)
    extra = [Grant(KEYS[0], f"x{i}@acme.com", "analyst") for i in range(grants)]
    actual = builders.state([*actual_people, *extra], KEYS)
    actual = State(
        bc_id=BC,
        members=actual.members,
        assets=actual.assets,
        grants=actual.grants,
        asset_groups=have,
    )
    config = bc_config(
        desired,
        policy=policy or Policy(min_admins=1),
        asset_aliases={k: ACCOUNTS[k.id] for k in KEYS},
    )
    return config, actual


def test_a_new_group_is_one_create_call_carrying_its_accounts_and_members() -> None:
    config, actual = world({"g": group("g", {US, EU}, {BOB: "operator", CAROL: "analyst"})}, {})
    plan = make_plan(config, actual)
    kinds = {(c.kind, c.action) for c in plan.changes}
    assert kinds == {
        (Kind.ASSET_GROUP, Action.CREATE),
        (Kind.GROUP_ASSET, Action.CREATE),
        (Kind.GROUP_MEMBER, Action.CREATE),
    }
    assert [s.params for s in plan.steps] == [
        CreateAssetGroup(
            "g", (US, EU), (f"uid-{BOB}", f"uid-{CAROL}"), (BOB, CAROL), ("operator", "analyst")
        )
    ]
    assert plan.steps[0].stage is Stage.GRANT and len(plan.steps[0].changes) == 5


def test_a_member_who_has_not_joined_waits_and_a_group_without_one_waits_whole() -> None:
    people = [*PEOPLE, member(DAVE, status="pending")]
    want = {
        "g": group("g", {US}, {DAVE: "analyst"}),
        "h": group("h", {US}, {BOB: "admin", DAVE: "admin"}),
    }
    plan = make_plan(*world(want, {}, actual_people=people))
    noops = {c.id: c.reason for c in plan.changes if c.action is Action.NOOP}
    assert "deferred: created once it has a joined member" in noops["asset_group:g"]
    assert "accepts the invitation" in noops[f"asset_group_member:{DAVE} in h"]
    assert [type(s.params) for s in plan.steps] == [CreateAssetGroup]


def test_an_existing_group_is_updated_gains_first_and_losses_after() -> None:
    have = {"g": group("g", {US, EU}, {BOB: "operator", CAROL: "analyst"}, gid="75001")}
    want = {"g": group("g", {US, APAC}, {BOB: "admin", OWNER: "analyst"})}
    plan = make_plan(*world(want, have))
    by_stage = [(s.stage, s.params) for s in plan.steps]
    assert by_stage == [
        (Stage.GRANT, AddGroupAssets("g", "75001", (APAC,))),
        (
            Stage.GRANT,
            AddGroupMembers(
                "g", "75001", (f"uid-{BOB}", f"uid-{OWNER}"), (BOB, OWNER), ("admin", "analyst")
            ),
        ),
        (Stage.REVOKE, RemoveGroupAssets("g", "75001", (EU,))),
        (Stage.REVOKE, RemoveGroupMembers("g", "75001", (f"uid-{CAROL}",), (CAROL,))),
    ]  # fmt: skip
    update = next(c for c in plan.changes if c.action is Action.UPDATE)
    assert (update.before, update.after, update.reason) == (
        RoleValue("operator"),
        RoleValue("admin"),
        "role changed",
    )


def test_a_group_at_its_limit_loses_before_it_gains() -> None:
    full = {f"m{i}@acme.com": "analyst" for i in range(50)}
    have = {"g": group("g", {US}, full, gid="75001")}
    want = {"g": group("g", {US}, {**{k: v for k, v in list(full.items())[1:]}, BOB: "analyst"})}
    people = [*PEOPLE, *(bound(e) for e in full)]
    plan = make_plan(*world(want, have, actual_people=people))
    ops = [type(s.params) for s in plan.steps]
    assert ops == [RemoveGroupMembers, AddGroupMembers]
    assert plan.steps[1].depends_on == (plan.steps[0].id,)


def test_undeclared_groups_are_deleted_only_when_the_config_manages_groups() -> None:
    have = {"old": group("old", {US}, {BOB: "analyst"}, gid="75009")}
    managed = make_plan(*world({}, have))
    assert [s.params for s in managed.steps] == [DeleteAssetGroup("old", "75009")]
    assert "not in config" in managed.changes[0].reason
    left_alone = make_plan(*world(None, have))
    assert left_alone.steps == ()


def test_the_removal_guard_counts_what_a_group_change_takes_away() -> None:
    people = {f"m{i}@acme.com": "analyst" for i in range(10)}
    have = {"g": group("g", {US, EU, APAC}, people, gid="75001")}
    actual_people = [*PEOPLE, *(bound(e) for e in people)]
    config, actual = world({}, have, actual_people=actual_people, policy=Policy(min_admins=1))
    plan = make_plan(config, actual)
    counted = safety.count_removals(plan.steps, actual, config.policy)
    # 14 members + 30 (member, ad account) pairs through the group exist; 30 go.
    assert (counted.removals, counted.existing) == (30, 44)
    assert [r.kind for r in plan.refusals] == [RefusalKind.REMOVAL_LIMIT]
    assert make_plan(config, actual, allow_removals=True).refusals == ()


def test_removing_members_and_accounts_counts_each_pair_once() -> None:
    people = {f"m{i}@acme.com": "analyst" for i in range(4)}
    have = {"g": group("g", {US, EU, APAC}, people, gid="75001")}
    want = {"g": group("g", {US}, {"m0@acme.com": "analyst"})}
    actual_people = [*PEOPLE, *(bound(e) for e in people)]
    policy = Policy(min_admins=1, max_removals=RemovalLimit(100.0))
    config, actual = world(want, have, actual_people=actual_people, policy=policy)
    plan = make_plan(config, actual)
    counted = safety.count_removals(plan.steps, actual, policy)
    assert counted.removals == 12 - 1  # every pair but (m0, US)


def test_a_protected_members_group_access_is_never_taken_away_or_weakened() -> None:
    have = {"g": group("g", {US}, {OWNER: "admin", BOB: "analyst"}, gid="75001")}
    policy = Policy(min_admins=1, protected=(OWNER,))
    for want in (
        {"g": group("g", {US}, {BOB: "analyst"})},  # taken out of the group
        {"g": group("g", {US}, {OWNER: "analyst", BOB: "analyst"})},  # weaker role
        {},  # the group deleted
    ):
        plan = make_plan(*world(want, have, policy=policy))
        verdicts = [(r.kind, r.subject.id, r.act) for r in plan.refusals]
        assert any(v[:2] == (RefusalKind.PROTECTED, OWNER) for v in verdicts), want
        assert {v[2] for v in verdicts} <= {Act.REVOKE, Act.DOWNGRADE}
    # ...and may gain: a stronger role is fine.
    stronger = {"g": group("g", {US}, {OWNER: "admin", BOB: "operator"})}
    assert make_plan(*world(stronger, have, policy=policy)).refusals == ()


def test_an_edit_to_groups_makes_a_changed_plan_read_everything() -> None:
    before = load_config_text(
        config_text("  g: { ad_accounts: [acct-1], members: { m1@acme.com: analyst } }\n"), now=NOW
    )
    after = load_config_text(
        config_text("  g: { ad_accounts: [acct-1], members: { m1@acme.com: admin } }\n"), now=NOW
    )
    assert scopes_between([before], [after], label="main") == {after.bc_id: None}
    assert scopes_between([before], [before], label="main")[before.bc_id] is not None


def test_effective_access_between_revisions_counts_each_member_and_account_of_a_group() -> None:
    base = "  g: { ad_accounts: [acct-1, acct-2], members: { m1@acme.com: analyst } }\n"
    head = "  g: { ad_accounts: [acct-1], members: { m1@acme.com: admin, m2@acme.com: analyst } }\n"
    changes = between(
        [load_config_text(config_text(base), now=NOW)],
        [load_config_text(config_text(head), now=NOW)],
    )
    seen = {(c.subject, c.asset_alias, c.before, c.after, c.effect.value) for c in changes}
    assert seen == {
        ("m1@acme.com", "acct-1", "analyst", "admin", "raised"),
        ("m1@acme.com", "acct-2", "analyst", None, "removed"),
        ("m2@acme.com", "acct-1", None, "analyst", "added"),
    }
    assert all(c.sources[0].startswith("asset group g (bcsync.yaml:") for c in changes)
