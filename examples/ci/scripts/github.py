"""Small, dependency-free helpers for the bcsync CI scripts (python3 only, no bcsync import).

    github.py find-comment ID_LINE AUTHOR     stdin: `gh api --paginate` comment pages
    github.py find-issue ID_LINE AUTHOR       stdin: `gh api --paginate` issue pages (open ones)
    github.py field NAME                      stdin: one JSON object; prints its NAME
    github.py head-sha                        stdin: a pull request; prints "HEAD MERGE|-"
    github.py merged-pr SHA                   stdin: `commits/SHA/pulls`; prints "NUMBER HEAD_SHA"
    github.py artifact NAME                   stdin: a run's artifact list; prints the id
    github.py plan-run                        stdin: a comment body; prints its plan run id
    github.py trusted-run PATH                stdin: a run; exit 1 unless a workflow_run of PATH
    github.py extract ZIP NAME OUT            copy NAME (a regular file) out of an artifact
    github.py unpack ZIP DEST PATH...         copy PATHs out of a configs artifact, as data
    github.py pre FILE                        FILE as an HTML-escaped <pre> block

Everything read from an artifact is hostile: only the named config paths are taken, as regular
files of bounded size, never links, never outside DEST.
"""

from __future__ import annotations

import html
import io
import json
import re
import sys
import tarfile
import zipfile
from pathlib import Path, PurePosixPath
from typing import Any

MAX_CONFIG_BYTES = 8 * 1024 * 1024
TARBALL = "configs.tar"
PLAN_RUN = re.compile(r"<!-- bcsync-plan-run: ([0-9]{1,20}) -->")


def pages(text: str) -> list[Any]:
    """`gh api --paginate` prints one JSON array per page, back to back."""
    decoder, items, i = json.JSONDecoder(), [], 0
    while i < len(text):
        if text[i].isspace():
            i += 1
            continue
        page, i = decoder.raw_decode(text, i)
        items.extend(page if isinstance(page, list) else [page])
    return items


def first_line(body: str | None) -> str:
    return (body or "").split("\n", 1)[0].strip()


def find_by_author(id_line: str, author: str) -> None:
    for item in pages(sys.stdin.read()):
        login = (item.get("user") or {}).get("login")
        if first_line(item.get("body")) == id_line and login == author:
            found = {"id": item["id"], "number": item.get("number"), "body": item["body"]}
            print(json.dumps(found))
            return


def merged_pr(sha: str) -> None:
    for pr in pages(sys.stdin.read()):
        if pr.get("merge_commit_sha") == sha and pr.get("merged_at"):
            print(pr["number"], pr["head"]["sha"])
            return


def artifact(name: str) -> None:
    doc = json.loads(sys.stdin.read())
    for item in doc.get("artifacts", []):
        if item.get("name") == name and not item.get("expired"):
            print(item["id"])
            return


def plan_run(body: str) -> None:
    """The run id our plan script wrote on the comment's second line, or nothing."""
    lines = body.split("\n")[:3]
    found = [m.group(1) for m in (PLAN_RUN.fullmatch(line.strip()) for line in lines) if m]
    if len(found) == 1:
        print(found[0])


def trusted_run(run: dict[str, Any], path: str) -> int:
    """A run of the privileged workflow: defined by the default branch, never by a PR."""
    if run.get("event") == "workflow_run" and run.get("path") == path:
        return 0
    return fail(f"run {run.get('id')} is not a workflow_run of {path}: not trusted")


def extract(archive: str, name: str, out: str) -> int:
    with zipfile.ZipFile(archive) as zf:
        info = zf.getinfo(name)
        if info.is_dir() or info.file_size > 64 * MAX_CONFIG_BYTES:
            return fail(f"{name} in the artifact is not a regular file of bounded size")
        Path(out).write_bytes(zf.read(info))
    return 0


def unpack(archive: str, dest: str, paths: list[str]) -> int:
    root = Path(dest).resolve()
    with zipfile.ZipFile(archive) as outer:
        if outer.getinfo(TARBALL).file_size > 64 * MAX_CONFIG_BYTES:
            return fail(f"{TARBALL} in the artifact is too large")
        blob = outer.read(TARBALL)
    with tarfile.open(fileobj=io.BytesIO(blob), mode="r:") as tar:
        members = {m.name.removeprefix("./"): m for m in tar.getmembers()}
        for path in paths:
            pure = PurePosixPath(path)
            if pure.is_absolute() or ".." in pure.parts:
                return fail(f"{path}: a config path must be relative, inside the repository")
            member = members.get(str(pure))
            if member is None:
                return fail(f"{path}: not in the pull request's configs (deleted or renamed?)")
            if not member.isreg() or member.size > MAX_CONFIG_BYTES:
                return fail(f"{path}: not a regular file of at most {MAX_CONFIG_BYTES} bytes")
            target = (root / pure).resolve()
            if root not in target.parents:
                return fail(f"{path}: outside the checkout")
            data = tar.extractfile(member)
            assert data is not None
            if target.is_symlink():
                target.unlink()
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data.read())
    return 0


def fail(message: str) -> int:
    print(f"bcsync CI: {message}", file=sys.stderr)
    return 3


def pre(path: str) -> None:
    text = Path(path).read_text(encoding="utf-8", errors="replace")[:20000]
    print("<pre>" + html.escape(text.rstrip("\n")) + "</pre>")


def main(argv: list[str]) -> int:
    command, args = argv[0], argv[1:]
    if command in {"find-comment", "find-issue"}:
        find_by_author(args[0], args[1])
    elif command == "field":
        print(json.loads(sys.stdin.read())[args[0]])
    elif command == "head-sha":
        pull = json.loads(sys.stdin.read())
        merged = pull.get("merge_commit_sha") if pull.get("merged_at") else None
        print(pull["head"]["sha"], merged or "-")
    elif command == "merged-pr":
        merged_pr(args[0])
    elif command == "artifact":
        artifact(args[0])
    elif command == "plan-run":
        plan_run(sys.stdin.read())
    elif command == "trusted-run":
        return trusted_run(json.loads(sys.stdin.read()), args[0])
    elif command == "extract":
        return extract(args[0], args[1], args[2])
    elif command == "unpack":
        return unpack(args[0], args[1], args[2:])
    elif command == "pre":
        pre(args[0])
    else:
        return fail(f"unknown command {command}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
