"""Guards that refuse a plan which could lock the owners out. Pure, no I/O.

Each refusal names the numbers and the flag that overrides it, where one exists
(octoDNS `Plan.raise_if_unsafe`, Peribolos `--maximum-removal-delta` / `--min-admins`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

from bcsync.errors import UnsafePlanError
from bcsync.model import BusinessCenterConfig, MemberRole, MemberStatus, Policy, State
from bcsync.plan import Action, Change, Kind, Plan


@dataclass(frozen=True, slots=True)
class RemovalCount:
    removals: int
    existing: int


def count_removals(plan: Plan, actual: State, policy: Policy) -> RemovalCount:
    """Managed entries the plan removes (a removed member takes its grants along) and exist now.

    The provider reads grants and shares of declared assets only, so those are all managed;
    ignored members (and their grants) are not managed and never count.
    """
    managed = {
        e
        for e, m in actual.members.items()
        if m.status is not MemberStatus.REJECTED and not policy.is_ignored(e)
    }
    grants_of = Counter(g.member for g in actual.grants.values() if g.member in managed)
    shares_of = Counter(s.partner for s in actual.shares.values())
    existing = len(managed) + grants_of.total() + len(actual.partners) + shares_of.total()
    removals = 0
    for change in plan.changes:
        if change.action is not Action.DELETE:
            continue
        removals += 1
        if change.kind is Kind.MEMBER:
            removals += grants_of[change.key]
        elif change.kind is Kind.PARTNER:
            removals += shares_of[change.key]
    return RemovalCount(removals, existing)


def violations(
    plan: Plan,
    config: BusinessCenterConfig,
    actual: State,
    *,
    allow_removals: bool = False,
) -> list[str]:
    """Every guard the plan breaks, as messages; empty when the plan is safe."""
    policy = config.policy
    problems: list[str] = []
    problems.extend(_admin_floor(plan, policy, actual))
    problems.extend(_protected(plan, policy, actual, config.partner_aliases))
    if not allow_removals:
        counted = count_removals(plan, actual, policy)
        limit = policy.max_removals
        if counted.existing >= policy.removal_threshold_floor and not limit.allows(
            counted.removals, counted.existing
        ):
            if limit.percent:
                share = 100 * counted.removals / counted.existing
                compared = f"{share:.0f}% > max_removals {limit}"
            else:
                compared = f"{counted.removals} > max_removals {limit}"
            problems.append(
                f"refusing to remove {counted.removals} of {counted.existing} managed entries "
                f"({compared}); pass --allow-removals to proceed"
            )
    return problems


def check(
    plan: Plan,
    config: BusinessCenterConfig,
    actual: State,
    *,
    allow_removals: bool = False,
) -> None:
    """Raise UnsafePlanError naming every broken guard."""
    problems = violations(plan, config, actual, allow_removals=allow_removals)
    if problems:
        where = plan.bc_name or plan.bc_id
        raise UnsafePlanError(
            f"plan for {where} ({plan.bc_id}) refused:\n  - " + "\n  - ".join(problems),
            hint="fix the config, or pass the flag named above when the change is intended",
        )


def _takes_admin(change: Change, actual: State) -> bool:
    """Whether the change leaves a currently bound admin without the admin role."""
    if change.kind is not Kind.MEMBER:
        return False
    have = actual.members.get(change.key)
    if have is None or have.status is not MemberStatus.BOUND or have.role is not MemberRole.ADMIN:
        return False
    if change.action is Action.DELETE:
        return True
    return change.action is Action.UPDATE and (change.after or {}).get("role") != "admin"


def _gives_admin(change: Change, actual: State) -> bool:
    if change.kind is not Kind.MEMBER or change.action is not Action.UPDATE:
        return False
    have = actual.members.get(change.key)
    return (
        have is not None
        and have.status is MemberStatus.BOUND
        and have.role is not MemberRole.ADMIN
        and (change.after or {}).get("role") == "admin"
    )


def _admin_floor(plan: Plan, policy: Policy, actual: State) -> list[str]:
    """Every prefix of the plan keeps `min_admins` admins and every required admin."""
    problems = []
    admins = {
        e
        for e, m in actual.members.items()
        if m.status is MemberStatus.BOUND and m.role is MemberRole.ADMIN
    }
    count = len(admins)
    required = {r.lower() for r in policy.required_admins}
    for change in plan.changes:
        if _gives_admin(change, actual):
            count += 1
        elif _takes_admin(change, actual):
            count -= 1
            verb = "removing" if change.action is Action.DELETE else "demoting"
            if count < policy.min_admins:
                problems.append(
                    f"{verb} admin {change.key} would leave {count} admin(s); "
                    f"policy min_admins is {policy.min_admins}"
                )
            if change.key in required:
                problems.append(
                    f"{verb} {change.key}, a required admin (policy.required_admins), "
                    "is never allowed"
                )
    return problems


def _protected(plan: Plan, policy: Policy, actual: State, aliases: Mapping[str, str]) -> list[str]:
    problems = []
    for change in plan.changes:
        if change.action not in (Action.DELETE, Action.UPDATE):
            continue
        if change.kind is Kind.MEMBER and policy.is_protected_member(change.key):
            if change.action is Action.DELETE or _takes_admin(change, actual):
                verb = "remove" if change.action is Action.DELETE else "demote"
                problems.append(
                    f"refusing to {verb} protected member {change.key} (policy.protected)"
                )
        elif (
            change.kind is Kind.GRANT
            and change.action is Action.DELETE
            and policy.is_protected_member(change.target.get("email", ""))
        ):
            problems.append(f"refusing to revoke {change.title} of a protected member")
        elif change.kind in (Kind.PARTNER, Kind.SHARE):
            partner = change.target.get("partner_bc_id", "")
            alias = aliases.get(partner)
            if policy.is_protected_partner(partner, alias) and change.action is Action.DELETE:
                if change.kind is Kind.PARTNER:
                    what = f"remove protected {change.title}"
                else:
                    what = f"unshare {change.title}"
                problems.append(f"refusing to {what} (policy.protected)")
    return problems
