"""A guard's refusal as data: its kind, whom it protects, the numbers, and the flag that overrides
it (None when nothing does). Pure, no I/O.

The guards (`safety`) decide; this module only carries and words their verdict, so tests match on
fields and renderers on `sentence()`, and no code reads the prose (octoDNS's `TooMuchChange`
carries the percentage, threshold and counts the same way).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from bcsync.core.emails import visible

ALLOW_REMOVALS = "--allow-removals"


class RefusalKind(StrEnum):
    ADMIN_FLOOR = "admin_floor"  # a prefix of the steps leaves fewer than min_admins admins
    REQUIRED_ADMIN = "required_admin"  # a step demotes or removes one of required_admins
    PROTECTED = "protected"  # a step takes access from a protected member or partner
    REMOVAL_LIMIT = "removal_limit"  # the steps remove more than max_removals
    IDENTITY_MOVED = "identity_moved"  # a protected name now stands for someone else
    LOOKALIKE = "lookalike"  # a declared email looks like (TS #39) another the BC has


class Act(StrEnum):
    """What a refused step does to its subject."""

    REMOVE = "remove"
    DEMOTE = "demote"
    REVOKE = "revoke"
    DOWNGRADE = "downgrade"
    DOWNGRADE_FINANCE = "downgrade_finance"
    UNSHARE = "unshare"
    INVITE = "invite"


class SubjectKind(StrEnum):
    MEMBER = "member"
    PARTNER = "partner"
    ENTRIES = "entries"  # the managed entries as a whole (the removal limit)


@dataclass(frozen=True, slots=True)
class Subject:
    """Who a refusal is about, as people and the BC know them."""

    kind: SubjectKind
    id: str = ""  # a member's email, a partner's BC id
    alias: str | None = None  # a partner's alias in config (or its name in the BC)
    user_id: str | None = None  # a joined member's TikTok user id

    def label(self) -> str:
        if self.kind is SubjectKind.ENTRIES:
            return "managed entries"
        if self.kind is SubjectKind.PARTNER:
            return f"partner {self.alias} ({self.id})" if self.alias else f"partner {self.id}"
        text = visible(self.id)
        return f"{text} (user {self.user_id})" if self.user_id else text

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "id": self.id,
            "alias": self.alias,
            "user_id": self.user_id,
        }

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> Subject:
        return cls(SubjectKind(doc["kind"]), doc["id"], doc.get("alias"), doc.get("user_id"))


@dataclass(frozen=True, slots=True)
class Refusal:
    """One guard's verdict. `count`/`total`/`limit` by kind: removals, existing entries and
    max_removals (REMOVAL_LIMIT); admins left and min_admins (ADMIN_FLOOR)."""

    kind: RefusalKind
    subject: Subject
    act: Act | None = None
    # What the act is about: an asset label, "operator → analyst", "manager → analyst".
    detail: str | None = None
    count: int | None = None
    total: int | None = None
    limit: str | None = None
    # IDENTITY_MOVED: who the protected name stands for now; LOOKALIKE: the address it mimics.
    other: Subject | None = None
    # The flag that overrides this refusal; None when nothing does (protection, the floor).
    override: str | None = None

    def sentence(self) -> str:
        """The refusal in words, for every view and the error message."""
        text = _SENTENCES[self.kind](self)
        return f"{text}; pass {self.override} to proceed" if self.override else text

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "subject": self.subject.to_json(),
            "act": self.act.value if self.act else None,
            "detail": self.detail,
            "count": self.count,
            "total": self.total,
            "limit": self.limit,
            "other": self.other.to_json() if self.other else None,
            "override": self.override,
            "message": self.sentence(),
        }

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> Refusal:
        return cls(
            kind=RefusalKind(doc["kind"]),
            subject=Subject.from_json(doc["subject"]),
            act=Act(doc["act"]) if doc.get("act") else None,
            detail=doc.get("detail"),
            count=doc.get("count"),
            total=doc.get("total"),
            limit=doc.get("limit"),
            other=Subject.from_json(doc["other"]) if doc.get("other") else None,
            override=doc.get("override"),
        )


_VERB = {
    Act.REMOVE: "removing",
    Act.DEMOTE: "demoting",
    Act.REVOKE: "revoking",
    Act.DOWNGRADE: "downgrading",
    Act.DOWNGRADE_FINANCE: "downgrading the finance role of",
    Act.UNSHARE: "unsharing",
    Act.INVITE: "inviting",
}


def _verb(r: Refusal) -> str:
    return _VERB[r.act] if r.act else "changing"


def _admin_floor(r: Refusal) -> str:
    return (
        f"{_verb(r)} admin {r.subject.label()} would leave {r.count} admin(s); "
        f"policy min_admins is {r.limit}"
    )


def _required(r: Refusal) -> str:
    who = r.subject.label()
    return f"{_verb(r)} {who}, a required admin (policy.required_admins), is never allowed"


def _protected(r: Refusal) -> str:
    who = f"protected {r.subject.label()}"
    if r.act is Act.REVOKE:
        return f"refusing to revoke {r.detail} of {who} (policy.protected)"
    if r.act is Act.DOWNGRADE:
        return f"refusing to downgrade {r.detail} of {who} (policy.protected)"
    if r.act is Act.DOWNGRADE_FINANCE:
        return f"refusing to downgrade the finance role of {who} ({r.detail}) (policy.protected)"
    if r.act is Act.UNSHARE:
        return f"refusing to unshare {r.detail} from {who} (policy.protected)"
    return f"refusing to {r.act or 'change'} {who} (policy.protected)"


def _removal_limit(r: Refusal) -> str:
    count, total = r.count or 0, r.total or 0
    if r.limit and r.limit.endswith("%") and total:
        compared = f"{100 * count / total:.0f}% > max_removals {r.limit}"
    else:
        compared = f"{count} > max_removals {r.limit}"
    return f"refusing to remove {count} of {total} managed entries ({compared})"


def _moved(r: Refusal) -> str:
    new = r.other.label() if r.other else "?"
    return (
        f"refusing to {r.act or 'remove'} {r.subject.label()} while {r.detail} {new} is new to the "
        "Business Center: protection binds to the identity, so this reads as the protected entry "
        "moving to someone else; add the new identity and apply first, then remove the old one"
    )


def _lookalike(r: Refusal) -> str:
    other = r.other.label() if r.other else "?"
    return (
        f"refusing to {r.act or 'invite'} {r.subject.label()}: it looks like {other}, "
        "already in the Business Center (Unicode confusables); write the address exactly as "
        "the BC has it"
    )


_SENTENCES = {
    RefusalKind.ADMIN_FLOOR: _admin_floor,
    RefusalKind.REQUIRED_ADMIN: _required,
    RefusalKind.PROTECTED: _protected,
    RefusalKind.REMOVAL_LIMIT: _removal_limit,
    RefusalKind.IDENTITY_MOVED: _moved,
    RefusalKind.LOOKALIKE: _lookalike,
}


def hint_for(refusals: Sequence[Refusal]) -> str:
    """The error's hint: the flags that exist for these refusals, and only those."""
    flags = sorted({r.override for r in refusals if r.override})
    parts = []
    if flags:
        parts.append(f"pass {' '.join(flags)} if the removals are intended")
    if any(not r.override for r in refusals):
        parts.append("protection, required admins and min_admins have no override: fix the config")
    return "; ".join(parts)
