"""Effective access gained and lost between two desired States. Pure, no I/O.

Both sides are built States (groups expanded, expiry evaluated), so editing one group shows up
as a change for every member of it, and a reordered or reformatted file shows no change at all.
Keys are the model's: a member by email, a grant by (asset, email), a partner by BC id, a share
by (partner, asset). Equality ignores where a value came from; only what the BC would grant
counts.

    changes = access_changes(before, after, names=Names.of(config))
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from enum import StrEnum

from bcsync.core.model import (
    MULTI_ROLE_TYPES,
    ROLES,
    AssetKey,
    AssetType,
    BusinessCenterConfig,
    Member,
    MemberRole,
    State,
    role_parts,
)


class Kind(StrEnum):
    """What the access is: membership, a member's role, an asset grant, a partner, a share."""

    MEMBER = "member"
    GRANT = "grant"
    PARTNER = "partner"
    SHARE = "share"


class Effect(StrEnum):
    """How it changed, seen from the later side."""

    ADDED = "added"
    REMOVED = "removed"
    RAISED = "raised"
    LOWERED = "lowered"
    CHANGED = "changed"

    @property
    def gained(self) -> bool:
        return self in (Effect.ADDED, Effect.RAISED)

    @property
    def lost(self) -> bool:
        return self in (Effect.REMOVED, Effect.LOWERED)

    @property
    def direction(self) -> str:
        """`gained`, `lost` or `changed` (a lateral move, e.g. one permission for another)."""
        return "gained" if self.gained else "lost" if self.lost else "changed"


@dataclass(frozen=True, slots=True)
class Names:
    """Aliases for rendering: the BC's name, asset and partner aliases."""

    bc_name: str | None = None
    assets: Mapping[AssetKey, str] = field(default_factory=dict)
    partners: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, *configs: BusinessCenterConfig | None) -> Names:
        """Names from one or more revisions of a config; the later ones win."""
        assets: dict[AssetKey, str] = {}
        partners: dict[str, str] = {}
        name = None
        for config in configs:
            if config is None:
                continue
            assets.update(config.asset_aliases)
            partners.update(config.partner_aliases)
            name = config.name or name
        return cls(name, assets, partners)


@dataclass(frozen=True, slots=True)
class AccessChange:
    """One effective change: who (member email or partner BC id), on what, from what to what."""

    bc_id: str
    kind: Kind
    effect: Effect
    subject: str
    before: str | None
    after: str | None
    asset: AssetKey | None = None
    asset_alias: str | None = None
    subject_alias: str | None = None
    bc_name: str | None = None
    # Where the later (or, when lost, the earlier) entry came from: "group buyers", FILE:LINE.
    sources: tuple[str, ...] = ()
    expires: date | None = None
    reason: str | None = None

    @property
    def asset_label(self) -> str:
        if self.asset is None:
            return ""
        return f"{self.asset.type}.{self.asset_alias}" if self.asset_alias else str(self.asset)

    @property
    def subject_label(self) -> str:
        if self.subject_alias:
            return f"partner {self.subject_alias} ({self.subject})"
        return (
            f"partner {self.subject}" if self.kind in (Kind.PARTNER, Kind.SHARE) else self.subject
        )

    def matches(self, member: str | None = None, asset: str | None = None) -> bool:
        """Whether the change concerns `member` (email, partner alias or id) and `asset`."""
        if member is not None and member.lower() not in (
            self.subject.lower(),
            (self.subject_alias or "").lower(),
        ):
            return False
        if asset is not None:
            if self.asset is None:
                return False
            return asset in (self.asset.id, self.asset_alias, str(self.asset))
        return True

    def to_json(self) -> dict[str, object]:
        return {
            "bc_id": self.bc_id,
            "bc_name": self.bc_name,
            "kind": self.kind.value,
            "effect": self.effect.value,
            "direction": self.effect.direction,
            "subject": self.subject,
            "subject_alias": self.subject_alias,
            "asset_type": self.asset.type.value if self.asset else None,
            "asset_id": self.asset.id if self.asset else None,
            "asset_alias": self.asset_alias,
            "before": self.before,
            "after": self.after,
            "sources": list(self.sources),
            "expires": self.expires.isoformat() if self.expires else None,
            "reason": self.reason,
        }


def access_changes(before: State, after: State, names: Names | None = None) -> list[AccessChange]:
    """Every effective access change from `before` to `after` (one BC), sorted for reading."""
    names = names or Names()
    bc = after.bc_id or before.bc_id
    out = [*_members(bc, before, after), *_grants(bc, before, after), *_partners(bc, before, after)]
    named = [_named(c, names) for c in out]
    return sorted(named, key=_order)


def between(
    before: Iterable[BusinessCenterConfig], after: Iterable[BusinessCenterConfig]
) -> list[AccessChange]:
    """Changes across several BCs, matched by BC id (a BC on one side only: all added/removed)."""
    old = {c.bc_id: c for c in before}
    new = {c.bc_id: c for c in after}
    changes: list[AccessChange] = []
    for bc_id in sorted(old.keys() | new.keys()):
        a, b = old.get(bc_id), new.get(bc_id)
        names = Names.of(a, b)
        empty = State(bc_id=bc_id)
        changes += access_changes(a.desired if a else empty, b.desired if b else empty, names)
    return changes


