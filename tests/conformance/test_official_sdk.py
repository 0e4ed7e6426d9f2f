"""TikTok's own Python SDK against the served emulator: each endpoint bcsync uses, and its data.

`tiktok-business-api-sdk-official` (the package of tiktok/tiktok-business-api-sdk) is a test
dependency. Each call goes through the SDK's own models and request encoding (the token header,
JSON-encoded GET objects) to `bcsync emulator`'s app on a real 127.0.0.1 socket. A call that returns
is one the emulator answered with code 0 (the SDK raises on any other code and returns only data
and request id); each test then checks
the data that came back: reads against the conformance world and against the shapes bcsync reads
(shapes.py), writes by reading their effect back through the SDK.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import business_api_client as sdk
import pytest
from business_api_client.api.bc_api import BCApi
from business_api_client.tiktok_business.tiktok_exceptions import TiktokSDKError
from variant import on, reshaped, serve

from bcsync.emulator import create_app
from bcsync.providers.tiktok import shapes

from .table import AD1, AD2, BC, BOB, GROUP, LEAD, PARTNER, PIXEL, STD, STORE
from .world import EXTRA, TOKEN, seed

T = TOKEN
MEMBERS = 4 + EXTRA  # joined members of the conformance world (one more is pending)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The emulator on a real socket, once for the module (reads first, then writes)."""
    app = create_app(Path(tmp_path_factory.mktemp("sdk")) / "emulator.db", seed())
    try:
        with serve(app) as url:
            yield url
    finally:
        app.state.emulator.close()


@pytest.fixture(scope="module")
def api(served: str) -> BCApi:
    config = sdk.Configuration()
    config.host = served
    return BCApi(sdk.ApiClient(config))


