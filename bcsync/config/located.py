"""A built config beside where it was written: the side table the config's meaning rules read.

The model's frozen dataclasses carry no positions (a desired and an actual member compare equal
exactly when the Business Center would not change). So the builder records them here, keyed by
the config's own elements: the key each member was written under, the alias of each partner, the
declared members it set aside (ignored, expired) as typed `Member`s, and the document whose marks
turn a path into FILE:LINE:COL. The rules about what a config means (`built_rules`) read the
built config and this table, never the raw dicts: what they call active, ignored or the
`min_admins` in force is what `plan` uses, by construction. Pure, no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bcsync.config.document import DocPath, Document
from bcsync.core.model import BusinessCenterConfig, Member
from bcsync.errors import Problem


@dataclass(frozen=True)
class Located:
    """A built config and, for each of its elements, where the document declares it."""

    config: BusinessCenterConfig
    # The parsed file: its name and the marks that place a path at a line and column.
    doc: Document
    # Lower-cased email -> the key as written, for every declared member (active or not).
    member_keys: Mapping[str, str] = field(default_factory=dict)
    # Declared members that the build sets aside: matched by `ignore_members` (never managed),
    # or expired (removed). Typed as the build made them.
    ignored: Mapping[str, Member] = field(default_factory=dict)
    expired: Mapping[str, Member] = field(default_factory=dict)
    # Whether `policy.min_admins` is written (else the model's default is in force).
    min_admins_written: bool = False

    def member_path(self, email: str) -> DocPath:
        """Where a declared member is written: `("members", key as written)`."""
        return ("members", self.member_keys[email])

    def declared(self, email: str) -> Member | None:
        """A declared member as built, whether active, ignored or expired."""
        active = self.config.desired.members.get(email)
        return active or self.ignored.get(email) or self.expired.get(email)

    def written(self, path: DocPath) -> str:
        """The text at `path` as the user wrote it (messages quote it, decisions never read it)."""
        node: Any = self.doc.data
        for part in path:
            node = node[part]
        return str(node)

    def problem(
        self,
        path: DocPath,
        message: str,
        hint: str | None = None,
        *,
        key: bool = False,
        warning: bool = False,
    ) -> Problem:
        """A Problem at `path` of the document (at its key when `key` is true)."""
        return self.doc.problem(path, message, hint, key=key, warning=warning)

    def line_of(self, path: DocPath) -> str:
        """` at line N` of a key, for messages that point at a second place."""
        mark = self.doc.locate(path, key=True)
        return f" at line {mark[0]}" if mark else ""