def summary(changes: Iterable[AccessChange]) -> dict[str, int]:
    """Counts by direction: gained, lost, changed."""
    counts = {"gained": 0, "lost": 0, "changed": 0}
    for change in changes:
        counts[change.effect.direction] += 1
    return counts


# -- by kind ------------------------------------------------------------------------------


def _member_role(m: Member) -> str:
    return m.role.value + (f" (finance {m.finance_role.value})" if m.finance_role else "")


def _members(bc: str, before: State, after: State) -> list[AccessChange]:
    out = []
    for email in before.members.keys() | after.members.keys():
        old, new = before.members.get(email), after.members.get(email)
        if old == new:
            continue
        entry = new or old
        assert entry is not None
        effect = _member_effect(old, new)
        out.append(
            AccessChange(
                bc_id=bc,
                kind=Kind.MEMBER,
                effect=effect,
                subject=email,
                before=_member_role(old) if old else None,
                after=_member_role(new) if new else None,
                sources=(entry.source,) if entry.source else (),
                expires=entry.expires,
                reason=entry.reason,
            )
        )
    return out


def _member_effect(old: Member | None, new: Member | None) -> Effect:
    if old is None:
        return Effect.ADDED
    if new is None:
        return Effect.REMOVED
    if old.role is not new.role:
        return Effect.RAISED if new.role is MemberRole.ADMIN else Effect.LOWERED
    rank = {None: 0, "analyst": 1, "manager": 2}
    a = rank[old.finance_role.value if old.finance_role else None]
    b = rank[new.finance_role.value if new.finance_role else None]
    return Effect.RAISED if b > a else Effect.LOWERED


def _grants(bc: str, before: State, after: State) -> list[AccessChange]:
    out = []
    for key in before.grants.keys() | after.grants.keys():
        old, new = before.grants.get(key), after.grants.get(key)
        if old is not None and new is not None and old.role == new.role:
            continue
        entry = new or old
        assert entry is not None
        asset, email = key
        out.append(
            AccessChange(
                bc_id=bc,
                kind=Kind.GRANT,
                effect=role_effect(
                    asset.type, old.role if old else None, new.role if new else None
                ),
                subject=email,
                asset=asset,
                before=old.role if old else None,
                after=new.role if new else None,
                sources=entry.sources,
                expires=entry.expires,
                reason=entry.reason,
            )
        )
    return out


def _partners(bc: str, before: State, after: State) -> list[AccessChange]:
    out = []
    for bc_id in before.partners.keys() | after.partners.keys():
        old, new = before.partners.get(bc_id), after.partners.get(bc_id)
        if (old is None) == (new is None):
            continue
        entry = new or old
        assert entry is not None
        out.append(
            AccessChange(
                bc_id=bc,
                kind=Kind.PARTNER,
                effect=Effect.ADDED if new else Effect.REMOVED,
                subject=bc_id,
                before="partner" if old else None,
                after="partner" if new else None,
                sources=(entry.source,) if entry.source else (),
                expires=entry.expires,
                reason=entry.reason,
            )
        )
    for key in before.shares.keys() | after.shares.keys():
        was, now = before.shares.get(key), after.shares.get(key)
        if was is not None and now is not None and was.role == now.role:
            continue
        share = now or was
        assert share is not None
        out.append(
            AccessChange(
                bc_id=bc,
                kind=Kind.SHARE,
                effect=role_effect(
                    share.asset.type, was.role if was else None, now.role if now else None
                ),
                subject=share.partner,
                asset=share.asset,
                before=was.role if was else None,
                after=now.role if now else None,
                sources=(share.source,) if share.source else (),
                expires=share.expires,
                reason=share.reason,
            )
        )
    return out


def role_effect(asset_type: AssetType, old: str | None, new: str | None) -> Effect:
    """Added, removed, raised, lowered, or changed (a permission set that lost and gained)."""
    if old is None:
        return Effect.ADDED
    if new is None:
        return Effect.REMOVED
    if asset_type in MULTI_ROLE_TYPES:
        a, b = set(role_parts(old)), set(role_parts(new))
        if a < b:
            return Effect.RAISED
        return Effect.LOWERED if b < a else Effect.CHANGED
    order = ROLES.get(asset_type, ())
    rank_a = order.index(old) if old in order else -1
    rank_b = order.index(new) if new in order else -1
    if rank_a == rank_b:
        return Effect.CHANGED
    return Effect.RAISED if rank_b > rank_a else Effect.LOWERED


def _named(change: AccessChange, names: Names) -> AccessChange:
    alias = names.assets.get(change.asset) if change.asset is not None else None
    partner = (
        names.partners.get(change.subject) if change.kind in (Kind.PARTNER, Kind.SHARE) else None
    )
    if alias is None and partner is None and names.bc_name is None:
        return change
    return replace(change, asset_alias=alias, subject_alias=partner, bc_name=names.bc_name)


_KIND_ORDER = {Kind.MEMBER: 0, Kind.GRANT: 1, Kind.PARTNER: 2, Kind.SHARE: 3}


def _order(c: AccessChange) -> tuple[object, ...]:
    return (c.bc_id, _KIND_ORDER[c.kind], c.subject, str(c.asset or ""))
