"""safety: every guard refuses the steps that would run, naming the numbers and the override flag.

Refusals are sentences for people; these tests check what they name (who, how many, which policy,
which flag), not their wording.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import builders
import pytest
from builders import AGENCY, Entry, bc_config, bound, member

from bcsync import safety
from bcsync.change import Stage
from bcsync.errors import ExitCode, UnsafePlanError
from bcsync.model import (
    AssetKey,
    AssetType,
    BusinessCenterConfig,
    Grant,
    Member,
    MemberRole,
    Partner,
    PartnerShare,
    Policy,
    RemovalLimit,
    State,
)
from bcsync.plan import make_plan, raise_if_refused
from bcsync.schedule import Assign, RemoveMember, Step, UpdateMember

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


def names(refusal: str, *data: object) -> bool:
    return all(str(d) in refusal for d in data)


ADMINS_2 = Policy(min_admins=2)


def test_safe_plan_has_no_refusals() -> None:
    desired = [want(OWNER, "admin"), want(OPS, "admin"), want("new@acme.com")]
    actual = [bound(OWNER, "admin"), bound(OPS, "admin")]
    assert check(desired, actual, ADMINS_2) == ()


@pytest.mark.parametrize(
    ("desired", "verb"),
    [([want(OWNER, "admin")], "removing"), ([want(OWNER, "admin"), want(OPS)], "demoting")],
    ids=["removal", "demotion"],
)
def test_losing_an_admin_below_min_admins_names_the_numbers(
    desired: list[Entry], verb: str
) -> None:
    actual = [bound(OWNER, "admin"), bound(OPS, "admin")]
    (refusal,) = check(desired, actual, ADMINS_2)
    assert names(refusal, verb, OPS, "leave 1 admin", "min_admins is 2")


def test_promotion_before_demotion_passes() -> None:
    desired = [want(OWNER, "admin"), want(OPS), want("dave@acme.com", "admin")]
    actual = [bound(OWNER, "admin"), bound(OPS, "admin"), bound("dave@acme.com")]
    assert check(desired, actual, ADMINS_2) == ()


def test_an_invited_admin_does_not_count_until_bound() -> None:
    desired = [want(OWNER, "admin"), want("new@acme.com", "admin")]
    actual = [bound(OWNER, "admin"), bound(OPS, "admin")]
    (refusal,) = check(desired, actual, ADMINS_2)
    assert names(refusal, OPS, "leave 1 admin")


def test_every_prefix_of_the_steps_keeps_min_admins() -> None:
    """A demotion run before the promotion locks out, even if the end state is fine."""
    desired = [want(OWNER, "admin"), want(OPS), want("dave@acme.com", "admin")]
    actual = [bound(OWNER, "admin"), bound(OPS, "admin"), bound("dave@acme.com")]
    config, have = configured(desired, ADMINS_2), state(actual)
    plan = make_plan(config, have)
    assert safety.refusals(plan.steps, config, have) == ()
    (refusal,) = safety.refusals(tuple(reversed(plan.steps)), config, have)
    assert names(refusal, "demoting", OPS, "leave 1 admin")


def test_ignored_admins_do_not_count_towards_min_admins() -> None:
    policy = Policy(min_admins=2, ignore_members=("*@tiktok-support.example",))
    desired = [want(OWNER, "admin")]
    actual = [
        bound(OWNER, "admin"),
        bound(OPS, "admin"),
        bound("a@tiktok-support.example", "admin"),
    ]
    (refusal,) = check(desired, actual, policy)
    assert names(refusal, "removing", OPS, "leave 1 admin", "min_admins is 2")


@pytest.mark.parametrize(
    ("desired", "verb"),
    [([want(OWNER), want(OPS, "admin")], "demoting"), ([want(OPS, "admin")], "removing")],
    ids=["demotion", "removal"],
)
def test_a_required_admin_is_never_demoted_or_removed(desired: list[Entry], verb: str) -> None:
    policy = Policy(min_admins=1, required_admins=(OWNER,))
    actual = [bound(OWNER, "admin"), bound(OPS, "admin")]
    (refusal,) = check(desired, actual, policy)
    assert names(refusal, verb, OWNER, "required_admins")


@pytest.mark.parametrize(
    ("desired", "actual", "verb"),
    [
        ([want(OPS, "admin")], [bound(OPS, "admin"), bound("cfo@acme.com")], "remove"),
        (
            [want(OPS, "admin"), want("cfo@acme.com")],
            [bound(OPS, "admin"), bound("cfo@acme.com", "admin")],
            "demote",
        ),
        (
            [want(OPS, "admin"), want("cfo@acme.com")],
            [bound(OPS, "admin"), bound("cfo@acme.com"), Grant(US, "cfo@acme.com", "admin")],
            "revoke",
        ),
        (
            [want(OPS, "admin"), want("cfo@acme.com"), Grant(US, "cfo@acme.com", "analyst")],
            [bound(OPS, "admin"), bound("cfo@acme.com"), Grant(US, "cfo@acme.com", "admin")],
            "downgrade",
        ),
        (
            [want(OPS, "admin"), want("cfo@acme.com", finance="analyst")],
            [bound(OPS, "admin"), bound("cfo@acme.com", finance="manager")],
            "downgrade",
        ),
    ],
    ids=["removal", "demotion", "grant revocation", "grant downgrade", "finance downgrade"],
)
def test_a_protected_member_keeps_its_access(
    desired: list[Entry], actual: list[Entry], verb: str
) -> None:
    policy = Policy(min_admins=1, protected=("CFO@acme.com",))
    (refusal,) = check(desired, actual, policy)
    assert names(refusal, verb, "cfo@acme.com", "protected")


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
    assert names(refusal, "remove", AGENCY, "protected")


@pytest.mark.parametrize(
    ("role", "refused"),
    [(None, "unshare"), ("analyst", "downgrade"), ("admin", None), ("operator", None)],
    ids=["unshare", "downgrade", "upgrade", "same"],
)
def test_a_protected_partner_keeps_its_shares(role: str | None, refused: str | None) -> None:
    policy = Policy(min_admins=1, protected=(f"partner:{AGENCY}",))
    desired: list[Entry] = [*ADMIN, Partner(AGENCY, alias="agency-x")]
    if role is not None:
        desired.append(PartnerShare(AGENCY, US, role))
    refusals = check(desired, PARTNERED, policy, aliases={AGENCY: "agency-x"})
    if refused is None:
        assert refusals == ()
    else:
        (refusal,) = refusals
        assert names(refusal, refused, AGENCY, "protected")


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
    assert len(refusals) == 2
    assert names(refusals[0], OWNER, "required_admins")
    assert names(refusals[1], OWNER, "protected")
    raised = steps(Assign(f"uid-{OPS}", OPS, US, "admin"))
    assert safety.refusals(raised, config, have) == ()  # gaining access is not refused


def test_an_admin_floor_already_broken_is_not_made_worse() -> None:
    """With one admin left and min_admins 2, removing a standard member is allowed."""
    config = configured([want(OWNER, "admin")], ADMINS_2)
    have = state([bound(OWNER, "admin"), bound("s@acme.com")])
    assert safety.refusals(steps(RemoveMember("s@acme.com", "uid-s@acme.com")), config, have) == ()
    demote = steps(UpdateMember(f"uid-{OWNER}", OWNER, MemberRole.STANDARD, None))
    (refusal,) = safety.refusals(demote, config, have)
    assert names(refusal, OWNER, "leave 0 admin")


def staff(n: int) -> list[Member]:
    return [bound(f"s{i:02d}@acme.com") for i in range(n)]


@pytest.mark.parametrize(
    ("existing", "removed", "limit", "refused"),
    [
        (12, 4, RemovalLimit(25.0), ("4 of 13", "31%", "25%")),
        (12, 3, RemovalLimit(25.0), None),  # 3 of 13 = 23%
        (8, 5, RemovalLimit(25.0), None),  # 9 entries: under the floor of 10
        (9, 5, RemovalLimit(25.0), ("5 of 10", "50%", "25%")),
        (12, 3, RemovalLimit(2, percent=False), ("3 of 13", "3 > max_removals 2")),
        (12, 2, RemovalLimit(2, percent=False), None),
    ],
    ids=["over 25%", "under 25%", "under the floor", "at the floor", "over a count", "at a count"],
)
def test_removal_threshold(
    existing: int, removed: int, limit: RemovalLimit, refused: tuple[str, ...] | None
) -> None:
    policy = Policy(min_admins=1, max_removals=limit)
    actual = [bound(OWNER, "admin"), *staff(existing)]
    desired = [want(OWNER, "admin"), *(want(m.email) for m in staff(existing)[removed:])]
    refusals = check(desired, actual, policy)
    if refused is None:
        assert refusals == ()
    else:
        (refusal,) = refusals
        assert names(refusal, *refused, "--allow-removals")
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
    assert names(refusal, "6 of 23", "26%")


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
    assert names(refusal, "4 of 10", "40%")


def test_refused_plans_raise_once_with_every_refusal_and_exit_4() -> None:
    policy = Policy(min_admins=2, required_admins=(OWNER,), protected=(OWNER,))
    config = configured([want(OPS, "admin")], policy)
    plan = make_plan(config, state([bound(OWNER, "admin"), bound(OPS, "admin")]))
    assert len(plan.refusals) == 3
    with pytest.raises(UnsafePlanError) as caught:
        raise_if_refused([plan])
    assert caught.value.exit_code is ExitCode.REFUSED
    message = caught.value.message
    assert plan.name in message
    assert all(refusal in message for refusal in plan.refusals)


def test_safe_plans_do_not_raise() -> None:
    config = configured([want(OWNER, "admin"), want(OPS, "admin"), want("new@acme.com")], ADMINS_2)
    have = state([bound(OWNER, "admin"), bound(OPS, "admin"), bound("old@acme.com")])
    plan = make_plan(config, have)
    assert plan.has_changes
    raise_if_refused([plan])
