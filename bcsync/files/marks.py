"""Positions in a YAML document: the line and column of every key and value, by path. Pure.

Shared by every located file (configs and seeds alike): the composer fills them while it builds
the data, and errors are located by looking a path up (or its nearest ancestor).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, MutableMapping

PathPart = str | int
DocPath = tuple[PathPart, ...]
# 1-based (line, column).
Mark = tuple[int, int]


class Marks(MutableMapping[DocPath, Mark]):
    """Positions by path, stored per parent: `("members", "bob@acme.com", "role")` lives at
    by_parent[("members", "bob@acme.com")]["role"].

    The composer fills a mapping's children through one small dict, and the builder reads a
    whole access section's lines through one: at TikTok's limits that saves 200,000 tuple
    builds and lookups in a 250,000-entry table. Otherwise it behaves as a dict of paths.
    """

    __slots__ = ("by_parent", "root")

    def __init__(self, items: Mapping[DocPath, Mark] | None = None) -> None:
        self.by_parent: dict[DocPath, dict[PathPart, Mark]] = {}
        self.root: Mark | None = None
        for path, mark in (items or {}).items():
            self[path] = mark

    def children(self, parent: DocPath) -> dict[PathPart, Mark]:
        """The marks of `parent`'s children by key or index (read only; {} when none)."""
        return self.by_parent.get(parent, {})

    def children_of(self, parent: DocPath) -> dict[PathPart, Mark]:
        """The writable dict of `parent`'s children."""
        found = self.by_parent.get(parent)
        if found is None:
            found = self.by_parent[parent] = {}
        return found

    def __getitem__(self, path: DocPath) -> Mark:
        if not path:
            if self.root is None:
                raise KeyError(path)
            return self.root
        return self.by_parent[path[:-1]][path[-1]]

    def __setitem__(self, path: DocPath, mark: Mark) -> None:
        if path:
            self.children_of(path[:-1])[path[-1]] = mark
        else:
            self.root = mark

    def __delitem__(self, path: DocPath) -> None:
        if path:
            del self.by_parent[path[:-1]][path[-1]]
        elif self.root is None:
            raise KeyError(path)
        else:
            self.root = None

    def __contains__(self, path: object) -> bool:
        if not isinstance(path, tuple):
            return False
        if not path:
            return self.root is not None
        return path[-1] in self.by_parent.get(path[:-1], {})

    def __iter__(self) -> Iterator[DocPath]:
        if self.root is not None:
            yield ()
        for parent, children in self.by_parent.items():
            for part in children:
                yield (*parent, part)

    def __len__(self) -> int:
        return (self.root is not None) + sum(len(c) for c in self.by_parent.values())
