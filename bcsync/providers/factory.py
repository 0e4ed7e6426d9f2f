"""`open_providers`: one Provider per BC config; one HTTP client and rate limiter per app.

An app is a base URL plus a token: every BC reached through it shares its rate limiter.

Where a token goes is decided here, never by the config alone (configs are what pull requests
edit, and pipelines run `plan` on them with the admin token set):
- `tiktok` reads $token_env (default TIKTOK_ACCESS_TOKEN) and sends it only to TikTok's API hosts
  (business-api.tiktok.com, sandbox-ads.tiktok.com). Any other `url` is refused (a config error,
  before any request) unless the pipeline's owner lists it in $BCSYNC_ALLOWED_API_URLS
  (comma-separated base URLs, compared after normalisation; still https, or http to loopback).
- `emulator` reads its own variable (default BCSYNC_EMULATOR_TOKEN), never a TIKTOK_* one.
- `local` reads no variable: the in-process emulator acts as the seed's first joined admin.
- `token_env` must match (TIKTOK|BCSYNC)_[A-Z0-9_]+, and a token an HTTP header cannot carry
  (anything but visible ASCII) is refused up front with a message that never holds the token.
- $BCSYNC_ALLOWED_PROVIDERS (comma-separated types), when set by the pipeline's owner, refuses any
  other provider type: a pipeline that plans pull requests' configs as data sets `tiktok`, so a
  config cannot switch to a `local` seed (a file path on the runner) or an emulator URL.

Local state (the `local` provider's SQLite databases, beside the config): see
`bcsync.providers.local`.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bcsync.core.model import BusinessCenterConfig, ProviderSettings, ProviderType
from bcsync.errors import AuthError, ProviderError
from bcsync.providers.local import local_database, local_seed, open_local, provider_problem
from bcsync.providers.tiktok.client import (
    DEFAULT_BASE_URL,
    RetryPolicy,
    TikTokClient,
    check_base_url,
    check_token,
    is_loopback,
    is_tiktok_api,
    parse_allowed_urls,
    url_key,
)
from bcsync.providers.tiktok.limiter import Limiter, RateLimit, RateLimiter
from bcsync.providers.tiktok.provider import TikTokProvider
from bcsync.providers.tiktok.read import Strategy
from bcsync.providers.tiktok.shared_limiter import (
    SharedRateLimiter,
    open_redis,
    shared_limit_from_env,
)

# Set by a pipeline's owner, outside the config: other base URLs the TikTok token may go to.
ALLOWED_URLS_ENV = "BCSYNC_ALLOWED_API_URLS"
# Set by a pipeline's owner, outside the config: the only provider types its configs may use.
ALLOWED_PROVIDERS_ENV = "BCSYNC_ALLOWED_PROVIDERS"
# fullmatch, so a trailing newline cannot slip through as `$` would let it.
TOKEN_ENV_PATTERN = re.compile(r"(TIKTOK|BCSYNC)_[A-Z0-9_]+")
LOCAL_BASE_URL = "http://local.bcsync/open_api/v1.3/"
# The in-process emulator has no rate limit of its own; keep the limiter, but out of the way:
# paced at 1,000 a second it was the slowest part of a local plan at TikTok's limits (17,900
# calls, 18 s of pacing for 12 s of work). `provider.qps` still sets a real limit to rehearse.
LOCAL_RATE = RateLimit(qps=1_000_000, qpm=None, margin=0.0, smooth=False)


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
    state_dir: Path | None = None,
    env: Mapping[str, str] = os.environ,
    retry: RetryPolicy | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    rate_limit: RateLimit | None = None,
    strategy: Strategy | None = None,
) -> AsyncIterator[dict[str, TikTokProvider]]:
    """Providers by BC id; `transport` replaces the network for `tiktok`/`emulator` (tests).

    `state_dir` (locks, audit log) is not used here: local state lives beside the seed.
    """
    retry = retry or RetryPolicy()
    async with contextlib.AsyncExitStack() as stack:
        apps: dict[Path, Any] = {}
        # In-process emulators hold a SQLite connection; ASGITransport never runs lifespan.
        stack.callback(lambda: [app.state.emulator.close() for app in apps.values()])
        endpoints = {c.bc_id: _endpoint(c, env, apps, rate_limit) for c in configs}
        shared = _shared_limiter(endpoints.values(), env, stack)
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
                limiter=_limiter(endpoints.values(), endpoint, shared),
                base_url=endpoint.base_url,
                retry=retry,
                token_env=endpoint.token_env,
                in_process=endpoint.local_db is not None,
            )
        yield {
            bc_id: TikTokProvider(bc_id, clients[e.app], strategy=strategy)
            for bc_id, e in endpoints.items()
        }


def target_of(config: BusinessCenterConfig) -> str:
    """Where a config's BC is reached, as a plan records it: the API base URL, or `local:` and
    the local Business Center's database (chosen by where the config lies, so a saved plan
    must name it: the config's digest covers its bytes, not its place)."""
    settings = config.provider
    if settings.type is ProviderType.LOCAL:
        return f"local:{local_database(config)}"
    if settings.type is ProviderType.EMULATOR:
        return _checked_url(config, settings.url or "")
    return _checked_url(config, settings.url or DEFAULT_BASE_URL)


