"""Cross-reference rules the schema cannot express, on the document. Pure: no I/O, clock passed in.

Rules read the document defensively (a part of the wrong shape is skipped: the schema already
reported it), so schema and rule problems come out together and the user fixes all in one pass.
These are the rules about how the file is written (references, duplicates, dates, provider keys).
The rules about what it means (active members and admins, required admins, ignored members,
partners without shares) judge the built config instead: `built_rules`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from bcsync.config.addresses import check_addresses
from bcsync.config.document import (
    DocPath,
    Document,
    did_you_mean,
    join_hints,
    list_at,
    mapping_at,
    parse_date,
    short_repr,
)
from bcsync.core.baseurl import BaseUrlError, parse_base_url
from bcsync.core.model import AssetType
from bcsync.errors import Problem

EXPIRY_WARNING_DAYS = 14
LABELS = {
    AssetType.AD_ACCOUNT: "ad account",
    AssetType.CATALOG: "catalog",
    AssetType.TIKTOK_ACCOUNT: "TikTok account",
    AssetType.SHOP: "shop",
    AssetType.STOREFRONT: "storefront",
    AssetType.LEAD_FORM: "lead form",
    AssetType.PIXEL: "pixel",
}

# Provider keys and the provider types that use them.
PROVIDER_KEYS = {
    "seed": ("local",),
    "url": ("emulator", "tiktok"),
    "token_env": ("emulator", "tiktok"),
}
# Set by a pipeline's owner, outside the config: other URLs the token may be sent to.
ALLOWED_URLS_ENV = "BCSYNC_ALLOWED_API_URLS"
TWO_EDITS = (
    "removing a protected entry takes two deliberate edits: "
    "first drop it from policy.{list}, then remove its declaration"
)

Assets = dict[AssetType, dict[str, str]]


@dataclass(frozen=True)
class _Context:
    doc: Document
    now: date
    assets: Assets
    # lower-cased email -> the key as written (first occurrence)
    members: dict[str, str]


def check_rules(doc: Document, now: date) -> list[Problem]:
    """Every cross-reference and policy problem in one parsed config (errors and warnings)."""
    problems: list[Problem] = []
    assets = _declared_assets(doc, problems)
    members = _member_keys(doc, problems)
    ctx = _Context(doc, now, assets, members)
    for check in (
        _check_access_refs,
        _check_group_refs,
        _check_group_cycles,
        _check_asset_groups,
        _check_expiry,
        _check_protected,
        _check_partners,
        _check_incoming,
        _check_provider,
    ):
        problems.extend(check(ctx))
    problems.extend(check_addresses(doc))
    return problems


# --- declarations --------------------------------------------------------------------------


def _declared_assets(doc: Document, problems: list[Problem]) -> Assets:
    assets: Assets = {}
    for asset_type in AssetType:
        aliases: dict[str, str] = {}
        first_alias: dict[str, str] = {}
        for alias, asset_id in mapping_at(doc.data, "assets", asset_type.value).items():
            if not isinstance(asset_id, str):
                continue
            path = ("assets", asset_type.value, alias)
            aliases[alias] = asset_id  # known either way: references to it are not unknown
            if asset_id in first_alias:
                other = first_alias[asset_id]
                line = _line(doc, ("assets", asset_type.value, other))
                problems.append(
                    doc.problem(
                        path,
                        f"{LABELS[asset_type]} {asset_id} is already declared as {other!r}{line}",
                        "an asset has exactly one alias",
                    )
                )
                continue
            first_alias[asset_id] = alias
        assets[asset_type] = aliases
    return assets


def _member_keys(doc: Document, problems: list[Problem]) -> dict[str, str]:
    members: dict[str, str] = {}
    for email in mapping_at(doc.data, "members"):
        lower = email.lower()
        if lower in members:
            first = members[lower]
            problems.append(
                doc.problem(
                    ("members", email),
                    f"duplicate member {email!r}: emails are case-insensitive and {first!r} "
                    f"is already declared{_line(doc, ('members', first))}",
                    "declare each member once",
                    key=True,
                )
            )
            continue
        members[lower] = email
    return members


def _a(label: str) -> str:
    return f"an {label}" if label[0] in "aeiou" else f"a {label}"


def _line(doc: Document, path: DocPath) -> str:
    mark = doc.locate(path, key=True)
    return f" at line {mark[0]}" if mark else ""


# --- references ----------------------------------------------------------------------------


def _access_sections(ctx: _Context) -> Iterator[tuple[DocPath, dict[str, Any]]]:
    """(path of an access mapping, the mapping) for members, groups and partners."""
    data = ctx.doc.data
    for kind in ("members", "groups", "partners"):
        for name, entry in mapping_at(data, kind).items():
            access = mapping_at(entry, "access")
            if access:
                yield (kind, name, "access"), access


def _grant_sections(ctx: _Context) -> Iterator[tuple[DocPath, AssetType, dict[str, Any]]]:
    """(path, asset type, alias -> value) of every access section with a known asset type."""
    for path, access in _access_sections(ctx):
        for section, grants in access.items():
            if section in AssetType._value2member_map_ and isinstance(grants, dict):
                yield (*path, section), AssetType(section), grants


def _check_access_refs(ctx: _Context) -> Iterator[Problem]:
    # Per section, not per grant: 100,000 grants at TikTok's limits, nearly all known.
    for path, asset_type, grants in _grant_sections(ctx):
        known = ctx.assets.get(asset_type, {})
        for alias in [a for a in grants if a not in known]:
            yield _unknown_alias(ctx, (*path, alias), asset_type, alias)


def _unknown_alias(ctx: _Context, path: DocPath, asset_type: AssetType, alias: str) -> Problem:
    hint = did_you_mean(alias, ctx.assets.get(asset_type, {}))
    elsewhere = [t for t, aliases in ctx.assets.items() if alias in aliases]
    if elsewhere:
        where = elsewhere[0]
        hint = join_hints(
            hint, f"{alias!r} is {_a(LABELS[where])}, declared under assets.{where.value}"
        )
    return ctx.doc.problem(
        path,
        f"unknown {LABELS[asset_type]} alias {alias!r}",
        hint or f"declare it under assets.{asset_type.value}",
        key=True,
    )


def _check_group_refs(ctx: _Context) -> Iterator[Problem]:
    groups = mapping_at(ctx.doc.data, "groups")
    for kind in ("members", "groups"):
        for name, entry in mapping_at(ctx.doc.data, kind).items():
            for index, ref in enumerate(list_at(entry, "groups")):
                if not isinstance(ref, str) or ref in groups:
                    continue
                hint = did_you_mean(ref, groups) or (
                    "declared groups: " + ", ".join(groups) if groups else "declare it under groups"
                )
                yield ctx.doc.problem((kind, name, "groups", index), f"unknown group {ref!r}", hint)


def _check_asset_groups(ctx: _Context) -> Iterator[Problem]:
    """An asset group names declared ad accounts and declared members, each once.

    That a member is managed (not ignored) is the build's decision: `built_rules` checks it."""
    known = ctx.assets.get(AssetType.AD_ACCOUNT, {})
    for name, entry in mapping_at(ctx.doc.data, "asset_groups").items():
        for index, alias in enumerate(list_at(entry, "ad_accounts")):
            if isinstance(alias, str) and alias not in known:
                at: DocPath = ("asset_groups", name, "ad_accounts", index)
                yield _unknown_alias(ctx, at, AssetType.AD_ACCOUNT, alias)
        seen: dict[str, str] = {}
        for email in mapping_at(entry, "members"):
            path = ("asset_groups", name, "members", email)
            lower = email.lower()
            if lower in seen:
                yield ctx.doc.problem(
                    path,
                    f"duplicate member {email!r} in asset group {name!r}: emails are "
                    f"case-insensitive and {seen[lower]!r} is already listed",
                    "list each member once",
                    key=True,
                )
                continue
            seen[lower] = email
            if lower not in ctx.members:
                hint = did_you_mean(lower, ctx.members) or "declare them under members"
                yield ctx.doc.problem(
                    path, f"unknown member {email!r} in asset group {name!r}", hint, key=True
                )


