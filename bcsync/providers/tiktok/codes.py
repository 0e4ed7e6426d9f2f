"""TikTok return codes -> what the client does and what it raises.

The groups follow the SDK's code table (`tiktok_business/tiktok_code.py` in
tiktok/tiktok-business-api-sdk); the SDK gives only constant names, so the actions are read
from them.
"""

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
NO_UPDATE = 40012
DUPLICATED_REQUEST = 40050
# 40101 is INVALID_PARTNER in the SDK, "too frequent" in one client; we follow the SDK:
# retrying a bad credential cannot help.
AUTH_CODES = frozenset(
    {40101, 40102, 40103, 40104, 40105, 40106, 40107, 40108, 40109, 40110, 40112}
    | {40114, 40115, 40116, 40119, 40120, 40131, 40309, 70001}
)
# What each permission code means for a bcsync user, and what to do about it.
PERMISSION_HINTS: dict[int, str] = {
    40001: "the token's user is not an admin of {bc}, or may not do this; "
    "use a token of a BC admin",
    40003: "TikTok forbids this operation (40003 FORBIDDEN) for the token's user in {bc}; "
    "check the user's role there",
    40113: "the developer app is blocked (40113 APP_FORBIDDEN); check its status in the "
    "TikTok for Business developer portal",
    40117: "the developer app may not call this endpoint (40117 APP_METHOD_FORBIDDEN); "
    "give the app the Business Center permissions in the developer portal",
    40118: "this endpoint needs an allowlist (40118 NOT_IN_WHITELIST); ask your TikTok "
    "representative to allowlist the app for Business Center management",
    40124: "the developer application was rejected (40124 DEVELOPER_REJECTED); "
    "see the developer portal",
    40125: "the developer account lacks this permission (40125 DEVELOPER_NO_PERMISSION); "
    "see the developer portal",
    40130: "the token was not authorized for this scope (40130 SCOPE_NOT_AUTHORIZED); "
    "authorize the app again with the Business Center scopes and set {token_env} to the "
    "new token",
    40301: "the token's user has too weak a role on the ad account (40301 "
    "ADVERTISER_ROLE_ERROR); use a token of a BC admin",
    41000: "TikTok blocked the request or the account (41000 BLOCKED); contact TikTok support",
}
PERMISSION_CODES = frozenset(PERMISSION_HINTS)
NOT_FOUND_CODES = frozenset({40007, 40013, 40300, 40302})
# 61000 TOO_MANY_REQUESTS_BL and 40132 REQUEST_FREQUENCY_LIMITED back off like 40100.
THROTTLE_CODES = frozenset({40016, 40100, 40132, 40133, 61000})
# 40201 TASK_NOT_READY and 40202 WRITE_CONFLICT: try again later; 5xxxx and 60001 below.
TRANSIENT_CODES = frozenset({40201, 40202, 50000, 50002, 51001, 60001})
# "Already done": the state is already as requested. Accepted only after a read confirms it.
ALREADY_DONE_CODES = frozenset({NO_UPDATE, DUPLICATED_REQUEST})


class PartialSuccessError(ApiError):
    """20001: some of a write's items took effect, some did not; verified by reading."""


class AlreadyDoneError(ApiError):
    """40012 NO_UPDATE or 40050 DUPLICATED_REQUEST: true only once a read confirms it."""


class Verdict(Enum):
    """What to do with a failed call."""

    FAIL = "fail"
    THROTTLED = "throttled"
    TRANSIENT = "transient"
    # 20001: a write is verified by reading; a read is retried.
    PARTIAL = "partial"


def verdict(code: int) -> Verdict:
    """Retry throttles and transient codes (any 5xxxx included); fail on everything else."""
    if code == PARTIAL_SUCCESS:
        return Verdict.PARTIAL
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
    kind, hint = _kind(code, token_env, bc_id)
    return kind(text, hint=hint, code=code, request_id=request_id, endpoint=endpoint)


def _kind(code: int, token_env: str, bc_id: str | None) -> tuple[type[ProviderError], str | None]:
    """The exception class and hint of a code."""
    if code in AUTH_CODES:
        return AuthError, auth_hint(code, token_env)
    if code in PERMISSION_CODES:
        bc = f"BC {bc_id}" if bc_id else "this Business Center"
        return PermissionDeniedError, PERMISSION_HINTS[code].format(bc=bc, token_env=token_env)
    if code in NOT_FOUND_CODES:
        return NotFoundError, "check the ids in the config"
    if code in THROTTLE_CODES:
        return ThrottledError, (
            "the app's rate limit was reached; retry later or lower qps/qpm in the provider "
            "settings"
        )
    if code == PARTIAL_SUCCESS:
        return PartialSuccessError, "bcsync reads the Business Center to see what took effect"
    if code in ALREADY_DONE_CODES:
        return AlreadyDoneError, "bcsync reads the Business Center to confirm"
    if verdict(code) is Verdict.TRANSIENT:
        return TransientError, "TikTok had trouble; retry later"
    return ApiError, None


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
