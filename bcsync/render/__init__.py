"""Views of a plan: `text` (terminal), `markdown` (pull-request comments), `json` (saved plans).

Pure functions from `Plan` objects to strings or JSON-ready dicts: no I/O, no terminal detection
(colour is a parameter the CLI decides), no clock (the creation time is passed in).
"""

from __future__ import annotations

from collections.abc import Iterable

from bcsync.core.plan import Plan, Summary


def total_summary(plans: Iterable[Plan]) -> Summary:
    """The summaries of several plans added up."""
    return sum((plan.summary for plan in plans), Summary())
