"""Desired against actual: keyed set arithmetic into a list of `Change`s. Pure, no I/O.

In desired only -> create; in actual only -> delete; in both and different -> update. Entries the
API cannot change yet (a pending invitee's grants, a rejected invitation) become explained no-ops.
Scope: members and partners not in config are removed (minus `ignore_members`); grants and shares
are compared on declared assets only, because the provider reads only those.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import date
from typing import Any

from bcsync.model import (
    AssetKey,
    AssetType,
    BusinessCenterConfig,
    Grant,
    Member,
    MemberRole,
    MemberStatus,
    PartnerShare,
    State,
)
from bcsync.plan import Action, Change, Kind, Plan, Stage, order, schedule

ID_PREFIX: Mapping[Kind, str] = {
    Kind.MEMBER: "member",
    Kind.GRANT: "grant",
    Kind.PARTNER: "partner",
    Kind.SHARE: "share",
}


def diff(config: BusinessCenterConfig, actual: State) -> list[Change]:
    """Every change that takes `actual` to `config.desired`, plus explained no-ops."""
    return _Differ(config, actual).run()


class _Differ:
    def __init__(self, config: BusinessCenterConfig, actual: State) -> None:
        self.config = config
        self.policy = config.policy
        self.desired = config.desired
        self.actual = actual
        self.actual_members = {
            email: m for email, m in actual.members.items() if not self.policy.is_ignored(email)
        }
        self.changes: list[Change] = []

    # -- helpers ---------------------------------------------------------------------------

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

    def add(
        self,
        action: Action,
        kind: Kind,
        key: str,
        title: str,
        reason: str,
        *,
        before: Mapping[str, Any] | None = None,
        after: Mapping[str, Any] | None = None,
        stage: Stage | None = None,
        target: Mapping[str, Any] | None = None,
    ) -> None:
        self.changes.append(
            Change(
                id=f"{ID_PREFIX[kind]}:{key}",
                action=action,
                kind=kind,
                key=key,
                before=before,
                after=after,
                reason=reason,
                title=title,
                stage=stage if action is not Action.NOOP else None,
                target=target or {},
            )
        )

    def noop(
        self,
        kind: Kind,
        key: str,
        title: str,
        reason: str,
        before: Mapping[str, Any] | None,
        after: Mapping[str, Any] | None,
    ) -> None:
        self.add(Action.NOOP, kind, key, title, reason, before=before, after=after)

    def role_change(
        self,
        kind: Kind,
        key: str,
        title: str,
        have: str | None,
        want: str | None,
        reason: str,
        stage: Stage,
        target: Mapping[str, Any],
    ) -> None:
        """A create (no `have`), delete (no `want`) or role update of a grant or share."""
        action = Action.CREATE if have is None else Action.DELETE if want is None else Action.UPDATE
        self.add(
            action,
            kind,
            key,
            title,
            reason,
            before={"role": have} if have is not None else None,
            after={"role": want} if want is not None else None,
            stage=stage,
            target=target,
        )

    # -- members ---------------------------------------------------------------------------

    def run(self) -> list[Change]:
        self.members()
        self.grants()
        self.partners()
        return self.changes

    def members(self) -> None:
        for email in sorted(self.desired.members.keys() | self.actual_members.keys()):
            want = self.desired.members.get(email)
            have = self.actual_members.get(email)
            if have is not None and have.status is MemberStatus.UNBOUND:
                have = None  # a former member: invite again
            if want is not None and have is None:
                self.add(
                    Action.CREATE,
                    Kind.MEMBER,
                    email,
                    email,
                    "invite: in config, not in the Business Center",
                    after=_member_doc(want),
                    stage=Stage.INVITE_PROMOTE,
                    target={"email": email},
                )
            elif want is None and have is not None:
                self.member_removal(email, have)
            elif want is not None and have is not None:
                self.member_update(email, want, have)

    def member_removal(self, email: str, have: Member) -> None:
        if have.status is MemberStatus.REJECTED:
            return  # not a member; nothing to take away
        pending = have.status is MemberStatus.PENDING
        is_admin = have.role is MemberRole.ADMIN and not pending
        reason = self.removal_reason(email)
        if pending:
            reason += "; revoke the pending invitation"
        self.add(
            Action.DELETE,
            Kind.MEMBER,
            email,
            email,
            reason,
            before=_member_doc(have),
            stage=Stage.DEMOTE_ADMIN if is_admin else Stage.REMOVE_MEMBER,
            target={"email": email, "user_id": None if pending else have.user_id},
        )

    def member_update(self, email: str, want: Member, have: Member) -> None:
        if have.status is MemberStatus.PENDING:
            reason = f"waiting for {email} to accept the invitation"
            if (want.role, want.finance_role) != (have.role, have.finance_role):
                reason += "; roles are updated after acceptance"
            self.noop(Kind.MEMBER, email, email, reason, _member_doc(have), _member_doc(want))
            return
        if have.status is MemberStatus.REJECTED:
            # Not invited again unprompted: someone who declined should not get one per apply.
            reason = (
                f"{email} rejected the invitation; bcsync does not invite again on its own: "
                "remove them from config, or send a new invitation from Business Center"
            )
            self.noop(Kind.MEMBER, email, email, reason, _member_doc(have), _member_doc(want))
            return
        if want == have:
            return
        notes = []
        if want.role is not have.role:
            notes.append(f"role {have.role.value} → {want.role.value}")
        if want.finance_role is not have.finance_role:
            old = have.finance_role.value if have.finance_role else "none"
            new = want.finance_role.value if want.finance_role else "none"
            notes.append(f"finance role {old} → {new}")
        if want.role is MemberRole.ADMIN and have.role is not MemberRole.ADMIN:
            stage = Stage.INVITE_PROMOTE
        elif have.role is MemberRole.ADMIN and want.role is not MemberRole.ADMIN:
            stage = Stage.DEMOTE_ADMIN
        else:
            stage = Stage.GRANT
        self.add(
            Action.UPDATE,
            Kind.MEMBER,
            email,
            email,
            ", ".join(notes),
            before=_member_doc(have),
            after=_member_doc(want),
            stage=stage,
            target={"email": email, "user_id": have.user_id},
        )

    # -- grants ----------------------------------------------------------------------------

    def grants(self) -> None:
        declared = set(self.desired.assets)
        ignored = {e for e in self.actual.members if self.policy.is_ignored(e)}
        actual_grants = {
            key: g
            for key, g in self.actual.grants.items()
            if g.asset in declared and g.member not in ignored
        }
        carried = self.carried_on_invite()
        # `order()` sorts the changes; iterating unsorted keeps 100,000 grants cheap.
        for key in self.desired.grants.keys() | actual_grants.keys():
            want = self.desired.grants.get(key)
            have = actual_grants.get(key)
            if want is not None and have is not None and want.role == have.role:
                continue
            asset, email = key
            title = f"{email} on {self.asset_label(asset)}"
            grant_key = f"{asset}:{email}"
            target = {"email": email, "asset_type": asset.type.value, "asset_id": asset.id}
            if have is None:
                assert want is not None
                self.grant_create(want, title, grant_key, target, carried)
                continue
            member = self.actual_members.get(email)
            if want is None and email not in self.desired.members and member is not None:
                continue  # the member's removal takes its grants with it
            target["user_id"] = member.user_id if member else None
            if want is None:
                reason, stage = self.removal_reason(key), Stage.REVOKE
            else:
                reason, stage = f"role {have.role} → {want.role}{_sources(want)}", Stage.GRANT
            role = want.role if want is not None else None
            self.role_change(Kind.GRANT, grant_key, title, have.role, role, reason, stage, target)

    def carried_on_invite(self) -> dict[str, str]:
        """For each member to invite: the one ad-account role its invite carries.

        An invite carries ad-account grants with a single `advertiser_role`; the most common role
        among the member's ad-account grants is carried (ties: the weaker, least privilege), the
        rest are assigned after acceptance.
        """
        result: dict[str, str] = {}
        new = {
            e
            for e in self.desired.members
            if e not in self.actual_members or self.actual_members[e].status is MemberStatus.UNBOUND
        }
        roles: dict[str, Counter[str]] = {}
        for (asset, email), grant in self.desired.grants.items():
            if email in new and asset.type is AssetType.AD_ACCOUNT:
                roles.setdefault(email, Counter())[grant.role] += 1
        order = ("analyst", "operator", "admin")
        for email, counter in roles.items():
            best = max(counter.items(), key=lambda kv: (kv[1], -order.index(kv[0])))
            result[email] = best[0]
        return result

    def grant_create(
        self,
        want: Grant,
        title: str,
        grant_key: str,
        target: dict[str, Any],
        carried: Mapping[str, str],
    ) -> None:
        email = want.member
        if want.asset not in self.actual.assets:
            reason = "asset not found in the Business Center; check its id in config"
            self.noop(Kind.GRANT, grant_key, title, reason, None, {"role": want.role})
            return
        member = self.actual_members.get(email)
        if member is None or member.status is MemberStatus.UNBOUND:
            if carried.get(email) == want.role and want.asset.type is AssetType.AD_ACCOUNT:
                reason = f"with the invitation{_sources(want)}"
                target = {**target, "with_invite": True}
                stage = Stage.INVITE_PROMOTE
                self.role_change(
                    Kind.GRANT, grant_key, title, None, want.role, reason, stage, target
                )
            else:
                reason = f"deferred: assigned after {email} accepts the invitation"
                self.noop(Kind.GRANT, grant_key, title, reason, None, {"role": want.role})
            return
        if member.status is not MemberStatus.BOUND:
            reason = f"deferred: assigned after {email} accepts the invitation"
            self.noop(Kind.GRANT, grant_key, title, reason, None, {"role": want.role})
            return
        reason = f"in config{_sources(want)}"
        target = {**target, "user_id": member.user_id}
        self.role_change(Kind.GRANT, grant_key, title, None, want.role, reason, Stage.GRANT, target)

    # -- partners --------------------------------------------------------------------------

    def partners(self) -> None:
        declared = set(self.desired.assets)
        actual_shares = {k: s for k, s in self.actual.shares.items() if s.asset in declared}
        desired_by_partner: dict[str, list[PartnerShare]] = {}
        for share in self.desired.shares.values():
            if share.asset in self.actual.assets:  # a missing asset cannot be shared
                desired_by_partner.setdefault(share.partner, []).append(share)
        removed_partners: set[str] = set()
        shared = Counter(s.partner for s in self.actual.shares.values())
        for bc_id in sorted(self.desired.partners.keys() | self.actual.partners.keys()):
            want = self.desired.partners.get(bc_id)
            have = self.actual.partners.get(bc_id)
            label = f"partner {self.partner_label(bc_id)}"
            if want is not None and have is None:
                if not desired_by_partner.get(bc_id):
                    reason = "cannot add a partner without sharing at least one ad account"
                    self.noop(Kind.PARTNER, bc_id, label, reason, None, {"bc_id": bc_id})
                    continue
                self.add(
                    Action.CREATE,
                    Kind.PARTNER,
                    bc_id,
                    label,
                    "in config, not a partner yet",
                    after={"bc_id": bc_id, "name": want.name or want.alias},
                    stage=Stage.SHARE,
                    target={"partner_bc_id": bc_id},
                )
            elif want is None and have is not None:
                removed_partners.add(bc_id)
                self.add(
                    Action.DELETE,
                    Kind.PARTNER,
                    bc_id,
                    label,
                    self.removal_reason(bc_id),
                    before={"bc_id": bc_id, "name": have.name, "shared_assets": shared[bc_id]},
                    stage=Stage.REVOKE,
                    target={"partner_bc_id": bc_id},
                )
        for key in sorted(self.desired.shares.keys() | actual_shares.keys()):
            partner, asset = key
            if partner in removed_partners:
                continue
            want = self.desired.shares.get(key)
            have = actual_shares.get(key)
            share_key = f"{partner}:{asset}"
            title = f"{self.asset_label(asset)} shared with {self.partner_label(partner)}"
            target = {
                "partner_bc_id": partner,
                "asset_type": asset.type.value,
                "asset_id": asset.id,
            }
            if want is not None and have is None and asset not in self.actual.assets:
                reason = "asset not found in the Business Center; check its id in config"
                self.noop(Kind.SHARE, share_key, title, reason, None, {"role": want.role})
            elif want is not None and have is None:
                self.role_change(
                    Kind.SHARE, share_key, title, None, want.role, "in config", Stage.SHARE, target
                )
            elif want is None and have is not None:
                reason = self.removal_reason(key)
                self.role_change(
                    Kind.SHARE, share_key, title, have.role, None, reason, Stage.REVOKE, target
                )
            elif want is not None and have is not None and want.role != have.role:
                reason = f"role {have.role} → {want.role}"
                self.role_change(
                    Kind.SHARE, share_key, title, have.role, want.role, reason, Stage.SHARE, target
                )


def _member_doc(member: Member) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "role": member.role.value,
        "finance_role": member.finance_role.value if member.finance_role else None,
    }
    if member.status is not None:
        doc["status"] = member.status.value
    return doc


def _sources(grant: Grant) -> str:
    groups = [s for s in grant.sources if s.startswith("group ")]
    return f" (from {', '.join(groups)})" if groups else ""


def make_plan(
    config: BusinessCenterConfig,
    actual: State,
    *,
    unmanaged_assets: int = 0,
) -> Plan:
    """Diff, order and batch: the plan for one BC (before safety checks)."""
    changes = order(diff(config, actual))
    warnings = tuple(
        f"{c.title}: {c.reason}"
        for c in changes
        if c.action is Action.NOOP and "not found" in c.reason
    )
    return Plan(
        bc_id=config.bc_id,
        bc_name=config.name,
        changes=changes,
        steps=schedule(changes),
        actual_fingerprint=actual.fingerprint(),
        config_digest=config.digest,
        unmanaged_assets=unmanaged_assets,
        config_path=config.path,
        warnings=warnings,
    )
