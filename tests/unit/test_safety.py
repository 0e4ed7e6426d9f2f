"""safety: every guard refuses with the numbers (and the override flag where one exists)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

import builders
import pytest
from builders import AGENCY, BC, Entry, bc_config, bound, member

from bcsync import safety
from bcsync.diff import make_plan
from bcsync.errors import ExitCode, UnsafePlanError
from bcsync.model import (
    AssetKey,
    AssetType,
    BusinessCenterConfig,
    Grant,
    Member,
    Partner,
    PartnerShare,
    Policy,
    ProviderSettings,
    RemovalLimit,
    State,
)
from bcsync.plan import Plan

US = AssetKey(AssetType.AD_ACCOUNT, "7100000000000000001")
OWNER = "owner@acme.com"


want = member


def state(entries: Iterable[Entry]) -> State:
    return builders.state(entries, (US,))


def check(
    desired: Iterable[Entry],
    actual: Iterable[Entry],
    policy: Policy,
    *,
    aliases: dict[str, str] | None = None,
    allow_removals: bool = False,
) -> list[str]:
    config = bc_config(
        state(desired), policy=policy, digest="sha256:" + "2" * 64, partner_aliases=aliases
    )
    have = state(actual)
    plan = make_plan(config, have)
    return safety.violations(plan, config, have, allow_removals=allow_removals)


ADMINS_2 = Policy(min_admins=2)


def test_safe_plan_has_no_violations() -> None:
    desired = [want(OWNER, "admin"), want("ops@acme.com", "admin"), want("new@acme.com")]
    actual = [bound(OWNER, "admin"), bound("ops@acme.com", "admin")]
    assert check(desired, actual, ADMINS_2) == []


def test_removing_an_admin_below_min_admins_names_the_numbers() -> None:
    desired = [want(OWNER, "admin")]
    actual = [bound(OWNER, "admin"), bound("ops@acme.com", "admin")]
    assert check(desired, actual, ADMINS_2) == [
        "removing admin ops@acme.com would leave 1 admin(s); policy min_admins is 2"
    ]


def test_demoting_below_min_admins() -> None:
    desired = [want(OWNER, "admin"), want("ops@acme.com")]
    actual = [bound(OWNER, "admin"), bound("ops@acme.com", "admin")]
    assert check(desired, actual, ADMINS_2) == [
        "demoting admin ops@acme.com would leave 1 admin(s); policy min_admins is 2"
    ]


def test_promotion_before_demotion_passes() -> None:
    desired = [want(OWNER, "admin"), want("ops@acme.com"), want("dave@acme.com", "admin")]
    actual = [bound(OWNER, "admin"), bound("ops@acme.com", "admin"), bound("dave@acme.com")]
    assert check(desired, actual, ADMINS_2) == []


def test_an_invited_admin_does_not_count_until_bound() -> None:
    desired = [want(OWNER, "admin"), want("new@acme.com", "admin")]
    actual = [bound(OWNER, "admin"), bound("ops@acme.com", "admin")]
    assert check(desired, actual, ADMINS_2) == [
        "removing admin ops@acme.com would leave 1 admin(s); policy min_admins is 2"
    ]


def test_every_prefix_keeps_min_admins() -> None:
    """A demotion placed before the promotion would lock out, even if the end state is fine."""
    desired = [want(OWNER, "admin"), want("ops@acme.com"), want("dave@acme.com", "admin")]
    actual = [bound(OWNER, "admin"), bound("ops@acme.com", "admin"), bound("dave@acme.com")]
    config = BusinessCenterConfig(
        "bcsync.yaml", BC, None, ProviderSettings(), ADMINS_2, state(desired), "sha256:x"
    )
    have = state(actual)
    plan = make_plan(config, have)
    reordered = replace(plan, changes=tuple(reversed(plan.changes)))
    assert safety.violations(plan, config, have) == []
    assert safety.violations(reordered, config, have) == [
        "demoting admin ops@acme.com would leave 1 admin(s); policy min_admins is 2"
    ]


def test_required_admin_demotion_is_refused() -> None:
    policy = Policy(min_admins=1, required_admins=(OWNER,))
    desired = [want(OWNER), want("ops@acme.com", "admin")]
    actual = [bound(OWNER, "admin"), bound("ops@acme.com", "admin")]
    assert check(desired, actual, policy) == [
        f"demoting {OWNER}, a required admin (policy.required_admins), is never allowed"
    ]


def test_required_admin_removal_is_refused() -> None:
    policy = Policy(min_admins=1, required_admins=(OWNER,))
    desired = [want("ops@acme.com", "admin")]
    actual = [bound(OWNER, "admin"), bound("ops@acme.com", "admin")]
    assert check(desired, actual, policy) == [
        f"removing {OWNER}, a required admin (policy.required_admins), is never allowed"
    ]


@pytest.mark.parametrize(
    ("desired", "actual", "message"),
    [
        (
            [want("ops@acme.com", "admin")],
            [bound("ops@acme.com", "admin"), bound("cfo@acme.com")],
            "refusing to remove protected member cfo@acme.com (policy.protected)",
        ),
        (
            [want("ops@acme.com", "admin"), want("cfo@acme.com")],
            [bound("ops@acme.com", "admin"), bound("cfo@acme.com", "admin")],
            "refusing to demote protected member cfo@acme.com (policy.protected)",
        ),
        (
            [want("ops@acme.com", "admin"), want("cfo@acme.com")],
            [
                bound("ops@acme.com", "admin"),
                bound("cfo@acme.com"),
                Grant(US, "cfo@acme.com", "admin"),
            ],
            f"refusing to revoke cfo@acme.com on {US} of a protected member",
        ),
    ],
    ids=["removal", "demotion", "grant revocation"],
)
def test_protected_member(desired: list[Entry], actual: list[Entry], message: str) -> None:
    policy = Policy(min_admins=1, protected=("CFO@acme.com",))
    assert check(desired, actual, policy) == [message]


def test_protected_member_may_be_promoted() -> None:
    policy = Policy(min_admins=1, protected=("cfo@acme.com",))
    desired = [want("ops@acme.com", "admin"), want("cfo@acme.com", "admin")]
    actual = [bound("ops@acme.com", "admin"), bound("cfo@acme.com")]
    assert check(desired, actual, policy) == []


ADMIN = [want(OWNER, "admin")]
PARTNERED = [
    bound(OWNER, "admin"),
    Partner(AGENCY, name="Agency X"),
    PartnerShare(AGENCY, US, "analyst"),
]


@pytest.mark.parametrize(
    ("protected", "aliases", "label"),
    [
        (f"partner:{AGENCY}", {}, "Agency X"),
        ("partner:agency-x", {AGENCY: "agency-x"}, "agency-x"),
    ],
    ids=["by bc_id", "by alias"],
)
def test_protected_partner_removal_is_refused(
    protected: str, aliases: dict[str, str], label: str
) -> None:
    policy = Policy(min_admins=1, protected=(protected,))
    assert check(ADMIN, PARTNERED, policy, aliases=aliases) == [
        f"refusing to remove protected partner {label} ({AGENCY}) (policy.protected)"
    ]


def test_protected_partner_unshare_is_refused() -> None:
    policy = Policy(min_admins=1, protected=(f"partner:{AGENCY}",))
    desired = [*ADMIN, Partner(AGENCY, alias="agency-x")]
    assert check(desired, PARTNERED, policy, aliases={AGENCY: "agency-x"}) == [
        f"refusing to unshare {US} shared with agency-x ({AGENCY}) (policy.protected)"
    ]


def test_unprotected_partner_may_be_removed() -> None:
    policy = Policy(min_admins=1, protected=("partner:someone-else",))
    assert check(ADMIN, PARTNERED, policy) == []


def staff(n: int) -> list[Member]:
    return [bound(f"s{i:02d}@acme.com") for i in range(n)]


@pytest.mark.parametrize(
    ("existing", "removed", "limit", "refused"),
    [
        (
            12,
            4,
            RemovalLimit(25.0),
            "refusing to remove 4 of 13 managed entries (31% > max_removals 25%)",
        ),
        (12, 3, RemovalLimit(25.0), None),  # 3 of 13 = 23%
        (8, 5, RemovalLimit(25.0), None),  # 9 entries: under the floor of 10
        (
            9,
            5,
            RemovalLimit(25.0),
            "refusing to remove 5 of 10 managed entries (50% > max_removals 25%)",
        ),
        (12, 3, RemovalLimit(2, percent=False), "refusing to remove 3 of 13 managed entries"),
        (12, 2, RemovalLimit(2, percent=False), None),
    ],
    ids=["over 25%", "under 25%", "under the floor", "at the floor", "over a count", "at a count"],
)
def test_removal_threshold(
    existing: int, removed: int, limit: RemovalLimit, refused: str | None
) -> None:
    policy = Policy(min_admins=1, max_removals=limit)
    actual = [bound(OWNER, "admin"), *staff(existing)]
    desired = [want(OWNER, "admin"), *(want(m.email) for m in staff(existing)[removed:])]
    problems = check(desired, actual, policy)
    if refused is None:
        assert problems == []
    else:
        (problem,) = problems
        assert problem.startswith(refused)
        assert problem.endswith("; pass --allow-removals to proceed")
        assert check(desired, actual, policy, allow_removals=True) == []


def test_removed_members_grants_count_as_removals() -> None:
    actual = [
        bound(OWNER, "admin"),
        *staff(11),
        *(Grant(US, m.email, "analyst") for m in staff(11)),
    ]
    desired = [want(OWNER, "admin"), *(want(m.email) for m in staff(11)[3:])]
    desired += [Grant(US, m.email, "analyst") for m in staff(11)[3:]]
    (problem,) = check(desired, actual, Policy(min_admins=1))
    assert problem.startswith("refusing to remove 6 of 23 managed entries (26% > max_removals 25%)")


def test_check_raises_every_problem_with_exit_code_4() -> None:
    policy = Policy(min_admins=2, required_admins=(OWNER,), protected=(OWNER,))
    desired = [want("ops@acme.com", "admin")]
    actual = [bound(OWNER, "admin"), bound("ops@acme.com", "admin")]
    config = BusinessCenterConfig(
        "bcsync.yaml", BC, "Acme Retail", ProviderSettings(), policy, state(desired), "sha256:x"
    )
    have = state(actual)
    plan: Plan = make_plan(config, have)
    with pytest.raises(UnsafePlanError) as caught:
        safety.check(plan, config, have)
    assert caught.value.exit_code is ExitCode.REFUSED
    message = caught.value.message
    assert message.startswith(f"plan for Acme Retail ({BC}) refused:")
    assert "would leave 1 admin(s); policy min_admins is 2" in message
    assert "a required admin (policy.required_admins)" in message
    assert f"refusing to remove protected member {OWNER}" in message


def test_check_passes_a_safe_plan() -> None:
    desired = [want(OWNER, "admin"), want("ops@acme.com", "admin"), want("new@acme.com")]
    config = BusinessCenterConfig(
        "bcsync.yaml", BC, None, ProviderSettings(), ADMINS_2, state(desired), "sha256:x"
    )
    have = state([bound(OWNER, "admin"), bound("ops@acme.com", "admin"), bound("old@acme.com")])
    plan = make_plan(config, have)
    assert plan.has_changes
    safety.check(plan, config, have)


# -- regression: a bug found in review (fixed in safety.py) ----------------------------------------


def test_absolute_removal_limit_message_compares_counts() -> None:
    """With `max_removals: 2` the message must not compare a percentage with a count."""
    policy = Policy(min_admins=1, max_removals=RemovalLimit(2, percent=False))
    actual = [bound(OWNER, "admin"), *staff(12)]
    desired = [want(OWNER, "admin"), *(want(m.email) for m in staff(12)[3:])]
    (problem,) = check(desired, actual, policy)
    assert "(3 > max_removals 2)" in problem


def test_ignored_members_are_not_managed_entries() -> None:
    """DESIGN 3: ignored members are never touched, so they must not dilute max_removals."""
    policy = Policy(min_admins=1, ignore_members=("*@tiktok-support.example",))
    support = [bound(f"agent{i:02d}@tiktok-support.example") for i in range(30)]
    actual = [bound(OWNER, "admin"), *staff(9), *support]
    desired = [want(OWNER, "admin"), *(want(m.email) for m in staff(9)[4:])]
    (problem,) = check(desired, actual, policy)
    assert problem.startswith("refusing to remove 4 of 10 managed entries (40% > max_removals 25%)")
