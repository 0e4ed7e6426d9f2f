"""`validate`, `plan` and `apply`: the reconcile loop's commands."""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from bcsync import __version__
from bcsync.cli.base import (
    CONTEXT_SETTINGS,
    allow_removals_option,
    echo_err,
    format_option,
    format_problem,
    load_configs,
    now_option,
    parse_now,
    run_async,
    state_dir_option,
    style,
    use_color,
)
from bcsync.cli.review import head_commit_option
from bcsync.errors import ExitCode, PlanFileError, SomeFailedError

if TYPE_CHECKING:
    from bcsync.core.change import Change
    from bcsync.core.model import BusinessCenterConfig
    from bcsync.core.plan import Plan
    from bcsync.git.changed import ChangedScope
    from bcsync.loop.apply import ApplyResult, StepResult
    from bcsync.loop.reconcile import FailedBC, PlannedBC, Reviewed
    from bcsync.loop.settle import Visibility


audit_log_option = click.option(
    "--audit-log",
    type=click.Path(dir_okay=False),
    help="The audit log apply appends to, and reads as the ledger of what it applied "
    "(default: STATE_DIR/audit.jsonl).",
)
SETTLE_SECONDS = 120.0


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
def validate(paths: tuple[str, ...], fmt: str, now: str | None) -> int:
    """Check config files: schema, cross-references and policy.

    Prints every problem at once as FILE:LINE:COL: error: PATH: message (hint).
    Exits 0 when valid (warnings allowed), 3 when not.

    PATHS are config files or directories of them (default: bcsync.yaml, else bcsync/*.yaml).
    """
    from bcsync.config import load

    today = parse_now(now)

    # Checking needs no desired state: building it is plan's (a third of the time at the limits).
    result = load(list(paths), now=today, build=False)
    problems = sorted(result.problems, key=lambda p: (p.file, p.line or 0, p.col or 0))
    errors = [p for p in problems if p.is_error]
    warnings = [p for p in problems if not p.is_error]
    if fmt == "json":
        doc = {
            "valid": not errors,
            "files": result.checked,
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
                f"{len(result.checked)} Business Center(s), {len(warnings)} warning(s).",
                color,
                fg="green",
            )
        click.echo(summary)
    return int(ExitCode.CONFIG_INVALID) if errors else 0


def render_plans(
    plans: Sequence[Plan],
    fmt: str,
    color: bool,
    doc: dict[str, Any] | None = None,
    head_commit: str | None = None,
) -> str:
    """A plan in one of the three views; the JSON view is the saved document."""
    from bcsync.render import json as render_json
    from bcsync.render import markdown, text

    if fmt == "json":
        return render_json.dumps(doc if doc is not None else plan_document(plans, head_commit))
    if fmt == "markdown":
        return markdown.render(plans, head_commit=head_commit)
    return text.render(plans, color=color)


def plan_document(plans: Sequence[Plan], head_commit: str | None = None) -> dict[str, Any]:
    """The saved-plan document, with the run's metadata (time, version, commit, directory)."""
    from bcsync.loop.audit import git_commit, now_iso
    from bcsync.render import json as render_json

    where = str(Path(plans[0].config_path or ".").parent) if plans else "."
    doc = render_json.document(
        plans,
        created_at=now_iso(),
        tool_version=__version__,
        git_commit=git_commit(where),
        created_in=os.getcwd(),
    )
    if head_commit:  # `plan --head-commit`: the commit a pipeline says it planned
        doc["head_commit"] = head_commit
    return doc


def resolve_state_dir(value: str | None, configs: Sequence[BusinessCenterConfig]) -> Path:
    """--state-dir, else `.bcsync` beside the (first) config; made now, or a usage error (64)."""
    if value:
        path = Path(value)
    elif configs:
        path = Path(configs[0].path).parent / ".bcsync"
    else:
        path = Path(".bcsync")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise click.BadParameter(
            f"cannot create {path}: {exc.strerror or exc}", param_hint="--state-dir"
        ) from exc
    return path


