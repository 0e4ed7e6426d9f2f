"""Fault injection: latency, per-app QPS/QPM limits, throttle codes, 5xx, timeouts, lost writes."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from bcsync.emulator import EmulatorError, Faults, create_app

from .world import API, BC, TOKENS, client_for, members

HEADERS = {"Access-Token": TOKENS["admin1"]}
MEMBER_GET = API + "bc/member/get/"


def outcome(response: httpx.Response) -> tuple[int, int | None]:
    """(HTTP status, envelope code or None when the body is not JSON)."""
    try:
        return response.status_code, response.json()["code"]
    except ValueError:
        return response.status_code, None


async def run(tmp_path: Path, seed: dict[str, Any], faults: Faults, n: int) -> list[Any]:
    app = create_app(tmp_path / f"f{time.monotonic_ns()}.db", seed, faults=faults)
    try:
        async with client_for(app) as client:
            return [
                outcome(await client.get(MEMBER_GET, params={"bc_id": BC}, headers=HEADERS))
                for _ in range(n)
            ]
    finally:
        app.state.emulator.close()


NOISY = {"throttle_rate": 0.3, "error_5xx_rate": 0.2, "timeout_rate": 0.1, "hang_seconds": 0.0}


async def test_faults_repeat_under_a_seed(tmp_path: Path, seed: dict[str, Any]) -> None:
    first = await run(tmp_path, seed, Faults(seed=7, **NOISY), 40)
    again = await run(tmp_path, seed, Faults(seed=7, **NOISY), 40)
    other = await run(tmp_path, seed, Faults(seed=8, **NOISY), 40)
    assert first == again
    assert first != other
    kinds = set(first)
    assert (200, 0) in kinds and (200, 40100) in kinds and (200, 40016) in kinds
    assert kinds & {(502, None), (503, None)} and (504, None) in kinds


async def test_qps_limit_per_app(tmp_path: Path, seed: dict[str, Any]) -> None:
    app = create_app(tmp_path / "e.db", seed, faults=Faults(qps_limit=3))
    try:
        async with client_for(app) as client:
            answers = [
                (await client.get(MEMBER_GET, params={"bc_id": BC}, headers=HEADERS)).json()
                for _ in range(5)
            ]
            assert [a["code"] for a in answers] == [0, 0, 0, 40100, 40100]
            assert answers[-1]["message"] == "App reaches the QPS limit."
            assert answers[-1]["data"] == {}
            # another app's token has its own budget (std belongs to "other-app")
            other = await client.get(API + "bc/get/", headers={"Access-Token": TOKENS["std"]})
            assert other.json()["code"] == 0
            assert app.state.emulator.stats()["throttled"] == 2
    finally:
        app.state.emulator.close()


async def test_qps_window_recovers_next_second(tmp_path: Path, seed: dict[str, Any]) -> None:
    now = [100.0]
    app = create_app(tmp_path / "e.db", seed, faults=Faults(qps_limit=1))
    app.state.emulator.injector._clock = lambda: now[0]
    try:
        async with client_for(app) as client:
            codes = []
            for step in (0.0, 0.5, 0.6):  # t=100, 100.5 (same second), 101.1
                now[0] += step
                response = await client.get(MEMBER_GET, params={"bc_id": BC}, headers=HEADERS)
                codes.append(response.json()["code"])
            assert codes == [0, 40100, 0]
    finally:
        app.state.emulator.close()


async def test_qpm_limit(tmp_path: Path, seed: dict[str, Any]) -> None:
    app = create_app(tmp_path / "e.db", seed, faults=Faults(qpm_limit=2))
    try:
        async with client_for(app) as client:
            answers = [
                (await client.get(MEMBER_GET, params={"bc_id": BC}, headers=HEADERS)).json()
                for _ in range(3)
            ]
            assert [a["code"] for a in answers] == [0, 0, 40100]
            assert "temporarily restricted" in answers[2]["message"]
    finally:
        app.state.emulator.close()


async def test_gateway_errors_are_html(tmp_path: Path, seed: dict[str, Any]) -> None:
    app = create_app(tmp_path / "e.db", seed, faults=Faults(error_5xx_rate=1.0, seed=3))
    try:
        async with client_for(app) as client:
            statuses = set()
            for _ in range(12):
                response = await client.get(MEMBER_GET, params={"bc_id": BC}, headers=HEADERS)
                statuses.add(response.status_code)
                assert response.headers["content-type"].startswith("text/html")
                assert "<html>" in response.text
                with pytest.raises(ValueError):
                    json.loads(response.text)
            assert statuses == {502, 503, 504}
    finally:
        app.state.emulator.close()


async def test_timeouts_hang_then_answer_504(tmp_path: Path, seed: dict[str, Any]) -> None:
    faults = Faults(timeout_rate=1.0, hang_seconds=0.2)
    app = create_app(tmp_path / "e.db", seed, faults=faults)
    try:
        async with client_for(app) as client:
            start = time.monotonic()
            response = await client.get(MEMBER_GET, params={"bc_id": BC}, headers=HEADERS)
            assert time.monotonic() - start >= 0.2
            assert response.status_code == 504
            assert outcome(response) == (504, None)
    finally:
        app.state.emulator.close()


async def test_latency(tmp_path: Path, seed: dict[str, Any]) -> None:
    app = create_app(tmp_path / "e.db", seed, faults=Faults(latency_ms=60, jitter_ms=20))
    try:
        async with client_for(app) as client:
            start = time.monotonic()
            response = await client.get(MEMBER_GET, params={"bc_id": BC}, headers=HEADERS)
            assert 0.06 <= time.monotonic() - start < 2
            assert response.json()["code"] == 0
    finally:
        app.state.emulator.close()


async def test_lost_responses_commit_the_write(tmp_path: Path, seed: dict[str, Any]) -> None:
    app = create_app(tmp_path / "e.db", seed, faults=Faults(lost_response_rate=1.0))
    emulator = app.state.emulator
    try:
        async with client_for(app) as client:
            response = await client.post(
                API + "bc/member/invite/",
                json={"bc_id": BC, "asset_ids": [], "emails": ["lost@test.example"]},
                headers=HEADERS,
            )  # fmt: skip
            assert response.status_code in (502, 504)
            assert outcome(response)[1] is None
            # reads are not lost, and the write happened
            assert "lost@test.example" in await members(client)
            # a write that fails is answered normally: nothing was committed to lose
            bad = await client.post(
                API + "bc/member/invite/",
                json={"bc_id": BC, "asset_ids": [], "emails": []},
                headers=HEADERS,
            )
            assert outcome(bad) == (200, 40002)
            assert emulator.stats()["by_endpoint"][API + "bc/member/invite/"] == 2
    finally:
        emulator.close()


async def test_faults_through_the_control_endpoint(client: httpx.AsyncClient, app: Any) -> None:
    response = await client.post("/_emulator/faults", json={"throttle_rate": 1.0, "seed": 1})
    assert response.json()["throttle_rate"] == 1.0
    throttled = await client.get(MEMBER_GET, params={"bc_id": BC}, headers=HEADERS)
    assert throttled.json()["code"] in (40100, 40016)
    assert (await client.get("/_emulator/faults")).json() == Faults(
        throttle_rate=1.0, seed=1
    ).to_dict()
    for bad in ({"throttle_rate": 2}, {"nonsense": 1}, {"qps_limit": "ten"}):
        answer = await client.post("/_emulator/faults", json=bad)
        assert answer.status_code == 400 and answer.json()["error"].startswith("faults:")
    app.state.emulator.set_faults(Faults())
    calm = await client.get(MEMBER_GET, params={"bc_id": BC}, headers=HEADERS)
    assert calm.json()["code"] == 0


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"throttle_rate": 1.5}, "throttle_rate"),
        ({"error_5xx_rate": -0.1}, "error_5xx_rate"),
        ({"latency_ms": -1}, "latency_ms"),
        ({"qps_limit": 0}, "qps_limit"),
        ({"qpm_limit": 1.5}, "qpm_limit"),
        ({"seed": "x"}, "seed"),
    ],
)
def test_faults_are_validated(changes: dict[str, Any], fragment: str) -> None:
    with pytest.raises(EmulatorError, match=fragment):
        Faults(**changes)


def test_requests_count_when_they_arrive_in_whatever_order_they_are_admitted() -> None:
    from bcsync.emulator.faults import QPM_MESSAGE, FaultInjector

    injector = FaultInjector(Faults(qps_limit=2, qpm_limit=3))
    assert injector.admit("app", 10.0) is None
    assert injector.admit("app", 10.5) is None
    # Arrived before 10.5 but admitted after it (a POST reads its body first): still counted
    # against both, so the second is full.
    assert injector.admit("app", 10.2) is not None
    assert injector.admit("app", 11.0) is None  # (10.0, 11.0] holds 10.5 only
    assert injector.admit("app", 11.6) == QPM_MESSAGE  # the second has room, the minute not
    # Another app has its own budget.
    assert injector.admit("other", 10.2) is None