def data(answer: Any, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
    """The answer's data, after checking the shape bcsync reads from `path`."""
    body: dict[str, Any] = answer["data"]
    assert answer["request_id"], answer
    keys = shapes.expected(path, params or {})
    assert keys is not None and shapes.problems(keys, body) == [], shapes.problems(keys, body)
    return body


def done(answer: Any) -> bool:
    """A write the emulator answered with code 0 (the SDK returns data and request id)."""
    return bool(answer["request_id"]) and answer["data"] == {}


def items(body: dict[str, Any], key: str = "list") -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = body[key]
    return found


# ---- reads: each answer is the conformance world, in the shape bcsync reads ---------------------


def test_bc_get(api: BCApi) -> None:
    body = data(api.bc_get(T, bc_id=BC), "bc/get/")
    [entry] = items(body)
    assert entry["bc_info"]["bc_id"] == BC and entry["user_role"] == "ADMIN"


def test_member_get_filtered_and_paged(api: BCApi) -> None:
    bound = sdk.FilteringBcMemberGet(relation_status="BOUND")
    first = data(api.bc_member_get(BC, T, page=1, page_size=20, filtering=bound), "bc/member/get/")
    second = data(api.bc_member_get(BC, T, page=2, page_size=20, filtering=bound), "bc/member/get/")
    listed = items(first) + items(second)
    assert first["page_info"]["total_number"] == MEMBERS == len(listed)
    assert {m["relation_status"] for m in listed} == {"BOUND"}
    assert len({m["user_id"] for m in listed}) == MEMBERS
    pending = sdk.FilteringBcMemberGet(relation_status="PENDING")
    [invitee] = items(data(api.bc_member_get(BC, T, filtering=pending), "bc/member/get/"))
    assert invitee["user_email"] == "pending@conformance.example"


def test_asset_get_for_a_member(api: BCApi) -> None:
    params = {"asset_type": "ADVERTISER"}
    body = data(
        api.bc_asset_get(
            BC, "ADVERTISER", T, page_size=50, filtering=sdk.FilteringBcAssetGet(user_id=BOB)
        ),
        "bc/asset/get/",
        params,
    )
    assert [(a["asset_id"], a["advertiser_role"]) for a in items(body)] == [(AD1, "OPERATOR")]
    store = data(
        api.bc_asset_get(BC, "STOREFRONT", T, filtering=sdk.FilteringBcAssetGet(user_id=BOB)),
        "bc/asset/get/",
        {"asset_type": "STOREFRONT"},
    )
    assert [(a["asset_id"], a["store_role"]) for a in items(store)] == [(STORE, "MANAGER")]


def test_asset_admin_get(api: BCApi) -> None:
    status = sdk.FilteringBcAssetAdminGet(relation_status="BOUND")
    body = data(
        api.bc_asset_admin_get(BC, "PIXEL", T, filtering=status),
        "bc/asset/admin/get/",
        {"asset_type": "PIXEL"},
    )
    assert [(a["asset_id"], a["relation_status"]) for a in items(body)] == [(PIXEL, "BOUND")]


def test_asset_member_get(api: BCApi) -> None:
    body = data(
        api.bc_asset_member_get(BC, "LEAD", LEAD, T),
        "bc/asset/member/get/",
        {"asset_type": "LEAD"},
    )
    assert [m["user_id"] for m in items(body)] == [BOB]


def test_partner_get_and_partner_asset_get(api: BCApi) -> None:
    partners = data(api.bc_partner_get(BC, T, page_size=50), "bc/partner/get/")
    assert [p["bc_id"] for p in items(partners)] == [PARTNER]
    params = {"asset_type": "ADVERTISER"}
    shares = data(
        api.bc_partner_asset_get(BC, PARTNER, "ADVERTISER", "SHARING", T),
        "bc/partner/asset/get/",
        params,
    )
    assert [(a["asset_id"], a["advertiser_role"]) for a in items(shares)] == [(AD1, "ANALYST")]


def test_asset_groups(api: BCApi) -> None:
    listed = data(api.bc_asset_group_list(BC, T, page=1, page_size=10), "bc/asset_group/list/")
    assert [g["asset_group_id"] for g in items(listed, "asset_groups")] == [GROUP]
    params = {"query_entity": "MEMBER"}
    members = data(
        api.bc_asset_group_get(BC, GROUP, "MEMBER", T, page=1, page_size=10),
        "bc/asset_group/get/",
        params,
    )
    roles = {
        m["member_id"]: m["asset_roles"]["ADVERTISER"] for m in members["asset_group"]["members"]
    }
    assert roles == {BOB: "ADVERTISER_ROLE_OPERATOR", STD: "ADVERTISER_ROLE_ANALYST"}
    assets = data(
        api.bc_asset_group_get(BC, GROUP, "ASSET", T, page=1, page_size=10),
        "bc/asset_group/get/",
        {"query_entity": "ASSET"},
    )
    assert [a["asset_id"] for a in assets["asset_group"]["assets"]] == [AD1, AD2]


# ---- writes: each one's effect, read back through the SDK ---------------------------------------


def member(api: BCApi, email: str) -> dict[str, Any] | None:
    keyword = sdk.FilteringBcMemberGet(keyword=email)
    found = items(data(api.bc_member_get(BC, T, filtering=keyword), "bc/member/get/"))
    return next((m for m in found if m["user_email"] == email), None)


def held(api: BCApi, user_id: str, asset_type: str) -> dict[str, Any]:
    answer = api.bc_asset_get(BC, asset_type, T, filtering=sdk.FilteringBcAssetGet(user_id=user_id))
    body = data(answer, "bc/asset/get/", {"asset_type": asset_type})
    return {a["asset_id"]: a for a in items(body)}


def shared(api: BCApi) -> dict[str, str]:
    answer = api.bc_partner_asset_get(BC, PARTNER, "ADVERTISER", "SHARING", T)
    body = data(answer, "bc/partner/asset/get/", {"asset_type": "ADVERTISER"})
    return {a["asset_id"]: a["advertiser_role"] for a in items(body)}


def test_writes_take_effect(api: BCApi) -> None:
    ext = sdk.BcmemberinviteExtUserRole(finance_role="ANALYST")
    invite = sdk.MemberInviteBody(
        bc_id=BC,
        emails=["sdk@conformance.example"],
        asset_ids=[AD1],
        advertiser_role="OPERATOR",
        ext_user_role=ext,
    )
    assert done(api.bc_member_invite(T, body=invite))
    invited = member(api, "sdk@conformance.example")
    assert invited and invited["relation_status"] == "PENDING"
    assert invited["ext_user_role"] == {"finance_role": "ANALYST"}

    plain = sdk.MemberInviteBody(bc_id=BC, emails=["plain@conformance.example"], asset_ids=[])
    assert done(api.bc_member_invite(T, body=plain))
    assert member(api, "plain@conformance.example") is not None

    update = sdk.MemberUpdateBody(bc_id=BC, user_id=STD, user_role="ADMIN", ext_user_role=ext)
    assert done(api.bc_member_update(T, body=update))
    stan = member(api, "std@conformance.example")
    assert stan and (stan["user_role"], stan["ext_user_role"]) == (
        "ADMIN",
        {"finance_role": "ANALYST"},
    )

    assign = sdk.AssetAssignBody(
        bc_id=BC, user_id=STD, asset_type="ADVERTISER", asset_id=AD1, advertiser_role="ADMIN"
    )
    assert done(api.bc_asset_assign(T, body=assign))
    assert held(api, STD, "ADVERTISER")[AD1]["advertiser_role"] == "ADMIN"

    pixel = sdk.AssetAssignBody(bc_id=BC, user_id=STD, asset_type="PIXEL", asset_id=PIXEL)
    assert done(api.bc_asset_assign(T, body=pixel))
    assert PIXEL in held(api, STD, "PIXEL")
    unassign = sdk.AssetUnassignBody(bc_id=BC, user_id=STD, asset_type="PIXEL", asset_id=PIXEL)
    assert done(api.bc_asset_unassign(T, body=unassign))
    assert PIXEL not in held(api, STD, "PIXEL")

    store = sdk.AssetAssignBody(
        bc_id=BC, user_id=STD, asset_type="STOREFRONT", asset_id=STORE, store_role="AD_PROMOTION"
    )
    assert done(api.bc_asset_assign(T, body=store))
    assert held(api, STD, "STOREFRONT")[STORE]["store_role"] == "AD_PROMOTION"

    add = sdk.PartnerAddBody(bc_id=BC, partner_id=PARTNER, asset_type="ADVERTISER", asset_ids=[AD2])
    assert done(api.bc_partner_add(T, body=add))
    assert shared(api) == {AD1: "ANALYST", AD2: "ANALYST"}  # advertiser_role defaults to ANALYST
    stop = sdk.AssetDeleteBody(
        bc_id=BC, partner_id=PARTNER, asset_type="ADVERTISER", asset_ids=[AD2]
    )
    assert done(api.bc_partner_asset_delete(T, body=stop))
    assert shared(api) == {AD1: "ANALYST"}
    drop = sdk.PartnerDeleteBody(bc_id=BC, partner_id=PARTNER)
    assert done(api.bc_partner_delete(T, body=drop))
    assert items(data(api.bc_partner_get(BC, T), "bc/partner/get/")) == []

    by_email = sdk.MemberDeleteBody(bc_id=BC, user_email="pending@conformance.example")
    assert done(api.bc_member_delete(T, body=by_email))
    assert member(api, "pending@conformance.example") is None
    by_id = sdk.MemberDeleteBody(bc_id=BC, user_id=BOB)
    assert done(api.bc_member_delete(T, body=by_id))
    assert member(api, "bob@conformance.example") is None


def test_a_refusal_raises_in_the_sdk(api: BCApi) -> None:
    # The SDK raises on any code but 0: the emulator's refusals reach it as TikTok's would.
    bad = sdk.AssetAssignBody(bc_id=BC, user_id=BOB, asset_type="ADVERTISER", asset_id=AD1)
    with pytest.raises(TiktokSDKError, match="advertiser_role"):
        api.bc_asset_assign(T, body=bad)


def test_the_checks_catch_an_emulator_answering_garbage(tmp_path: Path) -> None:
    # What the old script missed: code 0 with a member list of {"garbage": true} passes the SDK,
    # and fails these checks.
    app = create_app(tmp_path / "garbage.db", seed())
    garbage = on("bc/member/get/", lambda body: body.__setitem__("list", [{"garbage": True}]))
    try:
        with serve(reshaped(app, garbage)) as url:
            config = sdk.Configuration()
            config.host = url
            answer = BCApi(sdk.ApiClient(config)).bc_member_get(BC, T)
            assert answer["data"]["list"] == [{"garbage": True}]  # the SDK took it
            with pytest.raises(AssertionError, match="user_id"):
                data(answer, "bc/member/get/")
    finally:
        app.state.emulator.close()
