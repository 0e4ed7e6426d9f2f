"""What every command shares: colour, stderr, located problems, common options, config loading.

The click layer parses, calls the library, renders and returns an exit code; the group in
`bcsync.cli` is the one place that turns exceptions into exit codes.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from typing import IO, TYPE_CHECKING, Any, TypeVar

import click

from bcsync.errors import Problem

if TYPE_CHECKING:
    from bcsync.core.model import BusinessCenterConfig

CONTEXT_SETTINGS: dict[str, Any] = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
PATHS_HELP = (
    "PATHS are config files or directories of them (default: bcsync.yaml, else bcsync/*.yaml)."
)

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")


def run_async(work: Callable[[], Awaitable[T]]) -> T:
    """`asyncio.run` whose result never passes through the task: on CPython 3.11 with the default
    SIGINT handler a finished task's result gets formatted, and a plan at TikTok's limits made a
    62-million-character string (1.6 s, +229 MiB) that nobody reads."""
    box: list[T] = []

    async def go() -> None:
        box.append(await work())

    asyncio.run(go())
    return box[0]


def use_color(stream: IO[str] | None = None) -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set (https://no-color.org)."""
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    stream = stream or sys.stdout
    return bool(getattr(stream, "isatty", lambda: False)())


def style(text: str, color: bool, **kwargs: Any) -> str:
    return click.style(text, **kwargs) if color else text


def echo_err(message: str) -> None:
    click.echo(message, err=True)


def format_problem(problem: Problem, color: bool) -> str:
    from bcsync.render.text import terminal_text

    text = terminal_text(problem.format())
    if not color:
        return text
    tag = f"{problem.severity}:"
    colored = click.style(tag, fg="red" if problem.is_error else "yellow", bold=True)
    return text.replace(tag, colored, 1)


# Dates a command computes with (--now plus a warning period or an --within window of up to
# 99,999 weeks) must stay inside what Python's dates can hold; 9999-12-31 + 14 days cannot.
EARLIEST_DAY = date(1970, 1, 1)
LATEST_DAY = date(7999, 12, 31)


def parse_day(value: str, option: str) -> date:
    """A YYYY-MM-DD date from EARLIEST_DAY to LATEST_DAY; anything else is a usage error (64)."""
    text = value.strip()
    try:
        if len(text) != 10:
            raise ValueError(text)
        day = date.fromisoformat(text)
    except ValueError as exc:
        shown = text if len(text) <= 40 and text.isprintable() else repr(text[:40])
        raise click.BadParameter(f"expected YYYY-MM-DD, got {shown}", param_hint=option) from exc
    if not EARLIEST_DAY <= day <= LATEST_DAY:
        raise click.BadParameter(
            f"{day} is out of range: expected a date from {EARLIEST_DAY} to {LATEST_DAY}",
            param_hint=option,
        )
    return day


def parse_now(value: str | None) -> date:
    """`--now`: evaluate expiry dates as of this date; today (UTC) by default."""
    if not value:
        return datetime.now(UTC).date()
    return parse_day(value, "--now")


def load_configs(paths: tuple[str, ...], now: str | None) -> list[BusinessCenterConfig]:
    """Load and check configs; warnings go to stderr, errors raise ConfigError (exit 3)."""
    from bcsync.config import load_strict

    result = load_strict(list(paths), now=parse_now(now))
    color = use_color(sys.stderr)
    for problem in result.warnings:
        echo_err(format_problem(problem, color))
    return result.configs


now_option = click.option(
    "--now", metavar="DATE", help="Evaluate expiry dates as of this date (YYYY-MM-DD)."
)
allow_removals_option = click.option(
    "--allow-removals", is_flag=True, help="Override the max_removals guard."
)


def state_dir_option(func: F) -> F:
    return click.option(
        "--state-dir",
        type=click.Path(file_okay=False),
        default=None,
        envvar="BCSYNC_STATE_DIR",
        help="Local state: the local Business Center's database and the audit log "
        "[default: .bcsync beside the config].",
    )(func)


def format_option(*choices: str, help: str) -> Callable[[F], F]:
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(list(choices)),
        default=choices[0],
        show_default=True,
        help=help,
    )
