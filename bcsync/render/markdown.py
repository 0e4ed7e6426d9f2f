"""The pull-request comment view of plans: summary first, one folded table per kind.

GitHub refuses comments over 65,536 characters, so beyond `limit` the comment falls back to
counts per kind and points at `bcsync plan` for the full list; it never exceeds `limit`.
Cells are escaped: a `|` would split the table, `<` could open HTML, `*`/`_` would format, and
an `@name` at the start of a word would notify somebody.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence

from bcsync.core.change import Action, Change, Kind
from bcsync.core.plan import Plan, checksum_of
from bcsync.loop.review import marker_of
from bcsync.render import total_summary
from bcsync.render.text import (
    INCOMING_TITLE,
    config_words,
    describe,
    incoming_sentence,
    printable,
    takes_away_words,
    unchanged_sentence,
)

GITHUB_COMMENT_LIMIT = 65536
# A removal lists this many of the grants or shares it takes away, and counts the rest.
TAKES_AWAY_SHOWN = 12
TITLE = "## bcsync plan"
# A CI step finds its earlier comment by this marker and updates it instead of adding another.
MARKER = "<!-- bcsync-plan -->"
LEGEND = "_+ add · ~ change · - remove · no-op: waiting or explained, not changed now_"

KIND_TITLES: Mapping[Kind, str] = {
    Kind.MEMBER: "Members",
    Kind.GRANT: "Grants",
    Kind.PARTNER: "Partners",
    Kind.SHARE: "Partner shares",
}
ACTION_LABELS: Mapping[Action, str] = {
    Action.CREATE: "+ add",
    Action.UPDATE: "~ change",
    Action.DELETE: "- remove",
    Action.NOOP: "no-op",
}
COUNT_WORDS: Mapping[Action, str] = {
    Action.CREATE: "to add",
    Action.UPDATE: "to change",
    Action.DELETE: "to remove",
    Action.NOOP: "no-op",
}

_SPECIALS = re.compile(r"([\\`*_\[\]<>|~&])")
_MENTION = re.compile(r"(^|[^\w.+-])@")
_WHITESPACE = re.compile(r"\s+")


def render(
    plans: Sequence[Plan], *, limit: int = GITHUB_COMMENT_LIMIT, head_commit: str | None = None
) -> str:
    """The plans as a Markdown comment of at most `limit` characters.

    Its second line is the reviewed-plan marker (`bcsync.loop.review`), naming `head_commit`.
    """
    full = _full(plans, head_commit)
    if len(full) <= limit:
        return full
    # Summarise; with a great many BCs list fewer of them until the comment fits.
    shown = len(plans)
    while True:
        text = _summarised(plans, shown, head_commit)
        if len(text) <= limit or shown == 0:
            break
        shown //= 2
    return text if len(text) <= limit else text[:limit]


def escape(text: str) -> str:
    """Text safe inside a table cell or heading: one line, specials escaped, no mentions.

    Control and format characters (an escape sequence, a right-to-left override) are shown
    escaped, as in the text view: a name read from the API must not drive a terminal or
    reorder what a reviewer reads.
    """
    text = printable(_WHITESPACE.sub(" ", text).strip())
    text = _SPECIALS.sub(r"\\\1", text)
    # A zero-width space after "@" keeps GitHub from notifying a user or team.
    return _MENTION.sub("\\1@\u200b", text)


def _bc_label(plan: Plan) -> str:
    name = escape(plan.bc_name) if plan.bc_name else "(unnamed)"
    return f"{name} ({escape(plan.bc_id)})"


def _summary_table(plans: Sequence[Plan]) -> str:
    lines = [
        "| Business Center | add | change | remove | waiting |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for plan in plans:
        s = plan.summary
        lines.append(f"| {_bc_label(plan)} | {s.add} | {s.change} | {s.remove} | {s.waiting} |")
    if len(plans) > 1:
        t = total_summary(plans)
        lines.append(f"| **Total** | {t.add} | {t.change} | {t.remove} | {t.waiting} |")
    return "\n".join(lines)


def _head(plans: Sequence[Plan], head_commit: str | None) -> list[str]:
    """Markers, title, verdict first: a refused plan must not read like a clean one."""
    total = total_summary(plans)
    head = [MARKER + "\n" + marker_of(plans, head_commit).line() + "\n" + TITLE]
    refused = [(p, r) for p in plans for r in p.refusals]
    if refused:
        lines = [
            "> [!CAUTION]",
            "> **Refused by the safety guards: apply will not run this plan.**",
        ]
        lines += [f"> - {_bc_label(p)}: {escape(r.sentence())}" for p, r in refused]
        head.append("\n".join(lines))
    # `plan --changed`: a scoped plan says so up front.
    notes = [f"> - {_bc_label(p)}: {escape(p.scope.sentence())}" for p in plans if p.scope]
    if notes:
        title = "> **Scoped plan: only what changed was read.**"
        head.append("\n".join(["> [!NOTE]", title, *notes]))
    head.append(f"**{total.sentence()}**")
    head.append(f"Checksum: `{checksum_of(plans)}`")
    if any(plan.changes for plan in plans):
        head.append(LEGEND)
    return head


def _full(plans: Sequence[Plan], head_commit: str | None) -> str:
    blocks = [*_head(plans, head_commit), _summary_table(plans)]
    for plan in plans:
        blocks.append(f"### {_bc_label(plan)}")
        if plan.config_path:
            blocks.append(f"Config: {escape(plan.config_path)}")
        blocks.append(plan.summary.sentence())
        unchanged = unchanged_sentence(plan)
        if unchanged:
            blocks.append(escape(unchanged))
        for kind in Kind:
            changes = [c for c in plan.changes if c.kind is kind]
            if changes:
                blocks.append(_kind_block(kind, changes))
        blocks += _notes(plan)
    return "\n\n".join(blocks) + "\n"


def _counts(changes: Sequence[Change]) -> str:
    counts = Counter(c.action for c in changes)
    return ", ".join(f"{counts[a]} {COUNT_WORDS[a]}" for a in Action if counts[a])


def _kind_block(kind: Kind, changes: Sequence[Change]) -> str:
    lines = [
        f"<details><summary>{KIND_TITLES[kind]}: {_counts(changes)}</summary>",
        "",
        "| | entry | before | after | reason |",
        "| --- | --- | --- | --- | --- |",
    ]
    for c in changes:
        cells = (
            ACTION_LABELS[c.action],
            escape(c.title or c.key),
            escape(describe(c.kind, c.before)),
            escape(describe(c.kind, c.after)),
            escape("; ".join(w for w in (c.reason, config_words(c), _takes(c)) if w)),
        )
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join([*lines, "", "</details>"])


def _takes(change: Change) -> str:
    return takes_away_words(change, TAKES_AWAY_SHOWN)


def _taken_sentence(plans: Sequence[Plan]) -> str | None:
    """For the summarised comment: how much access the removals take away with them."""
    removals = [c for p in plans for c in p.changes if c.takes_away]
    if not removals:
        return None
    held = sum(len(c.takes_away) for c in removals)
    return (
        f"**{len(removals)} removal(s) of members or partners take away {held} grant(s) or "
        "share(s) with them**; run `bcsync plan` for the list."
    )


def _notes(plan: Plan) -> list[str]:
    lines = [f"- **Warning:** {escape(w)}" for w in plan.warnings]
    if plan.unmanaged_assets:
        n = plan.unmanaged_assets
        noun = "asset" if n == 1 else "assets"
        lines.append(f"- unmanaged: {n} {noun} (not declared in config; left alone)")
    if plan.incoming_assets:
        lines.append(f"- {incoming_sentence(plan.incoming_assets)}")
    if plan.incoming:
        lines.append(f"- **{INCOMING_TITLE}:**")
        lines += [f"  - {escape(d.sentence())}" for d in plan.incoming]
    return ["\n".join(lines)] if lines else []


def _summarised(plans: Sequence[Plan], shown: int, head_commit: str | None) -> str:
    blocks = [*_head(plans, head_commit), _summary_table(plans[:shown])]
    if shown < len(plans):
        blocks.append(f"{len(plans) - shown} more Business Centers not shown.")
    lines = [
        "### Changes by kind",
        "",
        "| Business Center | kind | add | change | remove | no-op |",
        "| --- | --- | ---: | ---: | ---: | ---: |",
    ]
    for plan in plans[:shown]:
        for kind in Kind:
            counts = Counter(c.action for c in plan.changes if c.kind is kind)
            if counts:
                numbers = " | ".join(str(counts[a]) for a in Action)
                lines.append(f"| {_bc_label(plan)} | {KIND_TITLES[kind].lower()} | {numbers} |")
    blocks.append("\n".join(lines))
    taken = _taken_sentence(plans)
    if taken:
        blocks.append(taken)
    hidden = sum(len(plan.changes) for plan in plans)
    blocks.append(f"{hidden} more changes not shown; run `bcsync plan` for the full list.")
    return "\n\n".join(blocks) + "\n"
