"""`bcsync doctor`: what a Business Center's read endpoints really answer, as shapes.

For the first run against a real BC: each read endpoint bcsync uses is called once (per asset
type where the request depends on it), read-only, and its answer is recorded as a *shape*: the
keys, their JSON types, the enum values seen where bcsync expects an enum, the page size asked
and answered, the request id. Never an id, a name, an email or the token. Each shape is compared
with what bcsync reads (shapes.py) and gets a verdict:

- confirmed: every key bcsync reads was there, typed as expected;
- no items: the list was empty (nothing to check item keys against; every later read checks);
- not probed: nothing to ask about (no partner for partner/asset/get, no asset group...);
- absent: the activity log is not served (bcsync does without it);
- differs: a key is missing, null, of another type or outside its enum;
- failed: the call failed (an error code, the network).

Exit 0 needs no `differs` and no `failed`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from bcsync.errors import ProviderError
from bcsync.providers.tiktok import shapes
from bcsync.providers.tiktok.client import TikTokClient
from bcsync.providers.tiktok.read import ASSET_MEMBER_PAGE, GROUP_PAGE, MEMBER_PAGE
from bcsync.providers.tiktok.read_incoming import LIST_PAGE

# The asset types bcsync reads, on the wire (mapping.ASSET_TYPE_WIRE's values).
ASSET_TYPES = ("ADVERTISER", "CATALOG", "TT_ACCOUNT", "TIKTOK_SHOP", "STOREFRONT", "LEAD", "PIXEL")
PER_ASSET_TYPES = ("ADVERTISER", "CATALOG", "LEAD")
# Request parameters whose values are enums, safe to show; every other value is left out.
SHOWN_PARAMS = ("asset_type", "share_type", "query_entity", "page", "page_size")
DEPTH = 6


class Verdict(StrEnum):
    CONFIRMED = "confirmed"
    NO_ITEMS = "no items"
    NOT_PROBED = "not probed"
    ABSENT = "absent"
    DIFFERS = "differs"
    FAILED = "failed"

    @property
    def ok(self) -> bool:
        return self not in (Verdict.DIFFERS, Verdict.FAILED)


@dataclass(frozen=True, slots=True)
class KeyShape:
    """One key path (`data.list[].user_role`): the JSON types seen, and enum values seen."""

    path: str
    types: tuple[str, ...]
    values: tuple[str, ...] = ()


@dataclass(frozen=True)
class Probe:
    """One call and what its answer looked like."""

    endpoint: str
    request: Mapping[str, Any]
    verdict: Verdict
    request_id: str | None = None
    items: int | None = None
    page_size: Mapping[str, Any] | None = None
    mismatches: tuple[shapes.Mismatch, ...] = ()
    shape: tuple[KeyShape, ...] = ()
    note: str | None = None


@dataclass(frozen=True)
class Diagnosis:
    """Every probe of one Business Center."""

    bc_id: str
    probes: tuple[Probe, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return all(p.verdict.ok for p in self.probes)


async def diagnose(client: TikTokClient, bc_id: str) -> Diagnosis:
    """Probe each read endpoint bcsync uses, in order; later probes ask about what earlier found."""
    probes: list[Probe] = []
    base = {"bc_id": bc_id}

    async def probe(path: str, params: Mapping[str, Any], list_key: str | None = "list") -> Any:
        found, data = await _probe(client, path, {**base, **params}, list_key)
        probes.append(found)
        return data

    await probe("bc/get/", {}, list_key=None)
    members = await probe("bc/member/get/", _page(MEMBER_PAGE))
    assets: dict[str, str | None] = {}
    for kind in ASSET_TYPES:
        data = await probe("bc/asset/admin/get/", {"asset_type": kind, **_page(LIST_PAGE)})
        assets[kind] = _first(data, "list", "asset_id")
    holder = None
    for kind in PER_ASSET_TYPES:
        params = {"asset_type": kind, "asset_id": assets[kind], **_page(ASSET_MEMBER_PAGE)}
        data = await _maybe(probe, probes, "bc/asset/member/get/", params, assets[kind], "no asset")
        holder = holder or _first(data, "list", "user_id")
    # Someone who holds a grant has items to list; else a joined standard member, else anyone.
    user_id = (
        holder
        or _first(members, "list", "user_id", where=("user_role", "STANDARD"))
        or _first(members, "list", "user_id")
    )
    for kind in ASSET_TYPES:
        query = {"asset_type": kind, "filtering": {"user_id": user_id}, **_page(LIST_PAGE)}
        await _maybe(probe, probes, "bc/asset/get/", query, user_id, "no joined member")
    partners = await probe("bc/partner/get/", _page(LIST_PAGE))
    partner = _first(partners, "list", "bc_id")
    for kind in ("ADVERTISER", "CATALOG"):  # what partners hold (read.shared_types)
        for share_type in ("SHARING", "SHARED"):  # ours with them; theirs with us (incoming)
            params = {"partner_id": partner, "asset_type": kind, "share_type": share_type}
            shares = {**params, **_page(LIST_PAGE)}
            await _maybe(probe, probes, "bc/partner/asset/get/", shares, partner, "no partner")
    # Whom an asset is shared with (report): any type; the first asset found is asked about.
    kind, asset = next(((k, a) for k, a in assets.items() if a), ("ADVERTISER", None))
    params = {"asset_type": kind, "asset_id": asset, **_page(LIST_PAGE)}
    await _maybe(probe, probes, "bc/asset/partner/get/", params, asset, "no asset")
    groups = await probe("bc/asset_group/list/", _page(GROUP_PAGE), list_key="asset_groups")
    group = _first(groups, "asset_groups", "asset_group_id")
    for entity in ("ASSET", "MEMBER"):
        params = {"asset_group_id": group, "query_entity": entity, **_page(GROUP_PAGE)}
        key = f"asset_group.{entity.lower()}s"
        await _maybe(probe, probes, "bc/asset_group/get/", params, group, list_key=key)
    await _changelog(client, bc_id, probes)
    return Diagnosis(bc_id, tuple(probes))


async def _maybe(
    probe: Any,
    probes: list[Probe],
    path: str,
    params: Mapping[str, Any],
    needed: object,
    why: str = "nothing to ask about",
    list_key: str = "list",
) -> Mapping[str, Any]:
    """Probe, or record why not when the request would need what nothing earlier found."""
    if needed is None:
        probes.append(Probe(_endpoint(path), _shown(params), Verdict.NOT_PROBED, note=why))
        return {}
    data: Mapping[str, Any] = await probe(path, params, list_key)
    return data


async def _changelog(client: TikTokClient, bc_id: str, probes: list[Probe]) -> None:
    today = datetime.now(UTC).date()
    params = {
        "bc_id": bc_id,
        "filtering": {
            "start_date": (today - timedelta(days=7)).isoformat(),
            "end_date": str(today),
        },
        **_page(LIST_PAGE),
    }
    found, _ = await _probe(client, "changelog/get/", params, "changelog_list")
    if found.verdict is Verdict.FAILED:  # not in the SDK: bcsync does without it
        found = Probe(found.endpoint, found.request, Verdict.ABSENT, note=found.note)
    probes.append(found)


async def _probe(
    client: TikTokClient, path: str, params: Mapping[str, Any], list_key: str | None
) -> tuple[Probe, Mapping[str, Any]]:
    endpoint = _endpoint(path)
    shown = _shown(params)
    try:
        data, request_id = await client.get_raw(path, params)
    except ProviderError as err:
        note = f"{err.message} (request id {err.request_id})" if err.request_id else err.message
        return Probe(endpoint, shown, Verdict.FAILED, request_id=err.request_id, note=note), {}
    keys = shapes.expected(path, params) or ()
    mismatches = tuple(shapes.problems(keys, data))
    items = _items(data, list_key) if list_key else None
    verdict = Verdict.DIFFERS if mismatches else Verdict.CONFIRMED
    if verdict is Verdict.CONFIRMED and items == 0:
        verdict = Verdict.NO_ITEMS
    probe = Probe(
        endpoint,
        shown,
        verdict,
        request_id=request_id or None,
        items=items,
        page_size=_page_size(params, data, items),
        mismatches=mismatches,
        shape=describe(data, keys),
    )
    return probe, data


def describe(data: object, keys: tuple[shapes.Key, ...] = ()) -> tuple[KeyShape, ...]:
    """Every key path of `data` with the JSON types seen; enum values only where `keys` hold an
    enum (never ids, names or emails)."""
    types: dict[str, set[str]] = {}
    values: dict[str, set[str]] = {}
    enums = dict(_enum_paths(keys, "data"))
    _walk(data, "data", types, values, enums, 0)
    return tuple(
        KeyShape(path, tuple(sorted(types[path])), tuple(sorted(values.get(path, ()))))
        for path in sorted(types)
    )


def _walk(
    value: object,
    path: str,
    types: dict[str, set[str]],
    values: dict[str, set[str]],
    enums: Mapping[str, tuple[str, ...]],
    depth: int,
) -> None:
    types.setdefault(path, set()).add(shapes.type_name(value))
    if depth >= DEPTH:
        return
    if path in enums and isinstance(value, str):
        # An enum value is recorded as sent if it looks like one (an upper-case token), else
        # as "(other)": a server could send an email or a name where an enum was expected.
        shown = value if value in enums[path] or shapes.ENUM_TOKEN.fullmatch(value) else "(other)"
        values.setdefault(path, set()).add(shown)
    if isinstance(value, Mapping):
        for key, inner in value.items():
            _walk(inner, f"{path}.{_key_name(key)}", types, values, enums, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _walk(item, f"{path}[]", types, values, enums, depth + 1)


def _key_name(key: object) -> str:
    """A key as recorded: a key that looks like an id or an email is a value, so it is masked."""
    text = str(key)
    if text.isdigit() or "@" in text or len(text) > 64:
        return "(key)"
    return text


def _enum_paths(keys: tuple[shapes.Key, ...], where: str) -> list[tuple[str, tuple[str, ...]]]:
    out: list[tuple[str, tuple[str, ...]]] = []
    for key in keys:
        path = f"{where}.{key.name}"
        if key.kind is shapes.Kind.LIST:
            if key.scalar_items:
                out.append((f"{path}[]", key.enum))
            out += _enum_paths(key.fields, f"{path}[]")
        elif key.kind is shapes.Kind.OBJECT:
            out += _enum_paths(key.fields, path)
        elif key.enum:
            out.append((path, key.enum))
    return out


def _page_size(
    params: Mapping[str, Any], data: Mapping[str, Any], items: int | None
) -> dict[str, Any] | None:
    asked = params.get("page_size")
    if asked is None or items is None:
        return None
    info = data.get("page_info")
    answered = info.get("page_size") if isinstance(info, Mapping) else None
    return {"asked": asked, "answered": answered, "honoured": answered == asked and items <= asked}


def _items(data: Mapping[str, Any], key: str) -> int | None:
    value: Any = data
    for part in key.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return len(value) if isinstance(value, list) else None


def _first(
    data: Mapping[str, Any], key: str, field_name: str, where: tuple[str, str] | None = None
) -> str | None:
    """A field of the first item (matching `where`; members: joined ones only) as a string, to
    ask a later probe about."""
    for item in data.get(key) or []:
        if not isinstance(item, Mapping) or item.get("relation_status", "BOUND") != "BOUND":
            continue
        if where and item.get(where[0]) != where[1]:
            continue
        value = item.get(field_name)
        if isinstance(value, str | int) and not isinstance(value, bool) and str(value):
            return str(value)
    return None


def _page(size: int) -> dict[str, int]:
    return {"page": 1, "page_size": size}


def _endpoint(path: str) -> str:
    return f"GET /{path.strip('/')}/"


def _shown(params: Mapping[str, Any]) -> dict[str, Any]:
    """The request without its values: enum parameters as sent, the rest by name only."""
    out: dict[str, Any] = {k: params[k] for k in SHOWN_PARAMS if k in params}
    hidden = sorted(k for k in params if k not in SHOWN_PARAMS)
    filtering = params.get("filtering")
    if isinstance(filtering, Mapping):
        hidden = [k for k in hidden if k != "filtering"] + [f"filtering.{k}" for k in filtering]
    if hidden:
        out["sent"] = sorted(hidden)
    return out
