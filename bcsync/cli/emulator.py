"""`bcsync emulator serve|reset|accept`: the local Business Center (see the README).

Registered by `bcsync.cli`. Imports of the emulator are lazy, so other commands do not pay for
starlette and uvicorn. Emulator errors reach the one handler in `bcsync.cli` (a bad seed: exit 3).
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from bcsync.cli.base import CONTEXT_SETTINGS, load_configs

if TYPE_CHECKING:
    from bcsync.core.model import BusinessCenterConfig

DEFAULT_DB = Path(".bcsync/emulator.db")
RATE = click.FloatRange(0.0, 1.0)


class AcceptAfter(click.ParamType):  # type: ignore[type-arg]  # generic only in newer click
    """Seconds (>= 0) or "never"."""

    name = "SECONDS|never"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> float:
        if isinstance(value, float):
            return value
        if str(value).lower() == "never":
            return math.inf
        try:
            seconds = float(value)
        except ValueError:
            self.fail(f"expected a number of seconds or 'never', got {value!r}", param, ctx)
        if seconds < 0 or math.isnan(seconds):
            self.fail("must be >= 0 seconds", param, ctx)
        return seconds


@click.group("emulator", context_settings=CONTEXT_SETTINGS)
def emulator() -> None:
    """The local Business Center: an emulator of the TikTok Business API.

    It keeps its state in a SQLite file seeded from a seed YAML, and serves the Business Center
    endpoints under /open_api/v1.3/ so bcsync (or curl) can rehearse changes without TikTok.
    """


db_option = click.option(
    "--db",
    type=click.Path(dir_okay=False, path_type=Path),
    default=DEFAULT_DB,
    show_default=True,
    help="The emulator's SQLite database.",
)


@emulator.command(context_settings=CONTEXT_SETTINGS)
@click.option(
    "--seed",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Seed YAML; creates the database when it does not exist yet (or with --reset).",
)
@db_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port", type=click.IntRange(0, 65535), default=8787, show_default=True, help="0 picks one."
)
@click.option(
    "--control",
    is_flag=True,
    help="Enable the control endpoints under /_emulator/: only for Host localhost, 127.0.0.1 or "
    "[::1], with the control token in the Emulator-Control-Token header (from "
    "$BCSYNC_EMULATOR_CONTROL_TOKEN, else a new one written to DB.control-token, mode 0600).",
)
@click.option("--reset", "reseed", is_flag=True, help="Recreate the database from --seed first.")
@click.option("--latency-ms", type=click.FloatRange(min=0), default=0.0, help="Fixed latency.")
@click.option(
    "--jitter-ms", type=click.FloatRange(min=0), default=0.0, help="Random extra latency."
)
@click.option("--qps-limit", type=click.IntRange(min=1), help="Requests per second per app.")
@click.option("--qpm-limit", type=click.IntRange(min=1), help="Requests per minute per app.")
@click.option("--throttle-rate", type=RATE, default=0.0, help="Share answered 40100/40016.")
@click.option("--error-rate", type=RATE, default=0.0, help="Share answered 502/503/504 (HTML).")
@click.option("--timeout-rate", type=RATE, default=0.0, help="Share that hang, then 504.")
@click.option(
    "--lost-response-rate", type=RATE, default=0.0, help="Share of writes committed, answered 5xx."
)
@click.option(
    "--hang-seconds", type=click.FloatRange(min=0), default=30.0, show_default=True,
    help="How long a timeout hangs.",
)  # fmt: skip
@click.option("--fault-seed", type=int, default=0, show_default=True, help="Makes faults repeat.")
@click.option(
    "--accept-invites-after",
    type=AcceptAfter(),
    help="Accept invitations after SECONDS, or never (default: the seed's setting).",
)
@click.option(
    "--read-lag",
    type=click.FloatRange(min=0, max=3600),
    default=0.0,
    show_default=True,
    metavar="SECONDS",
    help="Reads see the state as of SECONDS ago; writes take effect at once (eventual "
    "consistency, to rehearse re-runs and retries).",
)
@click.option("--access-log", is_flag=True, help="Print one line per request.")
def serve(
    seed: Path | None,
    db: Path,
    host: str,
    port: int,
    control: bool,
    reseed: bool,
    accept_invites_after: float | None,
    read_lag: float,
    access_log: bool,
    **fault_options: Any,
) -> None:
    """Serve the emulator over HTTP (loopback by default) until Ctrl+C."""

    def body() -> None:
        from bcsync.emulator import CONTROL_TOKEN_ENV, EmulatorError, create_app
        from bcsync.emulator.serve import base_url, bind, is_loopback
        from bcsync.emulator.serve import serve as run_server

        if reseed and seed is None:
            raise EmulatorError("--reset needs --seed FILE")
        if seed is None and not db.exists():
            raise EmulatorError(f"no database at {db} yet; pass --seed FILE to create it")
        faults = _faults(fault_options)
        chosen = os.environ.get(CONTROL_TOKEN_ENV) or None
        app = create_app(
            db, seed, control=control, control_token=chosen, faults=faults,
            invite_accept_after=accept_invites_after, reset=reseed, read_lag=read_lag,
        )  # fmt: skip
        emu = app.state.emulator
        try:
            sock = bind(host, port)
            token_note = _control_token_note(emu, db, chosen) if control else ""
        except EmulatorError:
            emu.close()
            raise
        url = base_url(sock)
        _describe(emu, seed, db, url, token_note, faults)
        if not is_loopback(host):
            click.echo(
                f"Warning: {host} is not a loopback address; anyone who can reach it can use "
                "the seed's tokens.",
                err=True,
            )
        click.echo(f"Listening on {url} (Ctrl+C to stop)")
        run_server(app, sock, access_log=access_log)

    body()


def _faults(options: dict[str, Any]) -> Any:
    from bcsync.emulator import Faults

    return Faults(
        latency_ms=options["latency_ms"],
        jitter_ms=options["jitter_ms"],
        qps_limit=options["qps_limit"],
        qpm_limit=options["qpm_limit"],
        throttle_rate=options["throttle_rate"],
        error_5xx_rate=options["error_rate"],
        timeout_rate=options["timeout_rate"],
        lost_response_rate=options["lost_response_rate"],
        hang_seconds=options["hang_seconds"],
        seed=options["fault_seed"],
    )


def _control_token_note(emu: Any, db: Path, chosen: str | None) -> str:
    """Where a control client finds the control token (never printed): the variable it came
    from, or a file beside the database, readable by its owner only."""
    from bcsync.emulator import CONTROL_HEADER, CONTROL_TOKEN_ENV, EmulatorError

    if chosen:
        return f"send ${CONTROL_TOKEN_ENV} as the {CONTROL_HEADER} header"
    path = db.with_name(db.name + ".control-token")
    try:
        path.unlink(missing_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(emu.control_token + "\n")
    except OSError as exc:
        raise EmulatorError(f"cannot write the control token to {path}: {exc.strerror}") from None
    return f"send the token in {path} as the {CONTROL_HEADER} header"


def _describe(
    emu: Any, seed: Path | None, db: Path, url: str, token_note: str, faults: Any
) -> None:
    """Where it listens and how to talk to it; names admins, never prints a token."""
    click.echo("Local Business Center (emulator of the TikTok Business API)")
    if emu.created:
        click.echo(f"  database  {db} (created from {seed})")
    else:
        note = "; the seed is used only by reset" if seed else ""
        click.echo(f"  database  {db} (existing state{note}; --reset reseeds it)")
    click.echo(f"  API       {url}/open_api/v1.3/")
    if token_note:
        click.echo(f"  control   {url}/_emulator/ ({token_note})")
    else:
        click.echo("  control   off (--control)")
    changed = {k: v for k, v in faults.to_dict().items() if v not in (0, 0.0, None)}
    changed.pop("hang_seconds", None)
    click.echo(f"  faults    {', '.join(f'{k}={v}' for k, v in changed.items()) or 'none'}")
    if emu.replica is not None:
        click.echo(f"  reads     lag {emu.replica.lag:g} s behind writes")
    where = seed if seed else "the seed file"
    click.echo(f"  tokens    send a user's `token` from {where} as the Access-Token header;")
    for bc in emu.business_centers():
        admin = bc["admin_email"] or "no admin with a token"
        # A seed's names are data: control characters shown escaped, never sent raw.
        line = f"{bc['bc_id']} {bc['name']}: admin {admin}"
        click.echo(f"            {line if line.isprintable() else ascii(line)[1:-1]}")


@emulator.command(context_settings=CONTEXT_SETTINGS)
@click.argument("paths", nargs=-1, type=click.Path())
@click.option(
    "--seed",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Instead of PATHS: recreate a served emulator's database (--db) from this seed.",
)
@click.option(
    "--db",
    type=click.Path(dir_okay=False, path_type=Path),
    help=f"With --seed: the database to recreate (default {DEFAULT_DB}).",
)
def reset(paths: tuple[str, ...], seed: Path | None, db: Path | None) -> None:
    """Recreate local Business Centers from their seeds (all changes are lost).

    With PATHS: the database of each `local` provider in them, the very one plan and apply use
    (beside the config, in .bcsync/local/). With --seed FILE [--db FILE]: a served emulator's.

    PATHS are config files or directories of them (default: bcsync.yaml, else bcsync/*.yaml).
    """
    if seed is not None and paths:
        raise click.UsageError("give config PATHS or --seed, not both")
    if seed is None and db is not None:
        raise click.UsageError(
            "--db goes with --seed (a local provider's database is found from PATHS)"
        )
    if seed is not None:
        _reset_served(seed, db or DEFAULT_DB)
        return
    from bcsync.providers.local import reset_local

    results = reset_local(_local_configs(paths))
    for r in results:
        click.echo(
            f"Reset {_shown(r.world.database)} from {_shown(r.world.seed)}: "
            f"{r.business_centers} Business Center(s), {r.users} user(s), {r.members} member(s)."
        )


def _reset_served(seed: Path, db: Path) -> None:
    from bcsync.emulator import create_app

    emu = create_app(db, seed, reset=True).state.emulator
    try:
        world = emu.snapshot()
    finally:
        emu.close()
    bcs = world["business_centers"]
    members = sum(len(bc["members"]) for bc in bcs)
    click.echo(
        f"Reset {db} from {seed}: {len(bcs)} Business Center(s), "
        f"{len(world['users'])} user(s), {members} member(s)."
    )


@emulator.command(context_settings=CONTEXT_SETTINGS)
@click.argument("email")
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--decline", is_flag=True, help="Decline the invitation instead.")
def accept(email: str, paths: tuple[str, ...], decline: bool) -> None:
    """Accept EMAIL's pending invitation in the local Business Centers of PATHS.

    The member joins (the invitation's ad-account grants with them), so the next plan can give
    the grants that wait for a joined member. To accept every invitation automatically, set
    `settings: { invite_accept_after_seconds: 0 }` in the seed and reset.

    PATHS are config files or directories of them (default: bcsync.yaml, else bcsync/*.yaml).
    """
    from bcsync.providers.local import settle_local_invitation

    settled = settle_local_invitation(_local_configs(paths), email, accept=not decline)
    for bc_id, status in settled:
        done = "joined" if status == "BOUND" else "declined the invitation to"
        line = f"{email.strip().lower()} {done} Business Center {bc_id}."
        click.echo(line if line.isprintable() else ascii(line)[1:-1])


def _local_configs(paths: tuple[str, ...]) -> list[BusinessCenterConfig]:
    """The configs of PATHS that use the local provider; a usage error when there are none."""
    from bcsync.core.model import ProviderType

    configs = [c for c in load_configs(paths, None) if c.provider.type is ProviderType.LOCAL]
    if not configs:
        raise click.UsageError(
            "no local Business Center in PATHS (a config with provider: { type: local, seed: ... })"
        )
    return configs


def _shown(path: Path) -> str:
    """A path relative to the working directory when it is below it."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)
