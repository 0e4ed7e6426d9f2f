"""The seed: a YAML (or dict) world checked by schemas/emulator-seed.schema.json and cross-checks.

Every problem is reported at once, located as FILE:LINE:COL when the seed came from a file.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

from . import seedfile
from .errors import SeedError

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "schemas" / "emulator-seed.schema.json"

# Valid roles per asset type (the SDK's enums); TT_ACCOUNT takes a set of these.
ROLES: dict[str, tuple[str, ...]] = {
    "ADVERTISER": ("ADMIN", "OPERATOR", "ANALYST"),
    "CATALOG": ("ADMIN", "AD_PROMOTE"),
    "TIKTOK_SHOP": ("AD_PROMOTION", "MANAGER"),
    "STOREFRONT": ("AD_PROMOTION", "MANAGER"),  # the same store_role as TIKTOK_SHOP (SDK)
    "TT_ACCOUNT": ("POST", "LIVE", "DIRECT_MESSAGE"),
    "LEAD": ("ADMIN",),
    # Pixels take no role field on assign (SDK): a grant is presence alone, stored as "".
    "PIXEL": (),
}
ASSET_TYPES: tuple[str, ...] = tuple(ROLES)
# Shares of these types carry the partner's role (partner/asset/get); other types' shares don't.
PARTNER_ROLE_TYPES = ("ADVERTISER", "CATALOG")
# An asset's binding to its BC (asset/admin/get relation_status); only BOUND ones can be used.
ASSET_STATUSES = ("BOUND", "PENDING", "UNBOUND", "REJECTED")
MAX_MEMBERS = 4000
MAX_ADMINS = 20

PathT = tuple[str | int, ...]
MAX_SHOWN = 20  # problems listed; the count of the rest follows
MAX_MESSAGE = 300  # characters of one problem: a hostile value is not echoed whole


@cache
def seed_schema() -> dict[str, Any]:
    """The seed's JSON Schema (draft 2020-12)."""
    schema: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return schema


def load_seed(source: str | Path | Mapping[str, Any]) -> dict[str, Any]:
    """Load and validate a seed (a YAML file path or an already parsed dict); raise SeedError."""
    if isinstance(source, Mapping):
        data = copy.deepcopy(dict(source))
        broken = _broken_text(data)
        if broken:
            raise SeedError("<seed>", [f"<seed>: {_dotted(broken)}: not valid Unicode text"])
        return _validate(data, "<seed>", None)
    path = Path(source)
    text = seedfile.read_text(path)
    data = seedfile.parse(text, str(path))
    if not isinstance(data, dict):
        raise SeedError(str(path), [f"{path}: the seed must be a mapping with version, users, ..."])
    return _validate(data, str(path), text)


def _validate(data: dict[str, Any], source: str, text: str | None) -> dict[str, Any]:
    problems = list(_schema_problems(data))
    if not problems:
        problems = list(_cross_problems(data))
    if problems:
        raise SeedError(source, _located(problems, source, text, _tokens(data)))
    return _normalise(data)


def _located(
    problems: list[tuple[PathT, str]], source: str, text: str | None, secrets: set[str]
) -> list[str]:
    """FILE:LINE:COL: path: message lines, tokens blanked and long values cut, at most MAX_SHOWN."""
    shown = problems[:MAX_SHOWN]
    marks = seedfile.locate(text, [path for path, _ in shown]) if text is not None else {}
    lines = []
    for path, message in shown:
        for secret in secrets:
            message = message.replace(secret, "<token>")
        if len(message) > MAX_MESSAGE:
            message = message[: MAX_MESSAGE - 3] + "..."
        where = f"{source}:{marks[path][0]}:{marks[path][1]}" if path in marks else source
        lines.append(f"{where}: {_dotted(path) or '(top)'}: {message}")
    if len(problems) > MAX_SHOWN:
        lines.append(f"{source}: ... and {len(problems) - MAX_SHOWN} more problem(s)")
    return lines


def _broken_text(data: Any) -> PathT | None:
    """The path of the first key or text that UTF-8 cannot encode (a lone surrogate), if any."""
    stack: list[tuple[Any, PathT]] = [(data, ())]
    while stack:
        item, path = stack.pop()
        if isinstance(item, str) and not _encodes(item):
            return path
        if isinstance(item, dict):
            if not all(_encodes(k) for k in item if isinstance(k, str)):
                return path
            stack.extend((v, (*path, k)) for k, v in item.items())
        elif isinstance(item, list):
            stack.extend((v, (*path, i)) for i, v in enumerate(item))
    return None


