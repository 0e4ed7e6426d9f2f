"""Saved plans on disk: written atomically (0600), read back as hostile input.

A plan file is recognised by its content, not its name. Reading it refuses anything that is not
a regular file of bounded size (a FIFO would hang, /dev/zero would never end), JSON too deep or
with absurd numbers, and any document the plan schema rejects; each with a located message and
exit 3. What a plan file says is never executed: `reconcile` compares it with a fresh plan.
"""

from __future__ import annotations

import json
import os
import stat
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

from bcsync.core.plan import FORMAT_VERSION, Plan
from bcsync.errors import PlanFileError
from bcsync.files.jsontext import is_unicode_text
from bcsync.files.reader import FileTooLarge, NotRegularFile, read_regular

SCHEMA_PATH = Path(__file__).parent.parent / "schemas" / "plan.schema.json"
# A plan at TikTok's limits (100,000 grant changes) is about 60 MB of compact JSON.
MAX_BYTES = 256 * 1024 * 1024
MAX_DEPTH = 32
HINT = "save a plan with `bcsync plan --out FILE`"


@cache
def _validator() -> jsonschema.protocols.Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return jsonschema.Draft202012Validator(schema)


def validate_document(doc: Any) -> list[str]:
    """Schema problems of a plan document, as `path: message` lines."""
    errors = sorted(_validator().iter_errors(doc), key=lambda e: list(e.absolute_path))
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {_bounded(e.message)}" for e in errors
    ]


def _bounded(message: str, limit: int = 200) -> str:
    """A schema message quotes the value: a 5,000-character one is not echoed back whole."""
    if len(message) <= limit:
        return message
    return f"{message[: limit // 2]}…({len(message)} characters)…{message[-limit // 2 :]}"


def write(path: str | Path, text: str) -> None:
    """Write a plan file atomically (never half a plan), readable by its owner only."""
    target = Path(path)
    try:
        info = os.lstat(target)
    except (OSError, ValueError):
        info = None  # absent (or a name the OS refuses: the write below says so)
    if info is not None and not stat.S_ISREG(info.st_mode):
        # Replacing atomically would swap a device (/dev/null, as root) or a link for a file.
        raise PlanFileError(
            f"{target}: not a regular file (a device, FIFO, link or directory); "
            "refusing to replace it with the plan",
            hint="save the plan to a file: `bcsync plan --out plan.json`",
        )
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".bcsync-plan-", dir=str(target.parent))
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, target)
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or exc
        raise PlanFileError(f"cannot write the plan file {target}: {reason}") from exc


def read_bytes(path: str | Path, limit: int = MAX_BYTES) -> bytes:
    """The bytes of a regular file of at most `limit` bytes; never opens a FIFO or a device."""
    source = Path(path)
    try:
        return read_regular(source, limit)
    except NotRegularFile as exc:
        raise PlanFileError(
            f"{source}: not a regular file (a directory, FIFO, socket or device); "
            "refusing to read it as a plan",
            hint=HINT,
        ) from exc
    except FileTooLarge as exc:
        raise PlanFileError(f"{source}: {exc.size} bytes is over the {limit}-byte limit") from exc
    except OSError as exc:
        raise PlanFileError(f"cannot read the plan file {source}: {exc.strerror or exc}") from exc


def looks_like_plan(path: str | Path) -> bool:
    """Whether `path` is a regular file whose content starts like a JSON object (a saved plan)."""
    try:
        head = read_regular(path, 4096, head=True)
    except (OSError, NotRegularFile):
        return False
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    return text.startswith(b"{") and b'"' in text[:64]


def read(path: str | Path) -> tuple[dict[str, Any], list[Plan]]:
    """The document and its plans; PlanFileError (exit 3) when it is not a valid bcsync plan."""
    source = Path(path)
    data = read_bytes(source)
    doc = _parse(source, data)
    if not isinstance(doc, dict) or doc.get("tool") != "bcsync":
        raise PlanFileError(f"{source}: not a bcsync plan", hint=HINT)
    if doc.get("format_version") != FORMAT_VERSION:
        raise PlanFileError(
            f"{source}: plan format_version {doc.get('format_version')!r} is not supported "
            f"by this bcsync (expects {FORMAT_VERSION})",
            hint="re-create the plan with this version of bcsync",
        )
    problems = validate_document(doc)
    if problems:
        raise PlanFileError(
            f"{source}: not a valid bcsync plan:\n  - " + "\n  - ".join(problems[:10]),
            hint="re-create it with `bcsync plan --out FILE`",
        )
    try:
        return doc, [Plan.from_json(p) for p in doc["plans"]]
    except (KeyError, TypeError, ValueError) as exc:  # the schema should have said so
        raise PlanFileError(f"{source}: not a valid bcsync plan ({exc})", hint=HINT) from exc


def _parse(source: Path, data: bytes) -> Any:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PlanFileError(
            f"{source}: byte {exc.start}: not UTF-8 text, so not a bcsync plan", hint=HINT
        ) from exc
    try:
        doc = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise PlanFileError(
            f"{source}:{exc.lineno}:{exc.colno}: not a bcsync plan (invalid JSON: {exc.msg})",
            hint=HINT,
        ) from exc
    except RecursionError as exc:
        raise PlanFileError(f"{source}: nested too deeply to be a bcsync plan", hint=HINT) from exc
    except ValueError as exc:  # e.g. an integer of thousands of digits
        raise PlanFileError(f"{source}: not a bcsync plan ({exc})", hint=HINT) from exc
    if _depth(doc) > MAX_DEPTH:
        raise PlanFileError(f"{source}: nested deeper than {MAX_DEPTH} levels", hint=HINT)
    if not is_unicode_text(doc):
        raise PlanFileError(
            f"{source}: a string holds a lone surrogate (an unpaired \\ud800-\\udfff escape), "
            "which is not Unicode text, so not a bcsync plan",
            hint=HINT,
        )
    return doc


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _depth(value: Any, limit: int = MAX_DEPTH + 1) -> int:
    """Nesting depth, iteratively (a hostile document must not exhaust the stack)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        deepest = max(deepest, depth)
        if deepest > limit:
            return deepest
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return deepest
