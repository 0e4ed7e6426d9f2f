"""The audit log: append-only JSON Lines, one record per change attempt (schemas/audit.schema.json).

Each record is written and flushed to the OS as it happens (a killed process loses nothing), and
fsynced at the end of every stage (a machine crash loses at most the stage in flight). Records
never hold a token: only ids, roles, request ids and messages the provider has already redacted.
"""

from __future__ import annotations

import getpass
import json
import os
import subprocess
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from bcsync import __version__
from bcsync.errors import FileAccessError

AUDIT_FORMAT_VERSION = 1


def actor(env: Mapping[str, str] | None = None) -> str:
    """Who is applying: the CI actor when there is one, else the OS user."""
    env = os.environ if env is None else env
    if env.get("GITHUB_ACTOR"):
        return f"github:{env['GITHUB_ACTOR']}"
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def _git(directory: str | Path, *args: str) -> str | None:
    """The output of a git command in `directory`; None outside a checkout or without git."""
    try:
        out = subprocess.run(
            ["git", *args],
            cwd=str(directory),
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout if out.returncode == 0 else None


def git_commit(directory: str | Path = ".") -> str | None:
    """The HEAD commit of the git checkout holding `directory`, if any."""
    commit = (_git(directory, "rev-parse", "HEAD") or "").strip()
    return commit if len(commit) == 40 else None


def git_dirty(directory: str | Path = ".") -> bool | None:
    """Whether the git checkout holding `directory` has uncommitted changes; None outside one."""
    status = _git(directory, "status", "--porcelain", "--untracked-files=no")
    return None if status is None else bool(status.strip())


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class AuditLog:
    """Appends records to a JSON Lines file; usable as a context manager."""

    def __init__(self, path: str | Path, *, context: Mapping[str, Any] | None = None) -> None:
        self.path = Path(path)
        self.context = dict(context or {})
        self._fh: IO[str] | None = None
        self.count = 0

    def __enter__(self) -> AuditLog:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def open(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # Created 0600 like plan files; an existing file keeps its (maybe tighter) mode.
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            self._fh = os.fdopen(fd, "a", encoding="utf-8")
        except OSError as exc:
            raise FileAccessError(
                f"cannot open the audit log {self.path}: {exc.strerror or exc}",
                hint="pass --audit-log PATH to a writable location",
            ) from exc

    def close(self) -> None:
        if self._fh is not None:
            self.sync()
            self._fh.close()
            self._fh = None

    def write(self, record: Mapping[str, Any]) -> None:
        """Append one record and push it to disk."""
        if self._fh is None:
            self.open()
        assert self._fh is not None
        doc = {
            "format_version": AUDIT_FORMAT_VERSION,
            "time": now_iso(),
            **self.context,
            **record,
            "tool_version": __version__,
        }
        self._fh.write(json.dumps(doc, sort_keys=True, ensure_ascii=False) + "\n")
        self._fh.flush()
        self.count += 1

    def sync(self) -> None:
        """Push every record written so far to disk."""
        if self._fh is not None:
            self._fh.flush()
            os.fsync(self._fh.fileno())