def finite_seconds(ctx: click.Context, param: click.Parameter, value: float) -> float:
    """A number of seconds that is finite and at most a day (`nan`, `inf` are usage errors)."""
    if not math.isfinite(value) or not 0 <= value <= 86400:
        raise click.BadParameter(f"expected 0 to 86400 seconds, got {value!r}")
    return value


changed_option = click.option(
    "--changed",
    is_flag=True,
    help="A scoped plan: read and compare only the members and partners whose desired state "
    "differs from --base (the rest is neither read nor changed).",
)
base_option = click.option(
    "--base",
    metavar="REF",
    help="With --changed: the revision to compare with (branch, tag, commit, YYYY-MM-DD). "
    "Default: the merge-base of HEAD with origin/main (else main), else HEAD.",
)


def changed_scopes(
    paths: Sequence[str],
    configs: Sequence[BusinessCenterConfig],
    changed: bool,
    base: str | None,
    now: str | None,
) -> dict[str, ChangedScope | None] | None:
    """`--changed [--base REF]`: each BC's scope (None: the whole BC); None without --changed."""
    if not changed:
        if base is not None:
            raise click.UsageError("--base needs --changed")
        return None
    from bcsync.git.changed_read import changed_scopes as scopes_since

    scopes = scopes_since(paths, configs, now=parse_now(now), base=base)
    for config in configs:
        scope = scopes.get(config.bc_id)
        name = config.name or config.bc_id
        if scope is None:
            echo_err(f"--changed: {name} has no config at the base; reading all of it")
        else:
            echo_err(
                f"--changed: {name}: {len(scope.members)} member(s) and "
                f"{len(scope.partners)} partner(s) differ from {scope.base}"
            )
    return scopes


@click.command(context_settings=CONTEXT_SETTINGS)
@click.argument("paths", nargs=-1, type=click.Path())
@format_option(
    "text", "markdown", "json", help="text for people, markdown for pull requests, json for tools."
)
@click.option("--out", type=click.Path(dir_okay=False), help="Save the plan (JSON) for apply.")
@click.option(
    "--detailed-exitcode",
    is_flag=True,
    help="Exit 2 when there are changes to apply (0 when none).",
)
@allow_removals_option
@changed_option
@base_option
@head_commit_option
@audit_log_option
@now_option
@state_dir_option
def plan(
    paths: tuple[str, ...],
    fmt: str,
    out: str | None,
    detailed_exitcode: bool,
    allow_removals: bool,
    changed: bool,
    base: str | None,
    head_commit: str | None,
    audit_log: str | None,
    now: str | None,
    state_dir: str | None,
) -> int:
    """Show what apply would change: desired (config) against actual (the Business Center).

    Reads every Business Center in PATHS concurrently and prints the ordered plan with its
    checksum. --out saves it for `bcsync apply PLANFILE`; `bcsync apply PATHS --checksum SUM`
    applies it only if a fresh plan has the same checksum. Safety guards are checked here too:
    a refused plan is shown (and saved marked refused) and exits 4.

    Incoming shares (what partners share with the BC) that differ from the config's `incoming:`
    are shown after the changes, as information: only the partner can change them, so they are
    no step and --detailed-exitcode does not exit 2 for them.

    --changed builds the config at --base and at the working tree offline and reads from the
    Business Center only the members and partners whose desired state differs, plus every admin
    and the member count for the guards; the plan says it is scoped. `bcsync plan` (without
    --changed) or `bcsync drift` reads everything.

    A change the audit log records as applied in the last 120 s, and that no read has confirmed
    yet, is shown as "applied at T, not yet visible" and is not planned again (reads may lag
    writes; see "Consistency" in the README).

    The Markdown view starts with a reviewed-plan marker (checksum, configs digest, --head-commit,
    scope) that `bcsync check-review` reads on merge; no config text can forge it.
    """

    from bcsync.core.plan import raise_if_refused
    from bcsync.loop import ledger, planfile
    from bcsync.loop.reconcile import plan_each
    from bcsync.providers.factory import open_providers
    from bcsync.render import json as render_json

    configs = load_configs(paths, now)
    scopes = changed_scopes(paths, configs, changed, base, now)
    state = resolve_state_dir(state_dir, configs)
    log = Path(audit_log) if audit_log else state / "audit.jsonl"
    applied = ledger.load(log, now=datetime.now(UTC), window=SETTLE_SECONDS)

    async def go() -> tuple[list[PlannedBC], list[FailedBC]]:
        async with open_providers(configs, state_dir=state) as providers:
            with _reading(configs):
                return await plan_each(
                    configs, providers, allow_removals=allow_removals, scopes=scopes,
                    applied=applied,
                )  # fmt: skip

    planned, failed = run_async(go)
    if failed and not planned:
        raise failed[0].error
    plans = [p.plan for p in planned]
    doc = plan_document(plans, head_commit) if (out or fmt == "json") else None
    click.echo(render_plans(plans, fmt, use_color(), doc, head_commit), nl=fmt != "json")
    if out and doc is not None and failed:
        # Applied later, a plan of some BCs only would read as the whole run's.
        echo_err(f"Not saved to {out}: {len(failed)} Business Center(s) could not be planned.")
    elif out and doc is not None:
        planfile.write(out, render_json.dumps(doc))
        if any(p.refusals for p in plans):
            echo_err(f"Saved the plan to {out}, marked refused: apply will not run it.")
        else:
            echo_err(f"Saved the plan to {out}. Apply it with: bcsync apply {out}")
    raise_if_refused(plans)
    raise_if_some_failed(failed, len(configs), "planned")
    if detailed_exitcode and any(p.has_changes for p in plans):
        return int(ExitCode.CHANGES_PENDING)
    return 0


