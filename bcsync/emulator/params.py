"""Request parameters: GET query strings (objects and arrays JSON-encoded) and POST JSON bodies.

Every problem is a 40002 whose message names the field, e.g. "page_size: must be ... 1 and 50".
Input is hostile until checked: JSON is decoded with bounded depth and number length, no NaN or
Infinity, and no lone surrogates (SQLite cannot store them); hostile values are echoed shortened.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from .errors import PARAM_ERROR, ApiFailure, param_error

# Not in an address: "@", whitespace, control and invisible format characters, lone surrogates.
_NOT_IN_EMAIL = (
    r"@\s\x00-\x1f\x7f-\x9f\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff\ud800-\udfff"
)
# \Z, not $: `$` also matches before a final newline, so "bob@acme.com\n" would pass.
EMAIL = re.compile(rf"[^{_NOT_IN_EMAIL}]+@[^{_NOT_IN_EMAIL}]+\.[^{_NOT_IN_EMAIL}]+\Z")
MAX_EMAIL = 254
ID = re.compile(r"[0-9]{1,19}\Z")
INTEGER = re.compile(r"-?[0-9]{1,18}\Z")
MAX_PAGE = 2**31 - 1  # [ours] far past any real list; keeps OFFSET inside SQLite's int64
MAX_DEPTH = 32  # nesting of a body or a JSON-encoded parameter; TikTok's are at most 3 deep
MAX_DIGITS = 40  # a JSON number's length; ids are 19 digits
SHOWN = 60  # characters of a hostile value echoed in a message
BODY = "request body"


def shown(value: Any) -> str:
    """`repr(value)`, shortened: messages never echo a 5,000-digit number whole."""
    text = repr(value)
    return text if len(text) <= SHOWN else text[: SHOWN - 3] + "..."


def is_email(value: Any) -> bool:
    """An address of printable characters with one "@" and a dot in the domain."""
    return isinstance(value, str) and len(value) <= MAX_EMAIL and EMAIL.match(value) is not None


class _Rejected(ValueError):
    """A JSON document outside the emulator's bounds; the message says which."""


def _parse_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_DIGITS:
        raise _Rejected(f"numbers have at most {MAX_DIGITS} digits")
    return int(text)


def _parse_float(text: str) -> float:
    if len(text) > MAX_DIGITS:
        raise _Rejected(f"numbers have at most {MAX_DIGITS} characters")
    value = float(text)
    if not math.isfinite(value):
        raise _Rejected("numbers must be finite")
    return value


def _parse_constant(name: str) -> Any:
    raise _Rejected(f"{name} is not JSON")


def decode_json(text: str | bytes, field: str, what: str) -> Any:
    """Decode a body or a JSON-encoded parameter; a 40002 naming `field` when it is hostile."""
    try:
        value = json.loads(
            text,
            parse_int=_parse_int,
            parse_float=_parse_float,
            parse_constant=_parse_constant,
        )
    except _Rejected as exc:
        raise param_error(field, f"must be a {what} ({exc}).") from None
    except (ValueError, RecursionError):  # RecursionError: nested deeper than the C scanner goes
        raise param_error(field, f"must be a {what}.") from None
    problem = _hostile(value)
    if problem:
        where, why = problem
        # Inside a body, fields are named from its top ("emails[0]"); inside a parameter, from it.
        label = (where.lstrip(".") or BODY) if field == BODY else field + where
        raise param_error(label, why)
    return value


def _hostile(value: Any) -> tuple[str, str] | None:
    """(path suffix, problem) for the first value nested too deep or holding a lone surrogate."""
    stack: list[tuple[Any, str, int]] = [(value, "", 0)]
    while stack:
        item, path, depth = stack.pop()
        if isinstance(item, str):
            if not _is_utf8(item):
                return path, "must be valid Unicode text (it holds a lone surrogate)."
        elif isinstance(item, dict | list):
            if depth >= MAX_DEPTH:
                return path, f"is nested too deeply (at most {MAX_DEPTH} levels)."
            if isinstance(item, dict):
                for key, child in item.items():
                    if not _is_utf8(key):
                        return path, "must be valid Unicode text (a key holds a lone surrogate)."
                    stack.append((child, f"{path}.{key}", depth + 1))
            else:
                stack.extend((child, f"{path}[{i}]", depth + 1) for i, child in enumerate(item))
    return None


