"""The canonical shape of a config file: key order and scalar quoting. Pure: no I/O, no yaml.

`bcsync export` writes in this shape and `bcsync fmt` rewrites files into it, so a file two
people edit diffs cleanly: keys in one documented order, maps keyed by people's names (emails,
aliases) sorted, strings plain where YAML reads them back as the same string, else in double
quotes (ids always, since unquoted digits would be read as numbers).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

from bcsync.core.model import AssetType

# A map whose keys are chosen by people (emails, aliases): sorted.
SORTED = "sorted"

_ASSET_TYPES = tuple(t.value for t in AssetType)
_GRANT = ("role", "expires", "reason")

# Canonical key order by path ("*" matches any key). Paths not listed keep their order.
KEY_ORDER: dict[tuple[str, ...], tuple[str, ...] | str] = {
    (): (
        "version",
        "business_center",
        "provider",
        "policy",
        "assets",
        "groups",
        "members",
        "partners",
        "incoming",
    ),
    ("business_center",): ("id", "name"),
    ("provider",): ("type", "seed", "url", "token_env", "qps", "qpm"),
    ("policy",): ("min_admins", "required_admins", "max_removals", "protected", "ignore_members"),
    ("assets",): _ASSET_TYPES,
    ("assets", "*"): SORTED,
    ("groups",): SORTED,
    ("groups", "*"): ("description", "groups", "access"),
    ("members",): SORTED,
    ("members", "*"): ("role", "finance_role", "name", "groups", "access", "expires", "reason"),
    ("partners",): SORTED,
    ("partners", "*"): ("bc_id", "name", "access", "expires", "reason"),
    ("incoming",): SORTED,
    ("incoming", "*"): ("bc_id", "name", "ad_accounts", "catalogs", "reason"),
    ("incoming", "*", "*"): SORTED,
}
for _owner in ("groups", "members", "partners"):
    KEY_ORDER[(_owner, "*", "access")] = _ASSET_TYPES
    KEY_ORDER[(_owner, "*", "access", "*")] = SORTED
    KEY_ORDER[(_owner, "*", "access", "*", "*")] = _GRANT

# Words YAML 1.1 (pyyaml) reads as booleans or null when unquoted.
_SPECIAL_WORDS = frozenset({"y", "n", "yes", "no", "on", "off", "true", "false", "null", "~"})
# Characters that may appear in a plain scalar anywhere in a config (block or flow context).
_PLAIN = re.compile(r"[^\W_][\w@.+/()'%; -]*", re.UNICODE)
# What numbers, dates and times are made of (YAML 1.1 and 1.2): text of only these that starts
# with a digit might not be read back as a string ("1e3", "2027-01-31", "0x1F", "1_000").
_NUMBERISH = re.compile(r"[0-9a-fA-F.:_+\-xXoOtTzZ ]*")


def order_for(path: Sequence[str]) -> tuple[str, ...] | str | None:
    """The canonical order of the keys of the mapping at `path` (None: keep them as written)."""
    for pattern, order in KEY_ORDER.items():
        if len(pattern) != len(path):
            continue
        if all(p in ("*", k) for p, k in zip(pattern, path, strict=True)):
            return order
    return None


def sort_key(key: str) -> tuple[str, str]:
    """Sorting emails and aliases: case-insensitive, then as written (so the order is total)."""
    return (key.casefold(), key)


def ordered(path: Sequence[str], keys: Sequence[str]) -> list[str]:
    """`keys` in canonical order; unknown keys follow the known ones, as written."""
    order = order_for(path)
    if order is None:
        return list(keys)
    if order == SORTED:
        return sorted(keys, key=sort_key)
    rank = {k: i for i, k in enumerate(order)}
    return sorted(keys, key=lambda k: rank.get(k, len(rank)))


def plain_safe(text: str) -> bool:
    """Whether `text` can be written unquoted and read back as the same string, anywhere."""
    if not text or text != text.strip() or not _PLAIN.fullmatch(text):
        return False
    if text.lower() in _SPECIAL_WORDS:
        return False  # booleans and null
    if text[0].isdigit() and _NUMBERISH.fullmatch(text):
        return False  # numbers, dates, ids
    # "'" only inside a word; "a #b" would start a comment, "a: b" a mapping (excluded above).
    return not text.endswith("'")


def quote(text: str) -> str:
    """A string as canonical YAML: plain when safe, else double-quoted (JSON is valid YAML)."""
    return text if plain_safe(text) else json.dumps(text, ensure_ascii=False)
