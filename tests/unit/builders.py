"""Model objects built by hand for the core's tests (diff, plan, safety, render)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date

from bcsync.core.model import (
    Asset,
    AssetKey,
    BusinessCenterConfig,
    FinanceRole,
    Grant,
    Member,
    MemberRole,
    MemberStatus,
    Partner,
    PartnerShare,
    Policy,
    ProviderSettings,
    State,
)

BC = "7012345678901234567"
AGENCY = "7200000000000000009"

Entry = Member | Grant | Partner | PartnerShare


def member(
    email: str,
    role: str = "standard",
    finance: str | None = None,
    status: str | None = None,
) -> Member:
    """A member; with a status it is an actual one (bound members get a user id)."""
    return Member(
        email=email,
        role=MemberRole(role),
        finance_role=FinanceRole(finance) if finance else None,
        status=MemberStatus(status) if status else None,
        user_id=f"uid-{email}" if status == "bound" else None,
    )


def bound(email: str, role: str = "standard", finance: str | None = None) -> Member:
    return member(email, role, finance, status="bound")


def state(
    entries: Iterable[Entry],
    assets: Iterable[AssetKey],
    aliases: Mapping[AssetKey, str] | None = None,
) -> State:
    """A State holding `entries` (members, grants, partners, shares) and `assets`."""
    entries = list(entries)
    aliases = aliases or {}
    return State(
        bc_id=BC,
        members={e.email: e for e in entries if isinstance(e, Member)},
        assets={a: Asset(a, alias=aliases.get(a)) for a in assets},
        grants={e.key: e for e in entries if isinstance(e, Grant)},
        partners={e.bc_id: e for e in entries if isinstance(e, Partner)},
        shares={e.key: e for e in entries if isinstance(e, PartnerShare)},
    )


def bc_config(
    desired: State,
    *,
    policy: Policy,
    digest: str = "sha256:" + "0" * 64,
    expired: Mapping[object, date] | None = None,
    asset_aliases: Mapping[AssetKey, str] | None = None,
    partner_aliases: Mapping[str, str] | None = None,
) -> BusinessCenterConfig:
    """The BusinessCenterConfig of bcsync.yaml for Acme Retail with this desired state."""
    return BusinessCenterConfig(
        path="bcsync.yaml",
        bc_id=BC,
        name="Acme Retail",
        provider=ProviderSettings(),
        policy=policy,
        desired=desired,
        digest=digest,
        expired=expired or {},
        asset_aliases=asset_aliases or {},
        partner_aliases=partner_aliases or {},
    )
