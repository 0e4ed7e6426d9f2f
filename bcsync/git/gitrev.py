"""Configs as they were at a git revision: read with git, checked and built like the working tree.

    repo = open_repo(".")                        # GitError (exit 1) outside a checkout
    commit = repo.resolve("main~3")              # RevisionError (exit 64) for an unknown REF
    result = repo.load_at(commit.sha, paths, now)  # a LoadResult, as `bcsync.config.load` gives
    repo.commits_touching(paths, since=date)     # oldest first, merges left out

PATHS are what the user typed, relative to the working directory, and are shown as typed;
git is asked with paths relative to the repository's root. Files are read with one
`git cat-file --batch` into memory and go through `bcsync.config.load_sources`, so every schema
check and rule of the working tree applies to a revision too. A path missing at a revision is
absent (the config did not exist yet), not an error: history starts somewhere.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path, PurePosixPath

from bcsync.auditor.revisions import Commit
from bcsync.config import LoadResult, load_sources
from bcsync.config.loader import DEFAULT_DIR, DEFAULT_FILES, MAX_BYTES, SUFFIXES, SourceFile
from bcsync.errors import BcsyncError, Problem, UsageError

DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# Field and record separators for `git log --format`: never in names or subjects.
FS, RS = "\x1f", "\x1e"
LOG_FORMAT = FS.join(("%H", "%P", "%an", "%ae", "%aI", "%cI", "%s")) + RS


class GitError(BcsyncError):
    """git is missing, failed, or the directory is not a checkout; exit 1."""


class RevisionError(UsageError):
    """A REF (or date) names no commit; exit 64, like any bad option value."""


@dataclass(frozen=True, slots=True)
class Blob:
    """A config file at a revision: the path as shown, git's object id, its size."""

    source: SourceFile
    sha: str
    size: int
    mode: str


