"""The TikTok Business API transport: envelope, JSON-encoded GET parameters, paging, the rate
limiter, retries with backoff, per-request deadlines and token redaction.

One `TikTokClient` per developer app (base URL + token), shared by every BC in a run. It never
retries a write that may have happened: a POST that timed out or got a 5xx / non-JSON answer
after it was sent raises `AmbiguousWriteError`, and the caller verifies by reading.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import httpx

from bcsync.core.baseurl import (
    BaseUrlError,
    is_loopback_host,
    parse_base_url,
)
from bcsync.errors import (
    AmbiguousWriteError,
    ApiError,
    AuthError,
    ProviderError,
    ThrottledError,
    TransientError,
)
from bcsync.providers.tiktok import codes, shapes
from bcsync.providers.tiktok.codes import Verdict
from bcsync.providers.tiktok.limiter import Limiter
from bcsync.providers.tiktok.paging import Listing, Pager

log = logging.getLogger("bcsync.providers.tiktok")

DEFAULT_BASE_URL = "https://business-api.tiktok.com/open_api/v1.3/"
REDACTED = "[redacted]"


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded retries with exponential backoff and full jitter, plus explicit timeouts."""

    attempts: int = 6
    total_seconds: float = 120.0
    base_delay: float = 0.5
    max_delay: float = 30.0
    # TikTok's advice for a QPS throttle is "retry next second".
    throttle_delay: float = 1.0
    # Enforced with asyncio as well, because in-process transports ignore httpx timeouts.
    request_timeout: float = 30.0
    connect_timeout: float = 10.0
    # How long a write whose answer was lost is read back (with the backoff above) before it is
    # sent again: TikTok promises no read-after-write consistency (write.py's docstring).
    settle_seconds: float = 120.0
    seed: int | None = None

    def timeout(self) -> httpx.Timeout:
        """The httpx timeouts for a client built with this policy."""
        return httpx.Timeout(self.request_timeout, connect=self.connect_timeout)


@dataclass
class Tally:
    """Calls sent (every attempt counts) and throttle answers seen."""

    calls: int = 0
    throttled: int = 0


_tally: ContextVar[Tally | None] = ContextVar("bcsync_tiktok_tally", default=None)


class _Failed(Exception):
    """One attempt failed; `sent` is False only when the request surely never left."""

    def __init__(self, kind: Verdict, error: ProviderError, *, sent: bool = True) -> None:
        super().__init__(error.message)
        self.kind = kind
        self.error = error
        self.sent = sent


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 or localhost."""
    return is_loopback_host(host)


def check_base_url(url: str, *, in_process: bool = False) -> str:
    """The base URL in its one spelling (`bcsync.core.baseurl`, the check validate uses too);
    ProviderError for anything else, plain http included except to loopback or in-process."""
    try:
        return parse_base_url(url, in_process=in_process).text
    except BaseUrlError as err:
        shown = url if len(url) <= 80 and url.isprintable() else repr(url[:80])
        raise ProviderError(
            f"refusing to send the access token to {shown}: {err}", hint="use an https:// URL"
        ) from None


def url_key(url: str) -> str:
    """A base URL in one spelling (case, default port, trailing slash, API path) to compare;
    BaseUrlError (a ValueError) when it is not one."""
    return parse_base_url(url).text


def is_tiktok_api(url: str) -> bool:
    """True for https on one of TikTok's API hosts, default port, no user info."""
    try:
        return parse_base_url(url).is_tiktok_api
    except BaseUrlError:
        return False


def parse_allowed_urls(text: str) -> frozenset[str]:
    """`BCSYNC_ALLOWED_API_URLS`: comma-separated base URLs, as `url_key`s (bad entries dropped)."""
    keys = set()
    for entry in text.split(","):
        with contextlib.suppress(BaseUrlError):
            if entry.strip():
                keys.add(url_key(entry.strip()))
    return frozenset(keys)


_INVISIBLE = {
    " ": "a space",
    "\t": "a tab",
    "\n": "a line break",
    "\r": "a carriage return",
    "\u00a0": "a no-break space (U+00A0)",
    "\u200b": "a zero-width space (U+200B)",
    "\ufeff": "a byte-order mark (U+FEFF)",
}


def check_token(token: str, where: str) -> str:
    """The token if an HTTP header can carry it (visible ASCII only); the error never echoes it."""
    for position, char in enumerate(token, 1):
        if "\x21" <= char <= "\x7e":
            continue
        # Only the offending character is named: it is not visible ASCII, so never the secret.
        what = _INVISIBLE.get(char) or f"the character U+{ord(char):04X}"
        raise AuthError(
            f"the access token in {where} holds {what} at position {position} of {len(token)}, "
            "which an HTTP header cannot carry",
            hint="copy the token again, without spaces, line breaks or invisible characters "
            "(a zero-width space often comes with copy and paste)",
        )
    return token


