"""The conformance table: every endpoint bcsync uses, as TikTok's SDK specifies it.

Written from TikTok's SDK (tiktok/tiktok-business-api-sdk: its `yml_files/bc_*.yml`, its Python
models and `tiktok_code.py`; facts only, nothing copied). One table checks both sides, so the
provider's requests and the emulator's validators cannot drift apart:
- test_provider.py: every request the provider sends has the row's method, its required fields,
  values inside the enums, lists within maxItems and a page size within the cap;
- test_emulator.py: the emulator refuses each missing required field, each bad or ✗-listed enum
  value, each list one item too long, a page size over the cap (or cuts the page silently where
  the row says so), and answers list items with exactly the mapped response fields.

Where the SDK's layers disagree (schema, extra_rule, Python model), `required` takes the strictest
layer: that is what both sides keep. Where the SDK is silent, the row says which
reading it takes in `note`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Example ids of the conformance world (tests/conformance/world.py).
BC = "7000000000000000001"
PARTNER = "7200000000000000001"
AD1, AD2 = "7100000000000000001", "7100000000000000002"
CATALOG, TT, SHOP = "7300000000000000001", "7400000000000000001", "7500000000000000001"
LEAD, PIXEL = "7600000000000000001", "7700000000000000001"
STORE = "7900000000000000001"
STD, BOB = "6000000000000000003", "6000000000000000004"
GROUP = "7800000000000000001"

ASSET_TYPES = ("ADVERTISER", "CATALOG", "LEAD", "TT_ACCOUNT", "PIXEL", "STOREFRONT", "TIKTOK_SHOP")
ALL_ASSET_TYPES = (*ASSET_TYPES, "DOMAIN")
USER_ROLES = ("ADMIN", "STANDARD")
FINANCE_ROLES = ("MANAGER", "ANALYST")
ADVERTISER_ROLES = ("ADMIN", "OPERATOR", "ANALYST")
RELATION_STATUSES = ("BOUND", "UNBOUND", "REJECTED", "PENDING")


@dataclass(frozen=True)
class Field:
    """One request field; a dotted name is inside an object (`filtering.relation_status`)."""

    name: str
    required: bool = False
    # The values the SDK marks valid; `invalid`: values it lists but marks `is_valid: false`.
    enum: tuple[str, ...] | None = None
    invalid: tuple[str, ...] = ()
    # For lists: the most items allowed, and what one item looks like ("id", "email", "enum").
    max_items: int | None = None
    item: str | None = None
    # Other fields a check of this one needs, e.g. a role field needs its asset type.
    context: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Row:
    """One endpoint as bcsync uses it."""

    path: str
    method: str
    fields: tuple[Field, ...]
    # A valid request in the conformance world (without bc_id, added for every row but bc/get).
    example: dict[str, Any]
    # GET lists: the page-size cap, and what a larger size does ("error" or "silent": answered
    # with at most `page_cap` items, page_info following the asked size).
    page_cap: int | None = None
    over_cap: str = "error"
    # Where the items are (`asset_group.members`), and the exact fields the SDK maps for each
    # item (None: passed through unmapped, shape not specified).
    list_key: str = "list"
    item_fields: frozenset[str] | None = None
    # The SDK drops null fields from these responses (`pop_resp_nullvalue`): items carry a
    # subset of `item_fields`, never another field.
    drops_nulls: bool = False
    # Mapped fields of objects inside an item (bc/get's bc_info).
    nested_fields: dict[str, frozenset[str]] = field(default_factory=dict)
    # False for endpoints the SDK does not have (their facts are third-party).
    in_sdk: bool = True
    note: str = ""
    # Fields that are checked but have no single example value to drop (e.g. one-of pairs).
    extra: dict[str, Any] = field(default_factory=dict)
    # SDK-valid values the emulator accepts but answers 40007 (not found) for, because its world
    # cannot hold such an object: "field=value" -> why (test_emulator: values the SDK allows).
    absent: dict[str, str] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"{self.method} /{self.path}"


PAGE = (Field("page"), Field("page_size"))
NO_DOMAIN = {
    "asset_type=DOMAIN": "the emulator holds no domains: no SDK read lists them (DOMAIN is invalid "
    "on asset/get and asset/admin/get), so no domain can be declared, granted or checked"
}


def _on(asset_type: str, asset_id: str) -> dict[str, Any]:
    """A role field is checked on an asset of its own type (the emulator reads only that one)."""
    return {"asset_type": asset_type, "asset_id": asset_id, "advertiser_role": None}


ASSET_FIELDS = frozenset(
    {
        "asset_id", "asset_name", "asset_type", "advertiser_account_type", "advertiser_role",
        "catalog_role", "store_role", "tt_account_roles", "ad_creation_eligible",
        "owner_bc_name",
    }
)  # fmt: skip

ROWS: tuple[Row, ...] = (
    Row(
        "bc/get/", "GET",
        (Field("scene", enum=("SINGLE_ACCOUNT", "TIERED_ACCOUNT")), *PAGE),
        {"bc_id": BC},
        page_cap=50,
        item_fields=frozenset({"bc_info", "user_role", "ext_user_role", "binding_status"}),
        drops_nulls=True,
        nested_fields={
            "bc_info": frozenset(
                {
                    "bc_id", "name", "company", "currency", "organization_type",
                    "registered_area", "status", "timezone", "type",
                }
            )
        },
    ),
    Row(
        "bc/member/get/", "GET",
        (
            Field("bc_id", required=True),
            Field("filtering.user_role", enum=USER_ROLES),
            Field("filtering.relation_status", enum=RELATION_STATUSES),
            *PAGE,
        ),
        {},
        # No cap in the SDK, 20 in a third-party client: answered with at most 20 items.
        page_cap=20, over_cap="silent",
        item_fields=frozenset(
            {"user_id", "user_name", "user_email", "user_role", "relation_status", "ext_user_role"}
        ),
    ),
    Row(
        "bc/member/invite/", "POST",
        (
            Field("bc_id", required=True),
            Field("emails", required=True, max_items=50, item="email"),
            Field("user_role", enum=USER_ROLES),
            Field("ext_user_role.finance_role", enum=FINANCE_ROLES),
            Field("asset_type", enum=("ADVERTISER",), invalid=ALL_ASSET_TYPES[1:]),
            # Schema optional, rule and Python model required: always sent, [] included.
            Field("asset_ids", required=True, max_items=50, item="id"),
            Field("advertiser_role", enum=ADVERTISER_ROLES),
        ),
        {"emails": ["new@conformance.example"], "asset_ids": [AD1], "advertiser_role": "ANALYST"},
        note="asset_ids maxItems 50 is third-party; the SDK declares none",
    ),
    Row(
        "bc/member/update/", "POST",
        (
            Field("bc_id", required=True),
            Field("user_id", required=True),
            Field("user_role", enum=USER_ROLES),
            # No value clears a finance role: an ext_user_role without one is refused.
            Field("ext_user_role.finance_role", enum=FINANCE_ROLES),
        ),
        {"user_id": STD, "user_role": "STANDARD", "ext_user_role": {"finance_role": "ANALYST"}},
    ),
    Row(
        "bc/member/delete/", "POST",
        (Field("bc_id", required=True),),
        {"user_id": BOB},
        note="user_id or user_email, both optional in the SDK; the emulator wants exactly one",
        extra={"one_of": ("user_id", "user_email")},
    ),
    Row(
        "bc/asset/get/", "GET",
        (
            Field("bc_id", required=True),
            Field("asset_type", required=True, enum=ASSET_TYPES, invalid=("DOMAIN",)),
            *PAGE,
        ),
        {"asset_type": "ADVERTISER", "filtering": {"user_id": BOB}},
        page_cap=50,
        item_fields=ASSET_FIELDS,
    ),
    Row(
        "bc/asset/admin/get/", "GET",
        (
            Field("bc_id", required=True),
            Field("asset_type", required=True, enum=ASSET_TYPES, invalid=("DOMAIN",)),
            Field("filtering.relation_status", enum=RELATION_STATUSES, invalid=("REJECT",)),
            Field(
                "filtering.relation_type", enum=("OWNER_BC", "OWNER_PARTNER", "OWNER_INDIVIDUAL")
            ),
            Field(
                "filtering.advertiser_show_status",
                enum=(
                    "SHOW_ACCOUNT_STATUS_NOT_APPROVED", "SHOW_ACCOUNT_STATUS_APPROVED",
                    "SHOW_ACCOUNT_STATUS_IN_REVIEW", "SHOW_ACCOUNT_STATUS_PUNISHED",
                ),
            ),
            *PAGE,
        ),
        {"asset_type": "ADVERTISER"},
        page_cap=50,
        item_fields=ASSET_FIELDS
        | {"advertiser_status", "pixel_code", "relation_status", "relation_type"},
    ),
    Row(
        "bc/asset/member/get/", "GET",
        (
            Field("bc_id", required=True),
            Field(
                "asset_type", required=True, enum=("ADVERTISER", "CATALOG", "LEAD"),
                invalid=("TT_ACCOUNT", "PIXEL", "STOREFRONT", "TIKTOK_SHOP", "DOMAIN"),
            ),
            Field("asset_id", required=True),
            *PAGE,
        ),
        {"asset_type": "ADVERTISER", "asset_id": AD1},
        page_cap=20,
    ),
    Row(
        "bc/asset/partner/get/", "GET",
        (
            Field("bc_id", required=True),
            Field("asset_type", required=True, enum=ALL_ASSET_TYPES),
            Field("asset_id", required=True),
            *PAGE,
        ),
        {"asset_type": "PIXEL", "asset_id": PIXEL},
        page_cap=50,
        absent=NO_DOMAIN,
        note="items unmapped in the SDK; third-party {bc_id, bc_name}, as partner/get's",
    ),
    Row(
        "bc/asset/assign/", "POST",
        (
            Field("bc_id", required=True),
            Field("user_id", required=True),
            Field("asset_type", required=True, enum=ALL_ASSET_TYPES),
            Field("asset_id", required=True),
            Field("advertiser_role", enum=ADVERTISER_ROLES),
            Field("catalog_role", enum=("ADMIN", "AD_PROMOTE"), context=_on("CATALOG", CATALOG)),
            Field("form_library_role", enum=("ADMIN",), context=_on("LEAD", LEAD)),
            Field("store_role", enum=("MANAGER", "AD_PROMOTION"), context=_on("TIKTOK_SHOP", SHOP)),
            Field(
                "tt_account_roles", enum=("POST", "LIVE", "DIRECT_MESSAGE"), item="enum",
                context=_on("TT_ACCOUNT", TT),
            ),
        ),
        {"user_id": STD, "asset_type": "ADVERTISER", "asset_id": AD1, "advertiser_role": "ADMIN"},
        note="each role field is optional in the SDK; the emulator wants the asset type's own",
        absent=NO_DOMAIN,
    ),
    Row(
        "bc/asset/unassign/", "POST",
        (
            Field("bc_id", required=True),
            Field("user_id", required=True),
            Field("asset_type", required=True, enum=ALL_ASSET_TYPES),
            Field("asset_id", required=True),
        ),
        {"user_id": BOB, "asset_type": "ADVERTISER", "asset_id": AD1},
        absent=NO_DOMAIN,
    ),
    Row(
        "bc/partner/get/", "GET",
        (Field("bc_id", required=True), *PAGE),
        {},
        page_cap=50,
    ),
    Row(
        "bc/partner/add/", "POST",
        (
            Field("bc_id", required=True),
            # Optional at every SDK layer; bcsync always names the partner, the emulator wants it.
            Field("partner_id", required=True),
            Field("asset_type", required=True, enum=("ADVERTISER",), invalid=ALL_ASSET_TYPES[1:]),
            Field("asset_ids", required=True, max_items=50, item="id"),
            Field("advertiser_role", enum=ADVERTISER_ROLES),
        ),
        {"partner_id": PARTNER, "asset_type": "ADVERTISER", "asset_ids": [AD2]},
    ),
    Row(
        "bc/partner/delete/", "POST",
        (Field("bc_id", required=True), Field("partner_id", required=True)),
        {"partner_id": PARTNER},
    ),
    Row(
        "bc/partner/asset/get/", "GET",
        (
            Field("bc_id", required=True),
            Field("partner_id", required=True),
            Field(
                "asset_type", required=True, enum=("ADVERTISER", "CATALOG", "DOMAIN"),
                invalid=("LEAD", "TT_ACCOUNT", "PIXEL", "STOREFRONT", "TIKTOK_SHOP"),
            ),
            Field("share_type", required=True, enum=("SHARING", "SHARED")),
            *PAGE,
        ),
        {"partner_id": PARTNER, "asset_type": "ADVERTISER", "share_type": "SHARING"},
        page_cap=50,
    ),
    Row(
        "bc/partner/asset/delete/", "POST",
        (
            Field("bc_id", required=True),
            Field("partner_id", required=True),
            Field("asset_type", required=True, enum=ALL_ASSET_TYPES),
            Field("asset_ids", required=True, max_items=50, item="id"),
        ),
        {"partner_id": PARTNER, "asset_type": "ADVERTISER", "asset_ids": [AD1]},
        note="asset_ids has no maxItems in the SDK; bcsync sends 50 at most, the emulator "
        "refuses more",
        absent={
            **NO_DOMAIN,
            **{
                f"asset_type={t}": "partner/add shares ad accounts only (SDK), so no share of "
                "this type exists to stop; the value is accepted, the share is not found"
                for t in ("CATALOG", "LEAD", "TT_ACCOUNT", "PIXEL", "STOREFRONT", "TIKTOK_SHOP")
            },
        },
    ),
    Row(
        "bc/asset_group/list/", "GET",
        # page and page_size: schema optional with defaults, rule required: always sent.
        (Field("bc_id", required=True), Field("page", required=True),
         Field("page_size", required=True)),
        {"page": 1, "page_size": 10},
        page_cap=50, list_key="asset_groups",
        item_fields=frozenset({"asset_group_id", "asset_group_name", "assets", "members"}),
        drops_nulls=True,
        note="no page-size cap in the SDK; 50 like every other BC list (stricter)",
    ),
    Row(
        "bc/asset_group/get/", "GET",
        (
            Field("bc_id", required=True),
            Field("asset_group_id", required=True),
            Field("query_entity", required=True, enum=("ASSET", "MEMBER")),
            Field("page", required=True),
            Field("page_size", required=True),
        ),
        {"asset_group_id": GROUP, "query_entity": "MEMBER", "page": 1, "page_size": 10},
        page_cap=50, list_key="asset_group.members",
        note="no page-size cap in the SDK; 50 like every other BC list (stricter)",
    ),
    Row(
        "changelog/get/", "GET",
        (
            Field("bc_id", required=True),
            Field("filtering.activity_type", enum=("ALL", "USER", "ACCOUNT", "ASSET", "BUSINESS")),
            Field("sort_type", enum=("DESC", "ASC")),
            *PAGE,
        ),
        {},
        page_cap=50, list_key="changelog_list",
        item_fields=frozenset({"time", "activity_type", "operator_id", "activity_log"}),
        in_sdk=False,
        note="not in the SDK: every fact here is third-party (bububa/tiktok-business), unverified",
    ),
)  # fmt: skip

BY_PATH: dict[str, Row] = {row.path: row for row in ROWS}


def lookup(values: dict[str, Any], name: str) -> Any:
    """The value of a (dotted) field in a request's decoded parameters, or None."""
    value: Any = values
    for part in name.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def with_value(values: dict[str, Any], name: str, value: Any) -> dict[str, Any]:
    """A copy of the parameters with a (dotted) field set; None removes it."""
    head, _, rest = name.partition(".")
    out = dict(values)
    if rest:
        inner = out.get(head)
        out[head] = with_value(inner if isinstance(inner, dict) else {}, rest, value)
    elif value is None:
        out.pop(head, None)
    else:
        out[head] = value
    return out