def raise_if_some_failed(failed: Sequence[FailedBC], total: int, done: str) -> None:
    """After the others were shown: which BCs failed (exit 1)."""
    if failed:
        raise SomeFailedError([(f.name, f.error) for f in failed], total, done)


@click.command(context_settings=CONTEXT_SETTINGS)
@click.argument("planfile", type=click.Path(dir_okay=False))
@format_option("text", "markdown", "json", help="The view to print.")
def show(planfile: str, fmt: str) -> int:
    """Render a saved plan without reading the Business Center."""
    from bcsync.loop import planfile as planfiles
    from bcsync.render import json as render_json

    doc, plans = planfiles.read(planfile)
    if fmt == "json":
        click.echo(render_json.dumps(doc), nl=False)
        return 0
    head = doc.get("head_commit")
    click.echo(render_plans(plans, fmt, use_color(), head_commit=head))
    return 0


def split_plan_file(paths: tuple[str, ...]) -> str | None:
    """The saved plan among PATHS (recognised by content), or None; mixing is a usage error."""
    from bcsync.loop.planfile import looks_like_plan

    plans = [p for p in paths if looks_like_plan(p)]
    if not plans:
        return None
    if len(paths) > 1:
        raise click.UsageError(
            "give either one saved plan file or config PATHS, not both "
            f"({plans[0]} is a saved plan)"
        )
    return plans[0]


def configs_of_plan(
    path: str, doc: Mapping[str, Any], now: str | None
) -> list[BusinessCenterConfig]:
    """The configs a saved plan was made from; a clear error when they are not here."""
    made_in = doc.get("created_in")
    found = []
    for body in doc["plans"]:
        config = Path(body.get("config_path") or "")
        candidates = [config]
        if made_in and not config.is_absolute():
            candidates.insert(0, Path(made_in) / config)
        match = next((c for c in candidates if _is_file(c)), None)
        if match is None:
            raise PlanFileError(
                f"{path}: the config {_shown(str(config))} it was made from is not here"
                + (f" (the plan was made in {_shown(str(made_in))})" if made_in else ""),
                hint="apply the plan from the directory it was made in, next to its config",
            )
        found.append(str(match))
    return load_configs(tuple(found), now)


def _shown(text: str, limit: int = 200) -> str:
    """A path from a plan file as a message shows it: bounded, control characters escaped."""
    from bcsync.render.text import printable

    return printable(text if len(text) <= limit else text[:limit] + "…")


def _is_file(path: Path) -> bool:
    """Whether a path a plan file names is a file here; a name no file can have is not one."""
    try:
        return path.is_file()
    except (OSError, ValueError):  # a name too long for the file system, a NUL byte
        return False


