"""Each write and its effect on the emulator, read back through the provider."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from bcsync.core.model import AssetKey, AssetType, FinanceRole, MemberRole, MemberStatus
from bcsync.core.operations import (
    PARAMS_OF,
    Assign,
    Invite,
    RemoveMember,
    RemovePartner,
    Share,
    Unassign,
    Unshare,
    UpdateMember,
)
from bcsync.errors import NotFoundError
from bcsync.providers.base import Scope
from bcsync.providers.tiktok.write import WRITERS

from .conftest import World
from .world import BC, aid, every_kind, uid

AD1, AD2, AD3 = (AssetKey(AssetType.AD_ACCOUNT, aid(71, n)) for n in (1, 2, 3))
CAT = AssetKey(AssetType.CATALOG, aid(73, 1))
TT = AssetKey(AssetType.TIKTOK_ACCOUNT, aid(74, 1))
SHOP = AssetKey(AssetType.SHOP, aid(75, 1))
LEAD = AssetKey(AssetType.LEAD_FORM, aid(76, 1))
SCOPE = Scope.of([AD1, AD2, AD3, CAT, TT, SHOP, LEAD])
X, Y = "7200000000000000009", "7200000000000000008"
BOB, OPS = uid(3), uid(2)


@pytest.fixture
def world(make_world: Callable[..., World]) -> World:
    return make_world(every_kind())


async def roles(world: World) -> dict[tuple[str, str], str]:
    state = (await world.provider().read_state(SCOPE)).state
    return {(str(g.asset), g.member): g.role for g in state.grants.values()}


async def test_invite_with_ad_accounts(world: World) -> None:
    provider = world.provider()
    result = await provider.write(
        Invite(
            ["Carol@Acme.example", "dan@acme.example"],
            MemberRole.STANDARD,
            FinanceRole.ANALYST,
            ad_accounts=[AD1.id, AD2.id],
            advertiser_role="operator",
        )
    )
    assert len(result.request_ids) == 1 and result.note is None
    state = (await provider.read_state(SCOPE)).state
    carol = state.members["carol@acme.example"]
    assert (carol.status, carol.role, carol.finance_role) == (
        MemberStatus.PENDING,
        MemberRole.STANDARD,
        FinanceRole.ANALYST,
    )
    world.emulator.accept_invitation(BC, "carol@acme.example")
    assert (await roles(world))[(str(AD2), "carol@acme.example")] == "operator"


@pytest.mark.parametrize("count", [0, 51])
async def test_invite_batch_limits(world: World, count: int) -> None:
    emails = [f"u{i}@acme.example" for i in range(count)]
    with pytest.raises(ValueError):
        await world.provider().write(Invite(emails, MemberRole.STANDARD, None))


async def test_update_member_sets_a_finance_role_and_never_clears_one(world: World) -> None:
    provider = world.provider()
    # None leaves bob's finance role (analyst) alone: the API has no value that clears it.
    await provider.write(UpdateMember(BOB, "", MemberRole.ADMIN, None))
    bob = (await provider.read_state(SCOPE)).state.members["bob@acme.example"]
    assert (bob.role, bob.finance_role) == (MemberRole.ADMIN, FinanceRole.ANALYST)
    await provider.write(UpdateMember(BOB, "", MemberRole.STANDARD, FinanceRole.MANAGER))
    bob = (await provider.read_state(SCOPE)).state.members["bob@acme.example"]
    assert (bob.role, bob.finance_role) == (MemberRole.STANDARD, FinanceRole.MANAGER)


async def test_remove_member_and_revoke_invitation(world: World) -> None:
    provider = world.provider()
    assert (await provider.write(RemoveMember("", BOB))).request_ids
    assert (await provider.write(RemoveMember("New@acme.example", None))).request_ids
    members = (await provider.read_state(SCOPE)).state.members
    assert "bob@acme.example" not in members and "new@acme.example" not in members
    with pytest.raises(ValueError):
        await provider.write(RemoveMember("", None))


@pytest.mark.parametrize(
    ("user", "asset", "role"),
    [
        (OPS, CAT, "admin"),
        (BOB, AD1, "admin"),  # a role change is an assign with the new role
        (BOB, TT, "direct_message,live,post"),
        (OPS, SHOP, "manager"),
        (OPS, LEAD, "admin"),
    ],
)
async def test_assign(world: World, user: str, asset: AssetKey, role: str) -> None:
    await world.provider().write(Assign(user, "", asset, role))
    email = "bob@acme.example" if user == BOB else "ops@acme.example"
    assert (await roles(world))[(str(asset), email)] == role


async def test_unassign(world: World) -> None:
    await world.provider().write(Unassign(BOB, "", CAT))
    assert (str(CAT), "bob@acme.example") not in await roles(world)


async def test_assign_to_unknown_member_is_not_found(world: World) -> None:
    with pytest.raises(NotFoundError):
        await world.provider().write(Assign(uid(99), "", AD1, "analyst"))


async def test_share_unshare_and_remove_partner(world: World) -> None:
    provider = world.provider()
    await provider.write(Share(Y, [AD1.id, AD2.id], "operator"))
    await provider.write(Share(X, [AD1.id], "admin"))  # replaces X's analyst role
    state = (await provider.read_state(SCOPE)).state
    shares = {(s.partner, s.asset.id): s.role for s in state.shares.values()}
    assert shares == {
        (Y, AD1.id): "operator",
        (Y, AD2.id): "operator",
        (X, AD1.id): "admin",
        (X, AD3.id): "admin",
    }
    await provider.write(Unshare(Y, AssetType.AD_ACCOUNT, [AD2.id]))
    await provider.write(RemovePartner(X))
    state = (await provider.read_state(SCOPE)).state
    assert sorted(state.partners) == [Y]
    assert {(s.partner, s.asset.id) for s in state.shares.values()} == {(Y, AD1.id)}


async def test_share_batch_limit(world: World) -> None:
    with pytest.raises(ValueError):
        await world.provider().write(Share(Y, [str(n) for n in range(51)], "analyst"))


def test_every_operation_has_exactly_one_writer() -> None:
    """One dispatch table: a new operation without a writer fails here, not in production."""
    assert set(WRITERS) == set(PARAMS_OF.values())


async def test_a_parameters_type_without_a_writer_is_refused(world: World) -> None:
    @dataclass(frozen=True)
    class Unknown:
        op = "unknown"

    with pytest.raises(TypeError, match="no writer for Unknown"):
        await world.provider().write(Unknown())  # type: ignore[arg-type]
