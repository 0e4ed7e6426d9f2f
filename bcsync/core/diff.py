"""Desired against actual: keyed set arithmetic into a list of `Change`s. Pure, no I/O.

In desired only -> create; in actual only -> delete; in both and different -> update. Entries the
API cannot change (a pending invitee's grants, a rejected invitation, an asset that is not bound,
a finance role the API cannot clear) become no-ops with a `NoopCause`.
Scope: members and partners not in config are removed (minus `ignore_members`); grants and shares
are compared on declared assets only, because the provider reads only those.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date

from bcsync.core.change import (
    Action,
    Change,
    HeldAccess,
    Kind,
    MemberValue,
    NoopCause,
    PartnerValue,
    RoleValue,
    Stage,
    Target,
    Value,
    new_change,
)
from bcsync.core.group_diff import asset_group_changes
from bcsync.core.model import (
    ROLES,
    AssetKey,
    AssetStatus,
    AssetType,
    BusinessCenterConfig,
    Grant,
    Member,
    MemberRole,
    MemberStatus,
    Partner,
    PartnerShare,
    State,
    managed_members,
)


@dataclass(frozen=True)
class _Context:
    """What every part of the diff reads: the config, the actual state, the managed members."""

    config: BusinessCenterConfig
    actual: State
    # Managed actual members (`model.is_managed`) and declined invitees; a former (UNBOUND)
    # member counts as absent.
    members: Mapping[str, Member]
    # What each member or partner to be removed holds now: what the removal takes away.
    held: Mapping[str, tuple[HeldAccess, ...]]

    @property
    def desired(self) -> State:
        return self.config.desired

    def asset_label(self, asset: AssetKey) -> str:
        alias = self.config.asset_aliases.get(asset)
        return f"{asset.type.value}.{alias}" if alias else str(asset)

    def partner_label(self, bc_id: str) -> str:
        alias = self.config.partner_aliases.get(bc_id)
        if alias is None:
            partner = self.actual.partners.get(bc_id)
            alias = partner.name if partner and partner.name else None
        return f"{alias} ({bc_id})" if alias else bc_id

    def removal_reason(self, key: object) -> str:
        expired: date | None = self.config.expired.get(key)
        return f"expired {expired.isoformat()}" if expired else "not in config"

    def asset_problem(self, asset: AssetKey) -> NoopCause | None:
        """Why an asset can't be assigned or shared now: missing, or not bound to the BC."""
        found = self.actual.assets.get(asset)
        if found is None:
            return NoopCause.ASSET_MISSING
        return None if found.status is AssetStatus.BOUND else NoopCause.ASSET_NOT_BOUND


def diff(config: BusinessCenterConfig, actual: State) -> list[Change]:
    """Every change that takes `actual` to `config.desired`, plus explained no-ops."""
    # Managed members, plus declined invitees (not members, but their entries are explained).
    members = {
        **managed_members(actual, config.policy),
        **{
            email: m
            for email, m in actual.members.items()
            if m.status is MemberStatus.REJECTED and not config.policy.is_ignored(email)
        },
    }
    ctx = _Context(config, actual, members, {})
    ctx = replace(ctx, held=_held_by_removed(ctx))
    groups = asset_group_changes(config, actual, members, ctx.asset_problem, noop_reason)
    return [*_members(ctx), *_grants(ctx), *_partners(ctx), *_shares(ctx), *groups]


def _held_by_removed(ctx: _Context) -> dict[str, tuple[HeldAccess, ...]]:
    """The actual grants of each member, and shares of each partner, that the config removes."""
    gone = {e for e in ctx.members if e not in ctx.desired.members}
    gone |= {p for p in ctx.actual.partners if p not in ctx.desired.partners}
    if not gone:
        return {}  # the usual plan: no pass over 100,000 grants
    held: dict[str, list[HeldAccess]] = {}
    for (asset, email), grant in ctx.actual.grants.items():
        if email in gone:
            held.setdefault(email, []).append(_held(ctx, asset, grant.role))
    for (partner, asset), share in ctx.actual.shares.items():
        if partner in gone:
            held.setdefault(partner, []).append(_held(ctx, asset, share.role))
    order = {t: i for i, t in enumerate(AssetType)}
    return {
        who: tuple(sorted(items, key=lambda h: (order[h.asset.type], h.label)))
        for who, items in held.items()
    }


