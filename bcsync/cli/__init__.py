"""The click layer: `bcsync` and its commands. Nothing outside this package imports it.

Commands parse, call the library, render and return an exit code. `BcsyncGroup.main` is the one
handler that turns every outcome into the process status (ARCHITECTURE.md): a BcsyncError
into its class's exit code, click's usage errors into 64 (never 2, "changes pending"), anything
else into one line and 70 (a bug; the traceback only with --debug).
"""

from __future__ import annotations

import sys
import traceback
from typing import Any, NoReturn

import click

from bcsync import __version__
from bcsync.cli.base import CONTEXT_SETTINGS, echo_err, format_problem, style, use_color
from bcsync.errors import BcsyncError, ConfigError, ExitCode


def report_error(err: BcsyncError, debug: bool) -> int:
    """Print a BcsyncError as one clear message (and its located problems); its exit code."""
    from bcsync.render.text import terminal_text

    color = use_color(sys.stderr)
    if isinstance(err, ConfigError) and err.problems:
        for problem in err.problems:
            echo_err(format_problem(problem, color))
    # Messages quote data (a plan file's paths, the API's words): never raw on a terminal.
    echo_err(f"{style('Error:', color, fg='red', bold=True)} {terminal_text(err.message)}")
    if err.hint:
        echo_err(f"  hint: {terminal_text(err.hint)}")
    if debug:
        echo_err("".join(traceback.format_exception(err)))
    return int(err.exit_code)


def report_emulator_error(err: Exception) -> int | None:
    """The emulator keeps its own errors (it imports nothing of bcsync): a bad seed is exit 3."""
    from bcsync.emulator.errors import EmulatorError, SeedError

    if not isinstance(err, EmulatorError):
        return None
    from bcsync.render.text import terminal_text

    echo_err(f"Error: {terminal_text(err.message)}")
    return int(ExitCode.CONFIG_INVALID if isinstance(err, SeedError) else ExitCode.RUNTIME)


def report_internal_error(exc: BaseException, debug: bool) -> int:
    """A bug: one line and exit 70; the traceback only with --debug."""
    from bcsync.render.text import printable

    what = printable(str(exc)[:500])
    echo_err(
        f"Internal error: {type(exc).__name__}: {what}. This is a bug in bcsync; "
        "re-run with --debug for the traceback and report it."
    )
    if debug:
        echo_err("".join(traceback.format_exception(exc)))
    return int(ExitCode.INTERNAL)


class BcsyncGroup(click.Group):
    """The one error handler: every command's outcome becomes the process's exit code here."""

    def main(self, *args: Any, **kwargs: Any) -> NoReturn:
        kwargs["standalone_mode"] = False
        argv = args[0] if args and args[0] is not None else sys.argv[1:]
        sys.exit(self._outcome(argv, args, kwargs))

    def _outcome(self, argv: Any, args: Any, kwargs: Any) -> int:
        debug = "--debug" in argv
        try:
            result = super().main(*args, **kwargs)
        except BcsyncError as err:
            return report_error(err, debug)
        except click.exceptions.Abort:
            echo_err("Aborted.")
            return int(ExitCode.REFUSED)
        except click.UsageError as exc:
            exc.show()
            return int(ExitCode.USAGE)
        except click.ClickException as exc:
            exc.show()
            return int(ExitCode.RUNTIME)
        except click.exceptions.Exit as exc:
            return int(exc.exit_code)
        except KeyboardInterrupt:
            echo_err("Interrupted.")
            return 130
        except Exception as exc:  # the net under every command, the emulator's included
            code = report_emulator_error(exc)
            return code if code is not None else report_internal_error(exc, debug)
        return int(result or 0) if isinstance(result, int) else 0


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

    Processes that use one TikTok app share its rate limit through Redis when
    $BCSYNC_RATE_LIMIT_URL names one (README: "One app, many processes").
    """
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug


def _register() -> None:
    from bcsync.cli import audit, doctor, drift, emulator, export, fmt, history, plan, review

    for command in (plan.validate, plan.plan, plan.apply, plan.show, emulator.emulator):
        cli.add_command(command)
    cli.add_command(review.check_review)
    for command in (export.export, fmt.fmt, doctor.doctor):
        cli.add_command(command)
    for command in (history.history, history.diff, drift.drift):
        cli.add_command(command)
    for command in (audit.report, audit.why, audit.expiring, audit.audit):
        cli.add_command(command)


_register()


def main() -> None:
    """Console-script entry point."""
    from bcsync.cli.gctune import tune_gc

    tune_gc()
    cli(prog_name="bcsync")
