"""The access token never shows: not in logs, output, exception messages, hints or reprs."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bcsync.core.model import AssetKey, AssetType, MemberRole, ProviderSettings, ProviderType
from bcsync.core.operations import Assign, Invite, Share, UpdateMember
from bcsync.emulator import Faults
from bcsync.errors import BcsyncError
from bcsync.providers import Scope
from bcsync.providers.factory import _endpoint, open_providers
from bcsync.providers.tiktok.client import RetryPolicy

from .conftest import World
from .fakes import TOKEN
from .test_factory import config, write_seed
from .world import every_kind, uid

AD1 = AssetKey(AssetType.AD_ACCOUNT, "7100000000000000001")
QUICK = RetryPolicy(
    attempts=3, base_delay=0.001, throttle_delay=0, request_timeout=0.2, settle_seconds=0, seed=1
)


def texts_of(err: BaseException) -> list[str]:
    texts = [str(err), repr(err), str(getattr(err, "hint", "")), repr(vars(err))]
    if err.__cause__ is not None:
        texts += texts_of(err.__cause__)
    return texts


async def test_token_never_shows(
    make_world: Callable[..., World],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)  # httpx's request lines included
    seen: list[str] = []
    faults = Faults(
        throttle_rate=0.2, error_5xx_rate=0.2, timeout_rate=0.1, lost_response_rate=0.3,
        hang_seconds=0.01, seed=5,
    )  # fmt: skip
    world = make_world(every_kind(), faults=faults)
    provider = world.provider(retry=QUICK)
    seen += [repr(provider), repr(provider.client), repr(provider.client.limiter)]
    attempts = [
        provider.read_state(Scope.of([AD1])),
        provider.write(Invite(["a@acme.example", "b@acme.example"], MemberRole.STANDARD, None)),
        provider.write(Invite(["not-an-email"], MemberRole.STANDARD, None)),  # 40002
        provider.write(Assign(uid(99), "", AD1, "admin")),  # 40007
        provider.write(UpdateMember(uid(3), "", MemberRole.ADMIN, None)),
        provider.write(Share("7200000000000000008", [AD1.id], "analyst")),
    ]
    for attempt in attempts:
        try:
            seen.append(repr(await attempt))
        except BcsyncError as err:
            seen += texts_of(err)
    assert any("40002" in text for text in seen), "the failing calls must have failed"

    # The factory's own objects. The local provider reads no variable: an exported token is
    # neither used nor shown, and a token with a character a header can't carry is never echoed.
    write_seed(tmp_path, every_kind())
    local = config(
        ProviderSettings(type=ProviderType.LOCAL, seed=str(tmp_path / "seed.yaml")),
        path=str(tmp_path / "bcsync.yaml"),
    )
    env = {"TIKTOK_ACCESS_TOKEN": TOKEN + "-revoked"}
    async with open_providers([local], env=env) as providers:
        apps: dict[Path, Any] = {}
        seen += [repr(providers), repr(_endpoint(local, env, apps, None))]
        await providers[local.bc_id].read_state(Scope.of([AD1]))
        for app in apps.values():
            app.state.emulator.close()
    tiktok = config(ProviderSettings(type=ProviderType.TIKTOK))
    for bad in (TOKEN + "\n", TOKEN[:8] + "\u200b" + TOKEN[8:], TOKEN + " "):
        with pytest.raises(BcsyncError) as caught:
            async with open_providers([tiktok], env={"TIKTOK_ACCESS_TOKEN": bad}):
                pass
        seen += texts_of(caught.value)
        logging.getLogger("bcsync").exception("as a caller might log it", exc_info=caught.value)

    out, errors = capsys.readouterr()
    seen += [out, errors, caplog.text]
    leaks = [text for text in seen if TOKEN in text]
    assert leaks == []
    assert "HTTP Request" in caplog.text  # the logs were really captured
