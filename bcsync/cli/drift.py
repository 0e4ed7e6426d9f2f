"""`drift`: how the Business Center differs from the config, and who last changed it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import click

from bcsync.cli.base import (
    CONTEXT_SETTINGS,
    format_option,
    load_configs,
    now_option,
    run_async,
    state_dir_option,
)
from bcsync.errors import ExitCode


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
    written. Incoming shares that differ from the config's `incoming:` count as drift too (only
    the partner can change them). Exit 0 when there is no drift, 2 when there is (for a
    scheduled gate).

    PATHS are config files or directories of them (default: bcsync.yaml, else bcsync/*.yaml).
    """
    import asyncio
    from pathlib import Path

    from bcsync.auditor.auditquery import read_records
    from bcsync.auditor.drift import DriftReport, own_applies
    from bcsync.auditor.drift_read import check_drift
    from bcsync.providers.factory import open_providers
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
