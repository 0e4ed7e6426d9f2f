"""One reviewable change: what the diff finds and every view of a plan shows. Pure, no I/O.

A `Change` is `{id, action, kind, key, before, after, reason}` (Terraform's `plans.Change`,
octoDNS's Create/Update/Delete). `before`/`after` hold the reviewable values, typed (a
`MemberValue`, `RoleValue` or `PartnerValue`: a role stays a `MemberRole` from the diff to the
schedule, and becomes a string only when a view renders it or the plan is serialised); `target`
holds, typed, what the API call needs (email, user id, asset, partner). A change that bcsync
cannot or need not make now is an explained no-op whose `cause` is an enum: code matches on the
cause, people read the `reason` rendered from it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum
from typing import Any

from bcsync.core.emails import code_points
from bcsync.core.model import AssetKey, AssetType, FinanceRole, MemberRole, MemberStatus


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


# -- the typed sides of a change ------------------------------------------------------------
# Each side serialises to exactly the keys it has always had, and reads back only a document of
# that exact shape (no extra, missing or mistyped key), so `from_json` then `to_json` is the
# identity on every side it accepts: an edited plan cannot lose an edit on the way in.


@dataclass(frozen=True, slots=True)
class MemberValue:
    """A member's side of a change: its roles, the status the API reported (the actual side),
    and its display name where the change sets one."""

    role: MemberRole
    finance_role: FinanceRole | None = None
    status: MemberStatus | None = None
    name: str | None = None
    # Names appear in a plan only where one changes; then both sides show it (None: no name).
    shows_name: bool = False

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "role": self.role.value,
            "finance_role": self.finance_role.value if self.finance_role else None,
        }
        if self.status is not None:
            doc["status"] = self.status.value
        if self.shows_name:
            doc["name"] = self.name
        return doc

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> MemberValue:
        _keys(doc, {"role", "finance_role"}, {"status", "name"})
        finance, status = _text_or_none(doc, "finance_role"), _text_or_none(doc, "status")
        return cls(
            role=MemberRole(_text(doc, "role")),
            finance_role=FinanceRole(finance) if finance is not None else None,
            status=MemberStatus(status) if status is not None else None,
            name=_text_or_none(doc, "name"),
            shows_name="name" in doc,
        )


@dataclass(frozen=True, slots=True)
class RoleValue:
    """A grant's or a partner share's side of a change: the canonical role string of its asset
    type (`model.ROLES`; a permission set joined, for TikTok accounts)."""

    role: str

    def to_json(self) -> dict[str, Any]:
        return {"role": self.role}

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> RoleValue:
        _keys(doc, {"role"})
        return cls(_text(doc, "role"))


@dataclass(frozen=True, slots=True)
class PartnerValue:
    """A partner's side of a change: its BC id; its name where the change shows one; how many
    assets it shares now (the side a removal takes away)."""

    bc_id: str
    name: str | None = None
    shows_name: bool = False
    shared_assets: int | None = None

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"bc_id": self.bc_id}
        if self.shows_name:
            doc["name"] = self.name
        if self.shared_assets is not None:
            doc["shared_assets"] = self.shared_assets
        return doc

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> PartnerValue:
        _keys(doc, {"bc_id"}, {"name", "shared_assets"})
        shared = doc.get("shared_assets")
        if shared is not None and (type(shared) is not int or shared < 0):
            raise ValueError(f"shared_assets {shared!r} is not a count")
        return cls(
            bc_id=_text(doc, "bc_id"),
            name=_text_or_none(doc, "name"),
            shows_name="name" in doc,
            shared_assets=shared,
        )


@dataclass(frozen=True, slots=True)
class GroupValue:
    """An asset group's side of a change: its ad accounts (as labelled in the plan) and its
    members with their ad-account roles, each sorted."""

    ad_accounts: tuple[str, ...]
    members: tuple[tuple[str, str], ...]

    def to_json(self) -> dict[str, Any]:
        return {"ad_accounts": list(self.ad_accounts), "members": dict(self.members)}

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> GroupValue:
        _keys(doc, {"ad_accounts", "members"})
        accounts, members = doc["ad_accounts"], doc["members"]
        if not isinstance(accounts, list) or not all(isinstance(a, str) for a in accounts):
            raise TypeError(f"ad_accounts {accounts!r} is not a list of labels")
        if not isinstance(members, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in members.items()
        ):
            raise TypeError(f"members {members!r} is not a map of emails to roles")
        return cls(tuple(accounts), tuple(members.items()))


@dataclass(frozen=True, slots=True)
class GroupAssetValue:
    """An ad account's side of a change to a group: the account as labelled in the plan."""

    asset: str

    def to_json(self) -> dict[str, Any]:
        return {"asset": self.asset}

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> GroupAssetValue:
        _keys(doc, {"asset"})
        return cls(_text(doc, "asset"))


