"""The base side of `plan --changed`: the configs at a git revision, compared offline.

Loading a config at a revision is `bcsync.git.gitrev`'s (shared with `bcsync diff --base`); this
module only picks the revision, refuses an invalid base, and hands both sides to the pure
`bcsync.git.changed`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from bcsync.core.model import BusinessCenterConfig
from bcsync.errors import ConfigError
from bcsync.git.changed import ChangedScope, scopes_between
from bcsync.git.gitrev import open_repo


def changed_scopes(
    paths: Sequence[str],
    configs: Sequence[BusinessCenterConfig],
    *,
    now: date,
    base: str | None = None,
    cwd: str = ".",
) -> dict[str, ChangedScope | None]:
    """Per BC of the working tree's `configs`: what changed since `base` (None: read it all).

    `base` is a REF or YYYY-MM-DD; by default the merge-base of HEAD with main, else HEAD.
    """
    repo = open_repo(cwd)
    commit, how = repo.default_base() if base is None else (repo.resolve(base), base)
    result = repo.load_at(commit.sha, paths, now)
    if result.errors:
        raise ConfigError(
            result.problems,
            f"the config at the base {commit.short} ({how}) is invalid: "
            f"{len(result.errors)} error(s); pass another --base",
        )
    return scopes_between(result.configs, configs, label=f"{commit.short} ({how})")
