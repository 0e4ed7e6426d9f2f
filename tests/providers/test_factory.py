"""open_providers: local / emulator / tiktok, token handling, one client and limiter per app."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import httpx
import pytest

from bcsync.core.model import (
    Asset,
    AssetKey,
    AssetType,
    BusinessCenterConfig,
    MemberRole,
    MemberStatus,
    Policy,
    ProviderSettings,
    ProviderType,
    State,
)
from bcsync.core.operations import Invite
from bcsync.emulator import create_app
from bcsync.errors import AuthError, ConfigError, Problem, ProviderError
from bcsync.providers import Scope
from bcsync.providers.factory import open_providers
from bcsync.providers.local import local_database, local_seed
from bcsync.providers.tiktok.limiter import RateLimit

from .fakes import TOKEN
from .test_limiter import max_in_window
from .world import BC, aid, every_kind, generated

AD1 = AssetKey(AssetType.AD_ACCOUNT, aid(71, 1))


def config(
    settings: ProviderSettings, bc_id: str = BC, path: str = "bcsync.yaml", assets=(AD1,)
) -> BusinessCenterConfig:
    desired = State(bc_id=bc_id, assets={k: Asset(k) for k in assets})
    return BusinessCenterConfig(
        path=path,
        bc_id=bc_id,
        name=None,
        provider=settings,
        policy=Policy(),
        desired=desired,
        digest="",
    )


def write_seed(tmp_path: Path, seed: dict) -> Path:
    path = tmp_path / "seed.yaml"
    path.write_text(json.dumps(seed))  # JSON is YAML
    return path


async def test_local_state_lives_beside_the_seed_not_the_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    write_seed(project, every_kind())
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    local = config(
        ProviderSettings(type=ProviderType.LOCAL, seed="seed.yaml"),
        path=str(project / "bcsync.yaml"),
    )
    async with open_providers([local], state_dir=tmp_path / "state", env={}) as providers:
        provider = providers[BC]
        assert len((await provider.read_state(Scope.of([AD1]))).state.members) == 5
        await provider.write(Invite(["later@acme.example"], MemberRole.STANDARD, None))
    assert local_database(local) == project / ".bcsync" / "local" / "seed.yaml.db"
    assert [p.name for p in (project / ".bcsync" / "local").iterdir()] == ["seed.yaml.db"]
    assert list(elsewhere.iterdir()) == [] and not (tmp_path / "state").exists()
    # The database holds the seed's tokens: its directory is private.
    assert (project / ".bcsync" / "local").stat().st_mode & 0o077 == 0
    # Another working directory, same config: the same state.
    monkeypatch.chdir(tmp_path)
    async with open_providers([local], env={}) as providers:
        state = (await providers[BC].read_state(Scope.of([AD1]))).state
    assert state.members["later@acme.example"].status is MemberStatus.PENDING


def test_a_seed_elsewhere_keeps_its_state_beside_the_config(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    seed = write_seed(shared, every_kind())
    one = config(ProviderSettings(seed="../shared/seed.yaml"), path=str(tmp_path / "a" / "x.yaml"))
    two = config(ProviderSettings(seed=str(seed)), path=str(tmp_path / "a" / "y.yaml"))
    other = config(ProviderSettings(seed=str(seed)), path=str(tmp_path / "b" / "x.yaml"))
    assert local_seed(one) == seed.resolve()
    db = local_database(one)
    assert db.parent == (tmp_path / "a" / ".bcsync" / "local").resolve()
    assert db.name.startswith("seed.yaml-") and db.suffix == ".db"
    # One directory, one seed: one world. Another directory: its own.
    assert local_database(two) == db
    assert local_database(other).parent == (tmp_path / "b" / ".bcsync" / "local").resolve()


@pytest.mark.parametrize(
    "env",
    [
        {"TIKTOK_ACCESS_TOKEN": "not-a-known-token"},
        {"TIKTOK_ACCESS_TOKEN": "bad\u200btoken", "BCSYNC_EMULATOR_TOKEN": "x y"},
    ],
)
async def test_local_reads_no_token_variable(tmp_path: Path, env: dict[str, str]) -> None:
    write_seed(tmp_path, every_kind())
    local = config(
        ProviderSettings(type=ProviderType.LOCAL, seed=str(tmp_path / "seed.yaml")),
        path=str(tmp_path / "bcsync.yaml"),
    )
    async with open_providers([local], env=env) as providers:
        state = (await providers[BC].read_state(Scope.of([AD1]))).state
    assert len(state.members) == 5


def only_problem(caught: pytest.ExceptionInfo[ConfigError]) -> Problem:
    """The one located problem of a ConfigError (exit 3)."""
    assert caught.value.exit_code == 3
    (problem,) = caught.value.problems
    return problem


@pytest.mark.parametrize(
    ("seed", "path", "expected"),
    [
        ("nope.yaml", "provider.seed", "not found"),
        (None, "provider.seed", "needs a seed"),
    ],
)
async def test_local_seed_mistakes_are_config_errors(
    tmp_path: Path, seed: str | None, path: str, expected: str
) -> None:
    local = config(
        ProviderSettings(type=ProviderType.LOCAL, seed=seed), path=str(tmp_path / "bc.yaml")
    )
    with pytest.raises(ConfigError) as caught:
        async with open_providers([local], env={}):
            pass
    problem = only_problem(caught)
    assert (problem.file, problem.path) == (str(tmp_path / "bc.yaml"), path)
    assert expected in problem.message


async def test_local_invalid_seed_is_a_config_error_naming_the_config(tmp_path: Path) -> None:
    write_seed(tmp_path, {"version": 1, "users": "nobody"})
    local = config(
        ProviderSettings(type=ProviderType.LOCAL, seed="seed.yaml"), path=str(tmp_path / "bc.yaml")
    )
    with pytest.raises(ConfigError) as caught:
        async with open_providers([local], env={}):
            pass
    assert caught.value.exit_code == 3
    assert str(tmp_path / "bc.yaml") in caught.value.message and "seed" in caught.value.message


async def test_local_seed_without_a_joined_admin_is_a_config_error(tmp_path: Path) -> None:
    seed = every_kind()
    for user in seed["users"]:
        user.pop("token", None)
    write_seed(tmp_path, seed)
    local = config(
        ProviderSettings(type=ProviderType.LOCAL, seed=str(tmp_path / "seed.yaml")),
        path=str(tmp_path / "bcsync.yaml"),
    )
    with pytest.raises(ConfigError) as caught:
        async with open_providers([local], env={}):
            pass
    assert "joined admin" in only_problem(caught).message


@pytest.mark.parametrize("token_env", ["TIKTOK_ACCESS_TOKEN", "TIKTOK_ACME_TOKEN"])
async def test_tiktok_without_a_token_says_which_variable(token_env: str) -> None:
    settings = ProviderSettings(type=ProviderType.TIKTOK, token_env=token_env)
    with pytest.raises(AuthError) as caught:
        async with open_providers([config(settings)], env={}):
            pass
    assert token_env in caught.value.message and token_env in (caught.value.hint or "")
    assert caught.value.exit_code == 1


@pytest.mark.parametrize(
    ("kind", "url"),
    [
        (ProviderType.TIKTOK, "http://business-api.tiktok.com"),
        (ProviderType.EMULATOR, "http://192.168.1.20:8080"),
        (ProviderType.EMULATOR, None),
    ],
)
async def test_insecure_or_missing_url_is_a_config_error(
    kind: ProviderType, url: str | None
) -> None:
    settings = ProviderSettings(type=kind, url=url)
    env = {"TIKTOK_ACCESS_TOKEN": TOKEN, "BCSYNC_EMULATOR_TOKEN": TOKEN}
    with pytest.raises(ConfigError) as caught:
        async with open_providers([config(settings)], env=env):
            pass
    assert only_problem(caught).path == "provider.url"


async def test_tiktok_defaults_to_the_real_base_url() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"code": 40001, "message": "no", "request_id": "r"})

    settings = ProviderSettings(type=ProviderType.TIKTOK)
    env = {"TIKTOK_ACCESS_TOKEN": TOKEN}
    transport = httpx.MockTransport(handler)
    async with open_providers([config(settings)], env=env, transport=transport) as providers:
        provider = providers[BC]
        with pytest.raises(ProviderError):
            await provider.read_state(Scope.of([AD1]))
        assert provider.client.limiter.limit == RateLimit(10, 600)
        assert TOKEN not in repr(provider) and TOKEN not in repr(providers)
    assert str(seen[0].url).startswith("https://business-api.tiktok.com/open_api/v1.3/")


async def test_one_client_and_limiter_per_app() -> None:
    url = "http://127.0.0.1:9"
    a = config(ProviderSettings(type=ProviderType.EMULATOR, url=url, qps=20), bc_id="1")
    b = config(ProviderSettings(type=ProviderType.EMULATOR, url=url, qps=30), bc_id="2")
    other = ProviderSettings(type=ProviderType.EMULATOR, url=url, token_env="BCSYNC_OTHER")
    c = config(other, bc_id="3")
    env = {"BCSYNC_EMULATOR_TOKEN": TOKEN, "BCSYNC_OTHER": "another-token"}
    async with open_providers([a, b, c], env=env) as providers:
        assert providers["1"].client is providers["2"].client
        assert providers["1"].client is not providers["3"].client
        assert providers["1"].client.limiter.limit.qps == 20  # the strictest
        assert providers["3"].client.limiter.limit == RateLimit(10, 600)


class Recorder(httpx.AsyncBaseTransport):
    """Notes when each request starts."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.starts: list[float] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.starts.append(time.monotonic())
        return await self.inner.handle_async_request(request)


