"""Paged lists: page 1 first, then every other page concurrently (the rate limiter paces them).

`page_info` gives the page count. The member list's maximum page size is disputed (none in the
SDK, 20 in another client): a server that rejects our size with a 40002 naming page_size gets
the fallback, and a server that silently caps it is followed by the size it echoes.

A list can change while it is read: other admins keep working, and pages are read by offset, so
one removal before the offset moves every later item one place on (an item is skipped) and one
addition moves them back (an item is listed twice), while the total can stay the same. A server
could also cap pages without saying so. So every listing of several pages is checked by more than
its count: it must hold `total_number` items and list no item twice. The lists whose misreading
would invite or remove people and partners (`confirm=True`: the member and partner lists) also
have their first page read again once the rest is in, and it must be what it was: one more call
per such list, about 0.2% of a large read. (Doing that for every asset's grant list too would
cost about 5%, since most of those lists have two pages; there, a removal and an addition in the
moment between two pages is the one change that slips by, and the next run reads it.) A list of
one page is one answer and needs no check. A listing that fails a check is read again, up to
MAX_READS times; then `IncompleteReadError` stops the run, because a plan made from a list that
moved under it would invite people who were there all along, or delete what it did not see.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from bcsync.errors import ApiError, ProviderError
from bcsync.providers.tiktok import codes

log = logging.getLogger("bcsync.providers.tiktok")
MAX_READS = 3
T = TypeVar("T")
A = TypeVar("A")
B = TypeVar("B")
Get = Callable[[str, Mapping[str, Any]], Awaitable[dict[str, Any]]]


class IncompleteReadError(ProviderError):
    """A paged list changed while it was read (or was short of its `total_number`), every time."""


@dataclass
class Listing:
    """Every item of a paged list, and the total the server reported."""

    items: list[dict[str, Any]] = field(default_factory=list)
    total: int = 0
    pages: int = 1
    size: int = 0  # the page size the pages were read with
    first: int = 0  # how many of `items` came from page 1

    @property
    def complete(self) -> bool:
        """Whether the items are as many as the server's `total_number`."""
        return len(self.items) == self.total


async def run_all(coros: list[Coroutine[Any, Any, T]]) -> list[T]:
    """Run concurrently; on the first failure cancel the rest and raise it."""
    tasks = [asyncio.ensure_future(c) for c in coros]
    try:
        return list(await asyncio.gather(*tasks))
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


async def both(first: Coroutine[Any, Any, A], second: Coroutine[Any, Any, B]) -> tuple[A, B]:
    """Two differently typed coroutines concurrently, with `run_all`'s cancellation."""
    one, two = await run_all([first, second])
    return one, two  # type: ignore[return-value]  # run_all's list joins A and B


class Pager:
    """Fetches every page of a list with `get`; learns page sizes into `caps` (per path)."""

    def __init__(self, get: Get, caps: dict[str, int]) -> None:
        self._get = get
        self._caps = caps

    async def fetch(
        self,
        path: str,
        params: Mapping[str, Any],
        page_size: int,
        fallback: int | None = None,
        list_key: str = "list",
        confirm: bool = False,
    ) -> Listing:
        """Every item, read consistently: read again while the list changes under the read."""
        endpoint = f"GET /{path.strip('/')}/"
        why = ""
        for attempt in range(1, MAX_READS + 1):
            listing = await self._fetch(path, params, page_size, fallback, list_key)
            why = await self._moved(listing, path, params, list_key, confirm)
            if not why:
                return listing
            log.info("%s %s; reading it again (%d of %d)", endpoint, why, attempt, MAX_READS)
        raise IncompleteReadError(
            f"{endpoint} changed while being read, {MAX_READS} times (last: {why}); refusing to "
            "plan from it",
            hint="others may be changing the Business Center right now, or the API capped the "
            "page size without saying so: run again in a moment, and report it if it persists",
            endpoint=endpoint,
        )

    async def _moved(
        self, listing: Listing, path: str, params: Mapping[str, Any], list_key: str, confirm: bool
    ) -> str:
        """Why the listing can't be trusted, or "" when it holds together."""
        if not listing.complete:
            return (
                f"returned {len(listing.items)} items but page_info.total_number says "
                f"{listing.total}"
            )
        if listing.pages <= 1:
            return ""
        seen = [_identity(item) for item in listing.items]
        if len(set(seen)) != len(seen):
            return "listed an item twice (the list shifted between pages)"
        if not confirm:
            return ""
        again = await self._page(path, params, 1, listing.size)
        total = _int((again.get("page_info") or {}).get("total_number"))
        first = [_identity(item) for item in items_of(again, list_key)]
        if first != seen[: listing.first] or total not in (None, listing.total):
            return "its first page changed while the other pages were read"
        return ""

    async def _fetch(
        self,
        path: str,
        params: Mapping[str, Any],
        page_size: int,
        fallback: int | None,
        list_key: str,
    ) -> Listing:
        """Page 1, then pages 2..total_page concurrently."""
        size = self._caps.get(path, page_size)
        try:
            first = await self._page(path, params, 1, size)
        except ApiError as err:
            rejected = err.code == codes.PARAMETER_ERROR and "page_size" in err.message
            if not (rejected and fallback and size > fallback):
                raise
            log.debug("%s rejected page_size %d; using %d", path, size, fallback)
            self._caps[path] = size = fallback
            first = await self._page(path, params, 1, size)
        info = first.get("page_info") or {}
        # A server that silently caps the page size counts its pages with its own size.
        echoed = _int(info.get("page_size"))
        if echoed and echoed < size:
            self._caps[path] = size = echoed
        items = items_of(first, list_key)
        total = _int(info.get("total_number"))
        pages = _int(info.get("total_page"))
        if pages is None and total is not None:
            pages = -(-total // size)
        if pages is None:
            return await self._follow(path, params, size, list_key, items)
        first_count = len(items)
        rest = await run_all([self._page(path, params, p, size) for p in range(2, pages + 1)])
        for data in rest:
            items.extend(items_of(data, list_key))
        total = total if total is not None else len(items)
        return Listing(items, total, max(pages, 1), size, first_count)

    async def _page(
        self, path: str, params: Mapping[str, Any], page: int, size: int
    ) -> dict[str, Any]:
        return await self._get(path, {**params, "page": page, "page_size": size})

    async def _follow(
        self, path: str, params: Mapping[str, Any], size: int, key: str, items: list[Any]
    ) -> Listing:
        # No page_info at all: walk pages until a short one.
        page, last = 1, len(items)
        first_count = last
        while last == size:
            page += 1
            batch = items_of(await self._page(path, params, page, size), key)
            items.extend(batch)
            last = len(batch)
        return Listing(items, len(items), page, size, first_count)


def items_of(data: Mapping[str, Any], key: str) -> list[Any]:
    """The list under `key`; a dotted key reaches into an object (`asset_group.members`)."""
    value: Any = data
    for part in key.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return list(value) if isinstance(value, list) else []


def _identity(item: Any) -> str:
    """An item as canonical text: two listings agree on it only if every field does."""
    return json.dumps(item, sort_keys=True, default=str)


def _int(value: object) -> int | None:
    if not isinstance(value, int | str | float) or isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):
        return None
