"""The domain model: frozen dataclasses and enums, no I/O.

A `State` is one Business Center's permissions, either desired (built from config) or actual
(read through a provider). Both use the same keys, so diffing is set arithmetic:

- member key: lower-cased email
- asset key: `AssetKey(type, id)`
- grant key: `(AssetKey, member email)` -> role
- partner key: partner BC id
- partner share key: `(partner BC id, AssetKey)` -> role

Fields that describe where a value came from (`source`, `sources`, names, user ids) are excluded
from equality, so a desired and an actual entry compare equal exactly when the BC would not change.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from fnmatch import fnmatchcase
from typing import Any, NamedTuple


class AssetType(StrEnum):
    """Asset types a member can be given a role on; values are the config's section names."""

    AD_ACCOUNT = "ad_accounts"
    CATALOG = "catalogs"
    TIKTOK_ACCOUNT = "tiktok_accounts"
    SHOP = "shops"
    STOREFRONT = "storefronts"
    LEAD_FORM = "lead_forms"
    PIXEL = "pixels"


class MemberRole(StrEnum):
    ADMIN = "admin"
    STANDARD = "standard"


class FinanceRole(StrEnum):
    MANAGER = "manager"
    ANALYST = "analyst"


class MemberStatus(StrEnum):
    """A member's relation to the BC, as the API reports it (lower-cased)."""

    BOUND = "bound"
    PENDING = "pending"
    REJECTED = "rejected"
    UNBOUND = "unbound"


# Roles per asset type, weakest first; "the stronger role wins" means the later one.
ROLES: Mapping[AssetType, tuple[str, ...]] = {
    AssetType.AD_ACCOUNT: ("analyst", "operator", "admin"),
    AssetType.CATALOG: ("ad_promote", "admin"),
    AssetType.SHOP: ("ad_promotion", "manager"),
    AssetType.STOREFRONT: ("ad_promotion", "manager"),  # the same store_role as shops (SDK)
    AssetType.LEAD_FORM: ("admin",),
    # Pixels carry no role on the wire: access is presence alone, written "access" in config.
    AssetType.PIXEL: ("access",),
    # TikTok accounts take a *set* of permissions (tt_account_roles[]), not a ranked role.
    AssetType.TIKTOK_ACCOUNT: ("post", "live", "direct_message"),
}

# Asset types whose grant is presence alone: the API reads back no role field for them
# (lead forms: `form_library_role` is in no response; pixels: no role at all), so an existing
# grant is read as the type's single role.
PRESENCE_TYPES: frozenset[AssetType] = frozenset({AssetType.LEAD_FORM, AssetType.PIXEL})

# Asset types whose role is a set of permissions; the canonical role string joins them sorted.
MULTI_ROLE_TYPES: frozenset[AssetType] = frozenset({AssetType.TIKTOK_ACCOUNT})

MAX_MEMBERS = 4000
MAX_ADMINS = 20


def canonical_role(asset_type: AssetType, role: str | list[str] | tuple[str, ...]) -> str:
    """The canonical role string: lower case; for multi-role types the sorted, comma-joined set."""
    if type(role) is str and asset_type not in MULTI_ROLE_TYPES:
        return role.lower()  # the common case, on the hot path of building 100,000 grants
    if isinstance(role, list | tuple):
        parts = sorted({str(r).lower() for r in role})
        return ",".join(parts)
    if asset_type in MULTI_ROLE_TYPES:
        return ",".join(sorted({p.strip().lower() for p in role.split(",") if p.strip()}))
    return role.lower()


def role_parts(role: str) -> tuple[str, ...]:
    """The permissions in a (possibly multi-valued) canonical role string."""
    return tuple(p for p in role.split(",") if p)


def stronger_role(asset_type: AssetType, a: str, b: str) -> str:
    """Combine two roles on one asset: the stronger ranked role, or the union of permission sets."""
    if asset_type in MULTI_ROLE_TYPES:
        return ",".join(sorted(set(role_parts(a)) | set(role_parts(b))))
    order = ROLES[asset_type]
    rank_a = order.index(a) if a in order else -1
    rank_b = order.index(b) if b in order else -1
    return a if rank_a >= rank_b else b


class AssetStatus(StrEnum):
    """An asset's binding to the BC (`relation_status` of /bc/asset/admin/get/, lower-cased)."""

    BOUND = "bound"
    PENDING = "pending"
    UNBOUND = "unbound"
    REJECTED = "rejected"


class AssetKey(NamedTuple):
    """(asset type, asset id): a tuple, so hashing and comparing run in C (100,000 grants)."""

    type: AssetType
    id: str

    def __str__(self) -> str:
        # str() of a StrEnum is its value, and much faster than the `.value` property.
        return str(self.type) + "/" + self.id