@click.command(context_settings=CONTEXT_SETTINGS)
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--auto-approve", is_flag=True, help="Apply without asking (for pipelines).")
@click.option(
    "--checksum",
    metavar="SHA256",
    help="Apply only the reviewed plan with this checksum (as `bcsync plan` printed it).",
)
@click.option(
    "--plan",
    "plan_path",
    type=click.Path(dir_okay=False),
    metavar="FILE",
    help="The reviewed plan (saved by `plan --out`) for config PATHS: with it a re-run applies "
    "what remains of it, or says it is already applied.",
)
@allow_removals_option
@changed_option
@base_option
@audit_log_option
@click.option(
    "--settle-timeout",
    type=click.FloatRange(0, 3600),
    default=SETTLE_SECONDS,
    show_default=True,
    metavar="SECONDS",
    help="After writing, read back what changed until it shows, for at most SECONDS (0: skip). "
    "Changes still unseen then are reported 'applied, not yet visible' (exit 5).",
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
    callback=finite_seconds,
    help="Seconds to wait for another apply on the same Business Center.",
)
@now_option
@state_dir_option
def apply(
    paths: tuple[str, ...],
    auto_approve: bool,
    checksum: str | None,
    plan_path: str | None,
    allow_removals: bool,
    changed: bool,
    base: str | None,
    audit_log: str | None,
    settle_timeout: float,
    parallelism: int,
    lock_timeout: float,
    now: str | None,
    state_dir: str | None,
) -> int:
    """Carry out the changes: from config PATHS (plan, show, ask) or a reviewed plan.

    What runs is always a plan made now from the config and a fresh read of the Business
    Center. Given a saved PLANFILE (from `plan --out`) or --checksum, it runs only if that
    fresh plan is the reviewed one, change for change and step for step; otherwise exit 4.
    A re-run after an apply converges: with the reviewed plan at hand (a PLANFILE, or PATHS
    --plan FILE [--checksum SUM]) it applies what remains of it when an earlier apply made
    part of it, and exits 0 saying "already applied" when nothing remains.
    The safety guards check the very steps that run. Every change attempt is appended to the
    audit log. Without a terminal to ask, pass --auto-approve, a PLANFILE or --checksum.
    A saved plan applies only to the Business Center it names (its target: the API base URL, or
    the local Business Center's database). --changed [--base REF] plans and applies only what
    changed (see `bcsync plan --changed`);
    a saved scoped plan re-reads the scope it records.
    """
    from bcsync.loop import planfile
    from bcsync.loop.reconcile import Reviewed, locks

    if checksum is not None and not re.fullmatch(r"sha256:[0-9a-f]{64}", checksum):
        raise click.BadParameter("expected sha256: and 64 hex digits", param_hint="--checksum")
    saved_path = split_plan_file(paths)
    if plan_path is not None and saved_path is not None:
        raise click.UsageError("--plan goes with config PATHS (a saved plan alone needs no --plan)")
    scopes: dict[str, ChangedScope | None] | None = None
    if saved_path is not None or plan_path is not None:
        if changed or base is not None:
            raise click.UsageError("a saved plan carries its own scope: drop --changed/--base")
        reviewed_path = saved_path or plan_path or ""
        doc, saved_plans = planfile.read(reviewed_path)
        configs = (
            configs_of_plan(reviewed_path, doc, now) if saved_path else load_configs(paths, now)
        )
        # A saved scoped plan is checked against a fresh plan of the very scope it records.
        scopes = {p.bc_id: p.scope for p in saved_plans}
        given = (checksum,) if checksum else ()
        reviewed: Reviewed | None = Reviewed(
            plans=doc["plans"],
            checksums=(*given, doc["checksum"]),
            source=f"the saved plan {reviewed_path}",
        )
    else:
        configs = load_configs(paths, now)
        reviewed = Reviewed(checksums=(checksum,)) if checksum else None
        scopes = changed_scopes(paths, configs, changed, base, now)
    state = resolve_state_dir(state_dir, configs)
    audit_path = Path(audit_log) if audit_log else state / "audit.jsonl"
    with locks([c.bc_id for c in configs], timeout=lock_timeout):
        run = _Apply(
            configs, state, reviewed, allow_removals, auto_approve, parallelism, scopes,
            settle_timeout,
        )  # fmt: skip
        results, seen = run_async(lambda: run.go(audit_path))
    code = report_results(results, audit_path, seen)
    raise_if_some_failed(run.failed, len(configs), "applied")
    return code


