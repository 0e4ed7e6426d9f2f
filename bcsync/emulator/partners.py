"""Partner endpoints: /bc/partner/add|delete|get/ and /bc/partner/asset/get|delete/.

[inferred] A partnership has a direction: the BC that adds a partner shares its own ad accounts
with it. /bc/partner/get/ lists the partners a BC added; the partner sees those assets as
OWNER_PARTNER in /bc/asset/admin/get/ and with share_type SHARED in /bc/partner/asset/get/.
"""

from __future__ import annotations

import sqlite3

from .assets import SDK_ASSET_TYPES, require_bound
from .endpoint import Call, Data, Endpoint, asset_label, bc_label
from .errors import no_permission, not_found, param_error
from .seed import ROLES
from .store import Tx


def partner_param(call: Call, bc_id: str) -> sqlite3.Row:
    partner_id = call.params.id("partner_id", required=True)
    if partner_id == bc_id:
        raise param_error("partner_id", "a Business Center cannot be its own partner.")
    partner = call.tx.bc(partner_id or "")
    if partner is None:
        raise not_found(f"Business Center {partner_id}")
    return partner


def _is_partner(tx: Tx, bc_id: str, partner_id: str) -> bool:
    return (
        tx.one("SELECT 1 FROM partners WHERE bc_id = ? AND partner_id = ?", bc_id, partner_id)
        is not None
    )


def add(call: Call) -> Data:
    bc = call.bc()
    bc_id, p = bc["bc_id"], call.params
    # partner_id, asset_type and asset_ids are required (SDK extra_rule); tiered BCs not emulated.
    p.require("partner_id", "asset_type", "asset_ids")
    p.enum("asset_type", ("ADVERTISER",), required=True)  # the only value partner/add accepts
    asset_ids = p.ids("asset_ids", low=1, high=50, required=True)
    role = p.enum("advertiser_role", ROLES["ADVERTISER"], default="ANALYST")
    partner = partner_param(call, bc_id)
    assets = []
    for asset_id in asset_ids:
        asset = call.tx.asset("ADVERTISER", asset_id)
        if asset is None:
            raise not_found(f"ADVERTISER {asset_id}")
        if asset["bc_id"] != bc_id:  # a BC can share only assets it owns (BB partner_add.go)
            raise no_permission(f"Business Center {bc_id} does not own ADVERTISER {asset_id}.")
        require_bound(asset, "shared")
        assets.append(asset)
    pid = partner["bc_id"]
    if not _is_partner(call.tx, bc_id, pid):
        call.tx.run("INSERT INTO partners VALUES (?, ?)", bc_id, pid)
        call.log(bc_id, "BUSINESS", f"added partner {bc_label(partner)}")
    for asset in assets:
        key = (bc_id, pid, "ADVERTISER", asset["asset_id"])
        old = call.tx.scalar(
            "SELECT role FROM shares WHERE bc_id = ? AND partner_id = ? AND asset_type = ? "
            "AND asset_id = ?",
            *key,
        )
        if old == role:
            continue
        # Re-adding a shared asset replaces its role (team decision; the provider relies on it).
        call.tx.run("INSERT OR REPLACE INTO shares VALUES (?, ?, ?, ?, ?)", *key, role)
        if old is None:
            text = f"shared {asset_label(asset)} with partner {bc_label(partner)} as {role}"
        else:
            text = (
                f"changed partner {bc_label(partner)}'s role on {asset_label(asset)} "
                f"from {old} to {role}"
            )
        call.log(bc_id, "ACCOUNT", text)
    return {}


def _drop_shares(tx: Tx, bc_id: str, partner_id: str, asset_ids: list[str] | None) -> None:
    """Remove shares; the partner's members lose their assignments on those assets too."""
    rows = tx.all(
        "SELECT asset_type, asset_id FROM shares WHERE bc_id = ? AND partner_id = ?",
        bc_id, partner_id,
    )  # fmt: skip
    for r in rows:
        if asset_ids is None or r["asset_id"] in asset_ids:
            key = (r["asset_type"], r["asset_id"])
            tx.run(
                "DELETE FROM shares WHERE bc_id = ? AND partner_id = ? AND asset_type = ? "
                "AND asset_id = ?",
                bc_id, partner_id, *key,
            )  # fmt: skip
            tx.run(
                "DELETE FROM grants WHERE bc_id = ? AND asset_type = ? AND asset_id = ?",
                partner_id, *key,
            )  # fmt: skip


def delete(call: Call) -> Data:
    bc = call.bc()
    bc_id = bc["bc_id"]
    partner = partner_param(call, bc_id)
    if not _is_partner(call.tx, bc_id, partner["bc_id"]):
        raise not_found(f"Partner {partner['bc_id']} of Business Center {bc_id}")
    shares = call.tx.scalar(
        "SELECT COUNT(*) FROM shares WHERE bc_id = ? AND partner_id = ?", bc_id, partner["bc_id"]
    )
    _drop_shares(call.tx, bc_id, partner["bc_id"], None)
    call.tx.run("DELETE FROM partners WHERE bc_id = ? AND partner_id = ?", bc_id, partner["bc_id"])
    text = f"removed partner {bc_label(partner)} and {shares} shared asset(s)"
    call.log(bc_id, "BUSINESS", text)
    return {}


