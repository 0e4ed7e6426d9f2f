"""What expires soon, and what has expired already: members, grants, partners, shares. Pure.

The config build drops entries whose date has passed (`BusinessCenterConfig.expired`); they are
listed here too, as "expired", so an auditor sees access the config still mentions but no
longer grants.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from bcsync.core.model import AssetKey, BusinessCenterConfig

_WITHIN = re.compile(r"^\s*(\d{1,5})\s*([dw]?)\s*$", re.IGNORECASE)


def parse_within(text: str) -> timedelta:
    """'30d', '2w' or '30' (days) -> a timedelta; ValueError otherwise."""
    found = _WITHIN.match(text)
    if found is None:
        raise ValueError(f"expected a number of days such as 30d or 2w, got {text!r}")
    count = int(found[1])
    return timedelta(weeks=count) if found[2].lower() == "w" else timedelta(days=count)


@dataclass(frozen=True, slots=True)
class Expiring:
    """One entry with an end date."""

    bc_id: str
    bc_name: str
    kind: str  # member | grant | partner | partner_share
    who: str  # email, or partner alias / BC id
    asset: str | None  # alias (or TYPE/ID) of the asset, for grants and shares
    role: str | None
    expires: date
    reason: str | None
    source: str | None
    expired: bool

    def days_left(self, now: date) -> int:
        return (self.expires - now).days


def _asset(config: BusinessCenterConfig, key: AssetKey) -> str:
    alias = config.asset_aliases.get(key)
    return f"{key.type.value}/{alias}" if alias else str(key)


def _partner(config: BusinessCenterConfig, bc_id: str) -> str:
    return config.partner_aliases.get(bc_id, bc_id)


def _active(config: BusinessCenterConfig) -> Iterator[Expiring]:
    desired, bc, name = config.desired, config.bc_id, config.name or config.bc_id
    for m in desired.members.values():
        if m.expires:
            yield Expiring(
                bc,
                name,
                "member",
                m.email,
                None,
                m.role.value,
                m.expires,
                m.reason,
                m.source,
                False,
            )
    for g in desired.grants.values():
        if g.expires:
            yield Expiring(
                bc,
                name,
                "grant",
                g.member,
                _asset(config, g.asset),
                g.role,
                g.expires,
                g.reason,
                "; ".join(g.sources) or None,
                False,
            )
    for p in desired.partners.values():
        if p.expires:
            who = _partner(config, p.bc_id)
            yield Expiring(
                bc, name, "partner", who, None, None, p.expires, p.reason, p.source, False
            )
    for s in desired.shares.values():
        if s.expires:
            yield Expiring(
                bc,
                name,
                "partner_share",
                _partner(config, s.partner),
                _asset(config, s.asset),
                s.role,
                s.expires,
                s.reason,
                s.source,
                False,
            )


def _lapsed(config: BusinessCenterConfig) -> Iterator[Expiring]:
    """Entries the build dropped: keyed by email, partner id, GrantKey or ShareKey."""
    bc, name = config.bc_id, config.name or config.bc_id
    for key, when in config.expired.items():
        kind, who, asset = "member", str(key), None
        if isinstance(key, tuple) and len(key) == 2:
            first, second = key
            if isinstance(first, AssetKey):
                kind, who, asset = "grant", str(second), _asset(config, first)
            elif isinstance(second, AssetKey):
                kind, who = "partner_share", _partner(config, str(first))
                asset = _asset(config, second)
        elif "@" not in who:
            kind, who = "partner", _partner(config, who)
        yield Expiring(bc, name, kind, who, asset, None, when, None, None, True)


def expiring(
    configs: Sequence[BusinessCenterConfig], now: date, within: timedelta
) -> list[Expiring]:
    """Entries expired already or ending within `within` of `now`, soonest first, per BC."""
    horizon = now + within
    found = [
        e
        for config in configs
        for e in (*_lapsed(config), *_active(config))
        if e.expired or e.expires <= horizon
    ]
    order = {c.bc_id: i for i, c in enumerate(configs)}
    return sorted(found, key=lambda e: (order[e.bc_id], e.expires, e.kind, e.who, e.asset or ""))
