"""Reading a seed file as hostile input: a bounded regular file, strict UTF-8, bounded YAML.

A seed is read like a config (every file is hostile until checked): a FIFO or a link to /dev/zero
is refused before it is opened, the size is capped, and UTF-8 errors are located. The YAML is built
from libyaml's parse events by an iterative loop (pyyaml's recursive composer crashes the process
on a few hundred thousand nested brackets), with caps on depth, alias expansion ("billion laughs")
and number length, duplicate keys refused, and plain data only. Positions are not recorded while
loading: `locate` re-reads the events for the few paths an error names (at TikTok's limits, the
second full pass for line numbers cost as much as the load).
"""

from __future__ import annotations

import math
import os
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import ScalarNode
from yaml.resolver import Resolver

from .errors import EmulatorError, SeedError

MAX_BYTES = 64 * 1024 * 1024  # a seed at TikTok's limits is about 12 MB
MAX_DEPTH = 64  # a seed nests 7 deep
MAX_ALIAS_NODES = 100_000  # values that aliases may add beyond those written out
MAX_DIGITS = 40  # an integer's length; ids are strings of 19 digits

PathT = tuple[str | int, ...]
_Parser: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_TAG = "tag:yaml.org,2002:"
_STR, _INT, _FLOAT, _MERGE = _TAG + "str", _TAG + "int", _TAG + "float", _TAG + "merge"
_SCALARS = {_TAG + t for t in ("null", "bool", "int", "float", "str", "timestamp")}
_COLLECTIONS = {None, "!", _TAG + "map", _TAG + "seq"}
_resolver = Resolver()
_constructor = SafeConstructor()


def read_text(path: Path) -> str:
    """The file's text; SeedError for anything but a regular, small, UTF-8 file."""
    source = str(path)
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise EmulatorError(f"seed file not found: {path}") from None
    except OSError as exc:
        raise EmulatorError(f"cannot read seed file {path}: {exc.strerror}") from None
    if not stat.S_ISREG(info.st_mode):
        raise SeedError(source, [f"{path}: not a regular file; a seed is a YAML file"])
    raw = _read_capped(path)
    if len(raw) > MAX_BYTES:
        problem = f"{path}: larger than {MAX_BYTES:,} bytes; a seed holds one world"
        raise SeedError(source, [problem])
    return _decode(raw, source)


def _read_capped(path: Path) -> bytes:
    # O_NONBLOCK: should the file have been swapped for a FIFO since stat, open does not wait.
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise EmulatorError(f"cannot read seed file {path}: {exc.strerror}") from None
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise SeedError(str(path), [f"{path}: not a regular file; a seed is a YAML file"])
        return fh.read(MAX_BYTES + 1)


def _decode(raw: bytes, source: str) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        start = exc.start - 3 if raw.startswith(b"\xef\xbb\xbf") else exc.start
        body = raw[3:] if raw.startswith(b"\xef\xbb\xbf") else raw
        line = body.count(b"\n", 0, start) + 1
        col = start - (body.rfind(b"\n", 0, start) + 1) + 1
        byte = body[start : start + 1].hex()
        raise SeedError(
            source, [f"{source}:{line}:{col}: not UTF-8 (byte 0x{byte}); save the seed as UTF-8"]
        ) from None


# --- YAML --------------------------------------------------------------------------------------


class _Failed(Exception):
    """A YAML problem at an event's position."""

    def __init__(self, mark: Any, message: str) -> None:
        super().__init__(message)
        self.mark = mark
        self.message = message


@dataclass
class _Frame:
    """An open mapping or sequence."""

    value: dict[Any, Any] | list[Any]
    anchor: str | None
    size: int = 1
    key: Any = None
    has_key: bool = False
    merges: list[tuple[Any, Any]] = field(default_factory=list)


