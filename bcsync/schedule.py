"""Ordered changes into API calls: typed steps, batched where the API allows. Pure, no I/O.

A `Step` is one API call carrying out one or more changes: an invite of up to 50 emails, a
partner share of up to 50 ad accounts, one assign... Its parameters are one typed value per
operation, so a role stays a `MemberRole` from the YAML to the wire, the guards read exactly the
calls that will run, and two plans are the same plan exactly when their steps are equal.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypeVar

from bcsync.change import Action, Change, Kind, Stage
from bcsync.model import AssetKey, AssetType, FinanceRole, MemberRole
from bcsync.providers.base import MAX_INVITE_EMAILS, MAX_SHARE_ASSETS


class Op(StrEnum):
    """The provider operation a step performs."""

    INVITE = "invite"
    UPDATE_MEMBER = "update_member"
    REMOVE_MEMBER = "remove_member"
    ASSIGN = "assign"
    UNASSIGN = "unassign"
    SHARE = "share"
    UNSHARE = "unshare"
    REMOVE_PARTNER = "remove_partner"


@dataclass(frozen=True, slots=True)
class Invite:
    emails: tuple[str, ...]
    role: MemberRole
    finance_role: FinanceRole | None
    # Ad accounts granted with the invitation, all with `advertiser_role`.
    ad_accounts: tuple[str, ...] = ()
    advertiser_role: str | None = None


@dataclass(frozen=True, slots=True)
class UpdateMember:
    user_id: str
    email: str
    role: MemberRole
    # None leaves the finance role as it is: the API has no value that clears one.
    finance_role: FinanceRole | None
    # The display name (user_name) to set; None leaves it as it is.
    name: str | None = None


@dataclass(frozen=True, slots=True)
class RemoveMember:
    email: str
    # None revokes a pending invitation (by email).
    user_id: str | None


@dataclass(frozen=True, slots=True)
class Assign:
    user_id: str
    email: str
    asset: AssetKey
    role: str


@dataclass(frozen=True, slots=True)
class Unassign:
    user_id: str
    email: str
    asset: AssetKey


@dataclass(frozen=True, slots=True)
class Share:
    partner_bc_id: str
    asset_ids: tuple[str, ...]
    role: str


@dataclass(frozen=True, slots=True)
class Unshare:
    partner_bc_id: str
    asset_type: AssetType
    asset_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RemovePartner:
    partner_bc_id: str


Params = Invite | UpdateMember | RemoveMember | Assign | Unassign | Share | Unshare | RemovePartner

OP_OF: Mapping[type[Any], Op] = {
    Invite: Op.INVITE,
    UpdateMember: Op.UPDATE_MEMBER,
    RemoveMember: Op.REMOVE_MEMBER,
    Assign: Op.ASSIGN,
    Unassign: Op.UNASSIGN,
    Share: Op.SHARE,
    Unshare: Op.UNSHARE,
    RemovePartner: Op.REMOVE_PARTNER,
}


def params_to_json(params: Params) -> dict[str, Any]:
    """The wire-neutral JSON form of a step's parameters (enums as their values)."""
    doc: dict[str, Any] = {}
    for name in params.__slots__:
        value = getattr(params, name)
        if name == "name" and value is None:
            continue  # an unset display name is left out: plans without names read as before
        if isinstance(value, AssetKey):
            doc["asset_type"], doc["asset_id"] = value.type.value, value.id
        elif isinstance(value, tuple):
            doc[name] = list(value)
        elif isinstance(value, StrEnum):
            doc[name] = value.value
        else:
            doc[name] = value
    return doc


