"""`export`: adopting a live Business Center, written as a config file."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click

from bcsync.cli.base import CONTEXT_SETTINGS, echo_err, run_async, state_dir_option
from bcsync.errors import ConfigError, FileAccessError, UsageError

PROVIDERS = ("tiktok", "emulator", "local")


@click.command(context_settings=CONTEXT_SETTINGS)
@click.option(
    "--from",
    "--provider-from",
    "from_config",
    metavar="CONFIG",
    type=click.Path(dir_okay=False),
    help="Take the BC id and provider from an existing config file (it need not be complete).",
)
@click.option("--bc-id", metavar="ID", help="The Business Center to export (its bc_id).")
@click.option(
    "--provider",
    "provider_type",
    type=click.Choice(PROVIDERS),
    help="Where the BC lives (default: tiktok; local with --seed).",
)
@click.option(
    "--seed",
    metavar="SEED.yaml",
    type=click.Path(dir_okay=False),
    help="local: the emulator seed of the local Business Center (implies --provider local).",
)
@click.option("--url", metavar="URL", help="emulator: its URL; tiktok: another API base URL.")
@click.option(
    "--token-env",
    metavar="NAME",
    help="The variable holding the token (default TIKTOK_ACCESS_TOKEN; for emulator "
    "BCSYNC_EMULATOR_TOKEN).",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False),
    help="Write the config here (default: standard output).",
)
@click.option("--force", is_flag=True, help="Overwrite --out if it exists.")
@click.option("--groups", is_flag=True, help="Propose a group for members with identical access.")
@state_dir_option
def export(
    from_config: str | None,
    bc_id: str | None,
    provider_type: str | None,
    seed: str | None,
    url: str | None,
    token_env: str | None,
    out: str | None,
    force: bool,
    groups: bool,
    state_dir: str | None,
) -> int:
    """Write a config from a live Business Center (adoption, like octodns-dump or terraform import).

    The config declares every member (joined or invited), asset, grant, partner and share the BC
    has today, so `bcsync plan` on it says "No changes". Aliases are made from asset and partner
    names; min_admins is lowered to the BC's admin count when that is below 2 (a comment says so).
    Assets partners share with the BC are not its own: they are written as `incoming:`
    expectations (or, when TikTok names no partner for some, listed in a comment).

    \b
    Name the BC and where it lives in one of three ways:
      bcsync export --bc-id 7012345678901234567 --out bcsync.yaml
          the TikTok API, token from $TIKTOK_ACCESS_TOKEN (or --token-env NAME)
      bcsync export --seed seed.yaml [--bc-id ID] --out bcsync.yaml
          the local Business Center (rehearsal); --bc-id when the seed has several BCs
      bcsync export --from bcsync.yaml --out bcsync.yaml --force
          the BC id and provider of an existing (even skeleton) config
    A served emulator: --provider emulator --url URL, token from $BCSYNC_EMULATOR_TOKEN.

    Exits 0 when written, 1 when the BC cannot be read, 3 for a bad --from config, 64 for
    missing or conflicting options (or --out exists without --force).
    """

    from bcsync.adoption.adopt import read_whole, reading_config
    from bcsync.adoption.export import ExportOptions, export_config
    from bcsync.cli.plan import resolve_state_dir
    from bcsync.providers.factory import open_providers

    target = Path(out) if out else None
    if target is not None and target.exists() and not force:
        raise UsageError(f"{out} exists", hint="pass --force to overwrite it")
    where = target.resolve().parent if target else Path.cwd()
    if from_config:
        if bc_id or provider_type or seed or url or token_env:
            raise UsageError("--from takes the BC id and provider from the config; drop the rest")
        bc_id, name, read_section = _from_config(from_config)
        home = Path(from_config).resolve()
        section = _rebase_seed(read_section, home.parent, where)
    else:
        bc_id, section = _from_options(bc_id, provider_type, seed, url, token_env, where)
        name, read_section, home = None, section, where / "bcsync.yaml"
    # A local BC's state lives beside its config: read the one that config (or the file about
    # to be written) manages.
    config = reading_config(bc_id, _settings(read_section, home.parent), home)

    # The local Business Center's state where `plan` on the written file will look for it.
    state = resolve_state_dir(state_dir, [config])

    async def go() -> Any:
        async with open_providers([config], state_dir=state) as providers:
            return await read_whole(providers[bc_id])

    snapshot = run_async(go)
    options = ExportOptions(
        bc_name=name or snapshot.bc_name,
        provider=section,
        groups=groups,
        source=f"{section['type']} Business Center {bc_id}",
    )
    text = export_config(snapshot.state, options, snapshot.incoming)
    if target is None:
        click.echo(text, nl=False)
        return 0
    _write(target, text)
    members, assets = len(snapshot.state.members), len(snapshot.state.assets)
    echo_err(
        f"Wrote {out}: {members} member(s), {assets} asset(s), "
        f"{len(snapshot.state.partners)} partner(s). Check it with: bcsync plan {out}"
    )
    return 0


def _from_options(
    bc_id: str | None,
    provider_type: str | None,
    seed: str | None,
    url: str | None,
    token_env: str | None,
    where: Path,
) -> tuple[str, dict[str, Any]]:
    """(bc id, provider section) from the flags."""
    kind = provider_type or ("local" if seed else "tiktok")
    section: dict[str, Any] = {"type": kind}
    if kind == "local":
        if not seed:
            raise UsageError("--provider local needs --seed SEED.yaml")
        if url or token_env:
            raise UsageError("the local provider takes no --url or --token-env")
        section["seed"] = os.path.relpath(Path(seed).resolve(), where)
        bc_id = bc_id or _only_bc(seed)
    else:
        if seed:
            raise UsageError(f"--seed is for the local provider, not {kind}")
        if kind == "emulator" and not url:
            raise UsageError("--provider emulator needs --url URL")
        if url:
            section["url"] = url
        if token_env:
            section["token_env"] = token_env
    if not bc_id:
        raise UsageError("which Business Center? pass --bc-id ID (or --from CONFIG)")
    if not bc_id.isdigit() or len(bc_id) > 32:
        raise UsageError(f"--bc-id expects digits, got {bc_id!r}")
    return bc_id, section


def _only_bc(seed: str) -> str:
    """The one BC of a seed; several need --bc-id."""
    from bcsync.emulator.seed import load_seed

    ids = [str(bc["bc_id"]) for bc in load_seed(seed).get("business_centers") or []]
    if len(ids) != 1:
        raise UsageError(
            f"{seed} holds {len(ids)} Business Centers; pick one with --bc-id",
            hint="ids: " + ", ".join(ids) if ids else None,
        )
    return ids[0]


def _from_config(path: str) -> tuple[str, str | None, dict[str, Any]]:
    """(bc id, name, provider section) of a config; only those two sections must be valid."""
    from bcsync.config.composer import LoadFailed
    from bcsync.config.loader import read_document
    from bcsync.config.schema import check_schema

    try:
        doc = read_document(path)
    except LoadFailed as exc:
        raise ConfigError(exc.problems) from None
    wanted = ("business_center", "provider")
    problems = [p for p in check_schema(doc) if p.is_error and p.path.startswith(wanted)]
    bc = doc.data.get("business_center")
    if not problems and not isinstance(bc, dict):
        problems.append(doc.problem(("business_center",), "missing", "add business_center.id"))
    if problems:
        raise ConfigError(problems)
    assert isinstance(bc, dict)
    section = doc.data.get("provider") or {"type": "local"}
    return str(bc["id"]), bc.get("name"), dict(section)


def _rebase_seed(section: dict[str, Any], old: Path, new: Path) -> dict[str, Any]:
    """A local seed path relative to the written file's directory instead of the old config's."""
    seed = section.get("seed")
    if section.get("type", "local") != "local" or not isinstance(seed, str):
        return section
    return {**section, "seed": os.path.relpath((old / seed).resolve(), new)}


def _settings(section: dict[str, Any], where: Path) -> Any:
    """ProviderSettings exactly as the written config will build them."""
    from bcsync.config.build import build_provider

    return build_provider(section, str(where))


def _write(target: Path, text: str) -> None:
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise FileAccessError(f"cannot write {target}: {exc.strerror or exc}") from None
