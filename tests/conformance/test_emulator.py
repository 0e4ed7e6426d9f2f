"""The emulator's validators against the conformance table: every row, every rule."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bcsync.emulator import create_app

from .table import (
    AD1,
    BC,
    CATALOG,
    LEAD,
    PIXEL,
    ROWS,
    SHOP,
    STORE,
    TT,
    Field,
    Row,
    lookup,
    with_value,
)
from .world import TOKEN, seed

API = "/open_api/v1.3/"
BAD = "NOT_A_VALUE"


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(tmp_path / "conformance.db", seed())
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://emulator") as http:
            yield http
    finally:
        app.state.emulator.close()


async def send(client: httpx.AsyncClient, row: Row, params: dict[str, Any]) -> dict[str, Any]:
    """One call as the SDK makes it: GET objects and lists JSON-encoded, POST a JSON body."""
    headers = {"Access-Token": TOKEN}
    if row.method == "GET":
        query = {k: json.dumps(v) if isinstance(v, dict | list) else v for k, v in params.items()}
        response = await client.get(API + row.path, params=query, headers=headers)
    else:
        response = await client.post(API + row.path, json=params, headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"code", "message", "request_id", "data"}
    return dict(body)


def example(row: Row) -> dict[str, Any]:
    return {"bc_id": BC, **row.example}


def refused(body: dict[str, Any], name: str) -> None:
    """A 40002 that names the field (its last part, as nested messages prefix their object)."""
    assert (body["code"], body["data"]) == (40002, {}), body
    assert name.split(".")[-1] in body["message"], body["message"]


def cases(kind: str) -> list[Any]:
    """pytest params of one kind of check, over every row."""
    out = []
    for row in ROWS:
        for f in row.fields:
            if kind == "required" and f.required:
                out.append(pytest.param(row, f, id=f"{row.key} {f.name}"))
            if kind == "enum" and f.enum is not None:
                for value in (BAD, *f.invalid):
                    out.append(pytest.param(row, f, value, id=f"{row.key} {f.name}={value}"))
            if kind == "max_items" and f.max_items is not None:
                out.append(pytest.param(row, f, id=f"{row.key} {f.name}"))
    return out


def by_row(*, where: Any = None) -> list[Any]:
    return [pytest.param(row, id=row.key) for row in ROWS if where is None or where(row)]


def items_of(data: dict[str, Any], key: str) -> list[dict[str, Any]]:
    value: Any = data
    for part in key.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    assert isinstance(value, list), data
    return value


@pytest.mark.parametrize("row", by_row())
async def test_the_example_of_each_row_succeeds(client: httpx.AsyncClient, row: Row) -> None:
    body = await send(client, row, example(row))
    assert body["code"] == 0, body


@pytest.mark.parametrize(("row", "field"), cases("required"))
async def test_each_missing_required_field_is_refused(
    client: httpx.AsyncClient, row: Row, field: Field
) -> None:
    params = with_value({**example(row), **field.context}, field.name, None)
    refused(await send(client, row, params), field.name)


@pytest.mark.parametrize(("row", "field", "value"), cases("enum"))
async def test_each_bad_or_invalid_enum_value_is_refused(
    client: httpx.AsyncClient, row: Row, field: Field, value: str
) -> None:
    params = {k: v for k, v in {**example(row), **field.context}.items() if v is not None}
    params = with_value(params, field.name, [value] if field.item == "enum" else value)
    refused(await send(client, row, params), field.name)


@pytest.mark.parametrize(("row", "field"), cases("max_items"))
async def test_one_item_over_max_items_is_refused(
    client: httpx.AsyncClient, row: Row, field: Field
) -> None:
    assert field.max_items is not None
    count = field.max_items + 1
    if field.item == "email":
        values: list[str] = [f"u{i}@over.example" for i in range(count)]
    else:
        values = [f"71000000000{i:08d}" for i in range(count)]
    refused(await send(client, row, with_value(example(row), field.name, values)), field.name)
    # ...and exactly max_items passes the length check (what remains may fail for other reasons).
    body = await send(client, row, with_value(example(row), field.name, values[:-1]))
    assert "between" not in body["message"] and "items" not in body["message"], body


@pytest.mark.parametrize("row", by_row(where=lambda r: r.page_cap is not None))
async def test_page_size_over_the_cap(client: httpx.AsyncClient, row: Row) -> None:
    assert row.page_cap is not None
    body = await send(client, row, {**example(row), "page": 1, "page_size": row.page_cap + 1})
    if row.over_cap == "error":
        refused(body, "page_size")
        ok = await send(client, row, {**example(row), "page": 1, "page_size": row.page_cap})
        assert ok["code"] == 0, ok
        return
    # Silent: at most page_cap items, while page_info follows the asked size.
    assert body["code"] == 0, body
    assert len(items_of(body["data"], row.list_key)) == row.page_cap
    assert body["data"]["page_info"]["page_size"] == row.page_cap + 1


@pytest.mark.parametrize("row", by_row(where=lambda r: r.item_fields is not None))
async def test_items_carry_exactly_the_mapped_fields(client: httpx.AsyncClient, row: Row) -> None:
    assert row.item_fields is not None
    if row.path == "changelog/get/":  # a fresh world has no activity yet
        invite = next(r for r in ROWS if r.path == "bc/member/invite/")
        assert (await send(client, invite, example(invite)))["code"] == 0
    body = await send(client, row, example(row))
    items = items_of(body["data"], row.list_key)
    assert items, f"{row.key}: the example must list something"
    for item in items:
        keys = set(item)
        if row.drops_nulls:
            assert keys <= row.item_fields and None not in item.values(), item
        else:
            assert keys == row.item_fields, keys ^ row.item_fields
        for name, mapped in row.nested_fields.items():
            assert set(lookup(item, name)) <= mapped, lookup(item, name)


# One asset of each type in the conformance world, and a role valid for it (asset/assign).
ASSET_OF = {
    "ADVERTISER": AD1, "CATALOG": CATALOG, "LEAD": LEAD, "TT_ACCOUNT": TT, "PIXEL": PIXEL,
    "STOREFRONT": STORE, "TIKTOK_SHOP": SHOP, "DOMAIN": "7990000000000000001",
}  # fmt: skip
ROLE_OF = {
    "ADVERTISER": {"advertiser_role": "ANALYST"},
    "CATALOG": {"catalog_role": "ADMIN"},
    "LEAD": {"form_library_role": "ADMIN"},
    "TT_ACCOUNT": {"tt_account_roles": ["LIVE"]},
    "STOREFRONT": {"store_role": "AD_PROMOTION"},
    "TIKTOK_SHOP": {"store_role": "MANAGER"},
}


def allowed_cases() -> list[Any]:
    """Every value the SDK marks valid, for every enum field of every row."""
    return [
        pytest.param(row, f, value, id=f"{row.key} {f.name}={value}")
        for row in ROWS
        for f in row.fields
        for value in f.enum or ()
    ]


def with_allowed(row: Row, field: Field, value: str) -> dict[str, Any]:
    """The row's example with `field` set to `value`, and what it names made to fit: an asset of
    that type (and its role field, for assign) when the value is an asset type."""
    params = {k: v for k, v in {**example(row), **field.context}.items() if v is not None}
    params = with_value(params, field.name, [value] if field.item == "enum" else value)
    for name, fit in row.example_for.get(f"{field.name}={value}", {}).items():
        params = with_value(params, name, fit)
    if field.name != "asset_type":
        return params
    if "asset_id" in params:
        params["asset_id"] = ASSET_OF[value]
    if "asset_ids" in params:
        params["asset_ids"] = [ASSET_OF[value]]
    if row.path == "bc/asset/assign/":
        params.pop("advertiser_role", None)
        params.update(ROLE_OF.get(value, {}))
    return params


@pytest.mark.parametrize(("row", "field", "value"), allowed_cases())
async def test_each_value_the_sdk_allows_is_accepted(
    client: httpx.AsyncClient, row: Row, field: Field, value: str
) -> None:
    params = with_allowed(row, field, value)
    if row.path == "bc/asset/unassign/":  # something to unassign: the same asset, assigned
        assign = next(r for r in ROWS if r.path == "bc/asset/assign/")
        type_field = next(f for f in assign.fields if f.name == "asset_type")
        prepared = {**with_allowed(assign, type_field, value), "user_id": params["user_id"]}
        await send(client, assign, prepared)
    body = await send(client, row, params)
    why = row.absent.get(f"{field.name}={value}")
    if why is None:
        assert body["code"] == 0, body
    else:  # accepted as a value; what it names cannot exist in the emulator (`why`)
        assert body["code"] == 40007, (why, body)


def test_every_documented_absence_names_a_value_the_sdk_allows() -> None:
    for row in ROWS:
        allowed = {f"{f.name}={v}" for f in row.fields for v in f.enum or ()}
        assert set(row.absent) <= allowed, (row.key, set(row.absent) - allowed)
