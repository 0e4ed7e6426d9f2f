"""Asset writes: assign / unassign, one user and one asset per call, roles valid per asset type."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from .world import AD1, AD2, BC, BOB, CATALOG, LEAD, OTHER_AD, OUTSIDER, SHOP, STD, TT, fails, ok


async def roles_of(client: httpx.AsyncClient, user_id: str, asset_type: str) -> dict[str, Any]:
    """asset id -> the member's role field value, for one asset type."""
    data = await ok(
        client, "GET", "bc/asset/get/", bc_id=BC, asset_type=asset_type, page_size=50,
        filtering={"user_id": user_id},
    )  # fmt: skip
    # Lead forms and pixels carry no role field in any response: being listed is the grant.
    return {
        a["asset_id"]: next((v for k, v in a.items() if k.endswith(("_role", "_roles")) and v), "")
        for a in data["list"]
    }


@pytest.mark.parametrize(
    ("asset_type", "asset_id", "field", "role", "stored"),
    [
        ("ADVERTISER", AD2, "advertiser_role", "ADMIN", "ADMIN"),
        ("CATALOG", CATALOG, "catalog_role", "AD_PROMOTE", "AD_PROMOTE"),
        ("TIKTOK_SHOP", SHOP, "store_role", "MANAGER", "MANAGER"),
        ("TT_ACCOUNT", TT, "tt_account_roles", ["POST", "LIVE", "POST"], ["LIVE", "POST"]),
        ("LEAD", LEAD, "form_library_role", "ADMIN", ""),
    ],
)
async def test_assign_each_asset_type_with_its_role_field(
    client: httpx.AsyncClient, asset_type: str, asset_id: str, field: str, role: Any, stored: Any
) -> None:
    await ok(
        client, "POST", "bc/asset/assign/", bc_id=BC, user_id=STD, asset_type=asset_type,
        asset_id=asset_id, **{field: role},
    )  # fmt: skip
    assert (await roles_of(client, STD, asset_type))[asset_id] == stored


async def test_assigning_an_existing_grant_changes_its_role(client: httpx.AsyncClient) -> None:
    for role in ("ADMIN", "ANALYST"):
        await ok(
            client, "POST", "bc/asset/assign/", bc_id=BC, user_id=BOB, asset_type="ADVERTISER",
            asset_id=AD1, advertiser_role=role,
        )  # fmt: skip
    assert await roles_of(client, BOB, "ADVERTISER") == {AD1: "ANALYST"}
    data = await ok(
        client, "GET", "bc/asset/member/get/", bc_id=BC, asset_type="ADVERTISER", asset_id=AD1
    )
    assert [(m["user_id"], m["advertiser_role"]) for m in data["list"]] == [(BOB, "ANALYST")]


@pytest.mark.parametrize(
    ("asset_type", "asset_id", "field", "role", "named"),
    [
        ("ADVERTISER", AD2, "advertiser_role", "AD_PROMOTE", "advertiser_role"),
        ("CATALOG", CATALOG, "catalog_role", "OPERATOR", "catalog_role"),
        ("TIKTOK_SHOP", SHOP, "store_role", "POST", "store_role"),
        ("TT_ACCOUNT", TT, "tt_account_roles", ["ADMIN"], "tt_account_roles[0]"),
        ("TT_ACCOUNT", TT, "tt_account_roles", [], "tt_account_roles"),
        ("TT_ACCOUNT", TT, "tt_account_roles", "POST", "tt_account_roles"),
        ("LEAD", LEAD, "form_library_role", "ANALYST", "form_library_role"),
        ("CATALOG", CATALOG, "advertiser_role", "ADMIN", "catalog_role"),  # another type's field
    ],
)
async def test_roles_must_be_valid_for_the_asset_type(
    client: httpx.AsyncClient, asset_type: str, asset_id: str, field: str, role: Any, named: str
) -> None:
    before = await roles_of(client, STD, asset_type)
    message = await fails(
        client, "POST", "bc/asset/assign/", 40002, bc_id=BC, user_id=STD, asset_type=asset_type,
        asset_id=asset_id, **{field: role},
    )  # fmt: skip
    assert named in message
    assert await roles_of(client, STD, asset_type) == before


@pytest.mark.parametrize(
    ("params", "code", "fragment"),
    [
        ({"user_id": OUTSIDER}, 40007, OUTSIDER),  # not a member: must have joined first
        ({"asset_id": OTHER_AD}, 40007, OTHER_AD),  # another BC's asset
        # Valid in the SDK, so accepted as a value; the emulator holds no domains: not found.
        ({"asset_type": "DOMAIN", "advertiser_role": None}, 40007, "DOMAIN"),
        ({"asset_id": None, "asset_ids": [AD2]}, 40002, "asset_id"),  # one asset per call
        ({"user_id": None, "user_ids": [STD]}, 40002, "user_id"),  # one user per call
        ({"advertiser_role": None}, 40002, "advertiser_role"),
    ],
)
async def test_assign_errors(
    client: httpx.AsyncClient, params: dict[str, Any], code: int, fragment: str
) -> None:
    base = {"user_id": STD, "asset_type": "ADVERTISER", "asset_id": AD1, "advertiser_role": "ADMIN"}
    merged = {k: v for k, v in {**base, **params}.items() if v is not None}
    message = await fails(client, "POST", "bc/asset/assign/", code, bc_id=BC, **merged)
    assert fragment in message


async def test_unassign_removes_one_grant(client: httpx.AsyncClient) -> None:
    await ok(
        client, "POST", "bc/asset/unassign/", bc_id=BC, user_id=BOB, asset_type="TT_ACCOUNT",
        asset_id=TT,
    )  # fmt: skip
    assert await roles_of(client, BOB, "TT_ACCOUNT") == {}
    assert await roles_of(client, BOB, "ADVERTISER") == {AD1: "OPERATOR"}


@pytest.mark.parametrize(
    ("params", "code", "fragment"),
    [
        ({"asset_id": AD2}, 40007, "Assignment of ADVERTISER"),  # bob has no grant on AD2
        ({"user_id": OUTSIDER}, 40007, OUTSIDER),
        ({"asset_id": OTHER_AD}, 40007, OTHER_AD),
        ({"asset_type": None}, 40002, "asset_type"),
    ],
)
async def test_unassign_errors(
    client: httpx.AsyncClient, params: dict[str, Any], code: int, fragment: str
) -> None:
    base = {"user_id": BOB, "asset_type": "ADVERTISER", "asset_id": AD1}
    merged = {k: v for k, v in {**base, **params}.items() if v is not None}
    message = await fails(client, "POST", "bc/asset/unassign/", code, bc_id=BC, **merged)
    assert fragment in message
    assert await roles_of(client, BOB, "ADVERTISER") == {AD1: "OPERATOR"}


async def test_ids_may_arrive_as_json_numbers(client: httpx.AsyncClient) -> None:
    # the API converts ids with int64(%s); a client sending numbers is understood
    await ok(
        client, "POST", "bc/asset/assign/", bc_id=int(BC), user_id=int(STD),
        asset_type="ADVERTISER", asset_id=int(AD1), advertiser_role="OPERATOR",
    )  # fmt: skip
    assert (await roles_of(client, STD, "ADVERTISER"))[AD1] == "OPERATOR"
