"""Asset-group endpoints: /bc/asset_group/list|get|create|update|delete/.

An asset group gives up to 50 joined members one advertiser role on up to 200 ad accounts at once,
a second way TikTok grants access besides asset/assign. Groups come from the seed or from
create; the access a group gives is read through these endpoints (no asset/get response lists
it: the SDK maps no group field there).

Where the SDK is silent the stricter reading is taken, each marked [inferred]: `asset_roles` is
required and keyed by ADVERTISER; a name is unique in its BC; an item named twice in one call,
adding an ad account the group has (or a member with the role it has), deleting what it lacks,
and leaving a group without an ad account or a member are refused (40002); a group holds at
most 200 ad accounts and 50 members in all. Adding a member the group has sets its role.

The SDK maps each group's `assets` and `members` through unmapped, so their item shape is ours,
taken from the create body: `{asset_id, asset_type}` and `{member_id, asset_roles}`, with
`asset_roles` keyed by asset type (third-party: `ADVERTISER`). Both responses drop null fields
(`pop_resp_nullvalue`), so none is ever sent.
"""

from __future__ import annotations

import hashlib
import sqlite3
from typing import Any

from .assets import require_bound
from .endpoint import Call, Data, Endpoint, member_label
from .errors import not_found, param_error
from .params import Params, paged, shown

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


# The SDK's limits (bc_asset_group_create.yml): 1-200 assets and 1-50 members a call.
MAX_ASSETS = 200
MAX_MEMBERS = 50
ROLE_PREFIX = "ADVERTISER_ROLE_"
GROUP_ROLES = tuple(ROLE_PREFIX + r for r in ("ADMIN", "OPERATOR", "ANALYST"))
UPDATE_ENTITIES = ("ASSET", "MEMBER", "NAME")
ACTIONS = ("ADD", "DELETE")
NAME_MAX = 255  # [inferred] the SDK declares no length; a bound keeps the log readable


def _group_row(call: Call, bc_id: str, group_id: str) -> sqlite3.Row:
    g = call.tx.one("SELECT * FROM asset_groups WHERE bc_id = ? AND group_id = ?", bc_id, group_id)
    if g is None:
        raise not_found(f"Asset group {group_id} of Business Center {bc_id}")
    return g


def _name(call: Call, bc_id: str, *, required: bool, other_than: str = "") -> str | None:
    p = call.params
    if required:
        p.require("asset_group_name")
    name = p.text("asset_group_name", max_length=NAME_MAX)
    if name is None:
        return None
    taken = call.tx.one(
        "SELECT group_id FROM asset_groups WHERE bc_id = ? AND name = ? AND group_id != ?",
        bc_id, name, other_than,
    )  # fmt: skip
    if taken is not None:  # [inferred] names are how people tell groups apart
        raise param_error(
            "asset_group_name",
            f"an asset group named {name!r} already exists ({taken['group_id']}).",
        )
    return name


def _item(p: Params, key: str, index: int, value: Any) -> Params:
    if not isinstance(value, dict):
        raise param_error(f"{p.name(key)}[{index}]", f"must be a JSON object, got {shown(value)}.")
    return Params(value, from_query=False, prefix=f"{p.name(key)}[{index}].")


def _asset_ids(call: Call, bc_id: str) -> list[str]:
    """`assets`: 1-200 ADVERTISER items, each a BOUND ad account of the BC, none twice."""
    p = call.params
    out: list[str] = []
    for i, value in enumerate(p.items("assets", low=1, high=MAX_ASSETS, required=True)):
        item = _item(p, "assets", i, value)
        item.require("asset_id", "asset_type")  # asset_type: required by the SDK's rule
        item.enum("asset_type", ("ADVERTISER",))
        asset_id = item.id("asset_id", required=True)
        assert asset_id is not None
        if asset_id in out:
            raise param_error(item.name("asset_id"), f"{asset_id} is listed twice.")
        asset = call.tx.bc_asset(bc_id, "ADVERTISER", asset_id)
        if asset is None:
            raise not_found(f"ADVERTISER {asset_id} in Business Center {bc_id}")
        require_bound(asset, "put in an asset group")
        out.append(asset_id)
    return out


def _members_param(call: Call, bc_id: str, *, roles: bool) -> dict[str, str]:
    """`members`: 1-50 joined members by member_id (user id), none twice; with their role
    (asset_roles.ADVERTISER, stored without its prefix) when `roles`."""
    p = call.params
    out: dict[str, str] = {}
    for i, value in enumerate(p.items("members", low=1, high=MAX_MEMBERS, required=True)):
        item = _item(p, "members", i, value)
        member_id = item.id("member_id", required=True)
        assert member_id is not None
        if member_id in out:
            raise param_error(item.name("member_id"), f"{member_id} is listed twice.")
        if call.tx.member_by_user(bc_id, member_id) is None:
            raise not_found(f"Member {member_id} of Business Center {bc_id}")
        role = ""
        if roles:
            item.require("asset_roles")
            asset_roles = item.obj("asset_roles")
            unknown = sorted(k for k in asset_roles.values if k != "ADVERTISER")
            if unknown:
                raise param_error(
                    asset_roles.name(unknown[0]), "asset groups hold ADVERTISER assets only."
                )
            asset_roles.require("ADVERTISER")
            chosen = asset_roles.enum("ADVERTISER", GROUP_ROLES, required=True)
            assert chosen is not None
            role = chosen
        out[member_id] = role
    return out