def _encodes(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _tokens(data: Any) -> set[str]:
    """Every non-empty text under a `token` key, wherever it is: never shown in a message."""
    found: set[str] = set()
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for key, value in item.items():
                if key == "token" and isinstance(value, str) and value:
                    found.add(value)
                stack.append(value)
        elif isinstance(item, list):
            stack.extend(item)
    return found


def _schema_problems(data: dict[str, Any]) -> Iterator[tuple[PathT, str]]:
    # jsonschema-rs answers "valid?" in a fraction of jsonschema's time (5.6 s at TikTok's limits);
    # jsonschema explains, with paths, only when something is wrong.
    fast = _fast_validator()
    try:
        if fast is not None and fast.is_valid(data):
            return
    except (ValueError, TypeError, OverflowError):
        pass  # values JSON has no word for (a date, a huge integer): jsonschema decides
    validator = jsonschema.Draft202012Validator(seed_schema())
    errors = sorted(validator.iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path])
    for error in errors:
        path = tuple(error.absolute_path)
        if path and path[-1] == "token":
            yield path, "must be a non-empty string (the value is not shown: it is a secret)"
        else:
            yield path, _schema_message(error, path)


@cache
def _fast_validator() -> Any:
    """jsonschema-rs's validator for the seed schema, or None where it is not installed."""
    try:
        import jsonschema_rs
    except ImportError:
        return None
    return jsonschema_rs.validator_for(seed_schema())


def _schema_message(error: jsonschema.ValidationError, path: PathT) -> str:
    if error.validator == "oneOf" and path and path[-1] == "role":
        return f"{error.instance!r} is not a role (a role name, or for TT_ACCOUNT a list of them)"
    if error.validator == "type" and path and str(path[-1]).endswith("id"):
        return f"{error.message} (quote ids in YAML so they stay strings)"
    if error.validator == "pattern" and path and str(path[-1]).endswith("id"):
        return f"{error.instance!r} is not an id (a string of 1 to 19 digits)"
    return str(error.message)


def _cross_problems(data: dict[str, Any]) -> Iterator[tuple[PathT, str]]:
    """Checks the schema cannot express: uniqueness and references between sections."""
    users: dict[str, dict[str, Any]] = {}
    yield from _check_users(data, users)
    known_bcs: set[str] = set()
    for i, bc in enumerate(data["business_centers"]):
        if bc["bc_id"] in known_bcs:
            yield ("business_centers", i, "bc_id"), f"duplicate Business Center {bc['bc_id']}"
        known_bcs.add(bc["bc_id"])
    for i, ext in enumerate(data.get("external_business_centers", [])):
        if ext["bc_id"] in known_bcs:
            where = ("external_business_centers", i, "bc_id")
            yield where, f"duplicate Business Center {ext['bc_id']}"
        known_bcs.add(ext["bc_id"])
    owners: dict[tuple[str, str], str] = {}
    unbound: dict[tuple[str, str], str] = {}
    for i, bc in enumerate(data["business_centers"]):
        for asset_type, items in bc.get("assets", {}).items():
            for j, asset in enumerate(items):
                key = (asset_type, asset["id"])
                if key in owners:
                    yield (
                        ("business_centers", i, "assets", asset_type, j, "id"),
                        f"{asset_type} {asset['id']} is already owned by {owners[key]}",
                    )
                owners[key] = bc["bc_id"]
                if asset.get("relation_status", "BOUND") != "BOUND":
                    unbound[key] = asset["relation_status"]
    shared_to: dict[str, set[tuple[str, str]]] = {}
    groups: set[str] = set()
    for i, bc in enumerate(data["business_centers"]):
        yield from _check_partners(bc, ("business_centers", i), known_bcs, owners, shared_to)
    for i, bc in enumerate(data["business_centers"]):
        yield from _check_members(bc, ("business_centers", i), users, owners, shared_to)
        yield from _check_unbound(bc, ("business_centers", i), unbound)
        yield from _check_groups(bc, ("business_centers", i), owners, shared_to, groups)


