"""The saved-plan document (`schemas/plan.schema.json`): plans plus run metadata.

Run metadata (creation time, tool version, git commit) is passed in, so this stays pure.
A plan holds ids, emails, roles and digests, never a token; nothing here may add one.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from bcsync.core.plan import FORMAT_VERSION, Plan, checksum_of
from bcsync.render import total_summary

TOOL = "bcsync"
_COMPACT = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def document(
    plans: Sequence[Plan],
    *,
    created_at: str,
    tool_version: str,
    git_commit: str | None,
    created_in: str | None = None,
) -> dict[str, Any]:
    """The JSON-ready plan document for one run over one or more BCs."""
    total = total_summary(plans)
    return {
        "format_version": FORMAT_VERSION,
        "tool": TOOL,
        "tool_version": tool_version,
        "created_at": created_at,
        "created_in": created_in,
        "git_commit": git_commit,
        "checksum": checksum_of(plans),
        "plans": [plan.to_json() for plan in plans],
        "summary": {**total.to_json(), "business_centers": len(plans)},
    }


def dumps(doc: Mapping[str, Any]) -> str:
    """Stable compact text: keys sorted, UTF-8 kept, one line (pretty-print with `jq .`).

    Only the unindented form runs entirely in json's C encoder: at TikTok's limits (100,000
    grants) it writes a plan in a third of the time of any indented form, and linearly.
    """
    return _COMPACT.encode(doc) + "\n"
