"""Incoming assets: what partners share with this BC is not owned, unmanaged or exported."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bcsync.adoption.export import ExportOptions, export_config
from bcsync.core.model import AssetKey, AssetType
from bcsync.providers.base import Scope

from .conftest import World
from .world import BC, aid, every_kind

AGENCY = "7000000000000000002"
THEIRS = AssetKey(AssetType.AD_ACCOUNT, aid(71, 9))
OURS = AssetKey(AssetType.AD_ACCOUNT, aid(71, 1))


def shared_in() -> dict[str, Any]:
    """every_kind, plus an agency BC (administered by the same owner) sharing an ad account."""
    seed = every_kind()
    seed["business_centers"].append(
        {
            "bc_id": AGENCY,
            "name": "Agency Z",
            "members": [{"email": "owner@acme.example", "role": "ADMIN"}],
            "assets": {"ADVERTISER": [{"id": THEIRS.id, "name": "Agency account"}]},
            "partners": [
                {
                    "bc_id": BC,
                    "shares": [
                        {"asset_type": "ADVERTISER", "asset_id": THEIRS.id, "role": "ADMIN"}
                    ],
                }
            ],
        }
    )
    return seed


async def test_a_shared_in_asset_is_incoming_not_unmanaged(
    make_world: Callable[..., World],
) -> None:
    result = await make_world(shared_in()).provider().read_state(Scope.of([OURS]))
    assert [a.key for a in result.incoming] == [THEIRS]
    assert result.incoming[0].name == "Agency account"
    assert THEIRS not in {a.key for a in result.unmanaged}
    assert result.unmanaged  # the BC's own undeclared assets still are
    assert THEIRS not in result.state.assets


async def test_a_declared_incoming_asset_is_read_like_any_declared_one(
    make_world: Callable[..., World],
) -> None:
    result = await make_world(shared_in()).provider().read_state(Scope.of([OURS, THEIRS]))
    assert result.state.assets[THEIRS].incoming
    assert THEIRS not in {a.key for a in result.incoming}


async def test_export_adopts_only_owned_assets(make_world: Callable[..., World]) -> None:
    from bcsync.adoption.adopt import read_whole

    snapshot = await read_whole(make_world(shared_in()).provider())
    assert THEIRS not in snapshot.state.assets and OURS in snapshot.state.assets
    assert THEIRS.id not in export_config(snapshot.state, ExportOptions())
