"""Guards that refuse a plan which could lock the owners out. Pure, no I/O.

The guards read the steps, the very API calls apply will make, in their order: every prefix keeps
`min_admins` admins and every required admin, no step touches a protected entry, and the steps
remove no more than `max_removals`. Each refusal names the numbers and the flag that overrides it,
where one exists (octoDNS `Plan.raise_if_unsafe`, Peribolos `--maximum-removal-delta`).
`raise_if_refused` is the one place a refused plan becomes an `UnsafePlanError`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from bcsync.errors import UnsafePlanError
from bcsync.model import (
    ROLES,
    AssetKey,
    AssetType,
    BusinessCenterConfig,
    FinanceRole,
    MemberRole,
    MemberStatus,
    Policy,
    State,
)
from bcsync.schedule import (
    Assign,
    RemoveMember,
    RemovePartner,
    Share,
    Step,
    Unassign,
    Unshare,
    UpdateMember,
)


@dataclass(frozen=True, slots=True)
class RemovalCount:
    removals: int
    existing: int


def refusals(
    steps: Sequence[Step],
    config: BusinessCenterConfig,
    actual: State,
    *,
    allow_removals: bool = False,
    unread_members: int = 0,
) -> tuple[str, ...]:
    """Every guard the steps break, as sentences; empty when they are safe to run.

    `unread_members`: members a scoped read (`plan --changed`) counted but did not list; they
    exist, so the removal limit counts them.
    """
    policy = config.policy
    found = [
        *_admin_floor(steps, policy, actual),
        *_protected(steps, policy, actual, config.partner_aliases),
    ]
    if not allow_removals:
        found.extend(_removal_limit(steps, policy, actual, unread_members))
    return tuple(dict.fromkeys(found))


def raise_if_refused(refused: Iterable[tuple[str, Sequence[str]]]) -> None:
    """Raise one UnsafePlanError naming every refusal of every BC ((name, refusals) pairs)."""
    lines = [f"{name}: {reason}" for name, reasons in refused for reason in reasons]
    if lines:
        raise UnsafePlanError(
            "refused by safety guards:\n  - " + "\n  - ".join(lines),
            hint="fix the config, or pass the flag named above if the change is intended",
        )


def count_removals(steps: Sequence[Step], actual: State, policy: Policy) -> RemovalCount:
    """Managed entries the steps remove (a removed member takes its grants along) and exist now.

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
    for step in steps:
        params = step.params
        if isinstance(params, RemoveMember):
            removals += 1 + grants_of[params.email]
        elif isinstance(params, Unassign):
            removals += 1
        elif isinstance(params, RemovePartner):
            removals += 1 + shares_of[params.partner_bc_id]
        elif isinstance(params, Unshare):
            removals += len(params.asset_ids)
    return RemovalCount(removals, existing)


def _removal_limit(
    steps: Sequence[Step], policy: Policy, actual: State, unread: int = 0
) -> list[str]:
    counted = count_removals(steps, actual, policy)
    counted = RemovalCount(counted.removals, counted.existing + unread)
    limit = policy.max_removals
    if counted.existing < policy.removal_threshold_floor or limit.allows(
        counted.removals, counted.existing
    ):
        return []
    if limit.percent:
        compared = f"{100 * counted.removals / counted.existing:.0f}% > max_removals {limit}"
    else:
        compared = f"{counted.removals} > max_removals {limit}"
    return [
        f"refusing to remove {counted.removals} of {counted.existing} managed entries "
        f"({compared}); pass --allow-removals to proceed"
    ]


