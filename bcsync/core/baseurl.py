"""API base URLs: the one check `validate`, `plan` and the HTTP client read a URL with. Pure.

Where a token goes is decided from a URL, so every part of bcsync must read it the same way: a
URL `validate` calls valid is one `plan` accepts, and the host it names is the host httpx
connects to. `parse_base_url` is deliberately narrower than RFC 3986 (and than httpx):
- the scheme is `https` (plain `http` only to 127.0.0.0/8, ::1 or localhost);
- printable ASCII, no white space: a host is written in its ASCII form, and an `xn--` label must
  be valid IDNA (httpx decodes such labels when it reads the host: `xn--business-api` is not);
- the host is an IPv4 address, a bracketed IPv6 address, or a DNS name of letter, digit and
  hyphen labels (1 to 63 characters each, 253 in all);
- a port from 1 to 65535; no user info, query or fragment (a base URL gets paths appended).
The result is spelled one way (lower-case scheme and host, no default port, the API path when
none is given, a trailing slash), which is also how two URLs are compared (the allow-list).
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

import idna

API_PREFIX = "/open_api/v1.3/"
DEFAULT_PORTS = {"https": 443, "http": 80}
# Where the TikTok token may go without anyone's say-so (the sandbox too): TikTok's API hosts.
TIKTOK_API_HOSTS = ("business-api.tiktok.com", "sandbox-ads.tiktok.com")
MAX_URL_LENGTH = 2048
_LABEL = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")
_IPV4_STYLE = re.compile(r"[0-9.]+")
_PATH = re.compile(r"[A-Za-z0-9._~!$&'()*+,;=:@/%-]*")


class BaseUrlError(ValueError):
    """A URL that is not a base URL bcsync sends a token to; the message says why."""


@dataclass(frozen=True, slots=True)
class BaseUrl:
    scheme: str
    host: str  # lower case; an IPv6 address without its brackets
    port: int | None  # None for the scheme's default
    path: str  # starts and ends with "/"

    @property
    def text(self) -> str:
        """The one spelling: `https://host[:port]/path/`."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        port = f":{self.port}" if self.port is not None else ""
        return f"{self.scheme}://{host}{port}{self.path}"

    @property
    def is_loopback(self) -> bool:
        return is_loopback_host(self.host)

    @property
    def is_tiktok_api(self) -> bool:
        """https on one of TikTok's API hosts, default port (user info never parses)."""
        return self.scheme == "https" and self.host in TIKTOK_API_HOSTS and self.port is None


def is_loopback_host(host: str) -> bool:
    """127.0.0.0/8, ::1 or localhost."""
    if host.rstrip(".").lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def parse_base_url(url: str, *, in_process: bool = False) -> BaseUrl:
    """The base URL, spelled one way; BaseUrlError when bcsync would not send a token there.

    `in_process`: the embedded emulator, reached without a socket, may be plain http.
    """
    if len(url) > MAX_URL_LENGTH:
        raise BaseUrlError(f"longer than {MAX_URL_LENGTH} characters")
    if not (url.isascii() and url.isprintable()) or " " in url:
        raise BaseUrlError(
            "not printable ASCII (white space, control or non-ASCII characters); "
            "write an internationalised host in its ASCII (xn--) form"
        )
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:  # a port that is not a number from 0 to 65535, a bad IPv6
        raise BaseUrlError(f"not a URL ({exc})") from None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise BaseUrlError(f"the scheme must be https, not {parts.scheme or 'none'!r}")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise BaseUrlError("user info (user@host) is not allowed in a base URL")
    if parts.query or parts.fragment or "?" in url or "#" in url:
        raise BaseUrlError("a base URL has no query (?) or fragment (#)")
    if port == 0:
        raise BaseUrlError("port 0 is not a port")
    host = _host(parts.netloc.rsplit(":", 1)[0] if port is not None else parts.netloc)
    if not _PATH.fullmatch(parts.path):
        raise BaseUrlError("the path has characters a URL path cannot hold")
    path = parts.path if parts.path not in ("", "/") else API_PREFIX
    base = BaseUrl(
        scheme=scheme,
        host=host,
        port=None if port in (None, DEFAULT_PORTS[scheme]) else port,
        path=path if path.endswith("/") else path + "/",
    )
    if scheme != "https" and not (in_process or base.is_loopback):
        raise BaseUrlError(
            f"plain http to {base.host}: only https is allowed (plain http only to "
            "127.0.0.1, ::1 or localhost)"
        )
    return base


def _host(netloc: str) -> str:
    """The host part, checked: IPv6 in brackets, IPv4, or a DNS name of valid labels."""
    if netloc.startswith("["):
        if not netloc.endswith("]"):
            raise BaseUrlError("an IPv6 address must be in brackets")
        try:
            return str(ipaddress.IPv6Address(netloc[1:-1]))
        except ValueError:
            raise BaseUrlError(f"{netloc[:60]!r} is not an IPv6 address") from None
    host = netloc.lower()
    if not host:
        raise BaseUrlError("no host")
    if _IPV4_STYLE.fullmatch(host):
        try:
            return str(ipaddress.IPv4Address(host))
        except ValueError:
            raise BaseUrlError(f"{host[:60]!r} is not an IPv4 address") from None
    name = host[:-1] if host.endswith(".") else host
    if len(name) > 253:
        raise BaseUrlError("the host name is longer than 253 characters")
    labels = name.split(".")
    for label in labels:
        if not _LABEL.fullmatch(label):
            raise BaseUrlError(
                f"the host label {label[:63]!r} is not letters, digits and inner hyphens "
                "(1 to 63 characters)"
            )
    # httpx decodes a host that starts with xn-- when it reads it; check every such label.
    punycode = [label for label in labels if label.startswith("xn--")]
    for part in punycode + ([host] if host.startswith("xn--") else []):
        try:
            idna.decode(part)
        except (idna.IDNAError, UnicodeError, ValueError):
            raise BaseUrlError(
                f"the host {host[:80]!r} is not valid IDNA: an xn-- label must decode to a "
                "valid internationalised name"
            ) from None
    return host
