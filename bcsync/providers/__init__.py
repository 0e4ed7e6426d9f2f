"""Providers: read a Business Center's actual state and write changes to it.

`base` is pure (the contract); `factory.open_providers` builds TikTok clients. Importing this
package imports only the contract, so the core never pulls in httpx.
"""

from __future__ import annotations

from bcsync.providers.base import Provider, ReadResult, Scope, WriteResult

__all__ = ["Provider", "ReadResult", "Scope", "WriteResult"]
