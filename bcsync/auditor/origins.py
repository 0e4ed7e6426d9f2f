"""Where each grant in force was gained, from the configs' effective-access history. An edge module.

`bcsync why` answers from the same thing `bcsync history` compares: each revision's built State
(groups expanded, flow maps and block maps alike, aliases resolved to ids), never the text of a
line. So editing a group for somebody else, reformatting a file, moving a line or renaming an
alias or a group changes nothing here; only a change in what the BC would grant does.

For one entry (a membership, a grant, a partner, a share) with its value V in the working tree:
walk back the first-parent chain from HEAD while the parent still grants V; the commit reached
is where V was gained. When that commit is a merge whose first parent lacked V, V came from the
merged side: the walk goes on there, and the answer names the merge too. Every revision is
evaluated on the same day (`now`), so an expiry date passing is not a change; a revision whose
config is invalid is passed over, as `history` does. A config file renamed since a revision is
read there under its old name (`Repo.blobs` follows git's rename detection).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from bcsync.auditor.access_diff import Kind
from bcsync.auditor.revisions import Commit
from bcsync.auditor.story import Gained
from bcsync.core.model import AssetKey, BusinessCenterConfig, MemberRole, State
from bcsync.git.gitrev import GitError, Repo, open_repo

# A BC admin's reach to every asset: the admin role alone (a finance role change is not it).
ADMIN_ROLE = "admin role"
# (kind, subject, asset): a member or partner by email / BC id, a grant or share on an asset.
EntryKey = tuple[Kind | str, str, AssetKey | None]
# What a revision grants for an entry (None: nothing) and where it came from there.
Value = tuple[str | None, tuple[str, ...]]


def value_of(state: State | None, key: EntryKey) -> Value:
    """What `state` grants for `key`, comparably (a role string), with its sources."""
    if state is None:
        return None, ()
    kind, subject, asset = key
    if kind == ADMIN_ROLE:
        admin = state.members.get(subject)
        if admin is None or admin.role is not MemberRole.ADMIN:
            return None, ()
        return "admin", (admin.source,) if admin.source else ()
    if kind is Kind.MEMBER:
        m = state.members.get(subject)
        if m is None:
            return None, ()
        finance = f", finance {m.finance_role.value}" if m.finance_role else ""
        return m.role.value + finance, (m.source,) if m.source else ()
    if kind is Kind.PARTNER:
        p = state.partners.get(subject)
        return ("partner", (p.source,) if p.source else ()) if p else (None, ())
    assert asset is not None
    if kind is Kind.GRANT:
        g = state.grants.get((asset, subject))
        return (g.role, g.sources) if g else (None, ())
    s = state.shares.get((subject, asset))
    return (s.role, (s.source,) if s.source else ()) if s else (None, ())


@dataclass
class _FileHistory:
    """One config file's revisions: its BC's State at each commit, loaded once each."""

    repo: Repo
    path: str  # as the user's configs name it (relative to the working directory)
    bc_id: str
    now: date
    _states: dict[str, State | None] = field(default_factory=dict)
    _invalid: set[str] = field(default_factory=set)  # revisions whose config does not load
    _chains: dict[str, list[tuple[str, tuple[str, ...]]]] = field(default_factory=dict)
    _commits: dict[str, Commit] = field(default_factory=dict)

    def _state(self, sha: str) -> State | None:
        """The BC's State at `sha`; None when absent there (or invalid: see `_invalid`)."""
        if sha not in self._states:
            self._states[sha] = self._load(sha)
        return self._states[sha]

    def _load(self, sha: str) -> State | None:
        # `load_at` finds a renamed config under its name at `sha`.
        result = self.repo.load_at(sha, [self.path], self.now)
        if result.errors:
            self._invalid.add(sha)
            return None
        found = [c for c in result.configs if c.bc_id == self.bc_id]
        return found[0].desired if found else None

    def chain(self, start: str) -> list[tuple[str, tuple[str, ...]]]:
        """(commit, parents) along the first parents from `start`, newest first."""
        if start not in self._chains:
            out = self.repo.git("rev-list", "--first-parent", "--parents", start, "--")
            rows = [line.split() for line in out.decode().splitlines() if line.strip()]
            self._chains[start] = [(r[0], tuple(r[1:])) for r in rows]
        return self._chains[start]

    def commit(self, sha: str) -> Commit:
        if sha not in self._commits:
            self._commits[sha] = self.repo.commit(sha)
        return self._commits[sha]

    def value(self, sha: str, key: EntryKey) -> Value | None:
        """What the revision grants for `key`; None when its config is invalid."""
        state = self._state(sha)
        return None if sha in self._invalid else value_of(state, key)

    def holds(self, sha: str, key: EntryKey, want: str) -> bool:
        found = self.value(sha, key)
        return found is not None and found[0] == want

    def gained(self, start: str, key: EntryKey, want: str) -> tuple[str, str | None]:
        """(the commit where `want` was gained walking back from `start`, the merge if any)."""
        chain = self.chain(start)
        candidate, parents = chain[0]
        for sha, its_parents in chain[1:]:
            found = self.value(sha, key)
            if found is None:
                continue  # an invalid revision is passed over: the next valid one decides
            if found[0] != want:
                break
            candidate, parents = sha, its_parents
        # At a merge whose first parent lacked `want`, it came from a merged side.
        for other in parents[1:]:
            if self.holds(other, key, want):
                inner, _ = self.gained(other, key, want)
                return inner, candidate
        return candidate, None


def origins(
    config: BusinessCenterConfig, keys: Iterable[EntryKey], now: date
) -> tuple[dict[EntryKey, Gained], str | None]:
    """Per entry in force in `config` (the working tree): where it was gained; or why unknown."""
    try:
        repo = open_repo(Path(config.path).parent)
    except GitError as err:
        return {}, str(err)
    repo.cwd = Path.cwd().resolve()  # the configs' paths are relative to it, not to the checkout
    try:
        repo.relative(config.path)
    except GitError as err:
        return {}, str(err)
    history = _FileHistory(repo, config.path, config.bc_id, now)
    head = repo.git("rev-parse", "HEAD").decode().strip()
    found: dict[EntryKey, Gained] = {}
    for key in keys:
        want, _ = value_of(config.desired, key)
        if want is None:
            continue
        if not history.holds(head, key, want):
            found[key] = Gained(None)
            continue
        sha, merge = history.gained(head, key, want)
        via = history.value(sha, key)
        found[key] = Gained(
            history.commit(sha), via[1] if via else (), history.commit(merge) if merge else None
        )
    return found, None
