"""`bcsync doctor`: shapes and verdicts per read endpoint, against the emulator and variants."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.responses import PlainTextResponse
from variant import each_item, on, reshaped

from bcsync.emulator import create_app
from bcsync.providers.tiktok.client import TikTokClient
from bcsync.providers.tiktok.doctor import Diagnosis, Verdict, diagnose
from bcsync.providers.tiktok.doctor_report import to_json, to_text
from bcsync.providers.tiktok.limiter import RateLimiter

from .conftest import LOCAL
from .fakes import FAST, TOKEN, UNLIMITED
from .test_shapes import with_group
from .world import BC

Rewrite = Callable[[str, dict[str, Any]], None]
UNCHANGED: Rewrite = lambda path, data: None  # noqa: E731


@pytest.fixture
async def doctor(tmp_path: Path) -> AsyncIterator[Callable[..., Any]]:
    """diagnose() over the emulator whose answers pass through `rewrite` (and `wrap`)."""
    async with AsyncExitStack() as stack:

        async def run(rewrite: Rewrite = UNCHANGED, wrap: Any = None) -> Diagnosis:
            app = create_app(tmp_path / f"d{id(rewrite)}.db", seed=with_group())
            stack.callback(app.state.emulator.close)
            served = reshaped(app, rewrite)
            transport = httpx.ASGITransport(app=wrap(served) if wrap else served)
            http = await stack.enter_async_context(httpx.AsyncClient(transport=transport))
            client = TikTokClient(
                http,
                token=TOKEN,
                limiter=RateLimiter(UNLIMITED),
                base_url=LOCAL,
                retry=FAST,
                in_process=True,
            )
            return await diagnose(client, BC)

        yield run


def verdicts(found: Diagnosis) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for probe in found.probes:
        out.setdefault(probe.endpoint, set()).add(probe.verdict.value)
    return out


async def test_the_emulator_confirms_every_endpoint_bcsync_reads(doctor: Any) -> None:
    found = await doctor()
    assert found.ok
    seen = verdicts(found)
    confirmed = {
        "GET /bc/get/",
        "GET /bc/member/get/",
        "GET /bc/asset/admin/get/",
        "GET /bc/asset/get/",
        "GET /bc/asset/member/get/",
        "GET /bc/partner/get/",
        "GET /bc/partner/asset/get/",
        "GET /bc/asset_group/list/",
        "GET /bc/asset_group/get/",
    }
    assert all("confirmed" in seen[e] for e in confirmed), seen
    assert "GET /changelog/get/" in seen
    assert not any(p.verdict in (Verdict.DIFFERS, Verdict.FAILED) for p in found.probes)
    members = next(p for p in found.probes if p.endpoint == "GET /bc/member/get/")
    assert members.page_size == {"asked": 20, "answered": 20, "honoured": True}
    roles = {k.path: k.values for k in members.shape}["data.list[].user_role"]
    assert set(roles) == {"ADMIN", "STANDARD"}


async def test_a_variant_that_differs_gets_differs_and_the_rest_is_still_checked(
    doctor: Any,
) -> None:
    rewrite = on("bc/member/get/", each_item("list", lambda m: m.pop("user_role")))
    found = await doctor(rewrite)
    assert not found.ok
    members = next(p for p in found.probes if p.endpoint == "GET /bc/member/get/")
    assert members.verdict is Verdict.DIFFERS
    assert members.mismatches[0].key == "data.list[0].user_role"
    assert members.mismatches[0].found == "missing"
    assert "data.list[].user_role" not in {k.path for k in members.shape}
    # Every other endpoint was still probed and confirmed.
    others = [p for p in found.probes if p.endpoint != "GET /bc/member/get/"]
    assert len(others) > 15 and all(p.verdict.ok for p in others)
    assert "differ" in to_text([found]) and "data.list[0].user_role: missing" in to_text([found])


async def test_an_unknown_enum_value_is_recorded_as_other_never_as_sent(doctor: Any) -> None:
    rewrite = on("bc/get/", each_item("list", lambda e: e.update(user_role="owner@acme.example")))
    found = await doctor(rewrite)
    bc_get = found.probes[0]
    assert bc_get.verdict is Verdict.DIFFERS
    values = {k.path: k.values for k in bc_get.shape}["data.list[].user_role"]
    assert values == ("(other)",)
    assert "owner@acme.example" not in json.dumps(to_json([found], "local", "t"))


async def test_an_absent_activity_log_is_absent_not_a_failure(doctor: Any) -> None:
    def no_changelog(app: Any) -> Any:
        async def wrapped(scope: Any, receive: Any, send: Any) -> None:
            if scope["type"] == "http" and scope["path"].endswith("/changelog/get/"):
                await PlainTextResponse("404 page not found", status_code=404)(scope, receive, send)
                return
            await app(scope, receive, send)

        return wrapped

    found = await doctor(wrap=no_changelog)
    log = found.probes[-1]
    assert (log.endpoint, log.verdict) == ("GET /changelog/get/", Verdict.ABSENT)
    assert found.ok


async def test_a_failed_call_is_failed(doctor: Any) -> None:
    def fail_partners(app: Any) -> Any:
        async def wrapped(scope: Any, receive: Any, send: Any) -> None:
            if scope["type"] == "http" and scope["path"].endswith("/bc/partner/get/"):
                body = {"code": 40001, "message": "no permission", "request_id": "r-9", "data": {}}
                response = PlainTextResponse(json.dumps(body), media_type="application/json")
                await response(scope, receive, send)
                return
            await app(scope, receive, send)

        return wrapped

    found = await doctor(wrap=fail_partners)
    partners = next(p for p in found.probes if p.endpoint == "GET /bc/partner/get/")
    assert partners.verdict is Verdict.FAILED and partners.request_id == "r-9"
    shares = next(p for p in found.probes if p.endpoint == "GET /bc/partner/asset/get/")
    assert shares.verdict is Verdict.NOT_PROBED
    assert not found.ok


def strings(value: Any) -> set[str]:
    """Every string (and integer, as text) anywhere in a seed."""
    if isinstance(value, dict):
        return {s for v in value.values() for s in strings(v)} | {str(k) for k in value}
    if isinstance(value, list):
        return {s for v in value for s in strings(v)}
    return {str(value)} if isinstance(value, str | int) and not isinstance(value, bool) else set()


async def test_the_json_report_holds_shapes_never_values(doctor: Any) -> None:
    found = await doctor()
    text = json.dumps(to_json([found], "local", "t"))
    # Ids, emails, names and tokens of the world: none is in the report.
    secret = {s for s in strings(with_group()) if len(s) > 3 and (s[0].isdigit() or "@" in s)}
    secret |= {"Acme", "Olivia", "Agency X", "Buyers", "Brand", "Signup", TOKEN}
    leaked = sorted(s for s in secret if s in text)
    assert not leaked, leaked
    assert BC not in text
