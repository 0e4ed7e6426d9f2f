"""Asset-group writes: each verified by reading after an ambiguous failure, never sent blindly
twice (a group created twice would be two groups), converging under injected faults."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bcsync.core.model import AssetKey, AssetType
from bcsync.core.operations import (
    AddGroupAssets,
    AddGroupMembers,
    CreateAssetGroup,
    DeleteAssetGroup,
    RemoveGroupAssets,
    RemoveGroupMembers,
)
from bcsync.emulator import Faults
from bcsync.providers.base import Scope
from bcsync.providers.tiktok.provider import TikTokProvider
from bcsync.providers.tiktok.write import LOST

from .conftest import World
from .test_faults import PATIENT
from .world import OWNER, aid, every_kind, uid

AD1, AD2, AD3 = (aid(71, n) for n in (1, 2, 3))
SCOPE = Scope(
    asset_types=frozenset({AssetType.AD_ACCOUNT}),
    assets=frozenset(AssetKey(AssetType.AD_ACCOUNT, a) for a in (AD1, AD2, AD3)),
    asset_groups=True,
)
CREATE = CreateAssetGroup(
    "Buyers", (AD1, AD2), (uid(2), uid(3)), ("ops@acme.example", "bob@acme.example"),
    ("operator", "analyst"),
)  # fmt: skip


async def groups(provider: TikTokProvider) -> dict[str, tuple[list[str], dict[str, str]]]:
    state = (await provider.read_state(SCOPE)).state
    return {
        name: (sorted(g.ad_accounts), dict(g.members))
        for name, g in (state.asset_groups or {}).items()
    }


async def lifecycle(provider: TikTokProvider) -> list[str | None]:
    notes = [(await provider.write(CREATE)).note]
    state = (await provider.read_state(SCOPE)).state
    gid = (state.asset_groups or {})["Buyers"].group_id
    assert gid is not None
    for params in (
        AddGroupAssets("Buyers", gid, (AD3,)),
        AddGroupMembers("Buyers", gid, (uid(1), uid(3)), ("o", "b"), ("analyst", "admin")),
        RemoveGroupAssets("Buyers", gid, (AD1,)),
        RemoveGroupMembers("Buyers", gid, (uid(2),), ("ops@acme.example",)),
    ):
        notes.append((await provider.write(params)).note)
    return notes


async def test_a_group_is_created_changed_and_deleted(make_world: Callable[..., World]) -> None:
    provider = make_world(every_kind()).provider()
    await lifecycle(provider)
    found = await groups(provider)
    assert found == {"Buyers": ([AD2, AD3], {OWNER: "analyst", "bob@acme.example": "admin"})}
    gid = ((await provider.read_state(SCOPE)).state.asset_groups or {})["Buyers"].group_id
    assert gid is not None
    await provider.write(DeleteAssetGroup("Buyers", gid))
    assert await groups(provider) == {}


@pytest.mark.parametrize("seed", [21, 22])
async def test_group_writes_converge_under_faults_and_never_duplicate(
    make_world: Callable[..., World], seed: int
) -> None:
    clean = make_world(every_kind()).provider()
    await lifecycle(clean)
    expected = await groups(clean)
    faults = Faults(
        throttle_rate=0.1, error_5xx_rate=0.15, timeout_rate=0.05, lost_response_rate=0.4,
        hang_seconds=0.01, seed=seed,
    )  # fmt: skip
    world = make_world(every_kind(), faults=faults)
    notes = await lifecycle(world.provider(retry=PATIENT))
    world.emulator.set_faults(Faults())
    assert await groups(world.provider()) == expected  # one group, not two
    assert LOST in notes or world.emulator.stats()["throttled"] > 0


async def test_a_lost_create_is_read_back_not_sent_again(make_world: Callable[..., World]) -> None:
    world = make_world(every_kind(), faults=Faults(lost_response_rate=1.0))
    result = await world.provider(retry=PATIENT).write(CREATE)
    assert result.note == LOST
    assert world.emulator.stats()["by_endpoint"]["/open_api/v1.3/bc/asset_group/create/"] == 1
