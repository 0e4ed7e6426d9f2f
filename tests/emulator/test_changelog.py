"""The activity log (/changelog/get/): an entry for every write, naming who did what to whom."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from bcsync.emulator import create_app

from .world import (
    AD1,
    AD2,
    ADMIN1,
    BC,
    BOB,
    CATALOG,
    OTHER_BC,
    PARTNER,
    PARTNER2,
    TT,
    changelog,
    client_for,
    fails,
    ok,
)

BOB_LABEL = f"bob@test.example ({BOB})"
WRITES = [
    (
        "bc/member/invite/",
        {"emails": ["new@test.example"], "asset_ids": [AD1], "advertiser_role": "OPERATOR",
         "ext_user_role": {"finance_role": "ANALYST"}},
        "USER",
        "admin1@test.example invited new@test.example as STANDARD with finance role ANALYST, "
        f"with OPERATOR access to ad account Ad One ({AD1})",
    ),
    (
        "bc/member/update/",
        {"user_id": BOB, "user_role": "ADMIN", "ext_user_role": {"finance_role": "MANAGER"}},
        "USER",
        f"admin1@test.example updated {BOB_LABEL}: role STANDARD -> ADMIN, "
        "finance role none -> MANAGER",
    ),
    (
        "bc/member/delete/",
        {"user_id": BOB},
        "USER",
        f"admin1@test.example removed {BOB_LABEL} and 2 asset assignment(s)",
    ),
    (
        "bc/member/delete/",
        {"user_email": "pending@test.example"},
        "USER",
        "admin1@test.example revoked the invitation of pending@test.example",
    ),
    (
        "bc/asset/assign/",
        {"user_id": BOB, "asset_type": "ADVERTISER", "asset_id": AD2, "advertiser_role": "ADMIN"},
        "ACCOUNT",
        f"admin1@test.example assigned ad account Ad Two ({AD2}) to {BOB_LABEL} as ADMIN",
    ),
    (
        "bc/asset/assign/",
        {"user_id": BOB, "asset_type": "TT_ACCOUNT", "asset_id": TT,
         "tt_account_roles": ["LIVE", "POST"]},
        "ASSET",
        f"admin1@test.example changed {BOB_LABEL}'s role on TikTok account @test ({TT}) "
        "from POST to LIVE+POST",
    ),
    (
        "bc/asset/unassign/",
        {"user_id": BOB, "asset_type": "ADVERTISER", "asset_id": AD1},
        "ACCOUNT",
        f"admin1@test.example unassigned ad account Ad One ({AD1}) from {BOB_LABEL}",
    ),
    (
        "bc/partner/add/",
        {"partner_id": PARTNER, "asset_type": "ADVERTISER", "asset_ids": [AD1],
         "advertiser_role": "OPERATOR"},
        "ACCOUNT",
        f"admin1@test.example changed partner Partner One ({PARTNER})'s role on ad account "
        f"Ad One ({AD1}) from ANALYST to OPERATOR",
    ),
    (
        "bc/partner/add/",
        {"partner_id": PARTNER2, "asset_type": "ADVERTISER", "asset_ids": [AD2]},
        "ACCOUNT",
        f"admin1@test.example shared ad account Ad Two ({AD2}) with partner Partner Two "
        f"({PARTNER2}) as ANALYST",
    ),
    (
        "bc/partner/asset/delete/",
        {"partner_id": PARTNER, "asset_type": "ADVERTISER", "asset_ids": [AD1]},
        "ACCOUNT",
        f"admin1@test.example stopped sharing ad account Ad One ({AD1}) with partner "
        f"Partner One ({PARTNER})",
    ),
    (
        "bc/partner/delete/",
        {"partner_id": PARTNER},
        "BUSINESS",
        f"admin1@test.example removed partner Partner One ({PARTNER}) and 1 shared asset(s)",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("path", "params", "activity_type", "log"), WRITES)
async def test_every_write_appends_a_readable_entry(
    client: httpx.AsyncClient, path: str, params: dict[str, Any], activity_type: str, log: str
) -> None:
    before = await changelog(client)
    await ok(client, "POST", path, bc_id=BC, **params)
    after = await changelog(client)
    assert len(after) > len(before)
    assert after[len(after) - len(before) :] == before  # newest first, older ones untouched
    entry = after[0]
    assert set(entry) == {"time", "activity_type", "operator_id", "activity_log"}
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", entry["time"])
    assert abs(datetime.strptime(entry["time"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
               - datetime.now(UTC)).total_seconds() < 60  # fmt: skip
    assert (entry["activity_type"], entry["operator_id"], entry["activity_log"]) == (
        activity_type,
        ADMIN1,
        log,
    )


async def test_adding_a_new_partner_logs_the_partnership_and_each_share(
    client: httpx.AsyncClient,
) -> None:
    await ok(
        client, "POST", "bc/partner/add/", bc_id=BC, partner_id=PARTNER2,
        asset_type="ADVERTISER", asset_ids=[AD1, AD2],
    )  # fmt: skip
    entries = await changelog(client)
    assert [e["activity_type"] for e in entries[:3]] == ["ACCOUNT", "ACCOUNT", "BUSINESS"]
    assert entries[2]["activity_log"].endswith(f"added partner Partner Two ({PARTNER2})")


async def test_failed_and_idle_writes_log_nothing(client: httpx.AsyncClient) -> None:
    before = await changelog(client)
    await fails(client, "POST", "bc/member/invite/", 40002, asset_ids=[], bc_id=BC, emails=[])
    await fails(client, "POST", "bc/asset/unassign/", 40007, bc_id=BC, user_id=BOB,
                asset_type="CATALOG", asset_id=CATALOG)  # fmt: skip
    # nothing changes: an already-invited email, a grant at the role it has
    await ok(
        client, "POST", "bc/member/invite/", asset_ids=[], bc_id=BC, emails=["pending@test.example"]
    )
    await ok(client, "POST", "bc/asset/assign/", bc_id=BC, user_id=BOB, asset_type="ADVERTISER",
             asset_id=AD1, advertiser_role="OPERATOR")  # fmt: skip
    assert await changelog(client) == before


async def test_each_bc_has_its_own_log(client: httpx.AsyncClient) -> None:
    await ok(client, "POST", "bc/member/invite/", asset_ids=[], bc_id=BC, emails=["n@test.example"])
    other = await ok(client, "GET", "changelog/get/", token="boss", bc_id=OTHER_BC)
    assert other["changelog_list"] == []


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


async def test_filters_sorting_and_the_seven_day_default(
    tmp_path: Path, seed: dict[str, Any]
) -> None:
    day = 86400.0
    clock = Clock(datetime(2026, 3, 1, 12, tzinfo=UTC).timestamp())
    app = create_app(tmp_path / "log.db", seed, clock=clock)
    try:
        async with client_for(app) as client:
            for email in ("a@x.example", "b@x.example"):  # 2026-03-01, 2026-03-02
                await ok(
                    client, "POST", "bc/member/invite/", asset_ids=[], bc_id=BC, emails=[email]
                )
                clock.now += day
            await ok(client, "POST", "bc/asset/unassign/", bc_id=BC, user_id=BOB,
                     asset_type="ADVERTISER", asset_id=AD1)  # fmt: skip  # 2026-03-03
            clock.now += 7 * day  # 2026-03-10 12:00: only the unassign is within 7 days

            async def logs(**params: Any) -> list[str]:
                data = await ok(client, "GET", "changelog/get/", bc_id=BC, **params)
                return [f"{e['time'][:10]} {e['activity_type']}" for e in data["changelog_list"]]

            assert await logs() == ["2026-03-03 ACCOUNT"]
            window = {"start_date": "2026-03-01", "end_date": "2026-03-02"}
            assert await logs(filtering=window) == ["2026-03-02 USER", "2026-03-01 USER"]
            assert await logs(filtering=window, sort_type="ASC") == [
                "2026-03-01 USER",
                "2026-03-02 USER",
            ]
            everything = {"start_date": "2026-01-01", "end_date": "2026-03-31"}
            assert await logs(filtering={**everything, "activity_type": "ACCOUNT"}) == [
                "2026-03-03 ACCOUNT"
            ]
            paged = await ok(client, "GET", "changelog/get/", bc_id=BC, filtering=everything,
                             page=2, page_size=2)  # fmt: skip
            assert len(paged["changelog_list"]) == 1
            assert paged["page_info"] == {
                "page": 2, "page_size": 2, "total_number": 3, "total_page": 2,
            }  # fmt: skip
    finally:
        app.state.emulator.close()


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"filtering": {"start_date": "2026-01-01"}}, "filtering.end_date"),
        ({"filtering": {"end_date": "2026-01-01"}}, "filtering.start_date"),
        ({"filtering": {"start_date": "2026-02-30", "end_date": "2026-03-01"}}, "start_date"),
        ({"filtering": {"start_date": "01/02/2026", "end_date": "2026-03-01"}}, "start_date"),
        ({"filtering": {"start_date": "2026-03-02", "end_date": "2026-03-01"}}, "end_date"),
        ({"filtering": {"activity_type": "MONEY"}}, "filtering.activity_type"),
        ({"sort_type": "UP"}, "sort_type"),
        ({"sort_field": "name"}, "sort_field"),
    ],
)
async def test_changelog_parameter_errors(
    client: httpx.AsyncClient, params: dict[str, Any], fragment: str
) -> None:
    message = await fails(client, "GET", "changelog/get/", 40002, bc_id=BC, **params)
    assert fragment in message
