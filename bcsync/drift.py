"""Drift: what in the Business Center differs from the config, and who last changed it. Read-only.

The comparison is the access diff from the config's desired State to the BC's actual State,
seen through the plan's scope: ignored members are never drift; grants and shares count on
declared assets only; a member who has not accepted an invitation (or whose grants cannot be
read until then) is pending, not drift; a declined or lapsed invitation is a missing member.

Each difference is "changed outside bcsync". Where the BC's activity log answers, the newest
entry that names the difference (the member's email or partner's BC id, and the asset id) says
who changed it and when: a best-effort match on free text, since the log's wording is not
documented. Where the log does not answer, that is said once and the report carries on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from bcsync.access_diff import AccessChange, Names, access_changes
from bcsync.model import BusinessCenterConfig, MemberStatus, State, managed_members

LABEL = "changed outside bcsync"


@dataclass(frozen=True, slots=True)
class ChangelogEntry:
    """One activity-log entry: when (UTC), the kind, the operator's user id, the log text."""

    time: datetime | None
    activity_type: str
    operator_id: str
    text: str


@dataclass(frozen=True, slots=True)
class Attribution:
    """The activity-log entry behind a difference."""

    who: str
    when: datetime | None
    text: str


@dataclass(frozen=True, slots=True)
class DriftItem:
    """One difference (config -> BC, so `added` means the BC has more) and who made it."""

    change: AccessChange
    attribution: Attribution | None = None
    label: str = LABEL


@dataclass(frozen=True)
class DriftReport:
    """One BC's drift, what was not drift (pending invitations), and the activity log's fate."""

    bc_id: str
    bc_name: str | None
    path: str
    items: list[DriftItem] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)
    # None when the activity log answered; otherwise why it did not.
    changelog_unavailable: str | None = None
    changelog_since: date | None = None
    calls: int = 0

    @property
    def has_drift(self) -> bool:
        return bool(self.items)


def compare(config: BusinessCenterConfig, actual: State) -> tuple[list[AccessChange], list[str]]:
    """The differences from the config to the BC, and the members still pending. Pure."""
    policy = config.policy
    declared = set(config.desired.assets)
    members = managed_members(actual, policy)
    pending = sorted(e for e, m in members.items() if m.status is MemberStatus.PENDING)
    have = State(
        bc_id=config.bc_id,
        members=members,
        assets=actual.assets,
        grants={
            k: g for k, g in actual.grants.items() if g.asset in declared and g.member in members
        },
        partners=actual.partners,
        shares={k: s for k, s in actual.shares.items() if s.asset in declared},
    )
    # A pending invitee's grants cannot be read (or assigned) until they accept.
    waiting = set(pending)
    want = State(
        bc_id=config.bc_id,
        members=config.desired.members,
        assets=config.desired.assets,
        grants={k: g for k, g in config.desired.grants.items() if g.member not in waiting},
        partners=config.desired.partners,
        shares=config.desired.shares,
    )
    names = Names(config.name, config.asset_aliases, config.partner_aliases)
    return access_changes(want, have, names), pending


def attribute(
    change: AccessChange, entries: Sequence[ChangelogEntry], emails: Mapping[str, str]
) -> Attribution | None:
    """The newest entry naming the change's subject (and asset); `emails` maps user id -> email."""
    needles = [change.subject.lower()]
    if change.asset is not None:
        needles.append(change.asset.id)
    for entry in entries:
        who = emails.get(entry.operator_id, "")
        text = entry.text.lower()
        # The emulator (and plausibly TikTok) starts with the operator's own email: a member's
        # own name at the start is who acted, not whom it was done to.
        if who and text.startswith(who.lower()):
            text = text[len(who) :]
        if all(n in text for n in needles):
            return Attribution(who or f"user {entry.operator_id}", entry.time, entry.text)
    return None
