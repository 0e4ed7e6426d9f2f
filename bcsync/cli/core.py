"""`validate`, `plan` and `apply`: the reconcile loop's commands."""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click

from bcsync import __version__
from bcsync.cli.base import (
    CONTEXT_SETTINGS,
    allow_removals_option,
    echo_err,
    format_problem,
    load_configs,
    now_option,
    parse_now,
    state_dir_option,
    style,
    use_color,
)
from bcsync.errors import BcsyncError, ExitCode


@click.command(context_settings=CONTEXT_SETTINGS)
@click.argument("paths", nargs=-1, type=click.Path())
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Output format; json prints the problems for tools.",
)
@now_option
@click.pass_context
def validate(ctx: click.Context, paths: tuple[str, ...], fmt: str, now: str | None) -> int:
    """Check config files: schema, cross-references and policy.

    Prints every problem at once as FILE:LINE:COL: error: PATH: message (hint).
    Exits 0 when valid (warnings allowed), 3 when not.

    PATHS are config files or directories of them (default: bcsync.yaml, else bcsync/*.yaml).
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

    return body()


def _render(plans: list[Any], fmt: str, color: bool, doc: dict[str, Any] | None = None) -> str:
    from bcsync.render import json as render_json
    from bcsync.render import markdown, text

    if fmt == "json":
        return render_json.dumps(doc if doc is not None else _document(plans))
    if fmt == "markdown":
        return markdown.render(plans)
    return text.render(plans, color=color)


def _document(plans: list[Any], directory: str = ".") -> dict[str, Any]:
    from bcsync.audit import git_commit, now_iso
    from bcsync.render import json as render_json

    return render_json.document(
        plans, created_at=now_iso(), tool_version=__version__, git_commit=git_commit(directory)
    )


def _violations_error(planned: list[Any]) -> BcsyncError | None:
    from bcsync.errors import UnsafePlanError

    bad = [p for p in planned if p.violations]
    if not bad:
        return None
    lines = []
    for p in bad:
        name = p.plan.bc_name or p.plan.bc_id
        lines.extend(f"{name}: {v}" for v in p.violations)
    return UnsafePlanError(
        "refused by safety guards:\n  - " + "\n  - ".join(lines),
        hint="fix the config, or pass the flag named above if the change is intended",
    )


@click.command(context_settings=CONTEXT_SETTINGS)
@click.argument("paths", nargs=-1, type=click.Path())
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "markdown"]),
    default="text",
    show_default=True,
    help="text for people, markdown for pull-request comments, json for tools.",
)
@click.option("--out", type=click.Path(dir_okay=False), help="Save the plan (JSON) for apply.")
@click.option(
    "--detailed-exitcode",
    is_flag=True,
    help="Exit 2 when there are changes to apply (0 when none).",
)
@allow_removals_option
@now_option
@state_dir_option
@click.pass_context
def plan(
    ctx: click.Context,
    paths: tuple[str, ...],
    fmt: str,
    out: str | None,
    detailed_exitcode: bool,
    allow_removals: bool,
    now: str | None,
    state_dir: str,
) -> int:
    """Show what apply would change: desired (config) against actual (the Business Center).

    Reads every Business Center in PATHS concurrently, prints the ordered plan and, with
    --out, saves it for `bcsync apply PLANFILE`. Safety guards are checked here too (exit 4).

    PATHS are config files or directories of them (default: bcsync.yaml, else bcsync/*.yaml).
    """
    import asyncio

    from bcsync import planfile
    from bcsync.providers import open_providers
    from bcsync.reconcile import plan_all

    def body() -> int:
        configs = load_configs(paths, now)

        async def go() -> list[Any]:
            async with open_providers(configs, state_dir=Path(state_dir)) as providers:
                with _reading(configs):
                    return await plan_all(configs, providers, allow_removals=allow_removals)

        planned = asyncio.run(go())
        plans = [p.plan for p in planned]
        where = str(Path(configs[0].path).parent) if configs else "."
        doc = _document(plans, where) if (out or fmt == "json") else None
        click.echo(_render(plans, fmt, use_color(), doc), nl=fmt != "json")
        if out and doc is not None:
            from bcsync.render import json as render_json

            planfile.write(out, render_json.dumps(doc))
            echo_err(f"Saved the plan to {out}. Apply it with: bcsync apply {out}")
        err = _violations_error(planned)
        if err is not None:
            raise err
        if detailed_exitcode and any(p.has_changes for p in plans):
            return int(ExitCode.CHANGES_PENDING)
        return 0

    return body()


@click.command(context_settings=CONTEXT_SETTINGS)
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--auto-approve", is_flag=True, help="Apply without asking (for pipelines).")
@allow_removals_option
@click.option(
    "--audit-log",
    type=click.Path(dir_okay=False),
    help="Append audit records here (default: STATE_DIR/audit.jsonl).",
)
@click.option(
    "--parallelism",
    type=click.IntRange(1, 64),
    default=8,
    show_default=True,
    help="Concurrent API calls within a stage (the rate limiter still applies).",
)
@click.option(
    "--lock-timeout",
    type=float,
    default=5.0,
    show_default=True,
    help="Seconds to wait for another apply on the same Business Center.",
)
@now_option
@state_dir_option
@click.pass_context
def apply(
    ctx: click.Context,
    paths: tuple[str, ...],
    auto_approve: bool,
    allow_removals: bool,
    audit_log: str | None,
    parallelism: int,
    lock_timeout: float,
    now: str | None,
    state_dir: str,
) -> int:
    """Carry out the changes: from config PATHS (plan, show, ask) or from a saved PLANFILE.

    A saved plan is applied only if neither the config nor the Business Center changed since
    it was made (else exit 4: stale). Every change attempt is appended to the audit log.
    Without a terminal to ask, pass --auto-approve (or apply a saved plan).
    """
    import asyncio

    from bcsync import planfile
    from bcsync.audit import AuditLog, actor, git_commit
    from bcsync.errors import DeclinedError
    from bcsync.providers import open_providers
    from bcsync.reconcile import apply_planned, check_fresh, locks, plan_all

    state = Path(state_dir)
    saved_path = paths[0] if len(paths) == 1 and paths[0].endswith(".json") else None

    def body() -> int:
        color = use_color()
        if saved_path:
            _, saved = planfile.read(saved_path)
            configs = load_configs(tuple(p.config_path or "" for p in saved), now)
        else:
            saved = []
            configs = load_configs(paths, now)
        audit_path = Path(audit_log) if audit_log else state / "audit.jsonl"
        audit = AuditLog(
            audit_path,
            context={
                "actor": actor(),
                "git_commit": git_commit(Path(configs[0].path).parent if configs else "."),
                "mode": "apply",
            },
        )

        async def go() -> list[Any]:
            async with open_providers(configs, state_dir=state) as providers:
                with _reading(configs):
                    planned = await plan_all(configs, providers, allow_removals=allow_removals)
                if saved:
                    fresh = {p.config.bc_id: p for p in planned}
                    for plan_ in saved:
                        check_fresh(plan_, fresh[plan_.bc_id])
                    plans = saved
                else:
                    plans = [p.plan for p in planned]
                    click.echo(_render(plans, "text", color))
                err = _violations_error(planned)
                if err is not None:
                    raise err
                if not any(p.has_changes for p in plans):
                    click.echo("Nothing to apply.")
                    return []
                if not saved and not auto_approve:
                    if not sys.stdin.isatty():
                        raise DeclinedError(
                            "refusing to apply without confirmation: no terminal to ask",
                            hint="review the plan, then pass --auto-approve (pipelines) "
                            "or apply a saved plan file",
                        )
                    if not click.confirm("Apply these changes?", default=False, err=True):
                        raise DeclinedError("apply cancelled; nothing was changed")
                total = sum(len(p.steps) for p in plans)
                with _progress(total, color) as on_step, audit:
                    return await apply_planned(
                        [(p, providers[p.bc_id]) for p in plans],
                        audit=audit,
                        concurrency=parallelism,
                        on_step=on_step,
                    )

        with locks(state, [c.bc_id for c in configs], timeout=lock_timeout):
            results = asyncio.run(go())
        if not results:
            return 0
        failed = False
        for result in results:
            line = result.sentence()
            failed = failed or not result.ok
            click.echo(style(line, color, fg="green" if result.ok else "red", bold=True))
            for step_result in result.results.values():
                if step_result.outcome.value != "succeeded":
                    click.echo(
                        f"  {step_result.step.id} {step_result.step.op.value}: "
                        f"{step_result.outcome.value}: {step_result.error}"
                    )
        click.echo(f"Audit log: {audit_path}")
        if failed:
            echo_err("Some changes did not apply; run `bcsync plan` to see what remains.")
            return int(ExitCode.RUNTIME)
        return 0

    return body()


@contextlib.contextmanager
def _reading(configs: list[Any]) -> Iterator[None]:
    """A transient spinner on a terminal while the Business Centers are read; nothing otherwise."""
    if not sys.stderr.isatty() or os.environ.get("CI"):
        yield
        return
    from rich.console import Console

    names = ", ".join(c.name or c.bc_id for c in configs[:3])
    more = f" and {len(configs) - 3} more" if len(configs) > 3 else ""
    console = Console(stderr=True, no_color=not use_color(sys.stderr))
    with console.status(f"Reading {names}{more}…"):
        yield


@contextlib.contextmanager
def _progress(total: int, color: bool) -> Iterator[Callable[[Any], None]]:
    """A progress bar on a terminal; plain lines otherwise. Yields the per-step callback."""
    if sys.stderr.isatty() and not os.environ.get("CI"):
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        console = Console(stderr=True, no_color=not color)
        with Progress(
            TextColumn("Applying"), BarColumn(), MofNCompleteColumn(), console=console
        ) as bar:
            task = bar.add_task("apply", total=total)
            yield lambda _result: bar.advance(task)
        return

    def line(result: Any) -> None:
        step = result.step
        echo_err(
            f"  {step.id} {step.op.value} ({len(step.changes)} change(s)): {result.outcome.value}"
        )

    yield line
