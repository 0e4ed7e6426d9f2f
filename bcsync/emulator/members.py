"""Member endpoints: /bc/member/get|invite|update|delete/, and invitations being settled."""

from __future__ import annotations

import hashlib
import sqlite3

from .endpoint import Call, Data, Endpoint, asset_label, member_label
from .errors import EmulatorError, not_found, param_error
from .params import EMAIL, MAX_PAGE, Params
from .seed import MAX_ADMINS, MAX_MEMBERS, ROLES
from .store import DEFAULT_APP, Tx

USER_ROLES = ("ADMIN", "STANDARD")
FINANCE_ROLES = ("MANAGER", "ANALYST")
RELATION_STATUSES = ("BOUND", "PENDING", "REJECTED", "UNBOUND")
# member/get declares no page-size cap (SDK) and another client says 20: the emulator takes the
# most pessimistic reading, accepting any size but answering at most 20 items a page, with a
# page_info that does not say so (page_size and total_page follow the requested size).
MEMBER_PAGE_CAP = 20


def member_item(m: sqlite3.Row) -> Data:
    """A member as /bc/member/get/ lists it.

    An invitee has no usable user id until it joins [inferred: sent as "", a string like every id,
    with an empty user_name until they join].
    """
    return {
        "user_id": m["user_id"] or "",
        "user_name": m["user_name"],
        "user_email": m["email"],
        "user_role": m["user_role"],
        "relation_status": m["relation_status"],
        "ext_user_role": {"finance_role": m["finance_role"]} if m["finance_role"] else {},
    }


def get_members(call: Call) -> Data:
    bc = call.bc()
    f = call.params.obj("filtering")
    keyword = str(f.values.get("keyword") or "").lower()
    role = f.enum("user_role", USER_ROLES)
    status = f.enum("relation_status", RELATION_STATUSES)
    page = call.params.integer("page", default=1, low=1, high=MAX_PAGE)
    size = call.params.integer("page_size", default=10, low=1, high=MAX_PAGE)
    where, args = "bc_id = ?", [bc["bc_id"]]
    for column, value in (("user_role", role), ("relation_status", status)):
        if value is not None:
            where, args = f"{where} AND {column} = ?", [*args, value]
    if keyword:
        where += " AND (instr(email, ?) OR instr(py_lower(user_name), ?))"
        args += [keyword, keyword]
    select = f"SELECT * FROM members WHERE {where}"
    rows, info = call.tx.page(select, "rowid", args, page, size, cap=MEMBER_PAGE_CAP)
    return {"list": [member_item(m) for m in rows], "page_info": info}


def finance_param(p: Params) -> tuple[bool, str | None]:
    """(given, finance role) from `ext_user_role`.

    The SDK has no value that clears a finance role, so an `ext_user_role` without a
    `finance_role` (`{}` included) is a 40002, not a silent clear (the stricter reading).
    """
    ext = p.raw_obj("ext_user_role")
    if ext is None:
        return False, None
    inner = Params(ext, from_query=False, prefix="ext_user_role.")
    inner.require("finance_role")
    return True, inner.enum("finance_role", FINANCE_ROLES)


def invite(call: Call) -> Data:
    bc = call.bc()
    bc_id, p = bc["bc_id"], call.params
    emails = p.emails("emails", low=1, high=50)
    role = p.enum("user_role", USER_ROLES, default="STANDARD")
    _, finance = finance_param(p)
    p.enum("asset_type", ("ADVERTISER",), default="ADVERTISER")  # the only valid value (SDK)
    # asset_ids: optional in the SDK schema but required by its rule and its Python model (which
    # sends [] by default); the emulator enforces the stricter layers. At most 50 (third-party).
    p.require("asset_ids")
    asset_ids = p.ids("asset_ids", low=0, high=50)
    advertiser_role = p.enum("advertiser_role", ROLES["ADVERTISER"], default="ANALYST")
    assets = []
    for asset_id in asset_ids:
        asset = call.tx.bc_asset(bc_id, "ADVERTISER", asset_id)
        if asset is None:
            raise not_found(f"ADVERTISER {asset_id} in Business Center {bc_id}")
        assets.append(asset)
    # Emails already invited or joined are ignored (BB model/bc/member_invite.go).
    fresh = []
    for email in emails:
        m = call.tx.member_by_email(bc_id, email)
        if m is None or m["relation_status"] in ("REJECTED", "UNBOUND"):
            fresh.append(email)
    check_limits(call.tx, bc_id, new_members=len(fresh), new_admins=len(fresh) * (role == "ADMIN"))
    for email in fresh:
        call.tx.run(
            "INSERT OR REPLACE INTO members VALUES (?, ?, NULL, '', ?, ?, 'PENDING', ?)",
            bc_id, email, role, finance, call.now,
        )  # fmt: skip
        call.tx.run("DELETE FROM invite_grants WHERE bc_id = ? AND email = ?", bc_id, email)
        for asset in assets:
            call.tx.run(
                "INSERT INTO invite_grants VALUES (?, ?, ?, ?)",
                bc_id, email, asset["asset_id"], advertiser_role,
            )  # fmt: skip
        text = f"invited {email} as {role}"
        if finance:
            text += f" with finance role {finance}"
        if assets:
            names = ", ".join(asset_label(a) for a in assets)
            text += f", with {advertiser_role} access to {names}"
        call.log(bc_id, "USER", text)
    return {}


