"""Providers: read a Business Center's actual state and write changes to it.

`base` is pure (the contract); `open_providers` builds TikTok clients and is imported lazily so
that importing the contract never imports httpx.
"""

from __future__ import annotations

from typing import Any

from bcsync.providers.base import Provider, ReadResult, Scope, WriteResult

__all__ = ["Provider", "ReadResult", "Scope", "WriteResult", "open_providers"]


def __getattr__(name: str) -> Any:
    if name == "open_providers":
        from bcsync.providers.factory import open_providers

        return open_providers
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
