"""Asset endpoints: /bc/asset/get|admin/get|assign|unassign|member/get|partner/get/."""

from __future__ import annotations

import sqlite3
from typing import Any

from .endpoint import Call, Data, Endpoint, asset_label, member_label, role_text
from .errors import no_permission, not_found, param_error
from .members import joined_member
from .params import Params, paged
from .seed import ASSET_STATUSES, ASSET_TYPES, ROLES
from .store import BC_ASSET_ORDER, BC_ASSETS, bc_asset_args, decode_role, encode_role

# The role field of each asset type in asset/assign (SDK); PIXEL takes none.
ROLE_FIELDS = {
    "ADVERTISER": "advertiser_role",
    "CATALOG": "catalog_role",
    "TIKTOK_SHOP": "store_role",
    "STOREFRONT": "store_role",
    "TT_ACCOUNT": "tt_account_roles",
    "LEAD": "form_library_role",
}
# The role fields asset/get and asset/admin/get map (SDK response_rule): form_library_role is in
# no response, so a lead-form grant is visible only as the asset being listed.
RESPONSE_ROLE_FIELDS = {k: v for k, v in ROLE_FIELDS.items() if k != "LEAD"}
# asset/member/get items are unmapped in the SDK; the emulator carries the role field only for
# the types whose field some response maps (never form_library_role).
MEMBER_ROLE_FIELDS = {
    k: v for k, v in RESPONSE_ROLE_FIELDS.items() if k in ("ADVERTISER", "CATALOG")
}
SHOW_STATUSES = (
    "SHOW_ACCOUNT_STATUS_APPROVED",
    "SHOW_ACCOUNT_STATUS_IN_REVIEW",
    "SHOW_ACCOUNT_STATUS_NOT_APPROVED",
    "SHOW_ACCOUNT_STATUS_PUNISHED",
)
RELATION_TYPES = ("OWNER_BC", "OWNER_PARTNER", "OWNER_INDIVIDUAL")
# Every asset type the SDK lists as valid for assign, unassign, asset/partner/get and
# partner/asset/delete. The
# emulator holds no domains (no SDK read lists them: DOMAIN is invalid on asset/get and
# admin/get), so a DOMAIN is accepted as a value and answered 40007, never refused as one.
SDK_ASSET_TYPES = (*ASSET_TYPES, "DOMAIN")
SHOWN = "SHOW_ACCOUNT_STATUS_APPROVED"


def asset_item(asset: sqlite3.Row, role: str | None) -> Data:
    """An asset as /bc/asset/get/ lists it: exactly the SDK's ten mapped fields.

    Role fields are non-null only for their own type (third-party).
    """
    kind = asset["asset_type"]
    item: Data = {
        "asset_id": asset["asset_id"],
        "asset_name": asset["name"],
        "asset_type": kind,
        "advertiser_account_type": asset["account_type"],
        "ad_creation_eligible": "AVAILABLE" if kind == "ADVERTISER" else None,
        "owner_bc_name": asset["owner_bc_name"],
    }
    # TIKTOK_SHOP and STOREFRONT share store_role: each field is set once, for its own type.
    for field in dict.fromkeys(RESPONSE_ROLE_FIELDS.values()):
        own = RESPONSE_ROLE_FIELDS.get(kind) == field
        item[field] = decode_role(kind, role) if role is not None and own else None
    return item


def role_param(p: Params, asset_type: str) -> str:
    """The role field of `asset_type`, required and valid for it, in stored form ("" for pixels)."""
    field = ROLE_FIELDS.get(asset_type)
    if field is None:
        return ""
    p.require(field)
    if asset_type != "TT_ACCOUNT":
        role = p.enum(field, ROLES[asset_type])
        assert role is not None
        return role
    roles = p.items(field, low=1, high=len(ROLES["TT_ACCOUNT"]))
    for i, r in enumerate(roles):
        if r not in ROLES["TT_ACCOUNT"]:
            allowed = ", ".join(ROLES["TT_ACCOUNT"])
            raise param_error(f"{field}[{i}]", f"must be one of {allowed}, got {r!r}.")
    return encode_role(roles)


def bc_asset_param(call: Call, bc_id: str, types: tuple[str, ...] = ASSET_TYPES) -> sqlite3.Row:
    p = call.params
    p.require("asset_type", "asset_id")
    asset_type = p.enum("asset_type", types, required=True)
    asset_id = p.id("asset_id", required=True)
    assert asset_type is not None and asset_id is not None
    asset = call.tx.bc_asset(bc_id, asset_type, asset_id)
    if asset is None:
        raise not_found(f"{asset_type} {asset_id} in Business Center {bc_id}")
    return asset


