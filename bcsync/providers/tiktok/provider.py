"""`TikTokProvider`: the Provider protocol for one BC over a shared `TikTokClient`."""

from __future__ import annotations

from collections.abc import Sequence

from bcsync.model import AssetKey, AssetType, FinanceRole, MemberRole
from bcsync.providers.base import ReadResult, Scope, WriteResult
from bcsync.providers.tiktok import read, write
from bcsync.providers.tiktok.client import TikTokClient
from bcsync.providers.tiktok.read import Strategy


class TikTokProvider:
    """One Business Center; every BC of the same app shares the client and its rate limiter."""

    def __init__(self, bc_id: str, client: TikTokClient, *, strategy: Strategy | None = None):
        self.bc_id = bc_id
        self.client = client
        # Tests force a grant-reading strategy; None lets read_state choose the cheaper one.
        self.strategy = strategy

    def __repr__(self) -> str:
        return f"TikTokProvider(bc_id={self.bc_id!r}, client={self.client!r})"

    async def read_state(self, scope: Scope) -> ReadResult:
        """Read members, declared assets, their grants, partners and our shares with them."""
        return await read.read_state(self.client, self.bc_id, scope, strategy=self.strategy)

    async def invite(
        self,
        emails: Sequence[str],
        role: MemberRole,
        finance_role: FinanceRole | None,
        ad_accounts: Sequence[str] = (),
        advertiser_role: str | None = None,
    ) -> WriteResult:
        """Invite up to 50 emails with one role, optionally granting ad accounts."""
        return await write.invite(
            self.client, self.bc_id, emails, role, finance_role, ad_accounts, advertiser_role
        )

    async def update_member(
        self,
        user_id: str,
        role: MemberRole,
        finance_role: FinanceRole | None,
        name: str | None = None,
    ) -> WriteResult:
        """Set a joined member's role, finance role unless None (the API cannot clear one) and
        display name unless None."""
        return await write.update_member(self.client, self.bc_id, user_id, role, finance_role, name)

    async def remove_member(
        self, *, user_id: str | None = None, email: str | None = None
    ) -> WriteResult:
        """Remove a joined member (by user id) or revoke a pending invitation (by email)."""
        return await write.remove_member(self.client, self.bc_id, user_id=user_id, email=email)

    async def assign(self, user_id: str, asset: AssetKey, role: str) -> WriteResult:
        """Give a joined member a role on one asset (also changes an existing role)."""
        return await write.assign(self.client, self.bc_id, user_id, asset, role)

    async def unassign(self, user_id: str, asset: AssetKey) -> WriteResult:
        """Take one asset away from a joined member."""
        return await write.unassign(self.client, self.bc_id, user_id, asset)

    async def share(self, partner_bc_id: str, asset_ids: Sequence[str], role: str) -> WriteResult:
        """Share up to 50 ad accounts with a partner BC with one role."""
        return await write.share(self.client, self.bc_id, partner_bc_id, asset_ids, role)

    async def unshare(
        self, partner_bc_id: str, asset_type: AssetType, asset_ids: Sequence[str]
    ) -> WriteResult:
        """Stop sharing assets with a partner."""
        return await write.unshare(self.client, self.bc_id, partner_bc_id, asset_type, asset_ids)

    async def remove_partner(self, partner_bc_id: str) -> WriteResult:
        """Remove a partner BC."""
        return await write.remove_partner(self.client, self.bc_id, partner_bc_id)
