"""Reading drift: one BC's actual state through its provider, compared and attributed.

The comparison and attribution are pure (`bcsync.auditor.drift`); this module does the reading, and
asks the activity log only when there is a difference to attribute.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date

from bcsync.auditor.drift import ChangelogEntry, DriftReport, OwnApply, compare, explain
from bcsync.core.incoming import differences_of
from bcsync.core.model import BusinessCenterConfig
from bcsync.errors import ProviderError
from bcsync.providers.base import Provider, Scope


async def check_drift(
    config: BusinessCenterConfig,
    provider: Provider,
    *,
    log_since: date,
    log_until: date,
    applies: Sequence[OwnApply] = (),
) -> DriftReport:
    """Read the BC, compare, and attribute each difference from its log between the two days;
    `applies` (from the audit log) recognise the entries bcsync's own applies wrote."""
    read = await provider.read_state(Scope.of_config(config))
    changes, pending = compare(config, read.state)
    base = DriftReport(
        config.bc_id,
        config.name,
        config.path,
        pending=pending,
        changelog_since=log_since,
        incoming=differences_of(config, read.incoming_shares),
    )
    if not changes:
        return replace(base, calls=read.calls)
    entries, unavailable = await _changelog(provider, config.bc_id, log_since, log_until)
    emails = {m.user_id: e for e, m in read.state.members.items() if m.user_id}
    log = None if unavailable else entries
    items = [explain(c, log, emails, applies) for c in changes]
    return replace(base, items=items, changelog_unavailable=unavailable, calls=read.calls)


async def _changelog(
    provider: Provider, bc_id: str, start: date, end: date
) -> tuple[list[ChangelogEntry], str | None]:
    """The log's entries, or why there are none (an error code, a 404, no client at all)."""
    from bcsync.providers.tiktok.changelog import read_changelog
    from bcsync.providers.tiktok.shapes import ShapeError

    client = getattr(provider, "client", None)
    if client is None:
        return [], "this provider has no activity log"
    try:
        return await read_changelog(client, bc_id, start, end), None
    except ShapeError:
        raise  # a log that answers in another shape is not an absent log
    except ProviderError as err:
        return [], err.message
