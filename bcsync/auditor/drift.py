"""Drift: what in the Business Center differs from the config, and who last changed it. Read-only.

The comparison is the access diff from the config's desired State to the BC's actual State,
seen through the plan's scope: ignored members are never drift; grants and shares count on
declared assets only; a member who has not accepted an invitation (or whose grants cannot be
read until then) is pending, not drift; a declined or lapsed invitation is a missing member.

Who made a difference: the newest activity-log entry about the same subject and field, and
only such an entry: its type (USER for a membership or member role, ACCOUNT / ASSET for a grant,
BUSINESS for a partner, ACCOUNT for a share), the member's email or user id or the partner's BC
id, the asset id for a grant or share, and a verb of the right direction (assigned, changed,
unassigned...). The log's wording is not documented (the emulator's is matched), so an entry
that does not say all of that names nobody: "no activity-log entry about it", never a guess.
An entry that bcsync's own apply wrote is recognised from the audit log (a succeeded record of
the same BC, subject and asset that set the value the BC has now, written within minutes after
the entry; it names the plan checksum and request ids): that difference is the config having
changed since, never a change by hand.
Where the log does not answer, that is said once and the report carries on.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum

from bcsync.auditor.access_diff import AccessChange, Effect, Kind, Names, access_changes
from bcsync.core.incoming import IncomingDifference
from bcsync.core.model import BusinessCenterConfig, MemberStatus, State, managed_members

# An audit record is written when its API call has ended: at most this long after the entry.
APPLY_WINDOW = timedelta(minutes=15)


class Cause(StrEnum):
    """What a difference is, as far as the activity log and the audit log tell."""

    BY_HAND = "changed outside bcsync"
    BY_BCSYNC = "as bcsync applied it; the config changed since"
    UNKNOWN = "no activity-log entry about it"
    NO_LOG = "not attributed: no activity log"


LABEL = Cause.BY_HAND.value


@dataclass(frozen=True, slots=True)
class ChangelogEntry:
    """One activity-log entry: when (UTC), the kind, the operator's user id, the log text."""

    time: datetime | None
    activity_type: str
    operator_id: str
    text: str


@dataclass(frozen=True, slots=True)
class OwnApply:
    """A succeeded change of bcsync's own apply, from the audit log."""

    time: datetime
    bc_id: str
    kind: str  # the plan change's kind: member, grant, partner, partner_share
    subject: str  # email, or partner BC id
    asset_id: str | None
    op: str
    after: str | None  # the value it set, as drift compares it (None: it removed the entry)
    plan_digest: str
    request_ids: tuple[str, ...]
    actor: str


@dataclass(frozen=True, slots=True)
class Attribution:
    """The activity-log entry behind a difference; `applied` when bcsync's own apply wrote it."""

    who: str
    when: datetime | None
    text: str
    applied: OwnApply | None = None


@dataclass(frozen=True, slots=True)
class DriftItem:
    """One difference (config -> BC, so `added` means the BC has more) and who made it."""

    change: AccessChange
    attribution: Attribution | None = None
    cause: Cause = Cause.BY_HAND

    @property
    def label(self) -> str:
        return self.cause.value


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
    # How what partners share with the BC differs from `incoming:` (drift bcsync cannot fix).
    incoming: tuple[IncomingDifference, ...] = ()

    @property
    def has_drift(self) -> bool:
        return bool(self.items) or bool(self.incoming)

    @property
    def count(self) -> int:
        """Differences: access changes and incoming ones."""
        return len(self.items) + len(self.incoming)


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


# The field of each kind of difference: activity types, and the leading verbs by direction.
_TYPES: Mapping[Kind, frozenset[str]] = {
    Kind.MEMBER: frozenset({"USER"}),
    Kind.GRANT: frozenset({"ACCOUNT", "ASSET"}),
    Kind.PARTNER: frozenset({"BUSINESS"}),
    Kind.SHARE: frozenset({"ACCOUNT"}),
}
_VERBS: Mapping[tuple[Kind, str], frozenset[str]] = {
    (Kind.MEMBER, "gained"): frozenset({"invited", "joined", "accepted", "added"}),
    (Kind.MEMBER, "lost"): frozenset({"removed", "revoked", "deleted"}),
    (Kind.MEMBER, "role"): frozenset({"updated", "changed"}),
    (Kind.GRANT, "gained"): frozenset({"assigned", "changed", "invited"}),
    (Kind.GRANT, "lost"): frozenset({"unassigned", "removed"}),
    (Kind.GRANT, "role"): frozenset({"changed", "assigned"}),
    (Kind.PARTNER, "gained"): frozenset({"added"}),
    (Kind.PARTNER, "lost"): frozenset({"removed", "deleted"}),
    (Kind.SHARE, "gained"): frozenset({"shared", "changed"}),
    (Kind.SHARE, "lost"): frozenset({"stopped", "unshared", "removed"}),
    (Kind.SHARE, "role"): frozenset({"changed", "shared"}),
}
_PLAN_KINDS: Mapping[Kind, str] = {
    Kind.MEMBER: "member",
    Kind.GRANT: "grant",
    Kind.PARTNER: "partner",
    Kind.SHARE: "partner_share",
}