@dataclass(frozen=True, slots=True)
class Asset:
    key: AssetKey
    alias: str | None = field(default=None, compare=False)
    name: str | None = field(default=None, compare=False)
    # Only a BOUND asset can be assigned or shared; others are planned as explained no-ops.
    status: AssetStatus = field(default=AssetStatus.BOUND, compare=False)
    # Shared with this BC by a partner (asset/admin/get relation_type OWNER_PARTNER), not owned.
    incoming: bool = field(default=False, compare=False)


@dataclass(frozen=True, slots=True)
class Member:
    email: str
    role: MemberRole
    finance_role: FinanceRole | None = None
    # Desired members have no status; actual ones carry what the API reported.
    status: MemberStatus | None = field(default=None, compare=False)
    user_id: str | None = field(default=None, compare=False)
    name: str | None = field(default=None, compare=False)
    source: str | None = field(default=None, compare=False)
    expires: date | None = field(default=None, compare=False)
    # The config's `reason:` for this entry, shown to reviewers and auditors (desired only).
    reason: str | None = field(default=None, compare=False)


GrantKey = tuple[AssetKey, str]
ShareKey = tuple[str, AssetKey]


@dataclass(frozen=True, slots=True)
class Grant:
    asset: AssetKey
    member: str
    role: str
    # Where the grant came from: "group media-buyers", "bcsync.yaml:12", ... (desired only).
    sources: tuple[str, ...] = field(default=(), compare=False)
    expires: date | None = field(default=None, compare=False)
    reason: str | None = field(default=None, compare=False)

    @property
    def key(self) -> GrantKey:
        return (self.asset, self.member)


@dataclass(frozen=True, slots=True)
class Partner:
    bc_id: str
    alias: str | None = field(default=None, compare=False)
    name: str | None = field(default=None, compare=False)
    source: str | None = field(default=None, compare=False)
    expires: date | None = field(default=None, compare=False)
    reason: str | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class PartnerShare:
    partner: str
    asset: AssetKey
    role: str
    source: str | None = field(default=None, compare=False)
    expires: date | None = field(default=None, compare=False)
    reason: str | None = field(default=None, compare=False)

    @property
    def key(self) -> ShareKey:
        return (self.partner, self.asset)