@dataclass
class _Apply:
    """One apply run: plan afresh, check it may run, ask when nobody reviewed it, execute."""

    configs: Sequence[BusinessCenterConfig]
    state: Path
    reviewed: Reviewed | None
    allow_removals: bool
    auto_approve: bool
    parallelism: int
    scopes: Mapping[str, ChangedScope | None] | None = None  # `--changed` or a saved scoped plan
    settle_timeout: float = SETTLE_SECONDS
    failed: list[FailedBC] = field(default_factory=list)  # BCs that could not be planned

    async def go(self, audit_path: Path) -> tuple[list[ApplyResult], list[Visibility]]:
        from bcsync.loop import ledger
        from bcsync.loop.audit import AuditLog
        from bcsync.loop.reconcile import Progress, apply_planned, check_apply, plan_each
        from bcsync.loop.settle import already_applied, reviewed_digests
        from bcsync.providers.factory import open_providers
        from bcsync.providers.tiktok.client import RetryPolicy

        color = use_color()
        digests = reviewed_digests(self.reviewed)
        # How long reads may lag is TikTok's, not this run's: a shorter --settle-timeout makes
        # this run wait less, never trusts a read sooner.
        applied = ledger.load(
            audit_path,
            now=datetime.now(UTC),
            window=max(self.settle_timeout, SETTLE_SECONDS),
            digests=set(digests.values()),
        )
        when = already_applied(self.reviewed, applied)
        if when is not None:
            click.echo(
                f"Already applied at {when:%Y-%m-%d %H:%M:%S} UTC: the audit log records every "
                "change of the reviewed plan as made. Nothing was read or sent."
            )
            return [], []
        # A write whose answer was lost is read back for as long as apply reads back its writes.
        retry = RetryPolicy(settle_seconds=self.settle_timeout)
        async with open_providers(self.configs, state_dir=self.state, retry=retry) as providers:
            with _reading(self.configs):
                planned, self.failed = await plan_each(
                    self.configs,
                    providers,
                    allow_removals=self.allow_removals,
                    scopes=self.scopes,
                    applied=applied,
                )
            # A reviewed plan runs whole or not at all; otherwise the others go on.
            if self.failed and (self.reviewed is not None or not planned):
                raise self.failed[0].error
            plans = [p.plan for p in planned]
            if self.reviewed is None:
                click.echo(render_plans(plans, "text", color))
            progress = check_apply(plans, self.reviewed)
            for verdict in progress:
                if verdict.progress is not Progress.WHOLE:
                    click.echo(verdict.sentence())
            if not any(p.has_changes for p in plans):
                done = any(v.progress is Progress.DONE for v in progress)
                click.echo("Already applied: nothing to do." if done else "Nothing to apply.")
                return [], []
            if self.reviewed is None and not self.auto_approve:
                confirm_apply()
            audit = AuditLog(audit_path, context=audit_context(self.configs))
            total = sum(len(p.changes) for p in plans)
            with _progress(total, color) as on_step, audit:
                results = await apply_planned(
                    [(p, providers[p.bc_id]) for p in plans],
                    audit=audit,
                    concurrency=self.parallelism,
                    on_step=on_step,
                    digests=digests,
                )
                seen = await self._read_back(planned, results, providers, audit, digests)
            return results, seen

    async def _read_back(
        self,
        planned: Sequence[PlannedBC],
        results: Sequence[ApplyResult],
        providers: Mapping[str, Any],
        audit: Any,
        digests: Mapping[str, str],
    ) -> list[Visibility]:
        """Read back what the apply made until it shows (settle.py); record what was seen."""
        from bcsync.loop.settle import confirm_visible, visibility_records

        if self.settle_timeout <= 0:
            return []
        if any(r.results for r in results):
            echo_err(f"Reading back the changes (up to {self.settle_timeout:g} s)…")
        seen = await confirm_visible(planned, results, providers, timeout=self.settle_timeout)
        for result, visibility in zip(results, seen, strict=True):
            for record in visibility_records(result, visibility, digests.get(result.plan.bc_id)):
                audit.write(record)
        audit.sync()
        return seen