def _check_group_cycles(ctx: _Context) -> Iterator[Problem]:
    groups = mapping_at(ctx.doc.data, "groups")
    edges = {
        name: [(i, ref) for i, ref in enumerate(list_at(entry, "groups")) if isinstance(ref, str)]
        for name, entry in groups.items()
    }
    reported: set[frozenset[str]] = set()
    done: set[str] = set()
    for start in groups:
        # Iterative depth-first search: the stack holds (group, index of its next edge).
        path: list[str] = [start]
        stack: list[tuple[str, int]] = [(start, 0)]
        while stack:
            node, i = stack[-1]
            targets = edges.get(node, [])
            if i >= len(targets):
                stack.pop()
                path.pop()
                done.add(node)
                continue
            stack[-1] = (node, i + 1)
            index, ref = targets[i]
            if ref in path:
                cycle = [*path[path.index(ref) :], ref]
                if frozenset(cycle) not in reported:
                    reported.add(frozenset(cycle))
                    yield ctx.doc.problem(
                        ("groups", node, "groups", index),
                        "group cycle: " + " -> ".join(cycle),
                        "a group cannot include itself, directly or through other groups",
                    )
            elif ref in edges and ref not in done:
                path.append(ref)
                stack.append((ref, 0))


# --- dates ---------------------------------------------------------------------------------


