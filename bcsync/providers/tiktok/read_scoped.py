"""A narrowed read for `plan --changed`: the scope's members and partners, plus what guards need.

A full read at TikTok's limits lists 4,000 members (200 calls) and every bound member's grants
(thousands). A scoped plan needs only:
- the token's admin check (/bc/get/);
- every admin, for the admin floor (/bc/member/get/ with filtering.user_role ADMIN: at most 20);
- each scoped email (/bc/member/get/ with filtering.keyword, matched exactly afterwards: the
  keyword also matches other emails and names that contain it);
- how many BOUND and PENDING members exist (page_info.total_number of a one-item page each), so
  the removal guard counts every existing member without listing them;
- the declared assets (their binding status; the unmanaged count);
- the scoped bound members' grants (/bc/asset/get/ with filtering.user_id, per declared type);
- every partner (a short list), and the scoped partners' shares.
Asset groups are not read: they never change a plan, and a full `bcsync plan` shows them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bcsync.core.model import (
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
from bcsync.providers.tiktok.paging import both, run_all
from bcsync.providers.tiktok.read import (
    MEMBER_PAGE,
    check_admin,
    fetch_member_assets,
    fetch_partners,
    fetch_shares,
    list_assets,
    shared_types,
    split_declared,
)

COUNTED = ("BOUND", "PENDING")


async def read_scoped(client: TikTokClient, bc_id: str, scope: Scope) -> ReadResult:
    """The scope's members and partners with their grants and shares, every admin, the counts."""
    in_scope = frozenset(scope.members or ())
    emails = sorted(in_scope)
    partner_ids = frozenset(scope.partners or ())
    with client.tally() as tally:
        (_, (members, totals)), (listed, (partners, shares)) = await both(
            both(check_admin(client, bc_id), _members(client, bc_id, emails)),
            both(
                list_assets(client, bc_id, scope.asset_types),
                _partners(client, bc_id, scope, partner_ids),
            ),
        )
        assets, undeclared = split_declared(listed, scope)
        wanted = [m for e, m in members.items() if e in in_scope]
        grants = await _grants(client, bc_id, wanted, assets)
    counted = sum(
        1 for m in members.values() if m.status in (MemberStatus.BOUND, MemberStatus.PENDING)
    )
    state = State(
        bc_id=bc_id,
        members=members,
        assets=assets,
        grants=grants,
        partners=partners,
        shares=shares,
    )
    return ReadResult(
        state=state,
        calls=tally.calls,
        unmanaged=tuple(a for a in undeclared if not a.incoming),
        incoming=tuple(a for a in undeclared if a.incoming),
        unread_members=max(0, totals - counted),
    )


async def _members(
    client: TikTokClient, bc_id: str, emails: list[str]
) -> tuple[dict[str, Member], int]:
    """Every admin and each scoped email's member (any relation status); the counted total."""
    admins = _listing(client, bc_id, {"user_role": "ADMIN"})
    found = await run_all([admins, *(_listing(client, bc_id, {"keyword": e}) for e in emails)])
    totals = await run_all([_total(client, bc_id, status) for status in COUNTED])
    members: dict[str, Member] = {}
    wanted = set(emails)
    for n, items in enumerate(found):
        for item in items:
            member = mapping.member_from_wire(item)
            # A keyword matches any email or name containing it: keep exact matches only.
            if n == 0 or member.email in wanted:
                mapping.merge_member(members, member)
    return members, sum(totals)


async def _listing(
    client: TikTokClient, bc_id: str, filtering: Mapping[str, str]
) -> list[dict[str, Any]]:
    listing = await client.get_all(
        "bc/member/get/", {"bc_id": bc_id, "filtering": dict(filtering)}, page_size=MEMBER_PAGE
    )
    return listing.items


async def _total(client: TikTokClient, bc_id: str, status: str) -> int:
    """How many members have this relation status: one page of one item, its total_number."""
    params = {
        "bc_id": bc_id,
        "filtering": {"relation_status": status},
        "page": 1,
        "page_size": 1,
    }
    data = await client.get("bc/member/get/", params)
    # The shape check (shapes.py) makes total_number an integer: never a guessed 0.
    return max(0, int(data["page_info"]["total_number"]))


async def _grants(
    client: TikTokClient,
    bc_id: str,
    members: list[Member],
    assets: Mapping[AssetKey, Asset],
) -> dict[GrantKey, Grant]:
    """Each scoped BOUND member's grants on declared assets, one asset/get per declared type."""
    types = sorted({k.type for k in assets})
    bound = sorted(
        (m for m in members if m.status is MemberStatus.BOUND and m.user_id),
        key=lambda m: m.email,
    )
    jobs = [_member_grants(client, bc_id, m, t, assets) for m in bound for t in types]
    grants: dict[GrantKey, Grant] = {}
    for batch in await run_all(jobs):
        grants.update((g.key, g) for g in batch)
    return grants


async def _member_grants(
    client: TikTokClient,
    bc_id: str,
    member: Member,
    asset_type: AssetType,
    assets: Mapping[AssetKey, Asset],
) -> list[Grant]:
    held = await fetch_member_assets(client, bc_id, str(member.user_id), asset_type)
    return [
        Grant(asset=key, member=member.email, role=role)
        for asset_id, role in held.items()
        if (key := AssetKey(asset_type, asset_id)) in assets
    ]


async def _partners(
    client: TikTokClient, bc_id: str, scope: Scope, wanted: frozenset[str]
) -> tuple[dict[str, Partner], dict[ShareKey, PartnerShare]]:
    """Every partner (the guards and labels need them); shares of the scoped ones only."""
    partners = await fetch_partners(client, bc_id)
    shares: dict[ShareKey, PartnerShare] = {}
    read = sorted(p for p in partners if p in wanted)
    jobs = [fetch_shares(client, bc_id, pid, t) for t in shared_types(scope) for pid in read]
    for batch in await run_all(jobs):
        shares.update((s.key, s) for s in batch if s.asset in scope.assets)
    return partners, shares