def _admin_floor(steps: Sequence[Step], policy: Policy, actual: State) -> list[str]:
    """Every prefix of the steps keeps `min_admins` admins and every required admin.

    Admins matched by `ignore_members` are not managed, so they do not count towards the floor.
    """
    bound = {e for e, m in actual.members.items() if m.status is MemberStatus.BOUND}
    admins = {
        e for e in bound if actual.members[e].role is MemberRole.ADMIN and not policy.is_ignored(e)
    }
    required = {r.lower() for r in policy.required_admins}
    problems = []
    for step in steps:
        params = step.params
        email = getattr(params, "email", None)
        if email is None or email not in bound:
            continue
        if isinstance(params, UpdateMember) and params.role is MemberRole.ADMIN:
            if not policy.is_ignored(email):
                admins.add(email)
            continue
        if not isinstance(params, UpdateMember | RemoveMember) or email not in admins:
            continue
        admins.discard(email)
        verb = "removing" if isinstance(params, RemoveMember) else "demoting"
        if len(admins) < policy.min_admins:
            problems.append(
                f"{verb} admin {email} would leave {len(admins)} admin(s); "
                f"policy min_admins is {policy.min_admins}"
            )
        if email in required:
            problems.append(
                f"{verb} {email}, a required admin (policy.required_admins), is never allowed"
            )
    return problems


def _weaker(asset_type: AssetType, new: str, old: str) -> bool:
    """Whether `new` gives less than `old` on an asset of this type."""
    order = ROLES[asset_type]
    if new in order and old in order:
        return order.index(new) < order.index(old)
    return not set(old.split(",")) <= set(new.split(","))


def _protected(
    steps: Sequence[Step], policy: Policy, actual: State, aliases: Mapping[str, str]
) -> list[str]:
    def partner_protected(bc_id: str) -> bool:
        return policy.is_protected_partner(bc_id, aliases.get(bc_id))

    problems = []
    for step in steps:
        p = step.params
        if isinstance(p, RemoveMember) and policy.is_protected_member(p.email):
            problems.append(f"refusing to remove protected member {p.email} (policy.protected)")
        elif isinstance(p, UpdateMember) and policy.is_protected_member(p.email):
            have = actual.members.get(p.email)
            if (
                have is not None
                and have.role is MemberRole.ADMIN
                and p.role is not MemberRole.ADMIN
            ):
                problems.append(f"refusing to demote protected member {p.email} (policy.protected)")
            # None leaves the finance role as it is, so manager -> analyst is the one downgrade.
            if (
                have is not None
                and have.finance_role is FinanceRole.MANAGER
                and p.finance_role is FinanceRole.ANALYST
            ):
                problems.append(
                    f"refusing to downgrade the finance role of protected member {p.email} "
                    "(manager → analyst) (policy.protected)"
                )
        elif isinstance(p, Unassign) and policy.is_protected_member(p.email):
            problems.append(f"refusing to revoke {p.asset} of protected member {p.email}")
        elif isinstance(p, Assign) and policy.is_protected_member(p.email):
            have_grant = actual.grants.get((p.asset, p.email))
            if have_grant is not None and _weaker(p.asset.type, p.role, have_grant.role):
                problems.append(
                    f"refusing to downgrade {p.asset} of protected member {p.email} "
                    f"({have_grant.role} → {p.role})"
                )
        elif isinstance(p, RemovePartner) and partner_protected(p.partner_bc_id):
            problems.append(
                f"refusing to remove protected partner {p.partner_bc_id} (policy.protected)"
            )
        elif isinstance(p, Unshare) and partner_protected(p.partner_bc_id):
            problems.append(
                f"refusing to unshare {len(p.asset_ids)} asset(s) from protected partner "
                f"{p.partner_bc_id} (policy.protected)"
            )
        elif isinstance(p, Share) and partner_protected(p.partner_bc_id):
            problems.extend(_share_downgrades(p, actual))
    return problems


def _share_downgrades(share: Share, actual: State) -> list[str]:
    problems = []
    for asset_id in share.asset_ids:
        have = actual.shares.get((share.partner_bc_id, AssetKey(AssetType.AD_ACCOUNT, asset_id)))
        if have is not None and _weaker(AssetType.AD_ACCOUNT, share.role, have.role):
            problems.append(
                f"refusing to downgrade ad account {asset_id} shared with protected partner "
                f"{share.partner_bc_id} ({have.role} → {share.role}) (policy.protected)"
            )
    return problems
