"""Read one BC's actual state for a scope, in as few calls as the API allows.

Lists are paged (page 1, then the rest concurrently). Grants are read per asset type with the
cheaper of two strategies, chosen from the counts the first lists gave:
- per asset: /bc/asset/member/get/ once per declared asset (20 a page; ad accounts, catalogs
  and lead forms only);
- per member: /bc/asset/get/ with filtering.user_id once per BOUND member (50 a page; any type).

Asset groups (/bc/asset_group/list/ and /get/) grant ad accounts too; the access they give on
declared ad accounts is returned beside the state, for reviewers, and never enters the diff of
direct grants. When the config manages groups (`Scope.asset_groups`) the state holds them whole.
"""

from __future__ import annotations

import logging
from collections.abc import Coroutine, Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from bcsync.core.model import (
    Asset,
    AssetGroup,
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
from bcsync.errors import NotFoundError, PermissionDeniedError
from bcsync.providers.base import AssetGroupAccess, AssetPartner, ReadResult, Scope
from bcsync.providers.tiktok import mapping
from bcsync.providers.tiktok.client import TikTokClient
from bcsync.providers.tiktok.paging import Listing, both, run_all
from bcsync.providers.tiktok.read_incoming import (
    LIST_PAGE,
    listed_types,
    partner_assets,
    read_asset_partners,
    read_incoming,
)

log = logging.getLogger("bcsync.providers.tiktok")

# Page sizes: the API's maxima. member/get declares none in the SDK and another client says 20,
# so we ask 20: a server that silently cut a larger page would fail the completeness check.
MEMBER_PAGE = 20
ASSET_MEMBER_PAGE = 20
# asset_group list/get declare no cap either; 50 is the cap of every other BC list.
GROUP_PAGE = 50
GROUP_ROLE_PREFIX = "ADVERTISER_ROLE_"


class Strategy(StrEnum):
    """How grants of one asset type are read."""

    PER_ASSET = "per_asset"
    PER_MEMBER = "per_member"


async def read_state(
    client: TikTokClient, bc_id: str, scope: Scope, *, strategy: Strategy | None = None
) -> ReadResult:
    """Members, declared assets, their grants, partners and shares; `strategy` forces one.

    A narrowed scope (`plan --changed`) is `read_scoped`'s, which builds on this module; the
    provider chooses between the two.
    """
    if scope.narrowed:
        raise ValueError("a narrowed scope is read by read_scoped.read_scoped")
    with client.tally() as tally:
        (
            (_, (members, assets, undeclared, grants, (groups, whole))),
            (partners, shares),
        ) = await both(
            both(
                check_admin(client, bc_id), _members_assets_grants(client, bc_id, scope, strategy)
            ),
            _partners(client, bc_id, scope),
        )
        # What partners share with this BC, and (reports) whom each declared asset is shared with.
        incoming, asset_partners = await both(
            read_incoming(client, bc_id, scope, [*assets.values(), *undeclared], partners),
            read_asset_partners(client, bc_id, assets, partners)
            if scope.asset_partners
            else _nothing(),
        )
    state = State(
        bc_id=bc_id,
        members=members,
        assets=assets,
        grants=grants,
        partners=partners,
        shares=shares,
        asset_groups=whole if scope.asset_groups else None,
    )
    return ReadResult(
        state=state,
        calls=tally.calls,
        asset_group_access=groups,
        unmanaged=tuple(a for a in undeclared if not a.incoming),
        incoming=tuple(a for a in undeclared if a.incoming),
        incoming_shares=incoming,
        asset_partners=asset_partners,
    )


async def _nothing() -> tuple[AssetPartner, ...]:
    return ()


async def check_admin(client: TikTokClient, bc_id: str) -> None:
    """Fail early, and clearly, when the token's user cannot administer the BC."""
    data = await client.get("bc/get/", {"bc_id": bc_id})
    # The answer's shape is checked (shapes.py): every entry names its BC and the user's role.
    entries = [e for e in data["list"] if str(e["bc_info"]["bc_id"]) == bc_id]
    hint = f"use a token of an admin of BC {bc_id}"
    if not entries:
        raise PermissionDeniedError(
            f"the token's user is not a member of BC {bc_id}", hint=hint, endpoint="GET /bc/get/"
        )
    role = str(entries[0]["user_role"])
    if role != "ADMIN":
        raise PermissionDeniedError(
            f"the token's user is not an admin of BC {bc_id} (role {role})",
            hint=hint,
            endpoint="GET /bc/get/",
        )


async def fetch_members(client: TikTokClient, bc_id: str) -> dict[str, Member]:
    """Every member of every relation status, keyed by lower-cased email."""
    listing = await client.get_all(
        "bc/member/get/", {"bc_id": bc_id}, page_size=MEMBER_PAGE, confirm=True
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
    listing = await client.get_all(
        "bc/partner/get/", {"bc_id": bc_id}, page_size=LIST_PAGE, confirm=True
    )
    partners: dict[str, Partner] = {}
    for item in listing.items:
        pid = str(item["bc_id"])
        partners[pid] = Partner(bc_id=pid, name=str(item.get("bc_name") or "") or None)
    return partners


async def fetch_shares(
    client: TikTokClient,
    bc_id: str,
    partner_id: str,
    asset_type: AssetType = AssetType.AD_ACCOUNT,
) -> list[PartnerShare]:
    """The ad accounts (or catalogs) we share with one partner (empty if it is no partner)."""
    items = await partner_assets(client, bc_id, partner_id, asset_type, "SHARING")
    shares = (mapping.share_from_wire(partner_id, item, asset_type) for item in items)
    return [s for s in shares if s is not None]


async def _members_assets_grants(
    client: TikTokClient, bc_id: str, scope: Scope, strategy: Strategy | None
) -> tuple[
    dict[str, Member],
    dict[AssetKey, Asset],
    tuple[Asset, ...],
    dict[GrantKey, Grant],
    tuple[tuple[AssetGroupAccess, ...], dict[str, AssetGroup]],
]:
    types = sorted(scope.asset_types)
    members, listed = await both(
        fetch_members(client, bc_id), list_assets(client, bc_id, listed_types(scope))
    )
    assets, unmanaged = split_declared(listed, scope)
    (grants, gone), groups = await both(
        _grants(client, bc_id, types, members, assets, strategy),
        fetch_group_access(client, bc_id, scope, members),
    )
    if gone:
        members = await _without_the_departed(client, bc_id, members, gone)
        grants = {k: g for k, g in grants.items() if g.member in members}
    return members, assets, unmanaged, grants, groups


async def _without_the_departed(
    client: TikTokClient, bc_id: str, members: dict[str, Member], gone: set[str]
) -> dict[str, Member]:
    """Members whose grants answered "not found" moments after the member list named them.

    Someone removed them meanwhile: the list is read again to be sure, and the plan is made
    from what is there. One still listed is an error of the API's, never of the config's.
    """
    now = await fetch_members(client, bc_id)
    still = sorted(e for e in gone if e in now and now[e].status is MemberStatus.BOUND)
    if still:
        raise NotFoundError(
            f"TikTok lists {', '.join(still)} as members of BC {bc_id} but says their assets "
            "do not exist",
            hint="the ids came from TikTok's own member list, not from the config: run again; "
            "if it persists, report it with the request ids (--debug)",
            endpoint="GET /bc/asset/get/",
        )
    log.info("%s left BC %s while it was read; planning without them", ", ".join(gone), bc_id)
    return {e: m for e, m in members.items() if e not in gone}


def split_declared(
    listed: Mapping[AssetKey, Asset], scope: Scope
) -> tuple[dict[AssetKey, Asset], tuple[Asset, ...]]:
    """The listed assets the config declares, and the rest by key (owned ones are unmanaged;
    `incoming` ones are a partner's, shared with this BC)."""
    declared = {key: asset for key, asset in listed.items() if key in scope.assets}
    unmanaged = sorted((a for k, a in listed.items() if k not in declared), key=lambda a: a.key)
    return declared, tuple(unmanaged)


async def _assets(client: TikTokClient, bc_id: str, asset_type: AssetType) -> dict[AssetKey, Asset]:
    params = {"bc_id": bc_id, "asset_type": mapping.asset_type_to_wire(asset_type)}
    listing = await client.get_all("bc/asset/admin/get/", params, page_size=LIST_PAGE)
    found: dict[AssetKey, Asset] = {}
    for item in listing.items:
        key = AssetKey(asset_type, str(item["asset_id"]))
        found[key] = Asset(
            key=key,
            name=str(item.get("asset_name") or "") or None,
            status=mapping.asset_status_from_wire(item),
            incoming=item["relation_type"] == "OWNER_PARTNER",
        )
    return found


async def list_assets(
    client: TikTokClient, bc_id: str, asset_types: frozenset[AssetType]
) -> dict[AssetKey, Asset]:
    """Every asset of these types the BC can reach, declared or not: owned ones, and `incoming`
    ones partners share with it."""
    found: dict[AssetKey, Asset] = {}
    for listed in await run_all([_assets(client, bc_id, t) for t in sorted(asset_types)]):
        found.update(listed)
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
) -> tuple[dict[GrantKey, Grant], set[str]]:
    """Grants on the declared assets, and the members who were gone when their grants were read."""
    bound = {m.user_id: m for m in members.values() if m.status is MemberStatus.BOUND and m.user_id}
    by_email = {m.email: m for m in bound.values()}
    jobs: list[Coroutine[Any, Any, list[Grant] | Departed]] = []
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
    gone: set[str] = set()
    for batch in await run_all(jobs):
        if isinstance(batch, Departed):
            gone.add(batch.email)
            continue
        for grant in batch:
            grants[grant.key] = grant
    return grants, gone


@dataclass(frozen=True, slots=True)
class Departed:
    """A member the member list named whose grants TikTok then said do not exist."""

    email: str


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
) -> list[Grant] | Departed:
    try:
        held = await fetch_member_assets(client, bc_id, str(member.user_id), asset_type)
    except NotFoundError:
        return Departed(member.email)  # listed moments ago: removed meanwhile (checked above)
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
    jobs = [
        fetch_shares(client, bc_id, pid, asset_type)
        for asset_type in shared_types(scope)
        for pid in sorted(partners)
    ]
    for batch in await run_all(jobs):
        for share in batch:
            if share.asset in scope.assets:
                shares[share.key] = share
    return partners, shares


