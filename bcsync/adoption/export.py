"""A live Business Center's state as a config file (`bcsync export`). Pure: State in, text out.

The written config validates and plans to "No changes" against the state it was made from:
- every asset gets a readable alias made from its name (slugified, unique per type, stable:
  a name shared by several assets gets the last digits of each id);
- joined and pending members keep their roles (a pending one plans as "waiting", not as a
  removal); rejected and unbound entries are not members, so they are left out;
- `groups=True` proposes a group for every access set two or more members share exactly;
- `min_admins` is lowered to the number of admins the BC has when that is below 2, with a
  comment, so the export validates; nothing is `protected` or `required` until people say so.
The text is in `bcsync fmt`'s canonical shape (keys ordered, ids quoted), so fmt leaves it alone.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from bcsync.config.canonical import ordered, quote, sort_key
from bcsync.core.incoming import IncomingShare
from bcsync.core.model import (
    ROLES,
    Asset,
    AssetKey,
    AssetType,
    MemberRole,
    MemberStatus,
    State,
    role_parts,
)

ALIAS_MAX = 64
DEFAULT_MIN_ADMINS = 2
# A fallback alias stem per asset type, for assets without a usable name.
STEMS: Mapping[AssetType, str] = {
    AssetType.AD_ACCOUNT: "ad-account",
    AssetType.CATALOG: "catalog",
    AssetType.TIKTOK_ACCOUNT: "tiktok-account",
    AssetType.SHOP: "shop",
    AssetType.STOREFRONT: "storefront",
    AssetType.LEAD_FORM: "lead-form",
    AssetType.PIXEL: "pixel",
}
# Members whose relation to the BC makes them members in the config.
EXPORTED_STATUSES = frozenset({MemberStatus.BOUND, MemberStatus.PENDING, None})

Access = dict[str, dict[str, str | list[str]]]


@dataclass(frozen=True)
class ExportOptions:
    """What the exported file says besides the state: its name, provider and style."""

    bc_name: str | None = None
    # The `provider` section as written, in canonical key order (e.g. {"type": "tiktok"}).
    provider: Mapping[str, str | int] = field(default_factory=lambda: {"type": "tiktok"})
    groups: bool = False
    schema_ref: str | None = None
    source: str | None = None  # a line for the header: where and when the state was read


def slug(text: str | None) -> str:
    """A config alias from a name: ASCII letters and digits joined by '-', at most 64 chars."""
    ascii_text = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode()
    cut = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:ALIAS_MAX]
    return cut.rstrip("-")


def asset_aliases(assets: Iterable[Asset]) -> dict[AssetKey, str]:
    """Unique, stable aliases per asset type, made from the assets' names."""
    by_type: dict[AssetType, list[Asset]] = {}
    for asset in assets:
        by_type.setdefault(asset.key.type, []).append(asset)
    aliases: dict[AssetKey, str] = {}
    for asset_type, found in by_type.items():
        stems = {a.key: slug(a.name) or f"{STEMS[asset_type]}-{a.key.id}" for a in found}
        aliases.update(unique_names(stems))
    return aliases


def unique_names(stems: Mapping[AssetKey, str]) -> dict[AssetKey, str]:
    """Stems shared by several keys get "-" and the id's last 4 digits (all of it if needed)."""
    counts = Counter(stems.values())
    names = {k: s if counts[s] == 1 else _suffixed(s, k.id[-4:]) for k, s in stems.items()}
    for digits in (32, None):
        clashes = Counter(names.values())
        for key, name in names.items():
            if clashes[name] > 1:
                # Full ids are unique; the type's stem with the id is the last resort.
                stem = stems[key] if digits else STEMS[key.type]
                names[key] = _suffixed(stem, key.id)
    return names


def _suffixed(stem: str, suffix: str) -> str:
    return f"{stem[: ALIAS_MAX - len(suffix) - 1].rstrip('-')}-{suffix}"


def partner_aliases(state: State) -> dict[str, str]:
    """Aliases for partner BCs from their names, unique; `partner-<id>` without a name."""
    stems = {
        AssetKey(AssetType.AD_ACCOUNT, bc_id): slug(p.name) or f"partner-{bc_id}"
        for bc_id, p in state.partners.items()
    }
    return {key.id: name for key, name in unique_names(stems).items()}


def export_members(state: State) -> list[str]:
    """Emails of the members the config declares: joined or invited."""
    return sorted(
        (e for e, m in state.members.items() if m.status in EXPORTED_STATUSES), key=sort_key
    )


def member_access(state: State, aliases: Mapping[AssetKey, str]) -> dict[str, Access]:
    """Each member's grants as a config `access` mapping."""
    access: dict[str, Access] = {}
    for grant in state.grants.values():
        alias = aliases.get(grant.asset)
        if alias is None:
            continue  # an asset the BC did not list: it cannot be declared
        section = access.setdefault(grant.member, {}).setdefault(grant.asset.type.value, {})
        section[alias] = role_value(grant.asset.type, grant.role)
    return access


