"""State: persistence across restarts, reset, snapshot, stats, concurrency on one SQLite file."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path
from typing import Any

import httpx
import pytest

from bcsync.emulator import EmulatorError, create_app, load_seed

from .world import API, BC, OTHER_BC, TOKENS, client_for, members, ok


async def test_state_survives_a_restart_and_the_seed_is_then_ignored(
    db: Path, seed: dict[str, Any]
) -> None:
    first = create_app(db, seed)
    async with client_for(first) as client:
        await ok(
            client,
            "POST",
            "bc/member/invite/",
            asset_ids=[],
            bc_id=BC,
            emails=["kept@test.example"],
        )
    first.state.emulator.close()

    changed = {**seed, "business_centers": seed["business_centers"][1:]}  # Test Co gone
    for again in (create_app(db), create_app(db, changed)):
        assert again.state.emulator.created is False
        try:
            async with client_for(again) as client:
                assert "kept@test.example" in await members(client)
        finally:
            again.state.emulator.close()

    fresh = create_app(db, seed, reset=True)
    assert fresh.state.emulator.created is True
    try:
        async with client_for(fresh) as client:
            assert "kept@test.example" not in await members(client)
    finally:
        fresh.state.emulator.close()


def test_the_database_is_one_file_in_wal_mode(db: Path, seed: dict[str, Any]) -> None:
    app = create_app(db, seed)
    app.state.emulator.close()
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_no_database_and_no_seed(tmp_path: Path) -> None:
    with pytest.raises(EmulatorError, match="give a seed to create it"):
        create_app(tmp_path / "sub" / "none.db")


def test_a_database_of_another_version_is_refused(db: Path, seed: dict[str, Any]) -> None:
    create_app(db, seed).state.emulator.close()
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE meta SET value = '0' WHERE key = 'schema_version'")
    with pytest.raises(EmulatorError, match="emulator reset"):
        create_app(db)


def test_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    bad = tmp_path / "bad.db"
    bad.write_text("this is not sqlite, " * 100)
    with pytest.raises(EmulatorError, match=r"bad\.db"):
        create_app(bad, {"version": 1, "users": [], "business_centers": []})


def test_admin_token_is_the_first_joined_admin_with_a_token(app: Any) -> None:
    emulator = app.state.emulator
    assert emulator.admin_token(BC) == TOKENS["admin1"]
    assert emulator.admin_token(OTHER_BC) == TOKENS["boss"]
    assert emulator.admin_token("7999") is None
    assert emulator.business_centers() == [
        {"bc_id": BC, "name": "Test Co", "admin_email": "admin1@test.example"},
        {"bc_id": OTHER_BC, "name": "Other Co", "admin_email": "boss@other.example"},
    ]


async def test_control_state_is_a_seed_without_tokens(client: httpx.AsyncClient) -> None:
    await ok(
        client, "POST", "bc/member/invite/", asset_ids=[], bc_id=BC, emails=["snap@test.example"]
    )
    response = await client.get("/_emulator/state")
    state = response.json()
    assert "tok-" not in response.text
    assert load_seed(state) == state  # a valid seed, already normalised
    bc = state["business_centers"][0]
    assert {"email": "snap@test.example", "role": "STANDARD", "status": "PENDING"} in bc["members"]
    tt = [g for g in bc["grants"] if g["asset_type"] == "TT_ACCOUNT"]
    assert tt == [
        {"email": "bob@test.example", "asset_type": "TT_ACCOUNT",
         "asset_id": "7400000000000000001", "role": ["POST"]},
    ]  # fmt: skip


async def test_control_reset_and_stats(client: httpx.AsyncClient) -> None:
    await ok(
        client, "POST", "bc/member/invite/", asset_ids=[], bc_id=BC, emails=["gone@test.example"]
    )
    stats = (await client.get("/_emulator/stats")).json()
    assert stats == {
        "total": 1,
        "throttled": 0,
        "by_endpoint": {API + "bc/member/invite/": 1},
        "read_lag": 0.0,
        "writes_not_yet_visible": 0,
    }
    reset = await client.post("/_emulator/reset")
    assert reset.json()["reset"] is True
    assert "gone@test.example" not in await members(client)
    assert (await client.get("/_emulator/stats")).json()["by_endpoint"] == {
        API + "bc/member/get/": 1
    }
    unknown = await client.get("/_emulator/nothing")
    assert (unknown.status_code, unknown.text) == (404, "404 page not found")


async def test_concurrent_writes_through_two_apps_on_one_file(
    db: Path, seed: dict[str, Any]
) -> None:
    one, two = create_app(db, seed), create_app(db)
    try:
        async with client_for(one) as a, client_for(two) as b:
            calls = [
                ok(
                    c,
                    "POST",
                    "bc/member/invite/",
                    asset_ids=[],
                    bc_id=BC,
                    emails=[f"c{i}@conc.example"],
                )
                for i, c in enumerate([a, b] * 15)
            ]
            await asyncio.gather(*calls)
            seen_a, seen_b = await members(a), await members(b)
            assert seen_a == seen_b
            assert sum(e.endswith("@conc.example") for e in seen_a) == 30
    finally:
        one.state.emulator.close()
        two.state.emulator.close()


async def test_concurrent_requests_from_threads(db: Path, seed: dict[str, Any]) -> None:
    app = create_app(db, seed)
    try:

        def invite(i: int) -> int:
            async def go() -> int:
                async with client_for(app) as client:
                    response = await client.post(
                        API + "bc/member/invite/",
                        json={"bc_id": BC, "asset_ids": [], "emails": [f"t{i}@thread.example"]},
                        headers={"Access-Token": TOKENS["admin1"]},
                    )
                    return int(response.json()["code"])

            return asyncio.run(go())

        codes = await asyncio.gather(*(asyncio.to_thread(invite, i) for i in range(8)))
        assert codes == [0] * 8
        async with client_for(app) as client:
            found = await members(client)
        assert sum(e.endswith("@thread.example") for e in found) == 8
        log = json.dumps(app.state.emulator.snapshot())
        assert "t7@thread.example" in log
    finally:
        app.state.emulator.close()