def _held(ctx: _Context, asset: AssetKey, role: str) -> HeldAccess:
    return HeldAccess(asset, role, ctx.asset_label(asset))


def _change(
    action: Action,
    kind: Kind,
    key: str,
    title: str,
    reason: str,
    *,
    before: Value | None = None,
    after: Value | None = None,
    stage: Stage | None = None,
    target: Target | None = None,
    cause: NoopCause | None = None,
    entry: Member | Grant | Partner | PartnerShare | None = None,
    takes_away: tuple[HeldAccess, ...] = (),
) -> Change:
    return new_change(
        action,
        kind,
        key,
        title,
        reason,
        before=before,
        after=after,
        stage=stage,
        target=target,
        cause=cause,
        note=entry.reason if entry is not None else None,
        expires=entry.expires.isoformat() if entry is not None and entry.expires else None,
        takes_away=takes_away,
    )


def noop_reason(cause: NoopCause, subject: str) -> str:
    """The sentence a reviewer reads for a no-op; rendered from its cause, never parsed."""
    return {
        NoopCause.PENDING: f"waiting for {subject} to accept the invitation",
        NoopCause.DEFERRED: f"deferred: assigned after {subject} accepts the invitation",
        NoopCause.REJECTED: (
            f"{subject} rejected the invitation; bcsync does not invite again on its own: "
            "remove them from config, or send a new invitation from Business Center"
        ),
        NoopCause.ASSET_MISSING: "asset not found in the Business Center; check its id in config",
        NoopCause.ASSET_NOT_BOUND: (
            "asset is not bound to the Business Center (pending, unbound or rejected); "
            "it can be assigned or shared once its owner accepts the binding"
        ),
        NoopCause.PARTNER_NEEDS_SHARE: (
            "cannot add a partner without sharing at least one ad account"
        ),
        NoopCause.FINANCE_ROLE_UNCLEARABLE: (
            f"the API cannot clear {subject}'s finance role; remove it in Business Center, "
            "or declare it in config"
        ),
        NoopCause.SHARE_NOT_CREATABLE: (
            f"the API shares only ad accounts (partner/add); share this with {subject} in "
            "Business Center, or declare the share as it is"
        ),
        NoopCause.APPLIED_NOT_VISIBLE: "applied (the audit log says so), not yet visible",
    }[cause]


# -- members -------------------------------------------------------------------------------


def _members(ctx: _Context) -> list[Change]:
    changes: list[Change] = []
    for email in sorted(ctx.desired.members.keys() | ctx.members.keys()):
        want = ctx.desired.members.get(email)
        have = ctx.members.get(email)
        if want is not None and have is None:
            changes.append(_invite(email, want))
        elif want is None and have is not None:
            changes.extend(_member_removal(ctx, email, have))
        elif want is not None and have is not None:
            changes.extend(_member_update(email, want, have))
    return changes


def _invite(email: str, want: Member) -> Change:
    return _change(
        Action.CREATE,
        Kind.MEMBER,
        email,
        email,
        "invite: in config, not in the Business Center",
        after=_member_doc(want),
        stage=Stage.INVITE_PROMOTE,
        target=Target(email=email),
        entry=want,
    )


def _member_removal(ctx: _Context, email: str, have: Member) -> list[Change]:
    if have.status is MemberStatus.REJECTED:
        return []  # not a member; nothing to take away
    pending = have.status is MemberStatus.PENDING
    reason = ctx.removal_reason(email)
    if pending:
        reason += "; revoke the pending invitation"
    is_admin = have.role is MemberRole.ADMIN and not pending
    change = _change(
        Action.DELETE,
        Kind.MEMBER,
        email,
        email,
        reason,
        before=_member_doc(have),
        stage=Stage.DEMOTE_ADMIN if is_admin else Stage.REMOVE_MEMBER,
        target=Target(email=email, user_id=None if pending else have.user_id),
    )
    return [replace(change, takes_away=ctx.held.get(email, ()))]


