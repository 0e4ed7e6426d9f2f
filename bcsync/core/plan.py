"""The plan: one BC's changes in lock-out-safe order, their steps, and the guards' verdict. Pure.

`make_plan` is the whole trip, one way: diff -> order -> schedule -> guards -> Plan. The plan's
`checksum` names exactly what would run (its changes and steps, value for value): a saved plan
or a `--checksum` is applied only when a fresh plan has the same one.

Order, so that nobody is locked out: invites and promotions, then grants and
role changes, partner shares, revocations, member removals, and admin demotions and removals last.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from bcsync.core import safety
from bcsync.core.change import WARNING_CAUSES, Action, Change, Kind, NoopCause
from bcsync.core.diff import diff
from bcsync.core.incoming import IncomingDifference
from bcsync.core.model import BusinessCenterConfig, State
from bcsync.core.refusal import Refusal
from bcsync.core.schedule import Step, schedule
from bcsync.git.changed import ChangedScope, restrict
from bcsync.loop.applied import Ledger, settle

FORMAT_VERSION = 2

KIND_ORDER: Mapping[Kind, int] = {Kind.MEMBER: 0, Kind.PARTNER: 1, Kind.GRANT: 2, Kind.SHARE: 3}


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
        if not self.total:
            text = "No changes. The Business Center matches the configuration"
            return text + (f"; {self.waiting} waiting for acceptance." if self.waiting else ".")
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

    @classmethod
    def of(cls, changes: Iterable[Change]) -> Summary:
        counts: Counter[Action] = Counter()
        waiting = 0
        for c in changes:
            counts[c.action] += 1
            waiting += c.cause is NoopCause.PENDING
        return cls(counts[Action.CREATE], counts[Action.UPDATE], counts[Action.DELETE], waiting)

    def __add__(self, other: Summary) -> Summary:
        return Summary(
            self.add + other.add,
            self.change + other.change,
            self.remove + other.remove,
            self.waiting + other.waiting,
        )


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
    # Undeclared assets partners share with this BC: not its own, so not "unmanaged".
    incoming_assets: int = 0
    # How what partners share with this BC differs from `incoming:`: information only, never a
    # change (only the partner can share or stop sharing), and outside the checksum.
    incoming: tuple[IncomingDifference, ...] = ()
    config_path: str | None = None
    warnings: tuple[str, ...] = ()
    # What the safety guards refused in these steps; a refused plan is never applied.
    refusals: tuple[Refusal, ...] = ()
    # Entries already as the config wants them, by kind (for "N unchanged" in every view).
    unchanged: Mapping[str, int] = field(default_factory=dict)
    # `plan --changed`: the members and partners this plan read and compared; None: all.
    scope: ChangedScope | None = None
    # Where the BC was read: its API base URL, or `local:` and the local database's path.
    # A saved plan applies only where it was made (`reconcile.first_difference`).
    target: str | None = None

    @property
    def summary(self) -> Summary:
        return Summary.of(self.changes)

    @property
    def has_changes(self) -> bool:
        return bool(self.steps) or any(c.is_change for c in self.changes)

    @property
    def name(self) -> str:
        return self.bc_name or self.bc_id

    def checksum(self) -> str:
        """SHA-256 of what would run: the BC, its changes and its steps, canonical JSON."""
        body: dict[str, Any] = {
            "bc_id": self.bc_id,
            "changes": [c.to_json() for c in self.changes],
            "steps": [s.to_json() for s in self.steps],
        }
        # A scoped plan's scope decides what apply re-reads: editing it changes the checksum.
        if self.scope is not None:
            body["scope"] = self.scope.key()
        return _sha256(body)

    def to_json(self) -> dict[str, Any]:
        """The plan body (run metadata such as creation time lives in the document)."""
        doc: dict[str, Any] = {
            "bc_id": self.bc_id,
            "bc_name": self.bc_name,
            "config_path": self.config_path,
            "config_digest": self.config_digest,
            "actual_fingerprint": self.actual_fingerprint,
            "unmanaged_assets": self.unmanaged_assets,
            **({"incoming_assets": self.incoming_assets} if self.incoming_assets else {}),
            **({"incoming": [d.to_json() for d in self.incoming]} if self.incoming else {}),
            "summary": self.summary.to_json(),
            "unchanged": dict(self.unchanged),
            "warnings": list(self.warnings),
            "refusals": [r.to_json() for r in self.refusals],
            "checksum": self.checksum(),
            "changes": [c.to_json() for c in self.changes],
            "steps": [s.to_json() for s in self.steps],
        }
        if self.scope is not None:  # only scoped plans carry the key: full ones are unchanged
            doc["scope"] = {**self.scope.to_json(), "sentence": self.scope.sentence()}
        if self.target is not None:
            doc["target"] = self.target
        return doc

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> Plan:
        return cls(
            bc_id=doc["bc_id"],
            bc_name=doc.get("bc_name"),
            changes=tuple(Change.from_json(c) for c in doc.get("changes", ())),
            steps=tuple(Step.from_json(s) for s in doc.get("steps", ())),
            actual_fingerprint=doc["actual_fingerprint"],
            config_digest=doc["config_digest"],
            unmanaged_assets=int(doc.get("unmanaged_assets", 0)),
            incoming_assets=int(doc.get("incoming_assets", 0)),
            incoming=tuple(IncomingDifference.from_json(d) for d in doc.get("incoming", ())),
            config_path=doc.get("config_path"),
            warnings=tuple(doc.get("warnings", ())),
            refusals=tuple(Refusal.from_json(r) for r in doc.get("refusals", ())),
            unchanged=dict(doc.get("unchanged") or {}),
            scope=ChangedScope.from_json(doc["scope"]) if doc.get("scope") else None,
            target=doc.get("target"),
        )


def checksum_of(plans: Sequence[Plan]) -> str:
    """The checksum of a run over several BCs: its plans' checksums, in BC order."""
    return _sha256(sorted((p.bc_id, p.checksum()) for p in plans))