def _expiry_fields(ctx: _Context) -> Iterator[tuple[DocPath, str, Any]]:
    """(path of an `expires` value, what expires, the value)."""
    for kind, noun in (
        ("members", "the member will be removed"),
        ("partners", "the partner will be removed"),
    ):
        for name, entry in mapping_at(ctx.doc.data, kind).items():
            if isinstance(entry, dict) and "expires" in entry:
                yield (kind, name, "expires"), noun, entry["expires"]
    for path, _, grants in _grant_sections(ctx):
        for alias in [a for a, v in grants.items() if type(v) is dict and "expires" in v]:
            yield (*path, alias, "expires"), "it will be revoked", grants[alias]["expires"]


def _check_expiry(ctx: _Context) -> Iterator[Problem]:
    soon = ctx.now + timedelta(days=EXPIRY_WARNING_DAYS)
    for path, outcome, value in _expiry_fields(ctx):
        if not isinstance(value, str):
            continue
        expires = parse_date(value)
        if expires is None:
            if len(value) == 10 and value[4] == "-" and value[7] == "-":
                yield ctx.doc.problem(path, f"{value!r} is not a valid date", "expected YYYY-MM-DD")
        elif expires <= ctx.now:
            yield ctx.doc.problem(path, f"expired on {expires}, {outcome}", warning=True)
        elif expires <= soon:
            days = (expires - ctx.now).days
            plural = "s" if days != 1 else ""
            message = f"expires on {expires} (in {days} day{plural})"
            yield ctx.doc.problem(path, message, f"on that date {outcome}", warning=True)


# --- protection ----------------------------------------------------------------------------


def _check_protected(ctx: _Context) -> Iterator[Problem]:
    """Each protected entry names something declared: deleting its block alone is an error."""
    partners = mapping_at(ctx.doc.data, "partners")
    partner_names = set(partners) | {
        p["bc_id"]
        for p in partners.values()
        if isinstance(p, dict) and isinstance(p.get("bc_id"), str)
    }
    for index, entry in enumerate(list_at(ctx.doc.data, "policy", "protected")):
        if not isinstance(entry, str):
            continue
        path = ("policy", "protected", index)
        if entry.startswith("partner:"):
            yield from _protected_partner(ctx, path, entry.split(":", 1)[1], partner_names)
        elif entry.lower() not in ctx.members:
            hint = join_hints(
                did_you_mean(entry.lower(), ctx.members), TWO_EDITS.format(list="protected")
            )
            message = f"protected member {entry!r} is not declared in members"
            yield ctx.doc.problem(path, message, hint)


