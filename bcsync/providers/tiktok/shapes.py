"""What bcsync expects each read endpoint to answer, checked at the provider's edge.

TikTok's SDK maps some response fields and leaves others unmapped (its `response_rule`s);
for the unmapped ones (asset/member/get, partner/get, partner/asset/get, the asset-group reads)
bcsync's expectation is a reading that only its emulator confirms. So every `data` a read
returns is checked here against the keys bcsync reads from it: present when required, of the
expected type, inside the expected enum. A mismatch raises `ShapeError` naming the endpoint, the
key and the request id; nothing downstream ever supplies a default for a value TikTok didn't send
(a missing `user_role` is not an admin, a missing `relation_status` is not BOUND).

Keys bcsync does not read are ignored (TikTok may add fields). `bcsync doctor` uses the same
expectations (`problems`) and records what a real BC answers (`describe`), never its values.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from bcsync.errors import ProviderError


class ShapeError(ProviderError):
    """A response lacked a key bcsync reads, or carried a wrong type or an unknown enum value."""

    def __init__(self, message: str, *, key: str, endpoint: str, request_id: str | None) -> None:
        super().__init__(
            message,
            hint="bcsync stops rather than guess; run `bcsync doctor` and report its JSON",
            request_id=request_id,
            endpoint=endpoint,
        )
        self.key = key


class Kind(StrEnum):
    """JSON types as bcsync reads them; an ID is a decimal string or a non-negative integer."""

    ID = "id"
    TEXT = "string"
    INT = "integer"
    OBJECT = "object"
    LIST = "array"


@dataclass(frozen=True, slots=True)
class Key:
    """One key bcsync reads; `fields` are an object's keys, or a list's items' keys."""

    name: str
    kind: Kind
    required: bool = True
    nullable: bool = False
    enum: tuple[str, ...] = ()
    fields: tuple[Key, ...] = ()
    # A list of enum values (tt_account_roles) rather than a list of objects.
    scalar_items: bool = False
    # An empty value is allowed unless the sibling key (name, value) holds: a pending invitee
    # has no user id, a joined member must.
    empty: bool = False
    needed_when: tuple[str, str] | None = None


@dataclass(frozen=True, slots=True)
class Mismatch:
    """One key that differs from the expectation: where, what came, what was expected."""

    key: str
    found: str
    expected: str

    def text(self) -> str:
        return f"{self.key}: {self.found}, expected {self.expected}"


USER_ROLES = ("ADMIN", "STANDARD")
FINANCE_ROLES = ("MANAGER", "ANALYST")
RELATION_STATUSES = ("BOUND", "UNBOUND", "REJECTED", "PENDING")
RELATION_TYPES = ("OWNER_BC", "OWNER_PARTNER", "OWNER_INDIVIDUAL")
ADVERTISER_ROLES = ("ADMIN", "OPERATOR", "ANALYST")
CATALOG_ROLES = ("ADMIN", "AD_PROMOTE")
STORE_ROLES = ("MANAGER", "AD_PROMOTION")
TT_ACCOUNT_ROLES = ("POST", "LIVE", "DIRECT_MESSAGE")
GROUP_ROLES = ("ADVERTISER_ROLE_ADMIN", "ADVERTISER_ROLE_OPERATOR", "ADVERTISER_ROLE_ANALYST")
# The role field asset/get answers per asset type (SDK response_rule); LEAD and PIXEL have none.
ROLE_KEYS: Mapping[str, Key] = {
    "ADVERTISER": Key("advertiser_role", Kind.TEXT, enum=ADVERTISER_ROLES),
    "CATALOG": Key("catalog_role", Kind.TEXT, enum=CATALOG_ROLES),
    "TT_ACCOUNT": Key("tt_account_roles", Kind.LIST, enum=TT_ACCOUNT_ROLES, scalar_items=True),
    "TIKTOK_SHOP": Key("store_role", Kind.TEXT, enum=STORE_ROLES),
    "STOREFRONT": Key("store_role", Kind.TEXT, enum=STORE_ROLES),
}
PAGE_INFO = Key(
    "page_info",
    Kind.OBJECT,
    fields=tuple(Key(n, Kind.INT) for n in ("page", "page_size", "total_number", "total_page")),
)
NAME = Key("asset_name", Kind.TEXT, required=False, nullable=True, empty=True)


def _listing(*item: Key, list_key: str = "list") -> tuple[Key, ...]:
    return (Key(list_key, Kind.LIST, fields=item), PAGE_INFO)


def _asset_type(params: Mapping[str, Any]) -> str:
    return str(params.get("asset_type") or "")


