"""`TikTokProvider`: the Provider protocol for one BC over a shared `TikTokClient`."""

from __future__ import annotations

from bcsync.core.operations import Params
from bcsync.providers.base import ReadResult, Scope, WriteResult
from bcsync.providers.tiktok import read, write
from bcsync.providers.tiktok.client import TikTokClient
from bcsync.providers.tiktok.read import Strategy
from bcsync.providers.tiktok.read_scoped import read_scoped


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
        """Read members, declared assets, their grants, partners and our shares with them.

        A narrowed scope (`plan --changed`) reads only its members and partners.
        """
        if scope.narrowed:
            return await read_scoped(self.client, self.bc_id, scope)
        return await read.read_state(self.client, self.bc_id, scope, strategy=self.strategy)

    async def write(self, params: Params) -> WriteResult:
        """Perform the one operation `params` names, verified after an ambiguous failure."""
        return await write.perform(self.client, self.bc_id, params)