def _member_update(email: str, want: Member, have: Member) -> list[Change]:
    if have.status in (MemberStatus.PENDING, MemberStatus.REJECTED):
        cause = NoopCause.PENDING if have.status is MemberStatus.PENDING else NoopCause.REJECTED
        reason = noop_reason(cause, email)
        if cause is NoopCause.PENDING and (want.role, want.finance_role) != (
            have.role,
            have.finance_role,
        ):
            reason += "; roles are updated after acceptance"
        if cause is NoopCause.PENDING and _renames(want, have):
            reason += "; the name is set after acceptance"
        before, after = _member_doc(have), _member_doc(want)
        return [_noop(Kind.MEMBER, email, email, cause, reason, before, after, want)]
    renames = _renames(want, have)
    if want == have and not renames:
        return []
    # The API has no value that clears a finance role: keep it, and say so.
    keeps_finance = want.finance_role is None and have.finance_role is not None
    target_finance = have.finance_role if keeps_finance else want.finance_role
    if keeps_finance and want.role is have.role and not renames:
        cause = NoopCause.FINANCE_ROLE_UNCLEARABLE
        before, after = _member_doc(have), _member_doc(want)
        return [
            _noop(Kind.MEMBER, email, email, cause, noop_reason(cause, email), before, after, want)
        ]
    notes = []
    if want.role is not have.role:
        notes.append(f"role {have.role.value} → {want.role.value}")
    if target_finance is not have.finance_role:
        old = have.finance_role.value if have.finance_role else "none"
        new = target_finance.value if target_finance else "none"
        notes.append(f"finance role {old} → {new}")
    if renames:
        notes.append(f"name {have.name or 'none'!r} → {want.name!r}")
    if keeps_finance:
        notes.append(noop_reason(NoopCause.FINANCE_ROLE_UNCLEARABLE, email))
    if want.role is MemberRole.ADMIN and have.role is not MemberRole.ADMIN:
        stage = Stage.INVITE_PROMOTE
    elif have.role is MemberRole.ADMIN and want.role is not MemberRole.ADMIN:
        stage = Stage.DEMOTE_ADMIN
    else:
        stage = Stage.GRANT
    now, then = _member_doc(have), MemberValue(want.role, target_finance)
    if renames:  # names appear in a plan only where one changes
        now = replace(now, name=have.name, shows_name=True)
        then = replace(then, name=want.name, shows_name=True)
    change = _change(
        Action.UPDATE,
        Kind.MEMBER,
        email,
        email,
        "; ".join(notes),
        before=now,
        after=then,
        stage=stage,
        target=Target(email=email, user_id=have.user_id),
        entry=want,
    )
    return [change]


def _renames(want: Member, have: Member) -> bool:
    """Whether the config names a display name the member does not have (None: unmanaged)."""
    return want.name is not None and want.name != have.name


def _noop(
    kind: Kind,
    key: str,
    title: str,
    cause: NoopCause,
    reason: str,
    before: Value | None,
    after: Value | None,
    entry: Member | Grant | Partner | PartnerShare | None = None,
) -> Change:
    return _change(
        Action.NOOP, kind, key, title, reason, before=before, after=after, cause=cause, entry=entry
    )


def _member_doc(member: Member) -> MemberValue:
    return MemberValue(member.role, member.finance_role, member.status)


# -- grants --------------------------------------------------------------------------------


def _grants(ctx: _Context) -> list[Change]:
    declared = set(ctx.desired.assets)
    ignored = {e for e in ctx.actual.members if ctx.config.policy.is_ignored(e)}
    actual = {
        key: g
        for key, g in ctx.actual.grants.items()
        if g.asset in declared and g.member not in ignored
    }
    carried = carried_on_invite(ctx)
    changes: list[Change] = []
    # `plan.order` sorts the changes; iterating unsorted keeps 100,000 grants cheap.
    for key in ctx.desired.grants.keys() | actual.keys():
        want = ctx.desired.grants.get(key)
        have = actual.get(key)
        if want is not None and have is not None and want.role == have.role:
            continue
        if have is None:
            assert want is not None
            changes.append(_grant_create(ctx, want, carried))
        else:
            change = _grant_update_or_revoke(ctx, want, have)
            if change is not None:
                changes.append(change)
    return changes