def _bc_get(params: Mapping[str, Any]) -> tuple[Key, ...]:
    info = Key("bc_info", Kind.OBJECT, fields=(Key("bc_id", Kind.ID),))
    # bc/get is read once, not paged: its page_info is not read.
    return (Key("list", Kind.LIST, fields=(info, Key("user_role", Kind.TEXT, enum=USER_ROLES))),)


BOUND = ("relation_status", "BOUND")


def _members(params: Mapping[str, Any]) -> tuple[Key, ...]:
    finance = Key("finance_role", Kind.TEXT, required=False, nullable=True, enum=FINANCE_ROLES)
    return _listing(
        Key("user_id", Kind.ID, nullable=True, empty=True, needed_when=BOUND),
        Key("user_email", Kind.TEXT),
        Key("user_role", Kind.TEXT, enum=USER_ROLES),
        Key("relation_status", Kind.TEXT, enum=RELATION_STATUSES),
        Key("ext_user_role", Kind.OBJECT, fields=(finance,)),
        Key("user_name", Kind.TEXT, required=False, nullable=True, empty=True),
    )


def _assets_of_member(params: Mapping[str, Any]) -> tuple[Key, ...]:
    kind = _asset_type(params)
    role = ROLE_KEYS.get(kind)
    return _listing(
        Key("asset_id", Kind.ID),
        Key("asset_type", Kind.TEXT, enum=(kind,)),
        NAME,
        *((role,) if role else ()),
    )


def _assets_of_bc(params: Mapping[str, Any]) -> tuple[Key, ...]:
    return _listing(
        Key("asset_id", Kind.ID),
        Key("asset_type", Kind.TEXT, enum=(_asset_type(params),)),
        Key("relation_status", Kind.TEXT, enum=RELATION_STATUSES),
        # Owned, or shared in by a partner: which decides "unmanaged" and what export adopts.
        Key("relation_type", Kind.TEXT, enum=RELATION_TYPES),
        NAME,
    )


def _members_of_asset(params: Mapping[str, Any]) -> tuple[Key, ...]:
    role = ROLE_KEYS.get(_asset_type(params)) if _asset_type(params) != "LEAD" else None
    return _listing(
        Key("user_id", Kind.ID),
        Key("user_email", Kind.TEXT, required=False, nullable=True, empty=True),
        *((role,) if role else ()),
    )


def _partners(params: Mapping[str, Any]) -> tuple[Key, ...]:
    return _listing(
        Key("bc_id", Kind.ID), Key("bc_name", Kind.TEXT, required=False, nullable=True, empty=True)
    )


def _partner_assets(params: Mapping[str, Any]) -> tuple[Key, ...]:
    role = ROLE_KEYS.get(_asset_type(params))
    return _listing(Key("asset_id", Kind.ID), NAME, *((role,) if role else ()))


def _groups(params: Mapping[str, Any]) -> tuple[Key, ...]:
    return _listing(
        Key("asset_group_id", Kind.ID),
        Key("asset_group_name", Kind.TEXT, required=False, nullable=True, empty=True),
        list_key="asset_groups",
    )


def _group(params: Mapping[str, Any]) -> tuple[Key, ...]:
    if params.get("query_entity") == "ASSET":
        inner = Key(
            "assets",
            Kind.LIST,
            fields=(Key("asset_id", Kind.ID), Key("asset_type", Kind.TEXT, enum=("ADVERTISER",))),
        )
    else:
        role = Key("ADVERTISER", Kind.TEXT, enum=GROUP_ROLES)
        roles = Key("asset_roles", Kind.OBJECT, fields=(role,))
        inner = Key("members", Kind.LIST, fields=(Key("member_id", Kind.ID), roles))
    return (Key("asset_group", Kind.OBJECT, fields=(inner,)), PAGE_INFO)


def _changelog(params: Mapping[str, Any]) -> tuple[Key, ...]:
    return _listing(
        Key("time", Kind.TEXT),
        Key("activity_type", Kind.TEXT),
        Key("operator_id", Kind.ID, nullable=True, empty=True),
        Key("activity_log", Kind.TEXT, empty=True),
        list_key="changelog_list",
    )


# Every read endpoint bcsync uses, by path; the expectation may depend on the request.
EXPECTED = {
    "bc/get/": _bc_get,
    "bc/member/get/": _members,
    "bc/asset/get/": _assets_of_member,
    "bc/asset/admin/get/": _assets_of_bc,
    "bc/asset/member/get/": _members_of_asset,
    "bc/partner/get/": _partners,
    # Unmapped in the SDK; third-party: {bc_id, bc_name} items, as partner/get's.
    "bc/asset/partner/get/": _partners,
    "bc/partner/asset/get/": _partner_assets,
    "bc/asset_group/list/": _groups,
    "bc/asset_group/get/": _group,
    "changelog/get/": _changelog,
}


