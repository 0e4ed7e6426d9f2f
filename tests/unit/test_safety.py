"""safety: every guard refuses the steps that would run, naming the numbers and the override flag.

Refusals are typed (`bcsync.core.refusal.Refusal`): these tests check their kind, subject, act,
numbers and override flag, never their wording.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

import builders
import pytest
from builders import AGENCY, Entry, bc_config, bound, member

from bcsync.auditor.drift import compare
from bcsync.core import safety
from bcsync.core.change import Stage
from bcsync.core.model import (
    AssetKey,
    AssetType,
    BusinessCenterConfig,
    Grant,
    Member,
    MemberRole,
    MemberStatus,
    Partner,
    PartnerShare,
    Policy,
    RemovalLimit,
    State,
    managed_members,
)
from bcsync.core.plan import make_plan, raise_if_refused
from bcsync.core.refusal import Act, Refusal, RefusalKind
from bcsync.core.schedule import Assign, RemoveMember, Step, UpdateMember
from bcsync.errors import ExitCode, UnsafePlanError

US = AssetKey(AssetType.AD_ACCOUNT, "7100000000000000001")
OWNER = "owner@acme.com"
OPS = "ops@acme.com"

want = member


def state(entries: Iterable[Entry]) -> State:
    return builders.state(entries, (US,))


def configured(
    desired: Iterable[Entry], policy: Policy, aliases: dict[str, str] | None = None
) -> BusinessCenterConfig:
    return bc_config(state(desired), policy=policy, partner_aliases=aliases)


def check(
    desired: Iterable[Entry],
    actual: Iterable[Entry],
    policy: Policy,
    *,
    aliases: dict[str, str] | None = None,
    allow_removals: bool = False,
) -> tuple[str, ...]:
    """The plan's refusals; they are exactly the guards' verdict on its steps."""
    config = configured(desired, policy, aliases)
    have = state(actual)
    plan = make_plan(config, have, allow_removals=allow_removals)
    assert plan.refusals == safety.refusals(plan.steps, config, have, allow_removals=allow_removals)
    return plan.refusals


def verdict(refusal: Refusal) -> tuple[RefusalKind, str, Act | None]:
    """What a refusal says, without its words: (kind, subject id, act)."""
    return (refusal.kind, refusal.subject.id, refusal.act)


ADMINS_2 = Policy(min_admins=2)


def test_safe_plan_has_no_refusals() -> None:
    desired = [want(OWNER, "admin"), want(OPS, "admin"), want("new@acme.com")]
    actual = [bound(OWNER, "admin"), bound(OPS, "admin")]
    assert check(desired, actual, ADMINS_2) == ()


@pytest.mark.parametrize(
    ("desired", "verb"),
    [([want(OWNER, "admin")], Act.REMOVE), ([want(OWNER, "admin"), want(OPS)], Act.DEMOTE)],
    ids=["removal", "demotion"],
)
def test_losing_an_admin_below_min_admins_names_the_numbers(
    desired: list[Entry], verb: Act
) -> None:
    actual = [bound(OWNER, "admin"), bound(OPS, "admin")]
    (refusal,) = check(desired, actual, ADMINS_2)
    assert verdict(refusal) == (RefusalKind.ADMIN_FLOOR, OPS, verb)
    assert (refusal.count, refusal.limit, refusal.override) == (1, "2", None)
    assert refusal.subject.user_id == f"uid-{OPS}"


def test_promotion_before_demotion_passes() -> None:
    desired = [want(OWNER, "admin"), want(OPS), want("dave@acme.com", "admin")]
    actual = [bound(OWNER, "admin"), bound(OPS, "admin"), bound("dave@acme.com")]
    assert check(desired, actual, ADMINS_2) == ()


def test_an_invited_admin_does_not_count_until_bound() -> None:
    desired = [want(OWNER, "admin"), want("new@acme.com", "admin")]
    actual = [bound(OWNER, "admin"), bound(OPS, "admin")]
    (refusal,) = check(desired, actual, ADMINS_2)
    assert verdict(refusal) == (RefusalKind.ADMIN_FLOOR, OPS, Act.REMOVE) and refusal.count == 1


def test_every_prefix_of_the_steps_keeps_min_admins() -> None:
    """A demotion run before the promotion locks out, even if the end state is fine."""
    desired = [want(OWNER, "admin"), want(OPS), want("dave@acme.com", "admin")]
    actual = [bound(OWNER, "admin"), bound(OPS, "admin"), bound("dave@acme.com")]
    config, have = configured(desired, ADMINS_2), state(actual)
    plan = make_plan(config, have)
    assert safety.refusals(plan.steps, config, have) == ()
    (refusal,) = safety.refusals(tuple(reversed(plan.steps)), config, have)
    assert verdict(refusal) == (RefusalKind.ADMIN_FLOOR, OPS, Act.DEMOTE) and refusal.count == 1


def test_ignored_admins_do_not_count_towards_min_admins() -> None:
    policy = Policy(min_admins=2, ignore_members=("*@tiktok-support.example",))
    desired = [want(OWNER, "admin")]
    actual = [
        bound(OWNER, "admin"),
        bound(OPS, "admin"),
        bound("a@tiktok-support.example", "admin"),
    ]
    (refusal,) = check(desired, actual, policy)
    assert verdict(refusal) == (RefusalKind.ADMIN_FLOOR, OPS, Act.REMOVE)
    assert (refusal.count, refusal.limit) == (1, "2")


@pytest.mark.parametrize(
    ("desired", "verb"),
    [([want(OWNER), want(OPS, "admin")], Act.DEMOTE), ([want(OPS, "admin")], Act.REMOVE)],
    ids=["demotion", "removal"],
)
def test_a_required_admin_is_never_demoted_or_removed(desired: list[Entry], verb: Act) -> None:
    policy = Policy(min_admins=1, required_admins=(OWNER,))
    actual = [bound(OWNER, "admin"), bound(OPS, "admin")]
    (refusal,) = check(desired, actual, policy)
    assert verdict(refusal) == (RefusalKind.REQUIRED_ADMIN, OWNER, verb)
    assert refusal.override is None


@pytest.mark.parametrize(
    ("desired", "actual", "verb"),
    [
        ([want(OPS, "admin")], [bound(OPS, "admin"), bound("cfo@acme.com")], Act.REMOVE),
        (
            [want(OPS, "admin"), want("cfo@acme.com")],
            [bound(OPS, "admin"), bound("cfo@acme.com", "admin")],
            Act.DEMOTE,
        ),
        (
            [want(OPS, "admin"), want("cfo@acme.com")],
            [bound(OPS, "admin"), bound("cfo@acme.com"), Grant(US, "cfo@acme.com", "admin")],
            Act.REVOKE,
        ),
        (
            [want(OPS, "admin"), want("cfo@acme.com"), Grant(US, "cfo@acme.com", "analyst")],
            [bound(OPS, "admin"), bound("cfo@acme.com"), Grant(US, "cfo@acme.com", "admin")],
            Act.DOWNGRADE,
        ),
        (
            [want(OPS, "admin"), want("cfo@acme.com", finance="analyst")],
            [bound(OPS, "admin"), bound("cfo@acme.com", finance="manager")],
            Act.DOWNGRADE_FINANCE,
        ),
    ],
    ids=["removal", "demotion", "grant revocation", "grant downgrade", "finance downgrade"],
)
def test_a_protected_member_keeps_its_access(
    desired: list[Entry], actual: list[Entry], verb: Act
) -> None:
    policy = Policy(min_admins=1, protected=("CFO@acme.com",))
    (refusal,) = check(desired, actual, policy)
    assert verdict(refusal) == (RefusalKind.PROTECTED, "cfo@acme.com", verb)
    assert refusal.override is None  # nothing overrides protection


@pytest.mark.parametrize(
    ("desired", "actual"),
    [
        ([want(OPS, "admin"), want("cfo@acme.com", "admin")], [bound("cfo@acme.com")]),
        (
            [want(OPS, "admin"), want("cfo@acme.com"), Grant(US, "cfo@acme.com", "admin")],
            [bound("cfo@acme.com"), Grant(US, "cfo@acme.com", "analyst")],
        ),
        ([want(OPS, "admin"), want("cfo@acme.com", finance="manager")], [bound("cfo@acme.com")]),
        (
            [want(OPS, "admin"), want("cfo@acme.com", finance="manager")],
            [bound("cfo@acme.com", finance="analyst")],
        ),
    ],
    ids=["promotion", "grant upgrade", "finance role added", "finance upgrade"],
)
def test_a_protected_member_may_gain_access(desired: list[Entry], actual: list[Entry]) -> None:
    policy = Policy(min_admins=1, protected=("cfo@acme.com",))
    assert check(desired, [bound(OPS, "admin"), *actual], policy) == ()


ADMIN: list[Entry] = [want(OWNER, "admin")]
PARTNERED: list[Entry] = [
    bound(OWNER, "admin"),
    Partner(AGENCY, name="Agency X"),
    PartnerShare(AGENCY, US, "operator"),
]


@pytest.mark.parametrize(
    ("protected", "aliases"),
    [(f"partner:{AGENCY}", {}), ("partner:agency-x", {AGENCY: "agency-x"})],
    ids=["by bc_id", "by alias"],
)
def test_a_protected_partner_is_never_removed(protected: str, aliases: dict[str, str]) -> None:
    policy = Policy(min_admins=1, protected=(protected,))
    (refusal,) = check(ADMIN, PARTNERED, policy, aliases=aliases)
    assert verdict(refusal) == (RefusalKind.PROTECTED, AGENCY, Act.REMOVE)
    # The subject is named as people know it: the alias, else the partner's name in the BC.
    assert refusal.subject.alias == aliases.get(AGENCY, "Agency X")


@pytest.mark.parametrize(
    ("role", "refused"),
    [(None, Act.UNSHARE), ("analyst", Act.DOWNGRADE), ("admin", None), ("operator", None)],
    ids=["unshare", "downgrade", "upgrade", "same"],
)
def test_a_protected_partner_keeps_its_shares(role: str | None, refused: Act | None) -> None:
    policy = Policy(min_admins=1, protected=(f"partner:{AGENCY}",))
    desired: list[Entry] = [*ADMIN, Partner(AGENCY, alias="agency-x")]
    if role is not None:
        desired.append(PartnerShare(AGENCY, US, role))
    refusals = check(desired, PARTNERED, policy, aliases={AGENCY: "agency-x"})
    if refused is None:
        assert refusals == ()
    else:
        (refusal,) = refusals
        assert verdict(refusal) == (RefusalKind.PROTECTED, AGENCY, refused)
        assert refusal.subject.alias == "agency-x" and US.id in (refusal.detail or "")


def test_unprotected_partner_may_be_removed() -> None:
    policy = Policy(min_admins=1, protected=("partner:someone-else",))
    assert check(ADMIN, PARTNERED, policy) == ()


def steps(*params: RemoveMember | UpdateMember | Assign) -> Sequence[Step]:
    return tuple(Step(f"s{i}", Stage.GRANT, p, (f"c{i}",)) for i, p in enumerate(params, 1))


def test_the_guards_read_the_steps_not_the_changes() -> None:
    """An appended step that removes the owner is refused whatever the changes say."""
    policy = Policy(min_admins=1, required_admins=(OWNER,), protected=(OWNER,))
    config = configured([want(OWNER, "admin"), want(OPS, "admin")], policy)
    have = state([bound(OWNER, "admin"), bound(OPS, "admin")])
    assert make_plan(config, have).steps == ()
    tampered = steps(RemoveMember(OWNER, f"uid-{OWNER}"))
    refusals = safety.refusals(tampered, config, have)
    assert [verdict(r) for r in refusals] == [
        (RefusalKind.REQUIRED_ADMIN, OWNER, Act.REMOVE),
        (RefusalKind.PROTECTED, OWNER, Act.REMOVE),
    ]
    raised = steps(Assign(f"uid-{OPS}", OPS, US, "admin"))
    assert safety.refusals(raised, config, have) == ()  # gaining access is not refused


def test_an_admin_floor_already_broken_is_not_made_worse() -> None:
    """With one admin left and min_admins 2, removing a standard member is allowed."""
    config = configured([want(OWNER, "admin")], ADMINS_2)
    have = state([bound(OWNER, "admin"), bound("s@acme.com")])
    assert safety.refusals(steps(RemoveMember("s@acme.com", "uid-s@acme.com")), config, have) == ()
    demote = steps(UpdateMember(f"uid-{OWNER}", OWNER, MemberRole.STANDARD, None))
    (refusal,) = safety.refusals(demote, config, have)
    assert verdict(refusal) == (RefusalKind.ADMIN_FLOOR, OWNER, Act.DEMOTE) and refusal.count == 0


def staff(n: int) -> list[Member]:
    return [bound(f"s{i:02d}@acme.com") for i in range(n)]


@pytest.mark.parametrize(
    ("existing", "removed", "limit", "refused"),
    [
        (12, 4, RemovalLimit(25.0), (4, 13, "25%")),
        (12, 3, RemovalLimit(25.0), None),  # 3 of 13 = 23%
        (8, 5, RemovalLimit(25.0), None),  # 9 entries: under the floor of 10
        (9, 5, RemovalLimit(25.0), (5, 10, "25%")),
        (12, 3, RemovalLimit(2, percent=False), (3, 13, "2")),
        (12, 2, RemovalLimit(2, percent=False), None),
    ],
    ids=["over 25%", "under 25%", "under the floor", "at the floor", "over a count", "at a count"],
)
def test_removal_threshold(
    existing: int, removed: int, limit: RemovalLimit, refused: tuple[int, int, str] | None
) -> None:
    policy = Policy(min_admins=1, max_removals=limit)
    actual = [bound(OWNER, "admin"), *staff(existing)]
    desired = [want(OWNER, "admin"), *(want(m.email) for m in staff(existing)[removed:])]
    refusals = check(desired, actual, policy)
    if refused is None:
        assert refusals == ()
    else:
        (refusal,) = refusals
        assert refusal.kind is RefusalKind.REMOVAL_LIMIT
        assert (refusal.count, refusal.total, refusal.limit) == refused
        assert refusal.override == "--allow-removals"
        assert check(desired, actual, policy, allow_removals=True) == ()


def test_removed_members_grants_count_as_removals() -> None:
    actual: list[Entry] = [
        bound(OWNER, "admin"),
        *staff(11),
        *(Grant(US, m.email, "analyst") for m in staff(11)),
    ]
    desired: list[Entry] = [want(OWNER, "admin"), *(want(m.email) for m in staff(11)[3:])]
    desired += [Grant(US, m.email, "analyst") for m in staff(11)[3:]]
    (refusal,) = check(desired, actual, Policy(min_admins=1))
    assert (refusal.kind, refusal.count, refusal.total) == (RefusalKind.REMOVAL_LIMIT, 6, 23)


def test_a_removed_partner_counts_its_shares() -> None:
    config = configured(ADMIN, Policy(min_admins=1))
    have = state(PARTNERED)
    plan = make_plan(config, have)
    counted = safety.count_removals(plan.steps, have, config.policy)
    assert (counted.removals, counted.existing) == (2, 3)


def test_ignored_members_are_not_managed_entries() -> None:
    """Ignored members are never touched, so they must not dilute max_removals."""
    policy = Policy(min_admins=1, ignore_members=("*@tiktok-support.example",))
    support = [bound(f"agent{i:02d}@tiktok-support.example") for i in range(30)]
    actual = [bound(OWNER, "admin"), *staff(9), *support]
    desired = [want(OWNER, "admin"), *(want(m.email) for m in staff(9)[4:])]
    (refusal,) = check(desired, actual, policy)
    assert (refusal.kind, refusal.count, refusal.total) == (RefusalKind.REMOVAL_LIMIT, 4, 10)


def test_refused_plans_raise_once_with_every_refusal_and_exit_4() -> None:
    policy = Policy(min_admins=2, required_admins=(OWNER,), protected=(OWNER,))
    config = configured([want(OPS, "admin")], policy)
    plan = make_plan(config, state([bound(OWNER, "admin"), bound(OPS, "admin")]))
    assert len(plan.refusals) == 3
    with pytest.raises(UnsafePlanError) as caught:
        raise_if_refused([plan])
    assert caught.value.exit_code is ExitCode.REFUSED
    assert caught.value.refusals == plan.refusals
    assert plan.name in caught.value.message
    # The hint names only flags that exist: none of these three has one.
    assert caught.value.hint is not None and "--" not in caught.value.hint


def test_safe_plans_do_not_raise() -> None:
    config = configured([want(OWNER, "admin"), want(OPS, "admin"), want("new@acme.com")], ADMINS_2)
    have = state([bound(OWNER, "admin"), bound(OPS, "admin"), bound("old@acme.com")])
    plan = make_plan(config, have)
    assert plan.has_changes
    raise_if_refused([plan])


# -- identities, not spellings (README "Safety") ----------------------------------------------

LOOKALIKE_OWNER = "\u043ewner@acme.com"  # a Cyrillic "о": reads as owner@acme.com
OTHER_AGENCY = "7200000000000000010"


def test_retargeting_a_protected_partner_reads_as_its_removal() -> None:
    """The attack: `partner:agency-x` stays protected while agency-x's bc_id changes; the
    partner the BC knows as agency-x would be removed with its shares."""
    policy = Policy(min_admins=1, protected=(f"partner:{OTHER_AGENCY}",))
    desired = [*ADMIN, Partner(OTHER_AGENCY), PartnerShare(OTHER_AGENCY, US, "operator")]
    refusals = check(desired, PARTNERED, policy, aliases={OTHER_AGENCY: "agency-x"})
    (refusal,) = refusals
    assert verdict(refusal) == (RefusalKind.IDENTITY_MOVED, AGENCY, Act.REMOVE)
    assert refusal.other is not None and refusal.other.id == OTHER_AGENCY
    assert refusal.other.alias == "agency-x" and refusal.subject.alias == "Agency X"
    assert refusal.override is None


def test_a_new_protected_partner_alone_is_not_refused() -> None:
    policy = Policy(min_admins=1, protected=(f"partner:{OTHER_AGENCY}",))
    desired = [
        *ADMIN,
        Partner(AGENCY),
        PartnerShare(AGENCY, US, "operator"),
        Partner(OTHER_AGENCY),
        PartnerShare(OTHER_AGENCY, US, "analyst"),
    ]
    assert check(desired, PARTNERED, policy) == ()


@pytest.mark.parametrize("new", [LOOKALIKE_OWNER, "0wner@acme.com"], ids=["lookalike", "other"])
def test_rewriting_a_required_admins_address_reads_as_a_removal(new: str) -> None:
    """The attack: owner@acme.com replaced everywhere (members, required_admins, protected)."""
    policy = Policy(min_admins=1, required_admins=(new,), protected=(new,))
    actual = [bound(OWNER, "admin"), bound(OPS, "admin")]
    refusals = check([want(new, "admin"), want(OPS, "admin")], actual, policy)
    kinds = {(r.kind, r.subject.id) for r in refusals}
    assert (RefusalKind.IDENTITY_MOVED, OWNER) in kinds
    moved = next(r for r in refusals if r.kind is RefusalKind.IDENTITY_MOVED)
    assert moved.other is not None and moved.other.id == new
    assert moved.subject.user_id == f"uid-{OWNER}"  # the person, as the BC knows them
    assert all(r.override is None for r in refusals)


def test_a_required_admin_new_to_the_bc_stops_an_admin_demotion() -> None:
    policy = Policy(min_admins=1, required_admins=("new@acme.com",))
    desired = [want(OWNER), want(OPS, "admin"), want("new@acme.com", "admin")]
    actual = [bound(OWNER, "admin"), bound(OPS, "admin")]
    (refusal,) = check(desired, actual, policy)
    assert verdict(refusal) == (RefusalKind.IDENTITY_MOVED, OWNER, Act.DEMOTE)


def test_inviting_a_lookalike_of_a_bc_member_is_refused() -> None:
    """Even unprotected: an invitation to an address that looks like one the BC has."""
    actual = [bound(OWNER, "admin"), bound(OPS, "admin")]
    desired = [want(OWNER, "admin"), want(OPS, "admin"), want("\u043eps@acme.com")]
    (refusal,) = check(desired, actual, Policy(min_admins=1))
    assert verdict(refusal) == (RefusalKind.LOOKALIKE, "\u043eps@acme.com", Act.INVITE)
    assert refusal.other is not None and refusal.other.id == OPS
    assert "U+043E CYRILLIC SMALL LETTER O" in refusal.sentence()


def test_protection_follows_the_user_id() -> None:
    """A step that names a protected member's user id under another email is still refused."""
    policy = Policy(min_admins=1, protected=(OWNER,))
    config = configured([want(OWNER, "admin"), want(OPS, "admin")], policy)
    have = state([bound(OWNER, "admin"), bound(OPS, "admin")])
    tampered = steps(RemoveMember("someone@acme.com", f"uid-{OWNER}"))
    (refusal,) = safety.refusals(tampered, config, have)
    assert verdict(refusal) == (RefusalKind.PROTECTED, "someone@acme.com", Act.REMOVE)


