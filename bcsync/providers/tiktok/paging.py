"""Paged lists: page 1 first, then every other page concurrently (the rate limiter paces them).

`page_info` gives the page count. The member list's maximum page size is disputed (none in the
SDK, 20 in another client): a server that rejects our size with a 40002 naming page_size gets
the fallback, and a server that silently caps it is followed by the size it echoes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from bcsync.errors import ApiError
from bcsync.providers.tiktok import codes

log = logging.getLogger("bcsync.providers.tiktok")
T = TypeVar("T")
Get = Callable[[str, Mapping[str, Any]], Awaitable[dict[str, Any]]]


@dataclass
class Listing:
    """Every item of a paged list, and the total the server reported."""

    items: list[dict[str, Any]] = field(default_factory=list)
    total: int = 0
    pages: int = 1


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
        items = list(first.get(list_key) or [])
        total = _int(info.get("total_number"))
        pages = _int(info.get("total_page"))
        if pages is None and total is not None:
            pages = -(-total // size)
        if pages is None:
            return await self._follow(path, params, size, list_key, items)
        rest = await run_all([self._page(path, params, p, size) for p in range(2, pages + 1)])
        for data in rest:
            items.extend(data.get(list_key) or [])
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
            batch = list((await self._page(path, params, page, size)).get(key) or [])
            items.extend(batch)
            last = len(batch)
        return Listing(items, len(items), page)


def _int(value: object) -> int | None:
    try:
        return int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return None
