"""Desired asset groups against actual ones: changes to TikTok asset groups. Pure, no I/O.

Only when the config has an `asset_groups` section (the desired state's `asset_groups` is not
None) and the provider read the groups whole: groups are then managed like members, and a
group the BC has that the config does not declare is deleted. Without the section every
group is left alone (its access is still shown by `report`, `why` and `drift`).

A group is matched by name. Each change is one line a reviewer reads:
- `asset_group` create / delete: the group itself (a create carries its ad accounts and members
  in the same call; a delete takes away every member's access to every ad account in it);
- `asset_group_asset` create / delete: one ad account put in or taken out of a group;
- `asset_group_member` create / update / delete: one member put in, given another role, or
  taken out.
Gains run with grants (stage 2), losses with revocations (stage 4), except when a group would
overflow TikTok's limits (200 ad accounts, 50 members) if the gains ran first: then its losses
run first, in stage 2. A member who has not joined yet cannot be put in a group (the API names
members by user id): that is a deferred no-op, as for grants; so is a group no joined member or
no bound ad account can be put in yet.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

from bcsync.core.change import (
    Action,
    Change,
    GroupAssetValue,
    GroupValue,
    Kind,
    NoopCause,
    RoleValue,
    Stage,
    Target,
    new_change,
)
from bcsync.core.model import (
    MAX_GROUP_AD_ACCOUNTS,
    MAX_GROUP_MEMBERS,
    AssetGroup,
    AssetKey,
    AssetType,
    BusinessCenterConfig,
    Member,
    MemberStatus,
    State,
)

# Why an ad account or member cannot go in a group now (diff.noop_reason renders the sentence).
Problem = Callable[[AssetKey], NoopCause | None]


def asset_group_changes(
    config: BusinessCenterConfig,
    actual: State,
    members: Mapping[str, Member],
    problem: Problem,
    reason_of: Callable[[NoopCause, str], str],
) -> list[Change]:
    """Every asset-group change; [] when the config leaves groups alone or they were not read.

    `members`: the managed actual members by email; `problem`: why an asset cannot be given now.
    """
    want_all, have_all = config.desired.asset_groups, actual.asset_groups
    if want_all is None or have_all is None:
        return []
    labels = _Labels(config)
    changes: list[Change] = []
    for name in sorted(want_all.keys() | have_all.keys()):
        want, have = want_all.get(name), have_all.get(name)
        if want is not None and have is None:
            changes.extend(_create(labels, want, members, problem, reason_of))
        elif want is None and have is not None:
            changes.append(_delete(labels, have, "not in config"))
        elif want is not None and have is not None:
            changes.extend(_update(labels, want, have, members, problem, reason_of))
    ignored = config.policy.is_ignored
    # An ignored member is never touched: not even taken out of a group.
    return [
        c
        for c in changes
        if not (
            c.kind is Kind.GROUP_MEMBER
            and c.action is Action.DELETE
            and ignored(c.target.email or "")
        )
    ]


class _Labels:
    """Aliases for titles: ad accounts by the config's alias."""

    def __init__(self, config: BusinessCenterConfig) -> None:
        self.aliases = config.asset_aliases

    def account(self, asset_id: str) -> str:
        key = AssetKey(AssetType.AD_ACCOUNT, asset_id)
        alias = self.aliases.get(key)
        return f"ad_accounts.{alias}" if alias else str(key)


def _group_doc(labels: _Labels, group: AssetGroup) -> GroupValue:
    return GroupValue(
        tuple(sorted(labels.account(a) for a in group.ad_accounts)),
        tuple(sorted(group.members.items())),
    )


def _joined(members: Mapping[str, Member], email: str) -> Member | None:
    m = members.get(email)
    return m if m is not None and m.status is MemberStatus.BOUND and m.user_id else None


def _member_key(group: str, email: str) -> str:
    # An email holds no space, so "EMAIL in GROUP" is unambiguous whatever the group's name.
    return f"{email} in {group}"


def _asset_key(group: str, asset_id: str) -> str:
    return f"{AssetKey(AssetType.AD_ACCOUNT, asset_id)} in {group}"


