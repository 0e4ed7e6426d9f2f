"""A config's YAML: the shared located composer with a config's rules, problems as `Problem`s.

The composer itself (`bcsync.files.composer`) is shared with the emulator's seeds and lives below
both; what is the config's own is here: `LoadFailed`, the rules a config is read with, and how a
located fact becomes a `Problem` naming the file and the path in the document.
"""

from __future__ import annotations

from typing import Any

from bcsync.config.document import format_path
from bcsync.errors import Problem
from bcsync.files.composer import ComposeFailed, Composer, Located, Rules, compose

# A config at TikTok's limits is ~350,000 nodes; a million bounds "billion laughs" documents.
RULES = Rules(max_nodes=1_000_000)
ONE_DOCUMENT_HINT = "one file per BC"


class LoadFailed(Exception):
    """Stops reading one file; carries its located problems."""

    def __init__(self, *problems: Problem) -> None:
        super().__init__(problems[0].message if problems else "cannot load")
        self.problems = list(problems)


def problem_of(file: str, found: Located) -> Problem:
    """A composer's located fact as a config Problem."""
    hint = found.hint
    if hint is None and found.message.startswith("more than one YAML document"):
        hint = ONE_DOCUMENT_HINT
    return Problem(file, found.line, found.column, format_path(found.path), found.message, hint)


def compose_config(file: str, text: str, parser: Any = None) -> Composer:
    """Compose a config's text; LoadFailed with every problem when it cannot be read."""
    try:
        return compose(text, RULES, parser)
    except ComposeFailed as exc:
        raise LoadFailed(*(problem_of(file, p) for p in exc.problems)) from None
