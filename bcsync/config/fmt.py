"""`bcsync fmt`: rewrite a config file's text into the canonical shape, keeping every comment.

No I/O: text in, text out. Why not a YAML library's round trip: pyyaml drops comments, and
ruamel.yaml's round trip re-wraps lines and re-indents, and reordering its maps leaves a comment
behind with the key above it. This works on the text itself, with pyyaml's node positions:
- a block mapping's items are runs of lines (a key, its value, and the comment lines just above
  the key at its indentation or less), sorted by `canonical.ordered`; the file's opening comments
  stay on top; top-level sections are separated by one blank line, nested items by none;
- one-line flow collections (`{ role: admin, groups: [a, b] }`) are rewritten canonically;
- one-line strings are re-quoted by `canonical.quote`; numbers, dates, booleans, block scalars,
  tags and multi-line scalars are left as written.
The result is checked before it is returned: the same data and the same comments, else
`FormatError` and the file is left alone. Files with anchors or aliases are left alone too.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from bcsync.config.canonical import ordered, quote

_STR = "tag:yaml.org,2002:str"


class FormatError(Exception):
    """The text cannot be put in canonical shape safely; it is left as it was."""


@dataclass(frozen=True, order=True)
class _Edit:
    """Replace columns [start, end) of one line."""

    line: int
    start: int
    end: int
    text: str


def format_text(text: str) -> str:
    """The canonical text of a config file (idempotent; the data and comments are unchanged)."""
    source = text.replace("\r\n", "\n")
    root = _compose(source)
    if not isinstance(root, MappingNode) or root.flow_style:
        raise FormatError("expected a block mapping at the top level")
    lines = source.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    edits: list[_Edit] = []
    _collect(root, (), lines, edits)
    rewritten = _apply(lines, edits)
    result = "\n".join(_emit(root, (), rewritten, 0, len(rewritten))) + "\n"
    _verify(source, result)
    return result


def _compose(text: str) -> Node | None:
    try:
        events = list(yaml.parse(text, Loader=yaml.SafeLoader))
        if any(getattr(e, "anchor", None) for e in events):
            raise FormatError("uses YAML anchors or aliases; fmt leaves such files as written")
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        raise FormatError(f"invalid YAML: {exc}") from None


# --- scalar and flow rewrites (columns on one line; lines never move here) --------------------


def _collect(node: Node, path: tuple[str, ...], lines: Sequence[str], edits: list[_Edit]) -> None:
    """Edits for every rewritable scalar and one-line flow collection under `node`."""
    if isinstance(node, ScalarNode):
        canonical = _scalar(node, lines)
        if canonical is not None:
            start, end = node.start_mark, node.end_mark
            edits.append(_Edit(start.line, start.column, end.column, canonical))
        return
    if _one_line_flow(node):
        flow = _flow(node, path, lines)
        if flow is not None:
            start, end = node.start_mark, node.end_mark
            edits.append(_Edit(start.line, start.column, end.column, flow))
            return
    if isinstance(node, MappingNode):
        for key, value in node.value:
            _collect(key, path, lines, edits)
            _collect(value, (*path, _key(key)), lines, edits)
    elif isinstance(node, SequenceNode):
        for item in node.value:
            _collect(item, (*path, "*"), lines, edits)


def _source(node: Node, lines: Sequence[str]) -> str:
    start, end = node.start_mark, node.end_mark
    return lines[start.line][start.column : end.column]


def _scalar(node: ScalarNode, lines: Sequence[str]) -> str | None:
    """The canonical text of a one-line string scalar; None to leave it as written."""
    if node.start_mark.line != node.end_mark.line or node.style not in (None, "'", '"'):
        return None
    written = _source(node, lines)
    if node.tag != _STR or written[:1] in ("!", "&", "*"):
        return None  # numbers, dates, booleans, explicit tags stay as written
    canonical = quote(node.value)
    return canonical if canonical != written else None


def _one_line_flow(node: Node) -> bool:
    return (
        isinstance(node, MappingNode | SequenceNode)
        and bool(node.flow_style)
        and node.start_mark.line == node.end_mark.line
    )


def _flow(node: Node, path: tuple[str, ...], lines: Sequence[str]) -> str | None:
    """A one-line flow collection in canonical form; None if it holds something to keep as is."""
    if isinstance(node, ScalarNode):
        if node.style not in (None, "'", '"'):
            return None
        return _scalar(node, lines) or _source(node, lines)
    if isinstance(node, SequenceNode):
        items = [_flow(item, (*path, "*"), lines) for item in node.value]
        if any(i is None for i in items):
            return None
        return "[" + ", ".join(i for i in items if i is not None) + "]"
    if isinstance(node, MappingNode):
        pairs: dict[str, str] = {}
        for key, value in node.value:
            if not isinstance(key, ScalarNode):
                return None
            key_text = _flow(key, path, lines)
            value_text = _flow(value, (*path, _key(key)), lines)
            if key_text is None or value_text is None:
                return None
            pairs[_key(key)] = f"{key_text}: {value_text}"
        if not pairs:
            return "{}"
        return "{ " + ", ".join(pairs[k] for k in ordered(path, list(pairs))) + " }"
    return None


def _key(node: Node) -> str:
    return str(node.value) if isinstance(node, ScalarNode) else "?"


def _apply(lines: Sequence[str], edits: list[_Edit]) -> list[str]:
    out = list(lines)
    # Right to left within a line, so earlier columns stay valid.
    for edit in sorted(set(edits), reverse=True):
        line = out[edit.line]
        out[edit.line] = line[: edit.start] + edit.text + line[edit.end :]
    return out


# --- block mappings: reorder runs of lines -------------------------------------------------


def _emit(
    node: MappingNode, path: tuple[str, ...], lines: list[str], lo: int, hi: int
) -> list[str]:
    """Lines [lo, hi) holding `node`'s items, with the items in canonical order."""
    items = node.value
    floors = [lo] + [key.start_mark.line + 1 for key, _ in items[:-1]]
    starts = [_item_start(lines, key, floor) for (key, _), floor in zip(items, floors, strict=True)]
    if not path and starts:
        starts[0] = items[0][0].start_mark.line  # the file's opening comments stay on top
    header = lines[lo : starts[0]] if items else lines[lo:hi]
    blocks: dict[str, list[str]] = {}
    for i, (key, value) in enumerate(items):
        end = starts[i + 1] if i + 1 < len(items) else hi
        blocks[_key(key)] = _item(key, value, path, lines, starts[i], end)
    out = list(header)
    for n, name in enumerate(ordered(path, [_key(k) for k, _ in items])):
        if n and not path:
            out.append("")  # top-level sections: one blank line apart
        out.extend(blocks[name])
    return out