def _protected_partner(
    ctx: _Context, path: DocPath, name: str, partner_names: set[str]
) -> Iterator[Problem]:
    """A protected partner is named by its BC id: an alias can be pointed at another BC in one
    harmless-looking line, which would move the protection (README "Safety")."""
    partners = mapping_at(ctx.doc.data, "partners")
    entry = partners.get(name)
    if isinstance(entry, dict) and isinstance(entry.get("bc_id"), str):
        yield ctx.doc.problem(
            path,
            f"protected partner {name!r} is named by its alias: protection binds to the "
            "partner's BC id, so that changing the alias's bc_id cannot move it",
            f"write partner:{entry['bc_id']}",
        )
    elif name and name not in partner_names:
        hint = join_hints(did_you_mean(name, partners), TWO_EDITS.format(list="protected"))
        message = f"protected partner {name!r} is not declared in partners"
        if name.isdigit():
            message += " (if an alias's bc_id was changed, the protected partner is still this one)"
        yield ctx.doc.problem(path, message, hint)


# --- partners and provider -----------------------------------------------------------------


def _check_partners(ctx: _Context) -> Iterator[Problem]:
    own_id = mapping_at(ctx.doc.data, "business_center").get("id")
    first: dict[str, str] = {}
    for alias, entry in mapping_at(ctx.doc.data, "partners").items():
        if not isinstance(entry, dict):
            continue
        bc_id = entry.get("bc_id")
        if isinstance(bc_id, str):
            if bc_id == own_id:
                yield ctx.doc.problem(
                    ("partners", alias, "bc_id"),
                    f"partner {alias!r} is this Business Center ({bc_id})",
                    "a Business Center cannot be its own partner",
                )
            elif bc_id in first:
                line = _line(ctx.doc, ("partners", first[bc_id]))
                yield ctx.doc.problem(
                    ("partners", alias, "bc_id"),
                    f"partner {bc_id} is already declared as {first[bc_id]!r}{line}",
                    "declare each partner once",
                )
            else:
                first[bc_id] = alias


def _check_incoming(ctx: _Context) -> Iterator[Problem]:
    """`incoming:` partners are identities: one alias per BC id across `partners:` and here."""
    own_id = mapping_at(ctx.doc.data, "business_center").get("id")
    outgoing = {
        alias: entry.get("bc_id")
        for alias, entry in mapping_at(ctx.doc.data, "partners").items()
        if isinstance(entry, dict)
    }
    alias_of = {bc_id: alias for alias, bc_id in outgoing.items() if isinstance(bc_id, str)}
    first: dict[str, str] = {}
    for alias, entry in mapping_at(ctx.doc.data, "incoming").items():
        if not isinstance(entry, dict) or not isinstance(entry.get("bc_id"), str):
            continue
        bc_id, at = entry["bc_id"], ("incoming", alias, "bc_id")
        if bc_id == own_id:
            yield ctx.doc.problem(
                at,
                f"incoming partner {alias!r} is this Business Center ({bc_id})",
                "a Business Center cannot share with itself",
            )
        elif bc_id in first:
            line = _line(ctx.doc, ("incoming", first[bc_id]))
            yield ctx.doc.problem(
                at,
                f"partner {bc_id} is already declared under incoming as {first[bc_id]!r}{line}",
                "declare each partner once",
            )
            continue
        first[bc_id] = alias
        if alias in outgoing and outgoing[alias] != bc_id:
            line = _line(ctx.doc, ("partners", alias))
            yield ctx.doc.problem(
                at,
                f"{alias!r} is BC {outgoing[alias]} under partners{line} but BC {bc_id} here",
                "an alias names one Business Center: rename one of them",
            )
        elif bc_id in alias_of and alias_of[bc_id] != alias:
            line = _line(ctx.doc, ("partners", alias_of[bc_id]))
            yield ctx.doc.problem(
                at,
                f"BC {bc_id} is {alias_of[bc_id]!r} under partners{line} but {alias!r} here",
                "call one Business Center by one alias",
            )


