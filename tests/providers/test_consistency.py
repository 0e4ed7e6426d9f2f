"""Lists that change while they are read, and members who vanish during a read (issue 23).

Other admins keep working while bcsync reads. The emulator's after-page hook makes their changes
between two pages of a list, through the API, as a member of the BC would.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from bcsync.core.model import AssetKey, AssetType, MemberStatus
from bcsync.providers.base import Scope
from bcsync.providers.tiktok.paging import IncompleteReadError
from bcsync.providers.tiktok.read import Strategy, fetch_members

from .conftest import World
from .world import BC, OWNER, aid, generated, uid

MEMBERS = "bc/member/get/"


def hook(page: int, *calls: dict[str, Any], path: str = MEMBERS) -> Any:
    from bcsync.emulator.lag import AfterPage

    return AfterPage(path, page, OWNER, tuple(calls))


def remove(user_id: str) -> dict[str, Any]:
    return {"path": "bc/member/delete/", "body": {"bc_id": BC, "user_id": user_id}}


def invite(email: str) -> dict[str, Any]:
    return {"path": "bc/member/invite/", "body": {"bc_id": BC, "emails": [email], "asset_ids": []}}


def live_members(world: World) -> set[str]:
    (center,) = [b for b in world.emulator.snapshot()["business_centers"] if b["bc_id"] == BC]
    return {m["email"] for m in center["members"]}


@pytest.fixture
def world(make_world: Callable[..., World]) -> World:
    return make_world(generated(members=50, pending=0, partners=0))  # 3 pages of 20


async def test_a_page_shift_that_keeps_the_count_is_read_again(world: World) -> None:
    """The issue's case: a member on page 1 goes, another is invited, while page 2 is read."""
    world.emulator.after_page.append(hook(1, remove(uid(2)), invite("late@acme.example")))
    client = world.client()
    with client.tally() as tally:
        members = await fetch_members(client, BC)
    assert set(members) == live_members(world)  # nobody who was there throughout is missing
    assert "user2@acme.example" not in members and "late@acme.example" in members
    # Read once (3 pages + page 1 again), found moved, read again (3 + 1).
    assert tally.calls == 8


async def test_a_quiet_list_costs_one_call_more_than_its_pages(world: World) -> None:
    client = world.client()
    with client.tally() as tally:
        members = await fetch_members(client, BC)
    assert len(members) == 50 and tally.calls == 3 + 1


async def test_a_list_that_never_holds_still_is_refused_by_name(world: World) -> None:
    world.emulator.after_page.extend(hook(1, invite(f"n{i}@acme.example")) for i in range(10))
    with pytest.raises(IncompleteReadError) as caught:
        await fetch_members(world.client(), BC)
    err = caught.value
    assert err.exit_code == 1 and err.endpoint == "GET /bc/member/get/"
    assert "changed while being read, 3 times" in err.message


async def test_an_insertion_that_lists_an_item_twice_is_read_again(
    make_world: Callable[..., World],
) -> None:
    """Someone joins at the front of page 2 while it is read: the list shifts the other way."""
    world = make_world(generated(members=50, pending=0, partners=0))
    # Removing from page 1 and re-inviting at the end keeps the count and shifts page 2 back.
    world.emulator.after_page.append(hook(2, remove(uid(3)), invite("x@acme.example")))
    members = await fetch_members(world.client(), BC)
    assert set(members) == live_members(world)


async def test_a_member_who_leaves_during_the_read_is_planned_from_what_is_there(
    make_world: Callable[..., World],
) -> None:
    """Removed by someone else between the member list and the read of their grants."""
    world = make_world(generated(members=10, pending=0, partners=0, assets={"TT_ACCOUNT": 2}))
    gone = uid(4)
    world.emulator.after_page.append(hook(1, remove(gone)))
    scope = Scope.of([AssetKey(AssetType.TIKTOK_ACCOUNT, aid(74, i)) for i in range(2)])
    result = await world.provider(strategy=Strategy.PER_MEMBER).read_state(scope)
    emails = {m.email for m in result.state.members.values()}
    assert "user4@acme.example" not in emails
    assert emails == live_members(world)
    assert all(g.member != "user4@acme.example" for g in result.state.grants.values())
    assert all(m.status is MemberStatus.BOUND for m in result.state.members.values())


async def test_any_list_that_lists_an_item_twice_is_read_again() -> None:
    """Without the first-page check too: an addition before the offset repeats an item."""
    from .fakes import FakeApi, envelope, params

    reads = {"n": 0}
    # Items in the shape bcsync reads from asset/member/get (shapes.py checks every answer).
    items = [{"user_id": str(6900000000000000000 + i)} for i in range(30)]

    def shifting(request: Any) -> Any:
        page = int(params(request)["page"])
        if page == 1:
            reads["n"] += 1
        shifted = reads["n"] == 1 and page == 2  # the first read's page 2 starts one back
        start = 19 if shifted else (page - 1) * 20
        chunk = items[start : start + 20]
        if shifted:
            chunk = chunk[:-1] if len(chunk) > 10 else chunk
        info = {"page": page, "page_size": 20, "total_number": 30, "total_page": 2}
        return envelope(data={"list": chunk, "page_info": info})

    api = FakeApi(shifting)
    listing = await api.client().get_all("bc/asset/member/get/", {}, page_size=20)
    assert listing.items == items
    assert len(api.requests) == 4  # two pages, twice; no first-page check for this list
