"""Adopting a live Business Center: read all of it, for `bcsync export`. An edge (it calls the API).

`plan` reads only what a config declares; an export has no config yet, so it lists every asset
first and then reads the state with all of them in scope (their grants and partner shares).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bcsync.core.incoming import IncomingShare
from bcsync.core.model import AssetType, BusinessCenterConfig, Policy, ProviderSettings, State
from bcsync.providers.base import Scope
from bcsync.providers.tiktok import read
from bcsync.providers.tiktok.provider import TikTokProvider


@dataclass(frozen=True)
class Snapshot:
    """Everything an export writes about one BC, and what reading it cost."""

    state: State
    bc_name: str | None
    calls: int
    # What partners share with the BC (written as `incoming:` expectations where TikTok names
    # the partner).
    incoming: tuple[IncomingShare, ...] = ()


def reading_config(bc_id: str, provider: ProviderSettings, where: Path) -> BusinessCenterConfig:
    """A config with nothing declared, only to open a provider for `bc_id` (`where`: its file)."""
    return BusinessCenterConfig(
        path=str(where),
        bc_id=bc_id,
        name=None,
        provider=provider,
        policy=Policy(),
        desired=State(bc_id=bc_id),
        digest="",
    )


async def read_whole(provider: TikTokProvider) -> Snapshot:
    """The BC's members, every asset, their grants, partners and shares, and its name."""
    client, bc_id = provider.client, provider.bc_id
    # read_state counts its own calls; this tally counts the listing and bc/get around it.
    with client.tally() as tally:
        listed = await read.list_assets(client, bc_id, frozenset(AssetType))
        # A partner's assets shared with this BC are not the BC's to declare or export.
        assets = {key: asset for key, asset in listed.items() if not asset.incoming}
        result = await provider.read_state(Scope.of(frozenset(assets)))
        data = await client.get("bc/get/", {"bc_id": bc_id})
    incoming = result.incoming_shares or ()
    return Snapshot(result.state, _bc_name(data, bc_id), tally.calls + result.calls, incoming)


def _bc_name(data: dict[str, Any], bc_id: str) -> str | None:
    for entry in data.get("list") or []:
        info = entry.get("bc_info") if isinstance(entry, dict) else None
        if isinstance(info, dict) and str(info.get("bc_id")) == bc_id:
            name = info.get("name")
            return str(name) if name else None
    return None
