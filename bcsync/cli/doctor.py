"""`doctor`: a read-only check that the configured provider answers the shapes bcsync reads."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from bcsync.cli.base import CONTEXT_SETTINGS, format_option, run_async, state_dir_option
from bcsync.errors import ConfigError

if TYPE_CHECKING:
    from bcsync.core.model import BusinessCenterConfig


@click.command(context_settings=CONTEXT_SETTINGS)
@click.argument("paths", nargs=-1, type=click.Path())
@format_option("text", "json", help="Output format (json: to attach to a bug report).")
@state_dir_option
def doctor(paths: tuple[str, ...], fmt: str, state_dir: str | None) -> int:
    """Read-only: check that each Business Center's provider answers what bcsync reads.

    For the first run against a real BC. Calls each read endpoint bcsync uses once (per asset
    type where it matters), records the shape of each answer (keys, JSON types, enum values,
    page sizes honoured, whether the activity log is served; never ids, names, emails or the
    token), compares it with what bcsync expects and prints a verdict per endpoint: confirmed,
    no items, not probed, absent (the activity log), differs or failed. Nothing is written.

    Only each config's business_center and provider sections are read, so a skeleton config
    (version, business_center.id, provider) is enough before the first `bcsync export`.

    Exit 0 when nothing differs or failed, 1 otherwise (3 when those sections are invalid).

    PATHS are config files or directories of them (default: bcsync.yaml, else bcsync/*.yaml).
    """
    from bcsync import __version__
    from bcsync.cli.plan import resolve_state_dir
    from bcsync.providers.factory import open_providers
    from bcsync.providers.tiktok.doctor import Diagnosis, diagnose
    from bcsync.providers.tiktok.doctor_report import to_json, to_text

    configs = _reading_configs(paths)
    state = resolve_state_dir(state_dir, configs)

    async def go() -> list[Diagnosis]:
        async with open_providers(configs, state_dir=state) as providers:
            return [await diagnose(providers[c.bc_id].client, c.bc_id) for c in configs]

    found = run_async(go)
    if fmt == "json":
        kinds = sorted({c.provider.type.value for c in configs})
        report: Any = to_json(found, ",".join(kinds), __version__)
        click.echo(json.dumps(report, indent=2))
    else:
        click.echo(to_text(found), nl=False)
    return 0 if all(d.ok for d in found) else 1


def _reading_configs(paths: tuple[str, ...]) -> list[BusinessCenterConfig]:
    """A config per file of PATHS holding only its BC id and provider (seeds in a directory
    are skipped, as `validate` does)."""
    from bcsync.adoption.adopt import reading_config
    from bcsync.cli.export import _from_config, _settings
    from bcsync.config.loader import discover, sniff_seed

    files, problems = discover(list(paths))
    if problems:
        raise ConfigError(problems)
    configs = []
    for found in files:
        if found.from_dir and sniff_seed(found.path):
            continue
        bc_id, _, section = _from_config(found.path)
        home = Path(found.path).resolve()
        configs.append(reading_config(bc_id, _settings(section, home.parent), home))
    return configs
