"""The plan: ordered, batched changes. Pure data and pure functions, no I/O.

A `Change` is one entry a reviewer reads (`{id, action, kind, key, before, after, reason}`).
A `Step` is one API call that carries out one or more changes (an invite of up to 50 emails,
a partner share of up to 50 ad accounts, one assign...). `apply` runs steps; renderers show changes.

Order, so that nobody is locked out (DESIGN.md section 6): invites and promotions, then grants and
role changes, partner shares, revocations, member removals, and admin demotions and removals last.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum
from typing import Any

FORMAT_VERSION = 1
INVITE_BATCH = 50
SHARE_BATCH = 50


class Action(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    NOOP = "no-op"


class Kind(StrEnum):
    MEMBER = "member"
    GRANT = "grant"
    PARTNER = "partner"
    SHARE = "partner_share"


class Stage(IntEnum):
    """Apply stages, in order. Later stages take access away; earlier ones give it."""

    INVITE_PROMOTE = 1
    GRANT = 2
    SHARE = 3
    REVOKE = 4
    REMOVE_MEMBER = 5
    DEMOTE_ADMIN = 6


STAGE_TITLES: Mapping[Stage, str] = {
    Stage.INVITE_PROMOTE: "invites and promotions",
    Stage.GRANT: "grants and role changes",
    Stage.SHARE: "partner shares",
    Stage.REVOKE: "revocations",
    Stage.REMOVE_MEMBER: "member removals",
    Stage.DEMOTE_ADMIN: "admin demotions and removals",
}


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
class Change:
    """One reviewable change (or an explained no-op)."""

    id: str
    action: Action
    kind: Kind
    key: str
    before: Mapping[str, Any] | None
    after: Mapping[str, Any] | None
    reason: str
    # A human title with aliases, e.g. "bob@acme.com on ad_accounts.acme-eu".
    title: str = ""
    stage: Stage | None = None
    # What the API call needs: email, user_id, asset_type, asset_id, partner_bc_id...
    target: Mapping[str, Any] = field(default_factory=dict)

    @property
    def is_change(self) -> bool:
        return self.action is not Action.NOOP

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "action": self.action.value,
            "kind": self.kind.value,
            "key": self.key,
            "title": self.title,
            "before": dict(self.before) if self.before is not None else None,
            "after": dict(self.after) if self.after is not None else None,
            "reason": self.reason,
            "stage": int(self.stage) if self.stage is not None else None,
            "target": _jsonable(self.target),
        }

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> Change:
        stage = doc.get("stage")
        return cls(
            id=doc["id"],
            action=Action(doc["action"]),
            kind=Kind(doc["kind"]),
            key=doc["key"],
            before=doc.get("before"),
            after=doc.get("after"),
            reason=doc.get("reason", ""),
            title=doc.get("title", ""),
            stage=Stage(stage) if stage is not None else None,
            target=doc.get("target") or {},
        )


@dataclass(frozen=True, slots=True)
class Step:
    """One API call carrying out `changes`; runs after every step in `depends_on` succeeded."""

    id: str
    stage: Stage
    op: Op
    params: Mapping[str, Any]
    changes: tuple[str, ...]
    depends_on: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "stage": int(self.stage),
            "op": self.op.value,
            "params": _jsonable(self.params),
            "changes": list(self.changes),
            "depends_on": list(self.depends_on),
        }

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> Step:
        return cls(
            id=doc["id"],
            stage=Stage(doc["stage"]),
            op=Op(doc["op"]),
            params=doc.get("params", {}),
            changes=tuple(doc.get("changes", ())),
            depends_on=tuple(doc.get("depends_on", ())),
        )


@dataclass(frozen=True, slots=True)
class Summary:
    add: int = 0
    change: int = 0
    remove: int = 0
    waiting: int = 0

    @property
    def total(self) -> int:
        return self.add + self.change + self.remove

    def sentence(self) -> str:
        text = f"Plan: {self.add} to add, {self.change} to change, {self.remove} to remove"
        if self.waiting:
            text += f"; {self.waiting} waiting for acceptance"
        return text + "."

    def to_json(self) -> dict[str, int]:
        return {
            "add": self.add,
            "change": self.change,
            "remove": self.remove,
            "waiting": self.waiting,
            "total": self.total,
        }


@dataclass(frozen=True)
class Plan:
    """Everything to do to one BC, in order; the JSON form is `schemas/plan.schema.json`."""

    bc_id: str
    bc_name: str | None
    changes: tuple[Change, ...]
    steps: tuple[Step, ...]
    actual_fingerprint: str
    config_digest: str
    unmanaged_assets: int = 0
    config_path: str | None = None
    warnings: tuple[str, ...] = ()

    @property
    def summary(self) -> Summary:
        counts = Counter(c.action for c in self.changes)
        waiting = sum(
            1
            for c in self.changes
            if c.action is Action.NOOP and c.kind is Kind.MEMBER and "waiting" in c.reason
        )
        return Summary(
            add=counts[Action.CREATE],
            change=counts[Action.UPDATE],
            remove=counts[Action.DELETE],
            waiting=waiting,
        )

    @property
    def has_changes(self) -> bool:
        return any(c.is_change for c in self.changes)

    def change(self, change_id: str) -> Change:
        return self._index()[change_id]

    def _index(self) -> dict[str, Change]:
        return {c.id: c for c in self.changes}

    def to_json(self) -> dict[str, Any]:
        """The plan body (without run metadata such as creation time; see render.json)."""
        return {
            "bc_id": self.bc_id,
            "bc_name": self.bc_name,
            "config_path": self.config_path,
            "config_digest": self.config_digest,
            "actual_fingerprint": self.actual_fingerprint,
            "unmanaged_assets": self.unmanaged_assets,
            "summary": self.summary.to_json(),
            "warnings": list(self.warnings),
            "changes": [c.to_json() for c in self.changes],
            "steps": [s.to_json() for s in self.steps],
        }

    def digest(self) -> str:
        """SHA-256 of the plan body: names this exact plan in audit records."""
        blob = json.dumps(self.to_json(), sort_keys=True, separators=(",", ":"))
        return "sha256:" + hashlib.sha256(blob.encode()).hexdigest()

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> Plan:
        return cls(
            bc_id=doc["bc_id"],
            bc_name=doc.get("bc_name"),
            changes=tuple(Change.from_json(c) for c in doc.get("changes", ())),
            steps=tuple(Step.from_json(s) for s in doc.get("steps", ())),
            actual_fingerprint=doc["actual_fingerprint"],
            config_digest=doc.get("config_digest", ""),
            unmanaged_assets=int(doc.get("unmanaged_assets", 0)),
            config_path=doc.get("config_path"),
            warnings=tuple(doc.get("warnings", ())),
        )


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, StrEnum):
        return value.value
    return value


def chunked(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


@dataclass
class StepBuilder:
    """Numbers steps in the order they are added."""

    steps: list[Step] = field(default_factory=list)

    def add(
        self,
        stage: Stage,
        op: Op,
        params: Mapping[str, Any],
        changes: Sequence[str],
        depends_on: Sequence[str] = (),
    ) -> str:
        step_id = f"s{len(self.steps) + 1}"
        self.steps.append(Step(step_id, stage, op, params, tuple(changes), tuple(depends_on)))
        return step_id


KIND_ORDER: Mapping[Kind, int] = {Kind.MEMBER: 0, Kind.PARTNER: 1, Kind.GRANT: 2, Kind.SHARE: 3}


def order(changes: Iterable[Change]) -> tuple[Change, ...]:
    """The lock-out-safe order: by stage, then kind, then key; explained no-ops last."""
    return tuple(
        sorted(
            changes,
            key=lambda c: (
                int(c.stage) if c.stage is not None and c.is_change else 99,
                KIND_ORDER[c.kind],
                c.key,
            ),
        )
    )


def schedule(changes: Sequence[Change]) -> tuple[Step, ...]:
    """Batch ordered changes into API calls, with the dependencies between them."""
    b = StepBuilder()
    real = [c for c in changes if c.is_change and c.stage is not None]
    by_stage: dict[Stage, list[Change]] = {stage: [] for stage in Stage}
    for change in real:
        by_stage[change.stage].append(change)  # type: ignore[index]

    # 1. Invites (batched by what they carry) and promotions.
    carried: dict[str, list[Change]] = {}
    for change in by_stage[Stage.INVITE_PROMOTE]:
        if change.kind is Kind.GRANT:
            carried.setdefault(change.target["email"], []).append(change)
    groups: dict[tuple[Any, ...], list[Change]] = {}
    promotions: list[str] = []
    for change in by_stage[Stage.INVITE_PROMOTE]:
        if change.kind is not Kind.MEMBER:
            continue
        if change.action is Action.CREATE:
            email = change.target["email"]
            grants = carried.get(email, [])
            role = grants[0].after["role"] if grants else None  # type: ignore[index]
            assets = tuple(sorted(g.target["asset_id"] for g in grants))
            after = change.after or {}
            key = (after.get("role"), after.get("finance_role"), role, assets)
            groups.setdefault(key, []).append(change)
        else:
            promotions.append(_update_member(b, change))
    for (role, finance_role, adv_role, assets), members in groups.items():
        for batch in chunked(members, INVITE_BATCH):
            emails = [c.target["email"] for c in batch]
            ids = [c.id for c in batch]
            for email in emails:
                ids.extend(g.id for g in carried.get(email, []))
            params = {
                "emails": emails,
                "role": role,
                "finance_role": finance_role,
                "ad_accounts": list(assets),
                "advertiser_role": adv_role,
            }
            b.add(Stage.INVITE_PROMOTE, Op.INVITE, params, ids)

    # 2. Grants and role changes.
    for change in by_stage[Stage.GRANT]:
        if change.kind is Kind.MEMBER:
            _update_member(b, change)
        else:
            params = {
                "user_id": change.target.get("user_id"),
                "email": change.target["email"],
                "asset_type": change.target["asset_type"],
                "asset_id": change.target["asset_id"],
                "role": (change.after or {})["role"],
            }
            b.add(Stage.GRANT, Op.ASSIGN, params, [change.id])

    # 3. Partner shares: one call per partner and role, up to 50 ad accounts each.
    new_partners = {
        c.target["partner_bc_id"]: c for c in by_stage[Stage.SHARE] if c.kind is Kind.PARTNER
    }
    share_groups: dict[tuple[str, str], list[Change]] = {}
    for change in by_stage[Stage.SHARE]:
        if change.kind is Kind.SHARE:
            key = (change.target["partner_bc_id"], (change.after or {})["role"])
            share_groups.setdefault(key, []).append(change)
    first_step: dict[str, str] = {}
    for (partner, role), shares in share_groups.items():
        for batch in chunked(shares, SHARE_BATCH):
            ids = [c.id for c in batch]
            depends: list[str] = []
            if partner in new_partners:
                if partner in first_step:
                    depends.append(first_step[partner])
                else:
                    ids.insert(0, new_partners[partner].id)
            params = {
                "partner_bc_id": partner,
                "asset_ids": [c.target["asset_id"] for c in batch],
                "role": role,
            }
            step = b.add(Stage.SHARE, Op.SHARE, params, ids, depends)
            first_step.setdefault(partner, step)

    # 4. Revocations.
    unshares: dict[tuple[str, str], list[Change]] = {}
    for change in by_stage[Stage.REVOKE]:
        if change.kind is Kind.GRANT:
            params = {
                "user_id": change.target.get("user_id"),
                "email": change.target["email"],
                "asset_type": change.target["asset_type"],
                "asset_id": change.target["asset_id"],
            }
            b.add(Stage.REVOKE, Op.UNASSIGN, params, [change.id])
        elif change.kind is Kind.SHARE:
            key = (change.target["partner_bc_id"], change.target["asset_type"])
            unshares.setdefault(key, []).append(change)
        elif change.kind is Kind.PARTNER:
            params = {"partner_bc_id": change.target["partner_bc_id"]}
            b.add(Stage.REVOKE, Op.REMOVE_PARTNER, params, [change.id])
    for (partner, asset_type), shares in unshares.items():
        for batch in chunked(shares, SHARE_BATCH):
            params = {
                "partner_bc_id": partner,
                "asset_type": asset_type,
                "asset_ids": [c.target["asset_id"] for c in batch],
            }
            b.add(Stage.REVOKE, Op.UNSHARE, params, [c.id for c in batch])

    # 5. Member removals; 6. admin demotions and removals, only once every promotion succeeded.
    for stage in (Stage.REMOVE_MEMBER, Stage.DEMOTE_ADMIN):
        depends = promotions if stage is Stage.DEMOTE_ADMIN else []
        for change in by_stage[stage]:
            if change.action is Action.UPDATE:
                _update_member(b, change, depends)
            else:
                params = {
                    "email": change.target["email"],
                    "user_id": change.target.get("user_id"),
                }
                b.add(stage, Op.REMOVE_MEMBER, params, [change.id], depends)
    return tuple(b.steps)


def _update_member(b: StepBuilder, change: Change, depends: Sequence[str] = ()) -> str:
    after = change.after or {}
    params = {
        "user_id": change.target.get("user_id"),
        "email": change.target["email"],
        "role": after.get("role"),
        "finance_role": after.get("finance_role"),
    }
    return b.add(change.stage or Stage.GRANT, Op.UPDATE_MEMBER, params, [change.id], depends)
