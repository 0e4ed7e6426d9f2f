"""Who may use the control endpoints (/_emulator/): this machine, with the control token.

The control endpoints reset the world, inject faults and accept invitations. A served emulator
listens on loopback, but a web page in the user's browser can still reach it by DNS rebinding
(a name it controls resolving to 127.0.0.1): the browser sends that name as Host. So a control
request is answered only when
- its Host header names this machine (localhost, 127.0.0.0/8 or [::1], any port), and
- it carries the control token in the `Emulator-Control-Token` header. The token is the
  emulator's own, never a TikTok user token: a page cannot read it, and a client holding a
  seed's API tokens cannot use it to reset the world.
"""

from __future__ import annotations

import ipaddress
import secrets

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .errors import EmulatorError

CONTROL_HEADER = "Emulator-Control-Token"
CONTROL_TOKEN_ENV = "BCSYNC_EMULATOR_CONTROL_TOKEN"
MIN_TOKEN_LENGTH = 16


def new_control_token() -> str:
    return secrets.token_urlsafe(24)


def check_control_token(token: str) -> str:
    """A control token someone chose: visible ASCII, at least MIN_TOKEN_LENGTH long."""
    if len(token) < MIN_TOKEN_LENGTH or not (token.isascii() and token.isprintable()):
        raise EmulatorError(
            f"the control token must be at least {MIN_TOKEN_LENGTH} visible ASCII characters"
        )
    if " " in token:
        raise EmulatorError("the control token must not contain spaces")
    return token


def is_loopback_host_header(value: str | None) -> bool:
    """Whether a Host header names this machine: localhost, 127.0.0.0/8 or [::1], any port."""
    if not value or len(value) > 255:
        return False
    host = value.strip()
    if host.startswith("["):
        end = host.find("]")
        name, rest = host[1:end], host[end + 1 :]
        if end < 0 or (rest and not _is_port(rest)):
            return False
        return _is_loopback_ip(name, version=6)
    name, sep, port = host.partition(":")
    if sep and not _is_port(":" + port):
        return False
    if name.lower() == "localhost":
        return True
    return _is_loopback_ip(name, version=4)


def _is_port(text: str) -> bool:
    return text.startswith(":") and text[1:].isascii() and text[1:].isdigit() and len(text) <= 6


def _is_loopback_ip(name: str, *, version: int) -> bool:
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)  # ::ffff:127.0.0.1 is not a name we serve
    return address.version == version and address.is_loopback and mapped is None


def control_refusal(request: Request, token: str) -> Response | None:
    """The answer that refuses a control request, or None when it may go on."""
    if not is_loopback_host_header(request.headers.get("host")):
        return JSONResponse(
            {"error": "control endpoints answer only requests to localhost, 127.0.0.1 or [::1]"},
            status_code=403,
        )
    given = request.headers.get(CONTROL_HEADER, "")
    if not secrets.compare_digest(given.encode("utf-8", "replace"), token.encode()):
        return JSONResponse(
            {"error": f"control endpoints need the emulator's control token in {CONTROL_HEADER}"},
            status_code=401,
        )
    return None