def shared_types(scope: Scope) -> list[AssetType]:
    """The declared types partners can hold (partner/asset/get: ad accounts and catalogs)."""
    return sorted(t for t in mapping.PARTNER_TYPES if any(k.type is t for k in scope.assets))


async def fetch_group_access(
    client: TikTokClient, bc_id: str, scope: Scope, members: Mapping[str, Member]
) -> tuple[tuple[AssetGroupAccess, ...], dict[str, AssetGroup]]:
    """What asset groups give on declared ad accounts (groups hold ad accounts only), and,
    when the config manages them, every group whole by name."""
    wanted = {k for k in scope.assets if k.type is AssetType.AD_ACCOUNT}
    if not wanted and not scope.asset_groups:
        return (), {}
    listing = await client.get_all(
        "bc/asset_group/list/", {"bc_id": bc_id}, page_size=GROUP_PAGE, list_key="asset_groups"
    )
    found = await run_all([_one_group(client, bc_id, g, members) for g in listing.items])
    access = [a for group in found for a in group_access(group) if a.asset in wanted]
    whole: dict[str, AssetGroup] = {}
    for group in sorted(found, key=lambda g: int(g.group_id or 0)):
        # Two groups of one name: the first (oldest id) is matched, the next is kept apart.
        name = group.name if group.name not in whole else f"{group.name} ({group.group_id})"
        whole[name] = group if name == group.name else replace(group, name=name)
    ordered = sorted(access, key=lambda a: (str(a.asset), a.member, a.group_id))
    return tuple(ordered), whole


