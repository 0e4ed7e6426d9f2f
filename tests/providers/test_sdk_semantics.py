"""What the provider reads as TikTok's SDK documents it: presence-only grants, asset binding,
asset groups, and lists that must be complete."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from bcsync.core.model import AssetKey, AssetStatus, AssetType, MemberRole
from bcsync.core.operations import Assign, Invite, Unassign
from bcsync.providers.base import AssetGroupAccess, Scope
from bcsync.providers.tiktok.paging import IncompleteReadError
from bcsync.providers.tiktok.read import Strategy, fetch_members

from .conftest import World
from .fakes import FakeApi, envelope, params
from .world import BC, aid, every_kind, uid

AD = AssetType.AD_ACCOUNT
AD1, AD2, AD3 = (AssetKey(AD, aid(71, n)) for n in (1, 2, 3))
LEAD = AssetKey(AssetType.LEAD_FORM, aid(76, 1))
PIXEL = AssetKey(AssetType.PIXEL, aid(77, 1))
PENDING_AD = AssetKey(AD, aid(71, 90))
GROUP = "7800000000000000001"
BOB = "bob@acme.example"
SCOPE = Scope.of([AD1, AD2, AD3, LEAD, PIXEL, PENDING_AD])


def world_seed() -> dict[str, Any]:
    seed = every_kind()
    bc = seed["business_centers"][0]
    bc["assets"]["PIXEL"] = [{"id": PIXEL.id, "name": "Pixel"}]
    bc["assets"]["ADVERTISER"].append(
        {"id": PENDING_AD.id, "name": "Pending", "relation_status": "PENDING"}
    )
    bc["grants"].append({"email": "Bob@Acme.example", "asset_type": "PIXEL", "asset_id": PIXEL.id})
    bc["asset_groups"] = [
        {
            "asset_group_id": GROUP,
            "name": "Buyers",
            "assets": [AD1.id, AD3.id],
            "members": [
                {"email": "Bob@Acme.example", "role": "ADVERTISER_ROLE_ANALYST"},
                {"email": "ops@acme.example", "role": "ADVERTISER_ROLE_ADMIN"},
            ],
        }
    ]
    return seed


@pytest.fixture
def world(make_world: Callable[..., World]) -> World:
    return make_world(world_seed())


@pytest.mark.parametrize("strategy", [Strategy.PER_ASSET, Strategy.PER_MEMBER])
async def test_lead_forms_and_pixels_are_read_by_presence(world: World, strategy: Strategy) -> None:
    state = (await world.provider(strategy=strategy).read_state(SCOPE)).state
    assert state.grants[(LEAD, BOB)].role == "admin"
    assert state.grants[(PIXEL, BOB)].role == "access"


async def test_pixel_grants_are_written_without_a_role(world: World) -> None:
    provider = world.provider()
    await provider.write(Assign(uid(2), "", PIXEL, "access"))
    state = (await provider.read_state(SCOPE)).state
    assert state.grants[(PIXEL, "ops@acme.example")].role == "access"
    await provider.write(Unassign(uid(2), "", PIXEL))
    assert (PIXEL, "ops@acme.example") not in (await provider.read_state(SCOPE)).state.grants


async def test_asset_binding_status_is_read(world: World) -> None:
    assets = (await world.provider().read_state(SCOPE)).state.assets
    assert assets[PENDING_AD].status is AssetStatus.PENDING
    assert assets[AD1].status is AssetStatus.BOUND


async def test_asset_group_access_on_declared_assets(world: World) -> None:
    result = await world.provider().read_state(Scope.of([AD1, AD2]))
    assert result.asset_group_access == (
        AssetGroupAccess(GROUP, "Buyers", BOB, uid(3), AD1, "analyst"),
        AssetGroupAccess(GROUP, "Buyers", "ops@acme.example", uid(2), AD1, "admin"),
    )
    # Group access never enters the state the diff sees.
    assert (AD1, "ops@acme.example") not in result.state.grants


async def test_no_declared_ad_accounts_reads_no_groups(world: World) -> None:
    result = await world.provider().read_state(Scope.of([LEAD]))
    assert result.asset_group_access == ()
    assert world.emulator.stats()["by_endpoint"].get("/open_api/v1.3/bc/asset_group/list/") is None


async def test_a_member_page_is_asked_for_twenty_at_most(world: World) -> None:
    await world.provider().write(
        Invite([f"p{i}@x.example" for i in range(30)], MemberRole.STANDARD, None)
    )
    members = await fetch_members(world.provider().client, BC)
    assert len(members) == 5 + 30  # the emulator cuts pages at 20 without saying so


def short_member_pages(answers: list[int]) -> FakeApi:
    """member/get claiming 30 members; each read returns the next count of them."""
    reads = iter(answers)

    def handler(request: httpx.Request) -> httpx.Response:
        page = int(params(request)["page"])
        count = next(reads) if page == 1 else 0
        items = [
            {
                "user_id": uid(i),
                "user_email": f"u{i}@x.example",
                "user_role": "STANDARD",
                "relation_status": "BOUND",
                "ext_user_role": {},
            }
            for i in range(count)
        ]
        info = {"page": page, "page_size": 20, "total_number": 30, "total_page": 1}
        return envelope(data={"list": items, "page_info": info})

    return FakeApi(handler)


async def test_an_incomplete_list_is_read_again_then_refused() -> None:
    api = short_member_pages([20, 20, 20])
    with pytest.raises(IncompleteReadError) as caught:
        await fetch_members(api.client(), BC)
    err = caught.value
    assert err.exit_code == 1 and err.endpoint == "GET /bc/member/get/"
    assert "changed while being read, 3 times" in err.message
    assert "returned 20 items but page_info.total_number says 30" in err.message
    assert len(api.requests) == 3


async def test_a_list_complete_on_the_second_read_is_accepted() -> None:
    api = short_member_pages([20, 30])
    assert len(await fetch_members(api.client(), BC)) == 30
