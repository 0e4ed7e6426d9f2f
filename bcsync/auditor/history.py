"""The configs' git history as effective access changes, and the changes between two revisions.

Each commit is compared with its first parent by building both revisions' desired State (groups
expanded, expiry evaluated), never by diffing text. Both sides of one comparison are evaluated on
the same day, so an expiry date that passes between two commits is not blamed on the later one:
history uses each commit's own (UTC committer) date unless `now` is given; diff uses `now`.

A revision whose config is invalid is reported and skipped; the next valid commit is compared
with the last valid revision before it, so nothing it changed is lost.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from bcsync.auditor.access_diff import between
from bcsync.auditor.revisions import Commit, CommitAccess, RevisionDiff
from bcsync.config import LoadResult, load
from bcsync.errors import ConfigError
from bcsync.git.gitrev import Blob, Repo


def history(
    repo: Repo,
    paths: Sequence[str],
    *,
    since: date | None = None,
    now: date | None = None,
    member: str | None = None,
    asset: str | None = None,
) -> list[CommitAccess]:
    """Every non-merge commit touching PATHS (oldest first) with the access it gained and lost."""
    commits = repo.commits_touching(paths, since)
    # For each commit walked: the blobs its descendants compare with (its own when valid).
    valid_of: dict[str, list[Blob]] = {}
    out: list[CommitAccess] = []
    for commit in commits:
        day = now or commit.day
        blobs = repo.blobs(commit.sha, paths)
        after = repo.load_blobs(blobs, day)
        base = _base_blobs(repo, commit, paths, valid_of)
        if after.errors:
            valid_of[commit.sha] = base
            out.append(CommitAccess(commit, day, problems=after.errors))
            continue
        valid_of[commit.sha] = blobs
        before = repo.load_blobs(base, day)
        changes = between(before.configs, after.configs)
        if member is not None or asset is not None:
            changes = [c for c in changes if c.matches(member, asset)]
            if not changes:
                continue
        out.append(CommitAccess(commit, day, changes))
    return out


def _base_blobs(
    repo: Repo, commit: Commit, paths: Sequence[str], valid_of: dict[str, list[Blob]]
) -> list[Blob]:
    """The parent's config blobs, or the last valid ones before it; none for a root commit."""
    if commit.parent is None:
        return []
    if commit.parent in valid_of:
        return valid_of[commit.parent]
    blobs = repo.blobs(commit.parent, paths)
    # A parent outside the walk (before --since, or a merge) that is invalid compares as empty.
    return [] if repo.load_blobs(blobs, commit.day).errors else blobs


def revision_diff(
    repo: Repo,
    paths: Sequence[str],
    *,
    now: date,
    base: str | None = None,
    head: str | None = None,
) -> RevisionDiff:
    """Access changes from `base` (default: the merge-base with main) to `head` (the tree)."""
    if base is None:
        base_commit, how = repo.default_base()
    else:
        base_commit, how = repo.resolve(base), base
    head_commit = repo.resolve(head) if head is not None else None
    before = _checked(repo.load_at(base_commit.sha, paths, now), f"base {base_commit.short}")
    if head_commit is None:
        after = _checked(load(list(paths), now, cwd=str(repo.cwd)), "working tree")
    else:
        after = _checked(repo.load_at(head_commit.sha, paths, now), f"head {head_commit.short}")
    changes = between(before.configs, after.configs)
    return RevisionDiff(base_commit, how, head_commit, now, changes)


def _checked(result: LoadResult, where: str) -> LoadResult:
    """The result, or ConfigError (exit 3) naming the revision whose config is invalid."""
    if result.errors:
        count = len(result.errors)
        raise ConfigError(
            result.problems, f"the config at the {where} is invalid: {count} error(s)"
        )
    return result
