"""Fixtures: the emulator app in-process, and a provider talking to it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from bcsync.providers.tiktok.client import RetryPolicy, TikTokClient
from bcsync.providers.tiktok.limiter import RateLimit, RateLimiter
from bcsync.providers.tiktok.provider import TikTokProvider
from bcsync.providers.tiktok.read import Strategy

from .fakes import FAST, TOKEN, UNLIMITED
from .world import BC

LOCAL = "http://local.bcsync/open_api/v1.3/"
Wrap = Callable[[httpx.AsyncBaseTransport], httpx.AsyncBaseTransport]


@dataclass
class World:
    """An emulator app and what talks to it."""

    app: Any
    http: httpx.AsyncClient

    @property
    def emulator(self) -> Any:
        return self.app.state.emulator

    def client(
        self, *, retry: RetryPolicy = FAST, rate: RateLimit = UNLIMITED, token: str = TOKEN
    ) -> TikTokClient:
        return TikTokClient(
            self.http,
            token=token,
            limiter=RateLimiter(rate),
            base_url=LOCAL,
            retry=retry,
            in_process=True,
        )

    def provider(
        self, bc_id: str = BC, *, strategy: Strategy | None = None, **kwargs: Any
    ) -> TikTokProvider:
        return TikTokProvider(bc_id, self.client(**kwargs), strategy=strategy)


@pytest.fixture
async def make_world(tmp_path: Path) -> AsyncIterator[Callable[..., World]]:
    """Build an emulator world from a seed (and faults); each gets its own SQLite file."""
    from bcsync.emulator import create_app

    async with AsyncExitStack() as stack:
        count = 0

        def make(seed: dict[str, Any], wrap: Wrap | None = None, **options: Any) -> World:
            nonlocal count
            count += 1
            app = create_app(tmp_path / f"world{count}.db", seed=seed, **options)
            stack.callback(app.state.emulator.close)
            transport: httpx.AsyncBaseTransport = httpx.ASGITransport(app=app)
            http = httpx.AsyncClient(transport=wrap(transport) if wrap else transport)
            stack.push_async_callback(http.aclose)
            return World(app, http)

        yield make
