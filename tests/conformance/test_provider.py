"""The provider's requests against the conformance table: every request of a full read and of
every kind of write, captured on the way to the emulator."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from bcsync.core.model import AssetKey, AssetType, FinanceRole, MemberRole
from bcsync.core.operations import (
    Assign,
    Invite,
    RemoveMember,
    RemovePartner,
    Share,
    Unassign,
    Unshare,
    UpdateMember,
)
from bcsync.providers.base import Scope
from bcsync.providers.tiktok import write
from bcsync.providers.tiktok.client import RetryPolicy, TikTokClient
from bcsync.providers.tiktok.limiter import RateLimit, RateLimiter
from bcsync.providers.tiktok.provider import TikTokProvider
from bcsync.providers.tiktok.read import Strategy

from .table import (
    AD1,
    AD2,
    BC,
    BOB,
    BY_PATH,
    CATALOG,
    LEAD,
    PARTNER,
    PIXEL,
    ROWS,
    SHOP,
    STD,
    STORE,
    TT,
    Row,
    lookup,
)
from .world import TOKEN, seed

PREFIX = "/open_api/v1.3/"
KEYS = {
    AssetType.AD_ACCOUNT: (AD1, AD2),
    AssetType.CATALOG: (CATALOG,),
    AssetType.TIKTOK_ACCOUNT: (TT,),
    AssetType.SHOP: (SHOP,),
    AssetType.STOREFRONT: (STORE,),
    AssetType.LEAD_FORM: (LEAD,),
    AssetType.PIXEL: (PIXEL,),
}
SCOPE = Scope.of([AssetKey(t, i) for t, ids in KEYS.items() for i in ids])
ROLE_FIELDS = {"advertiser_role", "catalog_role", "form_library_role", "store_role"}


class Recorder(httpx.AsyncBaseTransport):
    """Passes requests to the emulator and keeps (method, path, decoded parameters)."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.seen: list[tuple[str, str, dict[str, Any]]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix(PREFIX)
        if request.method == "GET":
            values = {k: _decoded(v) for k, v in request.url.params.items()}
        else:
            values = json.loads(request.content or b"{}")
        self.seen.append((request.method, path, values))
        return await self.inner.handle_async_request(request)


def _decoded(value: str) -> Any:
    """GET values as the server reads them: JSON objects and lists decoded, numbers as ints."""
    if value[:1] in "{[":
        return json.loads(value)
    return int(value) if value.isdigit() and len(value) < 10 else value


@pytest.fixture
async def captured(tmp_path: Path) -> AsyncIterator[list[tuple[str, str, dict[str, Any]]]]:
    """Every request of: a read with each strategy, and every write the provider offers."""
    from bcsync.emulator import create_app

    app = create_app(tmp_path / "provider.db", seed())
    recorder = Recorder(httpx.ASGITransport(app=app))
    try:
        async with httpx.AsyncClient(transport=recorder) as http:
            client = TikTokClient(
                http,
                token=TOKEN,
                limiter=RateLimiter(RateLimit(qps=10_000, qpm=None, margin=0.0)),
                base_url="http://conformance.local/open_api/v1.3/",
                retry=RetryPolicy(attempts=2, base_delay=0.001, max_delay=0.002, settle_seconds=0),
                in_process=True,
            )
            await exercise(client)
        yield recorder.seen
    finally:
        app.state.emulator.close()


async def exercise(client: TikTokClient) -> None:
    for strategy in (Strategy.PER_ASSET, Strategy.PER_MEMBER):
        result = await TikTokProvider(BC, client, strategy=strategy).read_state(SCOPE)
        assert result.asset_group_access, "the world's asset group must be read"
    # A report's read: whom each asset is shared with; the partner `incoming:` names.
    report = replace(SCOPE, asset_partners=True, incoming=frozenset({PARTNER}))
    result = await TikTokProvider(BC, client).read_state(report)
    assert result.incoming_shares is not None
    p = TikTokProvider(BC, client)
    await p.write(Invite(["plain@conformance.example"], MemberRole.STANDARD, None))
    await p.write(
        Invite(
            ["ads@conformance.example"],
            MemberRole.ADMIN,
            FinanceRole.ANALYST,
            [AD1, AD2],
            "operator",
        )
    )
    await p.write(UpdateMember(STD, "", MemberRole.ADMIN, None))
    await p.write(UpdateMember(STD, "", MemberRole.STANDARD, FinanceRole.MANAGER))
    for key, role in [
        (AssetKey(AssetType.AD_ACCOUNT, AD1), "admin"),
        (AssetKey(AssetType.CATALOG, CATALOG), "admin"),
        (AssetKey(AssetType.TIKTOK_ACCOUNT, TT), "post,live"),
        (AssetKey(AssetType.SHOP, SHOP), "manager"),
        (AssetKey(AssetType.LEAD_FORM, LEAD), "admin"),
        (AssetKey(AssetType.PIXEL, PIXEL), "access"),
    ]:
        await p.write(Assign(STD, "", key, role))
        await p.write(Unassign(STD, "", key))
    await p.write(Share(PARTNER, [AD2], "analyst"))
    await p.write(Unshare(PARTNER, AssetType.AD_ACCOUNT, [AD2]))
    await p.write(RemovePartner(PARTNER))
    await p.write(RemoveMember("pending@conformance.example", None))
    await p.write(RemoveMember("", BOB))