def _direction(change: AccessChange) -> str:
    """The field's direction as the BC moved away from the config: gained, lost, or role."""
    if change.effect is Effect.ADDED:
        return "gained"
    return "lost" if change.effect is Effect.REMOVED else "role"


def is_about(
    change: AccessChange,
    entry: ChangelogEntry,
    emails: Mapping[str, str],
    user_ids: Mapping[str, str],
) -> bool:
    """Whether the entry is about the change's subject and field (type, ids, direction)."""
    kind = change.kind
    text = entry.text.lower()
    who = emails.get(entry.operator_id, "").lower()
    # The emulator (and plausibly TikTok) starts with the operator's own email: a member's own
    # name at the start is who acted, not whom it was done to.
    if who and text.startswith(who):
        text = text[len(who) :]
    words = text.split()
    if words and "@" in words[0]:  # an operator no longer a member: their email, then the verb
        words = words[1:]
        text = " ".join(words)
    verb = words[0] if words else ""
    direction = _direction(change)
    types = _TYPES[kind] | ({"USER"} if kind is Kind.GRANT and verb == "invited" else set())
    if entry.activity_type.upper() not in types or verb not in _VERBS[(kind, direction)]:
        return False
    subject = change.subject.lower()
    uid = user_ids.get(subject)
    if subject not in text and not (uid and uid in text):
        return False
    if change.asset is not None and change.asset.id not in text:
        return False
    # A member's role is its own field: "updated bob: role ..." is not about a membership.
    return not (kind is Kind.MEMBER and direction == "role" and "role" not in text)


def own_applies(records: Iterable[Mapping[str, object]]) -> list[OwnApply]:
    """The succeeded changes in audit records (`schemas/audit.schema.json`); others skipped."""
    out = []
    for r in records:
        change, when = r.get("change"), _record_time(r.get("time"))
        if not isinstance(change, dict) or when is None or r.get("result") != "succeeded":
            continue
        target = change.get("target")
        if not isinstance(target, dict):
            continue
        subject = target.get("email") or target.get("partner_bc_id")
        if not isinstance(subject, str):
            continue
        ids = r.get("request_ids")
        asset_id = target.get("asset_id")
        out.append(
            OwnApply(
                time=when,
                bc_id=str(r.get("bc_id")),
                kind=str(change.get("kind")),
                subject=subject.lower(),
                asset_id=str(asset_id) if asset_id is not None else None,
                op=str(r.get("op")),
                after=_value_set(change),
                plan_digest=str(r.get("plan_digest")),
                request_ids=tuple(str(i) for i in ids) if isinstance(ids, list) else (),
                actor=str(r.get("actor") or ""),
            )
        )
    return out


def _value_set(change: Mapping[str, object]) -> str | None:
    """What a plan change set, in `access_diff`'s terms: a role, "admin (finance manager)"."""
    after = change.get("after")
    if not isinstance(after, dict):
        return None
    if change.get("kind") == "partner":
        return "partner"
    role = str(after.get("role"))
    finance = after.get("finance_role")
    if change.get("kind") == "member" and finance:
        return f"{role} (finance {finance})"
    return role


def _record_time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        found = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return found if found.tzinfo else found.replace(tzinfo=UTC)


def _applied_by_bcsync(
    change: AccessChange, entry: ChangelogEntry, applies: Sequence[OwnApply]
) -> OwnApply | None:
    """The audit record of bcsync's own apply that wrote `entry`, if there is one."""
    if entry.time is None:
        return None
    asset_id = change.asset.id if change.asset is not None else None
    kind = _PLAN_KINDS[change.kind]
    for applied in applies:
        # bcsync's write explains the BC's value only if it set that very value.
        if (
            applied.after == change.after
            and applied.kind == kind
            and applied.bc_id == change.bc_id
            and applied.subject == change.subject.lower()
            and applied.asset_id == asset_id
            and entry.time - timedelta(seconds=2) <= applied.time <= entry.time + APPLY_WINDOW
        ):
            return applied
    return None


def attribute(
    change: AccessChange,
    entries: Sequence[ChangelogEntry],
    emails: Mapping[str, str],
    applies: Sequence[OwnApply] = (),
) -> Attribution | None:
    """The newest entry about the change's subject and field; `emails` maps user id -> email."""
    user_ids = {e.lower(): uid for uid, e in emails.items()}
    for entry in entries:
        if is_about(change, entry, emails, user_ids):
            who = emails.get(entry.operator_id) or f"user {entry.operator_id}"
            applied = _applied_by_bcsync(change, entry, applies)
            return Attribution(who, entry.time, entry.text, applied)
    return None


def explain(
    change: AccessChange,
    entries: Sequence[ChangelogEntry] | None,
    emails: Mapping[str, str],
    applies: Sequence[OwnApply] = (),
) -> DriftItem:
    """One difference with its attribution and cause (`entries` None: the log did not answer)."""
    if entries is None:
        return DriftItem(change, None, Cause.NO_LOG)
    found = attribute(change, entries, emails, applies)
    if found is None:
        return DriftItem(change, None, Cause.UNKNOWN)
    return DriftItem(change, found, Cause.BY_BCSYNC if found.applied else Cause.BY_HAND)
