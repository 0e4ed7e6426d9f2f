"""A parsed config file: plain data plus the line and column of every key and value. No I/O.

The loader produces a `Document`; schema checks, rules and the builder read it. Positions live in
side tables keyed by the path into the data (`("members", "bob@acme.com", "role")`), so the data
itself stays plain dicts, lists and scalars that jsonschema can validate directly.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from bcsync.errors import Problem

# The position types live below config and emulator alike; config code imports them from here.
from bcsync.files.marks import DocPath as DocPath
from bcsync.files.marks import Mark, Marks, PathPart


def format_path(path: Sequence[PathPart]) -> str:
    """`members.bob@acme.com.access` style; list indexes in brackets: `policy.protected[1]`."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            # A hostile key ("frank@acme.com\n") must not break the one-line-per-problem output.
            shown = part if part.isprintable() else repr(part)[1:-1]
            text += f".{shown}" if text else shown
    return text


@dataclass
class Document:
    """One YAML file's data with the positions of its keys and values."""

    file: str
    data: Any
    # Position of the value at a path (a mapping or list's first token, a scalar's first char).
    marks: Marks = field(default_factory=Marks)
    # Position of the key that holds the value at a path (mappings only).
    key_marks: Marks = field(default_factory=Marks)
    digest: str = ""
    # Directory of the file, for resolving relative paths inside it (e.g. the provider's seed).
    base_dir: str = "."

    def __post_init__(self) -> None:
        # Documents made by hand (tests, benchmarks) may pass plain dicts of paths.
        if not isinstance(self.marks, Marks):
            self.marks = Marks(self.marks)
        if not isinstance(self.key_marks, Marks):
            self.key_marks = Marks(self.key_marks)

    def locate(self, path: Sequence[PathPart], *, key: bool = False) -> Mark | None:
        """Position of a value (or of its key), else of the nearest ancestor that has one."""
        probe = tuple(path)
        if key and probe in self.key_marks:
            return self.key_marks[probe]
        while True:
            if probe in self.marks:
                return self.marks[probe]
            if not probe:
                return None
            probe = probe[:-1]

    def problem(
        self,
        path: Sequence[PathPart],
        message: str,
        hint: str | None = None,
        *,
        key: bool = False,
        warning: bool = False,
    ) -> Problem:
        """A Problem located at `path` (at its key when `key` is true)."""
        mark = self.locate(path, key=key)
        return Problem(
            file=self.file,
            line=mark[0] if mark else None,
            col=mark[1] if mark else None,
            path=format_path(path),
            message=message,
            hint=hint,
            severity="warning" if warning else "error",
        )

    def line_ref(self, path: Sequence[PathPart]) -> str:
        """`FILE:LINE` of a key (or value): the provenance recorded in built objects."""
        mark = self.locate(path, key=True)
        return f"{self.file}:{mark[0]}" if mark else self.file


def mapping_at(data: Any, *keys: PathPart) -> dict[str, Any]:
    """The mapping at `keys`, or {} when absent or not a mapping (the schema reports that)."""
    node = data
    for k in keys:
        if not isinstance(node, dict):
            return {}
        node = node.get(k)
    return node if isinstance(node, dict) else {}


def list_at(data: Any, *keys: PathPart) -> list[Any]:
    """The list at `keys`, or [] when absent or not a list."""
    parent: dict[Any, Any] = mapping_at(data, *keys[:-1])
    node = parent.get(keys[-1]) if keys else data
    return node if isinstance(node, list) else []


def parse_date(value: Any) -> date | None:
    """A YYYY-MM-DD string as a date, None when it is not one."""
    if not isinstance(value, str) or len(value) != 10:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def did_you_mean(word: str, choices: Iterable[str]) -> str | None:
    """'did you mean X?' for the closest choice, or None."""
    options = [c for c in choices if isinstance(c, str)]
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    if not close and word.lower() != word:
        close = difflib.get_close_matches(word.lower(), options, n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}?" if close else None


def join_hints(*hints: str | None) -> str | None:
    parts = [h for h in hints if h]
    return "; ".join(parts) if parts else None


def short_repr(value: Any, limit: int = 40) -> str:
    """A value for a message, shortened so a huge scalar cannot flood the output."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
