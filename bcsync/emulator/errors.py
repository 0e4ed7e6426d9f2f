"""The emulator's own errors; it imports nothing of the client (ARCHITECTURE.md).

EmulatorError          anything a user of the emulator can meet (bad seed, bad faults, no database)
  SeedError            the seed file is invalid; carries every located problem
ApiFailure             an API-level failure answered inside the envelope (code, message); internal
"""

from __future__ import annotations

# Return codes the emulator answers with (TikTok's code table, tiktok_code.py in its SDK).
OK = 0
NO_PERMISSION = 40001
PARAM_ERROR = 40002
NOT_FOUND = 40007
TOO_FREQUENT = 40016
APP_QPS_LIMIT = 40100
TOKEN_MISSING = 40104
TOKEN_INVALID = 40105
INTERNAL = 50000  # TikTok's "internal service error"; clients retry it


class EmulatorError(Exception):
    """A problem a user of the emulator can meet; the message is meant for them."""

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else type(self).__name__


class SeedError(EmulatorError):
    """The seed is invalid; `problems` holds one located line per problem."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = tuple(problems)
        lines = "\n".join(f"  {p}" for p in self.problems)
        super().__init__(f"invalid seed {source}: {len(self.problems)} problem(s)\n{lines}")


class ApiFailure(Exception):
    """Raised by endpoint handlers; the app answers it as `{code, message, data: {}}`."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def param_error(field: str, problem: str) -> ApiFailure:
    """40002 naming the field, e.g. "page_size: must be between 1 and 50."."""
    return ApiFailure(PARAM_ERROR, f"{field}: {problem}")


def not_found(what: str) -> ApiFailure:
    """40007 for an object that does not exist."""
    return ApiFailure(NOT_FOUND, f"{what} does not exist.")


def no_permission(why: str) -> ApiFailure:
    """40001: the caller may not do this."""
    return ApiFailure(NO_PERMISSION, f"No permission to perform the operation: {why}")
