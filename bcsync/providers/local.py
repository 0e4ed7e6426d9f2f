"""The `local` provider's state: where its SQLite databases live, resetting them, invitations.

Layout: the database lives beside the config, whatever the working directory, one per seed:

    <config's directory>/.bcsync/local/<seed file name>.db
    e.g. examples/quickstart/.bcsync/local/seed.yaml.db

(a seed outside the config's directory gets `<seed file name>-<8 hex digits of its path>.db`).
It is created from the seed on first use and used as it is afterwards, so what apply changed in
the local Business Center persists between runs; editing the seed changes nothing until a reset.
The configs of one directory naming one seed share its database (one world, several BCs, as in
examples/agency). The directory is created 0700: the database holds the seed's tokens.
`bcsync emulator reset PATHS` recreates each database from its seed; `bcsync emulator accept
EMAIL PATHS` settles a pending invitation in it as the invitee would (a seed's
`settings.invite_accept_after_seconds: 0` accepts every invitation on the next call instead).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bcsync.core.model import BusinessCenterConfig, ProviderType
from bcsync.errors import ConfigError, NotFoundError, Problem, ProviderError

LOCAL_STATE = Path(".bcsync") / "local"


@dataclass(frozen=True, slots=True)
class World:
    """One local database and the seed it is made from; `bc_ids` are the configs' BCs in it."""

    seed: Path
    database: Path
    bc_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ResetResult:
    world: World
    business_centers: int
    users: int
    members: int


def provider_problem(
    config: BusinessCenterConfig, key: str, message: str, hint: str | None = None
) -> ConfigError:
    """A mistake in a config's provider section found at run time (exit 3)."""
    return ConfigError([Problem(config.path, None, None, f"provider.{key}", message, hint)])


def local_seed(config: BusinessCenterConfig) -> Path:
    """The seed file of a `local` config, resolved against the config's directory."""
    seed = config.provider.seed
    if not seed:
        raise provider_problem(
            config,
            "seed",
            "provider type local needs a seed file",
            "e.g. provider: { type: local, seed: seed.yaml }",
        )
    path = Path(seed)
    if not path.is_absolute():
        path = Path(config.path).parent / path
    if len(str(path).encode()) > 4000 or any(len(p.encode()) > 255 for p in path.parts):
        raise provider_problem(
            config, "seed", "the seed file's name is longer than a file system allows"
        )
    return path.resolve()


def local_database(config: BusinessCenterConfig) -> Path:
    """Where the local Business Center of a `local` config keeps its state (module docstring)."""
    seed = local_seed(config)
    home = Path(config.path).parent.resolve()
    name = seed.name
    if seed.parent != home:
        name += "-" + hashlib.sha256(str(seed).encode()).hexdigest()[:8]
    return home / LOCAL_STATE / f"{name}.db"


def open_local(config: BusinessCenterConfig, *, reset: bool = False) -> Any:
    """The emulator app on the config's local database, created (or `reset`) from its seed."""
    seed = local_seed(config)
    db = local_database(config)
    if not seed.is_file() and (reset or not db.exists()):
        raise provider_problem(config, "seed", f"seed file {seed} not found")
    try:
        db.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as err:
        raise ProviderError(
            f"cannot create the local state directory {db.parent}: {err.strerror or err}"
        ) from None
    # The emulator is needed only for `local`.
    from bcsync.emulator import EmulatorError, SeedError, create_app

    try:
        return create_app(db_path=db, seed=seed, reset=reset)
    except SeedError as err:
        raise ConfigError([], f"{config.path}: provider.seed: {err.message}") from None
    except EmulatorError as err:
        where = Path(config.path).parent
        raise ProviderError(
            f"{config.path}: the local Business Center: {err.message.split('; ')[0]}",
            hint=f"recreate it from its seed with `bcsync emulator reset {where}` "
            "(what earlier applies changed there is lost)",
        ) from None


def local_worlds(configs: Sequence[BusinessCenterConfig]) -> list[World]:
    """The local databases the `local` configs among `configs` use, each once, in order."""
    seen: dict[Path, tuple[Path, list[str]]] = {}
    for config in configs:
        if config.provider.type is not ProviderType.LOCAL:
            continue
        seen.setdefault(local_database(config), (local_seed(config), []))[1].append(config.bc_id)
    return [World(seed, db, tuple(bc_ids)) for db, (seed, bc_ids) in seen.items()]


@contextmanager
def _emulator(config: BusinessCenterConfig, *, reset: bool = False) -> Iterator[Any]:
    app = open_local(config, reset=reset)
    try:
        yield app.state.emulator
    finally:
        app.state.emulator.close()


def reset_local(configs: Sequence[BusinessCenterConfig]) -> list[ResetResult]:
    """Recreate every local database the configs use from its seed (all changes are lost)."""
    results = []
    for world in local_worlds(configs):
        config = next(c for c in configs if c.bc_id == world.bc_ids[0])
        with _emulator(config, reset=True) as emu:
            snapshot = emu.snapshot()
        bcs = snapshot["business_centers"]
        members = sum(len(bc["members"]) for bc in bcs)
        results.append(ResetResult(world, len(bcs), len(snapshot["users"]), members))
    return results


def settle_local_invitation(
    configs: Sequence[BusinessCenterConfig], email: str, *, accept: bool = True
) -> list[tuple[str, str]]:
    """Accept (or decline) EMAIL's pending invitation in each local BC that has one.

    Returns (bc_id, new status) pairs; NotFoundError when no local BC has it pending.
    """
    email = email.strip().lower()
    settled: list[tuple[str, str]] = []
    pending: list[str] = []
    for config in configs:
        if config.provider.type is not ProviderType.LOCAL:
            continue
        with _emulator(config) as emu:
            waiting = _pending_emails(emu.snapshot(), config.bc_id)
            if email in waiting:
                settled.append((config.bc_id, emu.accept_invitation(config.bc_id, email, accept)))
        pending += [e for e in waiting if e not in pending]
    if not settled:
        listed = ", ".join(pending[:5]) + (", ..." if len(pending) > 5 else "")
        raise NotFoundError(
            f"no pending invitation of {email!r} in the local Business Center",
            hint=f"pending: {listed}"
            if pending
            else "no invitation is pending; plan and apply invite members first",
        )
    return settled


def _pending_emails(snapshot: dict[str, Any], bc_id: str) -> list[str]:
    for bc in snapshot["business_centers"]:
        if bc["bc_id"] == bc_id:
            return [m["email"] for m in bc["members"] if m["status"] == "PENDING"]
    return []
