"""Contract tests of the read endpoints: shapes, filters, paging, page-size maxima, auth, 404s."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from .world import (
    AD1,
    AD2,
    AD3,
    ADMIN1,
    API,
    BC,
    BOB,
    CAROL,
    CATALOG,
    OTHER_AD,
    OTHER_BC,
    PARTNER,
    PARTNER2,
    STD,
    TT,
    call,
    fails,
    ok,
)


async def test_bc_get_lists_the_callers_bcs_with_their_role(client: httpx.AsyncClient) -> None:
    data = await ok(client, "GET", "bc/get/", token="admin2")
    assert [(b["bc_info"]["bc_id"], b["user_role"]) for b in data["list"]] == [
        (BC, "ADMIN"),
        (OTHER_BC, "STANDARD"),
    ]
    first = data["list"][0]
    assert set(first) == {"bc_info", "user_role", "ext_user_role", "binding_status"}
    assert {"bc_id", "name", "company", "currency", "timezone", "status", "type"} <= set(
        first["bc_info"]
    )
    assert data["page_info"] == {"page": 1, "page_size": 10, "total_number": 2, "total_page": 1}


@pytest.mark.parametrize(
    ("token", "params", "expected"),
    [
        ("admin1", {}, [BC]),
        ("admin1", {"bc_id": BC}, [BC]),
        ("std", {}, [BC]),  # not an admin endpoint
        ("outsider", {}, []),  # a user in no BC sees none
        ("admin2", {"filtering": {"keyword": "other"}}, [OTHER_BC]),
    ],
)
async def test_bc_get_shows_only_bcs_the_user_joined(
    client: httpx.AsyncClient, token: str, params: dict[str, Any], expected: list[str]
) -> None:
    data = await ok(client, "GET", "bc/get/", token=token, **params)
    assert [b["bc_info"]["bc_id"] for b in data["list"]] == expected
    assert data["list"][:1] == [] or data["list"][0]["ext_user_role"] in (
        {},
        {"finance_role": "MANAGER"},
    )


async def test_bc_get_of_a_foreign_or_unknown_bc(client: httpx.AsyncClient) -> None:
    assert "not a member" in await fails(client, "GET", "bc/get/", 40001, bc_id=OTHER_BC)
    assert "does not exist" in await fails(client, "GET", "bc/get/", 40007, bc_id="7999")


async def test_member_get_shape_and_statuses(client: httpx.AsyncClient) -> None:
    data = await ok(client, "GET", "bc/member/get/", bc_id=BC, page_size=50)
    by_email = {m["user_email"]: m for m in data["list"]}
    assert by_email["admin1@test.example"] == {
        "user_id": ADMIN1,
        "user_name": "Ann Admin",
        "user_email": "admin1@test.example",  # lower-cased from the seed's Admin1@Test.example
        "user_role": "ADMIN",
        "relation_status": "BOUND",
        "ext_user_role": {"finance_role": "MANAGER"},
    }
    pending = by_email["pending@test.example"]
    assert (pending["user_id"], pending["relation_status"], pending["ext_user_role"]) == (
        "",
        "PENDING",
        {},
    )
    assert all(isinstance(m["user_id"], str) for m in data["list"])


@pytest.mark.parametrize(
    ("filtering", "expected"),
    [
        ({"user_role": "ADMIN"}, {"admin1@test.example", "admin2@test.example"}),
        ({"relation_status": "PENDING"}, {"pending@test.example"}),
        ({"keyword": "CAROL"}, {"carol@test.example"}),
        ({"keyword": "stan"}, {"std@test.example"}),  # matches the name too
        ({"relation_status": "REJECTED"}, set()),
    ],
)
async def test_member_get_filtering(
    client: httpx.AsyncClient, filtering: dict[str, str], expected: set[str]
) -> None:
    data = await ok(client, "GET", "bc/member/get/", bc_id=BC, filtering=filtering)
    assert {m["user_email"] for m in data["list"]} == expected


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "bc_id"),
        ({"bc_id": "abc"}, "bc_id"),
        ({"bc_id": BC, "filtering": "{not json"}, "filtering"),
        ({"bc_id": BC, "filtering": '["a list"]'}, "filtering"),
        ({"bc_id": BC, "filtering": {"user_role": "OWNER"}}, "filtering.user_role"),
        ({"bc_id": BC, "page": 0}, "page"),
        ({"bc_id": BC, "page_size": "ten"}, "page_size"),
    ],
)
async def test_bad_parameters_are_40002_naming_the_field(
    client: httpx.AsyncClient, params: dict[str, Any], field: str
) -> None:
    message = await fails(client, "GET", "bc/member/get/", 40002, **params)
    assert field in message


async def test_missing_fields_are_listed_at_once(client: httpx.AsyncClient) -> None:
    message = await fails(client, "POST", "bc/asset/assign/", 40002, bc_id=BC)
    assert message == "Missing required field(s): user_id, asset_type, asset_id."


@pytest.mark.parametrize(
    ("page", "size", "count", "total_page"),
    [
        *[(1, 10, 10, 3), (2, 10, 10, 3), (3, 10, 6, 3), (4, 10, 0, 3), (2, 13, 13, 2)],
        (1, 20, 20, 2),
        # Over 20 the page is silently cut to 20 while page_info follows the requested size:
        # the most pessimistic reading of member/get's undeclared cap.
        *[(1, 50, 20, 1), (1, 26, 20, 1), (2, 21, 5, 2)],
    ],
)
async def test_member_get_paging(
    client: httpx.AsyncClient, page: int, size: int, count: int, total_page: int
) -> None:
    emails = [f"user{i:02d}@paging.example" for i in range(20)]
    await ok(client, "POST", "bc/member/invite/", asset_ids=[], bc_id=BC, emails=emails)
    data = await ok(client, "GET", "bc/member/get/", bc_id=BC, page=page, page_size=size)
    assert len(data["list"]) == count
    info = {"page": page, "page_size": size, "total_number": 26, "total_page": total_page}
    assert data["page_info"] == info


async def test_pages_cover_every_member_once(client: httpx.AsyncClient) -> None:
    await ok(
        client,
        "POST",
        "bc/member/invite/",
        asset_ids=[],
        bc_id=BC,
        emails=[f"p{i}@x.example" for i in range(9)],
    )
    seen = []
    for page in (1, 2, 3, 4):
        data = await ok(client, "GET", "bc/member/get/", bc_id=BC, page=page, page_size=4)
        seen += [m["user_email"] for m in data["list"]]
    assert len(seen) == len(set(seen)) == 15


ASSET_ARGS = {"bc_id": BC, "asset_type": "ADVERTISER"}
ONE_ASSET = {**ASSET_ARGS, "asset_id": AD1}


@pytest.mark.parametrize(
    ("path", "params", "maximum"),
    [
        ("bc/get/", {}, 50),
        ("bc/asset/get/", ASSET_ARGS, 50),
        ("bc/asset/admin/get/", ASSET_ARGS, 50),
        ("bc/asset/member/get/", ONE_ASSET, 20),
        ("bc/asset/partner/get/", ONE_ASSET, 50),
        ("bc/partner/get/", {"bc_id": BC}, 50),
        (
            "bc/partner/asset/get/",
            {**ASSET_ARGS, "partner_id": PARTNER, "share_type": "SHARING"},
            50,
        ),
        ("changelog/get/", {"bc_id": BC}, 50),
    ],
)
async def test_page_size_maxima(
    client: httpx.AsyncClient, path: str, params: dict[str, Any], maximum: int
) -> None:
    data = await ok(client, "GET", path, page_size=maximum, **params)
    assert data["page_info"]["page_size"] == maximum
    message = await fails(client, "GET", path, 40002, page_size=maximum + 1, **params)
    assert message.startswith("page_size:") and f"between 1 and {maximum}" in message


async def test_asset_admin_get_lists_every_owned_asset(client: httpx.AsyncClient) -> None:
    data = await ok(client, "GET", "bc/asset/admin/get/", **ASSET_ARGS)
    assert [a["asset_id"] for a in data["list"]] == [AD1, AD2, AD3]
    item = data["list"][2]
    assert item["asset_name"] == "Ad Three"
    assert item["advertiser_account_type"] == "RESERVATION"
    assert (item["relation_type"], item["relation_status"], item["owner_bc_name"]) == (
        "OWNER_BC",
        "BOUND",
        "Test Co",
    )
    assert item["advertiser_role"] is None  # no role in the admin listing
    catalogs = await ok(client, "GET", "bc/asset/admin/get/", bc_id=BC, asset_type="CATALOG")
    assert [(a["asset_id"], a["advertiser_account_type"]) for a in catalogs["list"]] == [
        (CATALOG, None)
    ]
    kw = await ok(client, "GET", "bc/asset/admin/get/", filtering={"keyword": "two"}, **ASSET_ARGS)
    assert [a["asset_id"] for a in kw["list"]] == [AD2]


@pytest.mark.parametrize(
    ("token", "asset_type", "filtering", "expected"),
    [
        ("std", "ADVERTISER", {}, {AD2: ("advertiser_role", "ANALYST")}),
        ("admin1", "ADVERTISER", {}, {}),  # explicit assignments only
        ("admin1", "ADVERTISER", {"user_id": BOB}, {AD1: ("advertiser_role", "OPERATOR")}),
        ("admin1", "TT_ACCOUNT", {"user_id": BOB}, {TT: ("tt_account_roles", ["POST"])}),
        ("admin1", "CATALOG", {"user_id": CAROL}, {CATALOG: ("catalog_role", "ADMIN")}),
        ("std", "ADVERTISER", {"user_id": STD}, {AD2: ("advertiser_role", "ANALYST")}),
        (
            "admin1",
            "ADVERTISER",
            {"user_email": "Pending@test.example"},
            {AD3: ("advertiser_role", "ANALYST")},
        ),
    ],
)
async def test_asset_get_roles_per_type(
    client: httpx.AsyncClient,
    token: str,
    asset_type: str,
    filtering: dict[str, str],
    expected: dict[str, tuple[str, Any]],
) -> None:
    data = await ok(
        client, "GET", "bc/asset/get/", token=token, bc_id=BC, asset_type=asset_type,
        filtering=filtering,
    )  # fmt: skip
    got = {}
    for item in data["list"]:
        roles = {k: v for k, v in item.items() if k.endswith(("_role", "_roles")) and v is not None}
        assert len(roles) == 1, item  # role fields are non-null only for their type
        got[item["asset_id"]] = next(iter(roles.items()))
    assert got == expected


@pytest.mark.parametrize(
    ("token", "params", "code", "fragment"),
    [
        ("std", {"asset_type": "ADVERTISER", "filtering": {"user_id": BOB}}, 40001, "admins"),
        ("admin1", {"asset_type": "ADVERTISER", "filtering": {"user_id": "6999"}}, 40007, "6999"),
        (
            "admin1",
            {"asset_type": "CATALOG", "filtering": {"user_email": "pending@test.example"}},
            40002,
            "filtering.user_email",
        ),
        (
            "admin1",
            {"asset_type": "ADVERTISER", "filtering": {"user_id": BOB, "user_email": "a@b.co"}},
            40002,
            "filtering.user_email",
        ),
        (
            "admin1",
            {"asset_type": "ADVERTISER", "filtering": {"user_email": "bob@test.example"}},
            40007,
            "Pending invitation",
        ),
        ("admin1", {}, 40002, "asset_type"),
        ("admin1", {"asset_type": "PIXELS"}, 40002, "asset_type"),
    ],
)
async def test_asset_get_errors(
    client: httpx.AsyncClient, token: str, params: dict[str, Any], code: int, fragment: str
) -> None:
    message = await fails(client, "GET", "bc/asset/get/", code, token=token, bc_id=BC, **params)
    assert fragment in message


async def test_asset_member_get_lists_bound_members_with_the_role(
    client: httpx.AsyncClient,
) -> None:
    data = await ok(client, "GET", "bc/asset/member/get/", **ONE_ASSET)
    assert data["list"] == [
        {
            "user_id": BOB,
            "user_name": "Bob Buyer",
            "user_email": "bob@test.example",
            "relation_status": "BOUND",
            "advertiser_role": "OPERATOR",
        }
    ]
    catalog = await ok(
        client, "GET", "bc/asset/member/get/", bc_id=BC, asset_type="CATALOG", asset_id=CATALOG
    )
    assert [(m["user_id"], m["catalog_role"]) for m in catalog["list"]] == [(CAROL, "ADMIN")]
    # the pending invitee's grant on AD3 is not listed: it lists BOUND members only
    ad3 = await ok(client, "GET", "bc/asset/member/get/", **{**ONE_ASSET, "asset_id": AD3})
    assert ad3["list"] == []


@pytest.mark.parametrize(
    ("params", "code", "fragment"),
    [
        ({"asset_type": "TT_ACCOUNT", "asset_id": TT}, 40002, "asset_type"),
        ({"asset_type": "ADVERTISER", "asset_id": OTHER_AD}, 40007, OTHER_AD),
        ({"asset_type": "ADVERTISER"}, 40002, "asset_id"),
    ],
)
async def test_asset_member_get_errors(
    client: httpx.AsyncClient, params: dict[str, str], code: int, fragment: str
) -> None:
    message = await fails(client, "GET", "bc/asset/member/get/", code, bc_id=BC, **params)
    assert fragment in message


async def test_partner_reads(client: httpx.AsyncClient) -> None:
    partners = await ok(client, "GET", "bc/partner/get/", bc_id=BC)
    assert partners["list"] == [{"bc_id": PARTNER, "bc_name": "Partner One"}]
    named = await ok(client, "GET", "bc/partner/get/", bc_id=BC, filtering={"name": "nobody"})
    assert named["list"] == []
    sharing = await ok(
        client, "GET", "bc/partner/asset/get/", partner_id=PARTNER, share_type="SHARING",
        **ASSET_ARGS,
    )  # fmt: skip
    assert [(a["asset_id"], a["advertiser_role"]) for a in sharing["list"]] == [(AD1, "ANALYST")]
    shared = await ok(
        client, "GET", "bc/partner/asset/get/", partner_id=PARTNER, share_type="SHARED",
        **ASSET_ARGS,
    )  # fmt: skip
    assert shared["list"] == []
    by_asset = await ok(client, "GET", "bc/asset/partner/get/", **ONE_ASSET)
    assert by_asset["list"] == [{"bc_id": PARTNER, "bc_name": "Partner One"}]
    unshared = await ok(client, "GET", "bc/asset/partner/get/", **{**ONE_ASSET, "asset_id": AD2})
    assert unshared["list"] == []


@pytest.mark.parametrize(
    ("params", "code", "fragment"),
    [
        ({"partner_id": PARTNER, "asset_type": "ADVERTISER"}, 40002, "share_type"),
        ({"partner_id": PARTNER, "asset_type": "TT_ACCOUNT", "share_type": "SHARING"}, 40002,
         "asset_type"),
        ({"partner_id": PARTNER2, "asset_type": "ADVERTISER", "share_type": "SHARING"}, 40007,
         "Partner 7200000000000000002"),
        ({"partner_id": "7299", "asset_type": "ADVERTISER", "share_type": "SHARING"}, 40007,
         "7299"),
    ],
)  # fmt: skip
async def test_partner_asset_get_errors(
    client: httpx.AsyncClient, params: dict[str, str], code: int, fragment: str
) -> None:
    message = await fails(client, "GET", "bc/partner/asset/get/", code, bc_id=BC, **params)
    assert fragment in message


ADMIN_ENDPOINTS = [
    ("GET", "bc/member/get/", {}),
    ("POST", "bc/member/invite/", {"emails": ["x@y.example"]}),
    ("POST", "bc/member/update/", {"user_id": BOB, "user_role": "ADMIN"}),
    ("POST", "bc/member/delete/", {"user_id": BOB}),
    ("GET", "bc/asset/admin/get/", {"asset_type": "ADVERTISER"}),
    ("GET", "bc/asset/member/get/", {"asset_type": "ADVERTISER", "asset_id": AD1}),
    ("GET", "bc/asset/partner/get/", {"asset_type": "ADVERTISER", "asset_id": AD1}),
    ("POST", "bc/asset/assign/", {"user_id": BOB, "asset_type": "ADVERTISER", "asset_id": AD2,
                                  "advertiser_role": "ADMIN"}),
    ("POST", "bc/asset/unassign/", {"user_id": BOB, "asset_type": "ADVERTISER", "asset_id": AD1}),
    ("POST", "bc/partner/add/", {"partner_id": PARTNER, "asset_type": "ADVERTISER",
                                 "asset_ids": [AD2]}),
    ("POST", "bc/partner/delete/", {"partner_id": PARTNER}),
    ("GET", "bc/partner/get/", {}),
    ("GET", "bc/partner/asset/get/", {"partner_id": PARTNER, "asset_type": "ADVERTISER",
                                      "share_type": "SHARING"}),
    ("POST", "bc/partner/asset/delete/", {"partner_id": PARTNER, "asset_type": "ADVERTISER",
                                          "asset_ids": [AD1]}),
    ("GET", "changelog/get/", {}),
]  # fmt: skip


@pytest.mark.parametrize(("method", "path", "params"), ADMIN_ENDPOINTS)
@pytest.mark.parametrize(("token", "code"), [("std", 40001), ("outsider", 40001)])
async def test_admin_endpoints_refuse_non_admins(
    client: httpx.AsyncClient,
    method: str,
    path: str,
    params: dict[str, Any],
    token: str,
    code: int,
) -> None:
    message = await fails(client, method, path, code, token=token, bc_id=BC, **params)
    assert message.startswith("No permission")


@pytest.mark.parametrize(("method", "path", "params"), ADMIN_ENDPOINTS[:4])
async def test_unknown_bc_is_40007(
    client: httpx.AsyncClient, method: str, path: str, params: dict[str, Any]
) -> None:
    message = await fails(client, method, path, 40007, bc_id="7000000000000000999", **params)
    assert "Business Center 7000000000000000999 does not exist" in message


MISSING = "Access token is null, you should set it in http header with key Access-Token."


@pytest.mark.parametrize("method,path", [("GET", "bc/get/"), ("POST", "bc/member/invite/")])
@pytest.mark.parametrize(
    ("token", "code", "message"),
    [
        (None, 40104, MISSING),
        ("   ", 40104, MISSING),
        ("tok-nobody", 40105, "Access token is incorrect or has been revoked."),
    ],
)
async def test_auth_errors(
    client: httpx.AsyncClient, method: str, path: str, token: str | None, code: int, message: str
) -> None:
    body = await call(client, method, path, token=token, bc_id=BC, emails=["a@b.example"])
    assert (body["code"], body["message"], body["data"]) == (code, message, {})


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", API + "bc/get"),  # no trailing slash
        ("POST", API + "bc/get/"),  # wrong method
        ("GET", API + "bc/member/invite/"),
        ("DELETE", API + "bc/member/delete/"),
        ("GET", API + "bc/nothing/"),
        ("GET", "/open_api/v1.2/bc/get/"),
        ("GET", API[:-1]),
        ("GET", "/"),
        ("GET", "/_emulator/state"),  # not enabled by default
    ],
)
async def test_gateway_404_is_plain_text(
    app: Any, client: httpx.AsyncClient, method: str, path: str
) -> None:
    if path.startswith("/_emulator"):
        from bcsync.emulator import create_app

        plain = create_app(app.state.emulator.store.path)
        try:
            async with httpx.AsyncClient(
                transport=httpx.ASGITransport(plain), base_url="http://emulator"
            ) as other:
                response = await other.request(method, path)
        finally:
            plain.state.emulator.close()
    else:
        response = await client.request(method, path, headers={"Access-Token": "tok-admin1-secret"})
    assert response.status_code == 404
    assert response.text == "404 page not found"
    assert response.headers["content-type"].startswith("text/plain")


async def test_get_parameters_arrive_json_encoded(client: httpx.AsyncClient) -> None:
    # filtering as the SDK sends it: a JSON string in the query
    query = {"bc_id": BC, "filtering": json.dumps({"user_role": "ADMIN"})}
    response = await client.get(
        API + "bc/member/get/", params=query, headers={"Access-Token": "tok-admin1-secret"}
    )
    assert response.json()["data"]["page_info"]["total_number"] == 2


async def test_post_body_must_be_a_json_object(client: httpx.AsyncClient) -> None:
    response = await client.post(
        API + "bc/member/invite/", content=b"[1, 2]", headers={"Access-Token": "tok-admin1-secret"}
    )
    body = response.json()
    assert (response.status_code, body["code"]) == (200, 40002)
    assert body["message"].startswith("request body")
