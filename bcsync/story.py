"""What `bcsync why` finds: a person's grants, the config lines behind them, their commits. Pure."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from bcsync.access import AccessRow

NOT_COMMITTED = "0" * 40


@dataclass(frozen=True, slots=True)
class BlameLine:
    """The commit that last changed one line (None for a line not committed yet)."""

    commit: str | None
    author: str
    author_mail: str
    date: date | None
    summary: str

    def describe(self) -> str:
        if self.commit is None:
            return "not committed yet"
        return f"{self.commit[:12]} {self.author} {self.date} {self.summary!r}"


@dataclass(frozen=True, slots=True)
class LineStory:
    """One config line behind a grant: what it does, where it is, its text and its commit."""

    label: str
    ref: str
    text: str | None
    blame: BlameLine | None


@dataclass(frozen=True, slots=True)
class GrantStory:
    row: AccessRow
    lines: tuple[LineStory, ...]


@dataclass(frozen=True, slots=True)
class ExpiredEntry:
    bc_name: str
    what: str
    expired_on: date


@dataclass
class WhyResult:
    who: str
    asset: str | None
    stories: list[GrantStory] = field(default_factory=list)
    expired: list[ExpiredEntry] = field(default_factory=list)
    # file -> why blame is unavailable for it
    blame_unavailable: dict[str, str] = field(default_factory=dict)