def group_access(group: AssetGroup) -> list[AssetGroupAccess]:
    """The (member, ad account) access one group gives."""
    assert group.group_id is not None, group.name
    return [
        AssetGroupAccess(
            group.group_id,
            group.name or None,
            member,
            group.user_ids.get(member, member.removeprefix("user_id:")),
            AssetKey(AssetType.AD_ACCOUNT, asset_id),
            role,
        )
        for member, role in group.members.items()
        for asset_id in sorted(group.ad_accounts)
    ]


async def _one_group(
    client: TikTokClient,
    bc_id: str,
    group: Mapping[str, Any],
    members: Mapping[str, Member],
) -> AssetGroup:
    group_id = str(group["asset_group_id"])
    params = {"bc_id": bc_id, "asset_group_id": group_id}
    assets, people = await run_all([_group_entity(client, params, e) for e in ("ASSET", "MEMBER")])
    by_id = {m.user_id: m.email for m in members.values() if m.user_id}
    roles: dict[str, str] = {}
    user_ids: dict[str, str] = {}
    for person in people.items:
        user_id = str(person["member_id"])
        member = by_id.get(user_id, f"user_id:{user_id}")
        roles[member] = _group_role(person["asset_roles"])
        user_ids[member] = user_id
    return AssetGroup(
        name=str(group.get("asset_group_name") or ""),
        ad_accounts=frozenset(
            str(a["asset_id"]) for a in assets.items if a["asset_type"] == "ADVERTISER"
        ),
        members=roles,
        group_id=group_id,
        user_ids=user_ids,
    )


async def fetch_group_contents(
    client: TikTokClient, bc_id: str, group_id: str
) -> tuple[set[str], dict[str, str]]:
    """One group's ad account ids and its members' roles by user id (NotFoundError if gone)."""
    params = {"bc_id": bc_id, "asset_group_id": group_id}
    assets, people = await run_all([_group_entity(client, params, e) for e in ("ASSET", "MEMBER")])
    return (
        {str(a["asset_id"]) for a in assets.items if a["asset_type"] == "ADVERTISER"},
        {str(p["member_id"]): _group_role(p["asset_roles"]) for p in people.items},
    )


async def _group_entity(client: TikTokClient, params: Mapping[str, Any], entity: str) -> Listing:
    """Every asset (ASSET) or member (MEMBER) of one group: asset_group/get pages one entity."""
    return await client.get_all(
        "bc/asset_group/get/",
        {**params, "query_entity": entity},
        page_size=GROUP_PAGE,
        list_key=f"asset_group.{entity.lower()}s",
    )


def _group_role(roles: Mapping[str, str]) -> str:
    """ADVERTISER_ROLE_OPERATOR -> operator; the SDK leaves the map's keys open (third-party:
    keyed by ADVERTISER). No default: shapes.py refuses a member without one."""
    return roles["ADVERTISER"].removeprefix(GROUP_ROLE_PREFIX).lower()
