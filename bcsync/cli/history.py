"""`history` and `diff`: how access changed in git."""

from __future__ import annotations

from datetime import date

import click

from bcsync.cli.base import (
    CONTEXT_SETTINGS,
    echo_err,
    format_option,
    now_option,
    parse_day,
    parse_now,
)


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
    from bcsync.auditor.history import history as walk
    from bcsync.git.gitrev import open_repo
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
    from bcsync.auditor.history import revision_diff
    from bcsync.git.gitrev import open_repo
    from bcsync.render import access

    repo = open_repo(".")
    result = revision_diff(repo, paths, now=parse_now(now), base=base, head=head)
    views = {"text": access.diff_text, "markdown": access.diff_markdown, "json": access.diff_json}
    click.echo(views[fmt](result), nl=False)
    return 0
