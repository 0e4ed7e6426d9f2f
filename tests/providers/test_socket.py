"""End to end over a real loopback socket: the emulator under uvicorn on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from variant import serve

from bcsync.core.model import AssetKey, AssetType, MemberRole, MemberStatus, ProviderSettings
from bcsync.core.model import ProviderType as Kind
from bcsync.core.operations import Invite
from bcsync.emulator import create_app
from bcsync.providers import Scope
from bcsync.providers.factory import open_providers

from .fakes import TOKEN
from .test_factory import config
from .world import BC, aid, every_kind

AD1 = AssetKey(AssetType.AD_ACCOUNT, aid(71, 1))


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    """The emulator on a free port of 127.0.0.1; stopped (bounded) after the test."""
    with serve(create_app(tmp_path / "socket.db", seed=every_kind())) as url:
        yield url


async def test_read_and_write_over_loopback(served: str) -> None:
    settings = ProviderSettings(type=Kind.EMULATOR, url=served, qps=100)
    env = {"BCSYNC_EMULATOR_TOKEN": TOKEN}
    async with open_providers([config(settings)], env=env) as found:
        provider = found[BC]
        before = await provider.read_state(Scope.of([AD1]))
        result = await provider.write(Invite(["wire@acme.example"], MemberRole.STANDARD, None))
        after = await provider.read_state(Scope.of([AD1]))
    assert len(before.state.members) == 5 and before.state.grants
    assert len(result.request_ids) == 1 and result.request_ids[0]
    assert after.state.members["wire@acme.example"].status is MemberStatus.PENDING
    assert after.state.fingerprint() != before.state.fingerprint()