class _Builder:
    """Plain data from parse events, iteratively, within the caps."""

    def __init__(self) -> None:
        self.stack: list[_Frame] = []
        self.anchors: dict[str, tuple[Any, int]] = {}
        self.open_anchors: set[str] = set()
        self.alias_nodes = 0
        self.documents = 0
        self.root: Any = None

    def run(self, events: Iterable[Any]) -> Any:
        for event in events:
            kind = type(event)
            if kind is yaml.ScalarEvent:
                self.add(self.scalar(event), 1, event)
            elif kind is yaml.MappingStartEvent or kind is yaml.SequenceStartEvent:
                self.start(event, {} if kind is yaml.MappingStartEvent else [])
            elif kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
                self.end(event)
            elif kind is yaml.AliasEvent:
                self.alias(event)
            elif kind is yaml.DocumentStartEvent:
                self.documents += 1
                if self.documents > 1:
                    raise _Failed(event.start_mark, "more than one YAML document; a seed is one")
        return self.root

    def scalar(self, event: Any) -> Any:
        tag = event.tag
        if tag is None or tag == "!":
            plain = event.implicit[0]  # quoted text is never typed implicitly
            tag = _resolver.resolve(ScalarNode, event.value, event.implicit) if plain else _STR
        if tag == _STR:
            # Only a "\ud800" escape in double quotes can make text that UTF-8 (and SQLite) refuse.
            if event.style == '"' and not _is_utf8(event.value):
                raise _Failed(event.start_mark, "not valid Unicode text (a lone surrogate escape)")
            return event.value
        if tag == _MERGE:
            return _MERGE_KEY
        if tag not in _SCALARS:
            raise _Failed(event.start_mark, f"tag {tag} is not allowed in a seed (plain data only)")
        if tag == _INT and len(event.value) > MAX_DIGITS:
            raise _Failed(
                event.start_mark, f"a number of more than {MAX_DIGITS} digits; quote ids as text"
            )
        try:
            value = _constructor.construct_object(ScalarNode(tag, event.value))
        except (ValueError, yaml.YAMLError):
            raise _Failed(event.start_mark, f"not a valid {tag.rsplit(':', 1)[-1]}") from None
        if tag == _FLOAT and not math.isfinite(value):
            raise _Failed(event.start_mark, "not a finite number")
        if event.anchor:
            self.anchors[event.anchor] = (value, 1)
        return value

    def start(self, event: Any, value: dict[Any, Any] | list[Any]) -> None:
        if event.tag not in _COLLECTIONS:
            raise _Failed(event.start_mark, f"tag {event.tag} is not allowed in a seed")
        if len(self.stack) >= MAX_DEPTH:
            raise _Failed(event.start_mark, f"nested more than {MAX_DEPTH} levels deep")
        if event.anchor:
            self.open_anchors.add(event.anchor)
        self.stack.append(_Frame(value, event.anchor))

    def end(self, event: Any) -> None:
        frame = self.stack.pop()
        if isinstance(frame.value, dict):
            for merged, mark in frame.merges:
                self.merge(frame.value, merged, mark)
        if frame.anchor:
            self.open_anchors.discard(frame.anchor)
            self.anchors[frame.anchor] = (frame.value, frame.size)
        self.add(frame.value, frame.size, event)

    def alias(self, event: Any) -> None:
        if event.anchor in self.open_anchors:
            raise _Failed(event.start_mark, f"alias *{event.anchor} refers to itself")
        if event.anchor not in self.anchors:
            raise _Failed(event.start_mark, f"undefined alias *{event.anchor}")
        value, size = self.anchors[event.anchor]
        self.alias_nodes += size
        if self.alias_nodes > MAX_ALIAS_NODES:
            raise _Failed(
                event.start_mark,
                f"aliases expand to more than {MAX_ALIAS_NODES:,} values; write the data out",
            )
        self.add(value, size, event)

    def add(self, value: Any, size: int, event: Any) -> None:
        if not self.stack:
            self.root = value
            return
        top = self.stack[-1]
        top.size += size
        if isinstance(top.value, list):
            top.value.append(value)
        elif not top.has_key:
            if isinstance(value, dict | list):
                raise _Failed(event.start_mark, "a key must be plain text, not a collection")
            if value is not _MERGE_KEY and value in top.value:
                raise _Failed(event.start_mark, f"duplicate key {_short(value)}")
            top.key, top.has_key = value, True
        else:
            if top.key is _MERGE_KEY:
                top.merges.append((value, event.start_mark))
            else:
                top.value[top.key] = value
            top.has_key = False

    def merge(self, target: dict[Any, Any], merged: Any, mark: Any) -> None:
        """`<<: *defaults` (or a list of them): keys written out win over merged ones."""
        sources = merged if isinstance(merged, list) else [merged]
        for source in sources:
            if not isinstance(source, dict):
                raise _Failed(mark, "a merge (<<) takes a mapping or a list of mappings")
            for key, value in source.items():
                target.setdefault(key, value)


