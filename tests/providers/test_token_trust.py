"""Where the token may go: TikTok's hosts or an allow-list outside the config; which variables."""

from __future__ import annotations

import re

import httpx
import pytest

from bcsync.core.model import ProviderSettings, ProviderType
from bcsync.errors import AuthError, ConfigError
from bcsync.providers import Scope
from bcsync.providers.factory import open_providers
from bcsync.providers.tiktok.client import TikTokClient, check_token, is_tiktok_api, url_key
from bcsync.providers.tiktok.limiter import RateLimit, RateLimiter

from .fakes import TOKEN
from .test_factory import AD1, config

ALLOWED = "BCSYNC_ALLOWED_API_URLS"


class Seen(httpx.AsyncBaseTransport):
    """Records every request that would have left; answers a permission error."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(200, json={"code": 40001, "message": "no", "request_id": "r"})


async def read_once(settings: ProviderSettings, env: dict[str, str], seen: Seen) -> None:
    """Open the provider and read once (the read itself fails with 40001: enough to send)."""
    async with open_providers([config(settings)], env=env, transport=seen) as providers:
        with pytest.raises(Exception, match="no"):
            await providers[config(settings).bc_id].read_state(Scope.of([AD1]))


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8787",
        "https://example.com/open_api/v1.3/",
        "https://business-api.tiktok.com.evil.example/",
        "https://business-api.tiktok.com:8443/",
        "https://tiktok.com/",
        "https://ads.tiktok.com/open_api/v1.3/",
    ],
)
async def test_tiktok_token_is_not_sent_elsewhere(url: str) -> None:
    seen = Seen()
    settings = ProviderSettings(type=ProviderType.TIKTOK, url=url)
    with pytest.raises(ConfigError) as caught:
        await read_once(settings, {"TIKTOK_ACCESS_TOKEN": TOKEN}, seen)
    assert seen.requests == []
    (problem,) = caught.value.problems
    assert (problem.file, problem.path, caught.value.exit_code) == (
        "bcsync.yaml",
        "provider.url",
        3,
    )
    assert ALLOWED in (problem.hint or "") and "TikTok" in problem.message
    assert TOKEN not in problem.format()


@pytest.mark.parametrize(
    "url",
    [
        "https://business-api.tiktok.com@evil.example/",
        "https://user:pw@business-api.tiktok.com/",
        "https://xn--business-api.tiktok.com/",
    ],
)
async def test_a_url_no_token_goes_to_is_refused_before_any_request(url: str) -> None:
    """Whatever the allow-list says: user info or an invalid IDNA host is never a base URL."""
    seen = Seen()
    settings = ProviderSettings(type=ProviderType.TIKTOK, url=url)
    env = {"TIKTOK_ACCESS_TOKEN": TOKEN, ALLOWED: url}
    with pytest.raises(ConfigError) as caught:
        await read_once(settings, env, seen)
    assert seen.requests == []
    (problem,) = caught.value.problems
    assert (problem.path, caught.value.exit_code) == ("provider.url", 3)
    assert "user info" in problem.message or "IDNA" in problem.message
    assert TOKEN not in problem.format()


@pytest.mark.parametrize(
    "url",
    [
        None,
        "https://business-api.tiktok.com/open_api/v1.3/",
        "https://business-api.tiktok.com",
        "HTTPS://Business-API.TikTok.com:443/open_api/v1.3",
        "https://sandbox-ads.tiktok.com/open_api/v1.3/",
    ],
)
async def test_tiktok_hosts_need_no_allow_list(url: str | None) -> None:
    seen = Seen()
    await read_once(
        ProviderSettings(type=ProviderType.TIKTOK, url=url), {"TIKTOK_ACCESS_TOKEN": TOKEN}, seen
    )
    assert seen.requests and seen.requests[0].headers["Access-Token"] == TOKEN
    assert seen.requests[0].url.host in ("business-api.tiktok.com", "sandbox-ads.tiktok.com")


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("http://127.0.0.1:8787", "http://127.0.0.1:8787/open_api/v1.3/"),
        ("http://127.0.0.1:8787/open_api/v1.3", "https://x.example, http://127.0.0.1:8787"),
        ("https://gateway.example/open_api/v1.3/", "HTTPS://Gateway.example:443/open_api/v1.3"),
    ],
)
async def test_allow_list_from_the_environment_lets_a_url_through(url: str, allowed: str) -> None:
    seen = Seen()
    env = {"TIKTOK_ACCESS_TOKEN": TOKEN, ALLOWED: allowed}
    await read_once(ProviderSettings(type=ProviderType.TIKTOK, url=url), env, seen)
    assert len(seen.requests) >= 1


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        # Exact base URLs: another port, path, scheme or host does not match.
        ("http://127.0.0.1:8788", "http://127.0.0.1:8787"),
        ("http://127.0.0.1:8787/other/", "http://127.0.0.1:8787"),
        ("https://127.0.0.1:8787", "http://127.0.0.1:8787"),
        ("https://gateway.example.evil/", "https://gateway.example/"),
        ("https://gateway.example/", ""),
        ("https://gateway.example/", " , ,"),
    ],
)
async def test_allow_list_matches_exactly(url: str, allowed: str) -> None:
    seen = Seen()
    env = {"TIKTOK_ACCESS_TOKEN": TOKEN, ALLOWED: allowed}
    with pytest.raises(ConfigError):
        await read_once(ProviderSettings(type=ProviderType.TIKTOK, url=url), env, seen)
    assert seen.requests == []


async def test_allow_list_does_not_allow_plain_http_to_another_host() -> None:
    seen = Seen()
    url = "http://10.0.0.5:8080/"
    env = {"TIKTOK_ACCESS_TOKEN": TOKEN, ALLOWED: url}
    with pytest.raises(ConfigError, match="configuration invalid"):
        await read_once(ProviderSettings(type=ProviderType.TIKTOK, url=url), env, seen)
    assert seen.requests == []


@pytest.mark.parametrize(
    "token_env",
    [
        "AWS_SECRET_ACCESS_KEY",
        "GITHUB_TOKEN",
        "tiktok_access_token",
        "TIKTOK_",
        "TIKTOK_X\n",
        "X_TIKTOK_Y",
    ],
)
@pytest.mark.parametrize("kind", [ProviderType.TIKTOK, ProviderType.EMULATOR])
async def test_token_env_outside_the_pattern_is_refused(token_env: str, kind: ProviderType) -> None:
    seen = Seen()
    url = "http://127.0.0.1:9" if kind is ProviderType.EMULATOR else None
    settings = ProviderSettings(type=kind, url=url, token_env=token_env)
    with pytest.raises(ConfigError) as caught:
        await read_once(settings, {token_env: TOKEN}, seen)
    assert seen.requests == []
    (problem,) = caught.value.problems
    assert problem.path == "provider.token_env" and "TIKTOK_" in (problem.hint or "")


async def test_emulator_never_reads_the_tiktok_token() -> None:
    seen = Seen()
    settings = ProviderSettings(type=ProviderType.EMULATOR, url="http://127.0.0.1:9")
    with pytest.raises(AuthError) as caught:
        await read_once(settings, {"TIKTOK_ACCESS_TOKEN": TOKEN}, seen)
    assert "BCSYNC_EMULATOR_TOKEN" in caught.value.message
    assert caught.value.exit_code == 1 and seen.requests == []
    # Named explicitly, the TikTok variable is refused as a config mistake.
    named = ProviderSettings(
        type=ProviderType.EMULATOR, url="http://127.0.0.1:9", token_env="TIKTOK_ACCESS_TOKEN"
    )
    with pytest.raises(ConfigError, match="configuration invalid"):
        await read_once(named, {"TIKTOK_ACCESS_TOKEN": TOKEN}, seen)
    assert seen.requests == []
    # Its own variable is read and sent.
    await read_once(settings, {"BCSYNC_EMULATOR_TOKEN": "emu-token"}, seen)
    assert seen.requests[0].headers["Access-Token"] == "emu-token"


BAD_TOKENS = [
    "Zq8Xv3Lm\u200bPw7Rt2Ny",  # a zero-width space from copy and paste
    "Zq8Xv3LmPw7Rt2Ny\n",  # a trailing line break
    "Zq8Xv3Lm\nPw7Rt2Ny",
    "Zq8Xv3LmPw7Rt2Ny ",  # a trailing space
    " Zq8Xv3LmPw7Rt2Ny",
    "Zq8Xv3Lm Pw7Rt2Ny",
    "Zq8Xv3Lm\tPw7Rt2Ny",
    "Zq8Xv3Lm\x7fPw7Rt2Ny",
    "Zq8Xv3Lm\u00e9Pw7Rt2Ny",
    "\ufeffZq8Xv3LmPw7Rt2Ny",
]


def fragments(token: str, size: int = 4) -> set[str]:
    """Every run of `size` visible characters of the token."""
    parts = re.split(r"[^!-~]", token)
    return {part[i : i + size] for part in parts for i in range(len(part) - size + 1)}


@pytest.mark.parametrize("token", BAD_TOKENS)
async def test_a_token_a_header_cannot_carry_is_refused_unprinted(token: str) -> None:
    seen = Seen()
    settings = ProviderSettings(type=ProviderType.TIKTOK)
    with pytest.raises(AuthError) as caught:
        await read_once(settings, {"TIKTOK_ACCESS_TOKEN": token}, seen)
    assert seen.requests == [] and caught.value.exit_code == 1
    text = " ".join([str(caught.value), repr(caught.value), caught.value.hint or ""])
    assert "$TIKTOK_ACCESS_TOKEN" in text and "position" in text
    assert fragments(token) and not [f for f in fragments(token) if f in text]


@pytest.mark.parametrize(
    "token", ["a", "Zq8Xv3Lm-Pw7Rt2Ny_~!", "".join(map(chr, range(0x21, 0x7F)))]
)
def test_visible_ascii_tokens_are_accepted(token: str) -> None:
    assert check_token(token, "$T") == token


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://business-api.tiktok.com/open_api/v1.3/", True),
        ("https://sandbox-ads.tiktok.com/open_api/v1.3/", True),
        ("https://business-api.tiktok.com:443/open_api/v1.3/", True),
        ("http://business-api.tiktok.com/open_api/v1.3/", False),
        ("https://a@business-api.tiktok.com/open_api/v1.3/", False),
        ("https://business-api.tiktok.com.evil/open_api/v1.3/", False),
    ],
)
def test_is_tiktok_api(url: str, expected: bool) -> None:
    assert is_tiktok_api(url) is expected


def test_url_key_spells_one_base_url_one_way() -> None:
    spellings = [
        "http://127.0.0.1:8787",
        "http://127.0.0.1:8787/",
        "http://127.0.0.1:8787/open_api/v1.3",
        "HTTP://127.0.0.1:8787/open_api/v1.3/",
    ]
    assert {url_key(s) for s in spellings} == {"http://127.0.0.1:8787/open_api/v1.3/"}
    assert url_key("https://x.example:443") == url_key("https://x.example/")
    assert url_key("https://x.example:8443") != url_key("https://x.example/")


def test_the_client_itself_refuses_a_header_unsafe_token() -> None:
    """Defence in depth: a client built without the factory checks the token too."""
    with pytest.raises(AuthError) as caught:
        TikTokClient(
            httpx.AsyncClient(), token="Zq8Xv3Lm\nPw7Rt2Ny", limiter=RateLimiter(RateLimit(10))
        )
    assert "Zq8X" not in str(caught.value) and "$TIKTOK_ACCESS_TOKEN" in str(caught.value)


@pytest.mark.parametrize(
    "url", ["https://collector.example/open_api/v1.3/", "http://10.0.0.5:8787", "http://[::2]/"]
)
async def test_an_emulator_off_this_machine_needs_the_allow_list(url: str) -> None:
    """A config may name any BCSYNC_* variable; it must not send it to a host it chooses."""
    seen = Seen()
    settings = ProviderSettings(type=ProviderType.EMULATOR, url=url)
    env = {"BCSYNC_EMULATOR_TOKEN": TOKEN}
    with pytest.raises(ConfigError) as caught:
        await read_once(settings, env, seen)
    assert seen.requests == []
    assert TOKEN not in caught.value.problems[0].format()
    if url.startswith("https"):  # (plain http off loopback is refused before the allow-list)
        assert ALLOWED in (caught.value.problems[0].hint or "")
        await read_once(settings, {**env, ALLOWED: url}, seen)
        assert len(seen.requests) >= 1


async def test_an_emulator_on_loopback_needs_no_allow_list() -> None:
    seen = Seen()
    settings = ProviderSettings(type=ProviderType.EMULATOR, url="http://127.0.0.1:8787")
    await read_once(settings, {"BCSYNC_EMULATOR_TOKEN": TOKEN}, seen)
    assert seen.requests and seen.requests[0].url.host == "127.0.0.1"
