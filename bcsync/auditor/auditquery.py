"""Queries over the audit log (JSON Lines, `schemas/audit.schema.json`): an edge module.

The log is hostile input like any file: a crash can leave a truncated last line, an editor can
leave anything. Each bad line becomes one located warning (FILE:LINE) and is skipped; a line
over `MAX_LINE_BYTES` is skipped without being held in memory. Nothing here raises for content.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

from bcsync.auditor.expiry import parse_within
from bcsync.errors import FileAccessError
from bcsync.files.jsontext import is_unicode_text

MAX_LINE_BYTES = 1 << 20  # a real record is well under 10 KB
_CHUNK = 1 << 16


@dataclass(frozen=True, slots=True)
class LogWarning:
    file: str
    line: int
    message: str

    def format(self) -> str:
        return f"{self.file}:{self.line}: warning: {self.message}"


@dataclass(frozen=True)
class AuditFilter:
    """Which records to keep; None matches everything."""

    since: datetime | None = None
    member: str | None = None
    bc_id: str | None = None

    def matches(self, record: dict[str, Any], when: datetime | None) -> bool:
        if self.bc_id is not None and str(record.get("bc_id")) != self.bc_id:
            return False
        if self.since is not None and (when is None or when < self.since):
            return False
        return self.member is None or self.member.lower() in record_members(record)


@dataclass
class AuditResult:
    records: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[LogWarning] = field(default_factory=list)
    lines: int = 0


def parse_since(text: str) -> datetime:
    """A date (midnight UTC) or an ISO date-time; ValueError otherwise."""
    value = text.strip()
    if len(value) == 10:
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def parse_when(text: str, now: datetime) -> datetime:
    """`--since`: 'today', 'yesterday' (00:00 UTC), a window back from `now` as `expiring
    --within` reads it ('7d', '2w', '30'), or a date / ISO time; ValueError otherwise."""
    word = text.strip().lower()
    midnight = datetime(now.year, now.month, now.day, tzinfo=UTC)
    if word in ("today", "yesterday"):
        return midnight - timedelta(days=1 if word == "yesterday" else 0)
    try:
        return now - parse_within(word)
    except ValueError:
        return parse_since(text)


def record_time(record: dict[str, Any]) -> datetime | None:
    value = record.get("time")
    if not isinstance(value, str):
        return None
    try:
        return parse_since(value) if len(value) > 10 else None
    except ValueError:
        return None


def record_members(record: dict[str, Any]) -> set[str]:
    """The emails a record's change concerns (its target, or the member part of its key)."""
    change = record.get("change")
    if not isinstance(change, dict):
        return set()
    found = set()
    target = change.get("target")
    if isinstance(target, dict) and isinstance(target.get("email"), str):
        found.add(target["email"].lower())
    key = change.get("key")
    if isinstance(key, str):
        found.update(p.lower() for p in key.split(":") if "@" in p)
    return found


def _lines(fh: IO[bytes]) -> Iterator[bytes | None]:
    """The file's lines; None for a line over MAX_LINE_BYTES (skipped in chunks, never held)."""
    while True:
        line = fh.readline(MAX_LINE_BYTES + 1)
        if not line:
            return
        if len(line) > MAX_LINE_BYTES and not line.endswith(b"\n"):
            while True:
                rest = fh.readline(_CHUNK)
                if not rest or rest.endswith(b"\n"):
                    break
            yield None
            continue
        yield line


def _parse(line: bytes | None, last: bool) -> tuple[dict[str, Any] | None, str | None]:
    """(record, None) or (None, why the line is skipped); (None, None) for a blank line."""
    if line is None:
        return None, f"line longer than {MAX_LINE_BYTES} bytes; skipped"
    if not line.strip():
        return None, None
    try:
        doc = json.loads(line.decode("utf-8"))
    except UnicodeDecodeError:
        return None, "not UTF-8; skipped"
    except (json.JSONDecodeError, RecursionError) as exc:
        if last and not line.endswith(b"\n"):
            return None, "truncated last line (an interrupted write?); skipped"
        return None, f"not JSON ({getattr(exc, 'msg', 'too deeply nested')}); skipped"
    except ValueError:  # an integer of thousands of digits (Python's int-to-str limit)
        return None, "a number too long to read; skipped"
    if not isinstance(doc, dict):
        return None, f"a JSON {type(doc).__name__}, not an audit record; skipped"
    if not is_unicode_text(doc):
        return None, "a lone surrogate escape (\\ud800-\\udfff), not Unicode text; skipped"
    return doc, None


def _open(path: Path) -> IO[bytes]:
    """The log opened for reading; a missing or non-regular file is one clear error."""
    if not path.exists():
        raise FileAccessError(
            f"no audit log at {path}",
            hint="records are written by `bcsync apply`, beside its config; pass the config PATHS "
            "(`bcsync audit PATHS`), --log FILE or --state-dir",
        )
    if not path.is_file():
        raise FileAccessError(f"the audit log {path} is not a regular file")
    try:
        return path.open("rb")
    except OSError as exc:
        raise FileAccessError(f"cannot read the audit log {path}: {exc.strerror or exc}") from exc


def read_records(path: str | Path) -> list[dict[str, Any]]:
    """Every readable record of an audit log, in order (damaged lines skipped)."""
    return query(path, AuditFilter()).records


def query(path: str | Path, where: AuditFilter) -> AuditResult:
    """The records of the log at `path` that match `where`, in file order, and the warnings."""
    shown = str(path)
    result = AuditResult()
    with _open(Path(path)) as fh:
        lines = _lines(fh)
        line = next(lines, b"")
        number = 0
        while line != b"":
            number += 1
            following = next(lines, b"")
            record, problem = _parse(line, last=following == b"")
            if problem:
                result.warnings.append(LogWarning(shown, number, problem))
            elif record is not None:
                _keep(result, record, where, LogWarning(shown, number, "no valid time; skipped"))
            line = following
        result.lines = number
    return result


def _keep(result: AuditResult, record: dict[str, Any], where: AuditFilter, bad: LogWarning) -> None:
    when = record_time(record)
    if where.since is not None and when is None:
        result.warnings.append(bad)
    elif where.matches(record, when):
        result.records.append(record)


def query_all(paths: Sequence[Path], where: AuditFilter) -> AuditResult:
    """`query` over several logs (configs in several directories), records in time order."""
    if len(paths) == 1:
        return query(paths[0], where)
    merged = AuditResult()
    for path in paths:
        found = query(path, where)
        merged.records += found.records
        merged.warnings += found.warnings
        merged.lines += found.lines
    merged.records.sort(key=lambda r: str(r.get("time", "")))
    return merged
