"""The effective access matrix: who can reach which asset, at what level, and why. Pure, no I/O.

One `AccessRow` per (principal, asset): a member's role in the BC itself, a member's grant on an
asset, a partner's relation to the BC, a partner's share of an asset. Built from the desired
state alone (`--offline`) or compared with the actual state, in which case every row says how
the two differ. Access the config does not manage (ignored members, asset groups) gets rows of
its own, so nothing a live BC grants is invisible to an auditor.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Protocol, TypeVar

from bcsync.core.incoming import UNKNOWN_PARTNER, IncomingShare
from bcsync.core.model import (
    Asset,
    AssetKey,
    BusinessCenterConfig,
    Member,
    MemberRole,
    MemberStatus,
    State,
    is_managed,
)

K = TypeVar("K")

BC_ASSET = "business_center"  # the asset type of a membership (or partnership) row
# Desired members have no status; actual ones count when they have joined.
_JOINED = (None, MemberStatus.BOUND)


class Status(StrEnum):
    """How a row's config side compares with the BC."""

    CONFIG = "config"  # offline: from the config, the BC was not read
    OK = "ok"  # in config and BC, same role
    MISSING = "missing in BC"  # in config, not in BC (apply would add it)
    NOT_IN_CONFIG = "not in config"  # in BC, not in config (apply would remove it)
    ROLE_DIFFERS = "role differs"
    IGNORED = "ignored"  # in BC, member matched by policy.ignore_members: never managed
    ASSET_GROUP = "asset group"  # in BC through an asset group: not managed by bcsync
    ADMIN_ROLE = "admin role"  # a BC admin reaches every asset: shown per asset, not a grant
    # Shared with a partner, of a type whose shares bcsync does not manage (asset/partner/get).
    PARTNER_SHARE = "partner share"
    INCOMING = "incoming"  # a partner's asset shared with this BC; the config expects nothing


class Kind(StrEnum):
    MEMBER = "member"
    PARTNER = "partner"
    # A partner's asset this BC can reach (the principal is the partner that shares it).
    INCOMING = "incoming"


@dataclass(frozen=True, slots=True)
class AccessRow:
    """One principal's access to one asset (or to the BC itself)."""

    bc_id: str
    bc_name: str
    kind: Kind
    principal: str  # lower-cased email, or partner BC id
    principal_name: str  # email, or the partner's alias / name
    asset_type: str  # an AssetType value, or BC_ASSET
    asset_id: str
    asset_name: str  # alias, the BC's name for it, or the id
    role: str | None  # the config's role (None: not in config)
    actual_role: str | None  # the BC's role (None: not in BC, or not read)
    sources: tuple[str, ...]  # FILE:LINE, or "group G (member FILE:LINE)"
    expires: date | None
    reason: str | None
    status: Status
    note: str | None = None


@dataclass(frozen=True, slots=True)
class BCSummary:
    """Per BC: where its config is, whether it was read, and the assets it doesn't manage."""

    bc_id: str
    bc_name: str
    path: str
    read: bool
    unmanaged_assets: tuple[Asset, ...] = ()
    digest: str = ""  # the config's digest, as plans record it
    read_at: str | None = None  # when the BC was read (UTC, ISO 8601); None: offline
    read_via: str | None = None  # how: the provider and where it reached


@dataclass(frozen=True, slots=True)
class Provenance:
    """Where a report comes from, so it can be handed over as evidence."""

    tool_version: str
    generated_at: str  # UTC, ISO 8601
    git_commit: str | None  # HEAD of the checkout holding the configs; None outside one
    git_dirty: bool | None  # uncommitted changes in that checkout; None outside one


@dataclass(frozen=True)
class AccessReport:
    """The matrix across every BC of a run."""

    rows: list[AccessRow]
    bcs: list[BCSummary]
    offline: bool
    as_of: date
    provenance: Provenance | None = None
    # Partners' assets shared with these BCs (Kind.INCOMING): a section of their own.
    incoming: list[AccessRow] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """Rows per status, for summaries."""
        out: dict[str, int] = {}
        for row in self.rows:
            out[row.status.value] = out.get(row.status.value, 0) + 1
        return out

    @property
    def differences(self) -> list[AccessRow]:
        """Rows where the BC and the config disagree (unmanaged access not counted)."""
        diff = {Status.MISSING, Status.NOT_IN_CONFIG, Status.ROLE_DIFFERS}
        return [r for r in self.rows if r.status in diff]


class AssetPartnerLike(Protocol):
    """What the report needs of `providers.base.AssetPartner`."""

    @property
    def asset(self) -> AssetKey: ...
    @property
    def partner(self) -> str: ...
    @property
    def partner_name(self) -> str | None: ...