Value = MemberValue | RoleValue | PartnerValue | GroupValue | GroupAssetValue


def value_from_json(kind: Kind, doc: Mapping[str, Any] | None) -> Value | None:
    """One side of a saved change, typed by its kind; ValueError/TypeError when not its shape."""
    if doc is None:
        return None
    if not isinstance(doc, Mapping):
        raise TypeError(f"a {kind.value} change's side is not an object: {doc!r}")
    if kind is Kind.MEMBER:
        return MemberValue.from_json(doc)
    if kind is Kind.PARTNER:
        return PartnerValue.from_json(doc)
    if kind is Kind.ASSET_GROUP:
        return GroupValue.from_json(doc)
    if kind is Kind.GROUP_ASSET:
        return GroupAssetValue.from_json(doc)
    return RoleValue.from_json(doc)


def _keys(
    doc: Mapping[str, Any], required: set[str], optional: frozenset[str] | set[str] = frozenset()
) -> None:
    keys = set(doc)
    if not required <= keys or not keys <= required | optional:
        raise ValueError(f"a change's side has keys {sorted(keys)}, expected {sorted(required)}")


def _text(doc: Mapping[str, Any], key: str) -> str:
    value = doc[key]
    if not isinstance(value, str):
        raise TypeError(f"{key} {value!r} is not a string")
    return value


def _text_or_none(doc: Mapping[str, Any], key: str) -> str | None:
    return None if doc.get(key) is None else _text(doc, key)


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
    before: Value | None
    after: Value | None
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
            "before": self.before.to_json() if self.before is not None else None,
            "after": self.after.to_json() if self.after is not None else None,
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
        kind = Kind(doc["kind"])
        return cls(
            id=doc["id"],
            action=Action(doc["action"]),
            kind=kind,
            key=doc["key"],
            before=value_from_json(kind, doc.get("before")),
            after=value_from_json(kind, doc.get("after")),
            reason=doc.get("reason", ""),
            title=doc.get("title", ""),
            stage=Stage(stage) if stage is not None else None,
            target=Target.from_json(doc.get("target") or {}),
            cause=NoopCause(cause) if cause is not None else None,
            note=doc.get("note"),
            expires=doc.get("expires"),
            takes_away=tuple(HeldAccess.from_json(h) for h in doc.get("takes_away") or ()),
        )


# Each kind's prefix in a change's id: "member:a@x.io", "share:…", "asset_group:EU".
ID_PREFIX: Mapping[Kind, str] = {
    Kind.MEMBER: "member",
    Kind.GRANT: "grant",
    Kind.PARTNER: "partner",
    Kind.SHARE: "share",
    Kind.ASSET_GROUP: "asset_group",
    Kind.GROUP_ASSET: "asset_group_asset",
    Kind.GROUP_MEMBER: "asset_group_member",
}


def new_change(
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
    note: str | None = None,
    expires: str | None = None,
    takes_away: tuple[HeldAccess, ...] = (),
) -> Change:
    """A change named by its kind and key; only a change that runs has a stage, only a no-op
    a cause."""
    return Change(
        id=f"{ID_PREFIX[kind]}:{key}",
        action=action,
        kind=kind,
        key=key,
        before=before,
        after=after,
        reason=reason,
        title=title,
        stage=stage if action is not Action.NOOP else None,
        target=target or Target(),
        cause=cause if action is Action.NOOP else None,
        note=note,
        expires=expires,
        takes_away=takes_away,
    )
