"""Reading what partners share with this BC, and which partners each declared asset is shared with.

Incoming (partner/asset/get with share_type SHARED): one list per partner and asset type, read
only where there can be something to find: for the types of which asset/admin/get listed an
`OWNER_PARTNER` asset, and for every partner type of the partners the config's `incoming:`
names (so a share that is missing is seen as missing). A BC that nobody shares with costs no
call. An `OWNER_PARTNER` asset that no partner's list names is still reported, with partner "".

Asset partners (asset/partner/get, every asset type): one call per declared asset, only for a
report and only when the BC has partners. Ad accounts and catalogs are not asked: their shares,
with roles, are already read per partner (partner/asset/get SHARING), which costs less.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from bcsync.core.incoming import IncomingShare
from bcsync.core.model import Asset, AssetKey, AssetType, Partner
from bcsync.errors import NotFoundError
from bcsync.providers.base import AssetPartner, Scope
from bcsync.providers.tiktok import mapping
from bcsync.providers.tiktok.client import TikTokClient
from bcsync.providers.tiktok.paging import run_all

# The cap of every BC list, the page size of each list read here and in read.py.
LIST_PAGE = 50


def listed_types(scope: Scope) -> frozenset[AssetType]:
    """The types to list: the declared ones, and the partner types when `incoming:` is checked."""
    if scope.incoming is None:
        return scope.asset_types
    return scope.asset_types | mapping.PARTNER_TYPES


async def partner_assets(
    client: TikTokClient, bc_id: str, partner_id: str, asset_type: AssetType, share_type: str
) -> list[Any]:
    """`bc/partner/asset/get`'s items: what we share with a partner (SHARING) or it shares with
    us (SHARED), of one type; empty when the BC has no such partner."""
    params = {
        "bc_id": bc_id,
        "partner_id": partner_id,
        "asset_type": mapping.asset_type_to_wire(asset_type),
        "share_type": share_type,
    }
    try:
        listing = await client.get_all("bc/partner/asset/get/", params, page_size=LIST_PAGE)
    except NotFoundError:
        return []
    return list(listing.items)


async def fetch_incoming(
    client: TikTokClient, bc_id: str, partner_id: str, asset_type: AssetType
) -> list[IncomingShare]:
    """What one partner shares with this BC of one type (empty if it is no partner)."""
    items = await partner_assets(client, bc_id, partner_id, asset_type, "SHARED")
    out = []
    for item in items:  # asset_id and the role field: required (shapes.py)
        asset = AssetKey(asset_type, str(item["asset_id"]))
        role = mapping.role_from_wire(asset_type, item)
        name = str(item.get("asset_name") or "") or None
        out.append(IncomingShare(partner_id, asset, role, asset_name=name))
    return out


async def read_incoming(
    client: TikTokClient,
    bc_id: str,
    scope: Scope,
    listed: Iterable[Asset],
    partners: Mapping[str, Partner],
) -> tuple[IncomingShare, ...]:
    """Every incoming share the BC can see, attributed to its partner where a list names it."""
    shared_in = [a for a in listed if a.incoming]
    seen_types = {a.key.type for a in shared_in} & mapping.PARTNER_TYPES
    expected = scope.incoming or frozenset()
    jobs = [
        fetch_incoming(client, bc_id, pid, t)
        for pid in sorted(set(partners) | expected)
        for t in sorted(mapping.PARTNER_TYPES)
        if t in seen_types or pid in expected
    ]
    found: dict[tuple[str, AssetKey], IncomingShare] = {}
    for batch in await run_all(jobs):
        for share in batch:
            named = partners.get(share.partner)
            found[share.key] = IncomingShare(
                share.partner,
                share.asset,
                share.role,
                asset_name=share.asset_name,
                partner_name=named.name if named else None,
            )
    attributed = {asset for _, asset in found}
    for asset in shared_in:
        if asset.key not in attributed:
            found[("", asset.key)] = IncomingShare("", asset.key, None, asset_name=asset.name)
    return tuple(sorted(found.values(), key=lambda s: (s.partner, s.asset)))


async def read_asset_partners(
    client: TikTokClient, bc_id: str, assets: Iterable[AssetKey], partners: Mapping[str, Partner]
) -> tuple[AssetPartner, ...]:
    """The partners each declared asset of a type other than ad account and catalog is shared
    with; nothing when the BC has no partners (no share can exist)."""
    if not partners:
        return ()
    keys = sorted(k for k in assets if k.type not in mapping.PARTNER_TYPES)
    found = await run_all([_partners_of(client, bc_id, key) for key in keys])
    return tuple(p for batch in found for p in batch)


async def _partners_of(client: TikTokClient, bc_id: str, asset: AssetKey) -> list[AssetPartner]:
    params = {
        "bc_id": bc_id,
        "asset_type": mapping.asset_type_to_wire(asset.type),
        "asset_id": asset.id,
    }
    listing = await client.get_all("bc/asset/partner/get/", params, page_size=LIST_PAGE)
    return [
        AssetPartner(asset, str(item["bc_id"]), str(item.get("bc_name") or "") or None)
        for item in listing.items
    ]
