"""`open_providers`: one Provider per BC config; one HTTP client and rate limiter per app.

`tiktok` talks to TikTok (https only), `emulator` to a served emulator URL, `local` to the
emulator app in-process through httpx.ASGITransport with a SQLite file under the state dir.
An app is a base URL plus a token: every BC reached through it shares its rate limiter.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bcsync.errors import AuthError, ProviderError
from bcsync.model import BusinessCenterConfig, ProviderSettings, ProviderType
from bcsync.providers.tiktok.client import (
    DEFAULT_BASE_URL,
    RetryPolicy,
    TikTokClient,
    check_base_url,
)
from bcsync.providers.tiktok.limiter import RateLimit, RateLimiter
from bcsync.providers.tiktok.provider import TikTokProvider
from bcsync.providers.tiktok.read import Strategy

LOCAL_BASE_URL = "http://local.bcsync/open_api/v1.3/"
# The in-process emulator has no rate limit of its own; keep the limiter, but out of the way.
LOCAL_RATE = RateLimit(qps=1000, qpm=None, margin=0.0)


@dataclass(frozen=True)
class _Endpoint:
    """Where one BC's calls go."""

    base_url: str
    token: str = field(repr=False)
    token_env: str
    rate: RateLimit
    local_db: Path | None = None

    @property
    def app(self) -> tuple[str, str, Path | None]:
        """A developer app: one client and one rate limiter each."""
        return (self.base_url, self.token, self.local_db)


@contextlib.asynccontextmanager
async def open_providers(
    configs: Sequence[BusinessCenterConfig],
    *,
    state_dir: Path = Path(".bcsync"),
    env: Mapping[str, str] = os.environ,
    retry: RetryPolicy | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    rate_limit: RateLimit | None = None,
    strategy: Strategy | None = None,
) -> AsyncIterator[dict[str, TikTokProvider]]:
    """Providers by BC id; `transport` replaces the network for `tiktok`/`emulator` (tests)."""
    retry = retry or RetryPolicy()
    async with contextlib.AsyncExitStack() as stack:
        apps: dict[Path, Any] = {}
        # In-process emulators hold a SQLite connection; ASGITransport never runs lifespan.
        stack.callback(lambda: [app.state.emulator.close() for app in apps.values()])
        endpoints = {c.bc_id: _endpoint(c, state_dir, env, apps, rate_limit) for c in configs}
        http_clients: dict[tuple[str, Path | None], httpx.AsyncClient] = {}
        clients: dict[tuple[str, str, Path | None], TikTokClient] = {}
        for endpoint in endpoints.values():
            if endpoint.app in clients:
                continue
            where = (endpoint.base_url, endpoint.local_db)
            if where not in http_clients:
                app = apps[endpoint.local_db] if endpoint.local_db else None
                http = httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=app) if app is not None else transport,
                    timeout=retry.timeout(),
                    follow_redirects=False,
                )
                http_clients[where] = await stack.enter_async_context(http)
            clients[endpoint.app] = TikTokClient(
                http_clients[where],
                token=endpoint.token,
                limiter=RateLimiter(_shared_rate(endpoints.values(), endpoint.app)),
                base_url=endpoint.base_url,
                retry=retry,
                token_env=endpoint.token_env,
                in_process=endpoint.local_db is not None,
            )
        yield {
            bc_id: TikTokProvider(bc_id, clients[e.app], strategy=strategy)
            for bc_id, e in endpoints.items()
        }


def _endpoint(
    config: BusinessCenterConfig,
    state_dir: Path,
    env: Mapping[str, str],
    apps: dict[Path, Any],
    rate_limit: RateLimit | None,
) -> _Endpoint:
    settings = config.provider
    if settings.type is ProviderType.LOCAL:
        db_path, app = _local_app(config, state_dir, apps)
        token = env.get(settings.token_env) or app.state.emulator.admin_token(config.bc_id)
        if not token:
            raise AuthError(
                f"the local seed has no joined admin for BC {config.bc_id}",
                hint=f"add a BOUND ADMIN member to the seed, or set {settings.token_env}",
            )
        rate = rate_limit or (_rate(settings) if settings.qps or settings.qpm else LOCAL_RATE)
        return _Endpoint(LOCAL_BASE_URL, token, settings.token_env, rate, db_path)
    if settings.type is ProviderType.EMULATOR:
        if not settings.url:
            raise ProviderError(
                f"{config.path}: provider type emulator needs a url",
                hint="e.g. provider: { type: emulator, url: http://127.0.0.1:8765 }",
            )
        url = settings.url
    else:
        url = settings.url or DEFAULT_BASE_URL
    rate = rate_limit or _rate(settings)
    return _Endpoint(check_base_url(url), _token(settings, env), settings.token_env, rate)


def _token(settings: ProviderSettings, env: Mapping[str, str]) -> str:
    token = env.get(settings.token_env, "").strip()
    if not token:
        raise AuthError(
            f"no access token: ${settings.token_env} is not set",
            hint=f"set {settings.token_env} to a long-term access token of a BC admin "
            "(bcsync never reads tokens from config files or flags)",
            code=40104,
        )
    return token


def _rate(settings: ProviderSettings) -> RateLimit:
    # TikTok's tiers are qps/qpm pairs with qpm = 60 x qps (10/600 ... 50/3000).
    qps = settings.qps or (max(1, settings.qpm // 60) if settings.qpm else 10)
    return RateLimit(qps=qps, qpm=settings.qpm or qps * 60)


def _shared_rate(endpoints: Iterable[_Endpoint], app: tuple[str, str, Path | None]) -> RateLimit:
    """Several configs on one app: the strictest of their limits."""
    rates = [e.rate for e in endpoints if e.app == app]
    qpms = [r.qpm for r in rates if r.qpm is not None]
    return RateLimit(
        qps=min(r.qps for r in rates),
        qpm=min(qpms) if qpms else None,
        margin=max(r.margin for r in rates),
        smooth=any(r.smooth for r in rates),
    )


def _local_app(
    config: BusinessCenterConfig, state_dir: Path, apps: dict[Path, Any]
) -> tuple[Path, Any]:
    seed = config.provider.seed
    if not seed:
        raise ProviderError(
            f"{config.path}: provider type local needs a seed file",
            hint="e.g. provider: { type: local, seed: seed.yaml }",
        )
    seed_path = Path(seed)
    if not seed_path.is_absolute():
        seed_path = Path(config.path).parent / seed_path
    seed_path = seed_path.resolve()
    digest = hashlib.sha256(str(seed_path).encode()).hexdigest()[:16]
    db_path = state_dir / "local" / f"{digest}.db"
    if db_path not in apps:
        if not seed_path.exists() and not db_path.exists():
            raise ProviderError(f"{config.path}: seed file {seed_path} not found")
        db_path.parent.mkdir(parents=True, exist_ok=True)
        # The emulator is needed only for `local`.
        from bcsync.emulator import EmulatorError, create_app

        try:
            apps[db_path] = create_app(db_path=db_path, seed=seed_path)
        except EmulatorError as err:
            raise ProviderError(f"{config.path}: the local Business Center: {err}") from None
    return db_path, apps[db_path]