def _endpoint(
    config: BusinessCenterConfig,
    env: Mapping[str, str],
    apps: dict[Path, Any],
    rate_limit: RateLimit | None,
) -> _Endpoint:
    settings = config.provider
    _check_allowed_type(config, env)
    if settings.type is ProviderType.LOCAL:
        return _local_endpoint(config, apps, rate_limit)
    _check_token_env(config)
    if settings.type is ProviderType.EMULATOR:
        if not settings.url:
            raise provider_problem(
                config,
                "url",
                "provider type emulator needs a url",
                "e.g. provider: { type: emulator, url: http://127.0.0.1:8787 }",
            )
        url = _emulator_url(config, settings.url, env)
    else:
        url = _tiktok_url(config, settings.url or DEFAULT_BASE_URL, env)
    rate = rate_limit or _rate(settings)
    return _Endpoint(url, _token(settings, env), settings.token_env, rate)


def _local_endpoint(
    config: BusinessCenterConfig, apps: dict[Path, Any], rate_limit: RateLimit | None
) -> _Endpoint:
    """The in-process emulator, acting as the seed's first joined admin: no variable is read."""
    settings = config.provider
    db_path, app = _local_app(config, apps)
    token = app.state.emulator.admin_token(config.bc_id)
    if not token:
        raise provider_problem(
            config,
            "seed",
            f"the local seed has no joined admin with a token for BC {config.bc_id}",
            "add a BOUND ADMIN member whose user has a token to the seed",
        )
    check_token(token, f"the seed {local_seed(config)}")
    rate = rate_limit or (_rate(settings) if settings.qps or settings.qpm else LOCAL_RATE)
    return _Endpoint(LOCAL_BASE_URL, token, "the seed's admin token", rate, db_path)


def _check_allowed_type(config: BusinessCenterConfig, env: Mapping[str, str]) -> None:
    """$BCSYNC_ALLOWED_PROVIDERS, when set: the provider types a pipeline accepts from configs."""
    listed = env.get(ALLOWED_PROVIDERS_ENV)
    if listed is None:
        return
    allowed = sorted({t.strip() for t in listed.split(",") if t.strip()})
    if config.provider.type.value not in allowed:
        raise provider_problem(
            config,
            "type",
            f"provider type {config.provider.type.value} is not allowed here "
            f"(${ALLOWED_PROVIDERS_ENV} allows {', '.join(allowed) or 'none'})",
            "this pipeline plans configs for the provider it holds a token for; "
            "change the provider in a reviewed pull request of its own",
        )


def _check_token_env(config: BusinessCenterConfig) -> None:
    """Defence in depth for what validate checks: which variables a config may name."""
    settings = config.provider
    name = settings.token_env
    if not TOKEN_ENV_PATTERN.fullmatch(name):
        raise provider_problem(
            config,
            "token_env",
            f"{name!r} is not a variable bcsync reads tokens from",
            "name a variable starting with TIKTOK_ or BCSYNC_ (e.g. TIKTOK_ACCESS_TOKEN)",
        )
    if settings.type is ProviderType.EMULATOR and name.startswith("TIKTOK_"):
        raise provider_problem(
            config,
            "token_env",
            f"the emulator provider must not read the TikTok token (${name})",
            "use a BCSYNC_* variable (default BCSYNC_EMULATOR_TOKEN) holding an emulator token",
        )


def _checked_url(config: BusinessCenterConfig, url: str) -> str:
    """The normalised base URL; https, or plain http to loopback only."""
    try:
        return check_base_url(url)
    except (ProviderError, httpx.InvalidURL) as err:
        raise provider_problem(config, "url", str(err), "use an https:// URL") from None


