"""A change's before/after are typed from the diff to the schedule; strings only in a plan file.

A side reads back only a document of its exact shape, so reading then writing a saved side is the
identity on everything accepted: an edit is either refused as malformed or kept to be compared.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bcsync.core.change import (
    Change,
    GroupAssetValue,
    GroupValue,
    Kind,
    MemberValue,
    PartnerValue,
    RoleValue,
    Value,
    value_from_json,
)
from bcsync.core.diff import diff
from bcsync.core.model import (
    Asset,
    AssetKey,
    AssetType,
    BusinessCenterConfig,
    FinanceRole,
    Grant,
    Member,
    MemberRole,
    MemberStatus,
    Partner,
    PartnerShare,
    Policy,
    ProviderSettings,
    State,
)
from bcsync.core.schedule import UpdateMember, schedule

AD = AssetKey(AssetType.AD_ACCOUNT, "7100000000000000001")
BC = "7012345678901234567"

texts = st.text(max_size=12)
members = st.builds(
    MemberValue,
    st.sampled_from(MemberRole),
    st.none() | st.sampled_from(FinanceRole),
    st.none() | st.sampled_from(MemberStatus),
)
named = st.builds(
    lambda m, name: MemberValue(m.role, m.finance_role, m.status, name, shows_name=True),
    members,
    st.none() | texts,
)
partners = st.builds(
    PartnerValue,
    texts,
    st.none() | texts,
    st.booleans(),
    st.none() | st.integers(min_value=0, max_value=10_000),
).filter(lambda p: p.shows_name or p.name is None)
groups = st.builds(
    GroupValue,
    st.lists(texts, max_size=4).map(lambda a: tuple(sorted(a))),
    st.dictionaries(texts, texts, max_size=4).map(lambda m: tuple(sorted(m.items()))),
)
KIND_OF: dict[type, Kind] = {
    MemberValue: Kind.MEMBER,
    RoleValue: Kind.GRANT,
    PartnerValue: Kind.PARTNER,
    GroupValue: Kind.ASSET_GROUP,
    GroupAssetValue: Kind.GROUP_ASSET,
}


@given(
    members
    | named
    | st.builds(RoleValue, texts)
    | partners
    | groups
    | st.builds(GroupAssetValue, texts)
)
def test_a_side_reads_back_as_itself(value: Value) -> None:
    doc = value.to_json()
    read = value_from_json(KIND_OF[type(value)], doc)
    assert read == value
    assert read is not None and read.to_json() == doc


@pytest.mark.parametrize(
    ("kind", "doc", "error"),
    [
        # attacker edits of a saved plan: each is refused as malformed, never half-read
        (Kind.MEMBER, {"role": "owner", "finance_role": None}, ValueError),
        (Kind.MEMBER, {"role": "admin"}, ValueError),  # finance_role is always written
        (Kind.MEMBER, {"role": "admin", "finance_role": None, "is_admin": True}, ValueError),
        (Kind.MEMBER, {"role": ["admin"], "finance_role": None}, TypeError),
        (Kind.MEMBER, {"role": "admin", "finance_role": "cfo"}, ValueError),
        (Kind.MEMBER, {"role": "admin", "finance_role": None, "name": 5}, TypeError),
        (Kind.GRANT, {"role": "admin", "user_id": "1"}, ValueError),
        (Kind.GRANT, {"role": 1}, TypeError),
        (Kind.SHARE, {}, ValueError),
        (Kind.PARTNER, {"bc_id": "1", "shared_assets": -1}, ValueError),
        (Kind.PARTNER, {"bc_id": "1", "shared_assets": True}, ValueError),
        (Kind.PARTNER, {"name": "x"}, ValueError),
        (Kind.GRANT, ["role", "admin"], TypeError),
        (Kind.ASSET_GROUP, {"ad_accounts": [], "members": {}, "role": "admin"}, ValueError),
        (Kind.ASSET_GROUP, {"ad_accounts": "ad_accounts.us", "members": {}}, TypeError),
        (Kind.ASSET_GROUP, {"ad_accounts": [], "members": {"a@x.io": ["admin"]}}, TypeError),
        (Kind.ASSET_GROUP, {"ad_accounts": [], "members": [["a@x.io", "admin"]]}, TypeError),
        (Kind.GROUP_ASSET, {"asset": 7100000000000000001}, TypeError),
        (Kind.GROUP_ASSET, {"role": "admin"}, ValueError),
        (Kind.GROUP_MEMBER, {"role": "admin", "asset": "x"}, ValueError),
    ],
)
def test_a_side_of_another_shape_is_refused(kind: Kind, doc: Any, error: type) -> None:
    with pytest.raises(error):
        value_from_json(kind, doc)


def config(desired: State) -> BusinessCenterConfig:
    return BusinessCenterConfig(
        "bcsync.yaml", BC, "Acme", ProviderSettings(), Policy(min_admins=1), desired, "sha256:x"
    )


def every_kind() -> list[Change]:
    """A diff with every kind of side: invite, update with a rename, grant, partner, share."""
    desired = State(
        BC,
        members={
            "a@x.io": Member("a@x.io", MemberRole.ADMIN),
            "b@x.io": Member("b@x.io", MemberRole.ADMIN, FinanceRole.MANAGER, name="Bea"),
            "n@x.io": Member("n@x.io", MemberRole.STANDARD),
        },
        grants={(AD, "b@x.io"): Grant(AD, "b@x.io", "operator")},
        partners={"72": Partner("72", alias="agency")},
        shares={("72", AD): PartnerShare("72", AD, "analyst")},
    )
    actual = State(
        BC,
        members={
            "a@x.io": Member("a@x.io", MemberRole.ADMIN, status=MemberStatus.BOUND, user_id="1"),
            "b@x.io": Member("b@x.io", MemberRole.STANDARD, status=MemberStatus.BOUND, user_id="2"),
        },
        assets={AD: Asset(AD)},
        grants={(AD, "b@x.io"): Grant(AD, "b@x.io", "analyst")},
    )
    return diff(config(desired), actual)


def test_the_diff_hands_the_schedule_typed_values() -> None:
    changes = every_kind()
    by_id = {c.id: c for c in changes}
    update = by_id["member:b@x.io"]
    assert update.after == MemberValue(
        MemberRole.ADMIN, FinanceRole.MANAGER, name="Bea", shows_name=True
    )
    assert update.before == MemberValue(
        MemberRole.STANDARD, None, MemberStatus.BOUND, None, shows_name=True
    )
    assert by_id[f"grant:{AD}:b@x.io"].after == RoleValue("operator")
    assert by_id["partner:72"].after == PartnerValue("72", "agency", shows_name=True)
    steps = [s.params for s in schedule(changes)]
    assert UpdateMember("2", "b@x.io", MemberRole.ADMIN, FinanceRole.MANAGER, "Bea") in steps


def test_every_change_reads_back_from_its_json_as_itself() -> None:
    for change in every_kind():
        doc = change.to_json()
        assert Change.from_json(doc) == change
        assert Change.from_json(doc).to_json() == doc