def check_limits(tx: Tx, bc_id: str, *, new_members: int, new_admins: int) -> None:
    """At most 4,000 members and 20 admins (HC; BB).

    [inferred] pending invitees count, since they may join; the error is a 40002 naming the field.
    """
    row = tx.one(
        "SELECT COUNT(*), COALESCE(SUM(user_role = 'ADMIN'), 0) FROM members "
        "WHERE bc_id = ? AND relation_status IN ('BOUND', 'PENDING')",
        bc_id,
    )
    count, admins = row if row is not None else (0, 0)  # an aggregate always has a row
    if new_members and count + new_members > MAX_MEMBERS:
        raise param_error(
            "emails",
            f"Business Center {bc_id} has {count} members and invitations; "
            f"{new_members} more would pass the limit of {MAX_MEMBERS}.",
        )
    if new_admins and admins + new_admins > MAX_ADMINS:
        raise param_error(
            "user_role",
            f"Business Center {bc_id} has {admins} admins; "
            f"{new_admins} more would pass the limit of {MAX_ADMINS}.",
        )


def keep_an_admin(tx: Tx, bc_id: str, member: sqlite3.Row, field: str) -> None:
    """[inferred; TikTok does not document it] a BC keeps at least one joined admin."""
    if member["user_role"] != "ADMIN":
        return
    others = tx.scalar(
        "SELECT COUNT(*) FROM members WHERE bc_id = ? AND user_role = 'ADMIN' "
        "AND relation_status = 'BOUND' AND email != ?",
        bc_id, member["email"],
    )  # fmt: skip
    if not others:
        raise param_error(
            field,
            f"{member['email']} is the last admin of Business Center {bc_id}; "
            "a Business Center keeps at least one admin.",
        )


def joined_member(call: Call, bc_id: str) -> sqlite3.Row:
    user_id = call.params.id("user_id", required=True)
    assert user_id is not None
    member = call.tx.member_by_user(bc_id, user_id)
    if member is None:
        raise not_found(f"Member {user_id} of Business Center {bc_id}")
    return member


def update(call: Call) -> Data:
    bc = call.bc()
    bc_id, p = bc["bc_id"], call.params
    member = joined_member(call, bc_id)
    role = p.enum("user_role", USER_ROLES) or member["user_role"]
    name = p.text("user_name", max_length=250) or member["user_name"]
    given, finance = finance_param(p)
    finance = finance if given else member["finance_role"]
    changes = []
    if role != member["user_role"]:
        if role == "ADMIN":
            check_limits(call.tx, bc_id, new_members=0, new_admins=1)
        else:
            keep_an_admin(call.tx, bc_id, member, "user_role")
        changes.append(f"role {member['user_role']} -> {role}")
    if finance != member["finance_role"]:
        changes.append(f"finance role {member['finance_role'] or 'none'} -> {finance or 'none'}")
    if name != member["user_name"]:
        changes.append(f"name {member['user_name']!r} -> {name!r}")
    if changes:
        call.tx.run(
            "UPDATE members SET user_role = ?, finance_role = ?, user_name = ? "
            "WHERE bc_id = ? AND email = ?",
            role, finance, name, bc_id, member["email"],
        )  # fmt: skip
        label = member_label(member["email"], member["user_id"])
        call.log(bc_id, "USER", f"updated {label}: {', '.join(changes)}")
    return {}