def problems(method: str, path: str, values: dict[str, Any]) -> list[str]:
    """What in one request breaks its row of the table."""
    row = BY_PATH.get(path)
    if row is None:
        return [f"{method} /{path}: not in the conformance table"]
    found = [] if method == row.method else [f"{row.key}: sent as {method}"]
    for f in row.fields:
        value = lookup(values, f.name)
        if f.required and value is None:
            found.append(f"{row.key}: {f.name} is required")
        if value is None:
            continue
        listed = value if isinstance(value, list) else [value]
        if f.enum is not None and any(v not in f.enum or v in f.invalid for v in listed):
            found.append(f"{row.key}: {f.name}={value!r} is not one of {f.enum}")
        if f.max_items is not None and len(listed) > f.max_items:
            found.append(f"{row.key}: {f.name} holds {len(listed)} > {f.max_items} items")
    size = values.get("page_size")
    if row.page_cap is not None and isinstance(size, int) and size > row.page_cap:
        found.append(f"{row.key}: page_size {size} over the cap {row.page_cap}")
    return found


def test_every_request_conforms(captured: list[tuple[str, str, dict[str, Any]]]) -> None:
    assert captured
    found = [p for request in captured for p in problems(*request)]
    assert found == []


def test_every_sdk_endpoint_in_the_table_is_used(
    captured: list[tuple[str, str, dict[str, Any]]],
) -> None:
    used = {path for _, path, _ in captured}
    assert {r.path for r in ROWS if r.in_sdk} - used == set()


def test_the_promises_the_table_cannot_express(
    captured: list[tuple[str, str, dict[str, Any]]],
) -> None:
    invites = [v for _, path, v in captured if path == "bc/member/invite/"]
    assert [i["asset_ids"] for i in invites] == [[], [AD1, AD2]]  # always sent, [] included
    updates = [v for _, path, v in captured if path == "bc/member/update/"]
    assert "ext_user_role" not in updates[0]  # None: no empty object, no clearing
    assert updates[1]["ext_user_role"] == {"finance_role": "MANAGER"}
    pixel = [v for _, p, v in captured if p == "bc/asset/assign/" and v["asset_type"] == "PIXEL"]
    assert pixel and not ROLE_FIELDS.intersection(pixel[0]) and "tt_account_roles" not in pixel[0]
    group_pages = [v for _, p, v in captured if p.startswith("bc/asset_group/")]
    assert group_pages and all("page" in v and "page_size" in v for v in group_pages)


@pytest.mark.parametrize(
    ("request_", "problem"),
    [
        (("GET", "bc/asset/get/", {"bc_id": BC, "asset_type": "DOMAIN"}), "asset_type"),
        (("POST", "bc/member/invite/", {"bc_id": BC, "emails": ["a@b.example"]}), "asset_ids"),
        (("GET", "bc/member/get/", {"bc_id": BC, "page_size": 50}), "page_size 50"),
        (("POST", "bc/member/get/", {"bc_id": BC}), "sent as POST"),
        (("POST", "bc/asset/assign/", {"bc_id": BC, "user_id": STD, "asset_type": "PIXEL",
                                       "asset_id": PIXEL, "tt_account_roles": ["ACCESS"]}),
         "tt_account_roles"),
        (("POST", "bc/partner/add/", {"bc_id": BC, "partner_id": PARTNER,
                                      "asset_type": "ADVERTISER", "asset_ids": ["1"] * 51}),
         "51 > 50"),
        (("GET", "bc/pixel/link/get/", {}), "not in the conformance table"),
    ],
)  # fmt: skip
def test_the_checker_catches_what_breaks_the_table(
    request_: tuple[str, str, dict[str, Any]], problem: str
) -> None:
    assert any(problem in p for p in problems(*request_))


def test_the_body_builders_alone() -> None:
    body = write.invite_body(BC, MemberRole.STANDARD, None)
    assert problems("POST", "bc/member/invite/", {**body, "emails": ["a@b.example"]}) == []
    assert body["asset_ids"] == [] and "ext_user_role" not in body
    update = write.update_member_body(BC, STD, MemberRole.ADMIN, None)
    assert problems("POST", "bc/member/update/", update) == [] and "ext_user_role" not in update
    row: Row = BY_PATH["bc/asset/assign/"]
    for asset_type in AssetType:
        key = AssetKey(asset_type, KEYS[asset_type][0])
        role = {
            AssetType.TIKTOK_ACCOUNT: "post",
            AssetType.SHOP: "manager",
            AssetType.STOREFRONT: "ad_promotion",
        }.get(asset_type)
        role = role or ("access" if asset_type is AssetType.PIXEL else "admin")
        assert problems(row.method, row.path, write.assign_body(BC, STD, key, role)) == []