def test_former_members_do_not_weaken_the_removal_limit() -> None:
    """The issue's case: 2 admins, 10 members and 10 former members; a config keeping only the
    admins removes 10 of 12 managed entries, whatever the former members."""
    policy = Policy(min_admins=2, max_removals=RemovalLimit(50.0))
    admins = [bound(OWNER, "admin"), bound(OPS, "admin")]
    former = [replace(bound(f"former{i}@acme.com"), status=MemberStatus.UNBOUND) for i in range(10)]
    actual = [*admins, *staff(10), *former]
    (refusal,) = check([want(OWNER, "admin"), want(OPS, "admin")], actual, policy)
    assert (refusal.kind, refusal.count, refusal.total) == (RefusalKind.REMOVAL_LIMIT, 10, 12)
    assert refusal.override == "--allow-removals"


@pytest.mark.parametrize(
    "status", [MemberStatus.PENDING, MemberStatus.REJECTED, MemberStatus.UNBOUND]
)
def test_what_counts_as_managed_is_one_definition(status: MemberStatus) -> None:
    """Diff, the removal count and drift agree on which actual members are managed."""
    policy = Policy(min_admins=1, ignore_members=("*@support.example",))
    someone = replace(member("x@acme.com", status=status.value), user_id=None)
    have = state([bound(OWNER, "admin"), someone, bound("bot@support.example")])
    config = configured([want(OWNER, "admin")], policy)
    plan = make_plan(config, have)
    managed = set(managed_members(have, policy))
    removed = {c.key for c in plan.changes if c.kind.value == "member"}
    assert removed == managed - {OWNER}
    counted = safety.count_removals(plan.steps, have, policy)
    assert counted.existing == len(managed)
    drifted, _ = compare(config, have)
    assert {d.subject for d in drifted} == managed - {OWNER}


def test_the_hint_names_only_flags_that_exist() -> None:
    policy = Policy(
        min_admins=1,
        protected=(OPS,),
        max_removals=RemovalLimit(0, percent=False),
        removal_threshold_floor=0,
    )
    config = configured([want(OWNER, "admin")], policy)
    plan = make_plan(config, state([bound(OWNER, "admin"), bound(OPS, "admin")]))
    with pytest.raises(UnsafePlanError) as caught:
        raise_if_refused([plan])
    hint = caught.value.hint or ""
    assert "--allow-removals" in hint and "no override" in hint
    flags = {r.override for r in caught.value.refusals if isinstance(r, Refusal)}
    assert flags == {None, "--allow-removals"}