def role_value(asset_type: AssetType, role: str) -> str | list[str]:
    """A role as written in config: TikTok account permissions as a list in the API's order."""
    if asset_type is AssetType.TIKTOK_ACCOUNT:
        parts = set(role_parts(role))
        return [p for p in ROLES[asset_type] if p in parts]
    return role


def propose_groups(access: Mapping[str, Access]) -> tuple[dict[str, Access], dict[str, str]]:
    """Groups for access sets shared by two or more members: (group -> access, member -> group)."""
    holders: dict[str, list[str]] = {}
    for email, granted in access.items():
        holders.setdefault(_access_text(granted), []).append(email)
    shared = [emails for emails in holders.values() if len(emails) >= 2]
    # Biggest group first; ties by their first member, so names are stable between exports.
    shared.sort(key=lambda emails: (-len(emails), min(emails)))
    groups: dict[str, Access] = {}
    member_group: dict[str, str] = {}
    for number, emails in enumerate(shared, start=1):
        name = f"group-{number}"
        groups[name] = access[emails[0]]
        member_group.update(dict.fromkeys(emails, name))
    return groups, member_group


def _access_text(access: Access) -> str:
    return repr(sorted((t, sorted(grants.items())) for t, grants in access.items()))


def admin_floor(state: State, emails: Sequence[str]) -> int:
    """The `min_admins` an export can promise: 2, or fewer when the BC has fewer admins."""
    admins = sum(1 for e in emails if state.members[e].role is MemberRole.ADMIN)
    return max(1, min(DEFAULT_MIN_ADMINS, admins))


def export_config(
    state: State, options: ExportOptions, incoming: Sequence[IncomingShare] = ()
) -> str:
    """The config text for `state`: validates, and plans to no changes against it; what
    partners share with the BC (`incoming`) becomes its `incoming:` expectations."""
    aliases = asset_aliases(state.assets.values())
    partners = partner_aliases(state)
    emails = export_members(state)
    access = member_access(state, aliases)
    groups, member_group = propose_groups(access) if options.groups else ({}, {})
    w = _Writer()
    _header(w, state, options)
    _policy(w, state, emails)
    _assets(w, state, aliases)
    if groups:
        w.line("groups:")
        for name, granted in groups.items():
            holders = sum(1 for g in member_group.values() if g == name)
            w.line(f"  {name}:")
            w.line(f"    description: {quote(f'proposed by bcsync export: {holders} members')}")
            _access(w, granted, indent=4)
        w.blank()
    _members(w, state, emails, access, member_group)
    _partners(w, state, aliases, partners)
    _incoming(w, incoming, partners)
    return w.text()


