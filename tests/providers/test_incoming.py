"""Incoming assets: what partners share with this BC is not owned, unmanaged or exported."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import httpx
import pytest
from variant import each_item, on, reshaped

from bcsync.adoption.export import ExportOptions, export_config
from bcsync.core.incoming import IncomingShare
from bcsync.core.model import AssetKey, AssetType
from bcsync.errors import ExitCode
from bcsync.providers.base import AssetPartner, Scope
from bcsync.providers.tiktok.shapes import ShapeError

from .conftest import World
from .world import BC, aid, every_kind

AGENCY = "7000000000000000002"
THEIRS = AssetKey(AssetType.AD_ACCOUNT, aid(71, 9))
OURS = AssetKey(AssetType.AD_ACCOUNT, aid(71, 1))


def shared_in() -> dict[str, Any]:
    """every_kind, plus an agency BC (administered by the same owner) sharing an ad account."""
    seed = every_kind()
    seed["business_centers"].append(
        {
            "bc_id": AGENCY,
            "name": "Agency Z",
            "members": [{"email": "owner@acme.example", "role": "ADMIN"}],
            "assets": {"ADVERTISER": [{"id": THEIRS.id, "name": "Agency account"}]},
            "partners": [
                {
                    "bc_id": BC,
                    "shares": [
                        {"asset_type": "ADVERTISER", "asset_id": THEIRS.id, "role": "ADMIN"}
                    ],
                }
            ],
        }
    )
    return seed


async def test_a_shared_in_asset_is_incoming_not_unmanaged(
    make_world: Callable[..., World],
) -> None:
    result = await make_world(shared_in()).provider().read_state(Scope.of([OURS]))
    assert [a.key for a in result.incoming] == [THEIRS]
    assert result.incoming[0].name == "Agency account"
    assert THEIRS not in {a.key for a in result.unmanaged}
    assert result.unmanaged  # the BC's own undeclared assets still are
    assert THEIRS not in result.state.assets


async def test_a_declared_incoming_asset_is_read_like_any_declared_one(
    make_world: Callable[..., World],
) -> None:
    result = await make_world(shared_in()).provider().read_state(Scope.of([OURS, THEIRS]))
    assert result.state.assets[THEIRS].incoming
    assert THEIRS not in {a.key for a in result.incoming}


async def test_export_adopts_only_owned_assets(make_world: Callable[..., World]) -> None:
    from bcsync.adoption.adopt import read_whole

    snapshot = await read_whole(make_world(shared_in()).provider())
    assert THEIRS not in snapshot.state.assets and OURS in snapshot.state.assets
    assert THEIRS.id not in export_config(snapshot.state, ExportOptions())


AGENCY_X = "7200000000000000009"
PIXEL = AssetKey(AssetType.PIXEL, aid(77, 1))
CATALOG = AssetKey(AssetType.CATALOG, aid(73, 1))


def with_pixel_share() -> dict[str, Any]:
    """shared_in, plus a pixel of ours shared with Agency X (listed by asset/partner/get)."""
    seed = shared_in()
    ours = seed["business_centers"][0]
    ours["assets"]["PIXEL"] = [{"id": PIXEL.id, "name": "Site"}]
    ours["partners"][0]["shares"].append({"asset_type": "PIXEL", "asset_id": PIXEL.id})
    return seed


async def test_an_expected_partner_s_share_is_read_with_its_role(
    make_world: Callable[..., World],
) -> None:
    scope = replace(Scope.of([OURS]), incoming=frozenset({AGENCY}))
    result = await make_world(shared_in()).provider().read_state(scope)
    assert result.incoming_shares == (IncomingShare(AGENCY, THEIRS, "admin"),)
    assert result.incoming_shares[0].asset_name == "Agency account"


async def test_a_share_no_partner_list_names_is_still_reported_without_a_partner(
    make_world: Callable[..., World],
) -> None:
    # TikTok's partner list of this BC does not name the agency that shares with it.
    result = await make_world(shared_in()).provider().read_state(Scope.of([OURS]))
    assert result.incoming_shares == (IncomingShare("", THEIRS, None),)


async def test_nothing_shared_in_is_an_empty_read(make_world: Callable[..., World]) -> None:
    result = await make_world(every_kind()).provider().read_state(Scope.of([OURS]))
    assert result.incoming_shares == ()


async def test_whom_an_asset_is_shared_with_for_every_type(
    make_world: Callable[..., World],
) -> None:
    scope = replace(Scope.of([OURS, PIXEL, CATALOG]), asset_partners=True)
    result = await make_world(with_pixel_share()).provider().read_state(scope)
    assert result.asset_partners == (AssetPartner(PIXEL, AGENCY_X, "Agency X"),)
    # Ad accounts' shares come with their roles from partner/asset/get, as before.
    assert result.state.shares[(AGENCY_X, OURS)].role == "analyst"


async def test_asset_partners_are_read_for_reports_only(
    make_world: Callable[..., World],
) -> None:
    result = await make_world(with_pixel_share()).provider().read_state(Scope.of([OURS, PIXEL]))
    assert result.asset_partners == ()


@pytest.mark.parametrize(
    ("edit", "key", "found"),
    [
        (lambda item: item.pop("advertiser_role"), "data.list[0].advertiser_role", "missing"),
        (lambda item: item.__setitem__("advertiser_role", "OWNER"),
         "data.list[0].advertiser_role", "unknown value 'OWNER'"),
        (lambda item: item.__setitem__("id", item.pop("asset_id")), "data.list[0].asset_id",
         "missing"),
    ],
)  # fmt: skip
async def test_an_incoming_answer_of_another_shape_fails_closed(
    make_world: Callable[..., World], edit: Callable[[dict[str, Any]], Any], key: str, found: str
) -> None:
    # Only catalogs are declared: the one ad-account list read is the partner's SHARED one.
    rewrite = on("bc/partner/asset/get/", each_item("list", edit))
    world = make_world(
        shared_in(), wrap=lambda inner: httpx.ASGITransport(app=reshaped(inner.app, rewrite))
    )
    scope = replace(Scope.of([CATALOG]), incoming=frozenset({AGENCY}))
    with pytest.raises(ShapeError) as caught:
        await world.provider().read_state(scope)
    err = caught.value
    assert err.exit_code == ExitCode.RUNTIME
    assert (err.endpoint, err.key) == ("GET /bc/partner/asset/get/", key)
    assert err.request_id and err.request_id in err.message
    assert f"{key}: {found}" in err.message
