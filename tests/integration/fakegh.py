"""A recording stand-in for `gh api`: the REST calls the CI scripts make, kept in a JSON file.

Run as `gh` (a shim on PATH) with FAKE_GH_STATE naming the state file. It knows pull requests,
issue and pull-request comments, issues, workflow runs and their artifacts (zip files on disk),
and the commit-to-pull-request lookup. Every call is recorded with the login it acted as.
`--paginate` answers two items a page, one JSON array per page, as gh prints them.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit


def parse(argv: list[str]) -> tuple[str, str, dict[str, str], bool]:
    assert argv[0] == "api", argv
    method, fields, paginate, rest = "GET", {}, False, []
    i = 1
    while i < len(argv):
        if argv[i] == "-X":
            method, i = argv[i + 1], i + 2
        elif argv[i] in {"-F", "-f"}:
            key, value = argv[i + 1].split("=", 1)
            if argv[i] == "-F" and value.startswith("@"):
                value = Path(value[1:]).read_text(encoding="utf-8")
            fields[key] = value
            i += 2
        elif argv[i] == "--paginate":
            paginate, i = True, i + 1
        else:
            rest.append(argv[i])
            i += 1
    (endpoint,) = rest
    return method, endpoint, fields, paginate


def answer(state: dict[str, Any], method: str, endpoint: str, fields: dict[str, str]) -> Any:
    url = urlsplit(endpoint)
    parts = url.path.strip("/").split("/")
    assert parts[:3] == ["repos", *state["repository"].split("/")], endpoint
    rest, login = parts[3:], state["login"]
    if rest[0] == "pulls" and method == "GET":
        return state["pulls"][rest[1]]
    if rest[0] == "commits" and rest[2] == "pulls":
        return [p for p in state["pulls"].values() if rest[1] in p["commits"]]
    if rest[:2] == ["issues", "comments"] and method == "PATCH":
        for comments in state["comments"].values():
            for comment in comments:
                if str(comment["id"]) == rest[2]:
                    comment["body"] = fields["body"]
                    comment["edits"] += 1
                    return comment
        raise SystemExit(f"gh: HTTP 404: no comment {rest[2]}")
    if rest[0] == "issues" and len(rest) == 3 and rest[2] == "comments":
        if method == "POST":
            return new_comment(state, rest[1], fields["body"], login)
        return state["comments"].get(rest[1], [])
    if rest == ["issues"] and method == "POST":
        state["next_id"] += 1
        number = str(state["next_id"])
        issue = {
            "number": int(number),
            "id": int(number),
            "title": fields["title"],
            "body": fields["body"],
            "state": "open",
            "user": {"login": login},
        }
        state["issues"][number] = issue
        return issue
    if rest == ["issues"]:
        wanted = parse_qs(url.query).get("state", ["open"])[0]
        return [i for i in state["issues"].values() if wanted in {"all", i["state"]}]
    if rest[0] == "issues" and len(rest) == 2 and method == "PATCH":
        issue = state["issues"][rest[1]]
        issue.update({k: v for k, v in fields.items() if k in {"body", "state", "title"}})
        return issue
    if rest[:2] == ["actions", "runs"] and len(rest) == 3:
        return state["runs"][rest[2]]
    if rest[:2] == ["actions", "runs"] and rest[3] == "artifacts":
        return {"artifacts": state["runs"][rest[2]]["artifacts"]}
    if rest[:2] == ["actions", "artifacts"] and rest[3] == "zip":
        for run in state["runs"].values():
            for artifact in run["artifacts"]:
                if str(artifact["id"]) == rest[2]:
                    return Path(artifact["file"]).read_bytes()
        raise SystemExit(f"gh: HTTP 404: no artifact {rest[2]}")
    raise SystemExit(f"fake gh: no such endpoint {method} {endpoint}")


def new_comment(state: dict[str, Any], number: str, body: str, login: str) -> dict[str, Any]:
    state["next_id"] += 1
    comment = {"id": state["next_id"], "body": body, "user": {"login": login}, "edits": 0}
    state["comments"].setdefault(number, []).append(comment)
    return comment


def main() -> None:
    path = Path(os.environ["FAKE_GH_STATE"])
    state = json.loads(path.read_text())
    method, endpoint, fields, paginate = parse(sys.argv[1:])
    state["calls"].append({"as": state["login"], "method": method, "endpoint": endpoint})
    out = answer(state, method, endpoint, fields)
    path.write_text(json.dumps(state))
    if isinstance(out, bytes):
        sys.stdout.buffer.write(out)
    elif paginate and isinstance(out, list):
        pages = [out[i : i + 2] for i in range(0, len(out), 2)] or [[]]
        sys.stdout.write("".join(json.dumps(p) for p in pages))
    else:
        sys.stdout.write(json.dumps(out))


if __name__ == "__main__":
    main()
