"""Config loading: paths -> checked `BusinessCenterConfig`s, or every problem, located.

    load(paths, now) -> LoadResult        # never raises for bad input: problems are data
    load_strict(paths, now) -> LoadResult # raises ConfigError carrying every problem
    load_sources([(SourceFile, bytes)], now) -> LoadResult   # files read elsewhere (git)

Pipeline per file: loader (bytes -> Document with positions) -> schema -> rules on the document
-> build (with where each element is written) -> rules on the built config. A file with schema
errors is not built; a file with any error is not planned; warnings do not block.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date

from bcsync.config.build import build_located
from bcsync.config.built_rules import check_built
from bcsync.config.composer import LoadFailed
from bcsync.config.document import Document
from bcsync.config.loader import (
    SourceFile,
    discover,
    document_from_bytes,
    looks_like_seed,
    read_document,
    sniff_seed,
)
from bcsync.config.located import Located
from bcsync.config.rules import check_rules
from bcsync.config.schema import check_schema
from bcsync.core.model import BusinessCenterConfig
from bcsync.errors import ConfigError, Problem

__all__ = ["LoadResult", "load", "load_sources", "load_strict"]


@dataclass(frozen=True)
class LoadResult:
    """What `load` found: built configs (files without errors), every problem, the files read."""

    configs: list[BusinessCenterConfig] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    # Files without errors, one Business Center each (built into `configs` unless build=False).
    checked: list[str] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.is_error]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if not p.is_error]

    @property
    def ok(self) -> bool:
        return not self.errors


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Loading makes a few hundred thousand objects and no reference cycles: a collection
    during it only rescans them (a third of validate's time at TikTok's limits)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def load(
    paths: Sequence[str], now: date, *, cwd: str | None = None, build: bool = True
) -> LoadResult:
    """Load, check and build every config in `paths` (files or directories; none: defaults).

    build=False checks without building (`validate`: a third of its time at TikTok's limits);
    `checked` then lists the valid files and `configs` stays empty.
    """
    with _collector_paused():
        return _load(paths, now, cwd, build)


def _load(paths: Sequence[str], now: date, cwd: str | None, build: bool) -> LoadResult:
    sources, problems = discover(list(paths), cwd)
    # A directory may hold the emulator seed next to the configs that name it: recognised from
    # its first keys, never parsed (a seed at TikTok's limits is 100,000 lines).
    seeds = {s for s in sources if s.from_dir and sniff_seed(s.path, cwd)}
    docs: dict[SourceFile, Document] = {}
    failed: dict[SourceFile, list[Problem]] = {}
    for source in sources:
        if source in seeds:
            continue
        try:
            docs[source] = read_document(source.path, cwd)
        except LoadFailed as exc:
            failed[source] = exc.problems
    return _check_and_build(paths, sources, docs, failed, problems, now, cwd, seeds, build=build)


def load_sources(
    files: Sequence[tuple[SourceFile, bytes]], now: date, *, cwd: str | None = None
) -> LoadResult:
    """Like `load`, for files already read (a config at a git revision): same checks and build."""
    with _collector_paused():
        return _load_sources(files, now, cwd)


def _load_sources(
    files: Sequence[tuple[SourceFile, bytes]], now: date, cwd: str | None
) -> LoadResult:
    docs: dict[SourceFile, Document] = {}
    failed: dict[SourceFile, list[Problem]] = {}
    # As in `load`: a seed in a directory is recognised from its first keys, never parsed.
    seeds = {source for source, raw in files if source.from_dir and looks_like_seed(raw)}
    for source, raw in files:
        if source in seeds:
            continue
        try:
            docs[source] = document_from_bytes(source.path, raw, cwd)
        except LoadFailed as exc:
            failed[source] = exc.problems
    paths = [source.path for source, _ in files]
    return _check_and_build(paths, [s for s, _ in files], docs, failed, [], now, cwd, seeds)


def _check_and_build(
    paths: Sequence[str],
    sources: list[SourceFile],
    docs: dict[SourceFile, Document],
    failed: dict[SourceFile, list[Problem]],
    problems: list[Problem],
    now: date,
    cwd: str | None,
    sniffed: set[SourceFile] | None = None,
    *,
    build: bool = True,
) -> LoadResult:
    """Drop seeds, then check and build every document read (files with errors are not built)."""
    # A directory may hold the emulator seed next to the configs that name it: not a config.
    seeds = _seed_files(docs.values())
    kept = [s for s in sources if not (s.from_dir and _real(s.path, cwd) in seeds)]
    # An unreferenced seed in a directory (left behind after switching to `tiktok`) is skipped
    # with a warning rather than reported as a config full of unknown keys.
    for source in [s for s in kept if s.from_dir and _is_seed(s, docs, sniffed or set())]:
        kept.remove(source)
        problems.append(
            Problem(
                source.path,
                None,
                None,
                "",
                "skipped: this looks like an emulator seed, not a config",
                "name it in provider.seed, or move it out of the config directory",
                severity="warning",
            )
        )
    if not kept and not problems:
        problems.append(Problem(", ".join(paths) or ".", None, None, "", "no config files found"))
    configs: list[BusinessCenterConfig] = []
    checked: list[str] = []
    owners: dict[str, Document] = {}
    for source in kept:
        if source in failed:
            problems.extend(failed[source])
            continue
        doc = docs[source]
        shapes = check_schema(doc)
        found = shapes + check_rules(doc, now) + _check_unique_bc(doc, owners)
        found += _check_seed_exists(doc)
        # What the file means is judged on the config plan builds: without the grants when none
        # will be planned (validate, or a file with errors), which those rules never read.
        planned = build and not any(p.is_error for p in found)
        shaped = not any(p.is_error for p in shapes)
        located = _build_located(doc, now, planned, shaped=shaped)
        if located is not None:
            # A shapeless part may read as absent (a partner's misplaced shares): only errors.
            found += [p for p in check_built(located) if shaped or p.is_error]
        config = located.config if located is not None and planned else None
        problems.extend(sorted(found, key=_position))
        if not any(p.is_error for p in found):
            checked.append(source.path)
            if config is not None:
                warned = tuple(p.format() for p in found if not p.is_error)
                configs.append(replace(config, warnings=warned))
    files = [s.path for s in kept]
    return LoadResult(configs=configs, problems=problems, files=files, checked=checked)


def _build_located(doc: Document, now: date, planned: bool, *, shaped: bool) -> Located | None:
    """The built config the meaning rules judge, or None when the document cannot be built.

    A document the schema rejects is built too, so that an unknown key elsewhere does not hide
    that the file has too few admins (every problem in one pass); when a part the build reads
    has the wrong shape, the build stops and those rules wait for the schema's errors' fix.
    """
    if shaped:
        return build_located(doc, now, grants=planned)
    try:
        return build_located(doc, now, grants=False)
    except (AttributeError, KeyError, TypeError, ValueError):
        return None


def load_strict(paths: Sequence[str], now: date, *, cwd: str | None = None) -> LoadResult:
    """Like `load`, but raise ConfigError (exit 3) with every problem when any is an error.

    What plan, apply and every command that needs configs call; the result's warnings are
    theirs to show.
    """
    result = load(paths, now, cwd=cwd)
    if result.errors:
        raise ConfigError(result.problems)
    return result


def _position(problem: Problem) -> tuple[int, int]:
    return (problem.line or 0, problem.col or 0)


def _real(path: str, cwd: str | None) -> str:
    return os.path.realpath(os.path.join(cwd or os.getcwd(), path))


def _is_seed(
    source: SourceFile, docs: dict[SourceFile, Document], sniffed: set[SourceFile]
) -> bool:
    return source in sniffed or (source in docs and _looks_like_seed(docs[source]))


def _looks_like_seed(doc: Document) -> bool:
    data = doc.data
    return isinstance(data, dict) and "business_centers" in data and "business_center" not in data


def _seed_files(docs: Iterable[Document]) -> set[str]:
    seeds = set()
    for doc in docs:
        provider = doc.data.get("provider")
        seed = provider.get("seed") if isinstance(provider, dict) else None
        if isinstance(seed, str) and seed and "\x00" not in seed:
            seeds.add(os.path.realpath(os.path.join(doc.base_dir, seed)))
    return seeds


def _check_seed_exists(doc: Document) -> list[Problem]:
    """The local provider's seed file should exist (a warning: only `plan` needs it)."""
    provider = doc.data.get("provider")
    if not isinstance(provider, dict) or provider.get("type", "local") != "local":
        return []
    seed = provider.get("seed")
    if not isinstance(seed, str) or not seed or "\x00" in seed:
        return []
    if os.path.isfile(os.path.join(doc.base_dir, seed)):
        return []
    return [
        doc.problem(
            ("provider", "seed"),
            f"seed file {seed!r} not found next to the config",
            "the local provider seeds its emulator from it on first use",
            warning=True,
        )
    ]


def _check_unique_bc(doc: Document, owners: dict[str, Document]) -> list[Problem]:
    """One file per Business Center: a second file declaring the same id is an error."""
    bc = doc.data.get("business_center")
    bc_id = bc.get("id") if isinstance(bc, dict) else None
    if not isinstance(bc_id, str):
        return []
    first = owners.setdefault(bc_id, doc)
    if first is doc:
        return []
    mark = first.locate(("business_center", "id"))
    where = f"{first.file}:{mark[0]}" if mark else first.file
    return [
        doc.problem(
            ("business_center", "id"),
            f"Business Center {bc_id} is already declared in {where}",
            "one file per Business Center",
        )
    ]
