"""Request parameters: GET query strings (objects and arrays JSON-encoded) and POST JSON bodies.

Every problem is a 40002 whose message names the field, e.g. "page_size: must be ... 1 and 50".
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from .errors import PARAM_ERROR, ApiFailure, param_error

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
ID = re.compile(r"^[0-9]{1,19}$")


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
            raise param_error(field, f"must be an id (a string of digits), got {value!r}.")
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
                self.name(key), f"must be one of {', '.join(allowed)}, got {value!r}."
            )
        return str(value)

    def integer(self, key: str, *, default: int, low: int, high: int | None = None) -> int:
        """An integer within [low, high]."""
        if not self.present(key):
            return default
        value = self.values[key]
        if self.from_query and isinstance(value, str) and re.fullmatch(r"-?[0-9]+", value):
            value = int(value)
        bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
        if (
            not isinstance(value, int)
            or isinstance(value, bool)
            or value < low
            or (high is not None and value > high)
        ):
            raise param_error(self.name(key), f"must be an integer {bounds}, got {value!r}.")
        return value

    def page(self, max_size: int) -> tuple[int, int]:
        """`page` (>= 1, default 1) and `page_size` (1..max_size, default 10)."""
        return (
            self.integer("page", default=1, low=1),
            self.integer("page_size", default=10, low=1, high=max_size),
        )

    def text(self, key: str, *, max_length: int) -> str | None:
        """A non-empty string of at most `max_length` characters."""
        if key not in self.values or self.values[key] is None:
            return None
        value = self.values[key]
        if not isinstance(value, str) or not value.strip() or len(value) > max_length:
            raise param_error(
                self.name(key), f"must be a non-empty string of at most {max_length} characters."
            )
        return value

    def _decoded(self, key: str, kind: type, what: str) -> Any:
        value = self.values[key]
        if self.from_query and isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                raise param_error(self.name(key), f"must be a JSON-encoded {what}.") from None
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
        return value

    def ids(self, key: str, *, low: int, high: int, required: bool = False) -> list[str]:
        """A list of ids, duplicates dropped in order."""
        values = self.items(key, low=low, high=high, required=required)
        ids = [self._as_id(v, f"{self.name(key)}[{i}]") for i, v in enumerate(values)]
        return list(dict.fromkeys(ids))

    def emails(self, key: str, *, low: int, high: int) -> list[str]:
        """A list of email addresses, lower-cased, duplicates dropped in order."""
        values = self.items(key, low=low, high=high, required=True)
        for i, v in enumerate(values):
            if not isinstance(v, str) or not EMAIL.match(v):
                raise param_error(f"{self.name(key)}[{i}]", f"must be an email address, got {v!r}.")
        return list(dict.fromkeys(v.lower() for v in values))


def parse_body(body: bytes) -> dict[str, Any]:
    """A POST body: a JSON object (an empty body counts as {})."""
    if not body.strip():
        return {}
    try:
        value = json.loads(body)
    except ValueError:
        raise ApiFailure(PARAM_ERROR, "request body: must be a JSON object.") from None
    if not isinstance(value, dict):
        raise ApiFailure(PARAM_ERROR, "request body: must be a JSON object.")
    return value


def paged(items: list[Any], page: int, page_size: int) -> tuple[list[Any], dict[str, int]]:
    """One page of `items` and its page_info; total_page = ceil(total_number / page_size)."""
    total = len(items)
    start = (page - 1) * page_size
    info = {
        "page": page,
        "page_size": page_size,
        "total_number": total,
        "total_page": -(-total // page_size),
    }
    return items[start : start + page_size], info
