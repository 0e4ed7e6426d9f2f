"""Fail closed on shapes: an answer that differs from what bcsync reads stops the read.

The attacker here is an emulator variant (tests/variant.py) answering what TikTok might really
send: a key named differently, missing, null, of another type, or an enum value bcsync does not
know. Each stops the read with ShapeError (exit 1) naming the endpoint, the key and the request
id; none becomes a default (a missing user_role is not an admin, a missing status not BOUND).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
from variant import each_item, on, reshaped

from bcsync.core.model import AssetKey, AssetType
from bcsync.emulator import create_app
from bcsync.errors import ExitCode
from bcsync.providers.base import Scope
from bcsync.providers.tiktok import shapes
from bcsync.providers.tiktok.client import TikTokClient
from bcsync.providers.tiktok.limiter import RateLimiter
from bcsync.providers.tiktok.provider import TikTokProvider
from bcsync.providers.tiktok.read import Strategy
from bcsync.providers.tiktok.shapes import ShapeError

from .conftest import LOCAL
from .fakes import FAST, TOKEN, UNLIMITED
from .world import BC, OWNER, aid, every_kind

SCOPE = Scope.of(
    [
        AssetKey(AssetType.AD_ACCOUNT, aid(71, 1)),
        AssetKey(AssetType.CATALOG, aid(73, 1)),
        AssetKey(AssetType.TIKTOK_ACCOUNT, aid(74, 1)),
    ]
)
Edit = Callable[[dict[str, Any]], None]


def with_group() -> dict[str, Any]:
    """every_kind plus an asset group holding the declared ad account."""
    seed = every_kind()
    seed["business_centers"][0]["asset_groups"] = [
        {
            "asset_group_id": "7800000000000000001",
            "name": "Buyers",
            "assets": [aid(71, 1)],
            "members": [{"email": "ops@acme.example", "role": "ADVERTISER_ROLE_OPERATOR"}],
        }
    ]
    return seed


@pytest.fixture
async def variant(tmp_path: Path) -> AsyncIterator[Callable[..., TikTokProvider]]:
    """A provider over the emulator whose answers pass through `rewrite` first."""
    async with AsyncExitStack() as stack:

        def make(rewrite: Callable[[str, dict[str, Any]], None], *, strategy: Strategy) -> Any:
            app = create_app(tmp_path / f"v{id(rewrite)}.db", seed=with_group())
            stack.callback(app.state.emulator.close)
            transport = httpx.ASGITransport(app=reshaped(app, rewrite))
            http = httpx.AsyncClient(transport=transport)
            stack.push_async_callback(http.aclose)
            client = TikTokClient(
                http,
                token=TOKEN,
                limiter=RateLimiter(UNLIMITED),
                base_url=LOCAL,
                retry=FAST,
                in_process=True,
            )
            return TikTokProvider(BC, client, strategy=strategy)

        yield make


def drop(key: str) -> Edit:
    return lambda item: item.pop(key, None)


def put(key: str, value: Any) -> Edit:
    return lambda item: item.__setitem__(key, value)


def rename(old: str, new: str) -> Edit:
    return lambda item: item.__setitem__(new, item.pop(old))


def first_member_bound_without_id(data: dict[str, Any]) -> None:
    for item in data["list"]:
        if item["relation_status"] == "BOUND":
            item["user_id"] = ""
            return


def group_members(edit: Edit) -> Edit:
    return lambda data: [edit(m) for m in data["asset_group"].get("members", [])]


CASES = [
    # What decides admin-ness: a missing role is not ADMIN.
    ("bc/get/", each_item("list", drop("user_role")), "data.list[0].user_role", "missing"),
    ("bc/get/", each_item("list", put("user_role", "SUPER_ADMIN")), "data.list[0].user_role",
     "unknown value 'SUPER_ADMIN'"),
    ("bc/member/get/", lambda d: d.__setitem__("list", [{"garbage": True}]),
     "data.list[0].user_id", "missing"),
    ("bc/member/get/", each_item("list", drop("relation_status")), "data.list[0].relation_status",
     "missing"),
    ("bc/member/get/", each_item("list", drop("user_role")), "data.list[0].user_role", "missing"),
    ("bc/member/get/", each_item("list", put("ext_user_role", {"finance_role": "OWNER"})),
     "data.list[0].ext_user_role.finance_role", "unknown value 'OWNER'"),
    ("bc/member/get/", each_item("list", put("user_id", 6.9e18)), "data.list[0].user_id",
     "number"),
    ("bc/member/get/", first_member_bound_without_id, "data.list[0].user_id", "empty"),
    ("bc/member/get/", drop("page_info"), "data.page_info", "missing"),
    ("bc/member/get/", lambda d: d["page_info"].__setitem__("total_number", "3"),
     "data.page_info.total_number", "string"),
    ("bc/asset/admin/get/", each_item("list", drop("relation_status")),
     "data.list[0].relation_status", "missing"),
    # What decides owned (unmanaged, exported) from a partner's (incoming).
    ("bc/asset/admin/get/", each_item("list", drop("relation_type")),
     "data.list[0].relation_type", "missing"),
    ("bc/asset/admin/get/", each_item("list", put("asset_type", "DOMAIN")),
     "data.list[0].asset_type", "unknown value 'DOMAIN'"),
    ("bc/asset/get/", each_item("list", rename("advertiser_role", "role")),
     "data.list[0].advertiser_role", "missing"),
    ("bc/asset/get/", each_item("list", put("tt_account_roles", ["POST", "STREAM"])),
     "data.list[0].tt_account_roles[1]", "unknown value 'STREAM'"),
    ("bc/asset/member/get/", each_item("list", rename("user_id", "member_id")),
     "data.list[0].user_id", "missing"),
    ("bc/asset/member/get/", each_item("list", put("catalog_role", None)),
     "data.list[0].catalog_role", "null"),
    ("bc/partner/get/", each_item("list", rename("bc_id", "partner_id")), "data.list[0].bc_id",
     "missing"),
    ("bc/partner/asset/get/", each_item("list", put("advertiser_role", None)),
     "data.list[0].advertiser_role", "null"),
    ("bc/asset_group/list/", each_item("asset_groups", put("asset_group_id", True)),
     "data.asset_groups[0].asset_group_id", "boolean"),
    ("bc/asset_group/get/", group_members(drop("asset_roles")),
     "data.asset_group.members[0].asset_roles", "missing"),
]  # fmt: skip


def strategy_for(path: str) -> Strategy:
    return Strategy.PER_ASSET if path == "bc/asset/member/get/" else Strategy.PER_MEMBER


@pytest.mark.parametrize(
    ("path", "edit", "key", "found"),
    [pytest.param(*case, id=f"{case[0]} {case[2]} {case[3]}") for case in CASES],
)
async def test_a_different_shape_stops_the_read_naming_endpoint_key_and_request(
    variant: Callable[..., TikTokProvider], path: str, edit: Edit, key: str, found: str
) -> None:
    provider = variant(on(path, edit), strategy=strategy_for(path))
    with pytest.raises(ShapeError) as caught:
        await provider.read_state(SCOPE)
    err = caught.value
    assert err.exit_code == ExitCode.RUNTIME
    assert (err.endpoint, err.key) == (f"GET /{path}", key)
    assert err.request_id and err.request_id in err.message
    assert f"{key}: {found}" in err.message
    assert TOKEN not in err.message


@pytest.mark.parametrize("strategy", [Strategy.PER_ASSET, Strategy.PER_MEMBER])
async def test_the_unchanged_variant_reads_like_the_emulator(
    variant: Callable[..., TikTokProvider], strategy: Strategy
) -> None:
    result = await variant(lambda path, data: None, strategy=strategy).read_state(SCOPE)
    assert result.state.members[OWNER].user_id and result.state.grants
    assert result.asset_group_access


async def test_extra_keys_are_ignored(variant: Callable[..., TikTokProvider]) -> None:
    # TikTok may add fields: only the keys bcsync reads are held to a shape.
    def add(path: str, data: dict[str, Any]) -> None:
        data["new_top_level"] = [1, 2]
        for item in data.get("list") or []:
            item["new_field"] = {"x": None}

    result = await variant(add, strategy=Strategy.PER_MEMBER).read_state(SCOPE)
    assert result.state.members[OWNER].user_id


@pytest.mark.parametrize(
    ("value", "kind", "ok"),
    [
        ("7100000000000000001", shapes.Kind.ID, True),
        (7100000000000000001, shapes.Kind.ID, True),
        ("71e3", shapes.Kind.ID, False),
        ("-1", shapes.Kind.ID, False),
        (-1, shapes.Kind.ID, False),
        (True, shapes.Kind.ID, False),
        ("٣", shapes.Kind.ID, False),  # a digit, but not an ASCII one
        (True, shapes.Kind.INT, False),
        (1.0, shapes.Kind.INT, False),
        ({}, shapes.Kind.LIST, False),
    ],
)
def test_kinds_are_strict(value: object, kind: shapes.Kind, ok: bool) -> None:
    found = shapes.problems((shapes.Key("k", kind),), {"k": value})
    assert (not found) is ok, found


def test_a_non_object_data_is_a_mismatch() -> None:
    keys = shapes.expected("bc/get/", {})
    assert keys is not None
    assert shapes.problems(keys, ["not", "an", "object"]) == [
        shapes.Mismatch("data", "array", "an object")
    ]


def test_every_read_endpoint_bcsync_uses_has_an_expectation() -> None:
    # Every GET path in the provider's modules is listed in shapes.EXPECTED.
    import inspect
    import re

    from bcsync.providers.tiktok import changelog, read, read_scoped

    source = "".join(inspect.getsource(m) for m in (read, read_scoped, changelog))
    paths = set(re.findall(r'"((?:bc|changelog)/[a-z_/]+/)"', source))
    assert paths and paths <= set(shapes.EXPECTED), paths - set(shapes.EXPECTED)
