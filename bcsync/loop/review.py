"""The reviewed-plan marker: what a pull-request comment binds a merge to.

`bcsync plan --format markdown` writes one line that machines read, at the top of the comment:

    <!-- bcsync-reviewed checksum=sha256:… configs=sha256:… head=<commit> scope=full -->

checksum: what would run (`checksum_of`); configs: the digest of the configs' bytes, per BC;
head: the commit the plan was made at (`plan --head-commit`, from the pipeline's event), `none`
when not told; scope: `full`, or the digest of the `--changed` scopes (what apply re-reads).

No config text can forge it. The Markdown view escapes every string that comes from a config or
the API (`<` becomes `\\<`, newlines become spaces), so only bcsync's own fixed text can start a
line with `<!--`. The extractor reads only lines that start with the marker's prefix, and refuses
a comment with none, or with more than one (an injection attempt is refused, never resolved).
A merge takes the marker only when it names the pull request's final head commit and the
merged configs' digest equals its own (`check_marker`). Pure: no I/O.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from bcsync.core.plan import Plan, checksum_of
from bcsync.errors import StalePlanError

PREFIX = "<!-- bcsync-reviewed"
_SHA256 = r"sha256:[0-9a-f]{64}"
_LINE = re.compile(
    rf"<!-- bcsync-reviewed checksum=({_SHA256}) configs=({_SHA256}) "
    rf"head=([0-9a-f]{{40}}|[0-9a-f]{{64}}|none) scope=(full|{_SHA256}) -->"
)
COMMIT = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
REPLAN = (
    "re-plan: push to the pull request (or re-run its bcsync plan), review the new comment, "
    "then merge"
)


@dataclass(frozen=True, slots=True)
class ReviewMarker:
    """What a reviewer approved, as the comment's marker line says it."""

    checksum: str
    configs: str
    head_commit: str | None
    scope: str | None  # None: a full plan

    def line(self) -> str:
        return (
            f"{PREFIX} checksum={self.checksum} configs={self.configs} "
            f"head={self.head_commit or 'none'} scope={self.scope or 'full'} -->"
        )


def configs_digest(digests: Iterable[tuple[str, str]]) -> str:
    """One digest for several BCs' configs: (bc_id, config digest) pairs, in BC order."""
    return _sha256(sorted(digests))


def marker_of(plans: Sequence[Plan], head_commit: str | None) -> ReviewMarker:
    """The marker of a run's plans."""
    scopes = [(p.bc_id, p.scope.key() if p.scope else None) for p in plans]
    scoped = any(key is not None for _, key in scopes)
    return ReviewMarker(
        checksum=checksum_of(plans),
        configs=configs_digest((p.bc_id, p.config_digest) for p in plans),
        head_commit=head_commit,
        scope=_sha256(sorted(scopes, key=lambda s: s[0])) if scoped else None,
    )


def find_marker(body: str) -> ReviewMarker:
    """The one marker line in a comment body; StalePlanError (exit 4) for none or several."""
    lines = [line.strip() for line in body.splitlines() if line.lstrip().startswith(PREFIX)]
    if not lines:
        raise StalePlanError("the plan comment has no bcsync-reviewed marker", hint=REPLAN)
    if len(lines) > 1:
        raise StalePlanError(
            f"the plan comment has {len(lines)} bcsync-reviewed markers, where bcsync writes one; "
            "refusing to choose",
            hint=REPLAN,
        )
    match = _LINE.fullmatch(lines[0])
    if match is None:
        raise StalePlanError("the plan comment's bcsync-reviewed marker is malformed", hint=REPLAN)
    checksum, configs, head, scope = match.groups()
    return ReviewMarker(
        checksum=checksum,
        configs=configs,
        head_commit=None if head == "none" else head,
        scope=None if scope == "full" else scope,
    )


def check_marker(marker: ReviewMarker, *, head_commit: str, configs: str) -> None:
    """Refuse (exit 4) unless the marker names this head commit and these configs."""
    if marker.head_commit is None:
        raise StalePlanError(
            "the reviewed plan names no head commit (it was made without --head-commit)",
            hint=REPLAN,
        )
    if marker.head_commit != head_commit:
        raise StalePlanError(
            f"the reviewed plan was made at commit {marker.head_commit[:12]}, but the pull "
            f"request's final head is {head_commit[:12]} (pushed after the plan or the approval)",
            hint=REPLAN,
        )
    if marker.configs != configs:
        raise StalePlanError(
            f"the merged configs (digest {configs}) are not the reviewed ones ({marker.configs}): "
            "the base branch changed them since the plan",
            hint="update the pull request's branch from the base; then " + REPLAN,
        )


def _sha256(value: Any) -> str:
    blob = json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(blob.encode()).hexdigest()
