"""Member writes and invitations: invite, update, delete, limits, accept / decline, auto-accept."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import httpx
import pytest

from bcsync.emulator import EmulatorError, create_app

from .world import (
    AD1,
    AD2,
    AD3,
    BC,
    BOB,
    OTHER_AD,
    OTHER_BC,
    OUTSIDER,
    call,
    client_for,
    fails,
    members,
    ok,
)


async def test_invite_creates_pending_members(client: httpx.AsyncClient) -> None:
    await ok(
        client, "POST", "bc/member/invite/", asset_ids=[], bc_id=BC,
        emails=["New@Test.example", "two@test.example"], user_role="ADMIN",
        ext_user_role={"finance_role": "ANALYST"},
    )  # fmt: skip
    new = (await members(client))["new@test.example"]
    assert new == {
        "user_id": "",
        "user_name": "",
        "user_email": "new@test.example",
        "user_role": "ADMIN",
        "relation_status": "PENDING",
        "ext_user_role": {"finance_role": "ANALYST"},
    }


async def test_invite_defaults_to_standard_without_grants(client: httpx.AsyncClient) -> None:
    await ok(
        client, "POST", "bc/member/invite/", asset_ids=[], bc_id=BC, emails=["plain@test.example"]
    )
    assert (await members(client))["plain@test.example"]["user_role"] == "STANDARD"
    data = await ok(
        client, "GET", "bc/asset/get/", bc_id=BC, asset_type="ADVERTISER",
        filtering={"user_email": "plain@test.example"},
    )  # fmt: skip
    assert data["list"] == []


async def test_invite_carries_ad_account_grants_with_one_role(client: httpx.AsyncClient) -> None:
    await ok(
        client, "POST", "bc/member/invite/", bc_id=BC, emails=["g@test.example"],
        asset_type="ADVERTISER", asset_ids=[AD1, AD2], advertiser_role="OPERATOR",
    )  # fmt: skip
    data = await ok(
        client, "GET", "bc/asset/get/", bc_id=BC, asset_type="ADVERTISER",
        filtering={"user_email": "g@test.example"},
    )  # fmt: skip
    assert {(a["asset_id"], a["advertiser_role"]) for a in data["list"]} == {
        (AD1, "OPERATOR"),
        (AD2, "OPERATOR"),
    }


async def test_invite_ignores_already_invited_and_joined_emails(
    client: httpx.AsyncClient,
) -> None:
    before = await members(client)
    await ok(
        client, "POST", "bc/member/invite/", asset_ids=[], bc_id=BC,
        emails=["pending@test.example", "BOB@test.example", "fresh@test.example"],
        user_role="ADMIN",
    )  # fmt: skip
    after = await members(client)
    assert set(after) - set(before) == {"fresh@test.example"}
    assert after["pending@test.example"] == before["pending@test.example"]  # role unchanged
    assert after["bob@test.example"] == before["bob@test.example"]


@pytest.mark.parametrize(
    ("params", "code", "fragment"),
    [
        ({}, 40002, "emails"),
        ({"emails": []}, 40002, "emails"),
        ({"emails": [f"u{i}@x.example" for i in range(51)]}, 40002, "between 1 and 50"),
        ({"emails": ["ok@x.example", "not-an-email"]}, 40002, "emails[1]"),
        ({"emails": ["a@x.example"], "user_role": "OWNER"}, 40002, "user_role"),
        ({"emails": ["a@x.example"], "ext_user_role": {"finance_role": "BOSS"}}, 40002,
         "ext_user_role.finance_role"),
        ({"emails": ["a@x.example"], "asset_type": "CATALOG"}, 40002, "asset_type"),
        ({"emails": ["a@x.example"], "asset_ids": [AD1], "advertiser_role": "AD_PROMOTE"}, 40002,
         "advertiser_role"),
        ({"emails": ["a@x.example"], "asset_ids": [f"71{i}" for i in range(51)]}, 40002,
         "asset_ids"),
        ({"emails": ["a@x.example"], "asset_ids": [OTHER_AD]}, 40007, OTHER_AD),
    ],
)  # fmt: skip
async def test_invite_errors_change_nothing(
    client: httpx.AsyncClient, params: dict[str, Any], code: int, fragment: str
) -> None:
    before = await members(client)
    body = {"asset_ids": [], **params}
    message = await fails(client, "POST", "bc/member/invite/", code, bc_id=BC, **body)
    assert fragment in message
    assert await members(client) == before


async def test_invite_accepts_fifty_emails(client: httpx.AsyncClient) -> None:
    emails = [f"u{i}@fifty.example" for i in range(50)]
    await ok(client, "POST", "bc/member/invite/", asset_ids=[], bc_id=BC, emails=emails)
    assert len(await members(client)) == 6 + 50


async def test_at_most_twenty_admins(client: httpx.AsyncClient) -> None:
    emails = [f"a{i}@admins.example" for i in range(18)]  # 2 admins in the seed
    await ok(
        client,
        "POST",
        "bc/member/invite/",
        asset_ids=[],
        bc_id=BC,
        emails=emails,
        user_role="ADMIN",
    )
    message = await fails(
        client, "POST", "bc/member/invite/", 40002, asset_ids=[], bc_id=BC,
        emails=["one@more.example"],
        user_role="ADMIN",
    )  # fmt: skip
    assert message.startswith("user_role:") and "20" in message
    message = await fails(
        client, "POST", "bc/member/update/", 40002, bc_id=BC, user_id=BOB, user_role="ADMIN"
    )
    assert message.startswith("user_role:")
    # standard members are still welcome
    await ok(
        client, "POST", "bc/member/invite/", asset_ids=[], bc_id=BC, emails=["one@more.example"]
    )


async def test_at_most_four_thousand_members(tmp_path: Path, seed: dict[str, Any]) -> None:
    bc = seed["business_centers"][0]
    bc["members"] += [
        {"email": f"m{i}@many.example", "role": "STANDARD", "status": "PENDING"}
        for i in range(4000 - len(bc["members"]) - 2)
    ]
    app = create_app(tmp_path / "many.db", seed)
    try:
        async with client_for(app) as client:
            two = ["x1@last.example", "x2@last.example"]
            await ok(client, "POST", "bc/member/invite/", asset_ids=[], bc_id=BC, emails=two)
            message = await fails(
                client,
                "POST",
                "bc/member/invite/",
                40002,
                asset_ids=[],
                bc_id=BC,
                emails=["x3@last.example"],
            )
            assert message.startswith("emails:") and "4000" in message
    finally:
        app.state.emulator.close()


async def test_update_changes_role_finance_role_and_name(client: httpx.AsyncClient) -> None:
    await ok(
        client, "POST", "bc/member/update/", bc_id=BC, user_id=BOB, user_role="ADMIN",
        user_name="Robert", ext_user_role={"finance_role": "MANAGER"},
    )  # fmt: skip
    bob = (await members(client))["bob@test.example"]
    assert (bob["user_role"], bob["user_name"], bob["ext_user_role"]) == (
        "ADMIN",
        "Robert",
        {"finance_role": "MANAGER"},
    )


@pytest.mark.parametrize(
    ("ext_user_role", "expected"),
    [
        (None, {"finance_role": "ANALYST"}),  # omitted: unchanged
        ({"finance_role": "MANAGER"}, {"finance_role": "MANAGER"}),
    ],
)
async def test_update_finance_role(
    client: httpx.AsyncClient, ext_user_role: dict[str, str] | None, expected: dict[str, str]
) -> None:
    carol = (await members(client))["carol@test.example"]
    params: dict[str, Any] = {"bc_id": BC, "user_id": carol["user_id"]}
    if ext_user_role is not None:
        params["ext_user_role"] = ext_user_role
    await ok(client, "POST", "bc/member/update/", **params)
    assert (await members(client))["carol@test.example"]["ext_user_role"] == expected


@pytest.mark.parametrize("ext_user_role", [{}, {"finance_role": None}, {"finance_role": ""}])
async def test_no_value_clears_a_finance_role(
    client: httpx.AsyncClient, ext_user_role: dict[str, Any]
) -> None:
    carol = (await members(client))["carol@test.example"]
    message = await fails(
        client, "POST", "bc/member/update/", 40002, bc_id=BC, user_id=carol["user_id"],
        ext_user_role=ext_user_role,
    )  # fmt: skip
    assert "ext_user_role.finance_role" in message
    assert (await members(client))["carol@test.example"]["ext_user_role"] == carol["ext_user_role"]


async def test_invite_requires_asset_ids(client: httpx.AsyncClient) -> None:
    message = await fails(
        client, "POST", "bc/member/invite/", 40002, bc_id=BC, emails=["a@x.example"]
    )
    assert "asset_ids" in message


@pytest.mark.parametrize(
    ("params", "code", "fragment"),
    [
        ({}, 40002, "user_id"),
        ({"user_id": OUTSIDER, "user_role": "ADMIN"}, 40007, OUTSIDER),
        ({"user_id": BOB, "user_role": "OWNER"}, 40002, "user_role"),
        ({"user_id": BOB, "user_name": "x" * 251}, 40002, "user_name"),
        ({"user_id": BOB, "ext_user_role": "MANAGER"}, 40002, "ext_user_role"),
    ],
)
async def test_update_errors(
    client: httpx.AsyncClient, params: dict[str, Any], code: int, fragment: str
) -> None:
    message = await fails(client, "POST", "bc/member/update/", code, bc_id=BC, **params)
    assert fragment in message


async def test_a_bc_keeps_one_admin(client: httpx.AsyncClient) -> None:
    admin2 = (await members(client))["admin2@test.example"]["user_id"]
    await ok(client, "POST", "bc/member/update/", bc_id=BC, user_id=admin2, user_role="STANDARD")
    admin1 = (await members(client))["admin1@test.example"]["user_id"]
    message = await fails(
        client, "POST", "bc/member/update/", 40002, bc_id=BC, user_id=admin1, user_role="STANDARD"
    )
    assert "last admin" in message
    message = await fails(client, "POST", "bc/member/delete/", 40002, bc_id=BC, user_id=admin1)
    assert "last admin" in message


async def test_delete_by_user_id_removes_the_member_and_every_grant(
    client: httpx.AsyncClient,
) -> None:
    await ok(client, "POST", "bc/member/delete/", bc_id=BC, user_id=BOB)
    assert "bob@test.example" not in await members(client)
    data = await ok(
        client, "GET", "bc/asset/member/get/", bc_id=BC, asset_type="ADVERTISER", asset_id=AD1
    )
    assert data["list"] == []
    # re-inviting the former member starts from nothing
    await ok(
        client, "POST", "bc/member/invite/", asset_ids=[], bc_id=BC, emails=["bob@test.example"]
    )
    assert (await members(client))["bob@test.example"]["relation_status"] == "PENDING"


async def test_delete_by_user_email_revokes_a_pending_invitation(
    client: httpx.AsyncClient,
) -> None:
    await ok(client, "POST", "bc/member/delete/", bc_id=BC, user_email="Pending@test.example")
    assert "pending@test.example" not in await members(client)
    await fails(
        client, "GET", "bc/asset/get/", 40007, bc_id=BC, asset_type="ADVERTISER",
        filtering={"user_email": "pending@test.example"},
    )  # fmt: skip


@pytest.mark.parametrize(
    ("params", "code", "fragment"),
    [
        ({}, 40002, "user_id"),
        ({"user_id": BOB, "user_email": "bob@test.example"}, 40002, "exactly one"),
        ({"user_email": "bob@test.example"}, 40002, "user_email"),  # joined: remove by user_id
        ({"user_email": "nobody@test.example"}, 40007, "nobody@test.example"),
        ({"user_email": "not-an-email"}, 40002, "user_email"),
        ({"user_id": OUTSIDER}, 40007, OUTSIDER),
    ],
)
async def test_delete_errors(
    client: httpx.AsyncClient, params: dict[str, Any], code: int, fragment: str
) -> None:
    message = await fails(client, "POST", "bc/member/delete/", code, bc_id=BC, **params)
    assert fragment in message


async def test_accepting_turns_an_invitation_into_a_member_with_grants(
    app: Any, client: httpx.AsyncClient
) -> None:
    response = await client.post(
        "/_emulator/invitations/accept", json={"bc_id": BC, "email": "pending@test.example"}
    )
    assert response.json() == {
        "bc_id": BC,
        "email": "pending@test.example",
        "relation_status": "BOUND",
    }
    member = (await members(client))["pending@test.example"]
    assert member["relation_status"] == "BOUND"
    assert len(member["user_id"]) == 19 and member["user_id"].isdigit()
    assert member["user_name"] == "pending"
    data = await ok(
        client, "GET", "bc/asset/member/get/", bc_id=BC, asset_type="ADVERTISER", asset_id=AD3
    )
    assert [(m["user_id"], m["advertiser_role"]) for m in data["list"]] == [
        (member["user_id"], "ANALYST")
    ]


async def test_accepted_ids_are_stable_and_known_users_keep_theirs(
    tmp_path: Path, seed: dict[str, Any]
) -> None:
    ids = []
    for name in ("one.db", "two.db"):
        app = create_app(tmp_path / name, seed)
        emulator = app.state.emulator
        try:
            async with client_for(app) as client:
                await ok(
                    client, "POST", "bc/member/invite/", asset_ids=[], bc_id=BC,
                    emails=["out@else.example", "stranger@else.example"],
                )  # fmt: skip
                emulator.accept_invitation(BC, "out@else.example")
                emulator.accept_invitation(BC, "STRANGER@else.example", accept=True)
                found = await members(client)
                ids.append(found["stranger@else.example"]["user_id"])
                assert found["out@else.example"]["user_id"] == OUTSIDER
                # the new member's own token now reaches the BC
                mine = await ok(client, "GET", "bc/get/", token="outsider")
                assert [b["bc_info"]["bc_id"] for b in mine["list"]] == [BC]
        finally:
            emulator.close()
    assert ids[0] == ids[1]


async def test_declining_an_invitation(app: Any, client: httpx.AsyncClient) -> None:
    assert app.state.emulator.accept_invitation(BC, "pending@test.example", accept=False) == (
        "REJECTED"
    )
    member = (await members(client))["pending@test.example"]
    assert (member["relation_status"], member["user_id"]) == ("REJECTED", "")
    # a declined invitee can be invited again, and can be cleared by email
    await ok(
        client, "POST", "bc/member/invite/", asset_ids=[], bc_id=BC, emails=["pending@test.example"]
    )
    assert (await members(client))["pending@test.example"]["relation_status"] == "PENDING"


async def test_settling_what_is_not_pending_is_an_error(
    app: Any, client: httpx.AsyncClient
) -> None:
    with pytest.raises(EmulatorError, match=r"no pending invitation of bob@test\.example"):
        app.state.emulator.accept_invitation(BC, "bob@test.example")
    response = await client.post(
        "/_emulator/invitations/accept", json={"bc_id": BC, "email": "nobody@test.example"}
    )
    assert response.status_code == 400
    assert "no pending invitation" in response.json()["error"]
    bad = await client.post("/_emulator/invitations/accept", json={"bc_id": BC})
    assert bad.status_code == 400


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(
    ("setting", "override", "after", "expected"),
    [
        (None, 30.0, 29.0, "PENDING"),
        (None, 30.0, 31.0, "BOUND"),
        (5.0, None, 6.0, "BOUND"),  # the seed's setting
        (5.0, math.inf, 1e6, "PENDING"),  # overridden: never
        (None, None, 1e6, "PENDING"),  # the default: never
    ],
)
async def test_invitations_are_accepted_after_a_delay(
    tmp_path: Path,
    seed: dict[str, Any],
    setting: float | None,
    override: float | None,
    after: float,
    expected: str,
) -> None:
    seed["settings"] = {"invite_accept_after_seconds": setting}
    clock = Clock()
    app = create_app(tmp_path / "e.db", seed, invite_accept_after=override, clock=clock)
    try:
        async with client_for(app) as client:
            await ok(
                client,
                "POST",
                "bc/member/invite/",
                asset_ids=[],
                bc_id=BC,
                emails=["later@test.example"],
            )
            clock.now += after
            found = await members(client)
            assert found["later@test.example"]["relation_status"] == expected
            assert found["pending@test.example"]["relation_status"] == expected
    finally:
        app.state.emulator.close()


async def test_auto_accept_logs_the_invitee_as_operator(
    tmp_path: Path, seed: dict[str, Any]
) -> None:
    clock = Clock()
    app = create_app(tmp_path / "e.db", seed, invite_accept_after=0, clock=clock)
    try:
        async with client_for(app) as client:
            body = await call(client, "GET", "changelog/get/", bc_id=BC)
            entry = body["data"]["changelog_list"][0]
            member = (await members(client))["pending@test.example"]
            assert entry["operator_id"] == member["user_id"]
            assert "pending@test.example" in entry["activity_log"]
            assert "accepted the invitation" in entry["activity_log"]
    finally:
        app.state.emulator.close()


async def test_invite_grants_on_an_asset_gone_since_are_dropped(
    app: Any, client: httpx.AsyncClient
) -> None:
    # AD2 reaches the other BC through a partner share, which ends before the invitee accepts
    await ok(
        client, "POST", "bc/partner/add/", bc_id=BC, partner_id=OTHER_BC, asset_type="ADVERTISER",
        asset_ids=[AD2],
    )  # fmt: skip
    await ok(
        client, "POST", "bc/member/invite/", token="boss", bc_id=OTHER_BC,
        emails=["z@test.example"], asset_ids=[AD2, OTHER_AD],
    )  # fmt: skip
    await ok(
        client, "POST", "bc/partner/asset/delete/", bc_id=BC, partner_id=OTHER_BC,
        asset_type="ADVERTISER", asset_ids=[AD2],
    )  # fmt: skip
    app.state.emulator.accept_invitation(OTHER_BC, "z@test.example")
    member = (await members(client, OTHER_BC, "boss"))["z@test.example"]
    data = await ok(
        client, "GET", "bc/asset/get/", token="boss", bc_id=OTHER_BC, asset_type="ADVERTISER",
        filtering={"user_id": member["user_id"]},
    )  # fmt: skip
    assert [(a["asset_id"], a["advertiser_role"]) for a in data["list"]] == [(OTHER_AD, "ANALYST")]
