"""Read every BC of a run for the access report: state, unmanaged assets, asset-group access.

The edge between providers and the pure `auditor.access`: the read's state, its named unmanaged
assets and its asset-group access.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence

from bcsync.auditor.access import Observed
from bcsync.auditor.provenance import read_via
from bcsync.core.model import BusinessCenterConfig
from bcsync.loop.audit import now_iso
from bcsync.providers.base import Provider, ReadResult, Scope


def observed_from(read: ReadResult, read_at: str | None = None, via: str | None = None) -> Observed:
    """What the report needs of one read, and when and how it was made."""
    return Observed(
        state=read.state,
        unmanaged_assets=read.unmanaged,
        group_access=read.asset_group_access,
        read_at=read_at,
        read_via=via,
        incoming=read.incoming_shares,
        asset_partners=read.asset_partners,
    )


async def observe_all(
    configs: Sequence[BusinessCenterConfig], providers: Mapping[str, Provider]
) -> dict[str, Observed]:
    """Read every BC concurrently (the providers share one rate limiter)."""

    async def one(config: BusinessCenterConfig) -> tuple[str, Observed]:
        scope = Scope.of_config(config, asset_partners=True)
        read = await providers[config.bc_id].read_state(scope)
        return config.bc_id, observed_from(read, now_iso(), read_via(config, read.calls))

    return dict(await asyncio.gather(*(one(c) for c in configs)))
