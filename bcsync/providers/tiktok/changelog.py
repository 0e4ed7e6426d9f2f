"""The BC activity log, `GET /changelog/get/`: who changed what, and when.

Not in TikTok's SDK; documented by third-party clients of the API: filtering
{start_date, end_date} as YYYY-MM-DD in UTC (both or neither), 50 entries a page, newest first,
`changelog_list[]{time, activity_type, operator_id, activity_log}`. A server that does not serve
it answers an error code or HTTP 404; callers treat that as "no activity log", not a failure.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from bcsync.auditor.drift import ChangelogEntry
from bcsync.providers.tiktok.client import TikTokClient

CHANGELOG_PATH = "changelog/get/"
PAGE = 50


async def read_changelog(
    client: TikTokClient, bc_id: str, start: date, end: date
) -> list[ChangelogEntry]:
    """Every entry from `start` to `end` (inclusive, UTC days), newest first."""
    listing = await client.get_all(
        CHANGELOG_PATH,
        {
            "bc_id": bc_id,
            "filtering": {"start_date": start.isoformat(), "end_date": end.isoformat()},
            "sort_field": "operation_time",
            "sort_type": "DESC",
        },
        page_size=PAGE,
        list_key="changelog_list",
    )
    entries = [_entry(item) for item in listing.items if isinstance(item, dict)]
    # Newest first whatever order the pages came in; undated entries last.
    return sorted(entries, key=lambda e: e.time or datetime.min.replace(tzinfo=UTC), reverse=True)


def _entry(item: dict[str, object]) -> ChangelogEntry:
    return ChangelogEntry(
        time=_time(item.get("time")),
        activity_type=str(item.get("activity_type") or ""),
        operator_id=str(item.get("operator_id") or ""),
        text=str(item.get("activity_log") or ""),
    )


def _time(value: object) -> datetime | None:
    """ "YYYY-MM-DD HH:MM:SS" in UTC; anything else is kept as unknown rather than guessed."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
    except ValueError:
        return None
