"""Read one BC's actual state for a scope, in as few calls as the API allows.

Lists are paged (page 1, then the rest concurrently). Grants are read per asset type with the
cheaper of two strategies, chosen from the counts the first lists gave:
- per asset: /bc/asset/member/get/ once per declared asset (20 a page; ad accounts, catalogs
  and lead forms only);
- per member: /bc/asset/get/ with filtering.user_id once per BOUND member (50 a page; any type).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from bcsync.errors import NotFoundError, PermissionDeniedError
from bcsync.model import (
    Asset,
    AssetKey,
    AssetType,
    Grant,
    GrantKey,
    Member,
    MemberStatus,
    Partner,
    PartnerShare,
    ShareKey,
    State,
)
from bcsync.providers.base import ReadResult, Scope
from bcsync.providers.tiktok import mapping
from bcsync.providers.tiktok.client import TikTokClient
from bcsync.providers.tiktok.paging import run_all

log = logging.getLogger("bcsync.providers.tiktok")

# Page sizes: the API's maxima (member/get: the SDK has none, BB says 20; we ask 50 and fall
# back to 20 when the server names page_size in a 40002).
MEMBER_PAGE, MEMBER_PAGE_FALLBACK = 50, 20
LIST_PAGE = 50
ASSET_MEMBER_PAGE = 20


class Strategy(StrEnum):
    """How grants of one asset type are read."""

    PER_ASSET = "per_asset"
    PER_MEMBER = "per_member"


async def read_state(
    client: TikTokClient, bc_id: str, scope: Scope, *, strategy: Strategy | None = None
) -> ReadResult:
    """Members, declared assets, their grants, partners and shares; `strategy` forces one."""
    with client.tally() as tally:
        _, (members, assets, unmanaged, grants), (partners, shares) = await run_all(
            [
                check_admin(client, bc_id),
                _members_assets_grants(client, bc_id, scope, strategy),
                _partners(client, bc_id, scope),
            ]
        )
    state = State(
        bc_id=bc_id,
        members=members,
        assets=assets,
        grants=grants,
        partners=partners,
        shares=shares,
    )
    return ReadResult(state=state, unmanaged_assets=unmanaged, calls=tally.calls)


async def check_admin(client: TikTokClient, bc_id: str) -> None:
    """Fail early, and clearly, when the token's user cannot administer the BC."""
    data = await client.get("bc/get/", {"bc_id": bc_id})
    entries = [e for e in data.get("list") or [] if _bc_id(e) in (bc_id, None)]
    hint = f"use a token of an admin of BC {bc_id}"
    if not entries:
        raise PermissionDeniedError(
            f"the token's user is not a member of BC {bc_id}", hint=hint, endpoint="GET /bc/get/"
        )
    role = str(entries[0].get("user_role") or "ADMIN").upper()
    if role != "ADMIN":
        raise PermissionDeniedError(
            f"the token's user is not an admin of BC {bc_id} (role {role})",
            hint=hint,
            endpoint="GET /bc/get/",
        )


async def fetch_members(client: TikTokClient, bc_id: str) -> dict[str, Member]:
    """Every member of every relation status, keyed by lower-cased email."""
    listing = await client.get_all(
        "bc/member/get/",
        {"bc_id": bc_id},
        page_size=MEMBER_PAGE,
        fallback_page_size=MEMBER_PAGE_FALLBACK,
    )
    members: dict[str, Member] = {}
    for item in listing.items:
        mapping.merge_member(members, mapping.member_from_wire(item))
    return members


async def fetch_member_assets(
    client: TikTokClient, bc_id: str, user_id: str, asset_type: AssetType
) -> dict[str, str]:
    """Asset id -> canonical role for one joined member and one asset type."""
    listing = await client.get_all(
        "bc/asset/get/",
        {
            "bc_id": bc_id,
            "asset_type": mapping.asset_type_to_wire(asset_type),
            "filtering": {"user_id": user_id},
        },
        page_size=LIST_PAGE,
    )
    out: dict[str, str] = {}
    for item in listing.items:
        role = mapping.role_from_wire(asset_type, item)
        if role and item.get("asset_id"):
            out[str(item["asset_id"])] = role
    return out


async def fetch_partners(client: TikTokClient, bc_id: str) -> dict[str, Partner]:
    """Partner BCs by id."""
    listing = await client.get_all("bc/partner/get/", {"bc_id": bc_id}, page_size=LIST_PAGE)
    partners: dict[str, Partner] = {}
    for item in listing.items:
        pid = str(item.get("bc_id") or "")
        if pid:
            partners[pid] = Partner(bc_id=pid, name=str(item.get("bc_name") or "") or None)
    return partners


async def fetch_shares(client: TikTokClient, bc_id: str, partner_id: str) -> list[PartnerShare]:
    """The ad accounts we share with one partner (empty if it is no partner)."""
    params = {
        "bc_id": bc_id,
        "partner_id": partner_id,
        "asset_type": "ADVERTISER",
        "share_type": "SHARING",
    }
    try:
        listing = await client.get_all("bc/partner/asset/get/", params, page_size=LIST_PAGE)
    except NotFoundError:
        return []
    shares = (mapping.share_from_wire(partner_id, item) for item in listing.items)
    return [s for s in shares if s is not None]


