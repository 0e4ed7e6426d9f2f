"""Views of effective access changes (`history`, `diff`): text, Markdown, JSON, CSV. Pure.

One sentence per change, the same words in every view: `+` gained, `-` lost, `~` changed.
Markdown stays under GitHub's comment limit by listing fewer rows and saying how many it left
out; every cell is escaped (render.markdown.escape), and CSV cells cannot start a formula.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from bcsync.auditor.access_diff import AccessChange, Kind, summary
from bcsync.render.csvtext import csv_text
from bcsync.render.markdown import GITHUB_COMMENT_LIMIT, escape
from bcsync.render.text import terminal_text

if TYPE_CHECKING:
    from bcsync.auditor.revisions import Commit, CommitAccess, RevisionDiff

FORMAT_VERSION = 1
MARKS: Mapping[str, str] = {"gained": "+", "lost": "-", "changed": "~"}
CSV_HEADER = (
    "commit", "date", "author", "email", "bc_id", "bc_name", "direction", "effect", "kind",
    "subject", "asset_type", "asset_id", "asset_alias", "before", "after", "via", "expires",
    "reason", "note",
)  # fmt: skip


# --- one change ----------------------------------------------------------------------------


def what(change: AccessChange) -> str:
    """The access itself: `operator on ad_accounts.acme-us (was analyst)`, `admin`, `partner`."""
    role = change.after if change.after is not None else change.before
    text = str(role)
    if change.kind in (Kind.GRANT, Kind.SHARE):
        text += f" on {change.asset_label}"
    if change.before is not None and change.after is not None:
        text += f" (was {change.before})"
    elif change.after is None and change.kind is not Kind.PARTNER:
        text += " (removed)"
    return text


def via(change: AccessChange) -> str:
    """Where the access comes from (or came from, when lost), and until when."""
    parts = list(change.sources)
    if change.expires:
        parts.append(f"expires {change.expires.isoformat()}")
    if change.reason:
        parts.append(f"reason: {change.reason}")
    return "; ".join(parts)


def sentence(change: AccessChange) -> str:
    """`+ bob@acme.com gained operator on ad_accounts.acme-us (was analyst) [group buyers]`."""
    direction = change.effect.direction
    text = f"{MARKS[direction]} {change.subject_label} {direction} {what(change)}"
    how = via(change)
    return f"{text} [{how}]" if how else text


def counts_text(changes: Iterable[AccessChange]) -> str:
    c = summary(changes)
    return f"{c['gained']} gained, {c['lost']} lost, {c['changed']} changed"


def _by_bc(changes: Sequence[AccessChange]) -> dict[str, list[AccessChange]]:
    groups: dict[str, list[AccessChange]] = {}
    for change in changes:
        groups.setdefault(change.bc_id, []).append(change)
    return groups


def _bc_title(changes: Sequence[AccessChange]) -> str:
    first = changes[0]
    return f"{first.bc_name} ({first.bc_id})" if first.bc_name else first.bc_id


def commit_json(commit: Commit) -> dict[str, Any]:
    return {
        "sha": commit.sha,
        "author": commit.author,
        "email": commit.email,
        "authored": commit.authored.isoformat(),
        "date": commit.committed.isoformat(),
        "subject": commit.subject,
    }


# --- history -------------------------------------------------------------------------------


def _commit_line(entry: CommitAccess) -> str:
    c = entry.commit
    return f"{c.short} {c.committed:%Y-%m-%d %H:%M} {c.author} <{c.email}>: {c.subject}"


def history_text(entries: Sequence[CommitAccess]) -> str:
    if not entries:
        return "No commits touched the configs (in the range and filters given).\n"
    out = []
    for entry in entries:
        out.append(_commit_line(entry))
        if entry.invalid:
            first = entry.problems[0].format()
            out.append(f"  config invalid here ({len(entry.problems)} error(s)), skipped: {first}")
        elif not entry.changes:
            out.append("  no change in effective access")
        for bc_changes in _by_bc(entry.changes).values():
            out.append(f"  {_bc_title(bc_changes)}:")
            out.extend(f"    {sentence(c)}" for c in bc_changes)
        out.append("")
    return terminal_text("\n".join(out))


def history_markdown(entries: Sequence[CommitAccess], limit: int = GITHUB_COMMENT_LIMIT) -> str:
    out = ["## bcsync history: effective access by commit", ""]
    if not entries:
        out.append("No commits touched the configs (in the range and filters given).")
    for entry in entries:
        c = entry.commit
        out.append(
            f"### `{c.short}` {c.committed:%Y-%m-%d} {escape(c.author)}: {escape(c.subject)}"
        )
        if entry.invalid:
            out.append(
                f"Config invalid at this commit; skipped: {escape(entry.problems[0].format())}"
            )
        elif not entry.changes:
            out.append("No change in effective access.")
        else:
            out.extend(_table(entry.changes))
        out.append("")
    return _fit("\n".join(out), limit)


def history_json(entries: Sequence[CommitAccess]) -> str:
    doc = {
        "format_version": FORMAT_VERSION,
        "kind": "bcsync.auditor.history",
        "commits": [
            {
                **commit_json(e.commit),
                "evaluated_on": e.evaluated_on.isoformat(),
                "invalid": e.invalid,
                "problems": [p.to_json() for p in e.problems],
                "summary": summary(e.changes),
                "changes": [c.to_json() for c in e.changes],
            }
            for e in entries
        ],
    }
    return json.dumps(doc, indent=2) + "\n"


def history_csv(entries: Sequence[CommitAccess]) -> str:
    rows: list[list[object]] = []
    for e in entries:
        c = e.commit
        head = [c.sha, c.committed.isoformat(), c.author, c.email]
        if e.invalid:
            note = f"config invalid, skipped: {e.problems[0].format()}"
            rows.append([*head, *[""] * (len(CSV_HEADER) - 5), note])
        rows.extend([*head, *_csv_change(ch)] for ch in e.changes)
    return csv_text(CSV_HEADER, rows)


def _csv_change(c: AccessChange) -> list[object]:
    a = c.asset
    return [
        c.bc_id, c.bc_name, c.effect.direction, c.effect.value, c.kind.value, c.subject,
        a.type.value if a else None, a.id if a else None, c.asset_alias, c.before, c.after,
        "; ".join(c.sources), c.expires.isoformat() if c.expires else None, c.reason, None,
    ]  # fmt: skip


# --- diff ----------------------------------------------------------------------------------


def _range(result: RevisionDiff) -> tuple[str, str]:
    base = f"{result.base.short} ({result.base_how}, {result.base.committed:%Y-%m-%d})"
    head = (
        f"{result.head.short} ({result.head.committed:%Y-%m-%d})" if result.head else "working tree"
    )
    return base, head


def diff_text(result: RevisionDiff) -> str:
    base, head = _range(result)
    out = [f"Effective access from {base} to {head}, as of {result.evaluated_on}:"]
    if not result.changes:
        out.append("  no change in effective access")
    for bc_changes in _by_bc(result.changes).values():
        out.append(f"  {_bc_title(bc_changes)}:")
        out.extend(f"    {sentence(c)}" for c in bc_changes)
    if result.changes:
        out.append(f"Summary: {counts_text(result.changes)}.")
    return terminal_text("\n".join(out) + "\n")


def diff_markdown(result: RevisionDiff, limit: int = GITHUB_COMMENT_LIMIT) -> str:
    base, head = _range(result)
    out = [
        "## bcsync diff: effective access",
        "",
        f"From {escape(base)} to {escape(head)}; expiry as of {result.evaluated_on}. "
        f"**{counts_text(result.changes)}.** Computed offline from the configs (no token).",
        "",
    ]
    if not result.changes:
        out.append("No change in effective access.")
    for bc_changes in _by_bc(result.changes).values():
        out += [f"### {escape(_bc_title(bc_changes))}", "", *_table(bc_changes), ""]
    return _fit("\n".join(out), limit)


def diff_json(result: RevisionDiff) -> str:
    doc = {
        "format_version": FORMAT_VERSION,
        "kind": "bcsync.core.diff",
        "base": {**commit_json(result.base), "how": result.base_how},
        "head": commit_json(result.head) if result.head else {"working_tree": True},
        "evaluated_on": result.evaluated_on.isoformat(),
        "summary": summary(result.changes),
        "changes": [c.to_json() for c in result.changes],
    }
    return json.dumps(doc, indent=2) + "\n"


# --- Markdown helpers ----------------------------------------------------------------------


def _table(changes: Sequence[AccessChange]) -> list[str]:
    rows = ["| | who | access | via |", "|---|---|---|---|"]
    for c in changes:
        mark = f"{MARKS[c.effect.direction]} {c.effect.direction}"
        cells = (mark, c.subject_label, what(c), via(c))
        rows.append("| " + " | ".join(escape(x) for x in cells) + " |")
    return rows


def _fit(text: str, limit: int) -> str:
    """At most `limit` characters: whole lines, then a note of how many were left out."""
    if len(text) <= limit:
        return text + ("" if text.endswith("\n") else "\n")
    lines = text.split("\n")
    note = "\n\n_… {} more line(s) left out to fit a comment; run the command locally for all._\n"
    kept, size = [], len(note) + 12
    for line in lines:
        if size + len(line) + 1 > limit:
            break
        kept.append(line)
        size += len(line) + 1
    return "\n".join(kept) + note.format(len(lines) - len(kept))
