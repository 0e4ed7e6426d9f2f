"""Serving the app over a real socket with uvicorn: bind first (so errors are clear), then run."""

from __future__ import annotations

import ipaddress
import socket

import uvicorn
from starlette.applications import Starlette

from .errors import EmulatorError

GRACE_SECONDS = 2  # after SIGTERM, how long requests in flight may take to finish


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on host:port (port 0 picks a free one); EmulatorError when impossible."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        return socket.create_server((host, port), family=family)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise EmulatorError(f"cannot listen on {host}:{port}: {reason}") from None


def base_url(sock: socket.socket) -> str:
    """http://HOST:PORT of a bound socket (IPv6 hosts in brackets)."""
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def is_loopback(host: str) -> bool:
    """Whether `host` only accepts connections from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve(app: Starlette, sock: socket.socket, *, access_log: bool = False) -> None:
    """Run uvicorn on `sock` until Ctrl+C or SIGTERM; closes the socket afterwards.

    Requests still running GRACE_SECONDS after the signal are cancelled: injected latency and
    timeouts must not keep a stopped server alive (it once ignored SIGTERM).
    """
    config = uvicorn.Config(
        app,
        log_level="info" if access_log else "warning",
        access_log=access_log,
        lifespan="on",
        server_header=False,
        timeout_graceful_shutdown=GRACE_SECONDS,
    )
    server = uvicorn.Server(config)
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
