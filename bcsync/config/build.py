"""A checked Document to a BusinessCenterConfig and its desired State. Pure: the clock is passed in.

Call only on documents without schema errors: shapes are trusted here. A document with rule
errors is built only without grants (`build_located(grants=False)`), for the rules that judge
the built config: partners skip an unknown alias; nothing else reads one.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import PurePath
from typing import Any, NamedTuple

from bcsync.config.document import DocPath, Document, list_at, mapping_at, parse_date
from bcsync.config.located import Located
from bcsync.core.model import (
    MULTI_ROLE_TYPES,
    ROLES,
    Asset,
    AssetGroup,
    AssetKey,
    AssetType,
    BusinessCenterConfig,
    FinanceRole,
    Grant,
    GrantKey,
    IncomingExpectation,
    Member,
    MemberRole,
    Partner,
    PartnerShare,
    Policy,
    ProviderSettings,
    ProviderType,
    RemovalLimit,
    ShareKey,
    State,
    canonical_role,
    stronger_role,
)

# The emulator never reads the TikTok token: a served emulator is not TikTok.
EMULATOR_TOKEN_ENV = "BCSYNC_EMULATOR_TOKEN"


class _Entry(NamedTuple):
    """One role on one asset from one source (the member's own line, or a group).

    A NamedTuple: 100,000 of them are made at TikTok's limits, and a frozen dataclass's
    __init__ costs several times a tuple's.
    """

    asset: AssetKey
    role: str
    expires: date | None
    source: str
    reason: str | None = None


@dataclass
class _SetAside:
    """What the member build decides beside the desired state, for `Located`."""

    keys: dict[str, str] = field(default_factory=dict)
    ignored: dict[str, Member] = field(default_factory=dict)
    expired: dict[str, Member] = field(default_factory=dict)


def build_config(doc: Document, now: date) -> BusinessCenterConfig:
    """The BC config and desired state: groups expanded, expired and ignored entries dropped."""
    return build_located(doc, now).config


def build_located(doc: Document, now: date, *, grants: bool = True) -> Located:
    """The built config beside where each element is written: what the config rules judge.

    grants=False builds the members, policy and partners only, which is all the rules read
    (`validate` skips expanding up to 100,000 grants); that config holds no grants, so it is
    for checking, never for planning.
    """
    data = doc.data
    bc = mapping_at(data, "business_center")
    bc_id = str(bc["id"])
    aliases = _asset_index(data)
    policy = build_policy(mapping_at(data, "policy"))
    expired: dict[object, date] = {}
    aside = _SetAside()
    members, built_grants = _members(doc, aliases, policy, now, expired, aside, grants)
    partners, shares = _partners(doc, aliases, now, expired)
    partner_aliases = {
        str(entry["bc_id"]): alias for alias, entry in mapping_at(data, "partners").items()
    }
    desired = State(
        bc_id=bc_id,
        members=members,
        assets={key: Asset(key, alias=alias) for alias, key in _all_assets(aliases)},
        grants=built_grants,
        partners=partners,
        shares=shares,
        asset_groups=_asset_groups(doc, aliases, members),
    )
    config = BusinessCenterConfig(
        path=doc.file,
        bc_id=bc_id,
        name=bc.get("name"),
        provider=build_provider(mapping_at(data, "provider"), doc.base_dir),
        policy=policy,
        desired=desired,
        digest=doc.digest,
        expired=expired,
        asset_aliases={key: alias for alias, key in _all_assets(aliases)},
        # Expired partners too: a plan removing one still names it by its alias.
        partner_aliases=partner_aliases,
        incoming=_incoming(doc) if "incoming" in data else None,
        incoming_aliases={
            str(entry["bc_id"]): alias for alias, entry in mapping_at(data, "incoming").items()
        },
    )
    return Located(
        config,
        doc,
        member_keys=aside.keys,
        ignored=aside.ignored,
        expired=aside.expired,
        min_admins_written="min_admins" in mapping_at(data, "policy"),
    )


INCOMING_SECTIONS = {"ad_accounts": AssetType.AD_ACCOUNT, "catalogs": AssetType.CATALOG}


def _incoming(doc: Document) -> dict[tuple[str, AssetKey], IncomingExpectation]:
    """`incoming:`: partner alias -> {bc_id, ad_accounts: {id: role}, catalogs: {id: role}}."""
    out: dict[tuple[str, AssetKey], IncomingExpectation] = {}
    for alias, entry in mapping_at(doc.data, "incoming").items():
        partner = str(entry["bc_id"])
        reason = entry.get("reason")
        for section, asset_type in INCOMING_SECTIONS.items():
            for asset_id, role in mapping_at(entry, section).items():
                asset = AssetKey(asset_type, str(asset_id))
                source = doc.line_ref(("incoming", alias, section, asset_id))
                out[(partner, asset)] = IncomingExpectation(
                    partner, alias, asset, str(role), source, reason
                )
    return out


# Asset section ("ad_accounts") -> alias -> key: one string lookup per grant.
AssetIndex = dict[str, dict[str, AssetKey]]


def _asset_index(data: Any) -> AssetIndex:
    return {
        asset_type.value: {
            alias: AssetKey(asset_type, str(asset_id))
            for alias, asset_id in mapping_at(data, "assets", asset_type.value).items()
        }
        for asset_type in AssetType
    }


def _asset_groups(
    doc: Document, aliases: AssetIndex, members: Mapping[str, Member]
) -> dict[str, AssetGroup] | None:
    """The declared asset groups; None without an `asset_groups` section (groups left alone).

    A member dropped from `members` (expired) is dropped from its groups too.
    """
    if not isinstance(doc.data.get("asset_groups"), dict):
        return None
    accounts = aliases[AssetType.AD_ACCOUNT.value]
    return {
        str(name): AssetGroup(
            name=str(name),
            ad_accounts=frozenset(accounts[a].id for a in list_at(entry, "ad_accounts")),
            members={
                e.lower(): str(role)
                for e, role in mapping_at(entry, "members").items()
                if e.lower() in members
            },
            source=doc.line_ref(("asset_groups", name)),
        )
        for name, entry in mapping_at(doc.data, "asset_groups").items()
    }


def _all_assets(index: AssetIndex) -> Iterator[tuple[str, AssetKey]]:
    for by_alias in index.values():
        yield from by_alias.items()


def build_policy(section: dict[str, Any]) -> Policy:
    """Policy from the `policy` section (defaults for what is absent)."""
    defaults = Policy()
    return Policy(
        min_admins=int(section.get("min_admins", defaults.min_admins)),
        required_admins=tuple(str(e).lower() for e in section.get("required_admins", ())),
        max_removals=parse_removal_limit(section.get("max_removals", defaults.max_removals)),
        protected=tuple(_protected(str(p)) for p in section.get("protected", ())),
        ignore_members=tuple(str(p) for p in section.get("ignore_members", ())),
    )


def parse_removal_limit(value: object) -> RemovalLimit:
    """'25%' -> 25 percent; 10 -> an absolute count."""
    if isinstance(value, RemovalLimit):
        return value
    if isinstance(value, str) and value.endswith("%"):
        return RemovalLimit(float(value[:-1]), percent=True)
    return RemovalLimit(float(str(value)), percent=False)


def _protected(entry: str) -> str:
    return entry if entry.startswith("partner:") else entry.lower()


def build_provider(section: dict[str, Any], base_dir: str) -> ProviderSettings:
    """ProviderSettings; a relative seed path is resolved against the config file's directory."""
    seed = section.get("seed")
    kind = ProviderType(section.get("type", ProviderType.LOCAL.value))
    default_env = EMULATOR_TOKEN_ENV if kind is ProviderType.EMULATOR else None
    return ProviderSettings(
        type=kind,
        url=section.get("url"),
        seed=str(PurePath(base_dir) / seed) if isinstance(seed, str) else None,
        # The local provider reads no token; its token_env (ignored, a warning) is not kept.
        token_env=(None if kind is ProviderType.LOCAL else section.get("token_env"))
        or default_env
        or ProviderSettings().token_env,
        qps=_optional_int(section.get("qps")),
        qpm=_optional_int(section.get("qpm")),
    )


def _optional_int(value: Any) -> int | None:
    # JSON Schema's "integer" accepts 5.0: store an int either way.
    return None if value is None else int(value)


# --- members and grants --------------------------------------------------------------------


def _members(
    doc: Document,
    aliases: AssetIndex,
    policy: Policy,
    now: date,
    expired: dict[object, date],
    aside: _SetAside,
    with_grants: bool = True,
) -> tuple[dict[str, Member], dict[GrantKey, Grant]]:
    """The active members (neither ignored nor expired) and their grants; `aside` is told
    every declared member's key and the members set aside, so the rules judge these very ones."""
    groups = _group_entries(doc, aliases) if with_grants else {}
    members: dict[str, Member] = {}
    grants: dict[GrantKey, Grant] = {}
    for email, entry in mapping_at(doc.data, "members").items():
        lower = email.lower()
        aside.keys.setdefault(lower, email)
        expires = parse_date(entry.get("expires"))
        finance = entry.get("finance_role")
        member = Member(
            email=lower,
            role=MemberRole(entry["role"]),
            finance_role=FinanceRole(finance) if finance else None,
            name=entry.get("name"),
            source=doc.line_ref(("members", email)),
            expires=expires,
            reason=entry.get("reason"),
        )
        if policy.is_ignored(lower):
            aside.ignored[lower] = member
            continue
        entries = _own_entries(doc, ("members", email), aliases) if with_grants else []
        for group in list_at(entry, "groups") if with_grants else ():
            entries.extend(groups.get(group, ()))
        if expires is not None and expires <= now:
            aside.expired[lower] = member
            expired[lower] = expires
            for e in entries:
                expired[(e.asset, lower)] = min(expires, e.expires or expires)
            continue
        members[lower] = member
        for grant in _combine(lower, entries, now, expired):
            grants[grant.key] = grant
    return members, grants


def _own_entries(doc: Document, path: DocPath, aliases: AssetIndex) -> list[_Entry]:
    """Grants written in an `access` section, each sourced to its FILE:LINE."""
    entries: list[_Entry] = []
    file = doc.file
    for section, grants in mapping_at(doc.data, *path, "access").items():
        asset_type = AssetType(section)
        by_alias = aliases[section]
        multi = asset_type in MULTI_ROLE_TYPES
        base = (*path, "access", section)
        lines = doc.key_marks.children(base)
        for alias, value in grants.items():
            role: str | list[str]
            if type(value) is str:  # the common case: a bare role
                role, expires, reason = value, None, None
            else:
                role, expires, reason = _grant_value(asset_type, value)
            mark = lines.get(alias)
            entries.append(
                _Entry(
                    by_alias[alias],
                    role.lower()
                    if not multi and type(role) is str
                    else canonical_role(asset_type, role),
                    expires,
                    f"{file}:{mark[0]}" if mark else doc.line_ref((*base, alias)),
                    reason,
                )
            )
    return entries


def _grant_value(
    asset_type: AssetType, value: Any
) -> tuple[str | list[str], date | None, str | None]:
    """(role, expires, reason) of an access value: a role, or {role, expires, reason}."""
    if isinstance(value, dict):
        # Lead forms and pixels have one role: a mapping may leave it out.
        role = value.get("role", ROLES[asset_type][0])
        return role, parse_date(value.get("expires")), value.get("reason")
    return value, None, None


def _group_entries(doc: Document, aliases: AssetIndex) -> dict[str, list[_Entry]]:
    """Each group's grants with the groups it includes, recursively, sourced to the group."""
    groups = mapping_at(doc.data, "groups")
    own = {
        name: [
            _Entry(e.asset, e.role, e.expires, f"group {name}", e.reason)
            for e in _own_entries(doc, ("groups", name), aliases)
        ]
        for name in groups
    }
    expanded: dict[str, list[_Entry]] = {}
    for name in groups:
        entries = list(own[name])
        # Breadth-first over included groups; `seen` also makes a (rejected) cycle harmless.
        seen, queue = {name}, [(ref, name) for ref in list_at(groups[name], "groups")]
        while queue:
            ref, via = queue.pop(0)
            if ref in seen or ref not in groups:
                continue
            seen.add(ref)
            entries.extend(
                _Entry(e.asset, e.role, e.expires, f"group {ref} (via {via})", e.reason)
                for e in own[ref]
            )
            queue.extend((sub, ref) for sub in list_at(groups[ref], "groups"))
        expanded[name] = entries
    return expanded


def _combine(
    email: str, entries: list[_Entry], now: date, expired: dict[object, date]
) -> Iterator[Grant]:
    """One Grant per asset: the stronger role (the union for permission sets) of active entries."""
    live = all(e.expires is None or e.expires > now for e in entries)
    # By identity: every AssetKey here is the one instance from the asset index.
    if live and len({id(e.asset) for e in entries}) == len(entries):
        # The common case (each asset once, none lapsed): nothing to combine or drop.
        for e in entries:
            yield Grant(e.asset, email, e.role, (e.source,), e.expires, e.reason)
        return
    by_asset: dict[AssetKey, list[_Entry]] = {}
    lapsed: dict[AssetKey, date] = {}
    for entry in entries:
        if entry.expires is not None and entry.expires <= now:
            lapsed[entry.asset] = max(entry.expires, lapsed.get(entry.asset, entry.expires))
        else:
            by_asset.setdefault(entry.asset, []).append(entry)
    for asset, when in lapsed.items():
        if asset not in by_asset:
            expired[(asset, email)] = when
    for asset, active in by_asset.items():
        if len(active) == 1:  # most assets come from one line
            e = active[0]
            yield Grant(asset, email, e.role, (e.source,), e.expires, e.reason)
            continue
        role = active[0].role
        for entry in active[1:]:
            role = stronger_role(asset.type, role, entry.role)
        ends = [e.expires for e in active]
        yield Grant(
            asset=asset,
            member=email,
            role=role,
            sources=tuple(dict.fromkeys(e.source for e in active)),
            # The grant lasts while any source lasts: open-ended if one has no end.
            expires=None if None in ends else max(d for d in ends if d is not None),
            reason="; ".join(dict.fromkeys(e.reason for e in active if e.reason)) or None,
        )


# --- partners ------------------------------------------------------------------------------


def _partners(
    doc: Document,
    aliases: AssetIndex,
    now: date,
    expired: dict[object, date],
) -> tuple[dict[str, Partner], dict[ShareKey, PartnerShare]]:
    partners: dict[str, Partner] = {}
    shares: dict[ShareKey, PartnerShare] = {}
    for alias, entry in mapping_at(doc.data, "partners").items():
        bc_id = str(entry["bc_id"])
        expires = parse_date(entry.get("expires"))
        if expires is not None and expires <= now:
            expired[bc_id] = expires
        else:
            partners[bc_id] = Partner(
                bc_id=bc_id,
                alias=alias,
                name=entry.get("name"),
                source=doc.line_ref(("partners", alias)),
                expires=expires,
                reason=entry.get("reason"),
            )
        for kind, share_alias, value in _partner_access(entry):
            role, share_expires, reason = _grant_value(kind, value)
            asset = aliases[kind].get(share_alias)
            if asset is None:  # an unknown alias (a rule reports it): nothing to share
                continue
            ends = [d for d in (expires, share_expires) if d is not None]
            ends_on = min(ends) if ends else None
            if ends_on is not None and ends_on <= now:
                expired[(bc_id, asset)] = ends_on
                continue
            share = PartnerShare(
                partner=bc_id,
                asset=asset,
                role=canonical_role(kind, role),
                source=doc.line_ref(("partners", alias, "access", kind.value, share_alias)),
                expires=ends_on,
                reason=reason,
            )
            shares[share.key] = share
    return partners, shares


PARTNER_TYPES = (AssetType.AD_ACCOUNT, AssetType.CATALOG)


def _partner_access(entry: Any) -> Iterator[tuple[AssetType, str, Any]]:
    """(asset type, alias, value) of a partner's shares: ad accounts, then catalogs."""
    for kind in PARTNER_TYPES:
        for share_alias, value in mapping_at(entry, "access", kind.value).items():
            yield kind, share_alias, value
