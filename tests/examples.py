"""The one way a test gets an example: a private copy of its files, never its local state.

The README's first command applies `examples/quickstart` to its local Business Center, whose state
then lives in `examples/quickstart/.bcsync/`. A test that copied that folder would start from
whatever the last run left there, so copies leave out every state folder: `.bcsync` (the local
provider's databases and the audit log, `bcsync.providers.local.LOCAL_STATE`'s root) and any other
hidden entry. Tests run commands on the copy, never on the working tree's examples.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from bcsync.providers.local import LOCAL_STATE

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
STATE_FOLDER = LOCAL_STATE.parts[0]  # ".bcsync"


def _local_state(directory: str, names: list[str]) -> set[str]:
    return {name for name in names if name == STATE_FOLDER or name.startswith(".")}


def copy_example(name: str, target: Path, *, examples: Path = EXAMPLES) -> Path:
    """Copy `examples/NAME` to TARGET (which must not exist) as a fresh clone has it; TARGET."""
    shutil.copytree(examples / name, target, ignore=_local_state)
    return target
