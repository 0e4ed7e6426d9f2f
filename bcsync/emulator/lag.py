"""Read lag: reads see the Business Center as it was SECONDS ago; writes take effect at once.

Large services answer reads from copies that catch up a few seconds after a write, and TikTok
promises nothing about reading your own writes. To rehearse that, a lagging emulator keeps a
second database, the replica, made as a copy of the primary when the emulator starts. Writes run
on the primary (so they are checked against the true state, as the real backend would) and every
committed write is journaled with its time; before a read, the replica replays the writes that are
at least `lag` seconds old, through the same handlers, and the read is answered from it. The
replica passes through the primary's states, late.

Other admins' changes made between two pages of a read (`AfterPage`) are ordinary writes: they
are run as API calls of a named member, and lag like any other.
"""

from __future__ import annotations

import logging
import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .errors import ApiFailure, EmulatorError
from .store import Store, Tx

log = logging.getLogger("bcsync.emulator")
MAX_LAG = 3600.0  # [ours] an hour: a rehearsal, not a broken replica
Replay = Callable[[Tx], Any]


def check_lag(seconds: object) -> float:
    """A read lag in seconds, finite and between 0 and MAX_LAG; EmulatorError otherwise."""
    if (
        isinstance(seconds, bool)
        or not isinstance(seconds, int | float)
        or not math.isfinite(seconds)
        or not 0 <= seconds <= MAX_LAG
    ):
        raise EmulatorError(f"read lag must be a number of seconds between 0 and {MAX_LAG:,.0f}")
    return float(seconds)


@dataclass(frozen=True, slots=True)
class Journaled:
    at: float
    replay: Replay


class Replica:
    """The lagging copy that reads are answered from."""

    def __init__(self, primary: Store, lag: float) -> None:
        self.lag = check_lag(lag)
        self.store = Store(":memory:")
        self._journal: deque[Journaled] = deque()
        primary.copy_to(self.store)

    def record(self, at: float, replay: Replay) -> None:
        """A write committed on the primary at `at`; replayed here once it is `lag` old."""
        self._journal.append(Journaled(at, replay))

    def catch_up(self, now: float) -> Store:
        """Replay every write at least `lag` seconds old; the store reads are answered from."""
        while self._journal and self._journal[0].at <= now - self.lag:
            entry = self._journal.popleft()
            try:
                with self.store.transaction(write=True) as tx:
                    entry.replay(tx)
            except (ApiFailure, EmulatorError) as failure:  # a bug if it happens: say so
                log.warning("replaying a write on the replica failed: %s", failure)
        return self.store

    def restart(self, primary: Store) -> None:
        """After a reset: the replica is the primary again, nothing pending."""
        self._journal.clear()
        primary.copy_to(self.store)

    @property
    def pending(self) -> int:
        """Writes not yet visible to reads."""
        return len(self._journal)

    def close(self) -> None:
        self.store.close()


@dataclass(frozen=True, slots=True)
class AfterPage:
    """Calls another member makes right after the emulator answers `page` of the list at `path`.

    Each call is `{"path": "bc/member/delete/", "body": {...}}`, made with the token of the member
    whose email is `actor`. Each answer of that page fires the first hook waiting for it, once.
    """

    path: str
    page: int
    actor: str
    calls: tuple[dict[str, Any], ...]

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> AfterPage:
        path, page, actor, calls = (body.get(k) for k in ("path", "page", "as", "calls"))
        if (
            not isinstance(path, str)
            or type(page) is not int
            or page < 1
            or not isinstance(actor, str)
            or not isinstance(calls, list)
            or not all(
                isinstance(c, dict)
                and isinstance(c.get("path"), str)
                and isinstance(c.get("body", {}), dict)
                for c in calls
            )
        ):
            raise EmulatorError(
                'expected {"path": "bc/member/get/", "page": 1, "as": "EMAIL", '
                '"calls": [{"path": "bc/member/delete/", "body": {...}}]}'
            )
        return cls(path.strip("/") + "/", page, actor.lower(), tuple(calls))