def get_assets(call: Call) -> Data:
    bc = call.bc(admin=False)
    bc_id, p = bc["bc_id"], call.params
    asset_type = p.enum("asset_type", ASSET_TYPES, required=True)
    f = p.obj("filtering")
    keyword = str(f.values.get("keyword") or "").lower()
    user_id = f.id("user_id")
    email = f.values.get("user_email") or None
    if user_id and email:
        raise param_error("filtering.user_email", "pass user_id or user_email, not both.")
    page, size = p.page(50)
    roles = _roles_of(call, bc_id, asset_type or "", user_id, email)
    # The member's granted assets, each looked up by key: the cost follows their grants, not
    # every asset of the BC (a BC at TikTok's limits has 2,000).
    found = [call.tx.bc_asset(bc_id, asset_type or "", asset_id) for asset_id in roles]
    assets = sorted(
        (a for a in found if a is not None), key=lambda a: (a["relation_type"], a["pos"])
    )
    items = [
        asset_item(a, roles[a["asset_id"]])
        for a in assets
        if keyword in f"{a['asset_id']} {a['name'].lower()}"
    ]
    page_items, info = paged(items, page, size)
    return {"list": page_items, "page_info": info}


def _roles_of(call: Call, bc_id: str, asset_type: str, user_id: str | None, email: Any) -> Data:
    """asset id -> stored role, for the caller or the member the filter names.

    [inferred] explicit assignments only: an admin's implicit reach is not listed, so a reader
    sees exactly the grants it can change.
    """
    if email is not None:
        if asset_type != "ADVERTISER":
            raise param_error(
                "filtering.user_email",
                "is only valid with asset_type ADVERTISER (BB asset_get.go).",
            )
        if not call.is_admin():
            raise no_permission("only admins can read another member's assets.")
        member = call.tx.member_by_email(bc_id, str(email))
        if member is None or member["relation_status"] != "PENDING":
            raise not_found(f"Pending invitation of {email} to Business Center {bc_id}")
        rows = call.tx.all(
            "SELECT asset_id, role FROM invite_grants WHERE bc_id = ? AND email = ?",
            bc_id, member["email"],
        )  # fmt: skip
        return {r["asset_id"]: r["role"] for r in rows}
    target = user_id or call.caller["user_id"]
    if target != call.caller["user_id"]:
        if not call.is_admin():
            raise no_permission("only admins can read another member's assets.")
        if call.tx.member_by_user(bc_id, target) is None:
            raise not_found(f"Member {target} of Business Center {bc_id}")
    rows = call.tx.all(
        "SELECT asset_id, role FROM grants WHERE bc_id = ? AND user_id = ? AND asset_type = ?",
        bc_id, target, asset_type,
    )  # fmt: skip
    return {r["asset_id"]: r["role"] for r in rows}


def get_admin_assets(call: Call) -> Data:
    bc = call.bc()
    p = call.params
    asset_type = p.enum("asset_type", ASSET_TYPES, required=True)
    f = p.obj("filtering")
    keyword = str(f.values.get("keyword") or "").lower()
    relation_type = f.enum("relation_type", RELATION_TYPES)
    # REJECT is listed by the SDK but marked invalid, so it is refused like any unknown value.
    status = f.enum("relation_status", ASSET_STATUSES)
    show = f.enum("advertiser_show_status", SHOW_STATUSES)
    page, size = p.page(50)
    # Filtered and paged in SQL, so a call's cost does not grow with the BC; every asset shows
    # as APPROVED.
    select = f"SELECT * FROM ({BC_ASSETS}) WHERE ?"
    args: list[Any] = [*bc_asset_args(bc["bc_id"], asset_type or ""), show in (None, SHOWN)]
    for column, value in (("relation_type", relation_type), ("relation_status", status)):
        if value is not None:
            select, args = f"{select} AND {column} = ?", [*args, value]
    if keyword:
        select, args = f"{select} AND instr(asset_id || ' ' || py_lower(name), ?)", [*args, keyword]
    rows, info = call.tx.page(select, BC_ASSET_ORDER, args, page, size)
    items = []
    for a in rows:
        item = asset_item(a, None)
        is_ad = a["asset_type"] == "ADVERTISER"
        item.update(
            advertiser_status="STATUS_ENABLE" if is_ad else None,
            pixel_code=None,
            relation_type=a["relation_type"],
            relation_status=a["relation_status"],
        )
        items.append(item)
    return {"list": items, "page_info": info}


def assign(call: Call) -> Data:
    bc = call.bc()
    bc_id, p = bc["bc_id"], call.params
    # One user and one asset per call (SDK); the user must have joined the BC (BB asset_assign.go).
    p.require("user_id", "asset_type", "asset_id")
    role = role_param(p, p.enum("asset_type", SDK_ASSET_TYPES) or "")
    member = joined_member(call, bc_id)
    asset = bc_asset_param(call, bc_id, SDK_ASSET_TYPES)
    require_bound(asset, "assigned")
    key = (bc_id, member["user_id"], asset["asset_type"], asset["asset_id"])
    old = call.tx.scalar(
        "SELECT role FROM grants WHERE bc_id = ? AND user_id = ? AND asset_type = ? "
        "AND asset_id = ?",
        *key,
    )
    if old == role:
        return {}
    call.tx.run("INSERT OR REPLACE INTO grants VALUES (?, ?, ?, ?, ?)", *key, role)
    who = member_label(member["email"], member["user_id"])
    new_text = role_text(decode_role(asset["asset_type"], role))
    if old is None:
        text = f"assigned {asset_label(asset)} to {who}" + (f" as {new_text}" if role else "")
    else:
        old_text = role_text(decode_role(asset["asset_type"], old))
        text = f"changed {who}'s role on {asset_label(asset)} from {old_text} to {new_text}"
    call.log(bc_id, _activity(asset), text)
    return {}