def _create(
    labels: _Labels,
    want: AssetGroup,
    members: Mapping[str, Member],
    problem: Problem,
    reason_of: Callable[[NoopCause, str], str],
) -> Iterator[Change]:
    name = want.name
    target = Target(asset_group=name)
    assets = [
        a for a in sorted(want.ad_accounts) if problem(AssetKey(AssetType.AD_ACCOUNT, a)) is None
    ]
    joined = {e: m for e in sorted(want.members) if (m := _joined(members, e)) is not None}
    title = f"asset group {name}"
    after = _group_doc(labels, want)
    if not assets or not joined:
        missing = "a joined member" if not joined else "a bound ad account"
        yield new_change(
            Action.NOOP, Kind.ASSET_GROUP, name, title,
            f"deferred: created once it has {missing} (TikTok needs one of each)",
            after=after, target=target, cause=NoopCause.DEFERRED,
        )  # fmt: skip
        yield from _unplaceable(labels, want, members, problem, reason_of, everything=True)
        return
    yield new_change(
        Action.CREATE, Kind.ASSET_GROUP, name, title,
        f"in config ({len(assets)} ad account(s), {len(joined)} member(s))",
        after=after, stage=Stage.GRANT, target=target,
    )  # fmt: skip
    for asset_id in assets:
        yield _asset_change(labels, Action.CREATE, name, None, asset_id, Stage.GRANT)
    for email, m in joined.items():
        yield _member_change(
            Action.CREATE, name, None, email, m.user_id, None, want.members[email], Stage.GRANT
        )
    yield from _unplaceable(labels, want, members, problem, reason_of, everything=False)


def _unplaceable(
    labels: _Labels,
    want: AssetGroup,
    members: Mapping[str, Member],
    problem: Problem,
    reason_of: Callable[[NoopCause, str], str],
    *,
    everything: bool,
    have: AssetGroup | None = None,
) -> Iterator[Change]:
    """No-ops for ad accounts and members that cannot go in the group now (or, with
    `everything`, for all of its entries: the group itself waits)."""
    name = want.name
    target = Target(asset_group=name, asset_group_id=have.group_id if have else None)
    for asset_id in sorted(want.ad_accounts - (have.ad_accounts if have else frozenset())):
        key = AssetKey(AssetType.AD_ACCOUNT, asset_id)
        cause = problem(key)
        if cause is None and not everything:
            continue
        cause = cause or NoopCause.DEFERRED
        title = f"{labels.account(asset_id)} in asset group {name}"
        reason = reason_of(cause, name) if cause is not NoopCause.DEFERRED else "with its group"
        yield new_change(
            Action.NOOP, Kind.GROUP_ASSET, _asset_key(name, asset_id), title, reason,
            after=GroupAssetValue(labels.account(asset_id)), target=target, cause=cause,
        )  # fmt: skip
    for email in sorted(want.members):
        if have is not None and email in have.members:
            continue
        m = members.get(email)
        if _joined(members, email) is not None and not everything:
            continue
        rejected = m is not None and m.status is MemberStatus.REJECTED
        cause = NoopCause.REJECTED if rejected else NoopCause.DEFERRED
        waiting = m is None or m.status is not MemberStatus.BOUND
        if not waiting:
            reason = "with its group"
        elif cause is NoopCause.DEFERRED:
            reason = f"deferred: put in the group once {email} accepts the invitation"
        else:
            reason = reason_of(cause, email)
        yield new_change(
            Action.NOOP, Kind.GROUP_MEMBER, _member_key(name, email),
            f"{email} in asset group {name}", reason,
            after=RoleValue(want.members[email]), target=Target(email=email, asset_group=name),
            cause=cause,
        )  # fmt: skip


def _asset_change(
    labels: _Labels,
    action: Action,
    group: str,
    group_id: str | None,
    asset_id: str,
    stage: Stage,
    reason: str = "in config",
) -> Change:
    asset = AssetKey(AssetType.AD_ACCOUNT, asset_id)
    doc = GroupAssetValue(labels.account(asset_id))
    return new_change(
        action, Kind.GROUP_ASSET, _asset_key(group, asset_id),
        f"{labels.account(asset_id)} in asset group {group}", reason,
        before=doc if action is Action.DELETE else None,
        after=doc if action is Action.CREATE else None,
        stage=stage, target=Target(asset=asset, asset_group=group, asset_group_id=group_id),
    )  # fmt: skip


