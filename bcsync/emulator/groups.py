"""Asset-group endpoints, read-only: /bc/asset_group/list/ and /bc/asset_group/get/.

An asset group gives up to 50 joined members one advertiser role on up to 200 ad accounts at once,
a second way TikTok grants access besides asset/assign. Groups come from the seed; the write
endpoints (create/update/delete) are not emulated, so no client can change them here.

The SDK maps each group's `assets` and `members` through unmapped, so their item shape is ours,
taken from the create body: `{asset_id, asset_type}` and `{member_id, asset_roles}`, with
`asset_roles` keyed by asset type (third-party: `ADVERTISER`). Both responses drop null fields
(`pop_resp_nullvalue`), so none is ever sent.
"""

from __future__ import annotations

import sqlite3

from .endpoint import Call, Data, Endpoint
from .errors import not_found
from .params import Params, paged

QUERY_ENTITIES = ("ASSET", "MEMBER")
# page and page_size are optional in the SDK's schema but required by its rule, and no cap is
# declared: the emulator enforces the stricter layer and the cap of every other BC list (50).
GROUP_PAGE_CAP = 50


def _page(p: Params) -> tuple[int, int]:
    p.require("page", "page_size")
    return p.page(GROUP_PAGE_CAP)


def _keyword(p: Params) -> str:
    """filtering.keyword: required once `filtering` is sent (SDK rule)."""
    if not p.present("filtering"):
        return ""
    f = p.obj("filtering")
    f.require("keyword")
    return str(f.values["keyword"]).lower()


def _assets(call: Call, group_id: str) -> list[Data]:
    rows = call.tx.all(
        "SELECT asset_type, asset_id FROM asset_group_assets WHERE group_id = ? ORDER BY rowid",
        group_id,
    )
    return [{"asset_id": r["asset_id"], "asset_type": r["asset_type"]} for r in rows]


def _members(call: Call, group_id: str) -> list[Data]:
    rows = call.tx.all(
        "SELECT user_id, role FROM asset_group_members WHERE group_id = ? ORDER BY rowid",
        group_id,
    )
    return [{"member_id": r["user_id"], "asset_roles": {"ADVERTISER": r["role"]}} for r in rows]


def _group(call: Call, g: sqlite3.Row) -> Data:
    return {
        "asset_group_id": g["group_id"],
        "asset_group_name": g["name"],
        "assets": _assets(call, g["group_id"]),
        "members": _members(call, g["group_id"]),
    }


def list_groups(call: Call) -> Data:
    bc = call.bc()
    keyword = _keyword(call.params)
    page, size = _page(call.params)
    rows = call.tx.all("SELECT * FROM asset_groups WHERE bc_id = ? ORDER BY rowid", bc["bc_id"])
    chosen = [g for g in rows if keyword in f"{g['group_id']} {g['name'].lower()}"]
    groups, info = paged(chosen, page, size)
    return {"asset_groups": [_group(call, g) for g in groups], "page_info": info}


def get_group(call: Call) -> Data:
    bc = call.bc()
    p = call.params
    p.require("asset_group_id", "query_entity")
    group_id = p.id("asset_group_id", required=True)
    entity = p.enum("query_entity", QUERY_ENTITIES, required=True)
    keyword = _keyword(p)
    page, size = _page(p)
    g = call.tx.one(
        "SELECT * FROM asset_groups WHERE bc_id = ? AND group_id = ?", bc["bc_id"], group_id
    )
    if g is None:
        raise not_found(f"Asset group {group_id} of Business Center {bc['bc_id']}")
    if entity == "ASSET":
        items = [a for a in _assets(call, g["group_id"]) if keyword in a["asset_id"]]
    else:
        items = [m for m in _members(call, g["group_id"]) if keyword in m["member_id"]]
    chunk, info = paged(items, page, size)
    group: Data = {"asset_group_id": g["group_id"], "asset_group_name": g["name"]}
    group["assets" if entity == "ASSET" else "members"] = chunk
    return {"asset_group": group, "page_info": info}


ENDPOINTS = (
    Endpoint("bc/asset_group/list/", "GET", list_groups),
    Endpoint("bc/asset_group/get/", "GET", get_group),
)
