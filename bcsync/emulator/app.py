"""The ASGI app: the TikTok Business API under /open_api/v1.3/, control endpoints under /_emulator/.

Every API answer is HTTP 200 with {code, message, request_id, data}, except what a gateway says:
an unknown path, a missing trailing slash or a wrong method ("404 page not found") and
the injected 5xx faults (HTML), as TikTok's gateway answers.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import math
import secrets
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from . import assets, business, groups, members, partners
from .control import check_control_token, control_refusal, new_control_token
from .endpoint import Call, Endpoint
from .errors import (
    APP_QPS_LIMIT,
    INTERNAL,
    OK,
    PARAM_ERROR,
    TOKEN_INVALID,
    TOKEN_MISSING,
    ApiFailure,
    EmulatorError,
)
from .faults import Draw, FaultInjector, Faults, gateway_page, throttle_message
from .lag import AfterPage, Replica, check_lag
from .params import Params, parse_body
from .seed import load_seed
from .store import Store, snapshot

API_PREFIX = "/open_api/v1.3/"
ENDPOINTS: dict[str, Endpoint] = {
    e.path: e
    for e in (
        *business.ENDPOINTS,
        *members.ENDPOINTS,
        *assets.ENDPOINTS,
        *partners.ENDPOINTS,
        *groups.ENDPOINTS,
    )
}
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
# The real API's answers to a missing/empty or unknown token (observed by other clients' tests).
TOKEN_MISSING_MESSAGE = (
    "Access token is null, you should set it in http header with key Access-Token."
)
TOKEN_INVALID_MESSAGE = "Access token is incorrect or has been revoked."
INTERNAL_MESSAGE = "Internal error; please try again later."  # details go to the log only
MAX_BODY = 1024 * 1024  # [ours] the largest real body (50 emails, 50 ids) is a few KB
log = logging.getLogger("bcsync.emulator")
NEVER = math.inf
FIRST_ADMIN = (
    "SELECT u.token, u.email FROM members m JOIN users u ON u.user_id = m.user_id "
    "WHERE m.bc_id = ? AND m.relation_status = 'BOUND' AND m.user_role = 'ADMIN' "
    "AND u.token IS NOT NULL ORDER BY m.rowid LIMIT 1"
)

SeedSource = str | Path | Mapping[str, Any]


class Emulator:
    """The local Business Center behind the app: state, faults, invitations, counters."""

    def __init__(
        self,
        store: Store,
        seed: SeedSource | None,
        *,
        control: bool,
        faults: Faults,
        invite_accept_after: float | None,
        clock: Callable[[], float],
        read_lag: float = 0.0,
    ) -> None:
        self.store = store
        self.seed_source = seed
        self.control = control
        self.clock = clock
        self.injector = FaultInjector(faults)
        self._accept_override = invite_accept_after
        self._counts: Counter[str] = Counter()
        self._throttled = 0
        self._ids = itertools.count(1)
        self.created = False  # whether create_app built the database from the seed
        self.invite_accept_after = self._accept_after()
        # What a control request must carry (control.py); set by create_app when control is on.
        self.control_token: str | None = None
        self.replica: Replica | None = None
        self.after_page: list[AfterPage] = []
        self.set_read_lag(read_lag)

    # -- the interface other modules use -------------------------------------------------------

    def admin_token(self, bc_id: str) -> str | None:
        """The token of the first joined admin of `bc_id` who has one (the `local` provider's)."""
        with self.store.transaction() as tx:
            row = tx.one(FIRST_ADMIN, bc_id)
        return row["token"] if row else None

    def business_centers(self) -> list[dict[str, str | None]]:
        """Each BC with the email of the admin whose token `admin_token` gives (not the token)."""
        with self.store.transaction() as tx:
            rows = tx.all("SELECT * FROM business_centers WHERE managed = 1 ORDER BY rowid")
            admins = [tx.one(FIRST_ADMIN, r["bc_id"]) for r in rows]
        return [
            {"bc_id": r["bc_id"], "name": r["name"], "admin_email": a["email"] if a else None}
            for r, a in zip(rows, admins, strict=True)
        ]

    def stats(self) -> dict[str, Any]:
        """Requests answered so far: total, throttled, and per endpoint path."""
        return {
            "total": sum(self._counts.values()),
            "throttled": self._throttled,
            "by_endpoint": dict(sorted(self._counts.items())),
            "read_lag": self.replica.lag if self.replica else 0.0,
            "writes_not_yet_visible": self.replica.pending if self.replica else 0,
        }

    def set_read_lag(self, seconds: float) -> None:
        """Reads see the state as of SECONDS ago from now on (0: at once); see lag.py."""
        seconds = check_lag(seconds)
        if self.replica is not None:
            self.replica.close()
            self.replica = None
        if seconds:
            self.replica = Replica(self.store, seconds)

    def _journal(self, at: float, replay: Callable[[Any], Any]) -> None:
        if self.replica is not None:
            self.replica.record(at, replay)

    def set_faults(self, faults: Faults) -> None:
        """Switch faults at runtime; restarts the random sequence from `faults.seed`."""
        self.injector.configure(faults)

    def accept_invitation(self, bc_id: str, email: str, accept: bool = True) -> str:
        """Settle a pending invitation as the invitee would; the new relation_status."""
        now = self.clock()
        with self.store.transaction(write=True) as tx:
            status = members.settle_invitation(tx, bc_id, email, accept, now)
        self._journal(now, lambda tx: members.settle_invitation(tx, bc_id, email, accept, now))
        return status

    def snapshot(self) -> dict[str, Any]:
        """The current world in the seed's shape, without tokens."""
        with self.store.transaction() as tx:
            return snapshot(tx)

    def reset(self) -> None:
        """Recreate the world from the seed: the file if one was given, else the stored copy."""
        source = self.seed_source if self.seed_source is not None else self.store.meta("seed")
        if source is None:
            raise EmulatorError("no seed to reset from")
        self.store.create(load_seed(source), self.clock())
        if self.replica is not None:
            self.replica.restart(self.store)
        self.after_page.clear()
        self._counts.clear()
        self._throttled = 0
        self.injector.configure(self.injector.faults)
        self.invite_accept_after = self._accept_after()

    def close(self) -> None:
        """Close the database (and the replica)."""
        if self.replica is not None:
            self.replica.close()
        self.store.close()

    # -- serving --------------------------------------------------------------------------------

    def _accept_after(self) -> float | None:
        if self._accept_override is not None:
            return None if self._accept_override == NEVER else float(self._accept_override)
        settings = self.store.meta("settings") or {}
        return settings.get("invite_accept_after_seconds")

    async def api(self, request: Request) -> Response:
        endpoint = ENDPOINTS.get(request.path_params["path"])
        if endpoint is None or request.method != endpoint.method:
            return not_found_page()
        self._counts[API_PREFIX + endpoint.path] += 1
        arrived = self.injector.arrival()
        draw = self.injector.draw()
        if draw.delay:
            await asyncio.sleep(draw.delay)
        if draw.timeout:  # the gateway gives up on a backend that never answers
            await asyncio.sleep(self.injector.faults.hang_seconds)
            return gateway_response(504)
        if draw.gateway_status:
            return gateway_response(draw.gateway_status)
        token = request.headers.get("Access-Token", "").strip()
        try:
            if not token:
                raise ApiFailure(TOKEN_MISSING, TOKEN_MISSING_MESSAGE)
            if endpoint.write:
                raw: Mapping[str, Any] = parse_body(await read_body(request))
            else:
                raw = dict(request.query_params)
            data = self._run(endpoint, token, raw, draw, arrived)
            if not endpoint.write and self.after_page:
                self._after_page(endpoint, raw)
            # Lost response: committed, but the answer is lost on the way [inferred: a 502/504
            # from the gateway, at once; a client that wants a hang uses timeout_rate].
            if endpoint.write and draw.lost_status:
                return gateway_response(draw.lost_status)
            return self.envelope(OK, "OK", data)  # inside: rendering can fail too
        except ApiFailure as failure:
            return self.envelope(failure.code, failure.message, {})
        except Exception:  # a bug: answer like TikTok's backend does, never an HTTP 500
            log.exception("internal error answering %s %s", request.method, request.url.path)
            return self.envelope(INTERNAL, INTERNAL_MESSAGE, {})

    def _run(
        self,
        endpoint: Endpoint,
        token: str,
        raw: Mapping[str, Any],
        draw: Draw,
        arrived: float | None = None,  # when the request reached the server (None: now)
    ) -> Any:
        now = self.clock()
        self._settle_due(now)
        store = self.store
        if self.replica is not None and not endpoint.write:
            store = self.replica.catch_up(now)  # a lagging read: the replica, as of `lag` ago
        with store.transaction(write=endpoint.write) as tx:
            user = tx.user_by_token(token)
            if user is None:
                raise ApiFailure(TOKEN_INVALID, TOKEN_INVALID_MESSAGE)
            over_limit = self.injector.admit(user["app_id"], arrived)
            code = None if over_limit else draw.throttle_code
            if over_limit or code:
                self._throttled += 1
                code = code or APP_QPS_LIMIT
                raise ApiFailure(code, over_limit or throttle_message(code))
            params = Params(raw, from_query=not endpoint.write)
            data = endpoint.handler(Call(tx, user, params, now))
        if endpoint.write:
            self._journal(now, lambda tx: _replay(tx, endpoint, token, raw, now))
        return data

    def _after_page(self, endpoint: Endpoint, raw: Mapping[str, Any]) -> None:
        """Another admin's changes right after the page a hook names: the first such hook, spent."""
        page = str(raw.get("page", "1"))
        hook = next(
            (h for h in self.after_page if h.path == endpoint.path and str(h.page) == page), None
        )
        if hook is None:
            return
        self.after_page.remove(hook)
        with self.store.transaction() as tx:
            actor = tx.user_by_email(hook.actor)
        if actor is None or not actor["token"]:
            raise EmulatorError(f"after-page: no user {hook.actor} with a token")
        quiet = Draw(0.0, False, None, None, None)
        for call in hook.calls:
            target = ENDPOINTS.get(str(call["path"]).strip("/") + "/")
            if target is None or not target.write:
                raise EmulatorError(f"after-page: {call['path']} is not a write endpoint")
            self._run(target, actor["token"], dict(call.get("body") or {}), quiet)

    def _settle_due(self, now: float) -> None:
        after = self.invite_accept_after
        if after is None:
            return
        with self.store.transaction() as tx:
            due = tx.one(
                "SELECT 1 FROM members WHERE relation_status = 'PENDING' AND invited_at <= ?",
                now - after,
            )
        if due:
            with self.store.transaction(write=True) as tx:
                members.accept_due_invitations(tx, now, after)
            self._journal(now, lambda tx: members.accept_due_invitations(tx, now, after))

    def envelope(self, code: int, message: str, data: Any) -> JSONResponse:
        request_id = f"{datetime.now(UTC):%Y%m%d%H%M%S}{next(self._ids):08X}{secrets.token_hex(4)}"
        body = {"code": code, "message": message, "request_id": request_id, "data": data}
        return JSONResponse(body)

    async def control_endpoint(self, request: Request) -> Response:
        refusal = control_refusal(request, self.control_token or new_control_token())
        if refusal is not None:
            return refusal
        actions: dict[tuple[str, str], Callable[[dict[str, Any]], Any]] = {
            ("POST", "reset"): self._control_reset,
            ("GET", "state"): lambda _: self.snapshot(),
            ("GET", "faults"): lambda _: self.injector.faults.to_dict(),
            ("POST", "faults"): self._control_faults,
            ("POST", "invitations/accept"): self._control_accept,
            ("GET", "stats"): lambda _: self.stats(),
            ("POST", "read-lag"): self._control_read_lag,
            ("POST", "after-page"): self._control_after_page,
        }
        action = actions.get((request.method, request.path_params["path"]))
        if action is None:
            return not_found_page()
        try:
            return JSONResponse(action(await _control_body(request)))
        except EmulatorError as err:
            return JSONResponse({"error": err.message}, status_code=400)
        except Exception as exc:  # a bug; still a clear answer, never an HTTP 500
            log.exception("internal error answering %s %s", request.method, request.url.path)
            message = f"internal error in the emulator ({type(exc).__name__}); see its log"
            return JSONResponse({"error": message}, status_code=400)

    def _control_reset(self, body: dict[str, Any]) -> dict[str, Any]:
        self.reset()
        return {"reset": True, "business_centers": self.business_centers()}

    def _control_faults(self, body: dict[str, Any]) -> dict[str, Any]:
        self.set_faults(self.injector.faults.merged(body))
        return self.injector.faults.to_dict()

    def _control_read_lag(self, body: dict[str, Any]) -> dict[str, Any]:
        self.set_read_lag(body.get("seconds"))  # type: ignore[arg-type]  # checked there
        return {"read_lag": self.replica.lag if self.replica else 0.0}

    def _control_after_page(self, body: dict[str, Any]) -> dict[str, Any]:
        hook = AfterPage.from_json(body)
        self.after_page.append(hook)
        return {"path": hook.path, "page": hook.page, "calls": len(hook.calls)}

    def _control_accept(self, body: dict[str, Any]) -> dict[str, Any]:
        bc_id, email, accept = body.get("bc_id"), body.get("email"), body.get("accept", True)
        if not isinstance(bc_id, str) or not isinstance(email, str) or not isinstance(accept, bool):
            raise EmulatorError('expected {"bc_id": "...", "email": "...", "accept": true|false}')
        status = self.accept_invitation(bc_id, email, accept)
        return {"bc_id": bc_id, "email": email.lower(), "relation_status": status}


def _replay(tx: Any, endpoint: Endpoint, token: str, raw: Mapping[str, Any], now: float) -> None:
    """A committed write, run again on the replica as the same caller at the same time."""
    user = tx.user_by_token(token)
    endpoint.handler(Call(tx, user, Params(raw, from_query=False), now))


async def _control_body(request: Request) -> dict[str, Any]:
    if request.method != "POST":
        return {}
    try:
        return parse_body(await read_body(request))
    except ApiFailure as failure:
        raise EmulatorError(f"the body must be a JSON object: {failure.message}") from None


async def read_body(request: Request) -> bytes:
    """The request body, refused past MAX_BODY bytes without reading the rest."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            raise ApiFailure(PARAM_ERROR, f"request body: larger than {MAX_BODY:,} bytes.")
        chunks.append(chunk)
    return b"".join(chunks)


def not_found_page() -> Response:
    """What the real gateway answers for an unknown path or a wrong method."""
    return PlainTextResponse("404 page not found", status_code=404)


def gateway_response(status: int) -> Response:
    return HTMLResponse(gateway_page(status), status_code=status)


async def _not_found(request: Request, exc: Exception) -> Response:
    return not_found_page()


def create_app(
    db_path: str | Path,
    seed: SeedSource | None = None,
    *,
    control: bool = False,
    control_token: str | None = None,
    faults: Faults | None = None,
    invite_accept_after: float | None = None,
    reset: bool = False,
    clock: Callable[[], float] | None = None,
    read_lag: float = 0.0,
) -> Starlette:
    """The emulator as an ASGI app; `app.state.emulator` is its Emulator.

    `control` serves /_emulator/, answered only to loopback Host names carrying `control_token`
    (a new random one when None: read it from `app.state.emulator.control_token`).

    A missing database (or `reset=True`) is created from `seed`; an existing one is used as it
    is and the seed is kept only for a later reset. `invite_accept_after`: seconds after which
    invitations are accepted, `math.inf` for never, None for the seed's setting.
    """
    clock = clock or time.time
    store = Store(db_path)
    try:
        created = reset or not store.is_initialised()
        if created:
            if seed is None:
                raise EmulatorError(
                    f"{store.path} holds no emulator database yet; give a seed to create it"
                )
            store.create(load_seed(seed), clock())
        emulator = Emulator(
            store,
            seed,
            control=control,
            faults=faults or Faults(),
            invite_accept_after=invite_accept_after,
            clock=clock,
            read_lag=read_lag,
        )
    except BaseException:
        store.close()
        raise
    emulator.created = created
    if control:
        emulator.control_token = (
            check_control_token(control_token) if control_token else new_control_token()
        )

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        emulator.close()

    routes = [Route(API_PREFIX + "{path:path}", emulator.api, methods=METHODS)]
    if control:
        routes.append(Route("/_emulator/{path:path}", emulator.control_endpoint, methods=METHODS))
    app = Starlette(
        routes=routes,
        exception_handlers={404: _not_found, 405: _not_found},
        lifespan=lifespan,
    )
    app.router.redirect_slashes = False  # the real API does not redirect; it answers 404
    app.state.emulator = emulator
    return app
