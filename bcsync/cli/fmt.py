"""`fmt`: keeping config files canonical, so two people's edits diff cleanly."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from bcsync.cli.base import CONTEXT_SETTINGS, echo_err
from bcsync.errors import ConfigError, FormatRefusedError


@click.command(context_settings=CONTEXT_SETTINGS)
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--check", is_flag=True, help="Write nothing; exit 2 when a file would change.")
@click.option("--diff", "show_diff", is_flag=True, help="Print what would change (unified diff).")
def fmt(paths: tuple[str, ...], check: bool, show_diff: bool) -> int:
    """Rewrite config files in the canonical shape, so two people's edits diff cleanly.

    Keys in one order (version, business_center, provider, policy, assets, groups, members,
    partners; emails and aliases sorted), ids in double quotes, other strings plain where YAML
    reads them back unchanged. Comments are kept; the data never changes (checked before writing).

    \b
    Exit codes: 0 all formatted (or rewritten); 2 with --check or --diff when a file would change
    (like plan --detailed-exitcode; ruff format --check exits 1, terraform fmt -check 3: any
    non-zero fails a pipeline); 1 when a file cannot be formatted safely (it is left as it was);
    3 when a file is not valid YAML.

    PATHS are config files or directories of them (default: bcsync.yaml, else bcsync/*.yaml).
    """
    from bcsync.config import load
    from bcsync.config.fmt import FormatError, format_text

    files = _config_files(paths, load)
    would_change: list[str] = []
    failed: list[str] = []
    for file in files:
        before = _read_text(file)
        try:
            after = format_text(before)
        except FormatError as err:
            echo_err(f"{file}: cannot format: {err}")
            failed.append(file)
            continue
        if after == before:
            continue
        would_change.append(file)
        if show_diff:
            click.echo(_unified(file, before, after), nl=False)
        if not (check or show_diff):
            Path(file).write_text(after, encoding="utf-8")
    verb = "would reformat" if (check or show_diff) else "reformatted"
    for file in would_change:
        echo_err(f"{verb} {file}")
    echo_err(f"{len(would_change)} file(s) {verb}, {len(files) - len(would_change)} unchanged.")
    if failed:
        raise FormatRefusedError(
            f"{len(failed)} file(s) could not be formatted: {', '.join(failed)}"
        )
    return 2 if would_change and (check or show_diff) else 0


def _config_files(paths: tuple[str, ...], load: Any) -> list[str]:
    """The config files PATHS name (seeds skipped, as validate does); YAML errors exit 3."""
    from datetime import date

    result = load(list(paths), now=date.today())
    broken = {p.file for p in result.errors if "invalid YAML" in p.message or p.line is None}
    syntax = [p for p in result.errors if p.file in broken]
    if syntax:
        raise ConfigError(syntax)
    return list(result.files)


def _read_text(file: str) -> str:
    from bcsync.config.composer import LoadFailed
    from bcsync.config.loader import read_document

    try:
        read_document(file)  # regular file, size cap, UTF-8, one document, no duplicate keys
        return Path(file).read_bytes().decode("utf-8-sig")
    except LoadFailed as exc:
        raise ConfigError(exc.problems) from None


def _unified(file: str, before: str, after: str) -> str:
    import difflib

    lines = difflib.unified_diff(
        before.splitlines(keepends=True), after.splitlines(keepends=True), file, file
    )
    return "".join(lines)