def _check_users(
    data: dict[str, Any], users: dict[str, dict[str, Any]]
) -> Iterator[tuple[PathT, str]]:
    ids: set[str] = set()
    tokens: set[str] = set()
    for i, user in enumerate(data["users"]):
        email = user["email"].lower()
        if email in users:
            yield ("users", i, "email"), f"duplicate user email {email}"
        if user["user_id"] in ids:
            yield ("users", i, "user_id"), f"duplicate user id {user['user_id']}"
        if user.get("token") is not None:
            if user["token"] in tokens:
                yield ("users", i, "token"), "duplicate token (each token belongs to one user)"
            tokens.add(user["token"])
        users[email] = user
        ids.add(user["user_id"])


def _check_partners(
    bc: dict[str, Any],
    at: PathT,
    known: set[str],
    owners: dict[tuple[str, str], str],
    shared_to: dict[str, set[tuple[str, str]]],
) -> Iterator[tuple[PathT, str]]:
    seen: set[str] = set()
    for k, partner in enumerate(bc.get("partners", [])):
        here = (*at, "partners", k)
        pid = partner["bc_id"]
        if pid == bc["bc_id"]:
            yield (*here, "bc_id"), "a Business Center cannot be its own partner"
        elif pid not in known:
            yield (
                (*here, "bc_id"),
                f"unknown Business Center {pid} (add it to business_centers "
                "or external_business_centers)",
            )
        if pid in seen:
            yield (*here, "bc_id"), f"duplicate partner {pid}"
        seen.add(pid)
        assets: set[str] = set()
        for s, share in enumerate(partner.get("shares", [])):
            key = (share["asset_type"], share["asset_id"])
            if owners.get(key) != bc["bc_id"]:
                # Contract 3.5: a BC can only share assets it owns.
                yield (
                    (*here, "shares", s, "asset_id"),
                    f"{share['asset_type']} {share['asset_id']} is not owned by {bc['bc_id']}",
                )
            role, kind = share.get("role"), share["asset_type"]
            if kind not in PARTNER_ROLE_TYPES:
                if role is not None:  # no SDK read reports a partner's role on these types
                    yield (*here, "shares", s, "role"), f"a {kind} share has no role"
            elif role not in ROLES[kind]:
                allowed = ", ".join(ROLES[kind])
                yield (
                    (*here, "shares", s, "role"),
                    f"{role or 'no role'} is no {kind} role (one of {allowed})",
                )
            if share["asset_id"] in assets:
                yield (*here, "shares", s, "asset_id"), f"{share['asset_id']} is shared twice"
            assets.add(share["asset_id"])
            shared_to.setdefault(pid, set()).add(key)


def _check_members(
    bc: dict[str, Any],
    at: PathT,
    users: dict[str, dict[str, Any]],
    owners: dict[tuple[str, str], str],
    shared_to: dict[str, set[tuple[str, str]]],
) -> Iterator[tuple[PathT, str]]:
    status: dict[str, str] = {}
    admins = 0
    for m, member in enumerate(bc.get("members", [])):
        email = member["email"].lower()
        state = member.get("status", "BOUND")
        if email in status:
            yield (*at, "members", m, "email"), f"duplicate member {email}"
        if state == "BOUND" and email not in users:
            yield (
                (*at, "members", m, "email"),
                f"{email} is BOUND but not one of users "
                "(only PENDING or REJECTED invitees may be unknown users)",
            )
        admins += member["role"] == "ADMIN" and state != "REJECTED"
        status[email] = state
    if admins > MAX_ADMINS:
        yield (*at, "members"), f"{admins} admins; a Business Center holds at most {MAX_ADMINS}"
    if len(status) > MAX_MEMBERS:
        count = len(status)
        yield (*at, "members"), f"{count} members; a Business Center holds at most {MAX_MEMBERS}"
    available = {k for k, owner in owners.items() if owner == bc["bc_id"]}
    available |= shared_to.get(bc["bc_id"], set())
    seen: set[tuple[str, str, str]] = set()
    for g, grant in enumerate(bc.get("grants", [])):
        here = (*at, "grants", g)
        email, asset_type = grant["email"].lower(), grant["asset_type"]
        key = (email, asset_type, grant["asset_id"])
        if key in seen:
            yield here, f"duplicate grant of {asset_type} {grant['asset_id']} to {email}"
        seen.add(key)
        if email not in status:
            yield (*here, "email"), f"{email} is not a member of {bc['bc_id']}"
        elif status[email] == "REJECTED" or (
            status[email] == "PENDING" and asset_type != "ADVERTISER"
        ):
            yield (
                (*here, "email"),
                f"{email} is {status[email]}; only BOUND members have grants, "
                "and pending invitations carry ADVERTISER grants only",
            )
        if (asset_type, grant["asset_id"]) not in available:
            what = f"{asset_type} {grant['asset_id']}"
            yield (*here, "asset_id"), f"{what} is not an asset of {bc['bc_id']}"
        problem = role_problem(asset_type, grant.get("role"))
        if problem:
            yield (*here, "role"), problem


