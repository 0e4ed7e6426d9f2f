"""The saved-plan document (`schemas/plan.schema.json`): plans plus run metadata.

Run metadata (creation time, tool version, git commit) is passed in, so this stays pure.
A plan holds ids, emails, roles and digests, never a token; nothing here may add one.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from bcsync.errors import PlanFileError
from bcsync.plan import FORMAT_VERSION, Plan
from bcsync.render import total_summary

TOOL = "bcsync"
# Containers this deep (document 0, plans 1, plan 2, changes 3, change 4) are written on one line.
FLAT_DEPTH = 4
_FLAT = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(", ", ": "))


def document(
    plans: Sequence[Plan],
    *,
    created_at: str,
    tool_version: str,
    git_commit: str | None,
) -> dict[str, Any]:
    """The JSON-ready plan document for one run over one or more BCs."""
    total = total_summary(plans)
    return {
        "format_version": FORMAT_VERSION,
        "tool": TOOL,
        "tool_version": tool_version,
        "created_at": created_at,
        "git_commit": git_commit,
        "plans": [plan.to_json() for plan in plans],
        "summary": {**total.to_json(), "business_centers": len(plans)},
    }


def dumps(doc: Mapping[str, Any]) -> str:
    """Stable text: indented by 2, keys sorted, UTF-8 kept, one change or step per line."""
    return _encode(doc, 0) + "\n"


def _encode(value: Any, depth: int) -> str:
    # json's C encoder is not used with `indent`; the pure-Python one took 0.4 s for a plan at
    # the BC limits. So the structure is indented here and each leaf object (a change, a step)
    # goes through the C encoder on one line, which also makes saved plans grep- and diff-friendly.
    if depth >= FLAT_DEPTH or not isinstance(value, Mapping | list | tuple) or not value:
        return _FLAT.encode(value)
    pad = "  " * (depth + 1)
    if isinstance(value, Mapping):
        items = [
            f"{pad}{_FLAT.encode(str(k))}: {_encode(v, depth + 1)}"
            for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))
        ]
        brackets = "{}"
    else:
        items = [f"{pad}{_encode(v, depth + 1)}" for v in value]
        brackets = "[]"
    return brackets[0] + "\n" + ",\n".join(items) + "\n" + "  " * depth + brackets[1]


def plans_from_document(doc: Mapping[str, Any]) -> list[Plan]:
    """The plans of a saved document; PlanFileError when it is not one this version reads."""
    if not isinstance(doc, Mapping) or doc.get("tool") != TOOL:
        raise PlanFileError('not a bcsync plan document (no "tool": "bcsync")')
    version = doc.get("format_version")
    if version != FORMAT_VERSION:
        raise PlanFileError(
            f"plan format_version {version!r} is not supported (this bcsync reads "
            f"{FORMAT_VERSION}); re-create the plan with this version",
        )
    try:
        return [Plan.from_json(p) for p in doc["plans"]]
    except (KeyError, TypeError, ValueError) as err:
        raise PlanFileError(f"malformed plan document ({type(err).__name__}: {err})") from err
