"""Read lag (`serve --read-lag`): reads see the state of SECONDS ago, writes act at once; and other
admins' changes between two pages of a read (the after-page hook)."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bcsync.emulator import EmulatorError, create_app

from .world import BC, BOB, CONTROL_HEADERS, CONTROL_TOKEN, SEED, client_for, fails, members, ok

PENDING, LATE = "pending@test.example", "late@test.example"
NO_ASSETS: dict[str, list[str]] = {"asset_ids": []}


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def lagging(tmp_path: Path, clock: Clock) -> AsyncIterator[tuple[Any, httpx.AsyncClient]]:
    app = create_app(
        tmp_path / "e.db",
        copy.deepcopy(SEED),
        control=True,
        control_token=CONTROL_TOKEN,
        clock=clock,
        read_lag=10,
    )
    async with client_for(app) as client:
        yield app.state.emulator, client
    app.state.emulator.close()


async def test_a_write_is_visible_to_reads_only_after_the_lag(
    lagging: tuple[Any, httpx.AsyncClient], clock: Clock
) -> None:
    emulator, client = lagging
    await ok(client, "POST", "bc/member/delete/", bc_id=BC, user_id=BOB)
    assert "bob@test.example" in await members(client)  # the read still sees the old state
    assert emulator.stats()["writes_not_yet_visible"] == 1
    clock.now += 9.9
    assert "bob@test.example" in await members(client)
    clock.now += 0.1
    assert "bob@test.example" not in await members(client)
    assert emulator.stats()["writes_not_yet_visible"] == 0


async def test_writes_are_checked_against_the_true_state(
    lagging: tuple[Any, httpx.AsyncClient],
) -> None:
    """The replica lags; the backend that writes does not: a second removal is 40007 at once."""
    _, client = lagging
    await ok(client, "POST", "bc/member/delete/", bc_id=BC, user_id=BOB)
    await fails(client, "POST", "bc/member/delete/", 40007, bc_id=BC, user_id=BOB)


async def test_invitations_and_acceptances_lag_in_order(
    lagging: tuple[Any, httpx.AsyncClient], clock: Clock
) -> None:
    emulator, client = lagging
    await ok(client, "POST", "bc/member/invite/", asset_ids=[], bc_id=BC, emails=["n@test.example"])
    clock.now += 5
    emulator.accept_invitation(BC, "n@test.example")
    assert "n@test.example" not in await members(client)
    clock.now += 5
    assert (await members(client))["n@test.example"]["relation_status"] == "PENDING"
    clock.now += 5
    assert (await members(client))["n@test.example"]["relation_status"] == "BOUND"
    assert emulator.snapshot() == _replica_snapshot(emulator)  # the replica caught up exactly


def _replica_snapshot(emulator: Any) -> Any:
    from bcsync.emulator.store import snapshot

    with emulator.replica.store.transaction() as tx:
        return snapshot(tx)


async def test_read_lag_is_set_and_cleared_at_runtime(tmp_path: Path, clock: Clock) -> None:
    app = create_app(
        tmp_path / "e.db",
        copy.deepcopy(SEED),
        control=True,
        control_token=CONTROL_TOKEN,
        clock=clock,
    )
    async with client_for(app) as client:
        answer = await client.post(
            "/_emulator/read-lag", headers=CONTROL_HEADERS, json={"seconds": 30}
        )
        assert answer.json() == {"read_lag": 30.0}
        await ok(client, "POST", "bc/member/delete/", bc_id=BC, user_id=BOB)
        assert "bob@test.example" in await members(client)
        for bad in (-1, "10", float("nan"), 1e9, True, None):
            refused = await client.post(
                "/_emulator/read-lag", headers=CONTROL_HEADERS, content=_json(bad)
            )
            assert refused.status_code == 400, bad
        assert (
            await client.post("/_emulator/read-lag", headers=CONTROL_HEADERS, json={"seconds": 0})
        ).status_code == 200
        assert "bob@test.example" not in await members(client)  # no lag: the primary
    app.state.emulator.close()


def _json(value: object) -> bytes:
    import json

    return json.dumps({"seconds": value}).encode()


async def test_another_admin_changes_members_between_two_pages(tmp_path: Path) -> None:
    seed = copy.deepcopy(SEED)
    extra = [f"m{i:02d}@test.example" for i in range(30)]
    seed["users"] += [
        {"user_id": f"68{i:017d}", "email": e, "name": e} for i, e in enumerate(extra)
    ]
    seed["business_centers"][0]["members"] += [{"email": e, "role": "STANDARD"} for e in extra]
    app = create_app(tmp_path / "e.db", seed, control=True, control_token=CONTROL_TOKEN)
    async with client_for(app) as client:
        hook = {
            "path": "bc/member/get/",
            "page": 1,
            "as": "admin2@test.example",
            "calls": [
                {"path": "bc/member/delete/", "body": {"bc_id": BC, "user_email": PENDING}},
                {
                    "path": "bc/member/invite/",
                    "body": {"bc_id": BC, "emails": [LATE], "asset_ids": []},
                },
            ],
        }
        assert (
            await client.post("/_emulator/after-page", headers=CONTROL_HEADERS, json=hook)
        ).status_code == 200
        page1 = await ok(client, "GET", "bc/member/get/", bc_id=BC, page=1, page_size=20)
        page2 = await ok(client, "GET", "bc/member/get/", bc_id=BC, page=2, page_size=20)
        assert page1["page_info"]["total_number"] == page2["page_info"]["total_number"]
        seen = [m["user_email"] for m in page1["list"] + page2["list"]]
        everyone = await members(client)
        # Offsets shifted: one member who was there throughout is on neither page.
        assert len(set(everyone) - set(seen) - {"late@test.example"}) == 1
        # The hook fired once.
        again = await ok(client, "GET", "bc/member/get/", bc_id=BC, page=1, page_size=20)
        assert (
            again["list"]
            == (await ok(client, "GET", "bc/member/get/", bc_id=BC, page=1, page_size=20))["list"]
        )
    app.state.emulator.close()


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"path": "bc/member/get/", "page": 0, "as": "a@b.example", "calls": []},
        {"path": "bc/member/get/", "page": 1, "as": "a@b.example", "calls": "x"},
        {"path": "bc/member/get/", "page": True, "as": "a@b.example", "calls": []},
    ],
)
async def test_a_malformed_hook_is_a_clear_400(tmp_path: Path, body: dict[str, Any]) -> None:
    app = create_app(
        tmp_path / "e.db", copy.deepcopy(SEED), control=True, control_token=CONTROL_TOKEN
    )
    async with client_for(app) as client:
        answer = await client.post("/_emulator/after-page", headers=CONTROL_HEADERS, json=body)
        assert answer.status_code == 400 and "expected" in answer.json()["error"]
    app.state.emulator.close()


def test_a_lag_out_of_range_is_refused(tmp_path: Path) -> None:
    with pytest.raises(EmulatorError, match="read lag"):
        create_app(tmp_path / "e.db", copy.deepcopy(SEED), read_lag=-1)
