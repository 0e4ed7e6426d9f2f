"""Wire <-> model: asset types, role fields, members, grants, partner shares.

The API's enum values are the upper case of the model's; each asset type has its own role
field, and TikTok accounts take a list of permissions (canonical: sorted, comma-joined).
Lead forms and pixels are presence-only (`PRESENCE_TYPES`): no response of the API carries
`form_library_role`, and pixels have no role field at all, so a listed asset *is* the grant.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bcsync.core.model import (
    PRESENCE_TYPES,
    ROLES,
    AssetKey,
    AssetStatus,
    AssetType,
    FinanceRole,
    Grant,
    Member,
    MemberRole,
    MemberStatus,
    PartnerShare,
    canonical_role,
    role_parts,
)
from bcsync.errors import ApiError

ASSET_TYPE_WIRE: Mapping[AssetType, str] = {
    AssetType.AD_ACCOUNT: "ADVERTISER",
    AssetType.CATALOG: "CATALOG",
    AssetType.TIKTOK_ACCOUNT: "TT_ACCOUNT",
    AssetType.SHOP: "TIKTOK_SHOP",
    AssetType.STOREFRONT: "STOREFRONT",
    AssetType.LEAD_FORM: "LEAD",
    AssetType.PIXEL: "PIXEL",
}

ROLE_FIELD: Mapping[AssetType, str] = {
    AssetType.AD_ACCOUNT: "advertiser_role",
    AssetType.CATALOG: "catalog_role",
    AssetType.TIKTOK_ACCOUNT: "tt_account_roles",
    AssetType.SHOP: "store_role",
    AssetType.STOREFRONT: "store_role",
    AssetType.LEAD_FORM: "form_library_role",
}
# asset/admin/get's relation_status; REJECT is listed by the SDK but marked invalid.
ASSET_STATUS_WIRE: Mapping[str, AssetStatus] = {s.value.upper(): s for s in AssetStatus}

# /bc/asset/member/get/ accepts only these asset types (the SDK specification of that endpoint).
PER_ASSET_TYPES: frozenset[AssetType] = frozenset(
    {AssetType.AD_ACCOUNT, AssetType.CATALOG, AssetType.LEAD_FORM}
)

# What partner/asset/get lists (SDK: ADVERTISER, CATALOG and DOMAIN; bcsync holds no domains).
PARTNER_TYPES: frozenset[AssetType] = frozenset({AssetType.AD_ACCOUNT, AssetType.CATALOG})

# When one email appears twice (re-invited after a rejection, say), the live relation wins.
STATUS_RANK: Mapping[MemberStatus, int] = {
    MemberStatus.BOUND: 3,
    MemberStatus.PENDING: 2,
    MemberStatus.REJECTED: 1,
    MemberStatus.UNBOUND: 0,
}


def asset_type_to_wire(asset_type: AssetType) -> str:
    """ADVERTISER, CATALOG, TT_ACCOUNT, TIKTOK_SHOP, STOREFRONT, LEAD or PIXEL."""
    return ASSET_TYPE_WIRE[asset_type]


def role_to_wire(asset_type: AssetType, role: str) -> dict[str, Any]:
    """The role field of an asset type with its wire value, e.g. {"advertiser_role": "ADMIN"}.

    Pixels take no role field (assign carries none), so their grant is just the call.
    """
    name = ROLE_FIELD.get(asset_type)
    if name is None:
        return {}
    if asset_type is AssetType.TIKTOK_ACCOUNT:
        return {name: [p.upper() for p in role_parts(canonical_role(asset_type, role))]}
    return {name: role.upper()}


def role_from_wire(asset_type: AssetType, item: Mapping[str, Any]) -> str | None:
    """The canonical role an item carries for its asset type, or None when it carries none.

    For presence-only types the item being listed is the grant: the type's single role.
    """
    if asset_type in PRESENCE_TYPES:
        return ROLES[asset_type][0]
    value = item.get(ROLE_FIELD[asset_type])
    if not value:
        return None
    if isinstance(value, list | tuple):
        return canonical_role(asset_type, [str(v) for v in value]) or None
    return canonical_role(asset_type, str(value)) or None


def member_from_wire(item: Mapping[str, Any]) -> Member:
    """A member of /bc/member/get/; the key is the lower-cased email."""
    email = str(item.get("user_email") or "").strip().lower()
    user_id = str(item.get("user_id") or "") or None
    # Its shape is checked first (shapes.py): role, status and ext_user_role are all there.
    finance = item["ext_user_role"].get("finance_role")
    return Member(
        email=email or f"user_id:{user_id}",
        role=_enum(MemberRole, item["user_role"], "user_role"),
        finance_role=_enum(FinanceRole, finance, "finance_role") if finance else None,
        status=_enum(MemberStatus, item["relation_status"], "relation_status"),
        user_id=user_id,
        name=str(item.get("user_name") or "") or None,
    )


def merge_member(members: dict[str, Member], member: Member) -> None:
    """Add a member, keeping the livelier relation when the email is already there."""
    old = members.get(member.email)
    if old is None or _rank(member) > _rank(old):
        members[member.email] = member


def grant_from_wire(asset: AssetKey, email: str, item: Mapping[str, Any]) -> Grant | None:
    """A grant of `asset` to `email` if the item carries a role for it."""
    role = role_from_wire(asset.type, item)
    return Grant(asset=asset, member=email.strip().lower(), role=role) if role else None


def share_from_wire(
    partner: str, item: Mapping[str, Any], asset_type: AssetType = AssetType.AD_ACCOUNT
) -> PartnerShare | None:
    """What we share with a partner: an ad account or a catalog, with its role field."""
    asset = AssetKey(asset_type, str(item.get("asset_id") or ""))
    role = role_from_wire(asset_type, item)
    if not asset.id or not role:
        return None
    return PartnerShare(partner=partner, asset=asset, role=role)


def finance_to_wire(finance_role: FinanceRole) -> dict[str, str]:
    """`ext_user_role`; no value clears a finance role (the SDK has none), so None is never sent."""
    return {"finance_role": finance_role.value.upper()}


def asset_status_from_wire(item: Mapping[str, Any]) -> AssetStatus:
    """The asset's binding (asset/admin/get `relation_status`, always there: shapes.py)."""
    value = str(item["relation_status"]).strip().upper()
    status = ASSET_STATUS_WIRE.get(value)
    if status is None:
        raise ApiError(f"the API returned an unexpected asset relation_status {value!r}")
    return status


def _rank(member: Member) -> int:
    return STATUS_RANK.get(member.status, -1) if member.status else -1


def _enum(kind: Any, value: object, name: str) -> Any:
    try:
        return kind(str(value).strip().lower())
    except ValueError:
        raise ApiError(f"the API returned an unexpected {name} {value!r}") from None
