"""Reading a BC's actual state from the emulator: every kind, both grant strategies, paging."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bcsync.core.model import AssetKey, AssetType, FinanceRole, MemberRole, MemberStatus
from bcsync.errors import AuthError, PermissionDeniedError
from bcsync.providers.base import Scope
from bcsync.providers.tiktok.read import Strategy, choose_strategy

from .conftest import World
from .world import BOB_TOKEN, OWNER, aid, every_kind, generated, uid

AD, CAT, TT, SHOP, LEAD = (
    AssetType.AD_ACCOUNT,
    AssetType.CATALOG,
    AssetType.TIKTOK_ACCOUNT,
    AssetType.SHOP,
    AssetType.LEAD_FORM,
)
DECLARED = Scope.of(
    [
        AssetKey(AD, aid(71, 1)),
        AssetKey(AD, aid(71, 2)),
        AssetKey(CAT, aid(73, 1)),
        AssetKey(TT, aid(74, 1)),
        AssetKey(SHOP, aid(75, 1)),
        AssetKey(LEAD, aid(76, 1)),
    ]
)


@pytest.mark.parametrize("strategy", [None, Strategy.PER_ASSET, Strategy.PER_MEMBER])
async def test_reads_every_kind(make_world: Callable[..., World], strategy: Strategy) -> None:
    world = make_world(every_kind())
    result = await world.provider(strategy=strategy).read_state(DECLARED)
    state = result.state
    members = {e: (m.role, m.finance_role, m.status, m.user_id) for e, m in state.members.items()}
    assert members == {
        OWNER: (MemberRole.ADMIN, FinanceRole.MANAGER, MemberStatus.BOUND, uid(1)),
        "ops@acme.example": (MemberRole.ADMIN, None, MemberStatus.BOUND, uid(2)),
        "bob@acme.example": (MemberRole.STANDARD, FinanceRole.ANALYST, MemberStatus.BOUND, uid(3)),
        "new@acme.example": (MemberRole.STANDARD, None, MemberStatus.PENDING, None),
        "no@acme.example": (MemberRole.STANDARD, None, MemberStatus.REJECTED, None),
    }
    assert set(state.assets) == DECLARED.assets
    assert state.assets[AssetKey(AD, aid(71, 1))].name == "US"
    assert result.unmanaged_assets == 1
    grants = {(str(g.asset), g.member, g.role) for g in state.grants.values()}
    assert grants == {
        (f"ad_accounts/{aid(71, 1)}", "bob@acme.example", "operator"),
        (f"catalogs/{aid(73, 1)}", "bob@acme.example", "ad_promote"),
        (f"tiktok_accounts/{aid(74, 1)}", "bob@acme.example", "live,post"),
        (f"shops/{aid(75, 1)}", "bob@acme.example", "ad_promotion"),
        (f"lead_forms/{aid(76, 1)}", "bob@acme.example", "admin"),
        (f"ad_accounts/{aid(71, 2)}", "ops@acme.example", "analyst"),
    }
    assert sorted(state.partners) == ["7200000000000000008", "7200000000000000009"]
    assert state.partners["7200000000000000009"].name == "Agency X"
    shares = {(s.partner, str(s.asset), s.role) for s in state.shares.values()}
    assert shares == {("7200000000000000009", f"ad_accounts/{aid(71, 1)}", "analyst")}
    assert state.fingerprint().startswith("sha256:")


async def test_call_count_of_the_cheapest_plan(make_world: Callable[..., World]) -> None:
    result = await make_world(every_kind()).provider().read_state(DECLARED)
    # bc/get 1, members 1, 5 asset lists, partners 1, shares 2 per shareable type (ad accounts,
    # catalogs), grants: ad accounts 2 and catalogs 1 and lead forms 1 per asset; TikTok
    # accounts 3 and shops 3 per member; asset groups 1 (a list without groups).
    assert result.calls == 1 + 1 + 5 + 1 + 2 * 2 + (2 + 1 + 1) + (3 + 3) + 1


async def test_no_declared_shareable_assets_reads_no_shares(
    make_world: Callable[..., World],
) -> None:
    world = make_world(every_kind())
    scope = Scope.of([AssetKey(TT, aid(74, 1))])
    result = await world.provider().read_state(scope)
    assert len(result.state.partners) == 2 and not result.state.shares
    assert result.unmanaged_assets == 0
    # bc, members, TikTok accounts, partners, one member's TikTok accounts per bound member (3)
    assert result.calls == 1 + 1 + 1 + 1 + 3


async def test_declared_asset_missing_from_the_bc_is_not_read(
    make_world: Callable[..., World],
) -> None:
    scope = Scope.of([AssetKey(AD, aid(71, 1)), AssetKey(AD, aid(71, 999))])
    result = await make_world(every_kind()).provider().read_state(scope)
    assert set(result.state.assets) == {AssetKey(AD, aid(71, 1))}
    assert result.unmanaged_assets == 2


@pytest.mark.parametrize(
    ("token", "kind"), [(BOB_TOKEN, PermissionDeniedError), ("nobody-x", AuthError)]
)
async def test_a_token_that_cannot_administer_the_bc_fails_clearly(
    make_world: Callable[..., World], token: str, kind: type
) -> None:
    world = make_world(every_kind())
    with pytest.raises(kind) as caught:
        await world.provider(token=token).read_state(DECLARED)
    expected = "admin of BC" if kind is PermissionDeniedError else "TIKTOK_ACCESS_TOKEN"
    assert expected in f"{caught.value.message} {caught.value.hint}"


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_both_strategies_give_identical_states(
    make_world: Callable[..., World], seed: int
) -> None:
    world = make_world(generated(members=25, grants=120, seed=seed))
    types = {t: 6 for t in ("ADVERTISER", "CATALOG", "TT_ACCOUNT", "TIKTOK_SHOP", "LEAD")}
    prefix = {"ADVERTISER": 71, "CATALOG": 73, "TT_ACCOUNT": 74, "TIKTOK_SHOP": 75, "LEAD": 76}
    model = {"ADVERTISER": AD, "CATALOG": CAT, "TT_ACCOUNT": TT, "TIKTOK_SHOP": SHOP, "LEAD": LEAD}
    # Declare 5 of each 6 assets, so undeclared grants must be left out by both strategies.
    scope = Scope.of(
        [AssetKey(model[t], aid(prefix[t], i)) for t, n in types.items() for i in range(n - 1)]
    )
    by_asset = await world.provider(strategy=Strategy.PER_ASSET).read_state(scope)
    by_member = await world.provider(strategy=Strategy.PER_MEMBER).read_state(scope)
    chosen = await world.provider().read_state(scope)
    assert by_asset.state.grants, "the world must have grants to compare"
    assert by_asset.state.canonical() == by_member.state.canonical() == chosen.state.canonical()
    assert by_asset.state.fingerprint() == by_member.state.fingerprint()
    assert chosen.calls <= min(by_asset.calls, by_member.calls)
    assert by_asset.unmanaged_assets == by_member.unmanaged_assets == 5


@pytest.mark.parametrize("members", [1, 2, 20, 21, 22, 50, 51, 52])
@pytest.mark.parametrize("strategy", [Strategy.PER_ASSET, Strategy.PER_MEMBER])
async def test_paging_at_page_boundaries(
    make_world: Callable[..., World], members: int, strategy: Strategy
) -> None:
    # Every member but the owner holds the one ad account: members-1 grants on it.
    seed = generated(members=members, pending=0, assets={"ADVERTISER": 1}, grants=10_000)
    seed["business_centers"][0]["partners"] = []
    world = make_world(seed)
    scope = Scope.of([AssetKey(AD, aid(71, 0))])
    result = await world.provider(strategy=strategy).read_state(scope)
    assert len(result.state.members) == members
    assert len(result.state.grants) == members - 1
    grant_calls = max(1, -(-(members - 1) // 20)) if strategy is Strategy.PER_ASSET else members
    # bc, members (20 a page), ad accounts, partners, grants, asset groups.
    assert result.calls == 1 + consistent(-(-members // 20)) + 1 + 1 + grant_calls + 1


def consistent(pages: int) -> int:
    """The member list's calls: each page once, and page 1 again when there are several."""
    return pages + (1 if pages > 1 else 0)


@pytest.mark.parametrize(
    ("asset_type", "declared", "bound", "expected"),
    [
        (AD, 10, 100, Strategy.PER_ASSET),
        (AD, 100, 10, Strategy.PER_MEMBER),
        (AD, 10, 10, Strategy.PER_ASSET),
        (CAT, 3, 4, Strategy.PER_ASSET),
        (LEAD, 5, 4, Strategy.PER_MEMBER),
        (TT, 1, 100, Strategy.PER_MEMBER),
        (SHOP, 1, 100, Strategy.PER_MEMBER),
    ],
)
def test_choose_strategy(
    asset_type: AssetType, declared: int, bound: int, expected: Strategy
) -> None:
    assert choose_strategy(asset_type, declared, bound) is expected
