"""Hostile requests: every bad request is a TikTok error envelope, never HTTP 500."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from bcsync.emulator import EmulatorError, create_app

from .world import AD1, API, BASE_URL, BC, BOB, CONTROL_HEADERS, CONTROL_TOKEN, TOKENS

HEADERS = {"Access-Token": TOKENS["admin1"]}
DEEP = "[" * 100_000 + "]" * 100_000
HUGE = "9" * 5000


def short(value: object) -> str:
    """A test id that stays readable for 100,000-character values."""
    return repr(value)[:40]


@pytest.fixture
async def raw(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    """A client that sees what a socket would: an app exception becomes HTTP 500, not a raise."""
    transport = httpx.ASGITransport(app, raise_app_exceptions=False)
    async with httpx.AsyncClient(
        transport=transport, base_url=BASE_URL, headers=CONTROL_HEADERS
    ) as c:
        yield c


def envelope(response: httpx.Response, code: int) -> str:
    """Assert an HTTP 200 TikTok error envelope with `code`; its message."""
    assert response.status_code == 200, response.text[:300]
    body = response.json()
    assert set(body) == {"code", "message", "request_id", "data"}
    assert (body["code"], body["data"]) == (code, {}), body
    assert len(body["message"]) < 400  # a hostile value is never echoed whole
    return str(body["message"])


async def post(client: httpx.AsyncClient, path: str, content: bytes | str) -> httpx.Response:
    data = content.encode("utf-8", "surrogatepass") if isinstance(content, str) else content
    return await client.post(API + path, content=data, headers=HEADERS)


async def get(client: httpx.AsyncClient, path: str, **params: str) -> httpx.Response:
    return await client.get(API + path, params={"bc_id": BC, **params}, headers=HEADERS)


@pytest.mark.parametrize(
    "email",
    [
        "\\ud800@test.example",  # a lone surrogate, as a JSON escape
        "bob\\u0000@test.example",
        "bob@test.example\\n",  # `$` would match before this final newline
        "bob\\u0007@test.example",
        "bob@test.\\u007fexample",
        "bob\\u200b@test.example",  # zero-width space: not an address character either
    ],
)
async def test_hostile_emails_are_40002(raw: httpx.AsyncClient, email: str) -> None:
    body = f'{{"bc_id": "{BC}", "emails": ["{email}"], "asset_ids": ["{AD1}"]}}'
    message = envelope(await post(raw, "bc/member/invite/", body), 40002)
    assert "emails[0]" in message


async def test_a_lone_surrogate_anywhere_is_40002(raw: httpx.AsyncClient) -> None:
    body = f'{{"bc_id": "{BC}", "user_id": "{BOB}", "user_name": "x\\udc00y"}}'
    assert "user_name" in envelope(await post(raw, "bc/member/update/", body), 40002)
    body = f'{{"bc_id": "{BC}", "user_email": "\\udfff@test.example"}}'
    envelope(await post(raw, "bc/member/delete/", body), 40002)
    filtering = '{"keyword": "\\ud800"}'
    envelope(await get(raw, "bc/member/get/", filtering=filtering), 40002)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"page": HUGE}, "page"),
        ({"page_size": HUGE}, "page_size"),
        ({"page": "-" + HUGE}, "page"),
        ({"page": "99999999999999999999"}, "page"),
        ({"page": "1e3"}, "page"),
        ({"page": "１"}, "page"),  # a full-width digit: str.isdigit() says yes, int() agrees
        ({"bc_id": HUGE}, "bc_id"),
        ({"bc_id": "7000000000000000001\n"}, "bc_id"),
        ({"filtering": "{"}, "filtering"),
        ({"filtering": "[1]"}, "filtering"),
        ({"filtering": "[" * 5000 + "]" * 5000}, "filtering"),  # deeper than json's C scanner
        ({"filtering": '{"a": ' * 40 + "1" + "}" * 40}, "filtering.a.a"),  # past the depth cap
        ({"filtering": json.dumps({"user_role": ["ADMIN"]})}, "filtering.user_role"),
        ({"filtering": '{"keyword": ' + HUGE + "}"}, "filtering"),
        ({"filtering": '{"keyword": NaN}'}, "filtering"),
    ],
    ids=short,
)
async def test_hostile_query_parameters_are_40002(
    raw: httpx.AsyncClient, params: dict[str, str], field: str
) -> None:
    assert field in envelope(await get(raw, "bc/member/get/", **params), 40002)


async def test_a_page_past_the_end_is_empty_not_an_error(raw: httpx.AsyncClient) -> None:
    response = await get(raw, "bc/member/get/", page="1000000000", page_size="50")
    body = response.json()
    assert (response.status_code, body["code"], body["data"]["list"]) == (200, 0, [])
    assert body["data"]["page_info"]["total_number"] == 6


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"not json", "request body"),
        (b"\xff\xfe\x00garbage", "request body"),
        (DEEP.encode(), "request body"),
        (b'{"a": ' + b"[" * 5000 + b"]" * 5000 + b"}", "request body"),
        (b'{"bc_id": ' + HUGE.encode() + b"}", "request body"),
        (b'{"bc_id": Infinity}', "request body"),
        (b'{"bc_id": 7000000000000000001, "emails": "bob@x.example"}', "emails"),
        (b'{"bc_id": ["7000000000000000001"]}', "bc_id"),
        (b'{"bc_id": true}', "bc_id"),
        (b'{"bc_id": -7}', "bc_id"),
        (b'{"bc_id": 1e30}', "bc_id"),
        (b'{"bc_id": "7000000000000000001", "emails": [{"x": 1}]}', "emails[0]"),
        (b'{"bc_id": "7000000000000000001", "emails": ["a@b.example"], '
         b'"asset_ids": [[1]]}', "asset_ids[0]"),
    ],
    ids=short,
)  # fmt: skip
async def test_hostile_bodies_are_40002(
    raw: httpx.AsyncClient, content: bytes, fragment: str
) -> None:
    assert fragment in envelope(await post(raw, "bc/member/invite/", content), 40002)


async def test_hostile_values_in_every_writer(raw: httpx.AsyncClient) -> None:
    for path in (
        "bc/member/update/",
        "bc/member/delete/",
        "bc/asset/assign/",
        "bc/asset/unassign/",
        "bc/partner/add/",
        "bc/partner/delete/",
        "bc/partner/asset/delete/",
    ):
        for value in ('"\\ud800"', HUGE, "[[[[[]]]]]", "{}", "null", "-1", "1.5", '""'):
            fields = ("user_id", "asset_id", "asset_ids", "partner_id", "user_role", "asset_type")
            body = "{" + f'"bc_id": "{BC}", ' + ", ".join(f'"{k}": {value}' for k in fields) + "}"
            response = await post(raw, path, body)
            assert response.status_code == 200, (path, value, response.text[:200])
            assert response.json()["code"] in (40002, 40007), (path, value, response.json())


async def test_an_unexpected_error_is_a_50000_envelope_and_logged(
    raw: httpx.AsyncClient, app: Starlette, caplog: pytest.LogCaptureFixture
) -> None:
    emulator = app.state.emulator

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise ZeroDivisionError("the emulator has a bug")

    emulator._run = broken
    with caplog.at_level(logging.ERROR, logger="bcsync.emulator"):
        response = await get(raw, "bc/member/get/")
    message = envelope(response, 50000)
    assert "internal" in message.lower() and "the emulator has a bug" not in message
    assert any("ZeroDivisionError" in r.getMessage() or r.exc_info for r in caplog.records)


@pytest.mark.parametrize(
    "body",
    [
        b'{"latency_ms": Infinity}',
        b'{"latency_ms": NaN}',
        b'{"latency_ms": 1e308}',
        b'{"latency_ms": -1}',
        b'{"jitter_ms": 1e9}',
        b'{"hang_seconds": Infinity}',
        b'{"hang_seconds": 1e6}',
        b'{"throttle_rate": NaN}',
        b'{"throttle_rate": 1.01}',
        b'{"error_5xx_rate": -0.5}',
        b'{"qps_limit": 1e3}',
        b'{"qps_limit": ' + HUGE.encode() + b"}",
        b'{"seed": ' + HUGE.encode() + b"}",
        b"[" * 100_000,
        b"\xff",
    ],
    ids=short,
)
async def test_control_rejects_absurd_faults(raw: httpx.AsyncClient, body: bytes) -> None:
    before = (await raw.get("/_emulator/faults")).json()
    response = await raw.post("/_emulator/faults", content=body)
    assert response.status_code == 400, response.text[:200]
    assert len(response.json()["error"]) < 300
    assert (await raw.get("/_emulator/faults")).json() == before  # nothing was applied


async def test_control_accept_with_hostile_values(raw: httpx.AsyncClient) -> None:
    for body in (
        b'{"bc_id": "\\ud800", "email": "x@y.example"}',
        b'{"bc_id": "' + BC.encode() + b'", "email": "\\ud800@y.example"}',
        b'{"bc_id": ' + HUGE.encode() + b', "email": "x@y.example"}',
    ):
        response = await raw.post("/_emulator/invitations/accept", content=body)
        assert response.status_code == 400, response.text[:200]


async def test_a_sane_fault_change_still_works(raw: httpx.AsyncClient) -> None:
    response = await raw.post("/_emulator/faults", json={"latency_ms": 5, "throttle_rate": 0.5})
    assert response.status_code == 200
    assert response.json()["latency_ms"] == 5


async def test_an_answer_that_cannot_be_rendered_is_a_50000_envelope(
    raw: httpx.AsyncClient, app: Starlette
) -> None:
    emulator = app.state.emulator
    emulator._run = lambda *args: {"list": ["\ud800"]}  # text that UTF-8 cannot encode
    envelope(await get(raw, "bc/member/get/"), 50000)


# --- the control endpoints: this machine only, with their own token ---------------------------

REBOUND_HOSTS = [
    "evil.example",  # DNS rebinding: the page's own name, resolving to 127.0.0.1
    "evil.example:8787",
    "127.0.0.1.nip.io",
    "localhost.evil.example",
    "localhost:8787.evil.example",
    "[::1].evil.example",
    "10.0.0.1",
    "0.0.0.0",
    "127.0.0.1:99999999",
    "[::ffff:127.0.0.1]",  # an IPv4-mapped address: not the loopback names the emulator serves
    "",
]


@pytest.mark.parametrize("host", REBOUND_HOSTS)
async def test_control_refuses_a_host_that_is_not_this_machine(
    raw: httpx.AsyncClient, host: str
) -> None:
    """Even with the right token: a browser that was rebound sends the attacker's name as Host."""
    before = (await raw.get("/_emulator/state")).json()
    response = await raw.post("/_emulator/reset", headers={"Host": host})
    assert response.status_code == 403, response.text
    assert "localhost" in response.json()["error"]
    faults = await raw.post("/_emulator/faults", json={"timeout_rate": 1.0}, headers={"Host": host})
    assert faults.status_code == 403
    assert (await raw.get("/_emulator/state")).json() == before
    assert (await raw.get("/_emulator/faults")).json()["timeout_rate"] == 0


