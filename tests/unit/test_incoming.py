"""core.incoming: what partners share with a BC against the config's `incoming:`. Pure."""

from __future__ import annotations

from bcsync.core.incoming import Finding, IncomingDifference, IncomingShare, compare
from bcsync.core.model import AssetKey, AssetType, IncomingExpectation

P, Q = "7200000000000000001", "7200000000000000002"
A1, A2, A3 = (AssetKey(AssetType.AD_ACCOUNT, f"710000000000000000{n}") for n in (1, 2, 3))


def want(partner: str, asset: AssetKey, role: str, alias: str = "agency") -> IncomingExpectation:
    return IncomingExpectation(partner, alias, asset, role, source="bcsync.yaml:9")


def test_without_an_incoming_section_nothing_is_checked() -> None:
    assert compare(None, [IncomingShare(P, A1, "admin")]) == ()


def test_an_unread_bc_is_not_a_missing_share() -> None:
    # A scoped plan (--changed) does not read incoming shares: nothing is "missing".
    assert compare({(P, A1): want(P, A1, "admin")}, None) == ()


def test_missing_unexpected_and_role_differs() -> None:
    expected = {(P, A1): want(P, A1, "admin"), (P, A2): want(P, A2, "analyst")}
    actual = [IncomingShare(P, A1, "operator"), IncomingShare(Q, A3, "analyst")]
    found = compare(expected, actual, {Q: "other"})
    assert [(d.finding, d.partner, d.asset, d.expected, d.actual) for d in found] == [
        (Finding.ROLE_DIFFERS, P, A1, "admin", "operator"),
        (Finding.MISSING, P, A2, "analyst", None),
        (Finding.UNEXPECTED, Q, A3, None, "analyst"),
    ]
    assert found[2].partner_label == f"other (BC {Q})"


def test_the_same_asset_from_another_partner_is_not_the_expected_share() -> None:
    # Matched by (partner BC id, asset): a lookalike alias or name cannot stand in.
    found = compare(
        {(P, A1): want(P, A1, "admin")}, [IncomingShare(Q, A1, "admin", partner_name="agency")]
    )
    assert {d.finding for d in found} == {Finding.MISSING, Finding.UNEXPECTED}
    assert all(P in d.partner_label or Q in d.partner_label for d in found)


def test_an_unnamed_partner_says_so() -> None:
    [d] = compare({}, [IncomingShare("", A1, None)])
    assert d.sentence() == (
        "ad_accounts 7100000000000000001 from a partner TikTok did not name: shared with this "
        "BC, not expected by the config"
    )


def test_a_difference_round_trips_through_json() -> None:
    d = IncomingDifference(Finding.MISSING, P, "agency", A1, "admin", None, "bcsync.yaml:9")
    assert IncomingDifference.from_json(d.to_json()) == d
