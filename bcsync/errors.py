"""One exception hierarchy; each class owns its exit code (ARCHITECTURE.md, "The parts").

    BcsyncError                 1  root of every error bcsync reports to a user
    ├── ConfigError             3  the configuration is invalid; carries every located Problem
    ├── PlanFileError           3  a saved plan file cannot be read or is not a valid plan
    ├── UsageError             64  a command was called in a way that cannot work
    ├── FileAccessError         1  a local file bcsync writes or reads (audit log, output) fails
    ├── SomeFailedError         1  some BCs of a run failed; the others were planned or applied
    ├── RefusedError            4  bcsync refuses to go on
    │   ├── UnsafePlanError        a safety guard refused the plan's steps
    │   ├── StalePlanError         the plan is not the reviewed one (saved plan, --checksum)
    │   ├── LockHeldError          another apply holds the Business Center's lock
    │   ├── DeclinedError          the prompt was declined, or there was no terminal to ask
    │   └── FormatRefusedError     fmt cannot rewrite a file without changing what it says
    └── ProviderError           1  the API or the network failed
        ├── AuthError              the token is missing, malformed, invalid or expired
        ├── PermissionDeniedError  the token's user may not do this
        ├── NotFoundError          the API says an object does not exist
        ├── ApiError               any other application error code
        │   ├── PartialSuccessError  20001, some items took effect (tiktok/codes.py)
        │   └── AlreadyDoneError     40012/40050, until a read confirms it (tiktok/codes.py)
        ├── IncompleteReadError    a paged read came back short, twice (tiktok/paging.py)
        ├── ShapeError             an answer lacks a key bcsync reads, or differs (tiktok/shapes.py)
        ├── ThrottledError         rate limited, and retries ran out
        └── TransientError         server or network trouble retries did not overcome
            └── AmbiguousWriteError  a write may or may not have happened

The CLI has exactly one handler (`bcsync.cli.BcsyncGroup`) that turns a BcsyncError into its
message and exit code; anything else is a bug (exit 70). Messages never contain an access
token: the provider redacts before raising.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    RUNTIME = 1
    CHANGES_PENDING = 2
    CONFIG_INVALID = 3
    REFUSED = 4
    NOT_YET_VISIBLE = 5  # apply: every change made, some not yet visible to reads
    USAGE = 64
    INTERNAL = 70


@dataclass(frozen=True, slots=True)
class Problem:
    """One located problem in a config file (or a warning)."""

    file: str
    line: int | None
    col: int | None
    path: str
    message: str
    hint: str | None = None
    severity: str = "error"  # "error" | "warning"

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def location(self) -> str:
        parts = [self.file]
        if self.line is not None:
            parts.append(str(self.line))
            if self.col is not None:
                parts.append(str(self.col))
        return ":".join(parts)

    def format(self) -> str:
        """`FILE:LINE:COL: error: PATH: message (hint)`."""
        text = f"{self.location()}: {self.severity}: "
        if self.path:
            text += f"{self.path}: "
        text += self.message
        if self.hint:
            text += f" ({self.hint})"
        return text

    def to_json(self) -> dict[str, object]:
        return {
            "file": self.file,
            "line": self.line,
            "col": self.col,
            "path": self.path,
            "severity": self.severity,
            "message": self.message,
            "hint": self.hint,
        }


class BcsyncError(Exception):
    """Root of every error bcsync reports to a user."""

    exit_code: ExitCode = ExitCode.RUNTIME
    hint: str | None = None

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        if hint is not None:
            self.hint = hint

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else self.__class__.__name__


class ConfigError(BcsyncError):
    """The configuration is invalid; carries every problem found."""

    exit_code = ExitCode.CONFIG_INVALID

    def __init__(self, problems: list[Problem] | tuple[Problem, ...], message: str = "") -> None:
        self.problems = tuple(problems)
        errors = sum(1 for p in self.problems if p.is_error)
        super().__init__(message or f"configuration invalid: {errors} error(s)")


class UsageError(BcsyncError):
    """A command was called in a way that cannot work (exit 64, like click's usage errors)."""

    exit_code = ExitCode.USAGE


class RefusedError(BcsyncError):
    """bcsync refuses to proceed: a guard, a stale plan, a held lock, a declined prompt."""

    exit_code = ExitCode.REFUSED


class UnsafePlanError(RefusedError):
    """A safety guard refused the plan; `refusals` holds the typed verdicts (`core.refusal`)."""

    refusals: tuple[object, ...] = ()


class StalePlanError(RefusedError):
    """The saved plan no longer matches the Business Center."""


class LockHeldError(RefusedError):
    """Another apply holds the lock for this Business Center."""


class DeclinedError(RefusedError):
    """The user declined the prompt (or no terminal was there to ask)."""


class FormatRefusedError(RefusedError):
    """`fmt` left a file alone: rewriting it would change its data or lose a comment."""


class ProviderError(BcsyncError):
    """The API or the network failed; exit 1."""

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        code: int | None = None,
        request_id: str | None = None,
        endpoint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.code = code
        self.request_id = request_id
        self.endpoint = endpoint


class AuthError(ProviderError):
    """The access token is missing, invalid, revoked or expired."""


class PermissionDeniedError(ProviderError):
    """The token's user may not do this (e.g. not an admin of the BC)."""


class NotFoundError(ProviderError):
    """The API says an object does not exist."""


class ApiError(ProviderError):
    """Any other application error code from the API."""


class ThrottledError(ProviderError):
    """Rate limited, and retries ran out."""


class TransientError(ProviderError):
    """Server-side or network trouble that retries did not overcome."""


class AmbiguousWriteError(TransientError):
    """A write may or may not have happened (timeout or 5xx after sending)."""


class PlanFileError(BcsyncError):
    """A saved plan file cannot be read or is not a bcsync plan: invalid input, like a config."""

    exit_code = ExitCode.CONFIG_INVALID


class FileAccessError(BcsyncError):
    """A local file bcsync writes or reads (the audit log, an output file) cannot be used."""

    exit_code = ExitCode.RUNTIME


class SomeFailedError(BcsyncError):
    """Some Business Centers of a run failed; the others were planned (or applied) and shown."""

    exit_code = ExitCode.RUNTIME

    def __init__(self, failures: list[tuple[str, BcsyncError]], total: int, done: str) -> None:
        self.failures = tuple(failures)
        names = "; ".join(f"{name}: {error.message}" for name, error in failures)
        super().__init__(
            f"{len(failures)} of {total} Business Centers failed, the others were {done}: {names}",
            hint="fix those and run again; the Business Centers that succeeded need nothing more",
        )