class GroupAccessLike(Protocol):
    """What the report needs of `providers.base.AssetGroupAccess` (kept pure and decoupled)."""

    @property
    def group_id(self) -> str: ...
    @property
    def group_name(self) -> str | None: ...
    @property
    def member(self) -> str: ...
    @property
    def asset(self) -> AssetKey: ...
    @property
    def role(self) -> str: ...


@dataclass(frozen=True)
class Observed:
    """What reading one BC gave: its state, the assets the config doesn't declare, asset groups."""

    state: State
    unmanaged_assets: tuple[Asset, ...] = ()
    group_access: Sequence[GroupAccessLike] = field(default_factory=tuple)
    read_at: str | None = None  # when the read ended (UTC, ISO 8601)
    read_via: str | None = None  # the provider and where it reached
    # What partners share with the BC (None: not read), and whom declared assets are shared with.
    incoming: Sequence[IncomingShare] | None = None
    asset_partners: Sequence[AssetPartnerLike] = field(default_factory=tuple)


def explain_source(source: str, member: Member | None) -> str:
    """A grant's source for people: a group source names the member line that joins it."""
    if member is not None and member.source and source.startswith("group "):
        return f"{source} (member {member.source})"
    return source


def build_report(
    configs: Sequence[BusinessCenterConfig],
    observed: Mapping[str, Observed] | None,
    as_of: date,
    provenance: Provenance | None = None,
) -> AccessReport:
    """The matrix of every BC; `observed` (by bc_id) None means offline, from config alone."""
    rows: list[AccessRow] = []
    bcs: list[BCSummary] = []
    incoming: list[AccessRow] = []
    for config in configs:
        seen = None if observed is None else observed.get(config.bc_id)
        rows.extend(bc_rows(config, seen))
        incoming.extend(incoming_rows(config, seen))
        bcs.append(
            BCSummary(
                bc_id=config.bc_id,
                bc_name=config.name or config.bc_id,
                path=config.path,
                read=seen is not None,
                unmanaged_assets=seen.unmanaged_assets if seen else (),
                digest=config.digest,
                read_at=seen.read_at if seen else None,
                read_via=seen.read_via if seen else None,
            )
        )
    return AccessReport(rows, bcs, observed is None, as_of, provenance, incoming)


def bc_rows(config: BusinessCenterConfig, seen: Observed | None) -> Iterator[AccessRow]:
    """Every row of one BC, members first, then partners."""
    row = _RowMaker(config, seen.state if seen else None)
    yield from row.members()
    yield from row.grants()
    if seen is not None:
        yield from row.group_access(seen.group_access)
    yield from row.admin_access(seen.unmanaged_assets if seen else ())
    yield from row.partners()
    yield from row.shares()
    if seen is not None:
        yield from row.asset_partners(seen.asset_partners)


def incoming_rows(config: BusinessCenterConfig, seen: Observed | None) -> Iterator[AccessRow]:
    """The partners' assets shared with one BC: expected (`incoming:`) and read."""
    return _RowMaker(config, seen.state if seen else None).incoming(seen.incoming if seen else None)


def _member_role(member: Member | None) -> str | None:
    if member is None:
        return None
    if member.finance_role is None:
        return member.role.value
    return f"{member.role.value}, finance {member.finance_role.value}"


