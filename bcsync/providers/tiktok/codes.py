"""TikTok return codes (wire contract section 5) -> what the client does and what it raises."""

from __future__ import annotations

from enum import Enum

from bcsync.errors import (
    ApiError,
    AuthError,
    NotFoundError,
    PermissionDeniedError,
    ProviderError,
    ThrottledError,
    TransientError,
)

OK = 0
PARTIAL_SUCCESS = 20001
PARAMETER_ERROR = 40002
# 40101 is "invalid auth parameters" in the official appendix, "too frequent" in one client
# [conflict]; we follow the appendix: retrying a bad credential cannot help.
AUTH_CODES = frozenset({40101, 40102, 40104, 40105, 40110})
PERMISSION_CODES = frozenset({40001})
NOT_FOUND_CODES = frozenset({40007})
THROTTLE_CODES = frozenset({40016, 40100, 40132, 40133})
TRANSIENT_CODES = frozenset({40202, 50000, 50002, 51001, 60001})


class Verdict(Enum):
    """What to do with a failed call."""

    FAIL = "fail"
    THROTTLED = "throttled"
    TRANSIENT = "transient"


def verdict(code: int) -> Verdict:
    """Retry throttles and transient codes (any 5xxxx included); fail on everything else."""
    if code in THROTTLE_CODES:
        return Verdict.THROTTLED
    if code in TRANSIENT_CODES or 50000 <= code <= 59999:
        return Verdict.TRANSIENT
    return Verdict.FAIL


def error_for(
    code: int,
    message: str,
    *,
    request_id: str | None,
    endpoint: str,
    bc_id: str | None,
    token_env: str,
) -> ProviderError:
    """The exception for a final (non-retried or retries-exhausted) error code."""
    where = f"{endpoint}: " if endpoint else ""
    text = f"{where}TikTok API error {code}: {message}"
    if request_id:
        text += f" (request_id {request_id})"
    kwargs = {"code": code, "request_id": request_id, "endpoint": endpoint}
    if code in AUTH_CODES:
        return AuthError(text, hint=auth_hint(code, token_env), **kwargs)
    if code in PERMISSION_CODES:
        bc = f"BC {bc_id}" if bc_id else "this Business Center"
        return PermissionDeniedError(
            text,
            hint=f"the token's user is not an admin of {bc}, or may not do this; "
            "use a token of a BC admin",
            **kwargs,
        )
    if code in NOT_FOUND_CODES:
        return NotFoundError(text, hint="check the ids in the config", **kwargs)
    if code in THROTTLE_CODES:
        return ThrottledError(
            text,
            hint="the app's rate limit was reached; retry later or lower qps/qpm in the "
            "provider settings",
            **kwargs,
        )
    if verdict(code) is Verdict.TRANSIENT:
        return TransientError(text, hint="TikTok had trouble; retry later", **kwargs)
    return ApiError(text, **kwargs)


def auth_hint(code: int | None, token_env: str) -> str:
    """What to do about a bad or missing token."""
    if code == 40102:
        return f"the access token expired: generate a new long-term token and set {token_env}"
    if code == 40104:
        return f"no access token was sent: set {token_env}"
    return (
        f"the access token is wrong or revoked: set {token_env} to a valid long-term token "
        "(if it expired, generate a new one)"
    )
