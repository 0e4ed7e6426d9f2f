"""Guards that refuse a plan which could lock the owners out. Pure, no I/O.

The guards read the steps, the very API calls apply will make, in their order: every prefix keeps
`min_admins` admins and every required admin, no step touches a protected entry (bound to the
identity: a partner by BC id, a member by email and, once joined, user id), a protected name
does not move to someone new while its old holder is removed, no invitation goes to an address
that looks like one the BC has, and the steps remove no more than `max_removals`. Each verdict is
a typed `Refusal` naming the numbers and the flag that overrides it, where one exists (octoDNS
`Plan.raise_if_unsafe`, Peribolos `--maximum-removal-delta`). `raise_if_refused` is the one
place a refused plan becomes an `UnsafePlanError`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from bcsync.core.emails import skeleton
from bcsync.core.model import (
    ROLES,
    AssetKey,
    AssetType,
    BusinessCenterConfig,
    FinanceRole,
    MemberRole,
    MemberStatus,
    Policy,
    State,
    managed_members,
)
from bcsync.core.operations import (
    Assign,
    Invite,
    RemoveMember,
    RemovePartner,
    Share,
    Unassign,
    Unshare,
    UpdateMember,
)
from bcsync.core.refusal import (
    ALLOW_REMOVALS,
    Act,
    Refusal,
    RefusalKind,
    Subject,
    SubjectKind,
    hint_for,
)
from bcsync.core.schedule import Step
from bcsync.errors import UnsafePlanError


@dataclass(frozen=True, slots=True)
class RemovalCount:
    removals: int
    existing: int


@dataclass(frozen=True)
class _Names:
    """Subjects as people know them: emails with user ids, partners with their aliases."""

    config: BusinessCenterConfig
    actual: State

    def member(self, email: str) -> Subject:
        have = self.actual.members.get(email)
        return Subject(SubjectKind.MEMBER, email, user_id=have.user_id if have else None)

    def partner(self, bc_id: str) -> Subject:
        alias = self.config.partner_aliases.get(bc_id)
        if alias is None:
            found = self.actual.partners.get(bc_id)
            alias = found.name if found is not None else None
        return Subject(SubjectKind.PARTNER, bc_id, alias=alias)

    def asset(self, asset: AssetKey) -> str:
        alias = self.config.asset_aliases.get(asset)
        return f"{asset.type.value}.{alias} ({asset.id})" if alias else str(asset)

    def partner_protected(self, bc_id: str) -> bool:
        return self.config.policy.is_protected_partner(
            bc_id, self.config.partner_aliases.get(bc_id)
        )


def refusals(
    steps: Sequence[Step],
    config: BusinessCenterConfig,
    actual: State,
    *,
    allow_removals: bool = False,
    unread_members: int = 0,
) -> tuple[Refusal, ...]:
    """Every guard the steps break, as typed refusals; empty when they are safe to run.

    `unread_members`: members a scoped read (`plan --changed`) counted but did not list; they
    exist, so the removal limit counts them.
    """
    policy = config.policy
    names = _Names(config, actual)
    found = [
        *_admin_floor(steps, policy, actual, names),
        *_protected(steps, policy, actual, names),
        *_moved(steps, config, actual, names),
        *_lookalikes(steps, config, actual, names),
    ]
    if not allow_removals:
        found.extend(_removal_limit(steps, policy, actual, unread_members))
    return tuple(dict.fromkeys(found))


def raise_if_refused(refused: Iterable[tuple[str, Sequence[Refusal]]]) -> None:
    """Raise one UnsafePlanError naming every refusal of every BC ((name, refusals) pairs)."""
    pairs = [(name, r) for name, reasons in refused for r in reasons]
    if pairs:
        lines = [f"{name}: {r.sentence()}" for name, r in pairs]
        error = UnsafePlanError(
            "refused by safety guards:\n  - " + "\n  - ".join(lines),
            hint=hint_for(tuple(r for _, r in pairs)),
        )
        error.refusals = tuple(r for _, r in pairs)
        raise error


def count_removals(steps: Sequence[Step], actual: State, policy: Policy) -> RemovalCount:
    """Managed entries the steps remove (a removed member takes its grants along) and exist now.

    The provider reads grants and shares of declared assets only, so those are all managed;
    ignored members (and their grants) are not managed and never count.
    """
    managed = managed_members(actual, policy)
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
) -> list[Refusal]:
    counted = count_removals(steps, actual, policy)
    existing = counted.existing + unread
    limit = policy.max_removals
    if existing < policy.removal_threshold_floor or limit.allows(counted.removals, existing):
        return []
    return [
        Refusal(
            RefusalKind.REMOVAL_LIMIT,
            Subject(SubjectKind.ENTRIES),
            Act.REMOVE,
            count=counted.removals,
            total=existing,
            limit=str(limit),
            override=ALLOW_REMOVALS,
        )
    ]


def _admin_floor(
    steps: Sequence[Step], policy: Policy, actual: State, names: _Names
) -> list[Refusal]:
    """Every prefix of the steps keeps `min_admins` admins and every required admin.

    Only managed members (`model.is_managed`) count: ignored admins are never touched by bcsync.
    """
    managed = managed_members(actual, policy)
    bound = {e for e, m in managed.items() if m.status is MemberStatus.BOUND}
    admins = {e for e in bound if managed[e].role is MemberRole.ADMIN}
    required = {r.lower() for r in policy.required_admins}
    problems = []
    for step in steps:
        params = step.params
        email = getattr(params, "email", None)
        if email is None or email not in bound:
            continue
        if isinstance(params, UpdateMember) and params.role is MemberRole.ADMIN:
            admins.add(email)
            continue
        if not isinstance(params, UpdateMember | RemoveMember) or email not in admins:
            continue
        admins.discard(email)
        act = Act.REMOVE if isinstance(params, RemoveMember) else Act.DEMOTE
        if len(admins) < policy.min_admins:
            problems.append(
                Refusal(
                    RefusalKind.ADMIN_FLOOR,
                    names.member(email),
                    act,
                    count=len(admins),
                    limit=str(policy.min_admins),
                )
            )
        if email in required:
            problems.append(Refusal(RefusalKind.REQUIRED_ADMIN, names.member(email), act))
    return problems


def _weaker(asset_type: AssetType, new: str, old: str) -> bool:
    """Whether `new` gives less than `old` on an asset of this type."""
    order = ROLES[asset_type]
    if new in order and old in order:
        return order.index(new) < order.index(old)
    return not set(old.split(",")) <= set(new.split(","))


def _protected_user_ids(policy: Policy, actual: State) -> set[str]:
    """The user ids of joined protected members: protection follows the person, not the spelling."""
    found = set()
    for email, member in actual.members.items():
        if member.user_id and policy.is_protected_member(email):
            found.add(member.user_id)
    return found


def _protected(
    steps: Sequence[Step], policy: Policy, actual: State, names: _Names
) -> list[Refusal]:
    user_ids = _protected_user_ids(policy, actual)

    def member_protected(email: str, user_id: str | None) -> bool:
        return policy.is_protected_member(email) or (user_id is not None and user_id in user_ids)

    def protected(email: str, act: Act, detail: str | None = None) -> Refusal:
        return Refusal(RefusalKind.PROTECTED, names.member(email), act, detail=detail)

    problems = []
    for step in steps:
        p = step.params
        if isinstance(p, RemoveMember) and member_protected(p.email, p.user_id):
            problems.append(protected(p.email, Act.REMOVE))
        elif isinstance(p, UpdateMember) and member_protected(p.email, p.user_id):
            have = actual.members.get(p.email)
            if (
                have is not None
                and have.role is MemberRole.ADMIN
                and p.role is not MemberRole.ADMIN
            ):
                problems.append(protected(p.email, Act.DEMOTE))
            # None leaves the finance role as it is, so manager -> analyst is the one downgrade.
            if (
                have is not None
                and have.finance_role is FinanceRole.MANAGER
                and p.finance_role is FinanceRole.ANALYST
            ):
                problems.append(protected(p.email, Act.DOWNGRADE_FINANCE, "manager → analyst"))
        elif isinstance(p, Unassign) and member_protected(p.email, p.user_id):
            problems.append(protected(p.email, Act.REVOKE, names.asset(p.asset)))
        elif isinstance(p, Assign) and member_protected(p.email, p.user_id):
            have_grant = actual.grants.get((p.asset, p.email))
            if have_grant is not None and _weaker(p.asset.type, p.role, have_grant.role):
                detail = f"{names.asset(p.asset)} ({have_grant.role} → {p.role})"
                problems.append(protected(p.email, Act.DOWNGRADE, detail))
        elif isinstance(p, RemovePartner) and names.partner_protected(p.partner_bc_id):
            subject = names.partner(p.partner_bc_id)
            problems.append(Refusal(RefusalKind.PROTECTED, subject, Act.REMOVE))
        elif isinstance(p, Unshare) and names.partner_protected(p.partner_bc_id):
            assets = ", ".join(names.asset(AssetKey(p.asset_type, a)) for a in p.asset_ids)
            subject = names.partner(p.partner_bc_id)
            problems.append(Refusal(RefusalKind.PROTECTED, subject, Act.UNSHARE, detail=assets))
        elif isinstance(p, Share) and names.partner_protected(p.partner_bc_id):
            problems.extend(_share_downgrades(p, actual, names))
    return problems


def _share_downgrades(share: Share, actual: State, names: _Names) -> list[Refusal]:
    problems = []
    for asset_id in share.asset_ids:
        asset = AssetKey(AssetType.AD_ACCOUNT, asset_id)
        have = actual.shares.get((share.partner_bc_id, asset))
        if have is not None and _weaker(AssetType.AD_ACCOUNT, share.role, have.role):
            problems.append(
                Refusal(
                    RefusalKind.PROTECTED,
                    names.partner(share.partner_bc_id),
                    Act.DOWNGRADE,
                    detail=f"{names.asset(asset)} ({have.role} → {share.role})",
                )
            )
    return problems


def _moved(
    steps: Sequence[Step], config: BusinessCenterConfig, actual: State, names: _Names
) -> Iterator[Refusal]:
    """A protected or required name the BC does not know yet, in a plan that removes (or demotes)
    someone it does: the name has moved to a new identity, which is a removal of the protected
    one. The way through is two plans: add the new identity, then remove the old."""
    policy = config.policy
    managed = managed_members(actual, policy)
    new_partners = sorted(
        b
        for b in config.desired.partners
        if names.partner_protected(b) and b not in actual.partners
    )
    declared = config.desired.members
    new_protected = sorted(
        e for e in declared if policy.is_protected_member(e) and e not in managed
    )
    required = {r.lower() for r in policy.required_admins}
    new_required = sorted(e for e in declared if e in required and e not in managed)
    for step in steps:
        p = step.params
        if isinstance(p, RemovePartner) and new_partners:
            if not names.partner_protected(p.partner_bc_id):
                yield _moved_refusal(
                    names.partner(p.partner_bc_id),
                    names.partner(new_partners[0]),
                    "protected partner",
                )
        elif isinstance(p, RemoveMember) and p.email in managed:
            if new_protected:
                yield _moved_refusal(
                    names.member(p.email), names.member(new_protected[0]), "protected member"
                )
            elif new_required and managed[p.email].role is MemberRole.ADMIN:
                yield _moved_refusal(
                    names.member(p.email), names.member(new_required[0]), "required admin"
                )
        elif isinstance(p, UpdateMember) and p.email in managed and new_required:  # noqa: SIM102
            if managed[p.email].role is MemberRole.ADMIN and p.role is not MemberRole.ADMIN:
                yield _moved_refusal(
                    names.member(p.email),
                    names.member(new_required[0]),
                    "required admin",
                    Act.DEMOTE,
                )


def _moved_refusal(old: Subject, new: Subject, what: str, act: Act = Act.REMOVE) -> Refusal:
    return Refusal(RefusalKind.IDENTITY_MOVED, old, act, detail=what, other=new)


def _lookalikes(
    steps: Sequence[Step], config: BusinessCenterConfig, actual: State, names: _Names
) -> list[Refusal]:
    """No invitation to an address whose confusable skeleton (TS #39) is one the BC has."""
    invited = [e for step in steps if isinstance(step.params, Invite) for e in step.params.emails]
    if not invited:
        return []
    known: dict[str, str] = {}
    for email in actual.members:
        known.setdefault(skeleton(email), email)
    problems = []
    for email in invited:
        twin = known.get(skeleton(email))
        if twin is not None and twin != email:
            want = config.desired.members.get(email)
            where = want.source if want is not None else None
            problems.append(
                Refusal(
                    RefusalKind.LOOKALIKE,
                    names.member(email),
                    Act.INVITE,
                    detail=where,
                    other=names.member(twin),
                )
            )
    return problems
