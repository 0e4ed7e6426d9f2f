"""Reading config files: paths to files, bytes to a `Document` with every key's position.

Safe YAML only: the document is built from libyaml's parse events (pyyaml's pure-Python parser
when libyaml is missing), never through a constructor that can create arbitrary objects. Building
from events (instead of pyyaml's recursive composer) lets us reject duplicate keys, which pyyaml
silently resolves to the last one, survive any nesting depth, and bound alias expansion.
"""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import ScalarNode
from yaml.resolver import Resolver

from bcsync.config.document import DocPath, Document, Mark, format_path, short_repr
from bcsync.errors import Problem

MAX_BYTES = 5 * 1024 * 1024
MAX_DEPTH = 64
# Nodes after expanding aliases: bounds "billion laughs" documents.
MAX_NODES = 1_000_000
DEFAULT_FILES = ("bcsync.yaml", "bcsync.yml")
DEFAULT_DIR = "bcsync"
SUFFIXES = (".yaml", ".yml")

_Parser: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_TAG = "tag:yaml.org,2002:"
_SCALAR_TAGS = {_TAG + t for t in ("null", "bool", "int", "float", "timestamp", "str", "binary")}
_resolver = Resolver()
_constructor = SafeConstructor()


class LoadFailed(Exception):
    """Stops reading one file; carries its located problems."""

    def __init__(self, *problems: Problem) -> None:
        super().__init__(problems[0].message if problems else "cannot load")
        self.problems = list(problems)


@dataclass(frozen=True)
class SourceFile:
    """A config file to read: its path as shown to the user, and whether a directory named it."""

    path: str
    from_dir: bool = False


# --- finding files -------------------------------------------------------------------------


def discover(paths: list[str], cwd: str | None = None) -> tuple[list[SourceFile], list[Problem]]:
    """Expand paths (files or directories of *.yaml/*.yml) into files, in order, once each."""
    base = Path(cwd) if cwd else Path.cwd()
    if not paths:
        return _default_files(base)
    files: list[SourceFile] = []
    problems: list[Problem] = []
    for raw in paths:
        path = base / raw
        try:
            is_dir = path.is_dir()
            exists = is_dir or path.exists()
        except OSError as exc:
            problems.append(Problem(raw, None, None, "", f"cannot access: {_reason(exc)}"))
            continue
        if not exists:
            problems.append(Problem(raw, None, None, "", "no such file or directory"))
        elif is_dir:
            found = _yaml_files(path)
            if not found:
                problems.append(
                    Problem(raw, None, None, "", "directory has no *.yaml or *.yml config files")
                )
            files.extend(SourceFile(os.path.join(raw, name), from_dir=True) for name in found)
        else:
            files.append(SourceFile(raw))
    return _unique(files, base), problems


def _default_files(base: Path) -> tuple[list[SourceFile], list[Problem]]:
    for name in DEFAULT_FILES:
        if (base / name).is_file():
            return [SourceFile(name)], []
    if (base / DEFAULT_DIR).is_dir():
        found = _yaml_files(base / DEFAULT_DIR)
        if found:
            return [SourceFile(os.path.join(DEFAULT_DIR, n), from_dir=True) for n in found], []
    message = f"no configuration found in {base}"
    hint = "looked for bcsync.yaml, bcsync.yml and bcsync/*.yaml; pass config paths as arguments"
    return [], [Problem("bcsync.yaml", None, None, "", message, hint)]


def _yaml_files(directory: Path) -> list[str]:
    try:
        names = sorted(p.name for p in directory.iterdir())
    except OSError:
        return []
    return [n for n in names if n.endswith(SUFFIXES) and not n.startswith(".")]


def _unique(files: list[SourceFile], base: Path) -> list[SourceFile]:
    seen: set[str] = set()
    out: list[SourceFile] = []
    for f in files:
        key = os.path.realpath(base / f.path)
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out