def params_from_json(op: Op, doc: Mapping[str, Any]) -> Params:
    """Typed parameters from a saved plan's step (the plan schema has checked the shape)."""
    finance = FinanceRole(doc["finance_role"]) if doc.get("finance_role") else None
    if op is Op.INVITE:
        return Invite(
            tuple(doc["emails"]),
            MemberRole(doc["role"]),
            finance,
            tuple(doc.get("ad_accounts", ())),
            doc.get("advertiser_role"),
        )
    if op is Op.UPDATE_MEMBER:
        role = MemberRole(doc["role"])
        return UpdateMember(doc["user_id"], doc["email"], role, finance, doc.get("name"))
    if op is Op.REMOVE_MEMBER:
        return RemoveMember(doc["email"], doc.get("user_id"))
    if op in (Op.ASSIGN, Op.UNASSIGN):
        asset = AssetKey(AssetType(doc["asset_type"]), doc["asset_id"])
        if op is Op.ASSIGN:
            return Assign(doc["user_id"], doc["email"], asset, doc["role"])
        return Unassign(doc["user_id"], doc["email"], asset)
    if op is Op.SHARE:
        return Share(doc["partner_bc_id"], tuple(doc["asset_ids"]), doc["role"])
    if op is Op.UNSHARE:
        asset_type = AssetType(doc["asset_type"])
        return Unshare(doc["partner_bc_id"], asset_type, tuple(doc["asset_ids"]))
    return RemovePartner(doc["partner_bc_id"])


@dataclass(frozen=True, slots=True)
class Step:
    """One API call carrying out `changes`; runs after every step in `depends_on` succeeded."""

    id: str
    stage: Stage
    params: Params
    changes: tuple[str, ...]
    depends_on: tuple[str, ...] = ()

    @property
    def op(self) -> Op:
        return OP_OF[type(self.params)]

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "stage": int(self.stage),
            "op": self.op.value,
            "params": params_to_json(self.params),
            "changes": list(self.changes),
            "depends_on": list(self.depends_on),
        }

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> Step:
        op = Op(doc["op"])
        return cls(
            id=doc["id"],
            stage=Stage(doc["stage"]),
            params=params_from_json(op, doc.get("params", {})),
            changes=tuple(doc.get("changes", ())),
            depends_on=tuple(doc.get("depends_on", ())),
        )


T = TypeVar("T")