class _RowMaker:
    """Builds one BC's rows; `actual` None means offline."""

    def __init__(self, config: BusinessCenterConfig, actual: State | None) -> None:
        self.config = config
        self.desired = config.desired
        self.actual = actual
        self.name = config.name or config.bc_id
        names = {k: a.name for k, a in actual.assets.items() if a.name} if actual else {}
        self.asset_names: dict[AssetKey, str] = {**names, **config.asset_aliases}
        self._assets: dict[AssetKey | None, tuple[str, str, str]] = {}

    def _status(self, role: str | None, actual_role: str | None, email: str) -> Status:
        if self.actual is None:
            return Status.CONFIG
        if role is None:
            return Status.IGNORED if self._ignored(email) else Status.NOT_IN_CONFIG
        if actual_role is None:
            return Status.MISSING
        return Status.OK if role == actual_role else Status.ROLE_DIFFERS

    def _asset(self, asset: AssetKey | None) -> tuple[str, str, str]:
        """(type, id, name) columns of an asset (None: the BC itself), computed once each."""
        found = self._assets.get(asset)
        if found is None:
            if asset is None:
                found = (BC_ASSET, self.config.bc_id, self.name)
            else:
                found = (asset.type.value, asset.id, self.asset_names.get(asset, asset.id))
            self._assets[asset] = found
        return found

    def _row(
        self, kind: Kind, who: str, who_name: str, asset: AssetKey | None, **kw: object
    ) -> AccessRow:
        atype, aid, aname = self._asset(asset)
        return AccessRow(
            bc_id=self.config.bc_id,
            bc_name=self.name,
            kind=kind,
            principal=who,
            principal_name=who_name,
            asset_type=atype,
            asset_id=aid,
            asset_name=aname,
            **kw,  # type: ignore[arg-type]  # the row's optional fields, typed at the call
        )

    def _ignored(self, email: str) -> bool:
        """Members only (partners pass ""): a pattern like "*" must not hide a partner."""
        return bool(email) and self.config.policy.is_ignored(email)

    def members(self) -> Iterator[AccessRow]:
        actual = self.actual.members if self.actual else {}
        policy = self.config.policy
        for email in _union(self.desired.members, actual):
            want, have = self.desired.members.get(email), actual.get(email)
            gone = have is not None and not is_managed(have, policy) and not self._ignored(email)
            if want is None and gone:
                continue  # declined or former: not a member, and apply removes nothing
            role, actual_role = _member_role(want), _member_role(have)
            if have is not None and want is not None and not is_managed(have, policy):
                actual_role = None  # a declined invitee has no role in the BC
            note = None
            if have is not None and have.status is not None and have.status.value != "bound":
                note = f"invitation {have.status.value}"
            yield self._row(
                Kind.MEMBER,
                email,
                email,
                None,
                role=role,
                actual_role=actual_role,
                sources=(want.source,) if want and want.source else (),
                expires=want.expires if want else None,
                reason=want.reason if want else None,
                status=self._status(role, actual_role, email),
                note=note,
            )

    def grants(self) -> Iterator[AccessRow]:
        """Grant rows; the hot loop of the report (100,000 grants): positional, cached columns."""
        actual = self.actual.grants if self.actual else {}
        members = self.desired.members
        bc_id, name, member_kind = self.config.bc_id, self.name, Kind.MEMBER
        for key in _union(self.desired.grants, actual):
            want, have = self.desired.grants.get(key), actual.get(key)
            asset, email = key
            atype, aid, aname = self._asset(asset)
            role = want.role if want else None
            actual_role = have.role if have else None
            if want is not None:
                member = members.get(email)
                sources = tuple([explain_source(s, member) for s in want.sources])
            else:
                sources = ()
            yield AccessRow(
                bc_id,
                name,
                member_kind,
                email,
                email,
                atype,
                aid,
                aname,
                role,
                actual_role,
                sources,
                want.expires if want else None,
                want.reason if want else None,
                self._status(role, actual_role, email),
                self._pending_note(email) if want and not have else None,
            )

    def _pending_note(self, email: str) -> str | None:
        member = self.actual.members.get(email) if self.actual else None
        if member is None and self.actual is not None:
            return "not a member yet"
        if member is not None and member.status is not None and member.status.value != "bound":
            return f"invitation {member.status.value}"
        return None

    def group_access(self, access: Iterable[GroupAccessLike]) -> Iterator[AccessRow]:
        for entry in access:
            label = entry.group_name or entry.group_id
            yield self._row(
                Kind.MEMBER,
                entry.member,
                entry.member,
                entry.asset,
                role=None,
                actual_role=entry.role,
                sources=(f"asset group {label} ({entry.group_id})",),
                expires=None,
                reason=None,
                status=Status.ASSET_GROUP,
            )

    def admin_access(self, unmanaged: Iterable[Asset]) -> Iterator[AccessRow]:
        """A BC admin reaches every asset of the BC: one row per admin and asset, so filtering
        on an asset shows its admins too (marked as coming from the admin role)."""
        actual = self.actual.members if self.actual else {}
        admins = [
            e
            for e in _union(self.desired.members, actual)
            if _is_admin(self.desired.members.get(e)) or _is_admin(actual.get(e))
        ]
        assets = [*self.desired.assets, *(a.key for a in unmanaged)]
        for email in admins:
            want = self.desired.members.get(email)
            role = "admin" if _is_admin(want) else None
            actual_role = ("admin" if _is_admin(actual.get(email)) else None) if actual else None
            line = f" (member {want.source})" if want and want.source else ""
            for asset in assets:
                yield self._row(
                    Kind.MEMBER,
                    email,
                    email,
                    asset,
                    role=role,
                    actual_role=actual_role,
                    sources=(f"admin role{line}",),
                    expires=want.expires if want and role else None,
                    reason=None,
                    status=Status.ADMIN_ROLE,
                    note="BC admins reach every asset",
                )

    def _partner_name(self, bc_id: str) -> str:
        alias = self.config.partner_aliases.get(bc_id)
        partner = self.desired.partners.get(bc_id) or (
            self.actual.partners.get(bc_id) if self.actual else None
        )
        name = partner.name if partner and partner.name else None
        if alias and name:
            return f"{alias} ({name})"
        return alias or name or bc_id

    def partners(self) -> Iterator[AccessRow]:
        actual = self.actual.partners if self.actual else {}
        for bc_id in _union(self.desired.partners, actual):
            want, have = self.desired.partners.get(bc_id), actual.get(bc_id)
            role = "partner" if want else None
            actual_role = "partner" if have else None
            yield self._row(
                Kind.PARTNER,
                bc_id,
                self._partner_name(bc_id),
                None,
                role=role,
                actual_role=actual_role,
                sources=(want.source,) if want and want.source else (),
                expires=want.expires if want else None,
                reason=want.reason if want else None,
                status=self._status(role, actual_role, ""),
            )

    def shares(self) -> Iterator[AccessRow]:
        actual = self.actual.shares if self.actual else {}
        for key in _union(self.desired.shares, actual):
            want, have = self.desired.shares.get(key), actual.get(key)
            role, actual_role = (want.role if want else None), (have.role if have else None)
            yield self._row(
                Kind.PARTNER,
                key[0],
                self._partner_name(key[0]),
                key[1],
                role=role,
                actual_role=actual_role,
                sources=(want.source,) if want and want.source else (),
                expires=want.expires if want else None,
                reason=want.reason if want else None,
                status=self._status(role, actual_role, ""),
            )

    def asset_partners(self, found: Iterable[AssetPartnerLike]) -> Iterator[AccessRow]:
        """Shares bc/asset/partner/get names that no share row shows (pixels, TikTok accounts
        and other types whose shares bcsync does not manage; TikTok reports no role for them)."""
        shown = {*self.desired.shares, *(self.actual.shares if self.actual else {})}
        for entry in found:
            if (entry.partner, entry.asset) in shown:
                continue
            alias = self.config.partner_aliases.get(entry.partner)
            name = alias or entry.partner_name or entry.partner
            yield self._row(
                Kind.PARTNER,
                entry.partner,
                f"{name} (BC {entry.partner})" if name != entry.partner else name,
                entry.asset,
                role=None,
                actual_role="shared",
                sources=("bc/asset/partner/get",),
                expires=None,
                reason=None,
                status=Status.PARTNER_SHARE,
                note="shared with the partner; TikTok reports no role, bcsync does not manage it",
            )

    def incoming(self, shares: Sequence[IncomingShare] | None) -> Iterator[AccessRow]:
        """One row per incoming share: partner (by id), asset, expected and actual role."""
        expected = self.config.incoming or {}
        actual = {s.key: s for s in shares or ()}
        aliases = {**self.config.partner_aliases, **self.config.incoming_aliases}
        checked = self.config.incoming is not None
        for key in _union(expected, actual):
            want, have = expected.get(key), actual.get(key)
            partner, asset = key
            role = want.role if want else None
            actual_role = have.role if have else None
            if self.actual is None:
                status = Status.CONFIG
            elif shares is None:
                continue
            elif not checked:
                status = Status.INCOMING
            else:
                status = self._status(role, actual_role or ("shared" if have else None), "")
            alias = aliases.get(partner) or (have.partner_name if have else None)
            who = f"{alias} (BC {partner})" if alias else (f"BC {partner}" if partner else "")
            atype, aid = asset.type.value, asset.id
            yield AccessRow(
                bc_id=self.config.bc_id,
                bc_name=self.name,
                kind=Kind.INCOMING,
                principal=partner,
                principal_name=who or UNKNOWN_PARTNER,
                asset_type=atype,
                asset_id=aid,
                asset_name=(have.asset_name if have else None) or aid,
                role=role,
                actual_role=actual_role,
                sources=(want.source,) if want and want.source else (),
                expires=None,
                reason=want.reason if want else None,
                status=status,
                note="shared with this BC by the partner; only the partner can change it",
            )


def _is_admin(member: Member | None) -> bool:
    return member is not None and member.role is MemberRole.ADMIN and member.status in _JOINED


def _union(first: Mapping[K, object], second: Mapping[K, object]) -> list[K]:
    """Keys of both mappings, the first's order then the second's extras (stable output)."""
    return [*first, *(k for k in second if k not in first)]