def _new_group_id(call: Call, bc_id: str, name: str) -> str:
    """A stable 19-digit id, derived from the BC, the name and the log's length."""
    seq = call.tx.scalar("SELECT COUNT(*) FROM changelog")
    number = int(hashlib.sha256(f"{bc_id}/{name}/{seq}".encode()).hexdigest(), 16) % 10**17
    while True:
        group_id = f"75{number:017d}"
        if call.tx.one("SELECT 1 FROM asset_groups WHERE group_id = ?", group_id) is None:
            return group_id
        number = (number + 1) % 10**17


def _count(call: Call, table: str, group_id: str) -> int:
    return int(call.tx.scalar(f"SELECT COUNT(*) FROM {table} WHERE group_id = ?", group_id))


def _label(name: str, group_id: str) -> str:
    return f"asset group {name} ({group_id})"


def create_group(call: Call) -> Data:
    bc = call.bc()
    bc_id, p = bc["bc_id"], call.params
    p.require("asset_group_name", "assets", "members")
    name = _name(call, bc_id, required=True)
    assert name is not None
    assets = _asset_ids(call, bc_id)
    members = _members_param(call, bc_id, roles=True)
    group_id = _new_group_id(call, bc_id, name)
    call.tx.run("INSERT INTO asset_groups VALUES (?, ?, ?)", group_id, bc_id, name)
    _add_assets(call, group_id, assets)
    _add_members(call, group_id, members)
    call.log(
        bc_id,
        "ASSET",
        f"created {_label(name, group_id)} with {len(assets)} ad account(s) and "
        f"{len(members)} member(s)",
    )
    return {"asset_group_id": group_id}


def _add_assets(call: Call, group_id: str, asset_ids: list[str]) -> None:
    for asset_id in asset_ids:
        call.tx.run(
            "INSERT INTO asset_group_assets VALUES (?, 'ADVERTISER', ?)", group_id, asset_id
        )


def _add_members(call: Call, group_id: str, members: dict[str, str]) -> None:
    for user_id, role in members.items():
        call.tx.run("INSERT INTO asset_group_members VALUES (?, ?, ?)", group_id, user_id, role)


def update_group(call: Call) -> Data:
    bc = call.bc()
    bc_id, p = bc["bc_id"], call.params
    p.require("asset_group_id", "update_entity")
    group_id = p.id("asset_group_id", required=True)
    entity = p.enum("update_entity", UPDATE_ENTITIES, required=True)
    assert group_id is not None
    g = _group_row(call, bc_id, group_id)
    label = _label(g["name"], group_id)
    # [inferred] each update_entity takes its own field and action, and nothing else.
    own = {"NAME": "asset_group_name", "ASSET": "assets", "MEMBER": "members"}[entity or ""]
    for other in ("asset_group_name", "assets", "members"):
        if other != own and p.present(other):
            raise param_error(other, f"is not used with update_entity {entity}.")
    if entity == "NAME":
        if p.present("action"):
            raise param_error("action", "is not used with update_entity NAME.")
        name = _name(call, bc_id, required=True, other_than=group_id)
        assert name is not None
        if name != g["name"]:
            call.tx.run("UPDATE asset_groups SET name = ? WHERE group_id = ?", name, group_id)
            call.log(bc_id, "ASSET", f"renamed {label} to {name}")
        return {}
    p.require("action", own)
    action = p.enum("action", ACTIONS, required=True)
    if entity == "ASSET":
        _update_assets(call, bc_id, group_id, label, action == "ADD")
    else:
        _update_members(call, bc_id, group_id, label, action == "ADD")
    return {}