def encode_params(params: Mapping[str, Any]) -> dict[str, str]:
    """GET parameters: objects and lists JSON-encoded, scalars as strings."""
    out: dict[str, str] = {}
    for key, value in params.items():
        if value is None:
            continue
        if isinstance(value, dict | list | tuple | bool):
            out[key] = json.dumps(value, separators=(",", ":"))
        else:
            out[key] = str(value)
    return out


class TikTokClient:
    """Calls the API for one app; the token lives only here and in the request header."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        token: str,
        limiter: Limiter,
        base_url: str = DEFAULT_BASE_URL,
        retry: RetryPolicy | None = None,
        token_env: str = "TIKTOK_ACCESS_TOKEN",
        in_process: bool = False,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not token:
            raise AuthError("no access token", hint=codes.auth_hint(40104, token_env))
        check_token(token, f"${token_env}")
        self._http = http
        self.__token = token
        self.base_url = check_base_url(base_url, in_process=in_process)
        self.limiter = limiter
        self.retry = retry or RetryPolicy()
        self.token_env = token_env
        self.stats = Tally()
        self._sleep = sleep
        self._clock = clock
        self._rng = random.Random(self.retry.seed)
        # Page sizes learned from servers that reject ours (e.g. member/get capped at 20).
        self._page_caps: dict[str, int] = {}

    def __repr__(self) -> str:
        return f"TikTokClient(base_url={self.base_url!r}, limiter={self.limiter!r})"

    def redact(self, text: str) -> str:
        """The text with the token blotted out (servers may echo what they were sent)."""
        return text.replace(self.__token, REDACTED) if self.__token else text

    @contextlib.contextmanager
    def tally(self) -> Iterator[Tally]:
        """Count the calls made inside this block (tasks started inside it included)."""
        counter = Tally()
        reset = _tally.set(counter)
        try:
            yield counter
        finally:
            _tally.reset(reset)

    async def pause(self, attempt: int) -> None:
        """Back off before the next round of a write that had to be verified."""
        await self._sleep(self._backoff(attempt, Verdict.TRANSIENT))

    def now(self) -> float:
        """The client's monotonic clock (virtual in tests)."""
        return self._clock()

    async def get(self, path: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """GET one page; returns the envelope's `data`, checked against the shape bcsync reads
        (ShapeError otherwise: shapes.py)."""
        data, request_id = await self.get_raw(path, params)
        shapes.check(path, params, data, request_id)
        return data

    async def get_raw(self, path: str, params: Mapping[str, Any]) -> tuple[dict[str, Any], str]:
        """GET one page unchecked: `data` and the request id (`bcsync doctor` records shapes)."""
        return await self._call("GET", path, params=encode_params(params), write=False)

    async def post(self, path: str, body: Mapping[str, Any]) -> tuple[dict[str, Any], str]:
        """POST a write; returns `data` and the request id. Raises AmbiguousWriteError."""
        return await self._call("POST", path, body=dict(body), write=True)

    async def get_all(
        self,
        path: str,
        params: Mapping[str, Any],
        *,
        page_size: int,
        fallback_page_size: int | None = None,
        list_key: str = "list",
        confirm: bool = False,
    ) -> Listing:
        """Every page of a list: page 1 first, then the rest concurrently; checked (paging.py)."""
        pager = Pager(self.get, self._page_caps)
        return await pager.fetch(path, params, page_size, fallback_page_size, list_key, confirm)

    async def _call(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        body: dict[str, Any] | None = None,
        write: bool,
    ) -> tuple[dict[str, Any], str]:
        endpoint = f"{method} /{path.strip('/')}/"
        bc_id = str((params or body or {}).get("bc_id") or "") or None
        # The retry budget counts time on the wire and in backoff, never time queued behind the
        # rate limiter: at 10 QPS a big plan queues calls for minutes, and a throttle answer to
        # one of them must still be retried.
        spent = 0.0
        attempt = 0
        while True:
            attempt += 1
            await self.limiter.acquire()
            began = self._clock()
            try:
                return await self._send(method, path, endpoint, bc_id, params, body)
            except _Failed as failure:
                spent += self._clock() - began
                # 20001 on a write: the writer reads what took effect (never assumed either way).
                if failure.kind is Verdict.FAIL or (write and failure.kind is Verdict.PARTIAL):
                    raise failure.error from None
                if write and failure.sent and failure.kind is Verdict.TRANSIENT:
                    raise self._ambiguous(endpoint, failure.error) from None
                if failure.kind is Verdict.THROTTLED:
                    self._count(throttled=1)
                    self.limiter.throttled()
                delay = self._backoff(attempt, failure.kind)
                if attempt >= self.retry.attempts or spent + delay > self.retry.total_seconds:
                    raise self._exhausted(failure.error, attempt, spent) from None
                log.info(
                    "%s; retrying in %.2f s (attempt %d of %d)",
                    failure.error.message,
                    delay,
                    attempt + 1,
                    self.retry.attempts,
                )
                await self._sleep(delay)
                spent += delay

    async def _send(
        self,
        method: str,
        path: str,
        endpoint: str,
        bc_id: str | None,
        params: dict[str, str] | None,
        body: dict[str, Any] | None,
    ) -> tuple[dict[str, Any], str]:
        self._count(calls=1)
        request = self._http.build_request(
            method,
            self.base_url + path.lstrip("/"),
            params=params,
            json=body,
            headers={"Access-Token": self.__token, "Accept": "application/json"},
        )
        timeout = self.retry.request_timeout
        try:
            async with asyncio.timeout(timeout):
                response = await self._http.send(request)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise _Failed(Verdict.TRANSIENT, self._network(endpoint, exc), sent=False) from None
        except (TimeoutError, httpx.TimeoutException):
            err = TransientError(f"{endpoint}: no answer within {timeout:g} s", endpoint=endpoint)
            raise _Failed(Verdict.TRANSIENT, err) from None
        except httpx.TransportError as exc:
            raise _Failed(Verdict.TRANSIENT, self._network(endpoint, exc)) from None
        return self._parse(response, endpoint, bc_id)

    def _parse(
        self, response: httpx.Response, endpoint: str, bc_id: str | None
    ) -> tuple[dict[str, Any], str]:
        try:
            envelope = response.json()
        except ValueError:
            envelope = None
        if isinstance(envelope, dict) and isinstance(envelope.get("code"), int):
            code = envelope["code"]
            request_id = str(envelope.get("request_id") or "")
            if code == codes.OK:
                data = envelope.get("data")
                return (data if isinstance(data, dict) else {}), request_id
            message = self.redact(str(envelope.get("message") or ""))
            err = codes.error_for(
                code,
                message,
                request_id=request_id or None,
                endpoint=endpoint,
                bc_id=bc_id,
                token_env=self.token_env,
            )
            raise _Failed(codes.verdict(code), err)
        raise _Failed(*self._http_failure(response, endpoint))

    def _http_failure(
        self, response: httpx.Response, endpoint: str
    ) -> tuple[Verdict, ProviderError]:
        status = response.status_code
        snippet = self.redact(" ".join(response.text.split())[:120])
        text = f"{endpoint}: HTTP {status} without a TikTok envelope"
        if snippet:
            text += f": {snippet}"
        if status == 429:
            return Verdict.THROTTLED, ThrottledError(text, endpoint=endpoint)
        if status >= 500 or status == 200:
            return Verdict.TRANSIENT, TransientError(text, endpoint=endpoint)
        if status in (401, 403):
            hint = codes.auth_hint(None, self.token_env)
            return Verdict.FAIL, AuthError(text, hint=hint, endpoint=endpoint)
        return Verdict.FAIL, ApiError(text, endpoint=endpoint)

    def _network(self, endpoint: str, exc: Exception) -> TransientError:
        detail = self.redact(str(exc)) or type(exc).__name__
        return TransientError(f"{endpoint}: network error: {detail}", endpoint=endpoint)

    def _ambiguous(self, endpoint: str, err: ProviderError) -> AmbiguousWriteError:
        return AmbiguousWriteError(
            f"{err.message}; the write may or may not have happened",
            hint="bcsync reads the Business Center to check before retrying",
            code=err.code,
            request_id=err.request_id,
            endpoint=endpoint,
        )

    def _exhausted(self, err: ProviderError, attempts: int, elapsed: float) -> ProviderError:
        return type(err)(
            f"{err.message}; gave up after {attempts} attempts "
            f"({elapsed:.1f} s on the wire and backing off)",
            hint=err.hint,
            code=err.code,
            request_id=err.request_id,
            endpoint=err.endpoint,
        )

    def _backoff(self, attempt: int, kind: Verdict) -> float:
        policy = self.retry
        cap = min(policy.max_delay, policy.base_delay * 2 ** (attempt - 1))
        delay = self._rng.uniform(0, cap)
        if kind is Verdict.THROTTLED:
            delay += policy.throttle_delay
        return delay

    def _count(self, *, calls: int = 0, throttled: int = 0) -> None:
        for tally in (self.stats, _tally.get()):
            if tally is not None:
                tally.calls += calls
                tally.throttled += throttled