def _check_provider(ctx: _Context) -> Iterator[Problem]:
    provider = mapping_at(ctx.doc.data, "provider")
    kind = provider.get("type", "local")
    if not isinstance(kind, str) or kind not in ("local", "emulator", "tiktok"):
        return
    for key, users in PROVIDER_KEYS.items():
        if key not in provider or kind in users:
            continue
        if key == "token_env" and kind == "local":
            yield ctx.doc.problem(
                ("provider", key),
                "the local provider reads no token: token_env is ignored",
                "remove it; the embedded emulator acts as the seed's first joined admin",
                key=True,
                warning=True,
            )
            continue
        yield ctx.doc.problem(
            ("provider", key),
            f"{key!r} does not apply to the {kind} provider",
            f"used by: {', '.join(users)}",
            key=True,
        )
    yield from _check_token_env(ctx, kind, provider.get("token_env"))
    if kind in ("tiktok", "emulator"):
        yield from _check_url(ctx, kind, provider.get("url"))


def _check_token_env(ctx: _Context, kind: str, token_env: Any) -> Iterator[Problem]:
    """The emulator never reads the TikTok token: a served emulator is not TikTok."""
    if kind == "emulator" and isinstance(token_env, str) and token_env.startswith("TIKTOK_"):
        yield ctx.doc.problem(
            ("provider", "token_env"),
            f"the emulator provider must not read the TikTok token (${token_env})",
            "name a BCSYNC_* variable holding an emulator token, or leave token_env out to read "
            "BCSYNC_EMULATOR_TOKEN",
        )


def _check_url(ctx: _Context, kind: str, url: Any) -> Iterator[Problem]:
    """The URL check plan and apply use (`bcsync.core.baseurl`): what fails it is an error here."""
    if not isinstance(url, str):
        return
    try:
        base = parse_base_url(url)
    except BaseUrlError as err:
        yield ctx.doc.problem(
            ("provider", "url"),
            f"{short_repr(url, 80)} is not a URL plan and apply would send a token to: {err}",
            "e.g. https://business-api.tiktok.com/ (tiktok) or http://127.0.0.1:8787 (emulator)",
        )
        return
    if kind == "tiktok" and not base.is_tiktok_api:
        yield ctx.doc.problem(
            ("provider", "url"),
            f"{short_repr(url, 80)} is not TikTok's API: plan and apply will refuse to send the "
            "TikTok token there",
            f"unless the pipeline's owner lists this URL in ${ALLOWED_URLS_ENV}, outside the "
            "config; TikTok's API is https://business-api.tiktok.com/",
            warning=True,
        )
    elif kind == "emulator" and not base.is_loopback:
        # A served emulator off this machine gets the token only through the allow-list.
        yield ctx.doc.problem(
            ("provider", "url"),
            f"{short_repr(url, 80)} is not on this machine: plan and apply will refuse to send "
            "the emulator token there",
            f"unless the pipeline's owner lists this URL in ${ALLOWED_URLS_ENV}, outside the "
            "config",
            warning=True,
        )


def is_loopback_url(url: str) -> bool:
    """True for a base URL whose host is 127.0.0.0/8, ::1 or localhost."""
    try:
        return parse_base_url(url).is_loopback
    except BaseUrlError:
        return False


def is_tiktok_api_url(url: str) -> bool:
    """True for an https URL on one of TikTok's API hosts (no user info, default port)."""
    try:
        return parse_base_url(url).is_tiktok_api
    except BaseUrlError:
        return False