def get_partners(call: Call) -> Data:
    bc = call.bc()
    name = str(call.params.obj("filtering").values.get("name") or "").lower()
    page, size = call.params.page(50)
    select = (
        "SELECT b.bc_id, b.name, p.rowid AS pos FROM partners p "
        "JOIN business_centers b ON b.bc_id = p.partner_id WHERE p.bc_id = ?"
    )
    args = [bc["bc_id"]]
    if name:
        select, args = select + " AND instr(py_lower(b.name), ?)", [*args, name]
    rows, info = call.tx.page(select, "pos", args, page, size)
    return {"list": [{"bc_id": r["bc_id"], "bc_name": r["name"]} for r in rows], "page_info": info}


def get_partner_assets(call: Call) -> Data:
    bc = call.bc()
    bc_id, p = bc["bc_id"], call.params
    p.require("partner_id", "asset_type", "share_type")
    # DOMAIN is also flagged valid in the SDK; the emulator holds no domains, so it lists nothing.
    asset_type = p.enum("asset_type", ("ADVERTISER", "CATALOG", "DOMAIN"), required=True)
    share_type = p.enum("share_type", ("SHARED", "SHARING"), required=True)
    keyword = str(p.obj("filtering").values.get("keyword") or "").lower()
    page, size = p.page(50)
    partner = partner_param(call, bc_id)
    pid = partner["bc_id"]
    if not (_is_partner(call.tx, bc_id, pid) or _is_partner(call.tx, pid, bc_id)):
        raise not_found(f"Partner {pid} of Business Center {bc_id}")
    # SHARING: what this BC shares with the partner; SHARED: what the partner shares with it.
    owner, receiver = (bc_id, pid) if share_type == "SHARING" else (pid, bc_id)
    select = (
        "SELECT a.*, s.role, s.rowid AS pos FROM shares s JOIN assets a "
        "ON a.asset_type = s.asset_type AND a.asset_id = s.asset_id "
        "WHERE s.bc_id = ? AND s.partner_id = ? AND s.asset_type = ?"
    )
    args = [owner, receiver, asset_type]
    if keyword:
        select += " AND instr(a.asset_id || ' ' || py_lower(a.name), ?)"
        args.append(keyword)
    rows, info = call.tx.page(select, "pos", args, page, size)
    items = [
        {
            "asset_id": r["asset_id"],
            "asset_name": r["name"],
            "asset_type": r["asset_type"],
            "advertiser_role": r["role"] if r["asset_type"] == "ADVERTISER" else None,
            "advertiser_account_type": r["account_type"],
            "catalog_role": r["role"] if r["asset_type"] == "CATALOG" else None,
        }
        for r in rows
    ]
    return {"list": items, "page_info": info}


def delete_assets(call: Call) -> Data:
    bc = call.bc()
    bc_id, p = bc["bc_id"], call.params
    p.require("partner_id", "asset_type", "asset_ids")
    # Every SDK asset type; only ad accounts and catalogs are ever shared (partner/add), so
    # the rest name no share and are answered 40007 below.
    asset_type = p.enum("asset_type", SDK_ASSET_TYPES, required=True)
    asset_ids = p.ids("asset_ids", low=1, high=50, required=True)
    partner = partner_param(call, bc_id)
    pid = partner["bc_id"]
    rows = call.tx.all(
        "SELECT asset_id FROM shares WHERE bc_id = ? AND partner_id = ? AND asset_type = ?",
        bc_id, pid, asset_type,
    )  # fmt: skip
    shared = {r["asset_id"] for r in rows}
    for asset_id in asset_ids:  # all or nothing: check every id before changing anything
        if asset_id not in shared:
            raise not_found(f"Share of {asset_type} {asset_id} with partner {pid}")
    _drop_shares(call.tx, bc_id, pid, asset_ids)
    for asset_id in asset_ids:
        asset = call.tx.asset(asset_type or "", asset_id)
        assert asset is not None
        call.log(
            bc_id,
            "ACCOUNT",
            f"stopped sharing {asset_label(asset)} with partner {bc_label(partner)}",
        )
    return {}


ENDPOINTS = (
    Endpoint("bc/partner/add/", "POST", add),
    Endpoint("bc/partner/delete/", "POST", delete),
    Endpoint("bc/partner/get/", "GET", get_partners),
    Endpoint("bc/partner/asset/get/", "GET", get_partner_assets),
    Endpoint("bc/partner/asset/delete/", "POST", delete_assets),
)