def _reason(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


# --- reading and parsing -------------------------------------------------------------------


def read_document(file: str, cwd: str | None = None) -> Document:
    """Read and parse one config file; raises LoadFailed with a located problem."""
    path = (Path(cwd) if cwd else Path.cwd()) / file
    raw = _read_bytes(file, path)
    doc = parse_document(file, raw)
    doc.base_dir = str(path.resolve().parent)
    return doc


def _read_bytes(file: str, path: Path) -> bytes:
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise LoadFailed(Problem(file, None, None, "", "not a regular file"))
        if info.st_size > MAX_BYTES:
            raise LoadFailed(_too_big(file, info.st_size))
        with path.open("rb") as fh:
            # Read one byte past the cap: the file may have grown since stat.
            raw = fh.read(MAX_BYTES + 1)
    except OSError as exc:
        raise LoadFailed(Problem(file, None, None, "", f"cannot read: {_reason(exc)}")) from exc
    if len(raw) > MAX_BYTES:
        raise LoadFailed(_too_big(file, len(raw)))
    return raw


def _too_big(file: str, size: int) -> Problem:
    limit = MAX_BYTES // (1024 * 1024)
    return Problem(
        file,
        None,
        None,
        "",
        f"file too large ({size:,} bytes; the limit is {limit} MiB)",
        "a config holds one Business Center: at most 4,000 members fit well under the limit",
    )


def parse_document(file: str, raw: bytes) -> Document:
    """Bytes to a Document; raises LoadFailed with a located problem."""
    text = _decode(file, raw)
    if not text.strip():
        raise LoadFailed(_empty(file))
    composer = _Composer(file, text)
    try:
        composer.run(yaml.parse(text, Loader=_Parser))
    except LoadFailed as exc:
        raise LoadFailed(*composer.problems, *exc.problems) from exc
    except yaml.MarkedYAMLError as exc:
        raise LoadFailed(*composer.problems, _syntax_problem(file, text, exc)) from exc
    except yaml.reader.ReaderError as exc:
        line, col = _position(text, exc.position)
        message = f"unacceptable character #x{exc.character:04x}: {exc.reason}"
        raise LoadFailed(Problem(file, line, col, "", message)) from exc
    except yaml.YAMLError as exc:  # any other parser failure still names the file
        raise LoadFailed(Problem(file, None, None, "", f"invalid YAML: {exc}")) from exc
    if composer.data is None and not composer.found_document:
        raise LoadFailed(_empty(file))
    if not isinstance(composer.data, dict):
        line, col = composer.marks.get((), (1, 1))
        kind = _kind(composer.data)
        raise LoadFailed(
            Problem(
                file,
                line,
                col,
                "",
                f"expected a mapping at the top level, got {kind}",
                "a config file starts with 'version: 1'",
            )
        )
    if composer.problems:
        # Duplicate keys and bad tags: report them all, but do not check the data further.
        raise LoadFailed(*composer.problems)
    return Document(
        file=file,
        data=composer.data,
        marks=composer.marks,
        key_marks=composer.key_marks,
        digest="sha256:" + hashlib.sha256(raw).hexdigest(),
    )


def _empty(file: str) -> Problem:
    return Problem(file, 1, 1, "", "empty file", "expected a mapping that starts with version: 1")


def _decode(file: str, raw: bytes) -> str:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise LoadFailed(Problem(file, None, None, "", "invalid UTF-16 text")) from exc
    nul = raw.find(b"\x00")
    if nul >= 0:
        line, col = _byte_position(raw, nul)
        message = "binary file (contains NUL bytes); expected YAML text"
        raise LoadFailed(Problem(file, line, col, "", message))
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line, col = _byte_position(raw, exc.start)
        message = f"not UTF-8 text (byte 0x{raw[exc.start]:02x}); is it a binary file?"
        raise LoadFailed(Problem(file, line, col, "", message)) from exc


def _byte_position(raw: bytes, index: int) -> Mark:
    line_start = raw.rfind(b"\n", 0, index) + 1
    return raw.count(b"\n", 0, index) + 1, index - line_start + 1


def _position(text: str, index: int) -> Mark:
    index = max(0, min(index, len(text)))
    line_start = text.rfind("\n", 0, index) + 1
    return text.count("\n", 0, index) + 1, index - line_start + 1


def _syntax_problem(file: str, text: str, exc: yaml.MarkedYAMLError) -> Problem:
    mark = exc.problem_mark or exc.context_mark
    message = f"invalid YAML: {exc.problem or exc.context or 'syntax error'}"
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
        return Problem(file, None, None, "", message, hint)
    return Problem(file, mark.line + 1, mark.column + 1, "", message, hint)


def _char_at(text: str, line: int, column: int) -> str:
    lines = text.split("\n", line + 1)
    if line < len(lines) and 0 <= column < len(lines[line]):
        return lines[line][column]
    return ""


def _reason_of(exc: Exception) -> str:
    """A constructor error's reason without pyyaml's '<unicode string>' position suffix."""
    if isinstance(exc, yaml.MarkedYAMLError) and exc.problem:
        return exc.problem
    return str(exc).split("\n", 1)[0]


def _kind(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "null"
    return f"a scalar ({short_repr(value)})"


# --- composing the document from events ----------------------------------------------------


@dataclass
class _Frame:
    """An open mapping or sequence while composing."""

    value: dict[str, Any] | list[Any]
    path: DocPath
    anchor: str | None
    size: int = 1
    key: str | None = None  # pending key in a mapping (None: expecting a key)
    skip: bool = False  # the pending value belongs to a duplicate key: drop it
    merges: list[tuple[dict[str, Any], Mark]] = field(default_factory=list)
    merge_pending: Mark | None = None


class _Composer:
    """Builds plain data from parse events, recording positions; iterative, so depth is safe."""

    def __init__(self, file: str, text: str) -> None:
        self.file = file
        self.text = text
        self.data: Any = None
        self.found_document = False
        self.marks: dict[DocPath, Mark] = {}
        self.key_marks: dict[DocPath, Mark] = {}
        self.problems: list[Problem] = []
        self.stack: list[_Frame] = []
        self.anchors: dict[str, tuple[Any, int]] = {}
        self.open_anchors: set[str] = set()
        self.nodes = 0

    def fail(self, mark: Mark, path: DocPath, message: str, hint: str | None = None) -> LoadFailed:
        return LoadFailed(Problem(self.file, mark[0], mark[1], format_path(path), message, hint))

    def run(self, events: Any) -> None:
        for event in events:
            mark = (event.start_mark.line + 1, event.start_mark.column + 1)
            if isinstance(event, yaml.DocumentStartEvent):
                if self.found_document:
                    raise self.fail(
                        mark, (), "more than one YAML document in the file", "one file per BC"
                    )
                self.found_document = True
            elif isinstance(event, yaml.ScalarEvent):
                self.on_scalar(event, mark)
            elif isinstance(event, yaml.AliasEvent):
                self.on_alias(event, mark)
            elif isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent):
                self.on_start(event, mark)
            elif isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
                self.on_end()

    def child_path(self, mark: Mark) -> DocPath | None:
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
        if self.nodes > MAX_NODES:
            raise self.fail(mark, path, f"document too large: more than {MAX_NODES:,} nodes")

    def on_scalar(self, event: yaml.ScalarEvent, mark: Mark) -> None:
        path = self.child_path(mark)
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
        if key == "<<" and event.implicit[0] and not event.tag:
            top.merge_pending = mark
            return
        path = (*top.path, key)
        if key in top.value:
            first = self.key_marks.get(path, mark)
            self.problems.append(
                Problem(
                    self.file,
                    mark[0],
                    mark[1],
                    format_path(path),
                    f"duplicate key {key!r} (first defined at line {first[0]})",
                    "YAML would silently keep only the last one; remove or merge the duplicate",
                )
            )
            top.skip = True
        else:
            self.key_marks[path] = mark
        top.key = key

    def on_alias(self, event: yaml.AliasEvent, mark: Mark) -> None:
        path = self.child_path(mark)
        if path is None:
            raise self.fail(mark, self.stack[-1].path, "an alias cannot be used as a mapping key")
        name = event.anchor
        if name in self.open_anchors:
            raise self.fail(mark, path, f"recursive alias *{name}")
        if name not in self.anchors:
            raise self.fail(mark, path, f"undefined alias *{name}", f"define it with &{name}")
        value, size = self.anchors[name]
        self.count(size, mark, path)
        self.attach(value, mark, path, size)

    def on_start(self, event: yaml.MappingStartEvent | yaml.SequenceStartEvent, mark: Mark) -> None:
        path = self.child_path(mark)
        if path is None:
            message = "a mapping key must be a plain string, not a list or mapping"
            raise self.fail(mark, self.stack[-1].path, message)
        if len(self.stack) >= MAX_DEPTH:
            raise self.fail(mark, path[:3], f"nesting deeper than {MAX_DEPTH} levels")
        is_map = isinstance(event, yaml.MappingStartEvent)
        expected = _TAG + ("map" if is_map else "seq")
        if event.tag not in (None, "!", expected):
            raise self.fail(mark, path, f"unsupported YAML tag {event.tag}")
        self.count(1, mark, path)
        self.marks[path] = mark
        if event.anchor:
            self.open_anchors.add(event.anchor)
        self.stack.append(_Frame({} if is_map else [], path, event.anchor))

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

    def construct(self, event: yaml.ScalarEvent, mark: Mark, path: DocPath) -> Any:
        tag = event.tag
        if tag is None or tag == "!":
            tag = _resolver.resolve(ScalarNode, event.value, event.implicit)
        if tag not in _SCALAR_TAGS:
            if event.tag in (None, "!"):
                return event.value  # implicit tags we do not construct (e.g. '=') stay strings
            self.problems.append(
                Problem(
                    self.file,
                    mark[0],
                    mark[1],
                    format_path(path),
                    f"unsupported YAML tag {event.tag}",
                    "quote the value to make it a string",
                )
            )
            return event.value
        if tag == _TAG + "timestamp" and event.tag in (None, "!"):
            # Dates stay the text the user wrote: the schema checks YYYY-MM-DD strings, the
            # rules report impossible dates, and a name that looks like a date stays a name.
            return event.value
        node = ScalarNode(tag, event.value, event.start_mark, event.end_mark, event.style)
        try:
            value = _constructor.yaml_constructors[tag](_constructor, node)
        except Exception as exc:  # a bad !!int, !!binary, !!timestamp: report, keep the text
            self.problems.append(
                Problem(
                    self.file,
                    mark[0],
                    mark[1],
                    format_path(path),
                    f"cannot read {event.value!r} as {tag.removeprefix(_TAG)}: {_reason_of(exc)}",
                )
            )
            return event.value
        if isinstance(value, datetime | date):
            return event.value
        return value
