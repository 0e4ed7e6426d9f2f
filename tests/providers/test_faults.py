"""Retries under injected throttling, 5xx, timeouts and lost responses converge to the state a
fault-free run reaches, and no invite is ever sent to an email that is already invited."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

import httpx
import pytest

from bcsync.core.model import AssetKey, AssetType, MemberRole
from bcsync.core.operations import (
    Assign,
    Invite,
    RemoveMember,
    RemovePartner,
    Share,
    Unassign,
    Unshare,
    UpdateMember,
)
from bcsync.emulator import Faults
from bcsync.errors import AmbiguousWriteError, BcsyncError
from bcsync.providers.base import Scope, WriteResult
from bcsync.providers.tiktok.client import RetryPolicy
from bcsync.providers.tiktok.provider import TikTokProvider
from bcsync.providers.tiktok.write import LOST

from .conftest import World
from .fakes import TOKEN
from .world import BC, aid, every_kind, uid

AD1, AD2, AD3 = (AssetKey(AssetType.AD_ACCOUNT, aid(71, n)) for n in (1, 2, 3))
CAT = AssetKey(AssetType.CATALOG, aid(73, 1))
SHOP = AssetKey(AssetType.SHOP, aid(75, 1))
LEAD = AssetKey(AssetType.LEAD_FORM, aid(76, 1))
SCOPE = Scope.of([AD1, AD2, AD3, CAT, SHOP, LEAD])
X, Y = "7200000000000000009", "7200000000000000008"
PATIENT = RetryPolicy(
    attempts=20, total_seconds=30, base_delay=0.001, max_delay=0.002, throttle_delay=0,
    request_timeout=0.3, settle_seconds=0.05, seed=3,
)  # fmt: skip


class InviteGuard(httpx.AsyncBaseTransport):
    """Before each invite reaches the emulator, checks none of its emails is already invited."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.world: World | None = None
        self.invited: list[str] = []
        self.violations: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path.endswith("/bc/member/invite/"):
            assert self.world is not None
            bc = next(b for b in self.world.emulator.snapshot()["business_centers"])
            live = {
                m["email"].lower()
                for m in bc["members"]
                if m.get("status", "BOUND") in ("BOUND", "PENDING")
            }
            emails = json.loads(request.content)["emails"]
            self.violations += [e for e in emails if e in live]
            self.invited += emails
        return await self.inner.handle_async_request(request)


async def workload(provider: TikTokProvider) -> list[WriteResult]:
    emails = [f"new{i}@acme.example" for i in range(60)]
    return [
        await provider.write(Invite(emails[:50], MemberRole.STANDARD, None, [AD1.id], "analyst")),
        await provider.write(Invite(emails[50:], MemberRole.ADMIN, None)),
        await provider.write(UpdateMember(uid(3), "", MemberRole.ADMIN, None)),
        await provider.write(Assign(uid(3), "", CAT, "admin")),
        await provider.write(Assign(uid(2), "", SHOP, "manager")),
        await provider.write(Assign(uid(3), "", AD1, "admin")),
        await provider.write(Unassign(uid(3), "", LEAD)),
        await provider.write(Share(Y, [AD1.id, AD2.id], "operator")),
        await provider.write(Unshare(X, AssetType.AD_ACCOUNT, [AD3.id])),
        await provider.write(RemoveMember("new@acme.example", None)),
        await provider.write(RemovePartner(X)),
        await provider.write(RemoveMember("", uid(2))),
    ]


async def reference_state(make_world: Callable[..., World]) -> dict[str, object]:
    world = make_world(every_kind())
    await workload(world.provider())
    return (await world.provider().read_state(SCOPE)).state.canonical()


