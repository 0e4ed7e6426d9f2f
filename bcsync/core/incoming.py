"""Incoming access: assets partners share with this BC, and the config's expectations of them. Pure.

A partner shares its own ad accounts and catalogs with this BC (`bc/partner/asset/get` with
`share_type=SHARED`; such assets are `OWNER_PARTNER` in `bc/asset/admin/get`). bcsync can neither
grant nor revoke these: only the partner can. So they are never planned as writes. The config's
`incoming:` section declares what is expected; `compare` says what differs, and `plan` and
`drift` report it (plan as information, drift as drift).

Partners are matched by BC id only, never by the name TikTok reports for them: a BC named like
an expected partner is another BC.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from bcsync.core.model import AssetKey, AssetType, BusinessCenterConfig, IncomingExpectation

# The owner of an asset listed as OWNER_PARTNER that no partner's SHARED list names.
UNKNOWN_PARTNER = "a partner TikTok did not name"

# An incoming share's key: (the partner's BC id, the asset).
IncomingKey = tuple[str, AssetKey]


@dataclass(frozen=True, slots=True)
class IncomingShare:
    """One asset a partner shares with this BC, as TikTok reports it."""

    partner: str  # the owner's BC id ("" when no partner's list names the asset)
    asset: AssetKey
    role: str | None  # the model's role this BC holds; None: TikTok did not say
    asset_name: str | None = field(default=None, compare=False)
    # TikTok's name for the partner BC: shown, never matched.
    partner_name: str | None = field(default=None, compare=False)

    @property
    def key(self) -> IncomingKey:
        return (self.partner, self.asset)


class Finding(StrEnum):
    """How an incoming share differs from the config's expectation."""

    MISSING = "missing"  # expected, not shared with this BC
    UNEXPECTED = "unexpected"  # shared with this BC, not expected
    ROLE_DIFFERS = "role differs"


@dataclass(frozen=True, slots=True)
class IncomingDifference:
    """One difference between `incoming:` and what partners share; bcsync cannot fix it."""

    finding: Finding
    partner: str
    alias: str | None  # the config's alias of the partner, if it names one
    asset: AssetKey
    expected: str | None
    actual: str | None
    source: str | None = None

    @property
    def partner_label(self) -> str:
        """`agency-z (BC 7000000000000000002)`: the id always, so a lookalike alias can't hide."""
        if not self.partner:
            return UNKNOWN_PARTNER
        return f"{self.alias} (BC {self.partner})" if self.alias else f"BC {self.partner}"

    def sentence(self) -> str:
        what = f"{self.asset.type.value} {self.asset.id} from {self.partner_label}"
        if self.finding is Finding.MISSING:
            return f"{what}: expected as {self.expected}, not shared with this BC"
        if self.finding is Finding.UNEXPECTED:
            role = f" as {self.actual}" if self.actual else ""
            return f"{what}: shared with this BC{role}, not expected by the config"
        return f"{what}: shared as {self.actual}, the config expects {self.expected}"

    def to_json(self) -> dict[str, Any]:
        return {
            "finding": self.finding.value,
            "partner": self.partner,
            "alias": self.alias,
            "asset_type": self.asset.type.value,
            "asset_id": self.asset.id,
            "expected": self.expected,
            "actual": self.actual,
            "source": self.source,
        }

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> IncomingDifference:
        return cls(
            finding=Finding(doc["finding"]),
            partner=str(doc["partner"]),
            alias=doc.get("alias"),
            asset=AssetKey(AssetType(doc["asset_type"]), str(doc["asset_id"])),
            expected=doc.get("expected"),
            actual=doc.get("actual"),
            source=doc.get("source"),
        )


def compare(
    expected: Mapping[IncomingKey, IncomingExpectation] | None,
    actual: Iterable[IncomingShare] | None,
    aliases: Mapping[str, str] | None = None,
) -> tuple[IncomingDifference, ...]:
    """What differs between the expectations and the shares read, by (partner BC id, asset).

    `expected` None: the config has no `incoming:` section, so nothing is checked. `actual`
    None: incoming shares were not read (a scoped plan), so nothing is checked either.
    `aliases` names partners by BC id (the config's `incoming:` and `partners:` aliases).
    """
    if expected is None or actual is None:
        return ()
    names = dict(aliases or {})
    names.update({e.partner: e.alias for e in expected.values()})
    have = {s.key: s for s in actual}
    out: list[IncomingDifference] = []
    for key, want in expected.items():
        got = have.get(key)
        if got is None:
            out.append(
                IncomingDifference(
                    Finding.MISSING, want.partner, want.alias, want.asset, want.role, None,
                    want.source,
                )
            )  # fmt: skip
        elif got.role != want.role:
            out.append(
                IncomingDifference(
                    Finding.ROLE_DIFFERS, want.partner, want.alias, want.asset, want.role,
                    got.role, want.source,
                )
            )  # fmt: skip
    for key, got in have.items():
        if key not in expected:
            out.append(
                IncomingDifference(
                    Finding.UNEXPECTED, got.partner, names.get(got.partner), got.asset, None,
                    got.role,
                )
            )  # fmt: skip
    return tuple(sorted(out, key=lambda d: (d.partner, d.asset, d.finding.value)))


def differences_of(
    config: BusinessCenterConfig, shares: Iterable[IncomingShare] | None
) -> tuple[IncomingDifference, ...]:
    """`compare` for one config: its `incoming:` against the shares read, partners by alias."""
    aliases = {**config.partner_aliases, **config.incoming_aliases}
    return compare(config.incoming, shares, aliases)
