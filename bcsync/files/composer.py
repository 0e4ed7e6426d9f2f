"""YAML parse events to plain data, with the line and column of every key and value.

One composer for every YAML file bcsync reads (configs and emulator seeds). Building from events
(instead of pyyaml's recursive composer and constructor) lets us reject duplicate keys, which
pyyaml silently resolves to the last one; keep keys as the text written (`on:` stays "on");
construct only plain scalars (never a Python object); survive any nesting depth (the loop is
iterative: pyyaml's recursive composer crashes the process on a few hundred thousand nested
brackets); and bound alias expansion ("billion laughs"). Dates stay the text written.

What differs between kinds of file is data (`Rules`): the caps, the tags allowed, and the
seed's extra refusals (long integers, non-finite numbers, text SQLite cannot store). Problems
are `Located` facts (line, column, path, message, hint); each caller words where they came from.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import ScalarNode
from yaml.resolver import Resolver

from bcsync.files.marks import DocPath, Mark, Marks, PathPart

# libyaml's parser when it is there (fast), pyyaml's pure-Python one otherwise.
PARSER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
MAX_DEPTH = 64
_TAG = "tag:yaml.org,2002:"
PLAIN_TAGS = frozenset(_TAG + t for t in ("null", "bool", "int", "float", "timestamp", "str"))
_resolver = Resolver()
# types-PyYAML leaves Resolver.resolve untyped; it returns the tag of a scalar.
_resolve: Callable[..., str] = _resolver.resolve
_constructor = SafeConstructor()
_IMPLICIT_FIRST = frozenset(Resolver.yaml_implicit_resolvers)


@dataclass(frozen=True, slots=True)
class Rules:
    """What one kind of file may hold."""

    max_depth: int = MAX_DEPTH
    # Nodes after expanding aliases (None: no cap); bounds "billion laughs" documents.
    max_nodes: int | None = 1_000_000
    # Values that aliases add beyond those written out (None: counted in max_nodes only).
    max_alias_values: int | None = None
    scalar_tags: frozenset[str] = PLAIN_TAGS | {_TAG + "binary"}
    # Integers longer than this are refused (None: any length).
    max_int_digits: int | None = None
    finite_floats: bool = False
    # Refuse text UTF-8 cannot encode (a "\ud800" escape): SQLite cannot store it.
    encodable_text: bool = False


@dataclass(frozen=True, slots=True)
class Located:
    """One problem at a position (1-based; None when the parser could not say where)."""

    line: int | None
    column: int | None
    path: DocPath
    message: str
    hint: str | None = None


class ComposeFailed(Exception):
    """Stops composing one document; carries every problem found, the fatal one last."""

    def __init__(self, *problems: Located) -> None:
        super().__init__(problems[-1].message if problems else "cannot compose")
        self.problems = list(problems)


@dataclass(slots=True)
class _Frame:
    """An open mapping or sequence while composing."""

    value: dict[str, Any] | list[Any]
    path: DocPath
    anchor: str | None
    # The Marks' own dicts for this node's children (values, and keys in a mapping).
    child_marks: dict[PathPart, Mark]
    child_key_marks: dict[PathPart, Mark]
    size: int = 1
    key: str | None = None  # pending key in a mapping (None: expecting a key)
    skip: bool = False  # the pending value belongs to a duplicate key: drop it
    merges: list[tuple[dict[str, Any], Mark]] = field(default_factory=list)
    merge_pending: Mark | None = None


class Composer:
    """Builds plain data from parse events, recording positions; iterative, so depth is safe."""

    def __init__(self, rules: Rules | None = None) -> None:
        self.rules = rules or Rules()
        self.node_limit = self.rules.max_nodes or math.inf
        self.alias_values = 0
        self.data: Any = None
        self.found_document = False
        self.marks = Marks()
        self.key_marks = Marks()
        self.problems: list[Located] = []
        self.stack: list[_Frame] = []
        self.anchors: dict[str, tuple[Any, int]] = {}
        self.open_anchors: set[str] = set()
        self.nodes = 0

    def fail(
        self, mark: Mark, path: DocPath, message: str, hint: str | None = None
    ) -> ComposeFailed:
        return ComposeFailed(Located(mark[0], mark[1], path, message, hint))

    def note(self, mark: Mark, path: DocPath, message: str, hint: str | None = None) -> None:
        """A problem that does not stop composing: every one is reported together."""
        self.problems.append(Located(mark[0], mark[1], path, message, hint))

    def run(self, events: Any) -> None:
        """Compose from an iterable of parse events."""
        for event in events:
            self.dispatch(event)

    def run_parser(self, parser: Any) -> None:
        """Compose straight from a pyyaml parser, inlining the common case (speed).

        A config at TikTok's limits is ~350,000 events, most of them plain keys, plain values
        and flow mappings inside a mapping; those are handled in this loop with a few dict
        operations (a function call per event costs a tenth of validate's time), everything
        else (lists, anchors, tags, merges, duplicates, values YAML would type) by `dispatch`.
        """
        get_event = parser.get_event
        stack, marks = self.stack, self.marks
        scalar_event, end_event = yaml.ScalarEvent, yaml.StreamEndEvent
        starts = (yaml.MappingStartEvent, yaml.SequenceStartEvent)
        ends = (yaml.MappingEndEvent, yaml.SequenceEndEvent)
        implicit_first = _IMPLICIT_FIRST
        node_limit = self.node_limit
        # Double-quoted text may hold an escape UTF-8 cannot encode: checked on the slow path.
        check_quoted = self.rules.encodable_text
        top: _Frame | None = None
        while True:
            event = get_event()
            kind = type(event)
            if top is not None and top.merge_pending is None:
                # Any: the frame's kind is known from is_map, which mypy cannot follow.
                container: Any = top.value
                is_map = type(container) is dict
                key = top.key
                if (
                    kind is scalar_event
                    and event.anchor is None
                    and not (check_quoted and event.style == '"')
                ):
                    text, start = event.value, event.start_mark
                    if is_map and key is None:
                        if text != "<<" and text not in container:
                            top.child_key_marks[text] = (start.line + 1, start.column + 1)
                            top.key = text
                            continue
                    elif event.tag is None and not top.skip:
                        first = text[:1]
                        # A string whatever it says (see _is_text), inlined.
                        if (
                            not event.implicit[0]
                            or first not in implicit_first
                            or (first.isalpha() and len(text) > 5)
                        ):
                            mark = (start.line + 1, start.column + 1)
                            self.nodes += 1
                            if self.nodes > node_limit:
                                self.count(0, mark, top.path)  # raises
                            if key is not None:
                                top.child_marks[key] = mark
                                container[key] = text
                                top.key = None
                            else:
                                top.child_marks[len(container)] = mark
                                container.append(text)
                            top.size += 1
                            continue
                elif kind in ends:
                    if not top.merges and top.anchor is None:
                        stack.pop()
                        if stack:
                            self.attach(container, marks[top.path], top.path, top.size, True)
                            top = stack[-1]
                        else:
                            self.data, top = container, None
                        continue
                elif (
                    kind in starts
                    and event.anchor is None
                    and event.tag is None
                    and (key is not None or not is_map)
                    and len(stack) < self.rules.max_depth
                ):
                    start = event.start_mark
                    part = len(container) if key is None else key
                    path = (*top.path, part)
                    self.count(1, (start.line + 1, start.column + 1), path)
                    top.child_marks[part] = (start.line + 1, start.column + 1)
                    top = self.frame({} if kind is starts[0] else [], path, None)
                    stack.append(top)
                    continue
            if event is None or kind is end_event:
                return
            self.dispatch(event)
            top = stack[-1] if stack else None

    def dispatch(self, event: Any) -> None:
        kind = type(event)
        if kind is yaml.ScalarEvent:
            self.on_scalar(event, (event.start_mark.line + 1, event.start_mark.column + 1))
        elif kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
            self.on_end()
        elif kind is yaml.MappingStartEvent or kind is yaml.SequenceStartEvent:
            self.on_start(event, (event.start_mark.line + 1, event.start_mark.column + 1))
        elif kind is yaml.AliasEvent:
            self.on_alias(event, (event.start_mark.line + 1, event.start_mark.column + 1))
        elif kind is yaml.DocumentStartEvent:
            if self.found_document:
                mark = (event.start_mark.line + 1, event.start_mark.column + 1)
                raise self.fail(mark, (), "more than one YAML document in the file")
            self.found_document = True

    def child_path(self) -> DocPath | None:
        """Path of the next value, or None when the next node is a mapping key."""
        if not self.stack:
            return ()
        top = self.stack[-1]
        if isinstance(top.value, list):
            return (*top.path, len(top.value))
        if top.key is None and top.merge_pending is None:
            return None
        return (*top.path, top.key if top.key is not None else "<<")

    def count(self, size: int, mark: Mark, path: DocPath) -> None:
        self.nodes += size
        if self.nodes > self.node_limit:
            limit = self.rules.max_nodes
            raise self.fail(mark, path, f"document too large: more than {limit:,} nodes")

    def on_scalar(self, event: yaml.ScalarEvent, mark: Mark) -> None:
        path = self.child_path()
        if path is None:
            self.on_key(event, mark)
            return
        self.count(1, mark, path)
        value = self.construct(event, mark, path)
        if event.anchor:
            self.anchors[event.anchor] = (value, 1)
        self.attach(value, mark, path, 1)

    def on_key(self, event: yaml.ScalarEvent, mark: Mark) -> None:
        top = self.stack[-1]
        key = event.value
        self.check_text(event, mark, (*top.path, key))
        if key == "<<" and event.implicit[0] and not event.tag:
            top.merge_pending = mark
            return
        path = (*top.path, key)
        if key in top.value:
            first = self.key_marks.get(path, mark)
            self.note(
                mark,
                path,
                f"duplicate key {key!r} (first defined at line {first[0]})",
                "YAML would silently keep only the last one; remove or merge the duplicate",
            )
            top.skip = True
        else:
            self.key_marks[path] = mark
        top.key = key

    def on_alias(self, event: yaml.AliasEvent, mark: Mark) -> None:
        path = self.child_path()
        if path is None:
            raise self.fail(mark, self.stack[-1].path, "an alias cannot be used as a mapping key")
        name = event.anchor
        if name in self.open_anchors:
            raise self.fail(mark, path, f"recursive alias *{name}: it refers to itself")
        if name not in self.anchors:
            raise self.fail(mark, path, f"undefined alias *{name}", f"define it with &{name}")
        value, size = self.anchors[name]
        self.alias_values += size
        cap = self.rules.max_alias_values
        if cap is not None and self.alias_values > cap:
            message = f"aliases expand to more than {cap:,} values; write the data out"
            raise self.fail(mark, path, message)
        self.count(size, mark, path)
        self.attach(value, mark, path, size)

    def on_start(self, event: yaml.MappingStartEvent | yaml.SequenceStartEvent, mark: Mark) -> None:
        path = self.child_path()
        if path is None:
            message = "a mapping key must be a plain string, not a list or mapping"
            raise self.fail(mark, self.stack[-1].path, message)
        if len(self.stack) >= self.rules.max_depth:
            message = f"nested more than {self.rules.max_depth} levels deep"
            raise self.fail(mark, path[:3], message)
        is_map = isinstance(event, yaml.MappingStartEvent)
        expected = _TAG + ("map" if is_map else "seq")
        if event.tag not in (None, "!", expected):
            raise self.fail(mark, path, f"unsupported YAML tag {event.tag}")
        self.count(1, mark, path)
        self.marks[path] = mark
        if event.anchor:
            self.open_anchors.add(event.anchor)
        self.stack.append(self.frame({} if is_map else [], path, event.anchor))

    def frame(self, value: dict[str, Any] | list[Any], path: DocPath, anchor: str | None) -> _Frame:
        # by_parent directly (one C call each): a config at the limits opens 50,000 of these.
        marks = self.marks.by_parent.setdefault(path, {})
        keys = self.key_marks.by_parent.setdefault(path, {}) if type(value) is dict else {}
        return _Frame(value, path, anchor, marks, keys)

    def on_end(self) -> None:
        frame = self.stack.pop()
        if isinstance(frame.value, dict):
            self.apply_merges(frame)
        if frame.anchor:
            self.open_anchors.discard(frame.anchor)
            self.anchors[frame.anchor] = (frame.value, frame.size)
        mark = self.marks[frame.path]
        if self.stack:
            self.attach(frame.value, mark, frame.path, frame.size, marked=True)
        else:
            self.data = frame.value

    def attach(
        self, value: Any, mark: Mark, path: DocPath, size: int, marked: bool = False
    ) -> None:
        if not marked:
            self.marks[path] = mark
        if not self.stack:
            self.data = value
            return
        top = self.stack[-1]
        top.size += size
        if isinstance(top.value, list):
            top.value.append(value)
        elif top.merge_pending is not None:
            self.add_merge(top, value, top.merge_pending)
        else:
            if not top.skip and top.key is not None:
                top.value[top.key] = value
            top.key, top.skip = None, False

    def add_merge(self, top: _Frame, value: Any, mark: Mark) -> None:
        sources = value if isinstance(value, list) else [value]
        if not all(isinstance(s, dict) for s in sources):
            raise self.fail(mark, top.path, "a merge key '<<' needs a mapping or a list of them")
        top.merges.extend((s, mark) for s in sources)
        top.merge_pending = None

    def apply_merges(self, frame: _Frame) -> None:
        assert isinstance(frame.value, dict)
        for source, mark in frame.merges:
            for key, value in source.items():
                if key not in frame.value:
                    frame.value[key] = value
                    self.key_marks[(*frame.path, key)] = mark
                    self.marks[(*frame.path, key)] = mark

    def check_text(self, event: yaml.ScalarEvent, mark: Mark, path: DocPath) -> None:
        """Only a "\\ud800" escape in double quotes can make text that UTF-8 cannot encode."""
        if self.rules.encodable_text and event.style == '"' and not _encodes(event.value):
            raise self.fail(mark, path, "not valid Unicode text (a lone surrogate escape)")

    def construct(self, event: yaml.ScalarEvent, mark: Mark, path: DocPath) -> Any:
        tag = event.tag
        self.check_text(event, mark, path)
        if tag is None and _is_text(event):
            return event.value
        if tag is None or tag == "!":
            tag = _resolve(ScalarNode, event.value, event.implicit)
        if tag not in self.rules.scalar_tags:
            if event.tag in (None, "!"):
                return event.value  # implicit tags we do not construct (e.g. '=') stay strings
            self.note(
                mark,
                path,
                f"unsupported YAML tag {event.tag}",
                "quote the value to make it a string",
            )
            return event.value
        digits = self.rules.max_int_digits
        if digits is not None and tag == _TAG + "int" and len(event.value) > digits:
            message = f"a number of more than {digits} digits; quote ids as text"
            raise self.fail(mark, path, message)
        if tag == _TAG + "timestamp" and event.tag in (None, "!"):
            # Dates stay the text the user wrote: the schema checks YYYY-MM-DD strings, the
            # rules report impossible dates, and a name that looks like a date stays a name.
            return event.value
        # libyaml's marks are its own class; pyyaml's constructors only read them.
        start: Any = event.start_mark
        end: Any = event.end_mark
        node = ScalarNode(tag, event.value, start, end, event.style)
        try:
            value = _constructor.yaml_constructors[tag](_constructor, node)
        except Exception as exc:  # a bad !!int, !!binary, !!timestamp: report, keep the text
            kind = tag.removeprefix(_TAG)
            self.note(mark, path, f"cannot read {event.value!r} as {kind}: {_reason_of(exc)}")
            return event.value
        if isinstance(value, datetime | date):
            return event.value
        if self.rules.finite_floats and isinstance(value, float) and not math.isfinite(value):
            raise self.fail(mark, path, "not a finite number")
        return value


def _is_text(event: yaml.ScalarEvent) -> bool:
    """True for an untagged scalar that is a string whatever it says: quoted or block, or plain
    with a first character no implicit type (null, bool, number, date, merge) starts with, or
    a word longer than any YAML 1.1 boolean or null ("operator" starts like "on", "off")."""
    if not event.implicit[0]:
        return True
    text = event.value
    first = text[:1]
    return first not in _IMPLICIT_FIRST or (first.isalpha() and len(text) > 5)


def _reason_of(exc: Exception) -> str:
    """A constructor error's reason without pyyaml's '<unicode string>' position suffix."""
    if isinstance(exc, yaml.MarkedYAMLError) and exc.problem:
        return exc.problem
    return str(exc).split("\n", 1)[0]


def _encodes(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def compose(text: str, rules: Rules | None = None, parser: Any = None) -> Composer:
    """Compose one YAML document; ComposeFailed carries every problem when it cannot be read.

    Problems that do not stop composing (duplicate keys, tags, values) are left on
    `composer.problems` for the caller, with the data and the marks of what was read.
    """
    composer = Composer(rules)
    try:
        events = (parser or PARSER)(text)
        try:
            composer.run_parser(events)
        finally:
            events.dispose()
    except ComposeFailed as exc:
        raise ComposeFailed(*composer.problems, *exc.problems) from None
    except yaml.MarkedYAMLError as exc:
        fatal = _syntax_problem(text, exc, composer.rules.max_depth)
        raise ComposeFailed(*composer.problems, fatal) from None
    except yaml.reader.ReaderError as exc:
        line, column = position(text, exc.position)
        message = f"unacceptable character #x{exc.character:04x}: {exc.reason}"
        raise ComposeFailed(Located(line, column, (), message)) from None
    except yaml.YAMLError as exc:  # any other parser failure
        raise ComposeFailed(Located(None, None, (), f"invalid YAML: {_short(str(exc))}")) from None
    return composer


def position(text: str, index: int) -> Mark:
    """The 1-based (line, column) of a character index."""
    index = max(0, min(index, len(text)))
    line_start = text.rfind("\n", 0, index) + 1
    return text.count("\n", 0, index) + 1, index - line_start + 1


def _syntax_problem(text: str, exc: yaml.MarkedYAMLError, max_depth: int) -> Located:
    mark = exc.problem_mark or exc.context_mark
    problem = exc.problem or exc.context or "syntax error"
    if "maximum nesting depth" in problem:  # LibYAML >= 0.2.6 (pyyaml 6.0.4) stops first
        message = f"nested more than {max_depth} levels deep"
    else:
        message = f"invalid YAML: {problem}"
    hints = []
    context = exc.context_mark
    if (
        exc.context
        and exc.problem
        and context is not None
        and mark is not None
        and (context.line, context.column) != (mark.line, mark.column)
    ):
        where = f"line {context.line + 1}, column {context.column + 1}"
        hints.append(f"{exc.context} started at {where}")
    if mark is not None and _char_at(text, mark.line, mark.column) == "\t":
        hints.append("YAML cannot indent with tabs; use spaces")
    hint = "; ".join(hints) or None
    if mark is None:
        return Located(None, None, (), message, hint)
    return Located(mark.line + 1, mark.column + 1, (), message, hint)


def _char_at(text: str, line: int, column: int) -> str:
    lines = text.split("\n", line + 1)
    if line < len(lines) and 0 <= column < len(lines[line]):
        return lines[line][column]
    return ""


def _short(text: str) -> str:
    return text if len(text) <= 200 else text[:197] + "..."
