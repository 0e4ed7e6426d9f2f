"""The conformance world: one BC with every asset type, more than 20 members and an asset group."""

from __future__ import annotations

from typing import Any

from .table import AD1, AD2, BC, BOB, CATALOG, GROUP, LEAD, PARTNER, PIXEL, SHOP, STD, STORE, TT

TOKEN = "conformance-admin-token"
AD3 = "7100000000000000003"
EXTRA = 26  # members beyond the first four, so member/get has more than one 20-item page


def uid(n: int) -> str:
    return f"60000000000000000{n:02d}"


def grant(email: str, asset_type: str, asset_id: str, role: Any = None) -> dict[str, Any]:
    entry = {"email": email, "asset_type": asset_type, "asset_id": asset_id}
    return entry if role is None else {**entry, "role": role}


def seed() -> dict[str, Any]:
    """A fresh seed (a new dict each call, so tests may change it)."""
    bob, std = "bob@conformance.example", "std@conformance.example"
    users = [
        {"user_id": uid(1), "email": "admin@conformance.example", "name": "Ann", "token": TOKEN},
        {"user_id": uid(2), "email": "admin2@conformance.example", "name": "Abe"},
        {"user_id": STD, "email": std, "name": "Stan"},
        {"user_id": BOB, "email": bob, "name": "Bob"},
    ]
    users += [
        {"user_id": uid(n), "email": f"u{n}@conformance.example", "name": f"User {n}"}
        for n in range(5, 5 + EXTRA)
    ]
    members = [{"email": u["email"], "role": "STANDARD"} for u in users]
    members[0] = {"email": users[0]["email"], "role": "ADMIN", "finance_role": "MANAGER"}
    members[1] = {"email": users[1]["email"], "role": "ADMIN"}
    members.append(
        {"email": "pending@conformance.example", "role": "STANDARD", "status": "PENDING"}
    )
    return {
        "version": 1,
        "users": users,
        "business_centers": [
            {
                "bc_id": BC,
                "name": "Conformance Co",
                "members": members,
                "assets": {
                    "ADVERTISER": [
                        {"id": AD1, "name": "Ad One"},
                        {"id": AD2, "name": "Ad Two"},
                        {"id": AD3, "name": "Ad Pending", "relation_status": "PENDING"},
                    ],
                    "CATALOG": [{"id": CATALOG, "name": "Catalog"}],
                    "TT_ACCOUNT": [{"id": TT, "name": "@brand"}],
                    "TIKTOK_SHOP": [{"id": SHOP, "name": "Shop"}],
                    "STOREFRONT": [{"id": STORE, "name": "Storefront"}],
                    "LEAD": [{"id": LEAD, "name": "Leads"}],
                    "PIXEL": [{"id": PIXEL, "name": "Pixel"}],
                },
                "grants": [
                    grant(bob, "ADVERTISER", AD1, "OPERATOR"),
                    grant(bob, "CATALOG", CATALOG, "AD_PROMOTE"),
                    grant(bob, "TT_ACCOUNT", TT, ["POST"]),
                    grant(bob, "TIKTOK_SHOP", SHOP, "AD_PROMOTION"),
                    grant(bob, "STOREFRONT", STORE, "MANAGER"),
                    grant(bob, "LEAD", LEAD, "ADMIN"),
                    grant(bob, "PIXEL", PIXEL),
                    grant(std, "ADVERTISER", AD2, "ANALYST"),
                ],
                "partners": [
                    {
                        "bc_id": PARTNER,
                        "shares": [
                            {"asset_type": "ADVERTISER", "asset_id": AD1, "role": "ANALYST"}
                        ],
                    }
                ],
                "asset_groups": [
                    {
                        "asset_group_id": GROUP,
                        "name": "Buyers",
                        "assets": [AD1, AD2],
                        "members": [
                            {"email": bob, "role": "ADVERTISER_ROLE_OPERATOR"},
                            {"email": std, "role": "ADVERTISER_ROLE_ANALYST"},
                        ],
                    }
                ],
            }
        ],
        "external_business_centers": [{"bc_id": PARTNER, "name": "Agency"}],
    }
