"""Storefronts (STOREFRONT): declared, read, assigned and unassigned like every asset type."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from bcsync.config import load_strict
from bcsync.core.model import AssetKey, AssetType
from bcsync.core.operations import Assign, Unassign
from bcsync.errors import ConfigError
from bcsync.providers.base import Scope

from .conftest import World
from .world import aid, every_kind, grant, uid

STORE = AssetKey(AssetType.STOREFRONT, aid(79, 1))
BOB = "bob@acme.example"


def with_storefront() -> dict:
    seed = every_kind()
    bc = seed["business_centers"][0]
    bc["assets"]["STOREFRONT"] = [{"id": STORE.id, "name": "Front"}]
    bc["grants"].append(grant("Bob@Acme.example", "STOREFRONT", STORE.id, "MANAGER"))
    return seed


async def test_a_storefront_grant_is_read_and_changed(make_world: Callable[..., World]) -> None:
    provider = make_world(with_storefront()).provider()
    before = await provider.read_state(Scope.of([STORE]))
    assert before.state.assets[STORE].name == "Front"
    assert {(g.member, g.role) for g in before.state.grants.values()} == {(BOB, "manager")}
    await provider.write(Assign(uid(3), BOB, STORE, "ad_promotion"))
    after = await provider.read_state(Scope.of([STORE]))
    assert {(g.member, g.role) for g in after.state.grants.values()} == {(BOB, "ad_promotion")}
    await provider.write(Unassign(uid(3), BOB, STORE))
    assert not (await provider.read_state(Scope.of([STORE]))).state.grants


def test_a_config_declares_storefronts(tmp_path: Path) -> None:
    config = tmp_path / "bcsync.yaml"
    config.write_text(
        "version: 1\n"
        'business_center: { id: "7000000000000000001" }\n'
        "policy: { min_admins: 1 }\n"
        f'assets: {{ storefronts: {{ front: "{STORE.id}" }} }}\n'
        "members:\n"
        "  owner@acme.example: { role: admin }\n"
        "  bob@acme.example: { role: standard, access: { storefronts: { front: ad_promotion } } }\n"
    )
    [built] = load_strict([str(config)], now=date(2026, 12, 1)).configs
    [only] = built.desired.grants.values()
    assert (only.asset, only.member, only.role) == (STORE, BOB, "ad_promotion")


def test_a_storefront_role_outside_the_sdk_enum_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "bcsync.yaml"
    config.write_text(
        "version: 1\n"
        'business_center: { id: "7000000000000000001" }\n'
        "policy: { min_admins: 1 }\n"
        f'assets: {{ storefronts: {{ front: "{STORE.id}" }} }}\n'
        "members:\n"
        "  owner@acme.example: { role: admin }\n"
        "  bob@acme.example: { role: standard, access: { storefronts: { front: admin } } }\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_strict([str(config)], now=date(2026, 12, 1))
    assert any("storefronts" in p.path and p.line == 7 for p in caught.value.problems)