@dataclass
class Repo:
    """A git checkout, entered from `cwd`; remembers blobs it has read."""

    root: Path
    cwd: Path
    _blobs: dict[str, bytes] = field(default_factory=dict, repr=False)
    _loaded: dict[tuple[object, ...], LoadResult] = field(default_factory=dict, repr=False)

    # -- running git ---------------------------------------------------------------------

    def git(self, *args: str, stdin: bytes | None = None) -> bytes:
        """git's stdout; GitError with its first stderr line when it fails."""
        return run_git(self.root, *args, stdin=stdin)

    # -- revisions -----------------------------------------------------------------------

    def resolve(self, ref: str) -> Commit:
        """A commit from a REF (`main`, `HEAD~3`, `main@{2026-10-01}`, a sha) or a YYYY-MM-DD."""
        if DAY.match(ref):
            found = self.commit_before(_parse_day(ref))
            if found is None:
                raise RevisionError(
                    f"no commit on HEAD before {ref}",
                    hint=self._shallow_hint() or "the history starts after that date",
                )
            return found
        if ref.startswith("-") or "\x00" in ref:
            raise RevisionError(f"not a git revision: {ref!r}")
        try:
            sha = self.git(
                "rev-parse", "--verify", "--quiet", "--end-of-options", ref + "^{commit}"
            )
        except GitError:
            sha = b""
        if not sha.strip():
            raise RevisionError(
                f"unknown git revision {ref!r}",
                hint="name a branch, tag, commit or YYYY-MM-DD; `git log --oneline` lists commits",
            )
        return self.commit(sha.decode().strip())

    def commit(self, sha: str) -> Commit:
        """One commit's metadata."""
        out = self.git("log", "-1", f"--format={LOG_FORMAT}", sha, "--")
        commits = _parse_log(out)
        if not commits:
            raise RevisionError(f"unknown git revision {sha!r}")
        return commits[0]

    def commit_before(self, day: date, ref: str = "HEAD") -> Commit | None:
        """The newest first-parent commit of `ref` that landed before `day` (00:00 UTC)."""
        if day == date.min:  # nothing comes before the first day there is (and -1 s overflows)
            return None
        cutoff = datetime(day.year, day.month, day.day, tzinfo=UTC) - timedelta(seconds=1)
        out = self.git(
            "rev-list", "-1", "--first-parent", f"--before={cutoff:%Y-%m-%d %H:%M:%S} +0000", ref
        )
        sha = out.decode().strip()
        return self.commit(sha) if sha else None

    def default_base(self) -> tuple[Commit, str]:
        """The merge-base of HEAD with origin/main (else main, master); else HEAD itself."""
        for branch in ("origin/main", "main", "origin/master", "master"):
            try:
                out = self.git("merge-base", "HEAD", branch)
            except GitError:
                continue
            return self.commit(out.decode().strip()), f"merge-base of HEAD and {branch}"
        return self.resolve("HEAD"), "HEAD"

    def commits_touching(
        self, paths: Sequence[str], since: date | None = None, ref: str = "HEAD"
    ) -> list[Commit]:
        """Non-merge commits of `ref` that touch the configs in PATHS, oldest first."""
        args = ["log", "--no-merges", "--topo-order", "--reverse", f"--format={LOG_FORMAT}"]
        if since is not None:
            args.append(f"--since={since:%Y-%m-%d} 00:00:00 +0000")
        specs = [*self.pathspecs(paths), *self._former_names(paths, ref)]
        args += [ref, "--", *(_pathspec(p) for p in specs)]
        return _parse_log(self.git(*args))

    def _former_names(self, paths: Sequence[str], ref: str) -> list[str]:
        """Earlier names of the config files in PATHS (git's renames), so history follows a move."""
        names: list[str] = []
        for raw in paths:
            rel = self.relative(raw)
            entry = self.git("ls-tree", "--full-tree", ref, "--", _pathspec(rel)).split()
            if entry[1:2] != [b"blob"]:
                continue  # a directory, or a file not committed
            out = self.git("log", "--follow", "--name-only", "--format=", ref, "--", _pathspec(rel))
            names += [n for n in out.decode("utf-8", "surrogateescape").splitlines() if n]
        return list(dict.fromkeys(names))

    def is_shallow(self) -> bool:
        return self.git("rev-parse", "--is-shallow-repository").strip() == b"true"

    def _shallow_hint(self) -> str | None:
        if self.is_shallow():
            return "this clone is shallow: fetch the full history (actions/checkout fetch-depth: 0)"
        return None

    # -- files at a revision -------------------------------------------------------------

    def pathspecs(self, paths: Sequence[str]) -> list[str]:
        """PATHS (relative to the working directory) as paths from the repository's root."""
        if not paths:
            return [self.relative(p) for p in (*DEFAULT_FILES, DEFAULT_DIR)]
        return [self.relative(p) for p in paths]

    def relative(self, path: str) -> str:
        """One PATH from the repository's root; GitError when it lies outside."""
        full = Path(os.path.normpath(self.cwd / path))
        try:
            rel = full.relative_to(self.root)
        except ValueError:
            raise GitError(
                f"{path}: outside the git checkout at {self.root}",
                hint="run bcsync from inside the repository that holds the configs",
            ) from None
        return rel.as_posix() if rel.parts else "."

    def blobs(self, rev: str, paths: Sequence[str]) -> list[Blob]:
        """The config files PATHS name at `rev`, in the order `bcsync.config.load` finds them."""
        listing = self._ls_tree(rev, self.pathspecs(paths))
        if not paths:
            return self._default_blobs(listing)
        found: list[Blob] = []
        for raw in paths:
            rel = self.relative(raw)
            if rel not in listing and not _children(listing, rel):
                raw, rel = self._before_rename(rev, raw, rel)
                listing.update(self._ls_tree(rev, [_pathspec(rel)]))
            if rel in listing:
                mode, sha, size = listing[rel]
                found.append(Blob(SourceFile(raw), sha, size, mode))
                continue
            for name in _children(listing, rel):
                mode, sha, size = listing[_join(rel, name)]
                found.append(Blob(SourceFile(os.path.join(raw, name), True), sha, size, mode))
        return _unique(found)

    def _before_rename(self, rev: str, raw: str, rel: str) -> tuple[str, str]:
        """A config file missing at `rev` under its name now: its name there, if git saw a rename
        between `rev` and HEAD (so a moved config keeps its history); else the name unchanged."""
        out = self.git("diff", "-M", "--name-status", "-z", "--diff-filter=R", rev, "HEAD", "--")
        parts = out.decode("utf-8", "surrogateescape").split("\x00")
        for i in range(0, len(parts) - 2, 3):
            if parts[i].startswith("R") and parts[i + 2] == rel:
                old = parts[i + 1]
                return os.path.relpath(self.root / old, self.cwd), old
        return raw, rel

    def _default_blobs(self, listing: dict[str, tuple[str, str, int]]) -> list[Blob]:
        for name in DEFAULT_FILES:
            rel = self.relative(name)
            if rel in listing:
                mode, sha, size = listing[rel]
                return [Blob(SourceFile(name), sha, size, mode)]
        rel_dir = self.relative(DEFAULT_DIR)
        return [
            Blob(
                SourceFile(os.path.join(DEFAULT_DIR, n), True), *_sha_size_mode(listing, rel_dir, n)
            )
            for n in _children(listing, rel_dir)
        ]

    def _ls_tree(self, rev: str, specs: Sequence[str]) -> dict[str, tuple[str, str, int]]:
        """path -> (mode, blob sha, size) of every blob under the pathspecs at `rev`."""
        out = self.git("ls-tree", "-r", "-l", "-z", "--full-tree", rev, "--", *specs)
        listing: dict[str, tuple[str, str, int]] = {}
        for entry in out.split(b"\x00"):
            if not entry:
                continue
            meta, _, name = entry.decode("utf-8", "surrogateescape").partition("\t")
            mode, kind, sha, size = meta.split()
            if kind == "blob":
                listing[name] = (mode, sha, int(size) if size.isdigit() else 0)
        return listing

    def read_blobs(self, shas: Sequence[str]) -> None:
        """Read blobs into memory with one `git cat-file --batch` (skipping ones already read)."""
        wanted = sorted(set(shas) - self._blobs.keys())
        if not wanted:
            return
        out = self.git("cat-file", "--batch", stdin="".join(s + "\n" for s in wanted).encode())
        pos = 0
        for sha in wanted:
            header_end = out.index(b"\n", pos)
            header = out[pos:header_end].split()
            size = int(header[2]) if len(header) == 3 else 0
            self._blobs[sha] = out[header_end + 1 : header_end + 1 + size]
            pos = header_end + 1 + size + 1 if len(header) == 3 else header_end + 1

    def load_at(self, rev: str | None, paths: Sequence[str], now: date) -> LoadResult:
        """Load, check and build the configs of PATHS at `rev` (None: no configs at all)."""
        if rev is None:
            return LoadResult()
        return self.load_blobs(self.blobs(rev, paths), now)

    def load_blobs(self, blobs: Sequence[Blob], now: date) -> LoadResult:
        """Load blobs already listed; the same blobs on the same day are built once."""
        key = (now, *((b.source, b.sha) for b in blobs))
        cached = self._loaded.get(key)
        if cached is None:
            cached = self._loaded[key] = self._load(blobs, now)
        return cached

    def _load(self, blobs: Sequence[Blob], now: date) -> LoadResult:
        refused = [p for b in blobs if (p := _refusal(b)) is not None]
        readable = [b for b in blobs if _refusal(b) is None]
        if not readable:
            return LoadResult(problems=refused)
        self.read_blobs([b.sha for b in readable])
        files = [(b.source, self._blobs[b.sha]) for b in readable]
        result = load_sources(files, now, cwd=str(self.cwd))
        if not refused:
            return result
        return LoadResult(result.configs, [*refused, *result.problems], result.files)