def _is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class Params:
    """Typed access to one request's parameters; `prefix` names nested objects in messages."""

    def __init__(self, values: Mapping[str, Any], *, from_query: bool, prefix: str = "") -> None:
        self.values = values
        self.from_query = from_query
        self.prefix = prefix

    def name(self, key: str) -> str:
        return f"{self.prefix}{key}"

    def present(self, key: str) -> bool:
        value = self.values.get(key)
        return value is not None and value != ""

    def require(self, *keys: str) -> None:
        """40002 "Missing required field(s): a, b." for every absent key at once."""
        missing = [self.name(k) for k in keys if not self.present(k)]
        if missing:
            raise ApiFailure(PARAM_ERROR, f"Missing required field(s): {', '.join(missing)}.")

    def id(self, key: str, *, required: bool = False) -> str | None:
        """An id: a string of digits (a JSON number is accepted and converted, like int64(%s))."""
        if required:
            self.require(key)
        if not self.present(key):
            return None
        return self._as_id(self.values[key], self.name(key))

    def _as_id(self, value: Any, field: str) -> str:
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            value = str(value)
        if not isinstance(value, str) or not ID.match(value):
            raise param_error(field, f"must be an id (a string of digits), got {shown(value)}.")
        return value

    def enum(
        self,
        key: str,
        allowed: Sequence[str],
        *,
        default: str | None = None,
        required: bool = False,
    ) -> str | None:
        """One of `allowed`, or `default` when absent."""
        if required:
            self.require(key)
        if not self.present(key):
            return default
        value = self.values[key]
        if value not in allowed:
            raise param_error(
                self.name(key), f"must be one of {', '.join(allowed)}, got {shown(value)}."
            )
        return str(value)

    def integer(self, key: str, *, default: int, low: int, high: int | None = None) -> int:
        """An integer within [low, high]."""
        if not self.present(key):
            return default
        value = self.values[key]
        if self.from_query and isinstance(value, str) and INTEGER.match(value):
            value = int(value)
        bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
        if (
            not isinstance(value, int)
            or isinstance(value, bool)
            or value < low
            or (high is not None and value > high)
        ):
            raise param_error(self.name(key), f"must be an integer {bounds}, got {shown(value)}.")
        return value

    def page(self, max_size: int) -> tuple[int, int]:
        """`page` (>= 1, default 1) and `page_size` (1..max_size, default 10)."""
        return (
            self.integer("page", default=1, low=1, high=MAX_PAGE),
            self.integer("page_size", default=10, low=1, high=max_size),
        )

    def text(self, key: str, *, max_length: int) -> str | None:
        """A non-empty string of at most `max_length` printable characters."""
        if key not in self.values or self.values[key] is None:
            return None
        value = self.values[key]
        if (
            not isinstance(value, str)
            or not value.strip()
            or len(value) > max_length
            or not value.isprintable()
        ):
            raise param_error(
                self.name(key),
                f"must be a non-empty string of at most {max_length} printable characters.",
            )
        return value

    def _decoded(self, key: str, kind: type, what: str) -> Any:
        value = self.values[key]
        if self.from_query and isinstance(value, str):
            value = decode_json(value, self.name(key), f"JSON-encoded {what}")
        if not isinstance(value, kind):
            raise param_error(self.name(key), f"must be a {what}.")
        return value

    def obj(self, key: str) -> Params:
        """A nested object (GET: a JSON-encoded string), as Params; empty when absent."""
        value = self._decoded(key, dict, "JSON object") if self.present(key) else {}
        return Params(value, from_query=False, prefix=f"{self.name(key)}.")

    def raw_obj(self, key: str) -> dict[str, Any] | None:
        """A nested object as given, or None when absent."""
        if key not in self.values or self.values[key] is None:
            return None
        return dict(self._decoded(key, dict, "JSON object"))

    def items(self, key: str, *, low: int, high: int, required: bool = False) -> list[Any]:
        """A list of `low`..`high` entries (GET: a JSON-encoded array)."""
        if required:
            self.require(key)
        if not self.present(key):
            return []
        value = self._decoded(key, list, "list")
        if not low <= len(value) <= high:
            raise param_error(
                self.name(key), f"must hold between {low} and {high} items, got {len(value)}."
            )
        return list(value)

    def ids(self, key: str, *, low: int, high: int, required: bool = False) -> list[str]:
        """A list of ids, duplicates dropped in order."""
        values = self.items(key, low=low, high=high, required=required)
        ids = [self._as_id(v, f"{self.name(key)}[{i}]") for i, v in enumerate(values)]
        return list(dict.fromkeys(ids))

    def emails(self, key: str, *, low: int, high: int) -> list[str]:
        """A list of email addresses, lower-cased, duplicates dropped in order."""
        values = self.items(key, low=low, high=high, required=True)
        for i, v in enumerate(values):
            if not is_email(v):
                field = f"{self.name(key)}[{i}]"
                raise param_error(field, f"must be an email address, got {shown(v)}.")
        return list(dict.fromkeys(v.lower() for v in values))


def parse_body(body: bytes) -> dict[str, Any]:
    """A POST body: a JSON object (an empty body counts as {})."""
    if not body.strip():
        return {}
    value = decode_json(body, BODY, "JSON object")
    if not isinstance(value, dict):
        raise ApiFailure(PARAM_ERROR, f"{BODY}: must be a JSON object.")
    return value


def paged(items: list[Any], page: int, page_size: int) -> tuple[list[Any], dict[str, int]]:
    """One page of `items` and its page_info (lists that are short by nature, e.g. a user's BCs)."""
    start = (page - 1) * page_size
    return items[start : start + page_size], page_info(len(items), page, page_size)


def page_info(total: int, page: int, page_size: int) -> dict[str, int]:
    """The page_info of a page; total_page = ceil(total_number / page_size)."""
    return {
        "page": page,
        "page_size": page_size,
        "total_number": total,
        "total_page": -(-total // page_size),
    }