@dataclass(frozen=True)
class State:
    """One BC's permissions. Treat the mappings as read-only."""

    bc_id: str
    members: Mapping[str, Member] = field(default_factory=dict)
    assets: Mapping[AssetKey, Asset] = field(default_factory=dict)
    grants: Mapping[GrantKey, Grant] = field(default_factory=dict)
    partners: Mapping[str, Partner] = field(default_factory=dict)
    shares: Mapping[ShareKey, PartnerShare] = field(default_factory=dict)

    def canonical(self) -> dict[str, Any]:
        """A JSON-ready, order-independent form: the input of `fingerprint`."""
        return {
            "bc_id": self.bc_id,
            "members": [
                {
                    "email": m.email,
                    "role": m.role.value,
                    "finance_role": m.finance_role.value if m.finance_role else None,
                    "status": m.status.value if m.status else None,
                    "user_id": m.user_id,
                }
                for _, m in sorted(self.members.items())
            ],
            # One string per entry ("ad_accounts/71... bob@acme.com operator"): sorting 100,000
            # strings is three times faster than sorting lists (no part holds a space).
            "assets": sorted(str(k) for k in self.assets),
            "grants": sorted(f"{g.asset} {g.member} {g.role}" for g in self.grants.values()),
            "partners": sorted(self.partners),
            "shares": sorted(f"{s.partner} {s.asset} {s.role}" for s in self.shares.values()),
        }

    def fingerprint(self) -> str:
        """SHA-256 of the canonical JSON: equal states have equal fingerprints."""
        blob = json.dumps(self.canonical(), sort_keys=True, separators=(",", ":"))
        return "sha256:" + hashlib.sha256(blob.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class RemovalLimit:
    """`max_removals`: a percentage of existing managed entries, or an absolute count."""

    value: float
    percent: bool = True

    def allows(self, removals: int, existing: int) -> bool:
        if self.percent:
            return existing == 0 or removals * 100 <= self.value * existing
        return removals <= self.value

    def __str__(self) -> str:
        return f"{self.value:g}%" if self.percent else f"{int(self.value)}"


@dataclass(frozen=True, slots=True)
class Policy:
    min_admins: int = 2
    required_admins: tuple[str, ...] = ()
    max_removals: RemovalLimit = RemovalLimit(25.0)
    # Below this many existing managed entries the removal threshold does not apply.
    removal_threshold_floor: int = 10
    protected: tuple[str, ...] = ()
    ignore_members: tuple[str, ...] = ()

    def is_ignored(self, email: str) -> bool:
        return matches_ignored(email, self.ignore_members)

    def is_protected_member(self, email: str) -> bool:
        return email.lower() in {p.lower() for p in self.protected if not p.startswith("partner:")}

    def is_protected_partner(self, bc_id: str, alias: str | None = None) -> bool:
        names = {p.split(":", 1)[1] for p in self.protected if p.startswith("partner:")}
        return bc_id in names or (alias is not None and alias in names)


def matches_ignored(email: str, patterns: Iterable[str]) -> bool:
    """Whether an email matches one of `ignore_members`' fnmatch patterns (case-insensitive)."""
    lower = email.lower()
    return any(fnmatchcase(lower, pattern.lower()) for pattern in patterns)


# The statuses of a member bcsync manages: joined, or invited and not yet answered. A declined
# invitation (REJECTED) and a former member (UNBOUND) are not members: nothing to take away.
MANAGED_STATUSES: frozenset[MemberStatus | None] = frozenset(
    {MemberStatus.BOUND, MemberStatus.PENDING, None}
)


def is_managed(member: Member, policy: Policy) -> bool:
    """THE definition of a managed actual member: a member or invitee not matched by
    `ignore_members`. Diff, guards, drift, report and the config rules all ask this."""
    return member.status in MANAGED_STATUSES and not policy.is_ignored(member.email)


def managed_members(state: State, policy: Policy) -> dict[str, Member]:
    """The state's managed members (see `is_managed`), by email."""
    return {email: m for email, m in state.members.items() if is_managed(m, policy)}


class ProviderType(StrEnum):
    LOCAL = "local"
    EMULATOR = "emulator"
    TIKTOK = "tiktok"


TIKTOK_TOKEN_ENV = "TIKTOK_ACCESS_TOKEN"
# A served emulator is not TikTok: it never reads the TikTok token.
EMULATOR_TOKEN_ENV = "BCSYNC_EMULATOR_TOKEN"


@dataclass(frozen=True, slots=True)
class ProviderSettings:
    """Where one BC's calls go; `token_env` "" means the type's default variable."""

    type: ProviderType = ProviderType.LOCAL
    url: str | None = None
    # Absolute or config-relative path of the local emulator's seed file.
    seed: str | None = None
    # The local provider reads no token: the field is kept, and ignored, for it.
    token_env: str = ""
    qps: int | None = None
    qpm: int | None = None

    def __post_init__(self) -> None:
        if not self.token_env:
            default = EMULATOR_TOKEN_ENV if self.type is ProviderType.EMULATOR else TIKTOK_TOKEN_ENV
            object.__setattr__(self, "token_env", default)


@dataclass(frozen=True, slots=True)
class IncomingExpectation:
    """One asset a partner is expected to share with this BC (`incoming:`; core.incoming)."""

    partner: str
    alias: str
    asset: AssetKey
    role: str
    source: str | None = field(default=None, compare=False)
    reason: str | None = field(default=None, compare=False)

    @property
    def key(self) -> ShareKey:
        return (self.partner, self.asset)


@dataclass(frozen=True)
class BusinessCenterConfig:
    """One config file, checked and built: everything plan needs about one BC."""

    path: str
    bc_id: str
    name: str | None
    provider: ProviderSettings
    policy: Policy
    desired: State
    # sha256 of the file's bytes, for saved plans.
    digest: str
    # Entries dropped because they expired: member email, partner BC id, GrantKey or ShareKey
    # -> expiry date.
    expired: Mapping[object, date] = field(default_factory=dict)
    # Aliases as declared, for rendering: AssetKey -> alias, partner bc_id -> alias.
    asset_aliases: Mapping[AssetKey, str] = field(default_factory=dict)
    partner_aliases: Mapping[str, str] = field(default_factory=dict)
    # validate's warnings about this file ("FILE:LINE:COL: warning: ..."), carried into its plan
    # so a reviewer reading the plan sees what the command line printed.
    warnings: tuple[str, ...] = ()
    # `incoming:`: what partners are expected to share with this BC, by (partner BC id, asset);
    # None when the config has no such section (incoming shares are then shown, not checked).
    incoming: Mapping[ShareKey, IncomingExpectation] | None = None
    # Aliases of the partners `incoming:` names, by BC id (for rendering).
    incoming_aliases: Mapping[str, str] = field(default_factory=dict)