def require_bound(asset: sqlite3.Row, done: str) -> None:
    """[inferred; the SDK is silent] only an asset BOUND to the BC can be assigned or shared."""
    if asset["relation_status"] != "BOUND":
        raise param_error(
            "asset_id",
            f"{asset['asset_type']} {asset['asset_id']} is {asset['relation_status']} in this "
            f"Business Center; only BOUND assets can be {done}.",
        )


def _activity(asset: sqlite3.Row) -> str:
    # changelog activity types (BB changelog_get.go): ad-account permissions are ACCOUNT.
    return "ACCOUNT" if asset["asset_type"] == "ADVERTISER" else "ASSET"


def unassign(call: Call) -> Data:
    bc = call.bc()
    bc_id = bc["bc_id"]
    call.params.require("user_id", "asset_type", "asset_id")
    member = joined_member(call, bc_id)
    asset = bc_asset_param(call, bc_id, SDK_ASSET_TYPES)
    who = member_label(member["email"], member["user_id"])
    removed = call.tx.run(
        "DELETE FROM grants WHERE bc_id = ? AND user_id = ? AND asset_type = ? AND asset_id = ?",
        bc_id, member["user_id"], asset["asset_type"], asset["asset_id"],
    )  # fmt: skip
    if not removed:  # [inferred] no assignment to cancel is a missing object
        raise not_found(f"Assignment of {asset['asset_type']} {asset['asset_id']} to {who}")
    call.log(bc_id, _activity(asset), f"unassigned {asset_label(asset)} from {who}")
    return {}


def get_asset_members(call: Call) -> Data:
    bc = call.bc()
    bc_id, p = bc["bc_id"], call.params
    asset = bc_asset_param(call, bc_id, ("ADVERTISER", "CATALOG", "LEAD"))
    keyword = str(p.obj("filtering").values.get("keyword") or "").lower()
    page, size = p.page(20)
    select = (
        # The asset's grants first, by their index, whatever the planner's statistics say.
        "SELECT m.*, m.rowid AS pos, g.role FROM grants g INDEXED BY grants_by_asset "
        "CROSS JOIN members m ON m.bc_id = g.bc_id AND m.user_id = g.user_id "
        "WHERE g.bc_id = ? AND g.asset_type = ? AND g.asset_id = ? AND m.relation_status = 'BOUND'"
    )
    args = [bc_id, asset["asset_type"], asset["asset_id"]]
    if keyword:
        select += " AND (instr(m.email, ?) OR instr(py_lower(m.user_name), ?))"
        args += [keyword, keyword]
    rows, info = call.tx.page(select, "pos", args, page, size)
    field = MEMBER_ROLE_FIELDS.get(asset["asset_type"])
    items = [
        {
            "user_id": m["user_id"],
            "user_name": m["user_name"],
            "user_email": m["email"],
            "relation_status": m["relation_status"],
            **({field: m["role"]} if field else {}),
        }
        for m in rows
    ]
    return {"list": items, "page_info": info}


def get_asset_partners(call: Call) -> Data:
    bc = call.bc()
    bc_id, p = bc["bc_id"], call.params
    asset = bc_asset_param(call, bc_id, SDK_ASSET_TYPES)
    keyword = str(p.obj("filtering").values.get("keyword") or "").lower()
    page, size = p.page(50)
    select = (
        "SELECT b.bc_id, b.name, s.rowid AS pos FROM shares s "
        "JOIN business_centers b ON b.bc_id = s.partner_id "
        "WHERE s.bc_id = ? AND s.asset_type = ? AND s.asset_id = ?"
    )
    args = [bc_id, asset["asset_type"], asset["asset_id"]]
    if keyword:
        select, args = select + " AND instr(py_lower(b.name), ?)", [*args, keyword]
    rows, info = call.tx.page(select, "pos", args, page, size)
    return {"list": [{"bc_id": r["bc_id"], "bc_name": r["name"]} for r in rows], "page_info": info}


ENDPOINTS = (
    Endpoint("bc/asset/get/", "GET", get_assets),
    Endpoint("bc/asset/admin/get/", "GET", get_admin_assets),
    Endpoint("bc/asset/assign/", "POST", assign),
    Endpoint("bc/asset/unassign/", "POST", unassign),
    Endpoint("bc/asset/member/get/", "GET", get_asset_members),
    Endpoint("bc/asset/partner/get/", "GET", get_asset_partners),
)
