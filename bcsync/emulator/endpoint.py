"""What every endpoint handler gets (a Call) and shares: access checks, activity-log labels."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .errors import no_permission, not_found
from .params import Params
from .store import Tx

Data = dict[str, Any]

# Readable names for the activity log.
ASSET_WORDS = {
    "ADVERTISER": "ad account",
    "CATALOG": "catalog",
    "TT_ACCOUNT": "TikTok account",
    "TIKTOK_SHOP": "TikTok Shop",
    "STOREFRONT": "storefront",
    "LEAD": "lead form library",
    "PIXEL": "pixel",
}


@dataclass
class Call:
    """One authenticated API call inside its transaction."""

    tx: Tx
    caller: sqlite3.Row  # the users row of the token's owner
    params: Params
    now: float
    me: sqlite3.Row | None = field(default=None)  # the caller's membership, once checked

    def bc(self, *, admin: bool = True) -> sqlite3.Row:
        """The `bc_id` BC, checking that the caller is a joined member (and an admin if asked)."""
        bc_id = self.params.id("bc_id", required=True)
        assert bc_id is not None
        bc = self.tx.bc(bc_id)
        # [unknown] TikTok does not say: an unknown bc_id may be 40001 or 40007; we answer 40007,
        # and 40001 for a BC that exists but that the caller has not joined.
        if bc is None:
            raise not_found(f"Business Center {bc_id}")
        me = self.tx.member_by_user(bc_id, self.caller["user_id"])
        if me is None:
            raise no_permission(f"you are not a member of Business Center {bc_id}.")
        if admin and me["user_role"] != "ADMIN":
            raise no_permission(f"only admins of Business Center {bc_id} can do this.")
        self.me = me
        return bc

    def is_admin(self) -> bool:
        return self.me is not None and self.me["user_role"] == "ADMIN"

    def log(self, bc_id: str, activity_type: str, text: str) -> None:
        """Append an activity-log entry by the caller; the text starts with their email.

        [inferred] one entry per object changed (an invite of three emails logs three), and none
        for a write that changes nothing (an email already invited, a role a grant already has).
        """
        self.tx.log(
            bc_id, self.now, activity_type, self.caller["user_id"], f"{self.caller['email']} {text}"
        )


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One API route: `path` relative to /open_api/v1.3/."""

    path: str
    method: str
    handler: Callable[[Call], Data]

    @property
    def write(self) -> bool:
        return self.method == "POST"


def member_label(email: str, user_id: str | None) -> str:
    """ "bob@acme.com (6900...)" or just the email for an invitee."""
    return f"{email} ({user_id})" if user_id else email


def asset_label(asset: sqlite3.Row) -> str:
    """ "ad account Acme US (7100...)"."""
    return f"{ASSET_WORDS[asset['asset_type']]} {asset['name']} ({asset['asset_id']})"


def bc_label(bc: sqlite3.Row) -> str:
    return f"{bc['name']} ({bc['bc_id']})"


def role_text(role: str | list[str]) -> str:
    return "+".join(role) if isinstance(role, list) else role
