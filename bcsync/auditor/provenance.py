"""Where a report comes from: the checkout, the tool, and how each BC was read. An edge module.

`bcsync report` hands an auditor evidence: the commit the configs were read at and whether the
checkout had uncommitted changes, bcsync's version, when the report was made, and per BC the
config's digest and when and through what the BC was read (or that it was not: offline). The
pure report (`bcsync.auditor.access.Provenance`, `BCSummary`) carries it; the views print it.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from bcsync import __version__
from bcsync.auditor.access import Provenance
from bcsync.core.model import BusinessCenterConfig, ProviderType
from bcsync.loop.audit import git_commit, git_dirty, now_iso


def collect(configs: Sequence[BusinessCenterConfig]) -> Provenance:
    """The run's provenance: git state of the (first) config's checkout, version, time."""
    where = Path(configs[0].path).parent if configs else Path(".")
    return Provenance(
        tool_version=__version__,
        generated_at=now_iso(),
        git_commit=git_commit(where),
        git_dirty=git_dirty(where),
    )


def read_via(config: BusinessCenterConfig, calls: int) -> str:
    """How a BC was read: the provider, where it reached, and how many API calls it took."""
    from bcsync.providers.local import local_database
    from bcsync.providers.tiktok.client import DEFAULT_BASE_URL

    settings = config.provider
    if settings.type is ProviderType.LOCAL:
        where = f"local Business Center (emulator) {_shown(local_database(config))}"
    elif settings.type is ProviderType.EMULATOR:
        where = f"emulator at {settings.url}"
    else:
        where = f"TikTok Business API at {settings.url or DEFAULT_BASE_URL}"
    return f"{where}, {calls} API call(s)"


def _shown(path: Path) -> str:
    """A path relative to the working directory when it lies below it."""
    try:
        return os.path.relpath(path)
    except ValueError:
        return str(path)
