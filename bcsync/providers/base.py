"""The provider contract: read one Business Center's actual state, perform one write at a time.

Pure: dataclasses and a Protocol, no I/O (the layering test keeps httpx out of here).
Every write returns the TikTok `request_id` of each call it made, for the audit log.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from bcsync.core.incoming import IncomingShare
from bcsync.core.model import Asset, AssetKey, AssetType, BusinessCenterConfig, State
from bcsync.core.operations import Params


@dataclass(frozen=True)
class Scope:
    """What the config declares: which asset types to list, which assets' grants to read."""

    asset_types: frozenset[AssetType]
    assets: frozenset[AssetKey]
    # A scoped read (`plan --changed`): only these members (lower-cased emails; their
    # membership and grants) and these partner BC ids (their shares). None means every one.
    members: frozenset[str] | None = None
    partners: frozenset[str] | None = None
    # The partner BC ids the config's `incoming:` names (their SHARED lists are read even if
    # TikTok's partner list omits them); None: the config has no `incoming:` section.
    incoming: frozenset[str] | None = None
    # Read which partners each declared asset is shared with (bc/asset/partner/get): reports.
    asset_partners: bool = False

    @property
    def narrowed(self) -> bool:
        """Whether the read covers only some members and partners."""
        return self.members is not None or self.partners is not None

    @classmethod
    def of(cls, assets: Sequence[AssetKey] | frozenset[AssetKey]) -> Scope:
        """The scope of a set of declared assets (their types are listed)."""
        keys = frozenset(assets)
        return cls(asset_types=frozenset(k.type for k in keys), assets=keys)

    @classmethod
    def of_state(cls, desired: State) -> Scope:
        """The scope a desired state declares."""
        return cls.of(frozenset(desired.assets))

    @classmethod
    def of_config(cls, config: BusinessCenterConfig, *, asset_partners: bool = False) -> Scope:
        """The scope a config declares: its assets, and the partners `incoming:` names."""
        incoming = config.incoming
        partners = None if incoming is None else frozenset(p for p, _ in incoming)
        scope = cls.of(frozenset(config.desired.assets))
        return cls(
            scope.asset_types, scope.assets, incoming=partners, asset_partners=asset_partners
        )


@dataclass(frozen=True, slots=True)
class AssetGroupAccess:
    """Access an asset group gives one member on one asset: real, but not managed by bcsync.

    TikTok's asset groups (`/bc/asset_group/*`) grant up to 50 members one advertiser role on up
    to 200 ad accounts at once. It is shown to reviewers; it never changes the diff.
    """

    group_id: str
    group_name: str | None
    # The member's lower-cased email, or "user_id:<id>" when no member of the BC has that id.
    member: str
    user_id: str
    asset: AssetKey
    # The model's role of the asset type (for ad accounts: admin, operator, analyst).
    role: str


@dataclass(frozen=True, slots=True)
class AssetPartner:
    """A partner BC a declared asset is shared with (bc/asset/partner/get), any asset type.

    TikTok answers the partner only (`bc_id`, `bc_name`), not its role: the role of an ad
    account or catalog share is in `State.shares` (partner/asset/get); other types have none.
    """

    asset: AssetKey
    partner: str
    # TikTok's name for the partner BC: shown, never matched.
    partner_name: str | None = None


@dataclass(frozen=True)
class ReadResult:
    """The actual state of one BC, restricted to the scope, and what reading it cost."""

    state: State
    calls: int
    # The assets the config does not declare (left alone), by key: named in reports.
    unmanaged: tuple[Asset, ...] = ()
    # Access through asset groups on declared assets, sorted by (asset, member, group).
    asset_group_access: tuple[AssetGroupAccess, ...] = ()
    # Undeclared assets partners share with this BC (incoming): neither owned nor unmanaged.
    incoming: tuple[Asset, ...] = ()
    # What partners share with this BC (partner/asset/get SHARED), with the role it holds;
    # an OWNER_PARTNER asset no partner's list names has partner "". None: not read.
    incoming_shares: tuple[IncomingShare, ...] | None = None
    # `scope.asset_partners`: the partners each declared asset is shared with, by asset.
    asset_partners: tuple[AssetPartner, ...] = ()
    # A narrowed read: BOUND and PENDING members the BC has that it did not list (from
    # `page_info.total_number`), so the removal guard still counts every existing member.
    unread_members: int = 0

    @property
    def unmanaged_assets(self) -> int:
        """How many assets the BC has that the config does not declare."""
        return len(self.unmanaged)


@dataclass(frozen=True)
class WriteResult:
    """The request ids of the calls one write made; a note when it had to verify by reading."""

    request_ids: tuple[str, ...]
    note: str | None = None


@runtime_checkable
class Provider(Protocol):
    """One Business Center, reached through the TikTok Business API (or the emulator).

    Contracts every implementation keeps:
    - must raise only `bcsync.errors.ProviderError` subclasses for API, network and auth trouble;
    - must never put the access token in a message, log line or repr;
    - must never send a write twice blindly: after an ambiguous failure (timeout, 5xx, lost
      response) it reads to see what happened and retries only what is missing;
    - must not invite an email that is already a member or pending;
    - `read_state` must return grants and shares only for `scope.assets`, and grants only of
      BOUND members; a narrowed scope must return every BOUND admin, the scope's members,
      their grants, every partner and the scope's partners' shares; `state.assets` holds the
      declared assets the BC has, each with its binding status; every paged list must be
      complete (its `total_number` items) or the read fails;
    - a full read returns `incoming_shares` (what partners share with the BC, each with its
      partner's BC id, or "" when no partner's list names it) and, when `scope.asset_partners`,
      the partners each declared asset is shared with; a scoped read leaves them unread (None);
    - must never send a write the API cannot perform (an empty `ext_user_role`, a role field
      for a pixel);
    - must not batch more than the API allows: invites and shares take at most 50 items
      (a longer list is a `ValueError`: batching is the plan's job);
    - `write` performs exactly the operation its parameters' type names, and each operation
      is dispatched from one table (a new `Params` type without a writer is a `TypeError`).
    """

    bc_id: str

    async def read_state(self, scope: Scope) -> ReadResult:
        """Read members, declared assets, their grants, partners and our shares with them."""
        ...

    async def write(self, params: Params) -> WriteResult:
        """Perform the one operation `params` names (`core.operations`: invite, assign...)."""
        ...