def _grant_title(ctx: _Context, asset: AssetKey, email: str) -> tuple[str, str]:
    return f"{asset}:{email}", f"{email} on {ctx.asset_label(asset)}"


def _grant_create(ctx: _Context, want: Grant, carried: Mapping[str, str]) -> Change:
    email, asset = want.member, want.asset
    key, title = _grant_title(ctx, asset, email)
    after = RoleValue(want.role)
    problem = ctx.asset_problem(asset)
    if problem is not None:
        return _noop(
            Kind.GRANT, key, title, problem, noop_reason(problem, email), None, after, want
        )
    member = ctx.members.get(email)
    if member is None and carried.get(email) == want.role and asset.type is AssetType.AD_ACCOUNT:
        return _change(
            Action.CREATE,
            Kind.GRANT,
            key,
            title,
            f"with the invitation{_sources(want)}",
            after=after,
            stage=Stage.INVITE_PROMOTE,
            target=Target(email=email, asset=asset, with_invite=True),
            entry=want,
        )
    if member is None or member.status is not MemberStatus.BOUND or not member.user_id:
        # A rejected invitee gets nothing until someone invites them again; others, on joining.
        rejected = member is not None and member.status is MemberStatus.REJECTED
        cause = NoopCause.REJECTED if rejected else NoopCause.DEFERRED
        return _noop(Kind.GRANT, key, title, cause, noop_reason(cause, email), None, after, want)
    return _change(
        Action.CREATE,
        Kind.GRANT,
        key,
        title,
        f"in config{_sources(want)}",
        after=after,
        stage=Stage.GRANT,
        target=Target(email=email, user_id=member.user_id, asset=asset),
        entry=want,
    )


def _grant_update_or_revoke(ctx: _Context, want: Grant | None, have: Grant) -> Change | None:
    email, asset = have.member, have.asset
    member = ctx.members.get(email)
    if want is None and email not in ctx.desired.members and member is not None:
        return None  # the member's removal takes its grants with it
    if member is None or not member.user_id:
        return None  # nobody the API can address: the next read shows what remains
    key, title = _grant_title(ctx, asset, email)
    target = Target(email=email, user_id=member.user_id, asset=asset)
    if want is None:
        action, reason, stage = Action.DELETE, ctx.removal_reason((asset, email)), Stage.REVOKE
    else:
        action, stage = Action.UPDATE, Stage.GRANT
        reason = f"role {have.role} → {want.role}{_sources(want)}"
    return _change(
        action,
        Kind.GRANT,
        key,
        title,
        reason,
        before=RoleValue(have.role),
        after=RoleValue(want.role) if want is not None else None,
        stage=stage,
        target=target,
        entry=want,
    )


def carried_on_invite(ctx: _Context) -> dict[str, str]:
    """For each member to invite: the one ad-account role its invite carries.

    An invite carries ad-account grants with a single `advertiser_role`; the most common role
    among the member's ad-account grants is carried (ties: the weaker, least privilege), the
    rest are assigned after acceptance. Only bound accounts can ride an invitation.
    """
    new = ctx.desired.members.keys() - ctx.members.keys()
    counts: dict[str, Counter[str]] = {}
    for (asset, email), grant in ctx.desired.grants.items():
        if email in new and asset.type is AssetType.AD_ACCOUNT and not ctx.asset_problem(asset):
            counts.setdefault(email, Counter())[grant.role] += 1
    rank = ROLES[AssetType.AD_ACCOUNT]
    return {
        email: max(counter.items(), key=lambda kv: (kv[1], -rank.index(kv[0])))[0]
        for email, counter in counts.items()
    }


def _sources(grant: Grant) -> str:
    groups = [s for s in grant.sources if s.startswith("group ")]
    return f" (from {', '.join(groups)})" if groups else ""


# -- partners and shares -------------------------------------------------------------------