async def test_many_bcs_read_at_once_share_the_limit(tmp_path: Path) -> None:
    bc_ids = tuple(f"70000000000000000{n:02d}" for n in range(1, 5))
    seed = generated(
        bc_ids=bc_ids, members=4, pending=0, assets={"ADVERTISER": 3}, grants=6, partners=2
    )
    app = create_app(tmp_path / "many.db", seed=seed)
    recorder = Recorder(httpx.ASGITransport(app=app))
    settings = ProviderSettings(type=ProviderType.EMULATOR, url="http://127.0.0.1:9", qps=30)
    configs = [
        config(
            settings,
            bc_id=b,
            assets=[AssetKey(AssetType.AD_ACCOUNT, aid(71, n * 1000 + i)) for i in range(3)],
        )
        for n, b in enumerate(bc_ids)
    ]
    try:
        async with open_providers(
            configs, env={"BCSYNC_EMULATOR_TOKEN": TOKEN}, transport=recorder
        ) as providers:
            scopes = [Scope.of(list(c.desired.assets)) for c in configs]
            results = await asyncio.gather(
                *(providers[c.bc_id].read_state(s) for c, s in zip(configs, scopes, strict=True))
            )
    finally:
        app.state.emulator.close()
    # 4 x (bc, members, ad accounts, partners, 2 shares, 3 per-asset grants, asset groups)
    assert sum(r.calls for r in results) == len(recorder.starts) == 4 * 10
    assert max_in_window(recorder.starts, 1.0) <= 30
    assert all(r.state.grants for r in results)


