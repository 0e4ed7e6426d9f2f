"""One reviewable change: what the diff finds and every view of a plan shows. Pure, no I/O.

A `Change` is `{id, action, kind, key, before, after, reason}` (Terraform's `plans.Change`,
octoDNS's Create/Update/Delete). `before`/`after` hold the reviewable values (roles, names);
`target` holds, typed, what the API call needs (email, user id, asset, partner). A change that
bcsync cannot or need not make now is an explained no-op whose `cause` is an enum: code matches
on the cause, people read the `reason` rendered from it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum
from typing import Any

from bcsync.core.emails import code_points
from bcsync.core.model import AssetKey, AssetType


class Action(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    NOOP = "no-op"


class Kind(StrEnum):
    MEMBER = "member"
    GRANT = "grant"
    PARTNER = "partner"
    SHARE = "partner_share"
    # TikTok asset groups (config `asset_groups`): the group, an ad account in it, a member in it.
    ASSET_GROUP = "asset_group"
    GROUP_ASSET = "asset_group_asset"
    GROUP_MEMBER = "asset_group_member"


class Stage(IntEnum):
    """Apply stages, in order. Later stages take access away; earlier ones give it."""

    INVITE_PROMOTE = 1
    GRANT = 2
    SHARE = 3
    REVOKE = 4
    REMOVE_MEMBER = 5
    DEMOTE_ADMIN = 6


STAGE_TITLES: Mapping[Stage, str] = {
    Stage.INVITE_PROMOTE: "invites and promotions",
    Stage.GRANT: "grants and role changes",
    Stage.SHARE: "partner shares",
    Stage.REVOKE: "revocations",
    Stage.REMOVE_MEMBER: "member removals",
    Stage.DEMOTE_ADMIN: "admin demotions and removals",
}


class NoopCause(StrEnum):
    """Why a difference is shown but not acted on. Code decides on these, never on prose."""

    PENDING = "pending"  # waiting for the invitee to accept
    DEFERRED = "deferred"  # a grant the API can assign only after acceptance
    REJECTED = "rejected"  # the invitee declined; bcsync does not invite again on its own
    ASSET_MISSING = "asset_missing"  # a declared asset the BC does not have
    ASSET_NOT_BOUND = "asset_not_bound"  # the BC lists the asset, but it is not BOUND
    PARTNER_NEEDS_SHARE = "partner_needs_share"  # a partner can only be added with a share
    FINANCE_ROLE_UNCLEARABLE = "finance_role_unclearable"  # the API has no value that clears it
    SHARE_NOT_CREATABLE = "share_not_creatable"  # partner/add shares ad accounts only
    APPLIED_NOT_VISIBLE = "applied_not_visible"  # the audit log has it applied; reads lag behind


# Causes that point at a config or BC problem a reviewer should see as a warning.
WARNING_CAUSES: frozenset[NoopCause] = frozenset(
    {
        NoopCause.ASSET_MISSING,
        NoopCause.ASSET_NOT_BOUND,
        NoopCause.FINANCE_ROLE_UNCLEARABLE,
        NoopCause.SHARE_NOT_CREATABLE,
    }
)


@dataclass(frozen=True, slots=True)
class Target:
    """What the API call for a change needs; every field typed, none of it prose."""

    email: str | None = None
    user_id: str | None = None
    asset: AssetKey | None = None
    partner: str | None = None
    # A grant carried by its member's invitation (`advertiser_role` + `asset_ids` on invite).
    with_invite: bool = False
    # An asset-group change: the group's name, and its id once the BC has it.
    asset_group: str | None = None
    asset_group_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {}
        if self.email is not None:
            doc["email"] = self.email
            if not self.email.isascii():  # derived, so a reader sees what the bytes are
                doc["email_code_points"] = code_points(self.email)
        if self.user_id is not None:
            doc["user_id"] = self.user_id
        if self.asset is not None:
            doc["asset_type"] = self.asset.type.value
            doc["asset_id"] = self.asset.id
        if self.partner is not None:
            doc["partner_bc_id"] = self.partner
        if self.with_invite:
            doc["with_invite"] = True
        if self.asset_group is not None:
            doc["asset_group"] = self.asset_group
        if self.asset_group_id is not None:
            doc["asset_group_id"] = self.asset_group_id
        return doc

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> Target:
        asset = None
        if doc.get("asset_type") is not None:
            asset = AssetKey(AssetType(doc["asset_type"]), str(doc["asset_id"]))
        return cls(
            email=doc.get("email"),
            user_id=doc.get("user_id"),
            asset=asset,
            partner=doc.get("partner_bc_id"),
            with_invite=bool(doc.get("with_invite", False)),
            asset_group=doc.get("asset_group"),
            asset_group_id=doc.get("asset_group_id"),
        )


@dataclass(frozen=True, slots=True)
class HeldAccess:
    """Access a member or partner holds now (actual state), which their removal takes away."""

    asset: AssetKey
    role: str
    label: str  # "ad_accounts.acme-us" (the config's alias), else TYPE/ID

    def to_json(self) -> dict[str, str]:
        return {
            "asset_type": self.asset.type.value,
            "asset_id": self.asset.id,
            "asset": self.label,
            "role": self.role,
        }

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> HeldAccess:
        asset = AssetKey(AssetType(doc["asset_type"]), str(doc["asset_id"]))
        return cls(asset, str(doc["role"]), str(doc.get("asset") or asset))


@dataclass(frozen=True, slots=True)
class Change:
    """One reviewable change (or an explained no-op)."""

    id: str
    action: Action
    kind: Kind
    key: str
    before: Mapping[str, Any] | None
    after: Mapping[str, Any] | None
    reason: str
    # A human title with aliases, e.g. "bob@acme.com on ad_accounts.acme-eu".
    title: str = ""
    stage: Stage | None = None
    target: Target = field(default_factory=Target)
    cause: NoopCause | None = None
    # The config's own words for the entry (`reason:`) and its expiry, for reviewers and audits.
    note: str | None = None
    expires: str | None = None
    # A member's or partner's removal: the grants or shares that go with it, as read now.
    takes_away: tuple[HeldAccess, ...] = ()

    @property
    def is_change(self) -> bool:
        return self.action is not Action.NOOP

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "id": self.id,
            "action": self.action.value,
            "kind": self.kind.value,
            "key": self.key,
            "title": self.title,
            "before": dict(self.before) if self.before is not None else None,
            "after": dict(self.after) if self.after is not None else None,
            "reason": self.reason,
            "stage": int(self.stage) if self.stage is not None else None,
            "target": self.target.to_json(),
        }
        if self.cause is not None:
            doc["cause"] = self.cause.value
        if self.note is not None:
            doc["note"] = self.note
        if self.expires is not None:
            doc["expires"] = self.expires
        if self.takes_away:
            doc["takes_away"] = [held.to_json() for held in self.takes_away]
        return doc

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> Change:
        stage = doc.get("stage")
        cause = doc.get("cause")
        return cls(
            id=doc["id"],
            action=Action(doc["action"]),
            kind=Kind(doc["kind"]),
            key=doc["key"],
            before=doc.get("before"),
            after=doc.get("after"),
            reason=doc.get("reason", ""),
            title=doc.get("title", ""),
            stage=Stage(stage) if stage is not None else None,
            target=Target.from_json(doc.get("target") or {}),
            cause=NoopCause(cause) if cause is not None else None,
            note=doc.get("note"),
            expires=doc.get("expires"),
            takes_away=tuple(HeldAccess.from_json(h) for h in doc.get("takes_away") or ()),
        )
