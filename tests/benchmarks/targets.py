"""A benchmark's targets and its verdict: the JSON line says which were met, and so does the exit.

Printing `"met": false` and exiting 0 is a result nobody reads. Every benchmark ends with
`sys.exit(verdict(figures, TARGETS))`: the figures as one JSON line on stdout (with `targets`,
`met` and `missed` added), each missed target named on stderr, and exit status 1 when any target
is missed (0 otherwise). Not collected by pytest (no test_ prefix).
"""

from __future__ import annotations

import json
import operator
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

_COMPARE: Mapping[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    "==": operator.eq,
}


@dataclass(frozen=True)
class Target:
    """`figures[name] <compare> limit`, e.g. Target("seconds", "<", 1.5)."""

    name: str
    compare: str
    limit: Any

    def met(self, figures: Mapping[str, Any]) -> bool:
        value = figures.get(self.name)
        return value is not None and _COMPARE[self.compare](value, self.limit)

    def __str__(self) -> str:
        return f"{self.name} {self.compare} {self.limit}"


def verdict(figures: dict[str, Any], targets: Sequence[Target], *, sort_keys: bool = False) -> int:
    """Print the JSON line with the verdict added; 1 when a target is missed, else 0."""
    missed = [t for t in targets if not t.met(figures)]
    figures["targets"] = [str(t) for t in targets]
    figures["met"] = not missed
    figures["missed"] = [str(t) for t in missed]
    print(json.dumps(figures, sort_keys=sort_keys), flush=True)
    for target in missed:
        print(f"target missed: {target} (got {figures.get(target.name)!r})", file=sys.stderr)
    return 1 if missed else 0
