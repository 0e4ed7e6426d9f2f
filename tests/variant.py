"""An emulator variant whose answers have other shapes: what TikTok might really send.

`reshaped(app, rewrite)` wraps the emulator's ASGI app; `rewrite(path, data)` edits the `data`
of each successful API answer in place (path relative to /open_api/v1.3/). The emulator itself
is untouched, so the variant differs from it only where a test says. `serve(app)` runs any
ASGI app on a free 127.0.0.1 port under uvicorn (a real socket, as `bcsync emulator serve`).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn

API = "/open_api/v1.3/"
Rewrite = Callable[[str, dict[str, Any]], None]
Asgi = Callable[..., Any]


def reshaped(app: Asgi, rewrite: Rewrite) -> Asgi:
    """The app with `rewrite` applied to each code-0 answer's data."""

    async def variant(scope: dict[str, Any], receive: Any, send: Any) -> None:
        path = str(scope.get("path", ""))
        if scope["type"] != "http" or not path.startswith(API):
            await app(scope, receive, send)
            return
        start: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def capture(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return
            body = _rewrite(b"".join(chunks), path.removeprefix(API), rewrite)
            headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
            headers.append((b"content-length", str(len(body)).encode()))
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": body})

        await app(scope, receive, capture)

    return variant


def _rewrite(body: bytes, path: str, rewrite: Rewrite) -> bytes:
    try:
        envelope = json.loads(body)
    except ValueError:
        return body
    if isinstance(envelope, dict) and envelope.get("code") == 0:
        rewrite(path, envelope["data"])
    return json.dumps(envelope).encode()


def on(path: str, edit: Callable[[dict[str, Any]], None]) -> Rewrite:
    """A rewrite that edits the data of one endpoint only."""

    def rewrite(answered: str, data: dict[str, Any]) -> None:
        if answered == path:
            edit(data)

    return rewrite


def each_item(key: str, edit: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], None]:
    """An edit applied to every item of the list under `key`."""

    def apply(data: dict[str, Any]) -> None:
        for item in data.get(key) or []:
            edit(item)

    return apply


@contextmanager
def serve(app: Asgi) -> Iterator[str]:
    """`app` on a free port of 127.0.0.1; its base URL. Stopped (bounded) afterwards."""
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", ws="none")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        assert thread.is_alive(), "uvicorn stopped"
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
