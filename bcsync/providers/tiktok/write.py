"""Writes, each verified by a read after an ambiguous failure before anything is resent.

A write that timed out or got a 5xx after it was sent may have happened. Resending an invite
would invite twice; so every write here names what it wants to be true, and after an ambiguous
failure reads the BC and resends only the part that is still missing. The same read settles a
partial success (20001: which items took effect is never assumed) and "already done" answers
(40012 NO_UPDATE, 40050 DUPLICATED_REQUEST: success only if the BC shows it).

TikTok promises nothing about reading your own writes, and a read served by a copy that lags
would show a write that happened as missing. So the read is repeated with backoff until the write
shows or `RetryPolicy.settle_seconds` pass (Terraform's AWS provider waits the same way after an
IAM write), and only what is still missing then is sent again. A removal sent again and answered
"not found" took effect the first time. Either way the result says "took effect; its answer was
lost" (LOST), and one change never sends a second invitation email while its first may still
be on its way into view.

Each operation is one function taking its typed parameters (`bcsync.core.operations`): the wire call
and how to verify it sit side by side, and `WRITERS` is the one table `perform` (the provider's
single write entry point) dispatches through. The body builders (`*_body`) are separate so the
conformance tests can check them against the SDK's specification without a server.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from bcsync.core.model import AssetKey, AssetType, FinanceRole, MemberRole, MemberStatus
from bcsync.core.operations import (
    MAX_INVITE_EMAILS,
    MAX_SHARE_ASSETS,
    Assign,
    Invite,
    Params,
    RemoveMember,
    RemovePartner,
    Share,
    Unassign,
    Unshare,
    UpdateMember,
)
from bcsync.errors import AmbiguousWriteError, NotFoundError, ProviderError
from bcsync.providers.base import WriteResult
from bcsync.providers.tiktok import mapping
from bcsync.providers.tiktok.client import TikTokClient
from bcsync.providers.tiktok.codes import AlreadyDoneError, PartialSuccessError
from bcsync.providers.tiktok.paging import IncompleteReadError
from bcsync.providers.tiktok.read import (
    fetch_member_assets,
    fetch_members,
    fetch_partners,
    fetch_shares,
)

log = logging.getLogger("bcsync.providers.tiktok")
LOST = "took effect; its answer was lost (confirmed by reading)"
PARTIAL = "verified by reading after a partial success (20001)"
ALREADY_DONE = "TikTok said it was already done; confirmed by reading"
T = TypeVar("T")


async def write_verified(
    client: TikTokClient,
    items: Sequence[T],
    send: Callable[[list[T]], Awaitable[str]],
    missing: Callable[[list[T]], Awaitable[list[T]]],
    *,
    removal: bool = False,
) -> WriteResult:
    """Send; after an ambiguous failure or a partial success (20001) read what is `missing`,
    until it shows or the settle time passes, and resend only what is still missing; "already
    done" (40012, 40050) counts only once a read confirms it. For a `removal`, "not found" on a
    resend means the first one took effect."""
    pending = list(items)
    ids: list[str] = []
    note: str | None = None
    last: ProviderError | None = None
    for attempt in range(1, client.retry.attempts + 1):
        try:
            ids.append(await send(pending))
            return WriteResult(request_ids=tuple(i for i in ids if i), note=note)
        except AlreadyDoneError as err:
            if await _settle(client, missing, pending, err):
                raise err from None
            return WriteResult(tuple(i for i in [*ids, err.request_id or ""] if i), ALREADY_DONE)
        except NotFoundError:
            if not (removal and note == LOST):
                raise
            return WriteResult(request_ids=tuple(i for i in ids if i), note=LOST)
        except (AmbiguousWriteError, PartialSuccessError) as err:
            note, last = (LOST if isinstance(err, AmbiguousWriteError) else PARTIAL), err
            if isinstance(err, PartialSuccessError) and err.request_id:
                ids.append(err.request_id)
            log.info("%s; reading what happened (round %d)", err.message, attempt)
            await client.pause(attempt)
            pending = await _settle(client, missing, pending, err)
            if not pending:
                return WriteResult(request_ids=tuple(i for i in ids if i), note=note)
    assert last is not None
    raise AmbiguousWriteError(
        f"{last.message}; still unconfirmed after {client.retry.attempts} tries",
        hint="run `bcsync plan` to see what remains",
        code=last.code,
        request_id=last.request_id,
        endpoint=last.endpoint,
    )


async def _settle(
    client: TikTokClient,
    missing: Callable[[list[T]], Awaitable[list[T]]],
    pending: list[T],
    err: ProviderError,
) -> list[T]:
    """What is still missing once the write shows, or once `settle_seconds` have passed.

    A list that moves while it is read (this apply's other writes, or a copy catching up) says
    nothing either way: it is read again on the next round, and counts as a failed check only
    if it is still moving when the settle time is up.
    """
    deadline = client.now() + client.retry.settle_seconds
    rounds = 0
    while True:
        try:
            still = await _check(missing, pending, err)
        except _Moving as moving:
            if client.now() >= deadline:
                raise _unconfirmed(err, moving.error) from None
            still = pending
        if not still or client.now() >= deadline:
            break
        rounds += 1
        await client.pause(rounds)
        pending = still
    if still and rounds:
        log.info(
            "%d item(s) still not visible after %d reads; sending them again", len(still), rounds
        )
    return still


class _Moving(Exception):
    """A check's list changed while it was read: no answer yet."""

    def __init__(self, error: IncompleteReadError) -> None:
        super().__init__(error.message)
        self.error = error


async def _check(
    missing: Callable[[list[T]], Awaitable[list[T]]], pending: list[T], err: ProviderError
) -> list[T]:
    """What is still missing after `err`; a failed read is an unconfirmed write."""
    try:
        return await missing(pending)
    except IncompleteReadError as moving:
        raise _Moving(moving) from None
    except ProviderError as check:
        raise _unconfirmed(err, check) from None


def _unconfirmed(err: ProviderError, check: ProviderError) -> AmbiguousWriteError:
    return AmbiguousWriteError(
        f"{err.message}; checking what happened failed too: {check.message}",
        hint="run `bcsync plan` to see what remains",
        code=err.code,
        request_id=err.request_id,
        endpoint=err.endpoint,
    )


async def invite(client: TikTokClient, bc_id: str, op: Invite) -> WriteResult:
    """Invite up to 50 emails; never resends to an email that became a member or pending."""
    emails, role, finance_role = op.emails, op.role, op.finance_role
    ad_accounts, advertiser_role = op.ad_accounts, op.advertiser_role
    wanted = [e.strip().lower() for e in emails]
    _check_batch("emails", wanted, MAX_INVITE_EMAILS)
    _check_batch("ad accounts", ad_accounts, MAX_SHARE_ASSETS, allow_empty=True)
    body = invite_body(bc_id, role, finance_role, ad_accounts, advertiser_role)

    async def send(batch: list[str]) -> str:
        return await _post(client, "bc/member/invite/", {**body, "emails": batch})

    async def missing(batch: list[str]) -> list[str]:
        members = await fetch_members(client, bc_id)
        live = (MemberStatus.BOUND, MemberStatus.PENDING)
        return [e for e in batch if e not in members or members[e].status not in live]

    return await write_verified(client, wanted, send, missing)


async def update_member(client: TikTokClient, bc_id: str, op: UpdateMember) -> WriteResult:
    """Set a joined member's role, and finance role and display name when given.

    `finance_role=None` leaves the finance role as it is: the API has no value that clears one
    (the plan shows such a change as one bcsync cannot make). `name=None` leaves the name.
    """
    user_id, role, finance_role, name = op.user_id, op.role, op.finance_role, op.name
    body = update_member_body(bc_id, user_id, role, finance_role, name)

    async def missing(batch: list[str]) -> list[str]:
        members = await fetch_members(client, bc_id)
        done = any(
            m.user_id == user_id
            and m.role is role
            and (finance_role is None or m.finance_role == finance_role)
            and (name is None or m.name == name)
            for m in members.values()
        )
        return [] if done else batch

    return await write_verified(
        client, [user_id], _sender(client, "bc/member/update/", body), missing
    )


def invite_body(
    bc_id: str,
    role: MemberRole,
    finance_role: FinanceRole | None,
    ad_accounts: Sequence[str] = (),
    advertiser_role: str | None = None,
) -> dict[str, Any]:
    """member/invite's body without `emails`; `asset_ids` is always sent (the SDK requires it)."""
    body: dict[str, Any] = {
        "bc_id": bc_id,
        "user_role": role.value.upper(),
        "asset_type": "ADVERTISER",
        "asset_ids": [str(a) for a in ad_accounts],
    }
    if finance_role:
        body["ext_user_role"] = mapping.finance_to_wire(finance_role)
    if ad_accounts:
        body["advertiser_role"] = (advertiser_role or "analyst").upper()
    return body


def update_member_body(
    bc_id: str,
    user_id: str,
    role: MemberRole,
    finance_role: FinanceRole | None,
    name: str | None = None,
) -> dict[str, Any]:
    """member/update's body; never an empty `ext_user_role` (TikTok has no "clear" value);
    `user_name` (at most 250 characters, SDK) only when a name is to be set."""
    body: dict[str, Any] = {"bc_id": bc_id, "user_id": user_id, "user_role": role.value.upper()}
    if finance_role:
        body["ext_user_role"] = mapping.finance_to_wire(finance_role)
    if name is not None:
        body["user_name"] = name
    return body


def assign_body(bc_id: str, user_id: str, asset: AssetKey, role: str) -> dict[str, Any]:
    """asset/assign's body: one user, one asset, the asset type's role field (none for pixels)."""
    return {
        "bc_id": bc_id,
        "user_id": user_id,
        "asset_type": mapping.asset_type_to_wire(asset.type),
        "asset_id": asset.id,
        **mapping.role_to_wire(asset.type, role),
    }


async def remove_member(client: TikTokClient, bc_id: str, op: RemoveMember) -> WriteResult:
    """Remove a joined member by user id, or revoke a pending invitation by email."""
    user_id, email = op.user_id, op.email
    if not user_id and not email:
        raise ValueError("remove_member needs a user_id or an email")
    address = {"user_id": user_id} if user_id else {"user_email": str(email).strip().lower()}
    body = {"bc_id": bc_id, **address}

    async def missing(batch: list[str]) -> list[str]:
        members = await fetch_members(client, bc_id)
        if user_id:
            gone = not any(
                m.user_id == user_id and m.status is MemberStatus.BOUND for m in members.values()
            )
        else:
            m = members.get(str(email).strip().lower())
            gone = m is None or m.status is not MemberStatus.PENDING
        return [] if gone else batch

    target = str(user_id or email)
    return await write_verified(
        client, [target], _sender(client, "bc/member/delete/", body), missing, removal=True
    )


async def assign(client: TikTokClient, bc_id: str, op: Assign) -> WriteResult:
    """Give a joined member a role on one asset; assigning again changes the role."""
    user_id, asset, role = op.user_id, op.asset, op.role
    body = assign_body(bc_id, user_id, asset, role)
    wanted = mapping.role_from_wire(asset.type, mapping.role_to_wire(asset.type, role))

    async def missing(batch: list[str]) -> list[str]:
        held = await fetch_member_assets(client, bc_id, user_id, asset.type)
        return [] if held.get(asset.id) == wanted else batch

    return await write_verified(
        client, [asset.id], _sender(client, "bc/asset/assign/", body), missing
    )


async def unassign(client: TikTokClient, bc_id: str, op: Unassign) -> WriteResult:
    """Take one asset away from a joined member."""
    user_id, asset = op.user_id, op.asset
    body = {
        "bc_id": bc_id,
        "user_id": user_id,
        "asset_type": mapping.asset_type_to_wire(asset.type),
        "asset_id": asset.id,
    }

    async def missing(batch: list[str]) -> list[str]:
        held = await fetch_member_assets(client, bc_id, user_id, asset.type)
        return batch if asset.id in held else []

    return await write_verified(
        client, [asset.id], _sender(client, "bc/asset/unassign/", body), missing, removal=True
    )


async def share(client: TikTokClient, bc_id: str, op: Share) -> WriteResult:
    """Share up to 50 ad accounts with a partner (adding it), or change their role."""
    partner_bc_id, asset_ids, role = op.partner_bc_id, op.asset_ids, op.role
    ids = [str(a) for a in asset_ids]
    _check_batch("ad accounts", ids, MAX_SHARE_ASSETS)
    body = {
        "bc_id": bc_id,
        "partner_id": partner_bc_id,
        "asset_type": "ADVERTISER",
        "advertiser_role": role.upper(),
    }

    async def send(batch: list[str]) -> str:
        return await _post(client, "bc/partner/add/", {**body, "asset_ids": batch})

    async def missing(batch: list[str]) -> list[str]:
        shares = await _shared(client, bc_id, partner_bc_id)
        return [a for a in batch if shares.get(a) != role.lower()]

    return await write_verified(client, ids, send, missing)


async def unshare(client: TikTokClient, bc_id: str, op: Unshare) -> WriteResult:
    """Stop sharing assets with a partner, 50 ids a call."""
    partner_bc_id, asset_type, asset_ids = op.partner_bc_id, op.asset_type, op.asset_ids
    ids = [str(a) for a in asset_ids]
    body = {
        "bc_id": bc_id,
        "partner_id": partner_bc_id,
        "asset_type": mapping.asset_type_to_wire(asset_type),
    }

    async def send(batch: list[str]) -> str:
        return await _post(client, "bc/partner/asset/delete/", {**body, "asset_ids": batch})

    async def missing(batch: list[str]) -> list[str]:
        shares = await _shared(client, bc_id, partner_bc_id, asset_type)
        return [a for a in batch if a in shares]

    request_ids: list[str] = []
    note = None
    for start in range(0, len(ids), MAX_SHARE_ASSETS):
        batch = ids[start : start + MAX_SHARE_ASSETS]
        result = await write_verified(client, batch, send, missing, removal=True)
        request_ids += result.request_ids
        note = note or result.note
    return WriteResult(tuple(request_ids), note)


async def remove_partner(client: TikTokClient, bc_id: str, op: RemovePartner) -> WriteResult:
    """Remove a partner BC."""
    partner_bc_id = op.partner_bc_id
    body = {"bc_id": bc_id, "partner_id": partner_bc_id}

    async def missing(batch: list[str]) -> list[str]:
        return batch if partner_bc_id in await fetch_partners(client, bc_id) else []

    sender = _sender(client, "bc/partner/delete/", body)
    return await write_verified(client, [partner_bc_id], sender, missing, removal=True)


Writer = Callable[[TikTokClient, str, Any], Awaitable[WriteResult]]
# The one dispatch table: each operation's parameters type -> the function that performs it.
WRITERS: dict[type[Params], Writer] = {
    Invite: invite,
    UpdateMember: update_member,
    RemoveMember: remove_member,
    Assign: assign,
    Unassign: unassign,
    Share: share,
    Unshare: unshare,
    RemovePartner: remove_partner,
}


async def perform(client: TikTokClient, bc_id: str, params: Params) -> WriteResult:
    """The provider's one write entry point: the writer `params`' type names."""
    writer = WRITERS.get(type(params))
    if writer is None:
        raise TypeError(f"no writer for {type(params).__name__}")
    return await writer(client, bc_id, params)


async def _shared(
    client: TikTokClient,
    bc_id: str,
    partner_bc_id: str,
    asset_type: AssetType = AssetType.AD_ACCOUNT,
) -> dict[str, str]:
    try:
        shares = await fetch_shares(client, bc_id, partner_bc_id, asset_type)
    except NotFoundError:
        return {}
    return {s.asset.id: s.role for s in shares}


def _sender(
    client: TikTokClient, path: str, body: dict[str, Any]
) -> Callable[[list[str]], Awaitable[str]]:
    async def send(_: list[str]) -> str:
        return await _post(client, path, body)

    return send


async def _post(client: TikTokClient, path: str, body: dict[str, Any]) -> str:
    _, request_id = await client.post(path, body)
    return request_id


def _check_batch(what: str, items: Sequence[str], limit: int, *, allow_empty: bool = False) -> None:
    if len(items) > limit:
        raise ValueError(f"at most {limit} {what} per call, got {len(items)}")
    if not items and not allow_empty:
        raise ValueError(f"no {what} given")