# What partner/add can share (SDK: asset_type ADVERTISER only); catalog shares are only read
# and stopped (partner/asset/get, partner/asset/delete).
CREATABLE_SHARES = frozenset({AssetType.AD_ACCOUNT})


def _shareable(ctx: _Context) -> Counter[str]:
    """Per partner: how many desired shares can be made now (their assets exist and are bound)."""
    return Counter(
        s.partner
        for s in ctx.desired.shares.values()
        if ctx.asset_problem(s.asset) is None and s.asset.type in CREATABLE_SHARES
    )


def _partners(ctx: _Context) -> list[Change]:
    shareable = _shareable(ctx)
    shared = Counter(s.partner for s in ctx.actual.shares.values())
    changes: list[Change] = []
    for bc_id in sorted(ctx.desired.partners.keys() | ctx.actual.partners.keys()):
        want = ctx.desired.partners.get(bc_id)
        have = ctx.actual.partners.get(bc_id)
        label = f"partner {ctx.partner_label(bc_id)}"
        if want is not None and have is None:
            if not shareable[bc_id]:
                cause = NoopCause.PARTNER_NEEDS_SHARE
                reason = noop_reason(cause, bc_id)
                after = PartnerValue(bc_id)
                changes.append(_noop(Kind.PARTNER, bc_id, label, cause, reason, None, after, want))
                continue
            changes.append(
                _change(
                    Action.CREATE,
                    Kind.PARTNER,
                    bc_id,
                    label,
                    "in config, not a partner yet",
                    after=PartnerValue(bc_id, want.name or want.alias, shows_name=True),
                    stage=Stage.SHARE,
                    target=Target(partner=bc_id),
                    entry=want,
                )
            )
        elif want is None and have is not None:
            changes.append(
                _change(
                    Action.DELETE,
                    Kind.PARTNER,
                    bc_id,
                    label,
                    ctx.removal_reason(bc_id),
                    before=PartnerValue(bc_id, have.name, True, shared[bc_id]),
                    stage=Stage.REVOKE,
                    target=Target(partner=bc_id),
                    takes_away=ctx.held.get(bc_id, ()),
                )
            )
    return changes


def _shares(ctx: _Context) -> list[Change]:
    declared = set(ctx.desired.assets)
    removed = ctx.actual.partners.keys() - ctx.desired.partners.keys()
    actual = {
        k: s
        for k, s in ctx.actual.shares.items()
        if s.asset in declared and s.partner not in removed
    }
    changes: list[Change] = []
    for key in sorted(ctx.desired.shares.keys() | actual.keys()):
        partner, asset = key
        want = ctx.desired.shares.get(key)
        have = actual.get(key)
        if want is not None and have is not None and want.role == have.role:
            continue
        share_key = f"{partner}:{asset}"
        title = f"{ctx.asset_label(asset)} shared with {ctx.partner_label(partner)}"
        target = Target(partner=partner, asset=asset)
        problem = ctx.asset_problem(asset) if have is None else None
        if want is not None and problem is None and asset.type not in CREATABLE_SHARES:
            # A catalog share can be read and stopped, never made or changed (partner/add).
            problem = NoopCause.SHARE_NOT_CREATABLE
        if want is not None and problem is not None:
            reason = noop_reason(problem, partner)
            before, after = (RoleValue(have.role) if have else None), RoleValue(want.role)
            changes.append(
                _noop(Kind.SHARE, share_key, title, problem, reason, before, after, want)
            )
            continue
        if have is None:
            action, reason, stage = Action.CREATE, "in config", Stage.SHARE
        elif want is None:
            action, reason, stage = Action.DELETE, ctx.removal_reason(key), Stage.REVOKE
        else:
            action, reason, stage = Action.UPDATE, f"role {have.role} → {want.role}", Stage.SHARE
        changes.append(
            _change(
                action,
                Kind.SHARE,
                share_key,
                title,
                reason,
                before=RoleValue(have.role) if have is not None else None,
                after=RoleValue(want.role) if want is not None else None,
                stage=stage,
                target=target,
                entry=want,
            )
        )
    return changes
