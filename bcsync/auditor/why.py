"""`bcsync why`: one person's access, the config lines behind it, and where each was gained.

An edge module: it reads the config files again (for the lines of groups and of the member's
`groups:` list, which the built state does not keep) and asks `auditor.origins` for the commit
where each grant took its current value, from the effective-access history `history` shows
(not from who last touched a line). Works from the config alone: no token, no BC read.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from bcsync.auditor import access_diff
from bcsync.auditor.access import BC_ASSET, AccessRow, Kind, Status, bc_rows, incoming_rows
from bcsync.auditor.origins import ADMIN_ROLE, EntryKey, origins
from bcsync.auditor.story import ExpiredEntry, GrantStory, LineStory, WhyResult
from bcsync.config.composer import LoadFailed
from bcsync.config.document import Document
from bcsync.config.loader import read_document
from bcsync.core.model import AssetKey, AssetType, BusinessCenterConfig

_GROUP = re.compile(r"^group (?P<name>\S+)(?: \(via (?P<via>\S+)\))?$")


def matches_asset(row: AccessRow, asset: str | None) -> bool:
    """ASSET may be an alias, an id, or TYPE/ID; the BC membership row matches any asset."""
    if asset is None or row.asset_type == BC_ASSET:
        return True
    wanted = asset.lower()
    return wanted in {
        row.asset_name.lower(),
        row.asset_id,
        f"{row.asset_type}/{row.asset_id}",
        f"{row.asset_type}/{row.asset_name.lower()}",
    }


def _is_who(row: AccessRow, wanted: str) -> bool:
    """A member by email; a partner by BC id or alias (its name reads "alias (Name)")."""
    return wanted in (row.principal, row.principal_name.lower().split(" ")[0])


class _Sources:
    """Config files and their lines, read once each."""

    def __init__(self) -> None:
        self.docs: dict[str, Document | None] = {}
        self.lines: dict[str, list[str]] = {}

    def doc(self, path: str) -> Document | None:
        if path not in self.docs:
            try:
                self.docs[path] = read_document(path)
            except LoadFailed:
                self.docs[path] = None
        return self.docs[path]

    def text(self, ref: str) -> str | None:
        parts = split_ref(ref)
        if parts is None:
            return None
        file, line = parts
        if file not in self.lines:
            try:
                self.lines[file] = Path(file).read_text(encoding="utf-8").splitlines()
            except (OSError, UnicodeDecodeError):
                self.lines[file] = []
        found = self.lines[file]
        return found[line - 1].strip() if 0 < line <= len(found) else None


def split_ref(ref: str) -> tuple[str, int] | None:
    """'dir/bcsync.yaml:12' -> ('dir/bcsync.yaml', 12); None when it names no line."""
    file, sep, line = ref.rpartition(":")
    if not sep or not file or not line.isdigit():
        return None
    return file, int(line)


def entry_key(row: AccessRow) -> EntryKey:
    """The effective-access key of a report row: membership, grant, partner or share."""
    if row.status is Status.ADMIN_ROLE:  # an admin reaches the asset through the admin role
        return ADMIN_ROLE, row.principal, None
    if row.asset_type == BC_ASSET:
        kind = access_diff.Kind.MEMBER if row.kind is Kind.MEMBER else access_diff.Kind.PARTNER
        return kind, row.principal, None
    asset = AssetKey(AssetType(row.asset_type), row.asset_id)
    kind = access_diff.Kind.GRANT if row.kind is Kind.MEMBER else access_diff.Kind.SHARE
    return kind, row.principal, asset


def _is_share(row: AccessRow) -> bool:
    return row.kind is Kind.PARTNER and row.asset_type != BC_ASSET


def _through(row: AccessRow) -> str | None:
    """How a partner share or an incoming share gives access, in words (None: a member's)."""
    if _is_share(row):
        return (
            f"through a partner share: the partner's Business Center holds {row.role} on it "
            "and its own admins give it to their people, who are not members of this Business "
            "Center (bcsync and this BC do not see them)"
        )
    if row.kind is Kind.INCOMING:
        return (
            f"an incoming share: this Business Center is expected to hold {row.role} on the "
            "partner's asset; the partner granted it and only the partner can change it"
        )
    return None


def shared_sentence(row: AccessRow) -> str:
    """`ad account acme-us is shared with partner agency-x (BC 72…) as analyst`."""
    what = ASSET_TYPE_WORDS.get(row.asset_type, row.asset_type)
    return (
        f"{row.bc_name}: {what} {row.asset_name} is shared with partner {row.principal_name} "
        f"(BC {row.principal}) as {row.role}: people of that Business Center reach it through it"
    )


ASSET_TYPE_WORDS = {
    "ad_accounts": "ad account",
    "catalogs": "catalog",
}


class Explainer:
    """Builds `WhyResult`s; one per call, sharing file reads across calls."""

    def __init__(self) -> None:
        self.sources = _Sources()

    def explain(
        self,
        configs: Sequence[BusinessCenterConfig],
        who: str,
        asset: str | None = None,
        now: date | None = None,
    ) -> WhyResult:
        """Every grant of `who` (an email, or a partner's alias or BC id) on `asset` or all.

        With `now` (the day the configs were built for), each grant says where it was gained."""
        wanted = who.lower()
        result = WhyResult(who=wanted, asset=asset)
        for config in configs:
            every = list(bc_rows(config, None))
            rows = [r for r in every if _is_who(r, wanted) and matches_asset(r, asset)]
            gained, unavailable = (
                ({}, None)
                if now is None or not rows
                else origins(config, [entry_key(r) for r in rows], now)
            )
            if unavailable:
                result.history_unavailable[config.path] = unavailable
            for row in rows:
                lines = tuple(self._lines(config, row))
                story = GrantStory(row, lines, gained.get(entry_key(row)), _through(row))
                result.stories.append(story)
            for row in incoming_rows(config, None):  # a partner's assets this BC reaches
                if _is_who(row, wanted) and matches_asset(row, asset):
                    line = self._story("incoming line", row.sources[0] if row.sources else None)
                    lines = (line,) if line else ()
                    result.stories.append(GrantStory(row, lines, None, _through(row)))
            if asset is not None:
                result.shared_with += [
                    shared_sentence(r) for r in every if _is_share(r) and matches_asset(r, asset)
                    and not _is_who(r, wanted)
                ]  # fmt: skip
            result.expired.extend(_expired(config, wanted, asset))
        return result

    def _story(self, label: str, ref: str | None) -> LineStory | None:
        if not ref:
            return None
        return LineStory(label, ref, self.sources.text(ref))

    def _lines(self, config: BusinessCenterConfig, row: AccessRow) -> list[LineStory]:
        out: list[LineStory | None] = []
        if row.status is Status.ADMIN_ROLE:
            member = config.desired.members.get(row.principal)
            story = self._story("admin role reaches every asset", member.source if member else None)
            return [story] if story else []
        if row.asset_type == BC_ASSET or row.kind is Kind.PARTNER:
            label = "member line" if row.kind is Kind.MEMBER else "partner line"
            out += [self._story(label, s) for s in row.sources]
            return [s for s in out if s]
        key = (AssetKey(AssetType(row.asset_type), row.asset_id), row.principal)
        grant = config.desired.grants.get(key)
        for source in grant.sources if grant else ():
            found = _GROUP.match(source)
            if found is None:
                out.append(self._story("grant line", source))
            else:
                out += self._group_lines(config, row, found["name"], found["via"])
        return [s for s in out if s]

    def _group_lines(
        self, config: BusinessCenterConfig, row: AccessRow, group: str, via: str | None
    ) -> list[LineStory | None]:
        doc = self.sources.doc(config.path)
        alias = config.asset_aliases.get(AssetKey(AssetType(row.asset_type), row.asset_id))
        joined = via or group
        member_key = _member_key(doc, row.principal) if doc else None
        out = [
            self._story(
                f"group {group} grants it",
                _ref(doc, ("groups", group, "access", row.asset_type, alias or "")),
            )
        ]
        if via:
            out.append(self._story(f"group {via} includes {group}", _ref(doc, ("groups", via))))
        member = config.desired.members.get(row.principal)
        ref = _ref(doc, ("members", member_key, "groups")) if member_key else None
        fallback = member.source if member else None
        out.append(self._story(f"member joins group {joined}", ref or fallback))
        return out


def _member_key(doc: Document, email: str) -> str | None:
    members = doc.data.get("members") if isinstance(doc.data, dict) else None
    if not isinstance(members, dict):
        return None
    return next((k for k in members if isinstance(k, str) and k.lower() == email), None)


def _ref(doc: Document | None, path: tuple[str, ...]) -> str | None:
    if doc is None:
        return None
    mark = doc.locate(path, key=True)
    return f"{doc.file}:{mark[0]}" if mark else None


def _expired(config: BusinessCenterConfig, who: str, asset: str | None) -> list[ExpiredEntry]:
    name = config.name or config.bc_id
    out = []
    for key, when in config.expired.items():
        if key == who and asset is None:
            out.append(ExpiredEntry(name, f"membership of {name}", when))
        elif isinstance(key, tuple) and len(key) == 2 and key[1] == who:
            alias = config.asset_aliases.get(key[0], key[0].id)
            if asset is None or asset.lower() in (alias.lower(), key[0].id, str(key[0])):
                out.append(ExpiredEntry(name, f"{key[0].type.value} {alias}", when))
    return out
