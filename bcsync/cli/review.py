"""`bcsync check-review`: may a merge apply the plan its pull request's comment shows?

The pipeline's merge job fetches the plan comment (by its own bot identity) and the pull
request's final head commit from GitHub; this command reads the comment's reviewed-plan marker
(`bcsync.loop.review`) and checks it against that commit and the merged configs, offline.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from bcsync.cli.base import CONTEXT_SETTINGS, PATHS_HELP, load_configs, now_option
from bcsync.errors import FileAccessError

# GitHub's comment limit is 65,536 characters; a file far beyond it is not a plan comment.
MAX_COMMENT_BYTES = 1024 * 1024


def check_commit(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    from bcsync.loop.review import COMMIT

    if value is not None and not COMMIT.fullmatch(value):
        raise click.BadParameter("expected a full commit id (40 or 64 lowercase hex digits)")
    return value


def head_commit_option(function: Any) -> Any:
    """`plan --head-commit SHA`: the commit the reviewed-plan marker names."""
    return click.option(
        "--head-commit",
        metavar="SHA",
        callback=check_commit,
        help="The commit being planned (a pipeline passes the pull request's head commit from "
        "its event); the Markdown plan's reviewed-plan marker names it, and `bcsync "
        "check-review` lets a merge apply the plan only at that commit.",
    )(function)


@click.command("check-review", context_settings=CONTEXT_SETTINGS, epilog=PATHS_HELP)
@click.argument("comment", type=click.Path(dir_okay=False))
@click.argument("paths", nargs=-1, type=click.Path())
@click.option(
    "--head-commit",
    metavar="SHA",
    required=True,
    callback=check_commit,
    help="The pull request's final head commit (from GitHub, not from the comment).",
)
@now_option
def check_review(comment: str, paths: tuple[str, ...], head_commit: str, now: str | None) -> int:
    """Check a plan comment's reviewed-plan marker against a commit and the configs at hand.

    COMMENT is a file holding the comment's body. Exit 0 printing `checksum=sha256:...` and
    `scope=full|scoped` (for $GITHUB_OUTPUT) when the comment holds exactly one marker, it names
    --head-commit, and the digest of the configs in PATHS equals its own; otherwise exit 4
    saying why and how to re-plan. Reads no Business Center.
    """
    from bcsync.loop.review import check_marker, configs_digest, find_marker

    body = _read_comment(Path(comment))
    marker = find_marker(body)
    configs = load_configs(paths, now)
    digest = configs_digest((c.bc_id, c.digest) for c in configs)
    check_marker(marker, head_commit=head_commit, configs=digest)
    click.echo(f"checksum={marker.checksum}")
    click.echo(f"scope={'scoped' if marker.scope else 'full'}")
    return 0


def _read_comment(path: Path) -> str:
    """A regular file of bounded size (a FIFO would hang), as text."""
    from bcsync.files.reader import FileTooLarge, NotRegularFile, read_regular

    try:
        data = read_regular(path, MAX_COMMENT_BYTES)
    except NotRegularFile as exc:
        raise FileAccessError(f"{path}: {exc}, so not a plan comment") from exc
    except FileTooLarge as exc:
        raise FileAccessError(f"{path}: {exc}, so not a plan comment") from exc
    except OSError as exc:
        raise FileAccessError(f"cannot read the comment {path}: {exc.strerror or exc}") from exc
    return data.decode("utf-8", errors="replace")
