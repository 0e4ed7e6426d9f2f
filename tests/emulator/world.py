"""The test world (a small seed) and helpers to call the emulator through its envelope."""

from __future__ import annotations

import json
from typing import Any

import httpx
from starlette.applications import Starlette

API = "/open_api/v1.3/"
BC = "7000000000000000001"
OTHER_BC = "7000000000000000002"
PARTNER = "7200000000000000001"
PARTNER2 = "7200000000000000002"
AD1, AD2, AD3 = "7100000000000000001", "7100000000000000002", "7100000000000000003"
OTHER_AD = "7100000000000000009"
CATALOG, TT, SHOP, LEAD = (
    "7300000000000000001",
    "7400000000000000001",
    "7500000000000000001",
    "7600000000000000001",
)
ADMIN1, ADMIN2, STD, BOB, CAROL, OUTSIDER, BOSS = (f"600000000000000000{i}" for i in range(1, 8))
TOKENS = {
    "admin1": "tok-admin1-secret",
    "admin2": "tok-admin2-secret",
    "std": "tok-std-secret",
    "outsider": "tok-outsider-secret",
    "boss": "tok-boss-secret",
}

SEED: dict[str, Any] = {
    "version": 1,
    "users": [
        {"user_id": ADMIN1, "email": "Admin1@Test.example", "name": "Ann Admin",
         "token": TOKENS["admin1"]},
        {"user_id": ADMIN2, "email": "admin2@test.example", "name": "Abe Admin",
         "token": TOKENS["admin2"]},
        {"user_id": STD, "email": "std@test.example", "name": "Stan Standard",
         "token": TOKENS["std"], "app_id": "other-app"},
        {"user_id": BOB, "email": "bob@test.example", "name": "Bob Buyer"},
        {"user_id": CAROL, "email": "carol@test.example", "name": "Carol Catalog"},
        {"user_id": OUTSIDER, "email": "out@else.example", "name": "Otto Outsider",
         "token": TOKENS["outsider"]},
        {"user_id": BOSS, "email": "boss@other.example", "name": "Bo Boss",
         "token": TOKENS["boss"]},
    ],
    "business_centers": [
        {
            "bc_id": BC,
            "name": "Test Co",
            "members": [
                {"email": "admin1@test.example", "role": "ADMIN", "finance_role": "MANAGER"},
                {"email": "admin2@test.example", "role": "ADMIN"},
                {"email": "std@test.example", "role": "STANDARD"},
                {"email": "bob@test.example", "role": "STANDARD"},
                {"email": "carol@test.example", "role": "STANDARD", "finance_role": "ANALYST"},
                {"email": "pending@test.example", "role": "STANDARD", "status": "PENDING"},
            ],
            "assets": {
                "ADVERTISER": [
                    {"id": AD1, "name": "Ad One"},
                    {"id": AD2, "name": "Ad Two"},
                    {"id": AD3, "name": "Ad Three", "advertiser_account_type": "RESERVATION"},
                ],
                "CATALOG": [{"id": CATALOG, "name": "Catalog"}],
                "TT_ACCOUNT": [{"id": TT, "name": "@test"}],
                "TIKTOK_SHOP": [{"id": SHOP, "name": "Shop"}],
                "LEAD": [{"id": LEAD, "name": "Leads"}],
            },
            "grants": [
                {"email": "bob@test.example", "asset_type": "ADVERTISER", "asset_id": AD1,
                 "role": "OPERATOR"},
                {"email": "bob@test.example", "asset_type": "TT_ACCOUNT", "asset_id": TT,
                 "role": ["POST"]},
                {"email": "std@test.example", "asset_type": "ADVERTISER", "asset_id": AD2,
                 "role": "ANALYST"},
                {"email": "carol@test.example", "asset_type": "CATALOG", "asset_id": CATALOG,
                 "role": "ADMIN"},
                {"email": "pending@test.example", "asset_type": "ADVERTISER", "asset_id": AD3,
                 "role": "ANALYST"},
            ],
            "partners": [
                {"bc_id": PARTNER,
                 "shares": [{"asset_type": "ADVERTISER", "asset_id": AD1, "role": "ANALYST"}]},
            ],
        },
        {
            "bc_id": OTHER_BC,
            "name": "Other Co",
            "members": [
                {"email": "boss@other.example", "role": "ADMIN"},
                {"email": "admin2@test.example", "role": "STANDARD"},
            ],
            "assets": {"ADVERTISER": [{"id": OTHER_AD, "name": "Other Ad"}]},
        },
    ],
    "external_business_centers": [
        {"bc_id": PARTNER, "name": "Partner One"},
        {"bc_id": PARTNER2, "name": "Partner Two"},
    ],
}  # fmt: skip


# The control endpoints' own token (never a TikTok token) and the header that carries it.
CONTROL_TOKEN = "emulator-control-token-for-tests"
CONTROL_HEADERS = {"Emulator-Control-Token": CONTROL_TOKEN}
# Control requests are answered only to loopback Host names (against DNS rebinding).
BASE_URL = "http://127.0.0.1"


def client_for(app: Starlette) -> httpx.AsyncClient:
    """A client of the in-process app, as a control client on this machine would be."""
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app), base_url=BASE_URL, headers=CONTROL_HEADERS
    )


async def call(
    client: httpx.AsyncClient, method: str, path: str, token: str | None = "admin1", **params: Any
) -> dict[str, Any]:
    """One API call; asserts the envelope and returns it. `token` is a TOKENS key or None."""
    headers = {"Access-Token": TOKENS.get(token, token)} if token else {}
    if method == "GET":
        query = {k: json.dumps(v) if isinstance(v, dict | list) else v for k, v in params.items()}
        response = await client.get(API + path, params=query, headers=headers)
    else:
        response = await client.post(API + path, json=params, headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"code", "message", "request_id", "data"}
    assert isinstance(body["request_id"], str) and body["request_id"]
    if body["code"] != 0:
        assert body["data"] == {}
    return body


async def ok(client: httpx.AsyncClient, method: str, path: str, **params: Any) -> dict[str, Any]:
    """A call that must succeed; its data."""
    body = await call(client, method, path, **params)
    assert (body["code"], body["message"]) == (0, "OK"), body
    return body["data"]


async def fails(client: httpx.AsyncClient, method: str, path: str, code: int, **params: Any) -> str:
    """A call that must fail with `code`; its message."""
    body = await call(client, method, path, **params)
    assert body["code"] == code, body
    return body["message"]


async def members(
    client: httpx.AsyncClient, bc_id: str = BC, token: str = "admin1"
) -> dict[str, dict[str, Any]]:
    """Every member of a BC by email, over every page."""
    found: dict[str, dict[str, Any]] = {}
    page, total_page = 1, 1
    while page <= total_page:
        data = await ok(
            client, "GET", "bc/member/get/", token=token, bc_id=bc_id, page=page, page_size=20
        )
        found.update({m["user_email"]: m for m in data["list"]})
        page, total_page = page + 1, data["page_info"]["total_page"]
    return found


async def changelog(client: httpx.AsyncClient, bc_id: str = BC) -> list[dict[str, Any]]:
    """The BC's activity log, newest first."""
    data = await ok(client, "GET", "changelog/get/", bc_id=bc_id, page_size=50)
    return data["changelog_list"]
