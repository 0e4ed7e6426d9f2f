"""One in-memory Business Center behind the Provider protocol, shared by every core test.

`simulate(state, params)` is what a step does to a BC: the oracle the safety property test replays
plans on, and what `FakeProvider` does on each write. The provider also records every call, how
many ran at once, and fails the calls it is told to (by op name and first argument).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from bcsync.core.model import (
    AssetKey,
    AssetType,
    Grant,
    Member,
    MemberStatus,
    Partner,
    PartnerShare,
    State,
)
from bcsync.core.operations import (
    MAX_INVITE_EMAILS,
    MAX_SHARE_ASSETS,
    Assign,
    Invite,
    Params,
    RemoveMember,
    RemovePartner,
    Share,
    Unassign,
    Unshare,
    UpdateMember,
)
from bcsync.errors import ApiError, BcsyncError, NotFoundError
from bcsync.providers.base import ReadResult, Scope, WriteResult


def _by_user_id(state: State, user_id: str) -> Member:
    for m in state.members.values():
        if m.user_id == user_id and m.status is MemberStatus.BOUND:
            return m
    raise NotFoundError(f"no joined member with user id {user_id}")


def _without_member(state: State, email: str) -> State:
    members = {e: m for e, m in state.members.items() if e != email}
    grants = {k: g for k, g in state.grants.items() if g.member != email}
    return replace(state, members=members, grants=grants)


def simulate(state: State, params: Params, *, accept: bool = False) -> State:
    """The BC after one step; invitees join at once with `accept` (else they stay pending)."""
    match params:
        case Invite(emails, role, finance, ad_accounts, advertiser_role):
            if not 1 <= len(emails) <= MAX_INVITE_EMAILS:
                raise ApiError(f"invite takes 1 to {MAX_INVITE_EMAILS} emails", code=40002)
            members, grants = dict(state.members), dict(state.grants)
            for email in emails:
                status = MemberStatus.BOUND if accept else MemberStatus.PENDING
                user_id = f"uid-{email}" if accept else None
                members[email] = Member(email, role, finance, status=status, user_id=user_id)
                for account in ad_accounts if accept and advertiser_role else ():
                    asset = AssetKey(AssetType.AD_ACCOUNT, account)
                    grants[(asset, email)] = Grant(asset, email, str(advertiser_role))
            return replace(state, members=members, grants=grants)
        case UpdateMember(user_id, _, role, finance, name):
            have = _by_user_id(state, user_id)
            updated = replace(
                have, role=role, finance_role=finance or have.finance_role, name=name or have.name
            )
            return replace(state, members={**state.members, have.email: updated})
        case RemoveMember(email, user_id):
            found = _by_user_id(state, user_id) if user_id else state.members.get(email)
            if found is None:
                raise NotFoundError(f"no member or invitation for {email}")
            return _without_member(state, found.email)
        case Assign(user_id, _, asset, role):
            have = _by_user_id(state, user_id)
            if asset not in state.assets:
                raise NotFoundError(f"no asset {asset}")
            grant = Grant(asset, have.email, role)
            return replace(state, grants={**state.grants, grant.key: grant})
        case Unassign(user_id, _, asset):
            have = _by_user_id(state, user_id)
            grants = {k: g for k, g in state.grants.items() if k != (asset, have.email)}
            return replace(state, grants=grants)
        case Share(partner, asset_ids, role):
            if not 1 <= len(asset_ids) <= MAX_SHARE_ASSETS:
                raise ApiError(f"share takes 1 to {MAX_SHARE_ASSETS} assets", code=40002)
            partners = {**state.partners, partner: state.partners.get(partner, Partner(partner))}
            shares = dict(state.shares)
            for asset_id in asset_ids:
                share = PartnerShare(partner, AssetKey(AssetType.AD_ACCOUNT, asset_id), role)
                shares[share.key] = share
            return replace(state, partners=partners, shares=shares)
        case Unshare(partner, asset_type, asset_ids):
            gone = {(partner, AssetKey(asset_type, a)) for a in asset_ids}
            shares = {k: s for k, s in state.shares.items() if k not in gone}
            return replace(state, shares=shares)
        case RemovePartner(partner):
            if partner not in state.partners:
                raise NotFoundError(f"no partner {partner}")
            partners = {p: v for p, v in state.partners.items() if p != partner}
            shares = {k: s for k, s in state.shares.items() if s.partner != partner}
            return replace(state, partners=partners, shares=shares)
    raise AssertionError(f"unknown step parameters {params!r}")


@dataclass
class FakeProvider:
    """A Provider over an in-memory `State`: writes change it, `read_state` returns it."""

    state: State
    # "op" or "op:first-argument" -> the error that call raises (before changing anything).
    fail: Mapping[str, BcsyncError] = field(default_factory=dict)
    accept_invites: bool = False
    delay: float = 0.001
    calls: list[tuple[str, tuple[object, ...]]] = field(default_factory=list)
    active: int = 0
    max_active: int = 0
    bc_id: str = field(init=False)

    def __post_init__(self) -> None:
        self.bc_id = self.state.bc_id

    async def read_state(self, scope: Scope) -> ReadResult:
        """The state, with grants and shares of `scope.assets` only (the protocol's contract)."""
        s = self.state
        state = replace(
            s,
            assets={k: a for k, a in s.assets.items() if k in scope.assets},
            grants={k: g for k, g in s.grants.items() if g.asset in scope.assets},
            shares={k: v for k, v in s.shares.items() if v.asset in scope.assets},
        )
        unmanaged = tuple(a for k, a in sorted(s.assets.items()) if k not in scope.assets)
        return ReadResult(state, calls=1, unmanaged=unmanaged)

    async def _write(self, name: str, first: object, params: Params) -> WriteResult:
        self.active += 1
        self.max_active = max(self.max_active, self.active)
        try:
            await asyncio.sleep(self.delay)
            self.calls.append((name, (first,)))
            error = self.fail.get(f"{name}:{first}") or self.fail.get(name)
            if error is not None:
                raise error
            self.state = simulate(self.state, params, accept=self.accept_invites)
            return WriteResult((f"req-{len(self.calls)}",))
        finally:
            self.active -= 1

    @property
    def ops(self) -> list[str]:
        return [name for name, _ in self.calls]

    async def write(self, params: Params) -> WriteResult:
        """The provider's one write entry point: `simulate` the step on the state."""
        return await self._write(params.op.value, _subject(params), params)


def _subject(params: Params) -> str:
    """What a call is about, as `fail` keys name it: the emails, user id, partner..."""
    match params:
        case Invite(emails=emails):
            return ",".join(emails)
        case RemoveMember(email, user_id):
            return user_id or email
        case UpdateMember(user_id=user_id) | Assign(user_id=user_id) | Unassign(user_id=user_id):
            return user_id
        case Share(partner_bc_id=partner) | Unshare(partner_bc_id=partner):
            return partner
        case RemovePartner(partner_bc_id=partner):
            return partner
    raise AssertionError(f"unknown step parameters {params!r}")