async def _members_assets_grants(
    client: TikTokClient, bc_id: str, scope: Scope, strategy: Strategy | None
) -> tuple[dict[str, Member], dict[AssetKey, Asset], int, dict[GrantKey, Grant]]:
    types = sorted(scope.asset_types)
    members, *listed = await run_all(
        [fetch_members(client, bc_id), *(_assets(client, bc_id, t) for t in types)]
    )
    assets: dict[AssetKey, Asset] = {}
    unmanaged = 0
    for found in listed:
        for key, asset in found.items():
            if key in scope.assets:
                assets[key] = asset
            else:
                unmanaged += 1
    grants = await _grants(client, bc_id, types, members, assets, strategy)
    return members, assets, unmanaged, grants


async def _assets(client: TikTokClient, bc_id: str, asset_type: AssetType) -> dict[AssetKey, Asset]:
    params = {"bc_id": bc_id, "asset_type": mapping.asset_type_to_wire(asset_type)}
    listing = await client.get_all("bc/asset/admin/get/", params, page_size=LIST_PAGE)
    found: dict[AssetKey, Asset] = {}
    for item in listing.items:
        if item.get("asset_id"):
            key = AssetKey(asset_type, str(item["asset_id"]))
            found[key] = Asset(key=key, name=str(item.get("asset_name") or "") or None)
    return found


def choose_strategy(asset_type: AssetType, declared: int, bound_members: int) -> Strategy:
    """Fewer calls wins: one per declared asset vs one per bound member (ties: per asset)."""
    if asset_type in mapping.PER_ASSET_TYPES and declared <= bound_members:
        return Strategy.PER_ASSET
    return Strategy.PER_MEMBER


async def _grants(
    client: TikTokClient,
    bc_id: str,
    types: list[AssetType],
    members: Mapping[str, Member],
    assets: Mapping[AssetKey, Asset],
    forced: Strategy | None,
) -> dict[GrantKey, Grant]:
    bound = {m.user_id: m for m in members.values() if m.status is MemberStatus.BOUND and m.user_id}
    by_email = {m.email: m for m in bound.values()}
    jobs = []
    for asset_type in types:
        keys = sorted(k for k in assets if k.type is asset_type)
        if not keys or not bound:
            continue
        strategy = forced or choose_strategy(asset_type, len(keys), len(bound))
        if asset_type not in mapping.PER_ASSET_TYPES:
            strategy = Strategy.PER_MEMBER
        log.debug(
            "grants of %s: %s (%d assets, %d members)", asset_type, strategy, len(keys), len(bound)
        )
        if strategy is Strategy.PER_ASSET:
            jobs += [_grants_of_asset(client, bc_id, key, bound, by_email) for key in keys]
        else:
            wanted = frozenset(keys)
            jobs += [
                _grants_of_member(client, bc_id, asset_type, m, wanted) for m in bound.values()
            ]
    grants: dict[GrantKey, Grant] = {}
    for batch in await run_all(jobs):
        for grant in batch:
            grants[grant.key] = grant
    return grants


async def _grants_of_asset(
    client: TikTokClient,
    bc_id: str,
    asset: AssetKey,
    bound: Mapping[str, Member],
    by_email: Mapping[str, Member],
) -> list[Grant]:
    params = {
        "bc_id": bc_id,
        "asset_type": mapping.asset_type_to_wire(asset.type),
        "asset_id": asset.id,
    }
    listing = await client.get_all("bc/asset/member/get/", params, page_size=ASSET_MEMBER_PAGE)
    grants = []
    for item in listing.items:
        member = bound.get(str(item.get("user_id") or "")) or by_email.get(
            str(item.get("user_email") or "").strip().lower()
        )
        grant = mapping.grant_from_wire(asset, member.email, item) if member else None
        if grant:
            grants.append(grant)
    return grants


async def _grants_of_member(
    client: TikTokClient,
    bc_id: str,
    asset_type: AssetType,
    member: Member,
    wanted: frozenset[AssetKey],
) -> list[Grant]:
    held = await fetch_member_assets(client, bc_id, str(member.user_id), asset_type)
    return [
        Grant(asset=key, member=member.email, role=role)
        for asset_id, role in held.items()
        if (key := AssetKey(asset_type, asset_id)) in wanted
    ]


async def _partners(
    client: TikTokClient, bc_id: str, scope: Scope
) -> tuple[dict[str, Partner], dict[ShareKey, PartnerShare]]:
    partners = await fetch_partners(client, bc_id)
    shares: dict[ShareKey, PartnerShare] = {}
    # Partners get ad accounts only; without declared ones there is nothing to read.
    if not any(k.type is AssetType.AD_ACCOUNT for k in scope.assets):
        return partners, shares
    for batch in await run_all([fetch_shares(client, bc_id, pid) for pid in sorted(partners)]):
        for share in batch:
            if share.asset in scope.assets:
                shares[share.key] = share
    return partners, shares


def _bc_id(entry: Mapping[str, Any]) -> str | None:
    info = entry.get("bc_info") or {}
    value = info.get("bc_id") if isinstance(info, dict) else None
    return str(value) if value else None