def _check_unbound(
    bc: dict[str, Any], at: PathT, unbound: dict[tuple[str, str], str]
) -> Iterator[tuple[PathT, str]]:
    """Only BOUND assets can be assigned or shared, so a seed cannot hold such a grant."""
    for g, grant in enumerate(bc.get("grants", [])):
        status = unbound.get((grant["asset_type"], grant["asset_id"]))
        if status:
            what = f"{grant['asset_type']} {grant['asset_id']}"
            yield (
                (*at, "grants", g, "asset_id"),
                f"{what} is {status}; only BOUND assets have grants",
            )
    for k, partner in enumerate(bc.get("partners", [])):
        for s, share in enumerate(partner.get("shares", [])):
            status = unbound.get((share["asset_type"], share["asset_id"]))
            if status:
                where = (*at, "partners", k, "shares", s, "asset_id")
                yield (
                    where,
                    f"ADVERTISER {share['asset_id']} is {status}; only BOUND assets are shared",
                )


def _check_groups(
    bc: dict[str, Any],
    at: PathT,
    owners: dict[tuple[str, str], str],
    shared_to: dict[str, set[tuple[str, str]]],
    seen: set[str],
) -> Iterator[tuple[PathT, str]]:
    """Asset groups: unique ids, the BC's own (or shared) ad accounts, its joined members."""
    available = {k for k, owner in owners.items() if owner == bc["bc_id"]}
    available |= shared_to.get(bc["bc_id"], set())
    bound = {
        m["email"].lower() for m in bc.get("members", []) if m.get("status", "BOUND") == "BOUND"
    }
    for n, group in enumerate(bc.get("asset_groups", [])):
        here = (*at, "asset_groups", n)
        if group["asset_group_id"] in seen:
            yield (*here, "asset_group_id"), f"duplicate asset group {group['asset_group_id']}"
        seen.add(group["asset_group_id"])
        for j, asset_id in enumerate(group.get("assets", [])):
            if ("ADVERTISER", asset_id) not in available:
                yield (
                    (*here, "assets", j),
                    f"ADVERTISER {asset_id} is not an asset of {bc['bc_id']}",
                )
        for j, member in enumerate(group.get("members", [])):
            if member["email"].lower() not in bound:
                yield (
                    (*here, "members", j, "email"),
                    f"{member['email']} is not a joined (BOUND) member of {bc['bc_id']}",
                )


def role_problem(asset_type: str, role: Any) -> str | None:
    """Why `role` is not valid for `asset_type`, or None when it is."""
    allowed = ROLES[asset_type]
    if not allowed:
        return None if role is None else f"{asset_type} grants take no role (omit role)"
    if role is None:
        return f"{asset_type} grants need a role (one of {', '.join(allowed)})"
    if asset_type == "TT_ACCOUNT":
        if not isinstance(role, list) or not role or any(r not in allowed for r in role):
            return f"TT_ACCOUNT takes a non-empty list of {', '.join(allowed)}"
        return None
    if not isinstance(role, str) or role not in allowed:
        return f"{role!r} is not a {asset_type} role (one of {', '.join(allowed)})"
    return None


def _normalise(data: dict[str, Any]) -> dict[str, Any]:
    """Lower-case emails and fill defaults, so the store reads one shape."""
    data.setdefault("settings", {})
    data["settings"].setdefault("invite_accept_after_seconds", None)
    data.setdefault("external_business_centers", [])
    for user in data["users"]:
        user["email"] = user["email"].lower()
    for bc in data["business_centers"]:
        for key in ("members", "grants", "partners"):
            bc.setdefault(key, [])
        bc.setdefault("assets", {})
        for member in bc["members"]:
            member["email"] = member["email"].lower()
            member.setdefault("status", "BOUND")
        for grant in bc["grants"]:
            grant["email"] = grant["email"].lower()
    return data


def _dotted(path: PathT) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text
