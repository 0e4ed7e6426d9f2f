"""Reading config files: paths to files, bytes to a `Document` with every key's position.

Safe YAML only: libyaml's parser (pyyaml's pure-Python one when libyaml is missing) produces
events, and `composer.Composer` builds plain data from them; nothing can construct an object.
Every failure is a LoadFailed carrying located problems, never a traceback.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bcsync.config.composer import Composer, LoadFailed
from bcsync.config.document import Document, Mark, short_repr
from bcsync.errors import Problem

# A config at TikTok's limits (100,000 grants, one a line) is 3-6 MiB; nodes are capped too.
MAX_BYTES = 16 * 1024 * 1024
DEFAULT_FILES = ("bcsync.yaml", "bcsync.yml")
DEFAULT_DIR = "bcsync"
SUFFIXES = (".yaml", ".yml")

_Parser: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# Recognising an emulator seed in a config directory from its first top-level keys, without
# parsing what may be 100,000 lines.
SNIFF_BYTES = 64 * 1024
# Block-style top-level keys, or quoted keys anywhere (a seed written as JSON is one line).
_TOP_KEY = re.compile(rb"^([A-Za-z_]+)[ \t]*:|\"([A-Za-z_]+)\"[ \t]*:", re.MULTILINE)
_SEED_KEYS = {b"users", b"business_centers", b"external_business_centers", b"settings"}
_CONFIG_KEYS = {
    b"business_center",
    b"provider",
    b"policy",
    b"assets",
    b"groups",
    b"members",
    b"partners",
}


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
            try:
                found = _yaml_files(path)
            except OSError as exc:
                problems.append(Problem(raw, None, None, "", f"cannot list: {_reason(exc)}"))
                continue
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
        try:
            found = _yaml_files(base / DEFAULT_DIR)
        except OSError as exc:
            return [], [Problem(DEFAULT_DIR, None, None, "", f"cannot list: {_reason(exc)}")]
        if found:
            return [SourceFile(os.path.join(DEFAULT_DIR, n), from_dir=True) for n in found], []
    message = f"no configuration found in {base}"
    hint = "looked for bcsync.yaml, bcsync.yml and bcsync/*.yaml; pass config paths as arguments"
    return [], [Problem("bcsync.yaml", None, None, "", message, hint)]


def _yaml_files(directory: Path) -> list[str]:
    """Config-looking names in a directory; raises OSError (an unreadable one is not empty)."""
    names = sorted(p.name for p in directory.iterdir())
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


def sniff_seed(file: str, cwd: str | None = None) -> bool:
    """True when the file's first top-level keys are an emulator seed's (reads 64 KiB at most)."""
    path = (Path(cwd) if cwd else Path.cwd()) / file
    try:
        head = _read_bytes(file, path, limit=SNIFF_BYTES)
    except LoadFailed:
        return False  # reading it as a config reports why
    return looks_like_seed(head)


def looks_like_seed(head: bytes) -> bool:
    """True when a file's first bytes have an emulator seed's top-level keys and no config's."""
    keys = {block or quoted for block, quoted in _TOP_KEY.findall(head[:SNIFF_BYTES])}
    return bool(keys & _SEED_KEYS) and not keys & _CONFIG_KEYS


def read_document(file: str, cwd: str | None = None) -> Document:
    """Read and parse one config file; raises LoadFailed with a located problem."""
    path = (Path(cwd) if cwd else Path.cwd()) / file
    raw = _read_bytes(file, path)
    doc = parse_document(file, raw)
    doc.base_dir = str(path.resolve().parent)
    return doc


def document_from_bytes(file: str, raw: bytes, cwd: str | None = None) -> Document:
    """Parse bytes read elsewhere (a file at a git revision) as `read_document` would `file`."""
    if len(raw) > MAX_BYTES:
        raise LoadFailed(_too_big(file, len(raw)))
    doc = parse_document(file, raw)
    doc.base_dir = str(((Path(cwd) if cwd else Path.cwd()) / file).resolve().parent)
    return doc


def _read_bytes(file: str, path: Path, limit: int | None = None) -> bytes:
    """The file's bytes (at most `limit`, default all up to the cap); regular files only."""
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer; the mode is checked on the
        # descriptor itself, so the file cannot be swapped between the check and the read.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
        try:
            raw = _read_regular(file, fd, limit)
        finally:
            os.close(fd)
    except OSError as exc:
        raise LoadFailed(Problem(file, None, None, "", f"cannot read: {_reason(exc)}")) from exc
    if limit is None and len(raw) > MAX_BYTES:
        raise LoadFailed(_too_big(file, len(raw)))
    return raw


def _read_regular(file: str, fd: int, limit: int | None) -> bytes:
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        what = " (a directory)" if stat.S_ISDIR(info.st_mode) else ""
        raise LoadFailed(Problem(file, None, None, "", f"not a regular file{what}"))
    if limit is None and info.st_size > MAX_BYTES:
        raise LoadFailed(_too_big(file, info.st_size))
    # Read one byte past the cap: the file may have grown since fstat.
    wanted = MAX_BYTES + 1 if limit is None else limit
    chunks, size = [], 0
    while size < wanted:
        chunk = os.read(fd, min(wanted - size, 1 << 20))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def _too_big(file: str, size: int) -> Problem:
    limit = MAX_BYTES // (1024 * 1024)
    return Problem(
        file,
        None,
        None,
        "",
        f"file too large ({size:,} bytes; the limit is {limit} MiB)",
        "a config holds one Business Center: one at TikTok's limits fits well under it",
    )


def parse_document(file: str, raw: bytes) -> Document:
    """Bytes to a Document; raises LoadFailed with a located problem."""
    text = _decode(file, raw)
    if not text.strip():
        raise LoadFailed(_empty(file))
    composer = Composer(file)
    try:
        _compose(composer, text)
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


def _compose(composer: Composer, text: str) -> None:
    parser = _Parser(text)
    try:
        composer.run_parser(parser)
    finally:
        parser.dispose()


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


def _kind(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "null"
    return f"a scalar ({short_repr(value)})"
