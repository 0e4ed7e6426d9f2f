"""What a `plan --changed` reads: the entries whose desired state differs between two revisions.

Pure, no I/O. Both sides are built States (groups expanded, expiry evaluated on the same day), so
a group edit puts every member of the group in scope and a reformatted file puts nobody there.
The scope is a set of members (the membership and every grant of each) and a set of partners
(the partnership and every share with each). A scoped plan reads only those from the BC, plus
what the guards need (every admin, the member count), and compares only those: an entry outside
the scope was not read, so its absence from the read must never become a removal.

    scope = changed_scope(base.desired, head.desired, base="a1b2c3d4e5")
    restrict(actual, scope)        # the part of a state a scoped plan compares
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bcsync.core.model import BusinessCenterConfig, State

# How many names a sentence lists before "and N more".
SHOWN = 5


@dataclass(frozen=True, slots=True)
class ChangedScope:
    """The members and partners a scoped plan reads and may change; `base` names the revision."""

    members: frozenset[str]
    partners: frozenset[str]
    base: str

    @property
    def empty(self) -> bool:
        return not self.members and not self.partners

    def to_json(self) -> dict[str, Any]:
        return {"base": self.base, **self.key()}

    def key(self) -> dict[str, Any]:
        """What the scope decides (what is read and compared); `base` only describes it."""
        return {"members": sorted(self.members), "partners": sorted(self.partners)}

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> ChangedScope:
        return cls(
            members=frozenset(str(m).lower() for m in doc.get("members", ())),
            partners=frozenset(str(p) for p in doc.get("partners", ())),
            base=str(doc.get("base", "")),
        )

    def sentence(self) -> str:
        """What a reviewer must know: scoped, to what, and which commands read everything."""
        parts = (_listed(sorted(self.members), "member"), _listed(sorted(self.partners), "partner"))
        what = " and ".join(p for p in parts if p)
        since = f" since {self.base}" if self.base else ""
        read = (
            f"read and compared only {what}, whose desired state changed{since}"
            if what
            else f"no desired state changed{since}, so nothing was compared"
        )
        return (
            f"Scoped plan (--changed): {read}; nothing else was read or will be changed. "
            "`bcsync plan` or `bcsync drift` reads everything."
        )


def _listed(names: Sequence[str], noun: str) -> str:
    if not names:
        return ""
    shown = ", ".join(names[:SHOWN])
    more = f" and {len(names) - SHOWN} more" if len(names) > SHOWN else ""
    return f"{len(names)} {noun}{'' if len(names) == 1 else 's'} ({shown}{more})"


def changed_scope(before: State, after: State, *, base: str) -> ChangedScope:
    """Members and partners whose desired entries differ between two desired States."""
    members = _differing(before.members, after.members)
    for key in _differing(before.grants, after.grants):
        members.add(key[1])
    partners = _differing(before.partners, after.partners)
    for partner, _ in _differing(before.shares, after.shares):
        partners.add(partner)
    return ChangedScope(frozenset(members), frozenset(partners), base)


def _differing(before: Mapping[Any, object], after: Mapping[Any, object]) -> set[Any]:
    """Keys present on one side only, or whose entries compare unequal (roles, not sources)."""
    keys = before.keys() ^ after.keys()
    keys.update(k for k, v in after.items() if k in before and before[k] != v)
    return set(keys)


def scopes_between(
    base: Sequence[BusinessCenterConfig], head: Sequence[BusinessCenterConfig], *, label: str
) -> dict[str, ChangedScope | None]:
    """Per BC of `head`: its scope, or None when the base has no config for it (read it all)."""
    before = {c.bc_id: c.desired for c in base}
    return {
        c.bc_id: changed_scope(before[c.bc_id], c.desired, base=label)
        if c.bc_id in before
        else None
        for c in head
    }


def restrict(state: State, scope: ChangedScope) -> State:
    """The part of a state inside the scope; assets are kept (statuses, what is declared)."""
    members, partners = scope.members, scope.partners
    return State(
        bc_id=state.bc_id,
        members={e: m for e, m in state.members.items() if e in members},
        assets=state.assets,
        grants={k: g for k, g in state.grants.items() if g.member in members},
        partners={p: v for p, v in state.partners.items() if p in partners},
        shares={k: s for k, s in state.shares.items() if s.partner in partners},
    )