def _sha256(value: Any) -> str:
    blob = json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(blob.encode()).hexdigest()


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


def unchanged_counts(config: BusinessCenterConfig, changes: Sequence[Change]) -> dict[str, int]:
    """Desired entries that need nothing: declared, and neither created, updated nor explained."""
    desired = config.desired
    sizes = {
        Kind.MEMBER: len(desired.members),
        Kind.GRANT: len(desired.grants),
        Kind.PARTNER: len(desired.partners),
        Kind.SHARE: len(desired.shares),
    }
    # Deletions are of entries the config does not declare, so they are not subtracted.
    touched = Counter(c.kind for c in changes if c.action is not Action.DELETE)
    return {kind.value: max(0, n - touched[kind]) for kind, n in sizes.items()}


def make_plan(
    config: BusinessCenterConfig,
    actual: State,
    *,
    unmanaged_assets: int = 0,
    incoming_assets: int = 0,
    incoming: tuple[IncomingDifference, ...] = (),
    allow_removals: bool = False,
    scope: ChangedScope | None = None,
    unread_members: int = 0,
    applied: Ledger | None = None,
) -> Plan:
    """Diff, order, batch and guard: the plan for one BC (only `scope`'s entries, if given).

    Changes the `applied` ledger holds as made become explained no-ops: a read that lags
    behind the writes must not make them twice (bcsync.loop.applied).
    """
    # A scoped plan (`--changed`) read only part of the BC: both sides are cut to the scope
    # before diffing, so nothing outside it is ever removed for being absent from the read.
    # The guards still see the whole read (every admin) and count the members it did not list.
    compared = config if scope is None else replace(config, desired=restrict(config.desired, scope))
    changes = order(diff(compared, actual if scope is None else restrict(actual, scope)))
    if applied is not None:
        changes = order(settle(config.bc_id, changes, applied))
    steps = schedule(changes)
    warnings = (
        *config.warnings,
        *(f"{c.title}: {c.reason}" for c in changes if c.cause in WARNING_CAUSES),
    )
    return Plan(
        bc_id=config.bc_id,
        bc_name=config.name,
        changes=changes,
        steps=steps,
        actual_fingerprint=actual.fingerprint(),
        config_digest=config.digest,
        unmanaged_assets=unmanaged_assets,
        incoming_assets=incoming_assets,
        incoming=incoming,
        config_path=config.path,
        warnings=warnings,
        refusals=safety.refusals(
            steps, config, actual, allow_removals=allow_removals, unread_members=unread_members
        ),
        unchanged=unchanged_counts(compared, changes),
        scope=scope,
    )


def raise_if_refused(plans: Iterable[Plan]) -> None:
    """The one place a refused plan stops: an UnsafePlanError naming every refusal."""
    safety.raise_if_refused((p.name, p.refusals) for p in plans)
