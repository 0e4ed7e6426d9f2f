"""`report`, `why`, `expiring` and `audit`: the auditors' commands (read-only, never write a BC)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import click

from bcsync.cli.base import (
    CONTEXT_SETTINGS,
    EARLIEST_DAY,
    LATEST_DAY,
    echo_err,
    format_option,
    load_configs,
    now_option,
    parse_now,
    run_async,
    state_dir_option,
)
from bcsync.errors import ConfigError, ExitCode, FileAccessError


def _beside(config_path: str) -> Path:
    """The default state directory: `.bcsync` beside the config, as plan and apply use."""
    return Path(config_path).parent / ".bcsync"


def audit_logs(paths: tuple[str, ...], state_dir: str | None) -> list[Path]:
    """Where apply wrote: STATE_DIR/audit.jsonl, else `.bcsync/audit.jsonl` beside each config.

    Every directory holding a config in PATHS (default: bcsync.yaml, else bcsync/*.yaml) is
    looked in, since apply writes beside the first config it was given; the logs that exist are
    read (the first one is named when none does)."""
    from bcsync.config.loader import discover

    if state_dir:
        return [Path(state_dir) / "audit.jsonl"]
    files, problems = discover(list(paths))
    if problems and paths:
        raise ConfigError(problems, "cannot find the configs whose audit log to read")
    logs = list(dict.fromkeys(_beside(f.path) / "audit.jsonl" for f in files))
    if not logs:
        return [Path(".bcsync") / "audit.jsonl"]
    return [log for log in logs if log.exists()] or logs[:1]


def _emit(text: str, out: str | None) -> None:
    """Print, or write to --out (the report's page is meant to be a file)."""
    if out is None:
        click.echo(text, nl=False)
        return
    try:
        Path(out).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise FileAccessError(f"cannot write {out}: {exc.strerror or exc}") from exc
    echo_err(f"Wrote {out}")


@click.command(context_settings=CONTEXT_SETTINGS)
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--offline", is_flag=True, help="From the config alone: no token, no BC read.")
@format_option(
    "text", "markdown", "json", "csv", "html", help="html: one self-contained, filterable page."
)
@click.option("--out", type=click.Path(dir_okay=False), help="Write the report to this file.")
@now_option
@state_dir_option
def report(
    paths: tuple[str, ...],
    offline: bool,
    fmt: str,
    out: str | None,
    now: str | None,
    state_dir: str | None,
) -> int:
    """The effective access matrix: who can reach which asset, at what level, and why.

    For every member and partner, on every asset of every BC in PATHS: the role, where it comes
    from (FILE:LINE, or the group and the member line joining it), expiry and reason. Without
    --offline the BCs are read and every difference is marked, with the access the config does
    not manage (ignored members, asset groups, unmanaged assets, partner shares of types bcsync
    does not manage), and the partners' assets shared with each BC in a section of their own
    (checked against `incoming:` when the config has one).

    PATHS are config files or directories of them (default: bcsync.yaml, else bcsync/*.yaml).
    """

    from bcsync.auditor.access import Observed, build_report
    from bcsync.render import report_data, report_html, report_text

    configs = load_configs(paths, now)
    observed = None
    if not offline:
        from bcsync.auditor.observe import observe_all
        from bcsync.providers.factory import open_providers

        async def go() -> dict[str, Observed]:
            state = Path(state_dir) if state_dir else _beside(configs[0].path)
            async with open_providers(configs, state_dir=state) as providers:
                return await observe_all(configs, providers)

        observed = run_async(go)
    from bcsync.auditor.provenance import collect

    result = build_report(configs, observed, parse_now(now), collect(configs))
    # Text wraps to the terminal's width; piped or written to a file, to 100 columns.
    width = report_text.TEXT_WIDTH
    if out is None and fmt == "text" and sys.stdout.isatty():
        width = shutil.get_terminal_size((width, 24)).columns
    views = {
        "text": lambda r: report_text.render_text(r, width),
        "markdown": report_text.render_markdown,
        "json": report_data.render_json,
        "csv": report_data.render_csv,
        "html": report_html.render_html,
    }
    _emit(views[fmt](result), out)
    return 0


def split_asset_paths(rest: tuple[str, ...]) -> tuple[str | None, tuple[str, ...]]:
    """`why`'s optional ASSET, then PATHS: the first argument is an ASSET unless it exists."""
    if rest and not Path(rest[0]).exists():
        return rest[0], rest[1:]
    return None, rest


@click.command(context_settings=CONTEXT_SETTINGS)
@click.argument("email")
@click.argument("rest", nargs=-1, metavar="[ASSET] [PATHS]...")
@format_option("text", "json", help="Output format.")
@now_option
def why(email: str, rest: tuple[str, ...], fmt: str, now: str | None) -> int:
    """Explain one person's access: each grant, where it was gained, and its config lines.

    EMAIL is a member (or a partner's alias or BC id: access through a partner share is
    explained, with the incoming shares `incoming:` expects from it); ASSET narrows to one asset
    (alias, id or TYPE/ID) and names the partners it is shared with; an argument naming an
    existing file or directory starts the PATHS. From the config alone (no token). For each
    grant: the commit (author, date, message) where it took its current value and through which
    config line or group, from the same commit-by-commit effective access as `history` (group
    edits for others, reformatting and moved lines do not change the answer; a grant from a
    merged branch names its commit and the merge). Every revision is evaluated as of --now. Says
    so when the config is not in a git checkout.
    """
    from bcsync.auditor.why import Explainer
    from bcsync.render import auditor

    asset, paths = split_asset_paths(rest)
    configs = load_configs(paths, now)
    found = Explainer().explain(configs, email, asset, parse_now(now))
    click.echo(auditor.why_json(found) if fmt == "json" else auditor.why_text(found), nl=False)
    return 0


@click.command(context_settings=CONTEXT_SETTINGS)
@click.argument("paths", nargs=-1, type=click.Path())
@click.option(
    "--within", default="30d", show_default=True, help="Window: days (30d, 30) or weeks (2w)."
)
@format_option("text", "json", "csv", help="Output format.")
@now_option
def expiring(paths: tuple[str, ...], within: str, fmt: str, now: str | None) -> int:
    """Members, grants, partners and shares that expire within the window, or have expired.

    Per BC, soonest first, with reasons. Exits 2 when any entry falls in the window (or has
    expired already but is still written in the config), 0 otherwise: a scheduled reminder.

    PATHS are config files or directories of them (default: bcsync.yaml, else bcsync/*.yaml).
    """
    from bcsync.auditor.expiry import expiring as find_expiring
    from bcsync.auditor.expiry import parse_within
    from bcsync.render import auditor

    try:
        window = parse_within(within)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--within") from exc
    today = parse_now(now)
    configs = load_configs(paths, now)
    found = find_expiring(configs, today, window)
    if fmt == "json":
        click.echo(auditor.expiring_json(found, today), nl=False)
    elif fmt == "csv":
        click.echo(auditor.expiring_csv(found, today), nl=False)
    else:
        click.echo(auditor.expiring_text(found, today, within), nl=False)
    return int(ExitCode.CHANGES_PENDING) if found else 0


@click.command(context_settings=CONTEXT_SETTINGS)
@click.argument("paths", nargs=-1, type=click.Path())
@click.option(
    "--log",
    "log",
    type=click.Path(dir_okay=False),
    help="The audit log (default: .bcsync/audit.jsonl beside the configs, or STATE_DIR's).",
)
@click.option(
    "--since",
    metavar="WHEN",
    help="Records at or after WHEN: YYYY-MM-DD, an ISO time, today, yesterday, or a window back "
    "from now as --within reads it (7d, 2w).",
)
@click.option("--member", metavar="EMAIL", help="Records about this member.")
@click.option("--bc", "bc_id", metavar="ID", help="Records of this Business Center.")
@format_option("text", "json", "csv", help="Output format.")
@state_dir_option
def audit(
    paths: tuple[str, ...],
    log: str | None,
    since: str | None,
    member: str | None,
    bc_id: str | None,
    fmt: str,
    state_dir: str | None,
) -> int:
    """Query the audit log: what apply changed, when, who ran it, from which commit.

    The log is where apply wrote it: .bcsync/audit.jsonl beside the configs in PATHS (beside
    each, when they lie in several directories), or STATE_DIR/audit.jsonl with --state-dir.

    Damaged lines (a truncated last line after a crash, non-JSON, oversized) are skipped with
    a FILE:LINE warning on stderr.

    PATHS are config files or directories of them (default: bcsync.yaml, else bcsync/*.yaml).
    """
    from datetime import UTC, datetime

    from bcsync.auditor.auditquery import AuditFilter, parse_when, query_all
    from bcsync.render import auditor

    try:
        start = parse_when(since, datetime.now(UTC)) if since else None
    except (ValueError, OverflowError) as exc:
        shown = (since or "")[:40]
        raise click.BadParameter(
            f"expected YYYY-MM-DD, an ISO time, today, yesterday or 7d/2w, got {shown!r}",
            param_hint="--since",
        ) from exc
    if start is not None and not EARLIEST_DAY <= start.date() <= LATEST_DAY:
        raise click.BadParameter(
            f"expected a time from {EARLIEST_DAY} to {LATEST_DAY}", param_hint="--since"
        )
    logs = [Path(log)] if log else audit_logs(paths, state_dir)
    found = query_all(logs, AuditFilter(since=start, member=member, bc_id=bc_id))
    for warning in found.warnings:
        echo_err(warning.format())
    if fmt == "json":
        click.echo(auditor.audit_json(found.records), nl=False)
    elif fmt == "csv":
        click.echo(auditor.audit_csv(found.records), nl=False)
    else:
        click.echo(auditor.audit_text(found.records, found.lines), nl=False)
    return 0
