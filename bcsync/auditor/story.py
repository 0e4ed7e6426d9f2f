"""What `bcsync why` finds: a person's grants, the config lines behind them, where each was gained.

Pure. `bcsync.auditor.origins` finds the commits from the configs' effective-access history.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from bcsync.auditor.access import AccessRow
from bcsync.auditor.revisions import Commit


@dataclass(frozen=True, slots=True)
class Gained:
    """The commit where an entry took its current value, and through what config source."""

    commit: Commit | None  # None: not committed yet (the working tree differs from HEAD)
    via: tuple[str, ...] = ()  # the entry's sources at that commit: FILE:LINE, "group G"
    merged_in: Commit | None = None  # the merge that brought `commit` to HEAD's first parents


@dataclass(frozen=True, slots=True)
class LineStory:
    """One config line behind a grant today: what it does, where it is, its text."""

    label: str
    ref: str
    text: str | None


@dataclass(frozen=True, slots=True)
class GrantStory:
    row: AccessRow
    lines: tuple[LineStory, ...]
    gained: Gained | None = None  # None: the history is unavailable (see WhyResult)
    # How the access reaches people when it is not a member's grant (a partner share, an
    # incoming share): said in words, since no member of this BC holds it.
    through: str | None = None


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
    # config file -> why its git history is unavailable
    history_unavailable: dict[str, str] = field(default_factory=dict)
    # With an ASSET: the partners it is shared with (another way people reach it), as sentences.
    shared_with: list[str] = field(default_factory=list)
