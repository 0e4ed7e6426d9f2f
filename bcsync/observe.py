"""Read every BC of a run for the access report: state, unmanaged assets, asset-group access.

The edge between providers and the pure `bcsync.access`. The reader's extras (named unmanaged
assets, asset-group access) are taken when the provider returns them; an older `ReadResult`
without them gives a count and nothing, never an error.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence

from bcsync.access import Observed
from bcsync.model import Asset, BusinessCenterConfig
from bcsync.providers.base import Provider, ReadResult, Scope


def observed_from(read: ReadResult) -> Observed:
    """What the report needs of one read."""
    unmanaged: object = getattr(read, "unmanaged_assets", 0)
    named: object = getattr(read, "unmanaged_asset_list", None)
    if isinstance(unmanaged, list | tuple):
        named, unmanaged = unmanaged, len(unmanaged)
    items = named if isinstance(named, list | tuple) else ()
    assets = tuple(a for a in items if isinstance(a, Asset))
    return Observed(
        state=read.state,
        unmanaged_count=unmanaged if isinstance(unmanaged, int) else len(assets),
        unmanaged_assets=assets,
        group_access=tuple(getattr(read, "asset_group_access", ()) or ()),
    )


async def observe_all(
    configs: Sequence[BusinessCenterConfig], providers: Mapping[str, Provider]
) -> dict[str, Observed]:
    """Read every BC concurrently (the providers share one rate limiter)."""

    async def one(config: BusinessCenterConfig) -> tuple[str, Observed]:
        read = await providers[config.bc_id].read_state(Scope.of_state(config.desired))
        return config.bc_id, observed_from(read)

    return dict(await asyncio.gather(*(one(c) for c in configs)))
