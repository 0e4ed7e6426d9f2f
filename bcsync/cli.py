"""The click layer: parse, call the library, render, exit. Nothing imports this module.

Exit codes (DESIGN.md section 8) are decided in one place, `run`, from the exception's class.
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any, NoReturn

import click

from bcsync import __version__
from bcsync.errors import BcsyncError, ConfigError, ExitCode, Problem

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def use_color(stream: Any = None) -> bool:
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


def fail(err: BcsyncError, debug: bool) -> NoReturn:
    """The one handler: print a BcsyncError as one clear message and exit with its code."""
    color = use_color(sys.stderr)
    if isinstance(err, ConfigError) and err.problems:
        for problem in err.problems:
            echo_err(format_problem(problem, color))
    prefix = style("Error:", color, fg="red", bold=True)
    echo_err(f"{prefix} {err.message}")
    if err.hint:
        echo_err(f"  hint: {err.hint}")
    if debug:
        echo_err("".join(traceback.format_exception(err)))
    sys.exit(int(err.exit_code))


def run(func: Callable[[], int | None], debug: bool) -> NoReturn:
    """Run a command body, mapping every outcome to an exit code."""
    try:
        code = func()
    except BcsyncError as err:
        fail(err, debug)
    except KeyboardInterrupt:
        echo_err("Interrupted.")
        sys.exit(130)
    except click.exceptions.Exit:
        raise
    except click.ClickException:
        raise
    except Exception as exc:  # a bug: one line, traceback only with --debug
        echo_err(
            f"Internal error: {type(exc).__name__}: {exc}. This is a bug in bcsync; "
            "re-run with --debug for the traceback and report it."
        )
        if debug:
            echo_err("".join(traceback.format_exception(exc)))
        sys.exit(int(ExitCode.INTERNAL))
    sys.exit(int(code or 0))


def format_problem(problem: Problem, color: bool) -> str:
    text = problem.format()
    if not color:
        return text
    tag = f"{problem.severity}:"
    colored = click.style(tag, fg="red" if problem.is_error else "yellow", bold=True)
    return text.replace(tag, colored, 1)


def parse_now(value: str | None) -> date:
    if not value:
        return datetime.now(UTC).date()
    try:
        return date.fromisoformat(value[:10])
    except ValueError as exc:
        raise click.BadParameter(f"expected YYYY-MM-DD, got {value!r}") from exc


class BcsyncGroup(click.Group):
    """Maps click's usage errors to exit 64, so they never look like 'changes pending' (2)."""

    def main(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        kwargs["standalone_mode"] = False
        try:
            return super().main(*args, **kwargs)
        except click.exceptions.Abort:
            echo_err("Aborted.")
            sys.exit(int(ExitCode.REFUSED))
        except click.UsageError as exc:
            exc.show()
            sys.exit(int(ExitCode.USAGE))
        except click.ClickException as exc:
            exc.show()
            sys.exit(int(ExitCode.RUNTIME))
        except click.exceptions.Exit as exc:
            sys.exit(exc.exit_code)


@click.group(cls=BcsyncGroup, context_settings=CONTEXT_SETTINGS)
@click.version_option(__version__, prog_name="bcsync")
@click.option("--debug", is_flag=True, help="Show tracebacks for internal errors.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Permissions as code for TikTok Business Center.

    Declare members, roles, asset shares and partner grants in YAML; `validate` them,
    `plan` the changes against the Business Center, `apply` them.

    \b
    Exit codes: 0 ok, 1 runtime error, 2 changes pending (plan --detailed-exitcode),
    3 configuration invalid, 4 refused (guard, stale plan, lock, prompt), 64 usage, 70 bug.
    """
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug


PATHS_HELP = "Config files or directories (default: bcsync.yaml or bcsync/*.yaml here)."


@cli.command(context_settings=CONTEXT_SETTINGS)
@click.argument("paths", nargs=-1, type=click.Path())
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Output format; json prints the problems for tools.",
)
@click.option("--now", help="Evaluate expiry dates as of this date (YYYY-MM-DD).")
@click.pass_context
def validate(ctx: click.Context, paths: tuple[str, ...], fmt: str, now: str | None) -> None:
    """Check config files: schema, cross-references and policy.

    Prints every problem at once as FILE:LINE:COL: error: PATH: message (hint).
    Exits 0 when valid (warnings allowed), 3 when not.
    """
    from bcsync.config import load

    today = parse_now(now)

    def body() -> int:
        result = load(list(paths), now=today)
        problems = sorted(result.problems, key=lambda p: (p.file, p.line or 0, p.col or 0))
        errors = [p for p in problems if p.is_error]
        warnings = [p for p in problems if not p.is_error]
        if fmt == "json":
            doc = {
                "valid": not errors,
                "files": [c.path for c in result.configs],
                "errors": len(errors),
                "warnings": len(warnings),
                "problems": [p.to_json() for p in problems],
            }
            click.echo(json.dumps(doc, indent=2))
        else:
            color = use_color()
            for problem in problems:
                click.echo(format_problem(problem, color))
            if errors:
                summary = style(
                    f"Invalid: {len(errors)} error(s), {len(warnings)} warning(s) "
                    f"in {len(result.files)} file(s).",
                    color,
                    fg="red",
                    bold=True,
                )
            else:
                summary = style(
                    f"Valid: {len(result.files)} file(s), "
                    f"{len(result.configs)} Business Center(s), {len(warnings)} warning(s).",
                    color,
                    fg="green",
                )
            click.echo(summary)
        return int(ExitCode.CONFIG_INVALID) if errors else 0

    run(body, ctx.obj["debug"])


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="bcsync")


if __name__ == "__main__":
    main()
