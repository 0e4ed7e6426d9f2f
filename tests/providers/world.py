"""Seeds for the emulator: one hand-written BC with every kind, and a generated one."""

from __future__ import annotations

import random
from typing import Any

from .fakes import TOKEN

BC = "7000000000000000001"
OWNER = "owner@acme.example"
BOB_TOKEN = "bob-standard-token"


def uid(n: int) -> str:
    return f"69{n:017d}"


def aid(prefix: int, n: int) -> str:
    return f"{prefix}{n:017d}"


def grant(email: str, asset_type: str, asset_id: str, role: Any) -> dict[str, Any]:
    return {"email": email, "asset_type": asset_type, "asset_id": asset_id, "role": role}


def every_kind() -> dict[str, Any]:
    """Members of every status, every asset type, grants, partners and shares."""
    users = [
        {"user_id": uid(1), "email": OWNER, "name": "Olivia", "token": TOKEN},
        {"user_id": uid(2), "email": "ops@acme.example", "name": "Ops"},
        {"user_id": uid(3), "email": "Bob@Acme.example", "name": "Bob", "token": BOB_TOKEN},
    ]
    ad1, ad2, ad3 = aid(71, 1), aid(71, 2), aid(71, 3)
    cat, tt, shop, lead = aid(73, 1), aid(74, 1), aid(75, 1), aid(76, 1)
    return {
        "version": 1,
        "users": users,
        "business_centers": [
            {
                "bc_id": BC,
                "name": "Acme",
                "members": [
                    {"email": OWNER, "role": "ADMIN", "finance_role": "MANAGER"},
                    {"email": "ops@acme.example", "role": "ADMIN"},
                    {"email": "Bob@Acme.example", "role": "STANDARD", "finance_role": "ANALYST"},
                    {"email": "new@acme.example", "role": "STANDARD", "status": "PENDING"},
                    {"email": "no@acme.example", "role": "STANDARD", "status": "REJECTED"},
                ],
                "assets": {
                    "ADVERTISER": [
                        {"id": ad1, "name": "US"},
                        {"id": ad2, "name": "EU"},
                        {"id": ad3, "name": "Undeclared"},
                    ],
                    "CATALOG": [{"id": cat, "name": "Main"}],
                    "TT_ACCOUNT": [{"id": tt, "name": "Brand"}],
                    "TIKTOK_SHOP": [{"id": shop, "name": "Store"}],
                    "LEAD": [{"id": lead, "name": "Signup"}],
                },
                "grants": [
                    grant("Bob@Acme.example", "ADVERTISER", ad1, "OPERATOR"),
                    grant("Bob@Acme.example", "ADVERTISER", ad3, "ADMIN"),
                    grant("Bob@Acme.example", "CATALOG", cat, "AD_PROMOTE"),
                    grant("Bob@Acme.example", "TT_ACCOUNT", tt, ["POST", "LIVE"]),
                    grant("Bob@Acme.example", "TIKTOK_SHOP", shop, "AD_PROMOTION"),
                    grant("Bob@Acme.example", "LEAD", lead, "ADMIN"),
                    grant("ops@acme.example", "ADVERTISER", ad2, "ANALYST"),
                    grant("new@acme.example", "ADVERTISER", ad1, "ANALYST"),
                ],
                "partners": [
                    {
                        "bc_id": "7200000000000000009",
                        "shares": [
                            {"asset_type": "ADVERTISER", "asset_id": ad1, "role": "ANALYST"},
                            {"asset_type": "ADVERTISER", "asset_id": ad3, "role": "ADMIN"},
                        ],
                    },
                    {"bc_id": "7200000000000000008"},
                ],
            }
        ],
        "external_business_centers": [
            {"bc_id": "7200000000000000009", "name": "Agency X"},
            {"bc_id": "7200000000000000008", "name": "Agency Y"},
        ],
    }  # fmt: skip


TYPES = {"ADVERTISER": 71, "CATALOG": 73, "TT_ACCOUNT": 74, "TIKTOK_SHOP": 75, "LEAD": 76}
ROLES: dict[str, list[Any]] = {
    "ADVERTISER": ["ADMIN", "OPERATOR", "ANALYST"],
    "CATALOG": ["ADMIN", "AD_PROMOTE"],
    "TT_ACCOUNT": [["POST"], ["LIVE", "POST"], ["DIRECT_MESSAGE"]],
    "TIKTOK_SHOP": ["AD_PROMOTION", "MANAGER"],
    "LEAD": ["ADMIN"],
}


def generated(
    *,
    bc_ids: tuple[str, ...] = (BC,),
    members: int = 30,
    pending: int = 3,
    assets: dict[str, int] | None = None,
    grants: int = 80,
    partners: int = 3,
    shares: int = 4,
    seed: int = 1,
) -> dict[str, Any]:
    """A random but repeatable world; the first user (token TOKEN) administers every BC."""
    rng = random.Random(seed)
    assets = assets if assets is not None else {t: 6 for t in TYPES}
    users = [{"user_id": uid(1), "email": OWNER, "name": "Owner", "token": TOKEN}]
    users += [
        {"user_id": uid(i), "email": f"user{i}@acme.example", "name": f"User {i}"}
        for i in range(2, members + 1)
    ]
    centers = []
    externals = [{"bc_id": f"72{n:017d}", "name": f"Partner {n}"} for n in range(1, partners + 1)]
    for b, bc_id in enumerate(bc_ids):
        bound = [u["email"] for u in users]
        roster = [{"email": OWNER, "role": "ADMIN"}] + [
            {"email": e, "role": "STANDARD"} for e in bound[1:]
        ]
        roster += [
            {"email": f"invitee{i}@acme.example", "role": "STANDARD", "status": "PENDING"}
            for i in range(pending)
        ]
        owned = {
            t: [{"id": aid(TYPES[t], b * 1000 + i), "name": f"{t} {i}"} for i in range(n)]
            for t, n in assets.items()
            if n
        }
        pairs = [(e, t, a["id"]) for e in bound[1:] for t, lst in owned.items() for a in lst]
        chosen = rng.sample(pairs, min(grants, len(pairs)))
        grant_list = [
            {"email": e, "asset_type": t, "asset_id": a, "role": rng.choice(ROLES[t])}
            for e, t, a in chosen
        ]
        ads = [a["id"] for a in owned.get("ADVERTISER", [])]
        partner_list = [
            {
                "bc_id": p["bc_id"],
                "shares": [
                    {
                        "asset_type": "ADVERTISER",
                        "asset_id": a,
                        "role": rng.choice(ROLES["ADVERTISER"]),
                    }
                    for a in rng.sample(ads, min(shares, len(ads)))
                ],
            }
            for p in externals
        ]
        centers.append(
            {
                "bc_id": bc_id,
                "name": f"BC {b}",
                "members": roster,
                "assets": owned,
                "grants": grant_list,
                "partners": partner_list,
            }
        )
    return {
        "version": 1,
        "users": users,
        "business_centers": centers,
        "external_business_centers": externals,
    }
