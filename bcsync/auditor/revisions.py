"""What history and diff report, as data: commits, each one's access changes, a diff. Pure.

`git.gitrev` reads commits with git; `auditor.history` computes the changes; the views in
`bcsync.render.access` show them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from bcsync.auditor.access_diff import AccessChange
from bcsync.errors import Problem


@dataclass(frozen=True, slots=True)
class Commit:
    """One commit: who, when (committer time, UTC), and its first parent."""

    sha: str
    parent: str | None
    author: str
    email: str
    authored: datetime
    committed: datetime
    subject: str

    @property
    def short(self) -> str:
        return self.sha[:10]

    @property
    def day(self) -> date:
        """The UTC date the commit landed: expiry dates are evaluated on it."""
        return self.committed.astimezone(UTC).date()


@dataclass(frozen=True)
class CommitAccess:
    """One commit's effect on access, or why it could not be computed."""

    commit: Commit
    evaluated_on: date
    changes: list[AccessChange] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def invalid(self) -> bool:
        return any(p.is_error for p in self.problems)


@dataclass(frozen=True)
class RevisionDiff:
    """What `bcsync diff` compares and finds."""

    base: Commit
    base_how: str
    head: Commit | None  # None: the working tree
    evaluated_on: date
    changes: list[AccessChange]
