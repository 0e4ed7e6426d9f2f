"""Paged lists: page 1 first, then every other page concurrently (the rate limiter paces them).

`page_info` gives the page count. The member list's maximum page size is disputed (none in the
SDK, 20 in another client): a server that rejects our size with a 40002 naming page_size gets
the fallback, and a server that silently caps it is followed by the size it echoes.

A server could also cap pages without saying so, or the list could change between pages: every
listing must hold `total_number` items. A short one is read once more; if it is still short,
`IncompleteReadError` stops the run, because a plan made from a partial read would delete what
it did not see.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from bcsync.errors import ApiError, ProviderError
from bcsync.providers.tiktok import codes

log = logging.getLogger("bcsync.providers.tiktok")
T = TypeVar("T")
A = TypeVar("A")
B = TypeVar("B")
Get = Callable[[str, Mapping[str, Any]], Awaitable[dict[str, Any]]]


class IncompleteReadError(ProviderError):
    """A paged list held fewer (or more) items than its `total_number`, twice in a row."""


@dataclass
class Listing:
    """Every item of a paged list, and the total the server reported."""

    items: list[dict[str, Any]] = field(default_factory=list)
    total: int = 0
    pages: int = 1

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
    return one, two  # type: ignore[return-value]


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
    ) -> Listing:
        """Every item, checked against `total_number`; one re-read when the count is off."""
        listing = await self._fetch(path, params, page_size, fallback, list_key)
        if listing.complete:
            return listing
        log.info("%s: %d of %d items; reading again", path, len(listing.items), listing.total)
        again = await self._fetch(path, params, page_size, fallback, list_key)
        if again.complete:
            return again
        endpoint = f"GET /{path.strip('/')}/"
        raise IncompleteReadError(
            f"{endpoint} returned {len(again.items)} items but page_info.total_number says "
            f"{again.total} (twice in a row); refusing to go on with an incomplete read",
            hint="the Business Center may have changed while it was read, or the API capped the "
            "page size without saying so: run again, and report it if it persists",
            endpoint=endpoint,
        )

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
        rest = await run_all([self._page(path, params, p, size) for p in range(2, pages + 1)])
        for data in rest:
            items.extend(items_of(data, list_key))
        return Listing(items, total if total is not None else len(items), max(pages, 1))

    async def _page(
        self, path: str, params: Mapping[str, Any], page: int, size: int
    ) -> dict[str, Any]:
        return await self._get(path, {**params, "page": page, "page_size": size})

    async def _follow(
        self, path: str, params: Mapping[str, Any], size: int, key: str, items: list[Any]
    ) -> Listing:
        # No page_info at all: walk pages until a short one.
        page, last = 1, len(items)
        while last == size:
            page += 1
            batch = items_of(await self._page(path, params, page, size), key)
            items.extend(batch)
            last = len(batch)
        return Listing(items, len(items), page)


def items_of(data: Mapping[str, Any], key: str) -> list[Any]:
    """The list under `key`; a dotted key reaches into an object (`asset_group.members`)."""
    value: Any = data
    for part in key.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return list(value) if isinstance(value, list) else []


def _int(value: object) -> int | None:
    try:
        return int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return None
