"""Fault injection: latency, per-app QPS/QPM limits, throttle codes, 5xx, timeouts, lost responses.

Deterministic under `Faults.seed`: every request draws the same number of random values in the
same order, so a sequential client sees the same faults on every run.
"""

from __future__ import annotations

import bisect
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

from .errors import APP_QPS_LIMIT, TOO_FREQUENT, EmulatorError

RATES = ("throttle_rate", "error_5xx_rate", "timeout_rate", "lost_response_rate")
# Upper bounds: a fault is for rehearsing, and an unbounded sleep would hang every request and
# the server's shutdown (`latency_ms: Infinity` once did).
DURATIONS = {"latency_ms": 60_000.0, "jitter_ms": 60_000.0, "hang_seconds": 600.0}
MAX_LIMIT = 1_000_000

# Messages as seen from the real API (recorded in other clients' test fixtures and bug reports).
QPS_MESSAGE = "App reaches the QPS limit."
QPM_MESSAGE = "Due to too many requests, requests from App are temporarily restricted."
TOO_FREQUENT_MESSAGE = "Requests made too frequently, please try again later."


@dataclass(frozen=True, slots=True)
class Faults:
    """What goes wrong, and how often; all off by default."""

    latency_ms: float = 0.0
    jitter_ms: float = 0.0
    qps_limit: int | None = None
    qpm_limit: int | None = None
    throttle_rate: float = 0.0
    error_5xx_rate: float = 0.0
    timeout_rate: float = 0.0
    lost_response_rate: float = 0.0
    hang_seconds: float = 30.0
    seed: int = 0

    def __post_init__(self) -> None:
        for name, high in DURATIONS.items():
            value = getattr(self, name)
            # NaN fails both comparisons; Infinity fails the upper bound.
            if not _is_number(value) or not 0 <= value <= high:
                raise EmulatorError(
                    f"faults: {name} must be a number between 0 and {high:,}, got {_shown(value)}"
                )
        for name in RATES:
            value = getattr(self, name)
            if not _is_number(value) or not 0 <= value <= 1:
                raise EmulatorError(
                    f"faults: {name} must be a rate between 0 and 1, got {_shown(value)}"
                )
        for name in ("qps_limit", "qpm_limit"):
            value = getattr(self, name)
            if value is not None and (type(value) is not int or not 1 <= value <= MAX_LIMIT):
                raise EmulatorError(
                    f"faults: {name} must be an integer between 1 and {MAX_LIMIT:,}, or null"
                )
        if type(self.seed) is not int or not 0 <= self.seed < 2**64:
            raise EmulatorError("faults: seed must be an integer between 0 and 2**64 - 1")

    def to_dict(self) -> dict[str, Any]:
        """The faults as JSON-ready data."""
        return asdict(self)

    def merged(self, changes: Mapping[str, Any]) -> Faults:
        """A copy with `changes` applied; unknown names are an EmulatorError."""
        known = {f.name for f in fields(self)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise EmulatorError(f"faults: unknown setting(s) {', '.join(unknown)}")
        return Faults(**{**self.to_dict(), **changes})


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


@dataclass(frozen=True, slots=True)
class Draw:
    """The faults one request will meet, decided when it arrives."""

    delay: float  # seconds to wait before answering anything
    timeout: bool  # hang, then answer 504
    gateway_status: int | None  # answer this 5xx with an HTML body
    throttle_code: int | None  # answer this throttle code in the envelope
    lost_status: int | None  # for a write: commit, then answer this 5xx


class FaultInjector:
    """Draws per-request faults and enforces the per-app rate limits."""

    def __init__(self, faults: Faults, clock: Callable[[], float] = time.monotonic) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self._windows: dict[str, tuple[deque[float], deque[float]]] = {}
        self.configure(faults)

    def configure(self, faults: Faults) -> None:
        """Switch to new faults; restarts the random sequence from their seed."""
        with self._lock:
            self.faults = faults
            self._rng = random.Random(faults.seed)
            self._windows.clear()

    def draw(self) -> Draw:
        """Decide this request's faults; always consumes exactly eight random values."""
        f = self.faults
        with self._lock:
            r = [self._rng.random() for _ in range(8)]
        return Draw(
            delay=(f.latency_ms + r[0] * f.jitter_ms) / 1000.0,
            timeout=r[1] < f.timeout_rate,
            gateway_status=(502, 503, 504)[int(r[3] * 3)] if r[2] < f.error_5xx_rate else None,
            throttle_code=(APP_QPS_LIMIT, TOO_FREQUENT)[int(r[5] * 2)]
            if r[4] < f.throttle_rate
            else None,
            lost_status=(502, 504)[int(r[7] * 2)] if r[6] < f.lost_response_rate else None,
        )

    def arrival(self) -> float:
        """Now, on the clock the limits count with: a request is counted when it arrives."""
        return self._clock()

    def admit(self, app_id: str, arrived: float | None = None) -> str | None:
        """Count a request against its app's limits; the throttle message when over one.

        `arrived` is when the request reached the server, as a gateway counts it: the work
        done before the token names its app (reading the body, the database) must not bunch
        requests that arrived apart. Windows hold later arrivals too, so it only ever counts
        more.
        """
        f = self.faults
        if f.qps_limit is None and f.qpm_limit is None:
            return None
        now = self._clock() if arrived is None else arrived
        with self._lock:
            second, minute = self._windows.setdefault(app_id, (deque(), deque()))
            # Arrivals are admitted a little out of order (a POST reads its body first): keep a
            # second more than each window and count by position, whatever the order.
            while second and second[0] <= now - 2.0:
                second.popleft()
            while minute and minute[0] <= now - 61.0:
                minute.popleft()
            in_second = len(second) - bisect.bisect_right(second, now - 1.0)
            in_minute = len(minute) - bisect.bisect_right(minute, now - 60.0)
            # Rejected requests are not counted: a client that backs off recovers next second.
            if f.qps_limit is not None and in_second >= f.qps_limit:
                return QPS_MESSAGE
            if f.qpm_limit is not None and in_minute >= f.qpm_limit:
                return QPM_MESSAGE
            for window in (second, minute):
                bisect.insort(window, now)
        return None


def throttle_message(code: int) -> str:
    """The message that goes with a throttle code."""
    return QPS_MESSAGE if code == APP_QPS_LIMIT else TOO_FREQUENT_MESSAGE


def gateway_page(status: int) -> str:
    """The HTML a gateway answers with; deliberately not JSON, as TikTok's gateway answers."""
    reason = {502: "Bad Gateway", 503: "Service Temporarily Unavailable", 504: "Gateway Time-out"}
    title = f"{status} {reason.get(status, 'Error')}"
    return (
        f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n"
        f"<center><h1>{title}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
    )
