"""`history`, `diff` and `drift`: how access changed in git, and how the BC differs from it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import click

from bcsync.cli.base import (
    CONTEXT_SETTINGS,
    echo_err,
    format_option,
    load_configs,
    now_option,
    parse_day,
    parse_now,
    run_async,
    state_dir_option,
)
from bcsync.errors import ExitCode


def _day(value: str | None, option: str) -> date | None:
    return parse_day(value, option) if value else None


@click.command(context_settings=CONTEXT_SETTINGS)
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--since", metavar="DATE", help="Only commits from this date on (YYYY-MM-DD, UTC).")
@click.option("--member", metavar="EMAIL", help="Only changes to this member (or partner alias).")
@click.option("--asset", metavar="ALIAS", help="Only changes on this asset (alias or id).")
@format_option("text", "markdown", "json", "csv", help="Output format.")
@now_option
def history(
    paths: tuple[str, ...],
    since: str | None,
    member: str | None,
    asset: str | None,
    fmt: str,
    now: str | None,
) -> int:
    """The configs' git history as effective access gained and lost, commit by commit.

    Each commit that touches a config in PATHS is compared with its parent by building both
    revisions (groups expanded, expiry evaluated on the commit's date, or on --now), with its
    author and date. A commit whose config is invalid is reported and skipped. Merge commits
    are left out; `bcsync diff --base A --head B` compares any two revisions. Offline.

    PATHS are config files or directories of them (default: bcsync.yaml, else bcsync/*.yaml).
    """
    from bcsync.gitrev import open_repo
    from bcsync.history import history as walk
    from bcsync.render import access

    when = parse_now(now) if now else None
    first = _day(since, "--since")  # options are checked before the repository is looked for
    repo = open_repo(".")
    entries = walk(repo, paths, since=first, now=when, member=member, asset=asset)
    if repo.is_shallow():
        echo_err("warning: this clone is shallow; history starts at its oldest fetched commit")
    views = {
        "text": access.history_text,
        "markdown": access.history_markdown,
        "json": access.history_json,
        "csv": access.history_csv,
    }
    click.echo(views[fmt](entries), nl=False)
    return 0


@click.command(context_settings=CONTEXT_SETTINGS)
@click.argument("paths", nargs=-1, type=click.Path())
@click.option(
    "--base",
    metavar="REF",
    help="Earlier revision: a branch, tag, commit, main@{DATE}, or YYYY-MM-DD (the last commit "
    "before that day). Default: the merge-base of HEAD with origin/main (else main), else HEAD.",
)
@click.option(
    "--head", metavar="REF", help="Later revision (same forms). Default: the working tree."
)
@format_option("text", "markdown", "json", help="markdown is fit for a pull-request comment.")
@now_option
def diff(
    paths: tuple[str, ...], base: str | None, head: str | None, fmt: str, now: str | None
) -> int:
    """Effective access gained and lost between two revisions of the configs, offline.

    Builds both revisions (groups expanded, expiry evaluated as of --now, default today) and
    compares what each grants: for reviewers of pull requests from forks (no token needed)
    and for anyone asking what changed between two dates. Exit 0; 3 if a side is invalid.

    PATHS are config files or directories of them (default: bcsync.yaml, else bcsync/*.yaml).
    """
    from bcsync.gitrev import open_repo
    from bcsync.history import revision_diff
    from bcsync.render import access

    repo = open_repo(".")
    result = revision_diff(repo, paths, now=parse_now(now), base=base, head=head)
    views = {"text": access.diff_text, "markdown": access.diff_markdown, "json": access.diff_json}
    click.echo(views[fmt](result), nl=False)
    return 0


@click.command(context_settings=CONTEXT_SETTINGS)
@click.argument("paths", nargs=-1, type=click.Path())
@format_option("text", "markdown", "json", help="Output format.")
@click.option(
    "--log-days",
    type=click.IntRange(1, 180),
    default=30,
    show_default=True,
    help="How far back the activity log is searched for who made each change.",
)
@click.option(
    "--audit-log",
    type=click.Path(dir_okay=False),
    help="bcsync's audit log, to recognise its own applies in the activity log "
    "[default: .bcsync/audit.jsonl beside the configs, or STATE_DIR's].",
)
@now_option
@state_dir_option
def drift(
    paths: tuple[str, ...],
    fmt: str,
    log_days: int,
    audit_log: str | None,
    now: str | None,
    state_dir: str | None,
) -> int:
    """Read-only: what in each Business Center differs from the config, and who changed it.

    Each difference is attributed only to the newest activity-log entry about the same subject
    and field (a member's membership or role, a grant on that asset, a partner, a share), and
    says so when no entry is. An entry written by bcsync's own apply (recognised from the audit
    log: BC, subject, asset, time, with its plan checksum and request ids) is never reported as
    a change by hand: the config changed since. Pending invitations are not drift. Nothing is
    written. Exit 0 when there is no drift, 2 when there is (for a scheduled gate).

    PATHS are config files or directories of them (default: bcsync.yaml, else bcsync/*.yaml).
    """
    import asyncio
    from pathlib import Path

    from bcsync.auditquery import read_records
    from bcsync.drift import DriftReport, own_applies
    from bcsync.drift_read import check_drift
    from bcsync.providers import open_providers
    from bcsync.render import drift as view

    configs = load_configs(paths, now)
    # --now decides expiry; the activity log is searched up to the real today.
    until = datetime.now(UTC).date()
    since = until - timedelta(days=log_days)
    if audit_log:
        logs = [Path(audit_log)]
    elif state_dir:
        logs = [Path(state_dir) / "audit.jsonl"]
    else:
        logs = list(dict.fromkeys(Path(c.path).parent / ".bcsync" / "audit.jsonl" for c in configs))
    applies = own_applies(
        r for log in logs if audit_log or log.is_file() for r in read_records(log)
    )

    async def go() -> list[DriftReport]:
        # Drift writes nothing, so it needs no state directory: only --state-dir's if given.
        state = Path(state_dir) if state_dir else None
        async with open_providers(configs, state_dir=state) as providers:
            return list(
                await asyncio.gather(
                    *(
                        check_drift(
                            c,
                            providers[c.bc_id],
                            log_since=since,
                            log_until=until,
                            applies=applies,
                        )
                        for c in configs
                    )
                )
            )

    reports = run_async(go)
    render = {"text": view.text, "markdown": view.markdown, "json": view.to_json}[fmt]
    click.echo(render(reports), nl=False)
    return int(ExitCode.CHANGES_PENDING) if any(r.has_drift for r in reports) else 0