def confirm_apply() -> None:
    """Ask on a terminal; without one, refuse (exit 4) rather than guess."""
    from bcsync.errors import DeclinedError

    if not sys.stdin.isatty():
        raise DeclinedError(
            "refusing to apply without confirmation: no terminal to ask",
            hint="review the plan, then pass --auto-approve (pipelines), --checksum, "
            "or apply a saved plan file",
        )
    if not click.confirm("Apply these changes?", default=False, err=True):
        raise DeclinedError("apply cancelled; nothing was changed")


def audit_context(configs: Sequence[BusinessCenterConfig]) -> dict[str, Any]:
    """Who applies, from which commit, and whether that checkout had uncommitted changes."""
    from bcsync.loop.audit import actor, git_commit, git_dirty

    where = Path(configs[0].path).parent if configs else Path(".")
    return {
        "actor": actor(),
        "git_commit": git_commit(where),
        "git_dirty": git_dirty(where),
        "mode": "apply",
    }


def change_line(change: Change, outcome: str) -> str:
    """One human line per change: "dave@acme.com standard → admin: done"."""
    from bcsync.render.text import printable, transition

    words = {"succeeded": "done", "failed": "failed", "skipped": "skipped"}
    what = transition(change)
    verb = {"create": "add", "update": "change", "delete": "remove"}.get(change.action.value, "")
    text = f"{verb} {printable(change.title)}" + (f" {what}" if what else "")
    return f"{text}: {words.get(outcome, outcome)}"


def report_results(
    results: Sequence[ApplyResult], audit_path: Path, seen: Sequence[Visibility] = ()
) -> int:
    if not results:
        return 0
    from bcsync.render.text import terminal_text

    color = use_color()
    failed = False
    for result in results:
        failed = failed or not result.ok
        click.echo(style(result.sentence(), color, fg="green" if result.ok else "red", bold=True))
        for step_result in result.results.values():
            if step_result.outcome.value == "succeeded":
                continue
            for change in step_result.changes:
                click.echo(f"  {change_line(change, step_result.outcome.value)}")
            click.echo(f"    {terminal_text(str(step_result.error))}")
    unseen = [c for v in seen for c in v.not_visible]
    for visibility in seen:
        if visibility.confirmed and visibility.settled:
            count = len(visibility.confirmed)
            click.echo(f"  confirmed by a read: {count} change(s) ({visibility.waited:g} s)")
        for change in visibility.not_visible:
            click.echo(
                f"  {change_line(change, 'succeeded')}; applied, not yet visible after "
                f"{visibility.waited:g} s"
            )
    click.echo(f"Audit log: {audit_path}")
    if failed:
        echo_err(
            "Some changes did not apply; run `bcsync plan` to see what remains, or run the same "
            "apply again to finish the reviewed plan."
        )
        return int(ExitCode.RUNTIME)
    if unseen:
        echo_err(
            f"{len(unseen)} change(s) applied but not yet visible to reads. TikTok's reads may "
            "lag its writes: a plan made now shows them as 'applied, not yet visible' and does "
            "not make them again; check later with `bcsync plan`."
        )
        return int(ExitCode.NOT_YET_VISIBLE)
    return 0


@contextlib.contextmanager
def _reading(configs: Sequence[BusinessCenterConfig]) -> Iterator[None]:
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
def _progress(total: int, color: bool) -> Iterator[Callable[[StepResult], None]]:
    """A progress bar on a terminal; one human line per change otherwise."""
    if sys.stderr.isatty() and not os.environ.get("CI"):
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        console = Console(stderr=True, no_color=not color)
        with Progress(
            TextColumn("Applying"), BarColumn(), MofNCompleteColumn(), console=console
        ) as bar:
            task = bar.add_task("apply", total=total)
            yield lambda result: bar.advance(task, len(result.changes))
        return

    def lines(result: StepResult) -> None:
        for change in result.changes:
            echo_err(f"  {change_line(change, result.outcome.value)}")

    yield lines