@pytest.mark.parametrize(
    ("allowed", "settings"),
    [
        ("tiktok", ProviderSettings(type=ProviderType.LOCAL, seed="/proc/self/environ")),
        ("tiktok", ProviderSettings(type=ProviderType.EMULATOR, url="http://127.0.0.1:8787")),
        (" local , emulator", ProviderSettings(type=ProviderType.TIKTOK)),
        ("", ProviderSettings(type=ProviderType.TIKTOK)),
    ],
)
async def test_a_pipeline_can_allow_only_its_own_provider(
    allowed: str, settings: ProviderSettings
) -> None:
    env = {"BCSYNC_ALLOWED_PROVIDERS": allowed, "TIKTOK_ACCESS_TOKEN": TOKEN}
    with pytest.raises(ConfigError) as caught:
        async with open_providers([config(settings)], env=env):
            pass
    problem = only_problem(caught)
    assert problem.path == "provider.type" and "BCSYNC_ALLOWED_PROVIDERS" in problem.message
    assert TOKEN not in str(caught.value)


async def test_the_allowed_provider_is_used_as_usual(tmp_path: Path) -> None:
    write_seed(tmp_path, every_kind())
    local = config(
        ProviderSettings(type=ProviderType.LOCAL, seed=str(tmp_path / "seed.yaml")),
        path=str(tmp_path / "bcsync.yaml"),
    )
    async with open_providers([local], env={"BCSYNC_ALLOWED_PROVIDERS": "tiktok,local"}) as got:
        assert BC in got