def chunked(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


@dataclass
class _Steps:
    """Numbers steps in the order they are added."""

    steps: list[Step] = field(default_factory=list)

    def add(
        self, stage: Stage, params: Params, changes: Iterable[str], depends_on: Iterable[str] = ()
    ) -> str:
        step_id = f"s{len(self.steps) + 1}"
        self.steps.append(Step(step_id, stage, params, tuple(changes), tuple(depends_on)))
        return step_id


def schedule(changes: Sequence[Change]) -> tuple[Step, ...]:
    """Batch ordered changes into API calls, with the dependencies between them."""
    by_stage: dict[Stage, list[Change]] = {stage: [] for stage in Stage}
    for change in changes:
        if change.is_change and change.stage is not None:
            by_stage[change.stage].append(change)
    out = _Steps()
    promotions = _invites_and_promotions(out, by_stage[Stage.INVITE_PROMOTE])
    _grants(out, by_stage[Stage.GRANT])
    _shares(out, by_stage[Stage.SHARE])
    _revocations(out, by_stage[Stage.REVOKE])
    _removals(out, Stage.REMOVE_MEMBER, by_stage[Stage.REMOVE_MEMBER], ())
    # Admins are demoted or removed only once every promotion succeeded.
    _removals(out, Stage.DEMOTE_ADMIN, by_stage[Stage.DEMOTE_ADMIN], promotions)
    return tuple(out.steps)


def _invites_and_promotions(out: _Steps, changes: Sequence[Change]) -> list[str]:
    """Invites batched by what they carry (role, finance role, ad accounts); then promotions."""
    carried: dict[str, list[Change]] = {}
    for change in changes:
        if change.kind is Kind.GRANT and change.target.email is not None:
            carried.setdefault(change.target.email, []).append(change)
    batches: dict[tuple[Any, ...], list[Change]] = {}
    promotions: list[str] = []
    for change in changes:
        if change.kind is not Kind.MEMBER:
            continue
        if change.action is Action.CREATE:
            grants = carried.get(_email(change), [])
            key = (
                _member_role(change),
                _finance_role(change),
                _role(grants[0]) if grants else None,
                tuple(sorted(_asset(g).id for g in grants)),
            )
            batches.setdefault(key, []).append(change)
        else:
            promotions.append(_update_member(out, change))
    for (role, finance, advertiser_role, accounts), members in batches.items():
        for batch in chunked(members, MAX_INVITE_EMAILS):
            emails = tuple(_email(c) for c in batch)
            ids = [c.id for c in batch]
            ids.extend(g.id for email in emails for g in carried.get(email, []))
            params = Invite(emails, role, finance, accounts, advertiser_role)
            out.add(Stage.INVITE_PROMOTE, params, ids)
    return promotions


def _grants(out: _Steps, changes: Sequence[Change]) -> None:
    for change in changes:
        if change.kind is Kind.MEMBER:
            _update_member(out, change)
        else:
            params = Assign(_user_id(change), _email(change), _asset(change), _role(change))
            out.add(Stage.GRANT, params, [change.id])


def _shares(out: _Steps, changes: Sequence[Change]) -> None:
    """One call per partner and role, up to 50 ad accounts each; a new partner rides the first."""
    new_partners = {_partner(c): c for c in changes if c.kind is Kind.PARTNER}
    groups: dict[tuple[str, str], list[Change]] = {}
    for change in changes:
        if change.kind is Kind.SHARE:
            groups.setdefault((_partner(change), _role(change)), []).append(change)
    first_step: dict[str, str] = {}
    for (partner, role), shares in groups.items():
        for batch in chunked(shares, MAX_SHARE_ASSETS):
            ids = [c.id for c in batch]
            depends: list[str] = []
            if partner in new_partners:
                if partner in first_step:
                    depends.append(first_step[partner])
                else:
                    ids.insert(0, new_partners[partner].id)
            params = Share(partner, tuple(_asset(c).id for c in batch), role)
            first_step.setdefault(partner, out.add(Stage.SHARE, params, ids, depends))


def _revocations(out: _Steps, changes: Sequence[Change]) -> None:
    unshares: dict[tuple[str, AssetType], list[Change]] = {}
    for change in changes:
        if change.kind is Kind.GRANT:
            unassign = Unassign(_user_id(change), _email(change), _asset(change))
            out.add(Stage.REVOKE, unassign, [change.id])
        elif change.kind is Kind.SHARE:
            unshares.setdefault((_partner(change), _asset(change).type), []).append(change)
        elif change.kind is Kind.PARTNER:
            out.add(Stage.REVOKE, RemovePartner(_partner(change)), [change.id])
    for (partner, asset_type), shares in unshares.items():
        for batch in chunked(shares, MAX_SHARE_ASSETS):
            params = Unshare(partner, asset_type, tuple(_asset(c).id for c in batch))
            out.add(Stage.REVOKE, params, [c.id for c in batch])


def _removals(out: _Steps, stage: Stage, changes: Sequence[Change], depends: Sequence[str]) -> None:
    for change in changes:
        if change.action is Action.UPDATE:
            _update_member(out, change, depends)
        else:
            params = RemoveMember(_email(change), change.target.user_id)
            out.add(stage, params, [change.id], depends)


def _update_member(out: _Steps, change: Change, depends: Sequence[str] = ()) -> str:
    name = (change.after or {}).get("name")
    params = UpdateMember(
        _user_id(change), _email(change), _member_role(change), _finance_role(change), name
    )
    return out.add(change.stage or Stage.GRANT, params, [change.id], depends)


# Typed accessors: a change reaching the scheduler always carries these (diff guarantees it).


def _email(change: Change) -> str:
    assert change.target.email is not None, change.id
    return change.target.email


def _user_id(change: Change) -> str:
    assert change.target.user_id is not None, change.id
    return change.target.user_id


def _asset(change: Change) -> AssetKey:
    assert change.target.asset is not None, change.id
    return change.target.asset


def _partner(change: Change) -> str:
    assert change.target.partner is not None, change.id
    return change.target.partner


def _role(change: Change) -> str:
    assert change.after is not None, change.id
    return str(change.after["role"])


def _member_role(change: Change) -> MemberRole:
    assert change.after is not None, change.id
    return MemberRole(change.after["role"])


def _finance_role(change: Change) -> FinanceRole | None:
    value = (change.after or {}).get("finance_role")
    return FinanceRole(value) if value else None
