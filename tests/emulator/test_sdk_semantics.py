"""The emulator answers as TikTok's SDK documents: pixels, lead forms, bindings, asset groups."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from bcsync.emulator import create_app
from bcsync.emulator.errors import SeedError
from bcsync.emulator.seed import load_seed

from .world import AD1, AD2, ADMIN1, BC, BOB, LEAD, PARTNER, STD, client_for, fails, ok

PIXEL = "7700000000000000001"
PENDING_AD, UNBOUND_AD, REJECTED_AD = (f"710000000000000009{i}" for i in (1, 2, 3))
GROUP, GROUP2 = "7800000000000000001", "7800000000000000002"
ASSET_GET_FIELDS = {
    "asset_id", "asset_name", "asset_type", "advertiser_account_type", "advertiser_role",
    "catalog_role", "store_role", "tt_account_roles", "ad_creation_eligible", "owner_bc_name",
}  # fmt: skip
ADMIN_GET_FIELDS = ASSET_GET_FIELDS | {
    "advertiser_status", "pixel_code", "relation_status", "relation_type",
}  # fmt: skip


@pytest.fixture
def seed(seed: dict[str, Any]) -> dict[str, Any]:
    """The test world plus a pixel, unbound ad accounts, a lead grant and two asset groups."""
    bc = seed["business_centers"][0]
    bc["assets"]["PIXEL"] = [{"id": PIXEL, "name": "Site pixel"}]
    bc["assets"]["ADVERTISER"] += [
        {"id": PENDING_AD, "name": "Pending", "relation_status": "PENDING"},
        {"id": UNBOUND_AD, "name": "Unbound", "relation_status": "UNBOUND"},
        {"id": REJECTED_AD, "name": "Rejected", "relation_status": "REJECTED"},
    ]
    bc["grants"] += [
        {"email": "bob@test.example", "asset_type": "PIXEL", "asset_id": PIXEL},
        {"email": "bob@test.example", "asset_type": "LEAD", "asset_id": LEAD, "role": "ADMIN"},
    ]
    bc["asset_groups"] = [
        {
            "asset_group_id": GROUP,
            "name": "Media buyers",
            "assets": [AD1, AD2],
            "members": [
                {"email": "bob@test.example", "role": "ADVERTISER_ROLE_OPERATOR"},
                {"email": "std@test.example", "role": "ADVERTISER_ROLE_ANALYST"},
            ],
        },
        {"asset_group_id": GROUP2, "name": "Empty"},
    ]
    return seed


async def listed(client: httpx.AsyncClient, path: str, **params: Any) -> list[dict[str, Any]]:
    data = await ok(client, "GET", path, bc_id=BC, page_size=20, **params)
    return list(data["list"])


async def test_asset_get_items_carry_exactly_the_mapped_fields(client: httpx.AsyncClient) -> None:
    for asset_type in ("ADVERTISER", "LEAD", "PIXEL", "TT_ACCOUNT"):
        items = await listed(
            client, "bc/asset/get/", asset_type=asset_type, filtering={"user_id": BOB}
        )
        assert items and all(set(i) == ASSET_GET_FIELDS for i in items)
        items = await listed(client, "bc/asset/admin/get/", asset_type=asset_type)
        assert items and all(set(i) == ADMIN_GET_FIELDS for i in items)


async def test_a_lead_grant_is_visible_only_as_presence(client: httpx.AsyncClient) -> None:
    items = await listed(client, "bc/asset/get/", asset_type="LEAD", filtering={"user_id": BOB})
    assert [i["asset_id"] for i in items] == [LEAD]
    assert "form_library_role" not in items[0]
    members = await listed(client, "bc/asset/member/get/", asset_type="LEAD", asset_id=LEAD)
    assert [m["user_id"] for m in members] == [BOB]
    assert not any("role" in key for key in members[0])


async def test_pixels_are_assigned_and_unassigned_without_a_role(
    client: httpx.AsyncClient,
) -> None:
    await ok(
        client, "POST", "bc/asset/assign/", bc_id=BC, user_id=STD, asset_type="PIXEL",
        asset_id=PIXEL,
    )  # fmt: skip
    items = await listed(client, "bc/asset/get/", asset_type="PIXEL", filtering={"user_id": STD})
    assert [i["asset_id"] for i in items] == [PIXEL]
    await ok(
        client, "POST", "bc/asset/unassign/", bc_id=BC, user_id=STD, asset_type="PIXEL",
        asset_id=PIXEL,
    )  # fmt: skip
    assert (
        await listed(client, "bc/asset/get/", asset_type="PIXEL", filtering={"user_id": STD}) == []
    )
    # asset/member/get does not take pixels (SDK).
    await fails(
        client, "GET", "bc/asset/member/get/", 40002, bc_id=BC, asset_type="PIXEL", asset_id=PIXEL
    )


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (None, [AD1, PENDING_AD, UNBOUND_AD, REJECTED_AD]),
        ("BOUND", [AD1]),
        ("PENDING", [PENDING_AD]),
        ("UNBOUND", [UNBOUND_AD]),
        ("REJECTED", [REJECTED_AD]),
    ],
)
async def test_admin_get_reports_and_filters_relation_status(
    client: httpx.AsyncClient, status: str | None, expected: list[str]
) -> None:
    filtering = {"keyword": "", **({"relation_status": status} if status else {})}
    items = await listed(
        client, "bc/asset/admin/get/", asset_type="ADVERTISER", filtering=filtering
    )
    got = [i["asset_id"] for i in items if i["asset_id"] in (AD1, *expected)]
    assert got == expected
    statuses = {i["asset_id"]: i["relation_status"] for i in items}
    assert all(statuses[a] == (status or statuses[a]) for a in got)


async def test_reject_is_listed_by_the_sdk_but_invalid(client: httpx.AsyncClient) -> None:
    message = await fails(
        client, "GET", "bc/asset/admin/get/", 40002, bc_id=BC, asset_type="ADVERTISER",
        filtering={"relation_status": "REJECT"},
    )  # fmt: skip
    assert "filtering.relation_status" in message


@pytest.mark.parametrize("asset_id", [PENDING_AD, UNBOUND_AD, REJECTED_AD])
async def test_an_asset_that_is_not_bound_cannot_be_assigned_or_shared(
    client: httpx.AsyncClient, asset_id: str
) -> None:
    message = await fails(
        client, "POST", "bc/asset/assign/", 40002, bc_id=BC, user_id=STD,
        asset_type="ADVERTISER", asset_id=asset_id, advertiser_role="ANALYST",
    )  # fmt: skip
    assert asset_id in message and "only BOUND assets" in message
    message = await fails(
        client, "POST", "bc/partner/add/", 40002, bc_id=BC, partner_id=PARTNER,
        asset_type="ADVERTISER", asset_ids=[asset_id],
    )  # fmt: skip
    assert "only BOUND assets" in message


async def test_asset_group_list_and_get(client: httpx.AsyncClient) -> None:
    data = await ok(client, "GET", "bc/asset_group/list/", bc_id=BC, page=1, page_size=10)
    groups = data["asset_groups"]
    assert [g["asset_group_id"] for g in groups] == [GROUP, GROUP2]
    assert groups[0]["asset_group_name"] == "Media buyers"
    assert data["page_info"]["total_number"] == 2
    data = await ok(
        client, "GET", "bc/asset_group/get/", bc_id=BC, asset_group_id=GROUP,
        query_entity="MEMBER", page=1, page_size=1,
    )  # fmt: skip
    assert data["asset_group"]["members"] == [
        {"member_id": BOB, "asset_roles": {"ADVERTISER": "ADVERTISER_ROLE_OPERATOR"}}
    ]
    assert data["page_info"]["total_number"] == 2 and "assets" not in data["asset_group"]
    data = await ok(
        client, "GET", "bc/asset_group/get/", bc_id=BC, asset_group_id=GROUP,
        query_entity="ASSET", page=1, page_size=10,
    )  # fmt: skip
    assert [a["asset_id"] for a in data["asset_group"]["assets"]] == [AD1, AD2]


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"page": None}, "page"),
        ({"page_size": None}, "page_size"),
        ({"query_entity": None}, "query_entity"),
        ({"query_entity": "ADVERTISER"}, "query_entity"),
        ({"asset_group_id": None}, "asset_group_id"),
        ({"filtering": {"name": "x"}}, "filtering.keyword"),
    ],
)
async def test_asset_group_get_parameters(
    client: httpx.AsyncClient, params: dict[str, Any], fragment: str
) -> None:
    base = {"asset_group_id": GROUP, "query_entity": "ASSET", "page": 1, "page_size": 10}
    merged = {k: v for k, v in {**base, **params}.items() if v is not None}
    message = await fails(client, "GET", "bc/asset_group/get/", 40002, bc_id=BC, **merged)
    assert fragment in message


async def test_an_unknown_asset_group_is_40007(client: httpx.AsyncClient) -> None:
    await fails(
        client, "GET", "bc/asset_group/get/", 40007, bc_id=BC, asset_group_id="7800000000000000999",
        query_entity="ASSET", page=1, page_size=10,
    )  # fmt: skip


async def test_the_state_snapshot_keeps_groups_statuses_and_pixels(
    client: httpx.AsyncClient, seed: dict[str, Any]
) -> None:
    state = (await client.get("/_emulator/state")).json()
    assert load_seed(state) == state
    bc = state["business_centers"][0]
    assert bc["asset_groups"][0]["members"][0] == {
        "email": "bob@test.example",
        "role": "ADVERTISER_ROLE_OPERATOR",
    }
    assert {a["id"]: a.get("relation_status") for a in bc["assets"]["ADVERTISER"]}[
        PENDING_AD
    ] == "PENDING"
    assert {"email": "bob@test.example", "asset_type": "PIXEL", "asset_id": PIXEL} in bc["grants"]


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        (lambda bc: bc["grants"].append(
            {"email": "bob@test.example", "asset_type": "PIXEL", "asset_id": PIXEL,
             "role": "ADMIN"}), "take no role"),
        (lambda bc: bc["grants"].append(
            {"email": "bob@test.example", "asset_type": "ADVERTISER", "asset_id": AD2}),
         "need a role"),
        (lambda bc: bc["grants"].append(
            {"email": "bob@test.example", "asset_type": "ADVERTISER", "asset_id": PENDING_AD,
             "role": "ADMIN"}), "only BOUND assets"),
        (lambda bc: bc["asset_groups"][0]["members"].append(
            {"email": "pending@test.example", "role": "ADVERTISER_ROLE_ADMIN"}), "joined"),
        (lambda bc: bc["asset_groups"][0]["assets"].append("7100000000000000009"),
         "not an asset of"),
        (lambda bc: bc["asset_groups"].append({"asset_group_id": GROUP, "name": "Twice"}),
         "duplicate asset group"),
    ],
)  # fmt: skip
def test_seed_cross_checks(seed: dict[str, Any], change: Any, fragment: str) -> None:
    change(seed["business_centers"][0])
    with pytest.raises(SeedError) as caught:
        load_seed(seed)
    assert fragment in caught.value.message


async def test_pixel_assign_is_logged_without_a_role(tmp_path: Any, seed: dict[str, Any]) -> None:
    app = create_app(tmp_path / "e.db", seed)
    try:
        async with client_for(app) as client:
            await ok(
                client, "POST", "bc/asset/assign/", bc_id=BC, user_id=STD, asset_type="PIXEL",
                asset_id=PIXEL,
            )  # fmt: skip
            data = await ok(client, "GET", "changelog/get/", bc_id=BC)
    finally:
        app.state.emulator.close()
    text = data["changelog_list"][0]["activity_log"]
    assert text.endswith(f"assigned pixel Site pixel ({PIXEL}) to std@test.example ({STD})")
    assert ADMIN1 not in text
