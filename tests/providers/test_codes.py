"""Return codes from the SDK's table, and a retry budget that ignores the rate limiter's queue."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from bcsync.core.model import AssetKey, AssetType, MemberRole
from bcsync.core.operations import Assign, Invite
from bcsync.errors import AmbiguousWriteError, ApiError, ThrottledError
from bcsync.providers.tiktok import write
from bcsync.providers.tiktok.client import RetryPolicy
from bcsync.providers.tiktok.limiter import RateLimit, RateLimiter

from .fakes import FAST, FakeApi, FakeClock, envelope, paged, params
from .fakes import body as write_body

BC = "7000000000000000001"
USER = "6900000000000000003"
PIXEL = AssetKey(AssetType.PIXEL, "7700000000000000001")


def member_list(*emails: str, status: str = "PENDING") -> list[dict[str, Any]]:
    return [
        {
            "user_id": "",
            "user_email": e,
            "user_role": "STANDARD",
            "relation_status": status,
            "ext_user_role": {},
        }
        for e in emails
    ]


# ---- the rate limiter's queue is not the retry budget ----------------------------------------


def queued_client(api: FakeApi, clock: FakeClock, *, total_seconds: float) -> Any:
    """One call a second, and a retry budget far shorter than the queue."""
    retry = RetryPolicy(
        attempts=4, total_seconds=total_seconds, base_delay=0.01, max_delay=0.02,
        throttle_delay=0.5, request_timeout=5.0, seed=3,
    )  # fmt: skip
    limiter = RateLimiter(
        RateLimit(qps=1, qpm=None, margin=0.0, smooth=False), clock=clock, sleep=clock.sleep
    )
    return api.client(retry=retry, clock=clock, sleep=clock.sleep, limiter=limiter)


async def test_calls_queued_longer_than_the_budget_are_still_retried() -> None:
    clock = FakeClock()
    sent: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(clock.now)
        # The last of ten queued calls is throttled once, after ~9 s in the queue.
        if len(sent) == 10:
            return envelope(40100, message="too frequent")
        info = {"page": 1, "page_size": 10, "total_number": 0, "total_page": 0}
        return envelope(data={"list": [], "page_info": info})

    api = FakeApi(handler)
    client = queued_client(api, clock, total_seconds=2.0)
    await asyncio.gather(*(client.get("bc/member/get/", {"bc_id": BC}) for _ in range(10)))
    assert len(sent) == 11 and sent[9] - sent[0] >= 9.0  # queued far past the 2 s budget
    assert client.stats.throttled == 1


async def test_time_on_the_wire_and_backing_off_still_ends_a_call() -> None:
    clock = FakeClock()

    async def slow_throttle(request: httpx.Request) -> httpx.Response:
        await clock.sleep(1.0)  # a second on the wire, then a throttle answer
        return envelope(40100, message="too frequent")

    client = queued_client(FakeApi(slow_throttle), clock, total_seconds=2.0)
    with pytest.raises(ThrottledError, match=r"gave up after 2 attempts \(2\.\d s on the wire"):
        await client.get("bc/member/get/", {"bc_id": BC})


# ---- 20001 partial success: verified by reading, never assumed --------------------------------


async def test_a_partial_invite_resends_only_what_a_read_shows_missing() -> None:
    invites: list[list[str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            emails = write_body(request)["emails"]
            invites.append(emails)
            return envelope(20001, message="partial", request_id=f"rq-{len(invites)}")
        return paged(member_list(*[e for batch in invites for e in batch[:1]]), request, 20)

    api = FakeApi(handler)
    result = await write.invite(
        api.client(), BC, Invite(["a@x.example", "b@x.example"], MemberRole.STANDARD, None)
    )
    # Round 1 invited a and b, a read showed only a; round 2 resent b alone and a read confirmed.
    assert invites == [["a@x.example", "b@x.example"], ["b@x.example"]]
    assert result.note == write.PARTIAL and result.request_ids == ("rq-1", "rq-2")


async def test_a_partial_success_is_not_taken_for_success_when_nothing_happened() -> None:
    posts = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal posts
        if request.method == "POST":
            posts += 1
            return envelope(20001, message="partial")
        return paged([], request, 50)  # the pixel never shows up

    api = FakeApi(handler)
    with pytest.raises(AmbiguousWriteError, match="still unconfirmed"):
        await write.assign(api.client(), BC, Assign(USER, "", PIXEL, "access"))
    assert posts == FAST.attempts


async def test_a_partial_read_is_retried() -> None:
    answers = iter([envelope(20001, message="partial"), envelope(data={"list": []})])
    api = FakeApi(lambda request: next(answers))
    assert await api.client().get("bc/get/", {}) == {"list": []}
    assert len(api.requests) == 2


# ---- 40012 NO_UPDATE and 40050 DUPLICATED_REQUEST: "already done" after a verifying read ----


@pytest.mark.parametrize("code", [40012, 40050])
async def test_already_done_is_success_when_a_read_confirms_it(code: int) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return envelope(code, message="already", request_id="rq-7")
        return paged(member_list("a@x.example"), request, 20)

    result = await write.invite(
        FakeApi(handler).client(), BC, Invite(["a@x.example"], MemberRole.STANDARD, None)
    )
    assert result.note == write.ALREADY_DONE and result.request_ids == ("rq-7",)


@pytest.mark.parametrize("code", [40012, 40050])
async def test_already_done_that_a_read_contradicts_is_an_error(code: int) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return envelope(code, message="already")
        return paged([], request, 20)

    with pytest.raises(ApiError, match=str(code)) as caught:
        await write.invite(
            FakeApi(handler).client(), BC, Invite(["a@x.example"], MemberRole.STANDARD, None)
        )
    assert caught.value.exit_code == 1


async def test_reads_confirming_already_done_use_the_member_list() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(f"{request.method} {request.url.path}")
        if request.method == "POST":
            return envelope(40012, message="no update")
        assert params(request)["bc_id"] == BC
        return paged(member_list("a@x.example"), request, 20)

    await write.invite(
        FakeApi(handler).client(), BC, Invite(["A@x.example"], MemberRole.STANDARD, None)
    )
    assert seen == ["POST /open_api/v1.3/bc/member/invite/", "GET /open_api/v1.3/bc/member/get/"]