class _Writer:
    """Lines of YAML, top-level sections separated by one blank line."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def line(self, text: str) -> None:
        self.lines.append(text)

    def blank(self) -> None:
        if self.lines and self.lines[-1] != "":
            self.lines.append("")

    def text(self) -> str:
        while self.lines and self.lines[-1] == "":
            self.lines.pop()
        return "\n".join(self.lines) + "\n"


def _header(w: _Writer, state: State, options: ExportOptions) -> None:
    if options.schema_ref:
        w.line(f"# yaml-language-server: $schema={options.schema_ref}")
        w.line("#")
    w.line("# Written by `bcsync export`" + (f" from {options.source}" if options.source else ""))
    w.line("# Review it, then `bcsync plan` should say: No changes.")
    w.line("version: 1")
    w.blank()
    w.line("business_center:")
    w.line(f"  id: {quote(state.bc_id)}")
    if options.bc_name:
        w.line(f"  name: {quote(options.bc_name)}")
    w.blank()
    w.line("provider:")
    for key in ordered(("provider",), list(options.provider)):
        value = options.provider[key]
        w.line(f"  {key}: {value if isinstance(value, int) else quote(value)}")
    w.blank()


def _policy(w: _Writer, state: State, emails: Sequence[str]) -> None:
    floor = admin_floor(state, emails)
    w.line("policy:")
    if floor < DEFAULT_MIN_ADMINS:
        w.line(f"  # The Business Center has {floor} admin(s) today, so the export asks for")
        w.line(f"  # {floor}: raise this to {DEFAULT_MIN_ADMINS} once a second admin has joined.")
    w.line(f"  min_admins: {floor}")
    w.line("  max_removals: 25%")
    w.line("  # Consider required_admins: [...] and protected: [...] for the owners.")
    w.blank()


def _assets(w: _Writer, state: State, aliases: Mapping[AssetKey, str]) -> None:
    if not aliases:
        return
    w.line("assets:")
    for asset_type in AssetType:
        keys = {alias: key for key, alias in aliases.items() if key.type is asset_type}
        if not keys:
            continue
        w.line(f"  {asset_type.value}:")
        for alias in ordered(("assets", asset_type.value), list(keys)):
            key = keys[alias]
            name = state.assets[key].name
            note = f"  # {_comment(name)}" if name and name != alias else ""
            w.line(f"    {quote(alias)}: {quote(key.id)}{note}")
    w.blank()


def _comment(text: str) -> str:
    """A name safe to put in a comment: one printable line, at most 100 characters."""
    return "".join(c if c.isprintable() else " " for c in text)[:100].strip()


def _members(
    w: _Writer,
    state: State,
    emails: Sequence[str],
    access: Mapping[str, Access],
    member_group: Mapping[str, str],
) -> None:
    if not emails:
        return
    w.line("members:")
    for email in emails:
        member = state.members[email]
        fields = [f"role: {member.role.value}"]
        if member.finance_role is not None:
            fields.append(f"finance_role: {member.finance_role.value}")
        if member.name and member.status is MemberStatus.BOUND and len(member.name) <= 250:
            fields.append(f"name: {quote(member.name)}")
        group = member_group.get(email)
        granted = access.get(email) if group is None else None
        if group is not None:
            fields.append(f"groups: [{quote(group)}]")
        note = "  # invited, not yet accepted" if member.status is MemberStatus.PENDING else ""
        if not granted:
            w.line(f"  {quote(email)}: {{ {', '.join(fields)} }}{note}")
            continue
        w.line(f"  {quote(email)}:{note}")
        for item in fields:
            w.line(f"    {item}")
        _access(w, granted, indent=4)
    w.blank()


def _access(w: _Writer, access: Access, indent: int) -> None:
    pad = " " * indent
    w.line(f"{pad}access:")
    for section in ordered(("members", "*", "access"), list(access)):
        grants = access[section]
        items = ", ".join(
            f"{quote(alias)}: {_role_text(grants[alias])}"
            for alias in ordered(("members", "*", "access", section), list(grants))
        )
        w.line(f"{pad}  {section}: {{ {items} }}")


def _role_text(role: str | list[str]) -> str:
    if isinstance(role, list):
        return "[" + ", ".join(role) + "]"
    return role


def _partners(
    w: _Writer, state: State, aliases: Mapping[AssetKey, str], partner_alias: Mapping[str, str]
) -> None:
    if not state.partners:
        return
    w.line("partners:")
    by_alias = {alias: bc_id for bc_id, alias in partner_alias.items()}
    for alias in ordered(("partners",), list(by_alias)):
        bc_id = by_alias[alias]
        partner = state.partners[bc_id]
        w.line(f"  {quote(alias)}:")
        w.line(f"    bc_id: {quote(bc_id)}")
        if partner.name:
            w.line(f"    name: {quote(partner.name)}")
        shares: Access = {}
        for share in state.shares.values():
            if share.partner == bc_id and share.asset in aliases:
                section = shares.setdefault(share.asset.type.value, {})
                section[aliases[share.asset]] = share.role
        if shares:
            _access(w, shares, indent=4)


INCOMING_SECTIONS = {AssetType.AD_ACCOUNT: "ad_accounts", AssetType.CATALOG: "catalogs"}


def _incoming(
    w: _Writer, incoming: Sequence[IncomingShare], partner_alias: Mapping[str, str]
) -> None:
    """`incoming:`, when TikTok names the partner of every asset shared with the BC. An asset no
    partner's list names cannot be declared (its partner's BC id is unknown), and a partial
    section would report it as unexpected: then a comment says why the section is left out."""
    if not incoming:
        return
    unnamed = sorted(
        s.asset.id
        for s in incoming
        if not (s.partner in partner_alias and s.role and s.asset.type in INCOMING_SECTIONS)
    )
    w.blank()
    if unnamed:
        w.line(f"# incoming: not written: TikTok names no partner for {len(unnamed)} asset(s)")
        w.line(f"# shared with this BC ({', '.join(unnamed)}). Declare `incoming:` by hand once")
        w.line("# you know their partners' BC ids: with it, plan and drift check every share.")
        return
    by_partner: dict[str, dict[str, dict[str, str]]] = {}
    for share in incoming:
        section = INCOMING_SECTIONS[share.asset.type]
        by_partner.setdefault(share.partner, {}).setdefault(section, {})[share.asset.id] = str(
            share.role
        )
    by_alias = {partner_alias[p]: p for p in by_partner}
    w.line("incoming:")
    for alias in ordered(("incoming",), list(by_alias)):
        bc_id = by_alias[alias]
        w.line(f"  {quote(alias)}:")
        w.line(f"    bc_id: {quote(bc_id)}")
        for section in ordered(("incoming", alias), list(by_partner[bc_id])):
            w.line(f"    {section}:")
            held = by_partner[bc_id][section]
            for asset_id in ordered(("incoming", alias, section), list(held)):
                w.line(f"      {quote(asset_id)}: {held[asset_id]}")
