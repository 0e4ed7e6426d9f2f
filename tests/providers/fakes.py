"""A scriptable fake of the TikTok API over httpx.MockTransport, and a fake clock."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import httpx

from bcsync.providers.tiktok.client import RetryPolicy, TikTokClient
from bcsync.providers.tiktok.limiter import RateLimit, RateLimiter

TOKEN = "tok-SECRET-do-not-leak"
FAST = RetryPolicy(
    attempts=4, total_seconds=5.0, base_delay=0.001, max_delay=0.002, throttle_delay=0.0,
    request_timeout=0.2, settle_seconds=0.05, seed=7,
)  # fmt: skip
UNLIMITED = RateLimit(qps=10_000, qpm=None, margin=0.0)


def envelope(code: int = 0, data: Any = None, message: str = "OK", request_id: str = "req-1"):
    """An API answer: HTTP 200 with the envelope."""
    body = {"code": code, "message": message, "request_id": request_id, "data": data or {}}
    return httpx.Response(200, json=body)


Handler = Callable[[httpx.Request], Any]


class FakeApi:
    """Answers requests with a handler; records every request (method, path, params, body)."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[httpx.Request] = []

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.handler(request)
        if asyncio.iscoroutine(answer):
            answer = await answer
        return answer

    def client(
        self, *, retry: RetryPolicy = FAST, rate: RateLimit = UNLIMITED, **kwargs: Any
    ) -> TikTokClient:
        http = httpx.AsyncClient(transport=httpx.MockTransport(self))
        return TikTokClient(
            http,
            token=TOKEN,
            limiter=kwargs.pop("limiter", None) or RateLimiter(rate),
            base_url=kwargs.pop("base_url", "https://business-api.tiktok.com/open_api/v1.3/"),
            retry=retry,
            **kwargs,
        )


def params(request: httpx.Request) -> dict[str, str]:
    return dict(request.url.params)


def body(request: httpx.Request) -> dict[str, Any]:
    return json.loads(request.content or b"{}")


def paged(items: list[Any], request: httpx.Request, max_size: int = 50) -> httpx.Response:
    """A list endpoint: slices `items` by page/page_size, rejecting sizes over max_size."""
    page = int(params(request).get("page", 1))
    size = int(params(request).get("page_size", 10))
    if size > max_size:
        return envelope(40002, message=f"page_size: must be <= {max_size}")
    chunk = items[(page - 1) * size : page * size]
    total_page = -(-len(items) // size)
    info = {"page": page, "page_size": size, "total_number": len(items), "total_page": total_page}
    return envelope(data={"list": chunk, "page_info": info})


class FakeClock:
    """Virtual time: sleeping advances it; nothing really waits."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += max(seconds, 0.0)
        await asyncio.sleep(0)
