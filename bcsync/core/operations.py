"""The write operations TikTok's API offers: each one's typed parameters, defined once. Pure.

A plan's `Step` carries one of these; the guards read them; the provider performs them through its
one entry point, `Provider.write(params)`, which dispatches on the parameters' type (for TikTok,
`providers/tiktok/write.py: WRITERS`, where each operation's wire call and its verification after
an ambiguous failure sit side by side). A role stays a `MemberRole` from the YAML to the wire.
The JSON form (saved plans) is derived from the fields, so adding an operation is: its class here,
its `Op`, its writer, and what the emulator and the test oracle do.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import MISSING, dataclass, fields
from enum import Enum, StrEnum
from typing import Any, ClassVar, get_args, get_origin, get_type_hints

from bcsync.core.model import AssetKey, AssetType, FinanceRole, MemberRole

# The API's batch limits: 1-50 emails an invite, 1-50 ad accounts a partner share.
MAX_INVITE_EMAILS = 50
MAX_SHARE_ASSETS = 50


class Op(StrEnum):
    """The provider operation a step performs."""

    INVITE = "invite"
    UPDATE_MEMBER = "update_member"
    REMOVE_MEMBER = "remove_member"
    ASSIGN = "assign"
    UNASSIGN = "unassign"
    SHARE = "share"
    UNSHARE = "unshare"
    REMOVE_PARTNER = "remove_partner"


@dataclass(frozen=True, slots=True)
class Invite:
    """Invite up to 50 emails with one role, optionally granting ad accounts with one role."""

    op: ClassVar[Op] = Op.INVITE
    emails: tuple[str, ...]
    role: MemberRole
    finance_role: FinanceRole | None
    # Ad accounts granted with the invitation, all with `advertiser_role`.
    ad_accounts: tuple[str, ...] = ()
    advertiser_role: str | None = None


@dataclass(frozen=True, slots=True)
class UpdateMember:
    """Set a joined member's role, finance role unless None and display name unless None."""

    op: ClassVar[Op] = Op.UPDATE_MEMBER
    user_id: str
    email: str
    role: MemberRole
    # None leaves the finance role as it is: the API has no value that clears one.
    finance_role: FinanceRole | None
    # The display name (user_name) to set; None leaves it as it is.
    name: str | None = None


@dataclass(frozen=True, slots=True)
class RemoveMember:
    """Remove a joined member (by user id) or revoke a pending invitation (by email)."""

    op: ClassVar[Op] = Op.REMOVE_MEMBER
    email: str
    # None revokes a pending invitation (by email).
    user_id: str | None


@dataclass(frozen=True, slots=True)
class Assign:
    """Give a joined member a role on one asset (also changes an existing role)."""

    op: ClassVar[Op] = Op.ASSIGN
    user_id: str
    email: str
    asset: AssetKey
    role: str


@dataclass(frozen=True, slots=True)
class Unassign:
    """Take one asset away from a joined member."""

    op: ClassVar[Op] = Op.UNASSIGN
    user_id: str
    email: str
    asset: AssetKey


@dataclass(frozen=True, slots=True)
class Share:
    """Share up to 50 ad accounts with a partner BC with one role (adds the partner)."""

    op: ClassVar[Op] = Op.SHARE
    partner_bc_id: str
    asset_ids: tuple[str, ...]
    role: str


@dataclass(frozen=True, slots=True)
class Unshare:
    """Stop sharing assets with a partner."""

    op: ClassVar[Op] = Op.UNSHARE
    partner_bc_id: str
    asset_type: AssetType
    asset_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RemovePartner:
    """Remove a partner BC (and everything shared with it)."""

    op: ClassVar[Op] = Op.REMOVE_PARTNER
    partner_bc_id: str


Params = Invite | UpdateMember | RemoveMember | Assign | Unassign | Share | Unshare | RemovePartner

PARAMS_OF: Mapping[Op, type[Params]] = {cls.op: cls for cls in get_args(Params)}
# Each field's type, resolved once: what `params_from_json` converts a JSON value into.
_HINTS: Mapping[Op, dict[str, Any]] = {op: get_type_hints(cls) for op, cls in PARAMS_OF.items()}


def params_to_json(params: Params) -> dict[str, Any]:
    """The wire-neutral JSON form of a step's parameters (enums as their values)."""
    doc: dict[str, Any] = {}
    for name in params.__slots__:
        value = getattr(params, name)
        if name == "name" and value is None:
            continue  # an unset display name is left out: plans without names read as before
        if isinstance(value, AssetKey):
            doc["asset_type"], doc["asset_id"] = value.type.value, value.id
        elif isinstance(value, tuple):
            doc[name] = list(value)
        elif isinstance(value, StrEnum):
            doc[name] = value.value
        else:
            doc[name] = value
    return doc


def params_from_json(op: Op, doc: Mapping[str, Any]) -> Params:
    """Typed parameters from a saved plan's step (the plan schema has checked the shape).

    The inverse of `params_to_json`, read from the fields' types: KeyError for a missing field,
    ValueError for a value outside its enum.
    """
    cls = PARAMS_OF[op]
    values: dict[str, Any] = {}
    for f in fields(cls):
        hint = _HINTS[op][f.name]
        if hint is AssetKey:
            values[f.name] = AssetKey(AssetType(doc["asset_type"]), doc["asset_id"])
        elif f.name in doc:
            values[f.name] = _typed(hint, doc[f.name])
        elif f.default is MISSING:
            raise KeyError(f.name)
    return cls(**values)


def _typed(hint: Any, value: Any) -> Any:
    args = get_args(hint)
    if type(None) in args:  # X | None: an absent or empty value is None
        if not value:
            return None
        hint = next(a for a in args if a is not type(None))
    if get_origin(hint) is tuple:
        return tuple(value)
    if isinstance(hint, type) and issubclass(hint, Enum):
        return hint(value)
    return value
