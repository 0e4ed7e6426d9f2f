"""What .ci/run needs from the README and the tree, read at run time so CI can't drift from them.

    python3 .ci/readme.py commands README.md   the set-up commands, NUL-separated, in order
    python3 .ci/readme.py tree                 a fingerprint of every file the suite could touch

`commands` takes the fenced `sh` blocks of the README's "## Set up" section: the README promises
exactly two (run the main job; run the tests), each one command, and anything else is an error.
`tree` lists every file under the checkout with its SHA-256, ignored ones included (the local
Business Center's database is ignored by git, yet a test writing to it must show), leaving out only
what a run is expected to make: `.git`, `.venv` and the tools' caches.
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
from pathlib import Path

SECTION = "## Set up"
EXPECTED = 2
CACHES = {
    ".git",
    ".venv",
    "__pycache__",
    ".pytest_cache",
    ".mypy_cache",
    ".ruff_cache",
    ".hypothesis",
}
FENCE = re.compile(r"^```sh\n(.*?)^```$", re.S | re.M)


def setup_commands(readme: str) -> list[str]:
    """The commands of the README's set-up section, in order; ValueError unless exactly two."""
    start = readme.find(f"\n{SECTION}\n")
    if start < 0:
        raise ValueError(f"the README has no '{SECTION}' section")
    body = readme[start + len(SECTION) + 2 :]
    end = re.search(r"^## ", body, re.M)
    body = body[: end.start()] if end else body
    blocks = [b.strip() for b in FENCE.findall(body)]
    if len(blocks) != EXPECTED:
        raise ValueError(f"'{SECTION}' has {len(blocks)} sh blocks; the README promises {EXPECTED}")
    for block in blocks:
        if not block or "\n" in block:
            raise ValueError(f"each set-up block must hold one command, not {block!r}")
    return blocks


def tree_fingerprint(root: Path) -> list[str]:
    """`SHA256  PATH` for every file below ROOT but the expected caches, sorted."""
    lines = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in CACHES and not d.endswith(".egg-info")]
        for name in files:
            path = Path(folder, name)
            if path.is_symlink() or not path.is_file():
                continue
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            lines.append(f"{digest}  {path.relative_to(root)}")
    return sorted(lines)


def main(argv: list[str]) -> int:
    if argv[:1] == ["commands"] and len(argv) == 2:
        try:
            commands = setup_commands(Path(argv[1]).read_text(encoding="utf-8"))
        except ValueError as error:
            print(f".ci/readme.py: {argv[1]}: {error}", file=sys.stderr)
            return 1
        sys.stdout.write("".join(f"{c}\0" for c in commands))
        return 0
    if argv == ["tree"]:
        sys.stdout.write("".join(f"{line}\n" for line in tree_fingerprint(Path.cwd())))
        return 0
    print(__doc__, file=sys.stderr)
    return 64


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