def _item(
    key: Node, value: Node, path: tuple[str, ...], lines: list[str], start: int, end: int
) -> list[str]:
    """One item's lines: its comments, key and value (a nested block mapping reordered too)."""
    while end > start and not lines[end - 1].strip():
        end -= 1  # blank lines between items are the emitter's to place
    key_line = key.start_mark.line
    block = isinstance(value, MappingNode) and not value.flow_style and value.value
    if block and value.start_mark.line > key_line:
        assert isinstance(value, MappingNode)
        nested = _emit(value, (*path, _key(key)), lines, key_line + 1, end)
        return lines[start : key_line + 1] + nested
    return lines[start:end]


def _item_start(lines: Sequence[str], key: Node, floor: int) -> int:
    """The first line of an item: its key, or the comment lines right above it (not deeper)."""
    line, column = key.start_mark.line, key.start_mark.column
    while line > floor and _is_comment(lines[line - 1], column):
        line -= 1
    return line


def _is_comment(line: str, column: int) -> bool:
    stripped = line.lstrip(" ")
    return stripped.startswith("#") and len(line) - len(stripped) <= column


# --- the safety net ----------------------------------------------------------------------------


def _verify(before: str, after: str) -> None:
    """The same data and the same comments, or FormatError (a bug: the file is left alone)."""
    if _data(before) != _data(after):
        raise FormatError("formatting would change the data (a bug in bcsync fmt); left as is")
    if _comments(before) != _comments(after):
        raise FormatError("formatting would lose a comment (a bug in bcsync fmt); left as is")


class _DataLoader(yaml.SafeLoader):
    """pyyaml's safe loader, with dates compared as the text they are written as.

    A timestamp pyyaml cannot build (`2026-01-01T25:00:00Z`) must not stop fmt: fmt leaves
    dates as written, and `validate` reports the impossible date with its line.
    """


def _timestamp_text(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> tuple[str, str]:
    return ("timestamp", str(loader.construct_scalar(node)))


_DataLoader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp_text)


def _data(text: str) -> Any:
    try:
        return yaml.load(text, Loader=_DataLoader)
    except yaml.YAMLError as exc:
        raise FormatError(f"formatting would break the YAML ({exc}); left as is") from None
    except (ValueError, TypeError, OverflowError) as exc:  # a value YAML cannot build
        raise FormatError(f"a value YAML cannot read ({exc}); left as is") from None


def _comments(text: str) -> Counter[str]:
    """Comment texts: whole-line comments, and what follows ' #' on other lines."""
    found: Counter[str] = Counter()
    for line in text.split("\n"):
        stripped = line.strip()
        if stripped.startswith("#"):
            found[stripped] += 1
        elif " #" in line:
            found[line[line.index(" #") :].strip()] += 1
    return found