@pytest.mark.parametrize("seed", [11, 12, 13])
async def test_writes_converge_under_faults(
    make_world: Callable[..., World], seed: int, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    expected = await reference_state(make_world)
    guard: InviteGuard | None = None

    def wrap(inner: httpx.AsyncBaseTransport) -> InviteGuard:
        nonlocal guard
        guard = InviteGuard(inner)
        return guard

    faults = Faults(
        throttle_rate=0.15, error_5xx_rate=0.15, timeout_rate=0.05, lost_response_rate=0.3,
        hang_seconds=0.01, seed=seed,
    )  # fmt: skip
    world = make_world(every_kind(), wrap=wrap, faults=faults)
    assert guard is not None
    guard.world = world
    provider = world.provider(retry=PATIENT)
    results = await workload(provider)
    during = await provider.read_state(SCOPE)
    world.emulator.set_faults(Faults())
    after = await world.provider().read_state(SCOPE)

    assert after.state.canonical() == expected
    assert during.state.canonical() == expected
    assert guard.violations == []
    assert set(guard.invited) == {f"new{i}@acme.example" for i in range(60)}
    assert world.emulator.stats()["throttled"] > 0
    assert any(r.note == LOST for r in results), "no write met an ambiguous failure"
    assert all(r.request_ids or r.note == LOST for r in results)
    assert TOKEN not in caplog.text


async def test_a_hang_longer_than_the_deadline_is_verified(
    make_world: Callable[..., World],
) -> None:
    faults = Faults(timeout_rate=1.0, hang_seconds=10.0)
    world = make_world(every_kind(), faults=faults)
    retry = RetryPolicy(
        attempts=2, base_delay=0.001, throttle_delay=0, request_timeout=0.05, settle_seconds=0
    )
    with pytest.raises(AmbiguousWriteError, match="checking what happened failed") as caught:
        await world.provider(retry=retry).write(
            Invite(["z@acme.example"], MemberRole.STANDARD, None)
        )
    assert caught.value.exit_code == 1


async def test_lost_responses_are_verified_not_resent(make_world: Callable[..., World]) -> None:
    world = make_world(every_kind(), faults=Faults(lost_response_rate=1.0))
    provider = world.provider(retry=PATIENT)
    result = await provider.write(Invite(["z@acme.example"], MemberRole.STANDARD, None))
    assert result.note == LOST and result.request_ids == ()
    stats = world.emulator.stats()["by_endpoint"]
    assert stats["/open_api/v1.3/bc/member/invite/"] == 1


async def test_persistent_5xx_on_a_write_ends_ambiguous(make_world: Callable[..., World]) -> None:
    world = make_world(every_kind(), faults=Faults(error_5xx_rate=1.0))
    retry = RetryPolicy(attempts=3, base_delay=0.001, throttle_delay=0, settle_seconds=0.02)
    with pytest.raises(AmbiguousWriteError) as caught:
        await world.provider(retry=retry).write(Assign(uid(3), "", CAT, "admin"))
    assert isinstance(caught.value, BcsyncError) and TOKEN not in str(caught.value)


async def test_reads_converge_under_faults(make_world: Callable[..., World]) -> None:
    clean = await make_world(every_kind()).provider().read_state(SCOPE)
    faults = Faults(throttle_rate=0.3, error_5xx_rate=0.2, timeout_rate=0.1, hang_seconds=0.01)
    world = make_world(every_kind(), faults=faults)
    noisy = await world.provider(retry=PATIENT).read_state(SCOPE)
    assert noisy.state.fingerprint() == clean.state.fingerprint()
    assert noisy.calls > clean.calls
    assert world.emulator.stats()["total"] == noisy.calls
    assert BC in noisy.state.bc_id


# ---- read lag: a lost answer is settled by reading until the write shows (issue 23) -----------

LAGGED = RetryPolicy(
    attempts=4, base_delay=0.02, max_delay=0.05, throttle_delay=0, request_timeout=1.0,
    settle_seconds=3.0, seed=5,
)  # fmt: skip


def writes_to(world: World, path: str) -> int:
    return int(world.emulator.stats()["by_endpoint"].get(f"/open_api/v1.3/{path}", 0))


async def test_a_lost_invitation_is_read_back_through_the_lag_never_sent_twice(
    make_world: Callable[..., World],
) -> None:
    world = make_world(every_kind(), faults=Faults(lost_response_rate=1.0), read_lag=0.3)
    result = await world.provider(retry=LAGGED).write(
        Invite(("z@acme.example",), MemberRole.STANDARD, None)
    )
    assert result.note == LOST
    assert writes_to(world, "bc/member/invite/") == 1


async def test_a_lost_removal_is_read_back_through_the_lag(
    make_world: Callable[..., World],
) -> None:
    world = make_world(every_kind(), faults=Faults(lost_response_rate=1.0), read_lag=0.3)
    result = await world.provider(retry=LAGGED).write(RemoveMember("user2@acme.example", uid(2)))
    assert result.note == LOST
    assert writes_to(world, "bc/member/delete/") == 1


async def test_a_removal_sent_again_and_not_found_took_effect(
    make_world: Callable[..., World],
) -> None:
    """No time to settle: the read still shows the member, the resend meets "not found"."""
    world = make_world(every_kind(), faults=Faults(lost_response_rate=1.0), read_lag=60)
    impatient = RetryPolicy(attempts=3, base_delay=0.001, throttle_delay=0, settle_seconds=0)
    result = await world.provider(retry=impatient).write(RemoveMember("user2@acme.example", uid(2)))
    assert result.note == LOST
    assert writes_to(world, "bc/member/delete/") == 2


class DropFirstWrite(httpx.AsyncBaseTransport):
    """The first POST never reaches the API: the gateway answers 502 and nothing commits."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.dropped = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and not self.dropped:
            self.dropped = True
            return httpx.Response(502, text="<html>502 Bad Gateway</html>")
        return await self.inner.handle_async_request(request)


async def test_an_unseen_write_is_read_back_until_the_settle_time_then_sent_again(
    make_world: Callable[..., World],
) -> None:
    world = make_world(every_kind(), wrap=DropFirstWrite)
    policy = RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.02, settle_seconds=0.2)
    result = await world.provider(retry=policy).write(
        Invite(("z@acme.example",), MemberRole.STANDARD, None)
    )
    assert result.request_ids  # the second invitation was answered
    assert writes_to(world, "bc/member/invite/") == 1  # the first never arrived
    assert writes_to(world, "bc/member/get/") > 2  # read back several times before resending


async def test_a_check_whose_list_moves_is_read_again_not_failed(
    make_world: Callable[..., World],
) -> None:
    """This apply's other writes move the member list while a lost removal is checked."""
    from bcsync.emulator.lag import AfterPage

    from .world import BC, OWNER, generated

    world = make_world(generated(members=50, pending=0, partners=0))
    world.emulator.set_faults(Faults(lost_response_rate=1.0))
    invite = {"path": "bc/member/invite/", "body": {"bc_id": BC, "asset_ids": []}}
    for i in range(4):  # more moves than one check's three reads
        body = {**invite["body"], "emails": [f"busy{i}@acme.example"]}
        world.emulator.after_page.append(AfterPage(MEMBERS, 1, OWNER, ({**invite, "body": body},)))
    policy = RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.02, settle_seconds=5)
    result = await world.provider(retry=policy).write(RemoveMember("user2@acme.example", uid(2)))
    assert result.note == LOST
    assert writes_to(world, "bc/member/delete/") == 1


MEMBERS = "bc/member/get/"