class _MergeKey:
    """The `<<` key, kept apart from any text key."""


_MERGE_KEY = _MergeKey()


def _is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def parse(text: str, source: str) -> Any:
    """The YAML document's data; SeedError with FILE:LINE:COL on any problem."""
    builder = _Builder()
    try:
        return builder.run(yaml.parse(text, Loader=_Parser))
    except _Failed as exc:
        raise SeedError(source, [f"{_where(source, exc.mark)}: {exc.message}"]) from None
    except yaml.MarkedYAMLError as exc:
        where = _where(source, exc.problem_mark)
        problem = exc.problem or ""
        if "maximum nesting depth" in problem:  # LibYAML >= 0.2.6 (pyyaml 6.0.4) stops first
            problem = f"nested more than {MAX_DEPTH} levels deep"
        else:
            problem = f"invalid YAML: {problem}"
        raise SeedError(source, [f"{where}: {problem}"]) from None
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        col = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        problem = f"{source}:{line}:{col}: {exc.reason} (character #x{exc.character:04x})"
        raise SeedError(source, [problem]) from None
    except yaml.YAMLError as exc:
        raise SeedError(source, [f"{source}: invalid YAML: {_short(str(exc))}"]) from None


def _where(source: str, mark: Any) -> str:
    return f"{source}:{mark.line + 1}:{mark.column + 1}" if mark is not None else source


def locate(text: str, paths: Iterable[PathT]) -> dict[PathT, tuple[int, int]]:
    """(line, column) of the deepest node on each path: a second pass, only when errors exist."""
    wanted = {p[:n] for p in paths for n in range(len(p) + 1)}
    found: dict[PathT, tuple[int, int]] = {}
    for path, mark in _node_marks(text):
        if path in wanted:
            found[path] = (mark.line + 1, mark.column + 1)
    result = {}
    for p in paths:
        for n in range(len(p), -1, -1):
            if p[:n] in found:
                result[p] = found[p[:n]]
                break
    return result


def _node_marks(text: str) -> Iterator[tuple[PathT, Any]]:
    """(path, start mark) of every node, walking the events (aliases are not followed)."""
    stack: list[list[Any]] = []  # [path, is_mapping, next index or pending key, expecting key]
    for event in yaml.parse(text, Loader=_Parser):
        kind = type(event)
        if kind in (yaml.MappingEndEvent, yaml.SequenceEndEvent):
            stack.pop()
            _advance(stack)
            continue
        if kind not in (
            yaml.ScalarEvent,
            yaml.AliasEvent,
            yaml.MappingStartEvent,
            yaml.SequenceStartEvent,
        ):
            continue
        if stack and stack[-1][1] and stack[-1][3]:  # a mapping key (parse refused non-text keys)
            stack[-1][2], stack[-1][3] = getattr(event, "value", None), False
            continue
        path = (*stack[-1][0], stack[-1][2]) if stack else ()
        yield path, event.start_mark
        if kind is yaml.MappingStartEvent:
            stack.append([path, True, None, True])
        elif kind is yaml.SequenceStartEvent:
            stack.append([path, False, 0, False])
        else:
            _advance(stack)


def _advance(stack: list[list[Any]]) -> None:
    """After a value: the next sequence index, or a mapping expecting its next key."""
    if not stack:
        return
    if stack[-1][1]:
        stack[-1][3] = True
    else:
        stack[-1][2] += 1
