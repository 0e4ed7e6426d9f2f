"""Asset-group writes: what TikTok's SDK allows, and the refusals where it would refuse."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from .world import AD1, AD2, AD3, BC, BOB, CAROL, OTHER_AD, STD, changelog, fails, ok

ROLE = "ADVERTISER_ROLE_"


def member(user_id: str, role: str = "ANALYST") -> dict[str, Any]:
    return {"member_id": user_id, "asset_roles": {"ADVERTISER": ROLE + role}}


def asset(asset_id: str, asset_type: str = "ADVERTISER") -> dict[str, str]:
    return {"asset_id": asset_id, "asset_type": asset_type}


async def create(client: httpx.AsyncClient, name: str = "Buyers", **over: Any) -> str:
    params: dict[str, Any] = {
        "bc_id": BC,
        "asset_group_name": name,
        "assets": [asset(AD1), asset(AD2)],
        "members": [member(BOB, "OPERATOR"), member(STD)],
        **over,
    }
    data = await ok(client, "POST", "bc/asset_group/create/", **params)
    return str(data["asset_group_id"])


async def contents(client: httpx.AsyncClient, group_id: str) -> tuple[list[str], dict[str, str]]:
    page = {"bc_id": BC, "asset_group_id": group_id, "page": 1, "page_size": 50}
    a = await ok(client, "GET", "bc/asset_group/get/", query_entity="ASSET", **page)
    m = await ok(client, "GET", "bc/asset_group/get/", query_entity="MEMBER", **page)
    return (
        [x["asset_id"] for x in a["asset_group"]["assets"]],
        {x["member_id"]: x["asset_roles"]["ADVERTISER"] for x in m["asset_group"]["members"]},
    )


async def update(client: httpx.AsyncClient, group_id: str, **params: Any) -> dict[str, Any]:
    return await ok(
        client, "POST", "bc/asset_group/update/", bc_id=BC, asset_group_id=group_id, **params
    )


async def test_create_update_and_delete_a_group(client: httpx.AsyncClient) -> None:
    group = await create(client)
    assert await contents(client, group) == (
        [AD1, AD2],
        {BOB: ROLE + "OPERATOR", STD: ROLE + "ANALYST"},
    )
    await update(client, group, update_entity="ASSET", action="ADD", assets=[asset(AD3)])
    await update(client, group, update_entity="ASSET", action="DELETE", assets=[asset(AD1)])
    await update(client, group, update_entity="MEMBER", action="ADD", members=[member(CAROL)])
    # Adding a member the group has, with another role, sets the role.
    await update(
        client, group, update_entity="MEMBER", action="ADD", members=[member(STD, "ADMIN")]
    )
    await update(
        client, group, update_entity="MEMBER", action="DELETE", members=[{"member_id": BOB}]
    )
    await update(client, group, update_entity="NAME", asset_group_name="Renamed")
    assets, people = await contents(client, group)
    assert (sorted(assets), people) == ([AD2, AD3], {STD: ROLE + "ADMIN", CAROL: ROLE + "ANALYST"})
    listed = await ok(client, "GET", "bc/asset_group/list/", bc_id=BC, page=1, page_size=10)
    assert [g["asset_group_name"] for g in listed["asset_groups"]] == ["Renamed"]
    await ok(client, "POST", "bc/asset_group/delete/", bc_id=BC, asset_group_ids=[group])
    await fails(client, "GET", "bc/asset_group/get/", 40007, bc_id=BC, asset_group_id=group,
                query_entity="ASSET", page=1, page_size=10)  # fmt: skip
    texts = [e["activity_log"] for e in await changelog(client)]
    assert any("created asset group Buyers" in t for t in texts)
    assert any("deleted asset group Renamed" in t for t in texts)


async def test_a_member_leaving_the_bc_leaves_its_groups(client: httpx.AsyncClient) -> None:
    group = await create(client)
    await ok(client, "POST", "bc/member/delete/", bc_id=BC, user_id=BOB)
    assert set((await contents(client, group))[1]) == {STD}


@pytest.mark.parametrize(
    ("over", "code", "words"),
    [
        ({"assets": [asset(f"71000000000{i:08d}") for i in range(201)]}, 40002, "1 and 200"),
        ({"members": [member(BOB)] * 51}, 40002, "between 1 and 50"),
        ({"assets": []}, 40002, "assets"),
        ({"members": []}, 40002, "members"),
        ({"assets": [asset(AD1, "CATALOG")]}, 40002, "asset_type"),
        ({"assets": [{"asset_id": AD1}]}, 40002, "asset_type"),
        ({"assets": [asset(AD1), asset(AD1)]}, 40002, "listed twice"),
        ({"assets": [asset(OTHER_AD)]}, 40007, OTHER_AD),  # another BC's ad account
        ({"members": [member("6000000000000000099")]}, 40007, "6000000000000000099"),
        ({"members": [{"member_id": BOB}]}, 40002, "asset_roles"),
        ({"members": [member(BOB, "OWNER")]}, 40002, "ADVERTISER_ROLE_ADMIN"),
        ({"members": [{"member_id": BOB, "asset_roles": {"CATALOG": ROLE + "ADMIN"}}]}, 40002,
         "ADVERTISER assets only"),
        ({"members": [member(BOB), member(BOB)]}, 40002, "listed twice"),
        ({"asset_group_name": ""}, 40002, "asset_group_name"),
        ({"asset_group_name": "x" * 256}, 40002, "asset_group_name"),
    ],
)  # fmt: skip
async def test_create_refuses_what_tiktok_would(
    client: httpx.AsyncClient, over: dict[str, Any], code: int, words: str
) -> None:
    params = {
        "bc_id": BC,
        "asset_group_name": "Buyers",
        "assets": [asset(AD1)],
        "members": [member(BOB)],
        **over,
    }
    assert words in await fails(client, "POST", "bc/asset_group/create/", code, **params)
    listed = await ok(client, "GET", "bc/asset_group/list/", bc_id=BC, page=1, page_size=10)
    assert listed["asset_groups"] == []  # nothing half-made


async def test_only_joined_members_only_admins_and_unique_names(client: httpx.AsyncClient) -> None:
    await create(client)
    assert "already exists" in await fails(
        client, "POST", "bc/asset_group/create/", 40002, bc_id=BC, asset_group_name="Buyers",
        assets=[asset(AD1)], members=[member(BOB)],
    )  # fmt: skip
    await fails(
        client, "POST", "bc/asset_group/create/", 40001, token="std", bc_id=BC,
        asset_group_name="Mine", assets=[asset(AD1)], members=[member(STD)],
    )  # fmt: skip


async def test_update_refuses_what_tiktok_would(client: httpx.AsyncClient) -> None:
    group = await create(client)
    base = {"bc_id": BC, "asset_group_id": group}
    path = "bc/asset_group/update/"
    cases: list[tuple[dict[str, Any], int, str]] = [
        ({"update_entity": "ASSET", "action": "ADD", "assets": [asset(AD1)]}, 40002, "already"),
        ({"update_entity": "ASSET", "action": "DELETE", "assets": [asset(AD3)]}, 40007, AD3),
        ({"update_entity": "ASSET", "action": "DELETE", "assets": [asset(AD1), asset(AD2)]},
         40002, "no ad account"),
        ({"update_entity": "MEMBER", "action": "DELETE",
          "members": [{"member_id": BOB}, {"member_id": STD}]}, 40002, "no member"),
        ({"update_entity": "MEMBER", "action": "ADD", "members": [member(BOB, "OPERATOR")]},
         40002, "with that role"),
        ({"update_entity": "MEMBER", "action": "ADD"}, 40002, "members"),
        ({"update_entity": "MEMBER", "members": [member(CAROL)]}, 40002, "action"),
        ({"update_entity": "ASSET", "action": "ADD", "members": [member(CAROL)],
          "assets": [asset(AD3)]}, 40002, "members"),
        ({"update_entity": "NAME"}, 40002, "asset_group_name"),
        ({"update_entity": "GROUP", "action": "ADD"}, 40002, "update_entity"),
        ({"update_entity": "ASSET", "action": "MOVE", "assets": [asset(AD3)]}, 40002, "action"),
        ({"update_entity": "ASSET", "action": "ADD",
          "assets": [asset(f"71000000000{i:08d}") for i in range(199)]}, 40007, "ADVERTISER"),
    ]  # fmt: skip
    for params, code, words in cases:
        assert words in await fails(client, "POST", path, code, **base, **params), params
    assert await contents(client, group) == (
        [AD1, AD2],
        {BOB: ROLE + "OPERATOR", STD: ROLE + "ANALYST"},
    )
    assert "7800000000000000404" in await fails(
        client, "POST", path, 40007, bc_id=BC, asset_group_id="7800000000000000404",
        update_entity="NAME", asset_group_name="x",
    )  # fmt: skip


async def test_delete_takes_exactly_one_existing_group(client: httpx.AsyncClient) -> None:
    one, two = await create(client), await create(client, "Second")
    path = "bc/asset_group/delete/"
    assert "between 1 and 1" in await fails(
        client, "POST", path, 40002, bc_id=BC, asset_group_ids=[one, two]
    )
    await fails(client, "POST", path, 40002, bc_id=BC, asset_group_ids=[])
    await fails(client, "POST", path, 40007, bc_id=BC, asset_group_ids=["7800000000000000404"])
    await ok(client, "POST", path, bc_id=BC, asset_group_ids=[one])
    await fails(client, "POST", path, 40007, bc_id=BC, asset_group_ids=[one])