def _emulator_url(config: BusinessCenterConfig, url: str, env: Mapping[str, str]) -> str:
    """An emulator on this machine (loopback), or one the pipeline's owner allows.

    A config may name any `BCSYNC_*` variable; if a pipeline kept a real token in one, a
    config must still not be able to send it to a host the config chooses.
    """
    base = _checked_url(config, url)
    if is_loopback(httpx.URL(base).host):
        return base
    if url_key(base) in parse_allowed_urls(env.get(ALLOWED_URLS_ENV, "")):
        return base
    raise provider_problem(
        config,
        "url",
        f"refusing to send a token to the emulator at {httpx.URL(base).host}: not on this machine",
        f"serve the emulator on 127.0.0.1, or have the pipeline's owner list its URL in "
        f"${ALLOWED_URLS_ENV} (never in the config)",
    )


def _tiktok_url(config: BusinessCenterConfig, url: str, env: Mapping[str, str]) -> str:
    """The base URL the TikTok token may go to: TikTok's hosts, or one the pipeline allows."""
    base = _checked_url(config, url)
    if is_tiktok_api(base) or url_key(base) in parse_allowed_urls(env.get(ALLOWED_URLS_ENV, "")):
        return base
    shown = url if len(url) <= 80 and url.isprintable() else repr(url[:80])
    raise provider_problem(
        config,
        "url",
        f"refusing to send the TikTok token to {shown}: not TikTok's API",
        f"TikTok's API is {DEFAULT_BASE_URL}; another endpoint must be listed by the pipeline's "
        f"owner in ${ALLOWED_URLS_ENV} (comma-separated base URLs), never in the config",
    )


def _token(settings: ProviderSettings, env: Mapping[str, str]) -> str:
    token = env.get(settings.token_env, "")
    if not token:
        also = (
            " (the emulator never reads the TikTok token)"
            if settings.type is ProviderType.EMULATOR
            else ""
        )
        raise AuthError(
            f"no access token: ${settings.token_env} is not set{also}",
            hint=f"set {settings.token_env} to a long-term access token of a BC admin "
            "(bcsync never reads tokens from config files or flags)",
            code=40104,
        )
    return check_token(token, f"${settings.token_env}")


def _rate(settings: ProviderSettings) -> RateLimit:
    # TikTok's tiers are qps/qpm pairs with qpm = 60 x qps (10/600 ... 50/3000).
    qps = settings.qps or (max(1, settings.qpm // 60) if settings.qpm else 10)
    return RateLimit(qps=qps, qpm=settings.qpm or qps * 60)


def _shared_limiter(
    endpoints: Iterable[_Endpoint], env: Mapping[str, str], stack: contextlib.AsyncExitStack
) -> SharedRateLimiter | None:
    """The limit shared with other processes through Redis ($BCSYNC_RATE_LIMIT_URL), if set.

    One per process, for every app reached over the network (the in-process emulator has no
    limit to share): a token doesn't say which app it belongs to, so the environment does.
    """
    shared = shared_limit_from_env(env)
    remote = [e.rate for e in endpoints if e.local_db is None]
    if shared is None or not remote:
        return None
    client = open_redis(shared)
    stack.push_async_callback(client.aclose)
    return SharedRateLimiter(client, _strictest(remote), shared)


def _limiter(
    endpoints: Iterable[_Endpoint], endpoint: _Endpoint, shared: SharedRateLimiter | None
) -> Limiter:
    if shared is not None and endpoint.local_db is None:
        return shared
    return RateLimiter(_shared_rate(endpoints, endpoint.app))


def _shared_rate(endpoints: Iterable[_Endpoint], app: tuple[str, str, Path | None]) -> RateLimit:
    """Several configs on one app: the strictest of their limits."""
    return _strictest([e.rate for e in endpoints if e.app == app])


def _strictest(rates: Sequence[RateLimit]) -> RateLimit:
    """The strictest of several limits (one app named by several configs)."""
    qpms = [r.qpm for r in rates if r.qpm is not None]
    return RateLimit(
        qps=min(r.qps for r in rates),
        qpm=min(qpms) if qpms else None,
        margin=max(r.margin for r in rates),
        smooth=any(r.smooth for r in rates),
    )


def _local_app(config: BusinessCenterConfig, apps: dict[Path, Any]) -> tuple[Path, Any]:
    db_path = local_database(config)
    if db_path not in apps:
        apps[db_path] = open_local(config)
    return db_path, apps[db_path]
