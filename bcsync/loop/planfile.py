"""The saved-plan format, in one place: its document, its schema, reading it, comparing it.

A saved plan (`plan --out`, `plan --format json`) is one JSON document that
`schemas/plan.schema.json` describes: run metadata (tool version, creation time and directory,
git commit, `--head-commit`), the overall checksum, each BC's plan (`Plan.to_json`) and a
summary. This module builds it (`document`, `new_document`), writes it atomically (0600) as stable
compact text (`dumps`, `write`), reads it back as hostile input (`read`), and says how a saved plan
body differs from a fresh plan (`first_difference`), which is how `reconcile` decides whether the
reviewed plan is what would run now.

A plan file is recognised by its content, not its name. Reading it refuses anything that is not
a regular file of bounded size (a FIFO would hang, /dev/zero would never end), JSON too deep or
with absurd numbers, and any document the plan schema rejects; each with a located message and
exit 3. What a plan file says is never executed: `reconcile` compares it with a fresh plan.
A plan holds ids, emails, roles and digests, never a token; nothing here may add one.
"""

from __future__ import annotations

import json
import os
import stat
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
from deepdiff import DeepDiff

from bcsync import __version__
from bcsync.core.plan import FORMAT_VERSION, Plan, checksum_of
from bcsync.errors import PlanFileError
from bcsync.files.jsontext import is_unicode_text
from bcsync.files.reader import FileTooLarge, NotRegularFile, read_regular
from bcsync.git.changed import ChangedScope
from bcsync.loop.audit import git_commit, now_iso
from bcsync.render import total_summary
from bcsync.render.text import printable

SCHEMA_PATH = Path(__file__).parent.parent / "schemas" / "plan.schema.json"
# A plan at TikTok's limits (100,000 grant changes) is about 60 MB of compact JSON.
MAX_BYTES = 256 * 1024 * 1024
MAX_DEPTH = 32
HINT = "save a plan with `bcsync plan --out FILE`"
TOOL = "bcsync"
_COMPACT = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def document(
    plans: Sequence[Plan],
    *,
    created_at: str,
    tool_version: str,
    git_commit: str | None,
    created_in: str | None = None,
    head_commit: str | None = None,
) -> dict[str, Any]:
    """The JSON-ready plan document for one run over one or more BCs (metadata passed in)."""
    total = total_summary(plans)
    doc: dict[str, Any] = {
        "format_version": FORMAT_VERSION,
        "tool": TOOL,
        "tool_version": tool_version,
        "created_at": created_at,
        "created_in": created_in,
        "git_commit": git_commit,
        "checksum": checksum_of(plans),
        "plans": [plan.to_json() for plan in plans],
        "summary": {**total.to_json(), "business_centers": len(plans)},
    }
    if head_commit:  # `plan --head-commit`: the commit a pipeline says it planned
        doc["head_commit"] = head_commit
    return doc


def new_document(plans: Sequence[Plan], head_commit: str | None = None) -> dict[str, Any]:
    """The document of plans made now: this run's time, version, git commit and directory."""
    where = str(Path(plans[0].config_path or ".").parent) if plans else "."
    return document(
        plans,
        created_at=now_iso(),
        tool_version=__version__,
        git_commit=git_commit(where),
        created_in=os.getcwd(),
        head_commit=head_commit,
    )


def dumps(doc: Mapping[str, Any]) -> str:
    """Stable compact text: keys sorted, UTF-8 kept, one line (pretty-print with `jq .`).

    Only the unindented form runs entirely in json's C encoder: at TikTok's limits (100,000
    grants) it writes a plan in a third of the time of any indented form, and linearly.
    """
    return _COMPACT.encode(doc) + "\n"


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


@dataclass(frozen=True)
class SavedPlan:
    """A plan file read and checked: its document and its plans."""

    path: str
    doc: dict[str, Any]
    plans: list[Plan]

    @property
    def checksum(self) -> str:
        return str(self.doc["checksum"])

    @property
    def head_commit(self) -> str | None:
        head = self.doc.get("head_commit")
        return head if isinstance(head, str) else None

    @property
    def scopes(self) -> dict[str, ChangedScope | None]:
        """Each BC's scope as the plan records it: a re-plan reads exactly that."""
        return {p.bc_id: p.scope for p in self.plans}

    def config_paths(self) -> list[str]:
        """The configs the plan was made from, found here; PlanFileError (exit 3) if not."""
        made_in = self.doc.get("created_in")
        found = []
        for body in self.doc["plans"]:
            config = Path(body.get("config_path") or "")
            candidates = [config]
            if made_in and not config.is_absolute():
                candidates.insert(0, Path(made_in) / config)
            match = next((c for c in candidates if _is_file(c)), None)
            if match is None:
                raise PlanFileError(
                    f"{self.path}: the config {_shown(str(config))} it was made from is not here"
                    + (f" (the plan was made in {_shown(str(made_in))})" if made_in else ""),
                    hint="apply the plan from the directory it was made in, next to its config",
                )
            found.append(str(match))
        return found