def _update_assets(call: Call, bc_id: str, group_id: str, label: str, add: bool) -> None:
    p = call.params
    have = {
        r["asset_id"]
        for r in call.tx.all("SELECT asset_id FROM asset_group_assets WHERE group_id = ?", group_id)
    }
    if add:
        ids = _asset_ids(call, bc_id)
        already = [a for a in ids if a in have]
        if already:
            raise param_error("assets", f"ADVERTISER {already[0]} is already in the {label}.")
        if len(have) + len(ids) > MAX_ASSETS:
            raise param_error(
                "assets", f"the {label} would hold {len(have) + len(ids)} assets; at most 200."
            )
        _add_assets(call, group_id, ids)
        call.log(bc_id, "ASSET", f"added {len(ids)} ad account(s) to the {label}")
        return
    values = p.items("assets", low=1, high=MAX_ASSETS, required=True)
    ids = []
    for i, value in enumerate(values):
        item = _item(p, "assets", i, value)
        item.require("asset_id", "asset_type")
        item.enum("asset_type", ("ADVERTISER",))
        asset_id = item.id("asset_id", required=True)
        assert asset_id is not None
        if asset_id not in have:
            raise not_found(f"ADVERTISER {asset_id} in the {label}")
        if asset_id in ids:
            raise param_error(item.name("asset_id"), f"{asset_id} is listed twice.")
        ids.append(asset_id)
    if len(ids) == len(have):
        raise param_error("assets", f"the {label} would hold no ad account; delete the group.")
    for asset_id in ids:
        call.tx.run(
            "DELETE FROM asset_group_assets WHERE group_id = ? AND asset_id = ?", group_id, asset_id
        )
    call.log(bc_id, "ASSET", f"removed {len(ids)} ad account(s) from the {label}")


def _update_members(call: Call, bc_id: str, group_id: str, label: str, add: bool) -> None:
    rows = call.tx.all("SELECT * FROM asset_group_members WHERE group_id = ?", group_id)
    have = {r["user_id"]: r["role"] for r in rows}
    if add:
        # [inferred] ADD names each member with its asset_roles: for a member the group has,
        # that sets its role (the SDK offers no other way to change one); the same role again
        # is refused as a change that changes nothing.
        members = _members_param(call, bc_id, roles=True)
        same = [m for m, role in members.items() if have.get(m) == role]
        if same:
            raise param_error(
                "members", f"member {same[0]} is already in the {label} with that role."
            )
        new = [m for m in members if m not in have]
        if len(have) + len(new) > MAX_MEMBERS:
            raise param_error(
                "members", f"the {label} would hold {len(have) + len(new)} members; at most 50."
            )
        for user_id, role in members.items():
            who = _who(call, bc_id, user_id)
            shown_role = role.removeprefix(ROLE_PREFIX)
            if user_id in have:
                call.tx.run(
                    "UPDATE asset_group_members SET role = ? WHERE group_id = ? AND user_id = ?",
                    role, group_id, user_id,
                )  # fmt: skip
                call.log(bc_id, "ACCOUNT", f"changed {who}'s role in the {label} to {shown_role}")
            else:
                _add_members(call, group_id, {user_id: role})
                call.log(bc_id, "ACCOUNT", f"added {who} to the {label} as {shown_role}")
        return
    p = call.params
    ids: list[str] = []
    for i, value in enumerate(p.items("members", low=1, high=MAX_MEMBERS, required=True)):
        item = _item(p, "members", i, value)
        member_id = item.id("member_id", required=True)
        assert member_id is not None
        if member_id not in have:
            raise not_found(f"Member {member_id} in the {label}")
        if member_id in ids:
            raise param_error(item.name("member_id"), f"{member_id} is listed twice.")
        ids.append(member_id)
    if len(ids) == len(have):
        raise param_error("members", f"the {label} would hold no member; delete the group.")
    for user_id in ids:
        call.tx.run(
            "DELETE FROM asset_group_members WHERE group_id = ? AND user_id = ?", group_id, user_id
        )
        call.log(bc_id, "ACCOUNT", f"removed {_who(call, bc_id, user_id)} from the {label}")


def _who(call: Call, bc_id: str, user_id: str) -> str:
    member = call.tx.one(
        "SELECT email FROM members WHERE bc_id = ? AND user_id = ?", bc_id, user_id
    )
    return member_label(member["email"] if member else "a former member", user_id)


def delete_group(call: Call) -> Data:
    bc = call.bc()
    bc_id, p = bc["bc_id"], call.params
    ids = p.ids("asset_group_ids", low=1, high=1, required=True)
    g = _group_row(call, bc_id, ids[0])
    people = _count(call, "asset_group_members", g["group_id"])
    for table in ("asset_group_assets", "asset_group_members"):
        call.tx.run(f"DELETE FROM {table} WHERE group_id = ?", g["group_id"])
    call.tx.run("DELETE FROM asset_groups WHERE group_id = ?", g["group_id"])
    call.log(
        bc_id,
        "ASSET",
        f"deleted {_label(g['name'], g['group_id'])}, removing {people} member(s)' access",
    )
    return {}


ENDPOINTS = (
    Endpoint("bc/asset_group/list/", "GET", list_groups),
    Endpoint("bc/asset_group/get/", "GET", get_group),
    Endpoint("bc/asset_group/create/", "POST", create_group),
    Endpoint("bc/asset_group/update/", "POST", update_group),
    Endpoint("bc/asset_group/delete/", "POST", delete_group),
)