def expected(path: str, params: Mapping[str, Any]) -> tuple[Key, ...] | None:
    """The keys bcsync reads from `path`'s data for this request; None for an unknown path."""
    build = EXPECTED.get(path.strip("/") + "/")
    return build(params) if build else None


def check(path: str, params: Mapping[str, Any], data: Mapping[str, Any], request_id: str) -> None:
    """Raise ShapeError on the first key of `data` that differs from what bcsync reads."""
    keys = expected(path, params)
    if keys is None:
        return
    found = problems(keys, data, limit=1)
    if found:
        endpoint = f"GET /{path.strip('/')}/"
        first = found[0]
        raise ShapeError(
            f"{endpoint} answered {first.key}: {first.found}, where bcsync expects "
            f"{first.expected} (request id {request_id or 'none'}); refusing to guess",
            key=first.key,
            endpoint=endpoint,
            request_id=request_id or None,
        )


def problems(keys: tuple[Key, ...], data: object, *, limit: int = 50) -> list[Mismatch]:
    """Every mismatch (up to `limit`) between `data` and `keys`; empty when it conforms."""
    out: list[Mismatch] = []
    _object(keys, data, "data", out, limit)
    return out[:limit]


def _object(
    keys: tuple[Key, ...], value: object, where: str, out: list[Mismatch], limit: int
) -> None:
    if not isinstance(value, Mapping):
        out.append(Mismatch(where, type_name(value), "an object"))
        return
    for key in keys:
        if len(out) >= limit:
            return
        _key(key, value, f"{where}.{key.name}", out, limit)


def _key(key: Key, parent: Mapping[str, Any], where: str, out: list[Mismatch], limit: int) -> None:
    if key.name not in parent:
        if key.required:
            out.append(Mismatch(where, "missing", _wanted(key)))
        return
    value = parent[key.name]
    if value is None:
        if not key.nullable or _needed(key, parent):
            out.append(Mismatch(where, "null", _wanted(key)))
        return
    if not _is(key.kind, value):
        out.append(Mismatch(where, type_name(value), _wanted(key)))
        return
    blank = value == "" and key.kind in (Kind.ID, Kind.TEXT)
    if blank and (not key.empty or _needed(key, parent)):
        out.append(Mismatch(where, "empty", _wanted(key)))
        return
    if key.kind is Kind.TEXT and key.enum and value not in key.enum:
        out.append(Mismatch(where, f"unknown value {_short(value)}", f"one of {_one_of(key)}"))
    elif key.kind is Kind.OBJECT:
        _object(key.fields, value, where, out, limit)
    elif key.kind is Kind.LIST:
        for n, item in enumerate(value):
            if len(out) >= limit:
                return
            if key.scalar_items:
                if item not in key.enum:
                    found = f"unknown value {_short(item)}"
                    out.append(Mismatch(f"{where}[{n}]", found, f"one of {_one_of(key)}"))
            else:
                _object(key.fields, item, f"{where}[{n}]", out, limit)


def _needed(key: Key, parent: Mapping[str, Any]) -> bool:
    return key.needed_when is not None and parent.get(key.needed_when[0]) == key.needed_when[1]


def _is(kind: Kind, value: object) -> bool:
    if isinstance(value, bool):
        return False
    if kind is Kind.ID:
        return (isinstance(value, int) and value >= 0) or (
            isinstance(value, str) and (value == "" or (value.isascii() and value.isdigit()))
        )
    types: dict[Kind, type | tuple[type, ...]] = {
        Kind.TEXT: str,
        Kind.INT: int,
        Kind.OBJECT: Mapping,
        Kind.LIST: list,
    }
    return isinstance(value, types[kind])


def _wanted(key: Key) -> str:
    text = {Kind.ID: "an id (decimal digits)", Kind.OBJECT: "an object", Kind.LIST: "a list"}.get(
        key.kind, f"a {key.kind.value}"
    )
    if key.enum:
        text += f" (one of {_one_of(key)})"
    return text


def _one_of(key: Key) -> str:
    return ", ".join(key.enum)


ENUM_TOKEN = re.compile(r"[A-Z][A-Z0-9_]{0,47}")


def _short(value: object) -> str:
    """An unexpected enum value, quoted only if it looks like one (an upper-case token): a server
    could send anything there, an email or a name, and reports are attached to bug reports."""
    if isinstance(value, str) and ENUM_TOKEN.fullmatch(value):
        return repr(value)
    return f"a {type_name(value)} that is no enum token"


def type_name(value: object) -> str:
    """The JSON type of a value: null, boolean, integer, number, string, array or object."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object" if isinstance(value, Mapping) else type(value).__name__