@pytest.mark.parametrize(
    "host", ["localhost", "LOCALHOST:8787", "127.0.0.1", "127.8.9.10:1", "[::1]:8787"]
)
async def test_control_answers_loopback_names(raw: httpx.AsyncClient, host: str) -> None:
    assert (await raw.get("/_emulator/stats", headers={"Host": host})).status_code == 200


@pytest.mark.parametrize(
    "token",
    [
        None,
        "",
        "wrong-token-of-enough-length",
        CONTROL_TOKEN + "x",
        CONTROL_TOKEN[:-1],
        TOKENS["admin1"],  # a TikTok user's token is not the control token
    ],
    ids=["none", "empty", "wrong", "longer", "shorter", "a TikTok token"],
)
async def test_control_needs_its_own_token(app: Starlette, token: str | None) -> None:
    transport = httpx.ASGITransport(app)
    headers = {} if token is None else {"Emulator-Control-Token": token}
    headers |= {"Access-Token": TOKENS["admin1"]}  # a TikTok token beside it changes nothing
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL, headers=headers) as c:
        for method, path in (("GET", "state"), ("POST", "reset"), ("POST", "faults")):
            response = await c.request(method, f"/_emulator/{path}", json={})
            assert response.status_code == 401, response.text
            assert "Emulator-Control-Token" in response.json()["error"]


def test_a_chosen_control_token_must_be_long_and_visible(db: Path, seed: dict[str, Any]) -> None:
    for bad in ("short", "sixteen chars ok", "x" * 15, "\x1b" * 20):
        with pytest.raises(EmulatorError, match="control token"):
            create_app(db, seed, control=True, control_token=bad)


def test_without_a_chosen_token_each_app_makes_a_random_one(db: Path, seed: dict[str, Any]) -> None:
    first = create_app(db, seed, control=True).state.emulator
    second = create_app(db, seed, control=True).state.emulator
    try:
        assert first.control_token and second.control_token
        assert first.control_token != second.control_token and len(first.control_token) >= 32
    finally:
        first.close()
        second.close()
