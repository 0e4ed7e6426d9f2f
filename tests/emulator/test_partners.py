"""Partner writes: only owned ad accounts, at most 50 a call, role replacement, revocation."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from .world import AD1, AD2, AD3, BC, CATALOG, OTHER_AD, OTHER_BC, PARTNER, PARTNER2, fails, ok


async def sharing(
    client: httpx.AsyncClient,
    partner: str,
    bc_id: str = BC,
    token: str = "admin1",
    share_type: str = "SHARING",
) -> dict[str, str]:
    """asset id -> role of what `bc_id` shares with `partner` (or, SHARED, receives from it)."""
    data = await ok(
        client,
        "GET",
        "bc/partner/asset/get/",
        token=token,
        bc_id=bc_id,
        partner_id=partner,
        asset_type="ADVERTISER",
        share_type=share_type,
    )
    return {a["asset_id"]: a["advertiser_role"] for a in data["list"]}  # fmt: skip


async def partner_ids(client: httpx.AsyncClient) -> list[str]:
    data = await ok(client, "GET", "bc/partner/get/", bc_id=BC)
    return [p["bc_id"] for p in data["list"]]


async def test_add_a_partner_with_shares(client: httpx.AsyncClient) -> None:
    await ok(
        client, "POST", "bc/partner/add/", bc_id=BC, partner_id=PARTNER2, asset_type="ADVERTISER",
        asset_ids=[AD2, AD3, AD2], advertiser_role="OPERATOR",
    )  # fmt: skip
    assert await partner_ids(client) == [PARTNER, PARTNER2]
    assert await sharing(client, PARTNER2) == {AD2: "OPERATOR", AD3: "OPERATOR"}
    data = await ok(
        client, "GET", "bc/asset/partner/get/", bc_id=BC, asset_type="ADVERTISER", asset_id=AD2
    )
    assert data["list"] == [{"bc_id": PARTNER2, "bc_name": "Partner Two"}]


async def test_the_default_partner_role_is_analyst(client: httpx.AsyncClient) -> None:
    await ok(
        client, "POST", "bc/partner/add/", bc_id=BC, partner_id=PARTNER, asset_type="ADVERTISER",
        asset_ids=[AD2],
    )  # fmt: skip
    assert await sharing(client, PARTNER) == {AD1: "ANALYST", AD2: "ANALYST"}


async def test_re_adding_a_shared_asset_replaces_its_role(client: httpx.AsyncClient) -> None:
    await ok(
        client, "POST", "bc/partner/add/", bc_id=BC, partner_id=PARTNER, asset_type="ADVERTISER",
        asset_ids=[AD1], advertiser_role="ADMIN",
    )  # fmt: skip
    assert await sharing(client, PARTNER) == {AD1: "ADMIN"}
    assert await partner_ids(client) == [PARTNER]


@pytest.mark.parametrize(
    ("params", "code", "fragment"),
    [
        ({"asset_ids": [OTHER_AD]}, 40001, "does not own"),
        ({"asset_ids": [AD2, "7100000000000000077"]}, 40007, "7100000000000000077"),
        ({"asset_ids": [CATALOG], "asset_type": "CATALOG"}, 40002, "asset_type"),
        ({"asset_ids": [f"71{i:017d}" for i in range(51)]}, 40002, "asset_ids"),
        ({"asset_ids": []}, 40002, "asset_ids"),
        ({"asset_ids": None}, 40002, "asset_ids"),
        ({"partner_id": "7299999999999999999"}, 40007, "7299999999999999999"),
        ({"partner_id": BC}, 40002, "partner_id"),
        ({"partner_id": None}, 40002, "partner_id"),
        ({"advertiser_role": "AD_PROMOTE"}, 40002, "advertiser_role"),
    ],
)
async def test_add_errors_change_nothing(
    client: httpx.AsyncClient, params: dict[str, Any], code: int, fragment: str
) -> None:
    base = {"partner_id": PARTNER2, "asset_type": "ADVERTISER", "asset_ids": [AD2]}
    merged = {k: v for k, v in {**base, **params}.items() if v is not None}
    message = await fails(client, "POST", "bc/partner/add/", code, bc_id=BC, **merged)
    assert fragment in message
    assert await partner_ids(client) == [PARTNER]


async def test_a_partner_bc_sees_and_uses_what_is_shared_with_it(
    client: httpx.AsyncClient,
) -> None:
    await ok(
        client, "POST", "bc/partner/add/", bc_id=BC, partner_id=OTHER_BC, asset_type="ADVERTISER",
        asset_ids=[AD2], advertiser_role="OPERATOR",
    )  # fmt: skip
    theirs = await ok(
        client, "GET", "bc/asset/admin/get/", token="boss", bc_id=OTHER_BC, asset_type="ADVERTISER"
    )
    assert [(a["asset_id"], a["relation_type"], a["owner_bc_name"]) for a in theirs["list"]] == [
        (OTHER_AD, "OWNER_BC", "Other Co"),
        (AD2, "OWNER_PARTNER", "Test Co"),
    ]
    received = await sharing(client, BC, bc_id=OTHER_BC, token="boss", share_type="SHARED")
    assert received == {AD2: "OPERATOR"}
    # it cannot pass the asset on: a BC shares only what it owns
    message = await fails(
        client, "POST", "bc/partner/add/", 40001, token="boss", bc_id=OTHER_BC, partner_id=PARTNER,
        asset_type="ADVERTISER", asset_ids=[AD2],
    )  # fmt: skip
    assert "does not own" in message
    # it can assign it to its members; revoking the share takes that away too
    admin2 = "6000000000000000002"
    await ok(
        client, "POST", "bc/asset/assign/", token="boss", bc_id=OTHER_BC, user_id=admin2,
        asset_type="ADVERTISER", asset_id=AD2, advertiser_role="ANALYST",
    )  # fmt: skip
    await ok(
        client, "POST", "bc/partner/asset/delete/", bc_id=BC, partner_id=OTHER_BC,
        asset_type="ADVERTISER", asset_ids=[AD2],
    )  # fmt: skip
    mine = await ok(
        client, "GET", "bc/asset/get/", token="admin2", bc_id=OTHER_BC, asset_type="ADVERTISER"
    )
    assert mine["list"] == []


async def test_partner_asset_delete_cancels_shares(client: httpx.AsyncClient) -> None:
    await ok(
        client, "POST", "bc/partner/add/", bc_id=BC, partner_id=PARTNER, asset_type="ADVERTISER",
        asset_ids=[AD2, AD3],
    )  # fmt: skip
    await ok(
        client, "POST", "bc/partner/asset/delete/", bc_id=BC, partner_id=PARTNER,
        asset_type="ADVERTISER", asset_ids=[AD1, AD3],
    )  # fmt: skip
    assert await sharing(client, PARTNER) == {AD2: "ANALYST"}
    assert await partner_ids(client) == [PARTNER]  # the partnership stays


@pytest.mark.parametrize(
    ("params", "code", "fragment"),
    [
        ({"asset_ids": [AD1, AD2]}, 40007, AD2),  # AD2 is not shared: nothing is cancelled
        ({"partner_id": PARTNER2}, 40007, PARTNER2),
        # Every SDK asset type is a valid value; no TikTok account is ever shared: not found.
        ({"asset_type": "TT_ACCOUNT"}, 40007, "TT_ACCOUNT"),
        ({"asset_type": "WEBSITE"}, 40002, "asset_type"),
        ({"asset_ids": None}, 40002, "asset_ids"),
    ],
)
async def test_partner_asset_delete_errors(
    client: httpx.AsyncClient, params: dict[str, Any], code: int, fragment: str
) -> None:
    base = {"partner_id": PARTNER, "asset_type": "ADVERTISER", "asset_ids": [AD1]}
    merged = {k: v for k, v in {**base, **params}.items() if v is not None}
    message = await fails(client, "POST", "bc/partner/asset/delete/", code, bc_id=BC, **merged)
    assert fragment in message
    assert await sharing(client, PARTNER) == {AD1: "ANALYST"}


async def test_partner_delete_removes_the_partner_and_its_shares(
    client: httpx.AsyncClient,
) -> None:
    await ok(client, "POST", "bc/partner/delete/", bc_id=BC, partner_id=PARTNER)
    assert await partner_ids(client) == []
    data = await ok(
        client, "GET", "bc/asset/partner/get/", bc_id=BC, asset_type="ADVERTISER", asset_id=AD1
    )
    assert data["list"] == []
    message = await fails(client, "POST", "bc/partner/delete/", 40007, bc_id=BC, partner_id=PARTNER)
    assert PARTNER in message