def delete(call: Call) -> Data:
    bc = call.bc()
    bc_id, p = bc["bc_id"], call.params
    by_id, by_email = p.present("user_id"), p.present("user_email")
    if by_id == by_email:
        raise param_error(
            "user_id",
            "pass exactly one of user_id (a joined member) or user_email (a pending invitation).",
        )
    if by_id:
        member = joined_member(call, bc_id)
        keep_an_admin(call.tx, bc_id, member, "user_id")
        revoked = call.tx.run(
            "DELETE FROM grants WHERE bc_id = ? AND user_id = ?", bc_id, member["user_id"]
        )
        call.tx.run("DELETE FROM members WHERE bc_id = ? AND email = ?", bc_id, member["email"])
        # [inferred] a member who leaves the BC leaves its asset groups too.
        call.tx.run(
            "DELETE FROM asset_group_members WHERE user_id = ? AND group_id IN "
            "(SELECT group_id FROM asset_groups WHERE bc_id = ?)",
            member["user_id"], bc_id,
        )  # fmt: skip
        label = member_label(member["email"], member["user_id"])
        call.log(bc_id, "USER", f"removed {label} and {revoked} asset assignment(s)")
        return {}
    email = _email(p)
    invitation = call.tx.member_by_email(bc_id, email)
    if invitation is None:
        raise not_found(f"Invitation of {email} to Business Center {bc_id}")
    if invitation["relation_status"] == "BOUND":  # [inferred] user_email addresses invitations only
        raise param_error("user_email", f"{email} has joined; remove a joined member by user_id.")
    call.tx.run("DELETE FROM invite_grants WHERE bc_id = ? AND email = ?", bc_id, email)
    call.tx.run("DELETE FROM members WHERE bc_id = ? AND email = ?", bc_id, email)
    what = "invitation" if invitation["relation_status"] == "PENDING" else "declined invitation"
    call.log(bc_id, "USER", f"revoked the {what} of {email}")
    return {}


def _email(p: Params) -> str:
    value = p.values["user_email"]
    if not isinstance(value, str) or not EMAIL.match(value):
        raise param_error("user_email", f"must be an email address, got {value!r}.")
    return value.lower()


def derived_user_id(tx: Tx, email: str) -> str:
    """A stable 19-digit id for a new TikTok user, derived from the email."""
    number = int(hashlib.sha256(email.encode()).hexdigest(), 16) % 10**17
    while True:
        user_id = f"69{number:017d}"
        if tx.one("SELECT 1 FROM users WHERE user_id = ?", user_id) is None:
            return user_id
        number = (number + 1) % 10**17


def settle_invitation(tx: Tx, bc_id: str, email: str, accept: bool, now: float) -> str:
    """The invitee accepts (BOUND, a user id, invite grants become grants) or declines."""
    email = email.lower()
    member = tx.member_by_email(bc_id, email)
    if member is None or member["relation_status"] != "PENDING":
        raise EmulatorError(f"no pending invitation of {email} in Business Center {bc_id}")
    user = tx.user_by_email(email)
    if not accept:
        tx.run(
            "UPDATE members SET relation_status = 'REJECTED', invited_at = NULL "
            "WHERE bc_id = ? AND email = ?",
            bc_id, email,
        )  # fmt: skip
        tx.run("DELETE FROM invite_grants WHERE bc_id = ? AND email = ?", bc_id, email)
        operator = user["user_id"] if user else derived_user_id(tx, email)
        tx.log(bc_id, now, "USER", operator, f"{email} declined the invitation")
        return "REJECTED"
    if user is None:
        user_id, name = derived_user_id(tx, email), email.split("@")[0]
        tx.run("INSERT INTO users VALUES (?, ?, ?, NULL, ?)", user_id, email, name, DEFAULT_APP)
        user = tx.user_by_email(email)
    assert user is not None
    tx.run(
        "UPDATE members SET relation_status = 'BOUND', user_id = ?, user_name = ?, "
        "invited_at = NULL WHERE bc_id = ? AND email = ?",
        user["user_id"], user["name"], bc_id, email,
    )  # fmt: skip
    granted = []
    for g in tx.all("SELECT * FROM invite_grants WHERE bc_id = ? AND email = ?", bc_id, email):
        asset = tx.bc_asset(bc_id, "ADVERTISER", g["asset_id"])
        if asset is not None:  # it may have left the BC since the invitation
            tx.run(
                "INSERT OR REPLACE INTO grants VALUES (?, ?, 'ADVERTISER', ?, ?)",
                bc_id, user["user_id"], g["asset_id"], g["role"],
            )  # fmt: skip
            granted.append(f"{g['role']} on {asset_label(asset)}")
    tx.run("DELETE FROM invite_grants WHERE bc_id = ? AND email = ?", bc_id, email)
    text = f"{member_label(email, user['user_id'])} accepted the invitation and joined as "
    text += member["user_role"] + (f", with {', '.join(granted)}" if granted else "")
    tx.log(bc_id, now, "USER", user["user_id"], text)
    return "BOUND"


def accept_due_invitations(tx: Tx, now: float, after: float) -> int:
    """Accept every invitation older than `after` seconds (checked lazily on each request)."""
    due = tx.all(
        "SELECT bc_id, email FROM members WHERE relation_status = 'PENDING' AND invited_at <= ? "
        "ORDER BY invited_at, rowid",
        now - after,
    )
    for row in due:
        settle_invitation(tx, row["bc_id"], row["email"], True, now)
    return len(due)


ENDPOINTS = (
    Endpoint("bc/member/get/", "GET", get_members),
    Endpoint("bc/member/invite/", "POST", invite),
    Endpoint("bc/member/update/", "POST", update),
    Endpoint("bc/member/delete/", "POST", delete),
)