def _member_change(
    action: Action,
    group: str,
    group_id: str | None,
    email: str,
    user_id: str | None,
    before: str | None,
    after: str | None,
    stage: Stage,
    reason: str = "in config",
) -> Change:
    return new_change(
        action, Kind.GROUP_MEMBER, _member_key(group, email),
        f"{email} in asset group {group}", reason,
        before=RoleValue(before) if before is not None else None,
        after=RoleValue(after) if after is not None else None,
        stage=stage,
        target=Target(email=email, user_id=user_id, asset_group=group, asset_group_id=group_id),
    )  # fmt: skip


def _delete(labels: _Labels, have: AssetGroup, reason: str) -> Change:
    people, accounts = len(have.members), len(have.ad_accounts)
    return new_change(
        Action.DELETE, Kind.ASSET_GROUP, have.name, f"asset group {have.name}",
        f"{reason}: takes {accounts} ad account(s) away from {people} member(s)",
        before=_group_doc(labels, have), stage=Stage.REVOKE,
        target=Target(asset_group=have.name, asset_group_id=have.group_id),
    )  # fmt: skip


def _update(
    labels: _Labels,
    want: AssetGroup,
    have: AssetGroup,
    members: Mapping[str, Member],
    problem: Problem,
    reason_of: Callable[[NoopCause, str], str],
) -> list[Change]:
    name, group_id = want.name, have.group_id
    add_assets = [
        a
        for a in sorted(want.ad_accounts - have.ad_accounts)
        if problem(AssetKey(AssetType.AD_ACCOUNT, a)) is None
    ]
    drop_assets = sorted(have.ad_accounts - want.ad_accounts)
    add_members = {
        e: m
        for e in sorted(want.members.keys() - have.members.keys())
        if (m := _joined(members, e)) is not None
    }
    roles = sorted(
        e for e in want.members.keys() & have.members.keys() if want.members[e] != have.members[e]
    )
    drop_members = sorted(have.members.keys() - want.members.keys())
    left_assets = len(have.ad_accounts) - len(drop_assets) + len(add_assets)
    left_members = len(have.members) - len(drop_members) + len(add_members)
    if left_assets == 0 or left_members == 0:
        # TikTok keeps no empty group: what is left to give waits, the group goes.
        empty = "no bound ad account" if left_assets == 0 else "no joined member"
        return [
            _delete(labels, have, f"it would hold {empty}"),
            *_unplaceable(labels, want, members, problem, reason_of, everything=True, have=have),
        ]
    assets_first = len(have.ad_accounts) + len(add_assets) > MAX_GROUP_AD_ACCOUNTS
    members_first = len(have.members) + len(add_members) > MAX_GROUP_MEMBERS
    changes: list[Change] = []
    for asset_id in add_assets:
        changes.append(_asset_change(labels, Action.CREATE, name, group_id, asset_id, Stage.GRANT))
    for asset_id in drop_assets:
        stage = Stage.GRANT if assets_first else Stage.REVOKE
        changes.append(
            _asset_change(labels, Action.DELETE, name, group_id, asset_id, stage, "not in config")
        )
    for email, m in add_members.items():
        changes.append(
            _member_change(
                Action.CREATE, name, group_id, email, m.user_id, None, want.members[email],
                Stage.GRANT,
            )
        )  # fmt: skip
    for email in roles:
        changes.append(
            _member_change(
                Action.UPDATE, name, group_id, email, have.user_ids.get(email),
                have.members[email], want.members[email], Stage.GRANT, "role changed",
            )
        )  # fmt: skip
    for email in drop_members:
        stage = Stage.GRANT if members_first else Stage.REVOKE
        changes.append(
            _member_change(
                Action.DELETE, name, group_id, email, have.user_ids.get(email),
                have.members[email], None, stage, "not in config",
            )
        )  # fmt: skip
    changes.extend(
        _unplaceable(labels, want, members, problem, reason_of, everything=False, have=have)
    )
    return changes
