"""`git blame` of config lines: which commit introduced a line, who wrote it, when. An edge module.

One `git blame --line-porcelain` per file, cached, whatever the number of lines asked about.
Outside a git checkout, without git, or for a file git does not track, `line` returns None and
`unavailable` says why in one sentence; nothing here raises for those.
"""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime
from pathlib import Path

from bcsync.story import BlameLine

NOT_COMMITTED = "0" * 40
TIMEOUT_S = 20


def parse_porcelain(text: str) -> dict[int, BlameLine]:
    """`git blame --line-porcelain` output -> final line number -> BlameLine."""
    out: dict[int, BlameLine] = {}
    fields: dict[str, str] = {}
    header: list[str] = []
    for line in text.splitlines():
        if line.startswith("\t"):
            if len(header) >= 3:
                out[int(header[2])] = _blame_line(header[0], fields)
            fields, header = {}, []
        elif not header:
            header = line.split(" ")
        else:
            key, _, value = line.partition(" ")
            fields[key] = value
    return out


def _blame_line(commit: str, fields: dict[str, str]) -> BlameLine:
    when = fields.get("author-time", "")
    day = datetime.fromtimestamp(int(when), UTC).date() if when.isdigit() else None
    return BlameLine(
        commit=None if commit == NOT_COMMITTED else commit,
        author=fields.get("author", ""),
        author_mail=fields.get("author-mail", "").strip("<>"),
        date=day,
        summary=fields.get("summary", ""),
    )


def _why_failed(stderr: str) -> str:
    text = stderr.lower()
    if "not a git repository" in text:
        return "not in a git checkout"
    if "no such path" in text or "no such file" in text:
        return "the file is not committed to git"
    if "dubious ownership" in text:
        return "git refuses this checkout (dubious ownership; see `git config safe.directory`)"
    first = stderr.strip().splitlines()[0] if stderr.strip() else "git blame failed"
    return first[:200]


class Blamer:
    """Blames config lines, one git call per file; results and failures are cached."""

    def __init__(self, cwd: str | Path | None = None) -> None:
        self.cwd = Path(cwd) if cwd else Path.cwd()
        self._lines: dict[str, dict[int, BlameLine]] = {}
        self._failed: dict[str, str] = {}

    def line(self, file: str, line: int) -> BlameLine | None:
        """The blame of `file`'s line (1-based), or None when unavailable."""
        return self._load(file).get(line)

    def unavailable(self, file: str) -> str | None:
        """Why blame is unavailable for `file`, or None when it is available."""
        self._load(file)
        return self._failed.get(file)

    def _load(self, file: str) -> dict[int, BlameLine]:
        if file in self._lines:
            return self._lines[file]
        path = self.cwd / file
        lines: dict[int, BlameLine] = {}
        if not path.is_file():
            self._failed[file] = "the file does not exist"
            self._lines[file] = lines
            return lines
        try:
            done = subprocess.run(
                ["git", "blame", "--line-porcelain", "--", path.name],
                cwd=str(path.parent),
                capture_output=True,
                text=True,
                timeout=TIMEOUT_S,
                check=False,
            )
        except FileNotFoundError:
            self._failed[file] = "git is not installed"
        except (OSError, subprocess.SubprocessError) as exc:
            self._failed[file] = f"git blame failed: {exc}"
        else:
            if done.returncode == 0:
                lines = parse_porcelain(done.stdout)
            else:
                self._failed[file] = _why_failed(done.stderr)
        self._lines[file] = lines
        return lines


def split_ref(ref: str) -> tuple[str, int] | None:
    """'dir/bcsync.yaml:12' -> ('dir/bcsync.yaml', 12); None when it names no line."""
    file, sep, line = ref.rpartition(":")
    if not sep or not file or not line.isdigit():
        return None
    return file, int(line)
