"""Direct grants against one asset group: the same access, the calls and time of each (issue 21).

Used by many_bcs.py (its last JSON line carries the figures); runnable alone:

    python tests/benchmarks/group_writes.py [--members 50] [--accounts 200]

One served `bcsync emulator serve` (real HTTP on 127.0.0.1, no server-side rate limit, so the
run measures calls rather than waiting on the limit) holds two identical Business Centers: 2
admins, `members` joined members and `accounts` ad accounts, no grants. `bcsync apply` runs once
per BC, in its own process, with `provider.qps` set high:
- direct: the config gives every member every ad account as analyst (members x accounts
  `bc/asset/assign` calls);
- group: the config declares one asset group holding every ad account and every member as
  analyst (one `bc/asset_group/create` call).
Calls are the emulator's own count per endpoint (its /_emulator/stats) before and after each
apply: the write calls, and every call (the plan's reads, the writes, the read-back). Time is
the apply command's wall time here, and what the write calls take at the app's 10 QPS (calls /
10, the Basic tier's pace). Afterwards `bcsync plan` on each config must say "No changes", and
`bcsync report` must show the same (member, ad account, role) access for both BCs.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

QPS = 10
LIMIT_S = 20 * 60
NOW = "2026-11-25"
DIRECT, GROUP = "7300000000000000001", "7300000000000000002"
TOKENS = {DIRECT: "tok-direct-admin", GROUP: "tok-group-admin"}
CONTROL_TOKEN = "many-bcs-benchmark-control"
CONTROL = {"Emulator-Control-Token": CONTROL_TOKEN}


def seed(members: int, accounts: int) -> dict[str, Any]:
    users: list[dict[str, Any]] = []
    centers = []
    for bc in (DIRECT, GROUP):
        emails = [f"admin@{bc}.example", f"ops@{bc}.example"]
        emails += [f"m{j}@{bc}.example" for j in range(members)]
        for n, email in enumerate(emails):
            user = {"user_id": f"68{bc[-1]}{len(users):016d}", "email": email, "name": email}
            if n == 0:
                user["token"] = TOKENS[bc]
            users.append(user)
        centers.append(
            {
                "bc_id": bc,
                "name": f"BC {bc}",
                "members": [
                    {"email": e, "role": "ADMIN" if j < 2 else "STANDARD", "status": "BOUND"}
                    for j, e in enumerate(emails)
                ],
                "assets": {
                    "ADVERTISER": [
                        {"id": f"72{bc[-1]}{i:016d}", "name": f"Ads {i}"} for i in range(accounts)
                    ]
                },
            }
        )
    return {"version": 1, "users": users, "business_centers": centers}


def config(bc: str, url: str, members: int, accounts: int, *, group: bool) -> str:
    ids = [f"72{bc[-1]}{i:016d}" for i in range(accounts)]
    people = [f"m{j}@{bc}.example" for j in range(members)]
    lines = [
        "version: 1",
        f'business_center: {{ id: "{bc}", name: BC {bc} }}',
        f'provider: {{ type: emulator, url: "{url}", qps: 100000 }}',
        "policy: { min_admins: 2 }",
        "assets:",
        "  ad_accounts:",
        *(f'    ads-{i}: "{a}"' for i, a in enumerate(ids)),
    ]
    if group:
        lines += [
            "asset_groups:",
            "  everyone:",
            f"    ad_accounts: [{', '.join(f'ads-{i}' for i in range(accounts))}]",
            "    members:",
            *(f"      {p}: analyst" for p in people),
        ]
    lines += ["members:", f"  admin@{bc}.example: {{ role: admin }}"]
    lines += [f"  ops@{bc}.example: {{ role: admin }}"]
    for p in people:
        lines.append(f"  {p}:")
        lines.append("    role: standard")
        if not group:
            lines.append("    access:")
            lines.append("      ad_accounts:")
            lines += [f"        ads-{i}: analyst" for i in range(accounts)]
    return "\n".join(lines) + "\n"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(seed_file: Path, db: Path) -> tuple[subprocess.Popen[bytes], str]:
    import httpx

    port = free_port()
    command = ["timeout", str(LIMIT_S), sys.executable, "-m", "bcsync", "emulator", "serve"]
    command += ["--seed", str(seed_file), "--db", str(db), "--port", str(port), "--control"]
    env = {**os.environ, "BCSYNC_EMULATOR_CONTROL_TOKEN": CONTROL_TOKEN}
    server = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            httpx.get(f"{url}/_emulator/stats", headers=CONTROL, timeout=1)
            return server, url
        except httpx.TransportError:
            if time.monotonic() > deadline or server.poll() is not None:
                server.kill()
                raise SystemExit("the served emulator did not start") from None
            time.sleep(0.3)


def counts(url: str) -> dict[str, int]:
    import httpx

    stats = httpx.get(f"{url}/_emulator/stats", headers=CONTROL, timeout=30).json()
    return {k.removeprefix("/open_api/v1.3/"): int(v) for k, v in stats["by_endpoint"].items()}


def bcsync(args: list[str], bc: str, cwd: Path) -> tuple[int, str, float]:
    env = {**os.environ, "NO_COLOR": "1", "CI": "1", "BCSYNC_EMULATOR_TOKEN": TOKENS[bc]}
    env["BCSYNC_LOCK_DIR"] = str(cwd / "locks")
    started = time.perf_counter()
    done = subprocess.run(
        ["timeout", str(LIMIT_S), sys.executable, "-m", "bcsync", *args, "--now", NOW],
        cwd=cwd, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    return done.returncode, done.stdout + done.stderr, time.perf_counter() - started


def access(report_csv: str) -> set[tuple[str, str, str]]:
    """(member without its BC's domain, ad account alias, role) of every member's access."""
    lines = [line for line in report_csv.splitlines() if not line.startswith("#")]
    rows = csv.reader(io.StringIO("\n".join(lines)))
    at = {name: n for n, name in enumerate(next(rows))}
    found = set()
    for row in rows:
        # An admin reaches every asset through the admin role: not a grant, not compared.
        if row[at["Asset type"]] == "ad account" and row[at["Status"]] != "admin role":
            who = row[at["Who"]].split("@")[0]
            found.add((who, row[at["Asset"]].split(" ")[0], row[at["Role (BC)"]]))
    return found


def measure(work: Path, members: int = 50, accounts: int = 200) -> dict[str, Any]:
    """Apply the same access as direct grants and as one asset group; the figures of each."""
    work.mkdir(parents=True, exist_ok=True)
    (work / "seed.json").write_text(json.dumps(seed(members, accounts)))
    server, url = serve(work / "seed.json", work / "emulator.db")
    figures: dict[str, Any] = {"group_members": members, "group_accounts": accounts}
    failed: list[str] = []
    seen: dict[str, set[tuple[str, str, str]]] = {}
    try:
        for name, bc, group, write in (
            ("direct_grant", DIRECT, False, "bc/asset/assign/"),
            ("asset_group", GROUP, True, "bc/asset_group/create/"),
        ):
            here = work / name
            here.mkdir(exist_ok=True)
            (here / "bcsync.yaml").write_text(config(bc, url, members, accounts, group=group))
            before = counts(url)
            code, out, seconds = bcsync(["apply", ".", "--auto-approve"], bc, here)
            after = counts(url)
            if code != 0:
                failed.append(f"{name} apply exited {code}: {out[-400:]}")
            writes = after.get(write, 0) - before.get(write, 0)
            figures[f"{name}_calls"] = writes
            figures[f"{name}_all_calls"] = sum(after.values()) - sum(before.values())
            figures[f"{name}_s"] = round(seconds, 2)
            figures[f"{name}_s_at_{QPS}_qps"] = round(writes / QPS, 1)
            code, out, _ = bcsync(["plan", ".", "--detailed-exitcode"], bc, here)
            if code != 0:
                failed.append(f"{name}: a plan after apply exited {code}: {out[-400:]}")
            code, out, _ = bcsync(["report", ".", "--format", "csv"], bc, here)
            seen[name] = access(out)
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
    expected = members * accounts
    if len(seen.get("direct_grant", ())) != expected:
        failed.append(f"direct grants: {len(seen.get('direct_grant', ()))} != {expected} reached")
    if seen.get("direct_grant") != seen.get("asset_group"):
        failed.append("the asset group does not give the same access as the direct grants")
    figures["group_failures"] = failed
    return figures


def missed(figures: dict[str, Any]) -> list[str]:
    """The targets: one call for the group, one per (member, ad account) direct, same access."""
    out = list(figures["group_failures"])
    if figures.get("asset_group_calls") != 1:
        out.append(f"asset group: {figures.get('asset_group_calls')} create calls, not 1")
    expected = figures["group_members"] * figures["group_accounts"]
    if figures.get("direct_grant_calls") != expected:
        out.append(f"direct grants: {figures.get('direct_grant_calls')} calls, not {expected}")
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--members", type=int, default=50)
    parser.add_argument("--accounts", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bcsync-groups-") as work:
        figures = measure(Path(work), args.members, args.accounts)
    figures["missed"] = missed(figures)
    print(json.dumps(figures))
    return 1 if figures["missed"] else 0


if __name__ == "__main__":
    sys.exit(main())