def open_repo(cwd: str | Path = ".") -> Repo:
    """The git checkout holding `cwd`; GitError when there is none (or git is missing)."""
    where = Path(cwd).resolve()
    try:
        out = run_git(where, "rev-parse", "--show-toplevel")
    except GitError as err:
        raise GitError(
            f"not inside a git checkout: {where}",
            hint="history and diff read the configs' git history; run them inside the repository "
            "(`bcsync validate` and `bcsync plan` work anywhere)",
        ) from err
    root = Path(out.decode().strip()).resolve()
    try:
        run_git(root, "rev-parse", "--verify", "--quiet", "HEAD")
    except GitError as err:
        raise GitError(f"the git repository at {root} has no commits yet") from err
    return Repo(root=root, cwd=where)


def run_git(where: Path, *args: str, stdin: bytes | None = None) -> bytes:
    """Run git in `where`; never reads config from the environment that could redirect it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_TERMINAL_PROMPT="0", LC_ALL="C", GIT_OPTIONAL_LOCKS="0")
    try:
        done = subprocess.run(
            ["git", "-C", str(where), "-c", "core.quotepath=off", *args],
            input=stdin,
            capture_output=True,
            env=env,
            check=False,
        )
    except FileNotFoundError:
        raise GitError("git is not installed (or not on PATH)") from None
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        first = message[0] if message else f"exit status {done.returncode}"
        raise GitError(f"git {args[0]} failed: {first}")
    return done.stdout


def _parse_log(out: bytes) -> list[Commit]:
    commits = []
    for record in out.decode("utf-8", "replace").split(RS):
        record = record.strip("\n")
        if not record:
            continue
        sha, parents, author, email, authored, committed, subject = record.split(FS, 6)
        commits.append(
            Commit(
                sha=sha,
                parent=parents.split()[0] if parents.split() else None,
                author=author,
                email=email,
                authored=datetime.fromisoformat(authored),
                committed=datetime.fromisoformat(committed),
                subject=subject,
            )
        )
    return commits


def _parse_day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise RevisionError(f"not a date: {text!r}", hint="use YYYY-MM-DD") from None


def _pathspec(path: str) -> str:
    # Literal pathspecs: a config named `*.yaml` or `:x` must not turn into a pattern.
    # The repository's root is ":(top)" alone: git matches nothing for ":(top)." (`history .`).
    return ":(top,literal)" + path if path != "." else ":(top)"


def _join(directory: str, name: str) -> str:
    return name if directory == "." else f"{directory}/{name}"


def _children(listing: dict[str, tuple[str, str, int]], directory: str) -> list[str]:
    """Config-looking file names directly inside `directory`, sorted (as the loader lists them)."""
    names = []
    for path in listing:
        parent = str(PurePosixPath(path).parent)
        name = PurePosixPath(path).name
        if parent == directory and name.endswith(SUFFIXES) and not name.startswith("."):
            names.append(name)
    return sorted(names)


def _sha_size_mode(
    listing: dict[str, tuple[str, str, int]], directory: str, name: str
) -> tuple[str, int, str]:
    mode, sha, size = listing[_join(directory, name)]
    return sha, size, mode


def _unique(blobs: list[Blob]) -> list[Blob]:
    seen: set[str] = set()
    out = []
    for blob in blobs:
        key = os.path.normpath(blob.source.path)
        if key not in seen:
            seen.add(key)
            out.append(blob)
    return out


def _refusal(blob: Blob) -> Problem | None:
    """A blob not read at all: a symbolic link (never followed) or one over the size cap."""
    file = blob.source.path
    if blob.mode == "120000":
        return Problem(file, None, None, "", "a symbolic link in git; not followed")
    if blob.size > MAX_BYTES:
        limit = MAX_BYTES // (1024 * 1024)
        return Problem(
            file, None, None, "", f"file too large ({blob.size:,} bytes; the limit is {limit} MiB)"
        )
    return None