def _shown(text: str, limit: int = 200) -> str:
    """A path from a plan file as a message shows it: bounded, control characters escaped."""
    return printable(text if len(text) <= limit else text[:limit] + "…")


def _is_file(path: Path) -> bool:
    """Whether a path a plan file names is a file here; a name no file can have is not one."""
    try:
        return path.is_file()
    except (OSError, ValueError):  # a name too long for the file system, a NUL byte
        return False


def read(path: str | Path) -> SavedPlan:
    """The plan file at `path`; PlanFileError (exit 3) when it is not a valid bcsync plan."""
    source = Path(path)
    data = read_bytes(source)
    doc = _parse(source, data)
    if not isinstance(doc, dict) or doc.get("tool") != TOOL:
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
        return SavedPlan(str(path), doc, [Plan.from_json(p) for p in doc["plans"]])
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


# Comparing a saved plan with a fresh one (what `reconcile.check_reviewed` decides on).


def first_difference(saved: Mapping[str, Any], fresh: Plan) -> str | None:
    """The first way a saved plan body differs from a fresh plan, or None when they are one."""
    now = fresh.to_json()
    if saved.get("refusals"):
        return "it was refused by the safety guards when it was made"
    if saved.get("target") != now.get("target"):
        return (
            f"it was made for the Business Center at {target_shown(saved.get('target'))}, "
            f"and its config {fresh.config_path} now reaches {target_shown(now.get('target'))}"
        )
    if not saved.get("config_digest") or saved.get("config_digest") != now["config_digest"]:
        return f"the config {fresh.config_path} changed since it was made"
    for field in ("changes", "steps"):
        old, new = saved.get(field), now[field]
        if not isinstance(old, list):
            return f"its {field} are missing"
        for i, (a, b) in enumerate(zip(old, new, strict=False)):
            if a != b:
                return f"{field[:-1]} {i + 1} differs ({describe_difference(a, b)})"
        if len(old) != len(new):
            extra = "more" if len(old) > len(new) else "fewer"
            return f"it has {extra} {field} ({len(old)}) than a fresh plan ({len(new)})"
    if saved.get("checksum") != now["checksum"]:
        return f"its checksum {saved.get('checksum')!r} is not {now['checksum']}"
    return None


def target_shown(target: Any) -> str:
    """A plan's target as a refusal quotes it: bounded; absent said so."""
    if not isinstance(target, str) or not target:
        return "(no target named)"
    return target if len(target) <= 300 else target[:300] + "…"


def describe_difference(old: Any, new: Any) -> str:
    """Which fields differ: "after.role: 'analyst' → 'admin'" (deepdiff describes only)."""
    name = new.get("title") or new.get("id") if isinstance(new, Mapping) else None
    found = DeepDiff(old, new, ignore_order=False, verbose_level=2)
    parts = []
    for kind in ("values_changed", "type_changes"):
        for path, delta in found.get(kind, {}).items():
            parts.append(f"{_dotted(path)}: {delta['old_value']!r} → {delta['new_value']!r}")
    for kind, verb in (("dictionary_item_added", "added"), ("dictionary_item_removed", "removed")):
        parts.extend(f"{_dotted(path)} {verb}" for path in found.get(kind, {}))
    for kind, verb in (("iterable_item_added", "added"), ("iterable_item_removed", "removed")):
        parts.extend(f"{_dotted(path)} {verb}" for path in found.get(kind, {}))
    text = "; ".join(parts[:5]) or "different"
    return f"{name}: {text}" if name else text


def _dotted(path: str) -> str:
    """deepdiff's "root['after']['role']" as "after.role"."""
    return path.removeprefix("root").replace("']['", ".").replace("][", ".").strip("[]'")
