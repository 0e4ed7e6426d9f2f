"""Business Center endpoints: /bc/get/ and the activity log /changelog/get/."""

from __future__ import annotations

import re
import sqlite3
from datetime import UTC, datetime, timedelta
from typing import Any

from .endpoint import Call, Data, Endpoint
from .errors import param_error
from .params import Params, paged
from .store import format_time

ACTIVITY_TYPES = ("ALL", "USER", "ACCOUNT", "ASSET", "BUSINESS")
DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")


def bc_item(bc: sqlite3.Row, me: sqlite3.Row) -> Data:
    """A BC as /bc/get/ lists it, with the caller's role in it (SDK response_rule).

    bc_info carries only fields the SDK maps; it drops null ones (`pop_resp_nullvalue`), so
    `organization_type`, whose values the SDK does not give, is left out.
    """
    return {
        "bc_info": {
            "bc_id": bc["bc_id"],
            "name": bc["name"],
            "company": bc["company"],
            "currency": bc["currency"],
            "registered_area": bc["registered_area"],
            "status": "ENABLE",
            "timezone": bc["timezone"],
            "type": bc["type"],
        },
        "user_role": me["user_role"],
        "ext_user_role": {"finance_role": me["finance_role"]} if me["finance_role"] else {},
        # [unknown] binding_status values are undocumented by TikTok; the member's status.
        "binding_status": me["relation_status"],
    }


def get_bcs(call: Call) -> Data:
    p = call.params
    p.enum("scene", ("SINGLE_ACCOUNT", "TIERED_ACCOUNT"), default="SINGLE_ACCOUNT")
    keyword = str(p.obj("filtering").values.get("keyword") or "").lower()
    page, size = p.page(50)
    user_id = call.caller["user_id"]
    rows: list[tuple[sqlite3.Row, sqlite3.Row]]
    if p.present("bc_id"):
        bc = call.bc(admin=False)
        assert call.me is not None  # call.bc() found the caller's membership
        rows = [(bc, call.me)]
    else:  # no bc_id: every BC the token's user has joined (BB model/bc/get.go)
        joined = call.tx.all(
            "SELECT b.*, m.user_role, m.finance_role, m.relation_status FROM members m "
            "JOIN business_centers b ON b.bc_id = m.bc_id "
            "WHERE m.user_id = ? AND m.relation_status = 'BOUND' ORDER BY b.rowid",
            user_id,
        )
        rows = [(r, r) for r in joined]  # one row carries both the BC and the membership
    items = [bc_item(bc, me) for bc, me in rows if keyword in bc["name"].lower()]
    page_items, info = paged(items, page, size)
    return {"list": page_items, "page_info": info}


def _date(f: Params, key: str) -> datetime:
    value = f.values.get(key)
    if not isinstance(value, str) or not DATE.match(value):
        raise param_error(f.name(key), f"must be a date YYYY-MM-DD, got {value!r}.")
    try:
        return datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        raise param_error(f.name(key), f"is not a valid date: {value!r}.") from None


def get_changelog(call: Call) -> Data:
    bc = call.bc()
    p = call.params
    f = p.obj("filtering")
    # start_date/end_date: both or neither; neither means the last 7 days (BB changelog_get.go).
    if f.present("start_date") != f.present("end_date"):
        missing = "end_date" if f.present("start_date") else "start_date"
        raise param_error(f.name(missing), "pass start_date and end_date together, or neither.")
    if f.present("start_date"):
        start = _date(f, "start_date").timestamp()
        end = (_date(f, "end_date") + timedelta(days=1)).timestamp()
        if start >= end:
            raise param_error(f.name("end_date"), "must not be before start_date.")
    else:
        start, end = call.now - 7 * 86400, call.now + 1
    activity = f.enum("activity_type", ACTIVITY_TYPES, default="ALL")
    p.enum("sort_field", ("operation_time",), default="operation_time")
    order = p.enum("sort_type", ("DESC", "ASC"), default="DESC")
    lang = p.values.get("lang", "en")
    if not isinstance(lang, str) or not lang:
        raise param_error("lang", "must be a language code such as en.")
    page, size = p.page(50)
    select = "SELECT * FROM changelog WHERE bc_id = ? AND ts >= ? AND ts < ?"
    args: list[Any] = [bc["bc_id"], start, end]
    if activity != "ALL":
        select, args = select + " AND activity_type = ?", [*args, activity]
    # `order` is one of two enum values, never the caller's text.
    rows, info = call.tx.page(select, f"ts {order}, seq {order}", args, page, size)
    items = [
        {
            "time": format_time(r["ts"]),
            "activity_type": r["activity_type"],
            "operator_id": r["operator_id"],
            "activity_log": r["activity_log"],
        }
        for r in rows
    ]
    return {"changelog_list": items, "page_info": info}


ENDPOINTS = (
    Endpoint("bc/get/", "GET", get_bcs),
    Endpoint("changelog/get/", "GET", get_changelog),
)
