"""Reading config files: paths to files, bytes to a `Document` with every key's position.

Safe YAML only: libyaml's parser (pyyaml's pure-Python one when libyaml is missing) produces
events, and the shared composer (`bcsync.files.composer`) builds plain data from them; nothing
can construct an object. Files are read by `bcsync.files.reader` (regular files, bounded size).
Every failure is a LoadFailed carrying located problems, never a traceback.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bcsync.config.composer import LoadFailed, compose_config, problem_of
from bcsync.config.document import Document, short_repr
from bcsync.errors import Problem
from bcsync.files.marks import Mark
from bcsync.files.reader import BadText, FileTooLarge, NotRegularFile, decode_utf8, read_regular

# A config at TikTok's limits (100,000 grants, one a line) is 3-6 MiB; nodes are capped too.
MAX_BYTES = 16 * 1024 * 1024
DEFAULT_FILES = ("bcsync.yaml", "bcsync.yml")
DEFAULT_DIR = "bcsync"
SUFFIXES = (".yaml", ".yml")

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
    """The file's bytes (the first `limit`, default all up to the cap); regular files only."""
    try:
        if limit is not None:
            return read_regular(path, limit, head=True)
        return read_regular(path, MAX_BYTES)
    except NotRegularFile as exc:
        what = " (a directory)" if exc.is_dir else ""
        raise LoadFailed(Problem(file, None, None, "", f"not a regular file{what}")) from exc
    except FileTooLarge as exc:
        raise LoadFailed(_too_big(file, exc.size)) from exc
    except OSError as exc:
        raise LoadFailed(Problem(file, None, None, "", f"cannot read: {_reason(exc)}")) from exc


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
    composer = compose_config(file, text)
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
        raise LoadFailed(*(problem_of(file, p) for p in composer.problems))
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
        return decode_utf8(raw)
    except BadText as exc:
        message = f"not UTF-8 text (byte 0x{exc.byte:02x}); is it a binary file?"
        raise LoadFailed(Problem(file, exc.line, exc.column, "", message)) from exc


def _byte_position(raw: bytes, index: int) -> Mark:
    line_start = raw.rfind(b"\n", 0, index) + 1
    return raw.count(b"\n", 0, index) + 1, index - line_start + 1


def _kind(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "null"
    return f"a scalar ({short_repr(value)})"
