"""Ordered changes into API calls: typed steps, batched where the API allows. Pure, no I/O.

A `Step` is one API call carrying out one or more changes: an invite of up to 50 emails, a partner
share of up to 50 ad accounts, one assign... Its parameters are one typed value per operation
(`core.operations`, re-exported here), so a role stays a `MemberRole` from the YAML to the wire,
the guards read exactly the calls that will run, and two plans are the same plan exactly when their
steps are equal.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from bcsync.core.change import Action, Change, Kind, MemberValue, RoleValue, Stage
from bcsync.core.model import AssetKey, AssetType, FinanceRole, MemberRole
from bcsync.core.operations import (
    MAX_GROUP_ASSETS,
    MAX_GROUP_MEMBERS,
    MAX_INVITE_EMAILS,
    MAX_SHARE_ASSETS,
    AddGroupAssets,
    AddGroupMembers,
    Assign,
    CreateAssetGroup,
    DeleteAssetGroup,
    Invite,
    Op,
    Params,
    RemoveGroupAssets,
    RemoveGroupMembers,
    RemoveMember,
    RemovePartner,
    Share,
    Unassign,
    Unshare,
    UpdateMember,
    params_from_json,
    params_to_json,
)


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
        return self.params.op

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
    _grants(out, [c for c in by_stage[Stage.GRANT] if c.kind not in GROUP_KINDS])
    _asset_groups(out, Stage.GRANT, [c for c in by_stage[Stage.GRANT] if c.kind in GROUP_KINDS])
    _shares(out, by_stage[Stage.SHARE])
    _revocations(out, [c for c in by_stage[Stage.REVOKE] if c.kind not in GROUP_KINDS])
    _asset_groups(out, Stage.REVOKE, [c for c in by_stage[Stage.REVOKE] if c.kind in GROUP_KINDS])
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


GROUP_KINDS = frozenset({Kind.ASSET_GROUP, Kind.GROUP_ASSET, Kind.GROUP_MEMBER})


def _asset_groups(out: _Steps, stage: Stage, changes: Sequence[Change]) -> None:
    """Per group, in one stage: a new group in one create call carrying its ad accounts and
    members; for a group the BC has, what leaves it first (only in stage 2 when what joins would
    overflow it), then what joins it (ad accounts, members and role changes), each batched to
    the API's limits; a deletion alone."""
    by_group: dict[str, list[Change]] = {}
    for change in changes:
        by_group.setdefault(_group(change), []).append(change)
    for name, group in by_group.items():
        created = [c for c in group if c.kind is Kind.ASSET_GROUP and c.action is Action.CREATE]
        if created:
            _create_group(out, stage, name, created[0], group)
            continue
        for change in group:
            if change.kind is Kind.ASSET_GROUP:  # a deletion
                out.add(stage, DeleteAssetGroup(name, _group_id(change)), [change.id])
        gone_assets = _of(group, Kind.GROUP_ASSET, Action.DELETE)
        gone_members = _of(group, Kind.GROUP_MEMBER, Action.DELETE)
        first: list[str] = []
        for batch in chunked(gone_assets, MAX_GROUP_ASSETS):
            ids = tuple(_asset(c).id for c in batch)
            params: Params = RemoveGroupAssets(name, _group_id(batch[0]), ids)
            first.append(out.add(stage, params, [c.id for c in batch]))
        for batch in chunked(gone_members, MAX_GROUP_MEMBERS):
            users = tuple(_user_id(c) for c in batch)
            emails = tuple(_email(c) for c in batch)
            params = RemoveGroupMembers(name, _group_id(batch[0]), users, emails)
            first.append(out.add(stage, params, [c.id for c in batch]))
        new_assets = _of(group, Kind.GROUP_ASSET, Action.CREATE)
        new_members = [
            c for c in group if c.kind is Kind.GROUP_MEMBER and c.action is not Action.DELETE
        ]
        for batch in chunked(new_assets, MAX_GROUP_ASSETS):
            ids = tuple(_asset(c).id for c in batch)
            params = AddGroupAssets(name, _group_id(batch[0]), ids)
            out.add(stage, params, [c.id for c in batch], first)
        for batch in chunked(new_members, MAX_GROUP_MEMBERS):
            params = AddGroupMembers(
                name,
                _group_id(batch[0]),
                tuple(_user_id(c) for c in batch),
                tuple(_email(c) for c in batch),
                tuple(_role(c) for c in batch),
            )
            out.add(stage, params, [c.id for c in batch], first)


def _create_group(
    out: _Steps, stage: Stage, name: str, created: Change, group: Sequence[Change]
) -> None:
    assets = _of(group, Kind.GROUP_ASSET, Action.CREATE)
    members = _of(group, Kind.GROUP_MEMBER, Action.CREATE)
    params = CreateAssetGroup(
        name,
        tuple(_asset(c).id for c in assets),
        tuple(_user_id(c) for c in members),
        tuple(_email(c) for c in members),
        tuple(_role(c) for c in members),
    )
    out.add(stage, params, [created.id, *(c.id for c in assets), *(c.id for c in members)])


def _of(changes: Sequence[Change], kind: Kind, action: Action) -> list[Change]:
    return [c for c in changes if c.kind is kind and c.action is action]


def _removals(out: _Steps, stage: Stage, changes: Sequence[Change], depends: Sequence[str]) -> None:
    for change in changes:
        if change.action is Action.UPDATE:
            _update_member(out, change, depends)
        else:
            params = RemoveMember(_email(change), change.target.user_id)
            out.add(stage, params, [change.id], depends)


def _update_member(out: _Steps, change: Change, depends: Sequence[str] = ()) -> str:
    after = _member_after(change)
    params = UpdateMember(
        _user_id(change), _email(change), after.role, after.finance_role, after.name
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


def _group(change: Change) -> str:
    assert change.target.asset_group is not None, change.id
    return change.target.asset_group


def _group_id(change: Change) -> str:
    assert change.target.asset_group_id is not None, change.id
    return change.target.asset_group_id


def _partner(change: Change) -> str:
    assert change.target.partner is not None, change.id
    return change.target.partner


def _role(change: Change) -> str:
    assert isinstance(change.after, RoleValue), change.id
    return change.after.role


def _member_after(change: Change) -> MemberValue:
    assert isinstance(change.after, MemberValue), change.id
    return change.after


def _member_role(change: Change) -> MemberRole:
    return _member_after(change).role


def _finance_role(change: Change) -> FinanceRole | None:
    return _member_after(change).finance_role
