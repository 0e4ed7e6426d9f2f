"""Reading a seed file as hostile input: a bounded regular file, strict UTF-8, bounded YAML.

A seed is read like a config, through the same shared parts (`bcsync.files`, which imports
nothing of the client): a FIFO or a link to /dev/zero is refused before it is opened, the size is
capped, and UTF-8 errors are located. The YAML is composed by the shared iterative composer with
a seed's rules: caps on depth and alias expansion ("billion laughs"), integers of at most 40
digits, finite numbers, text SQLite can store, duplicate keys refused, and plain data only.
Errors the schema finds later are located by composing again (`locate`): only when there are
errors, so a valid seed at TikTok's limits is composed once.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from bcsync.files.composer import PARSER, ComposeFailed, Located, Rules, compose
from bcsync.files.reader import BadText, FileTooLarge, NotRegularFile, decode_utf8, read_regular

from .errors import EmulatorError, SeedError

MAX_BYTES = 64 * 1024 * 1024  # a seed at TikTok's limits is about 12 MB
MAX_DEPTH = 64  # a seed nests 7 deep
MAX_ALIAS_NODES = 100_000  # values that aliases may add beyond those written out
MAX_DIGITS = 40  # an integer's length; ids are strings of 19 digits

PathT = tuple[str | int, ...]
# Looked up at each call, so a test can run pyyaml's pure-Python parser.
_Parser: Any = PARSER
RULES = Rules(
    max_depth=MAX_DEPTH,
    max_nodes=None,  # a seed at the limits is over a million values; aliases are capped instead
    max_alias_values=MAX_ALIAS_NODES,
    max_int_digits=MAX_DIGITS,
    finite_floats=True,
    encodable_text=True,
)


def read_text(path: Path) -> str:
    """The file's text; SeedError for anything but a regular, small, UTF-8 file."""
    source = str(path)
    try:
        raw = read_regular(path, MAX_BYTES)
    except FileNotFoundError:
        raise EmulatorError(f"seed file not found: {path}") from None
    except NotRegularFile:
        raise SeedError(source, [f"{path}: not a regular file; a seed is a YAML file"]) from None
    except FileTooLarge:
        problem = f"{path}: larger than {MAX_BYTES:,} bytes; a seed holds one world"
        raise SeedError(source, [problem]) from None
    except OSError as exc:
        raise EmulatorError(f"cannot read seed file {path}: {exc.strerror}") from None
    try:
        return decode_utf8(raw)
    except BadText as exc:
        where = f"{source}:{exc.line}:{exc.column}"
        problem = f"{where}: not UTF-8 (byte 0x{exc.byte:02x}); save the seed as UTF-8"
        raise SeedError(source, [problem]) from None


def parse(text: str, source: str) -> Any:
    """The YAML document's data; SeedError with FILE:LINE:COL on every problem."""
    try:
        composer = compose(text, RULES, _Parser)
    except ComposeFailed as exc:
        raise SeedError(source, [_line(source, p) for p in exc.problems]) from None
    if composer.problems:  # duplicate keys, tags, values: all of them at once
        raise SeedError(source, [_line(source, p) for p in composer.problems])
    return composer.data


def _line(source: str, problem: Located) -> str:
    if problem.line is None:
        return f"{source}: {problem.message}"
    return f"{source}:{problem.line}:{problem.column}: {problem.message}"


def locate(text: str, paths: Iterable[PathT]) -> dict[PathT, tuple[int, int]]:
    """(line, column) of the deepest node on each path that the document has."""
    marks = compose(text, RULES, _Parser).marks
    result = {}
    for p in paths:
        for n in range(len(p), -1, -1):
            if p[:n] in marks:
                result[p] = marks[p[:n]]
                break
    return result
