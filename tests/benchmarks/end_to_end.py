"""Benchmark whole commands at TikTok's limits (issue 13 section 4; not run by pytest).

    python tests/benchmarks/end_to_end.py [--keep DIR] [--validate-repeat 3] [--skip-per-call]

Generates one Business Center at the limits: the config of `validate_scale.config_text` (4,000
members, 2,000 assets of every type, ~100,000 grants some through groups, 200 partners with
5,000 shares), and a seed built from that config's desired state with 1,000 differences (300
grants missing, 300 with another role, 200 stray grants, 50 members not in config, 50 finance
roles missing, 50 shares missing and 50 with another role). The directory is a git repository
whose last commit touches 10 members and 1 partner. Then, each command in a fresh process (its
own peak RSS, start-up included), run by this script in `--child` mode so the provider's
`ReadResult.calls` can be counted:

- `bcsync validate DIR`, median of --validate-repeat runs;
- `bcsync plan DIR`, local provider: first on a fresh local BC (seeds its database), then again;
- `bcsync plan --changed --base HEAD~1 --out PR.json` in the repository, same local BC: the
  pull request's plan (10 members and 1 partner touched);
- `bcsync apply DIR --auto-approve` of the ~1,000 changes against `bcsync emulator serve` on
  127.0.0.1 with `--qps-limit 50` (config `qps: 50`), calls counted by the emulator's stats;
- `bcsync apply PR.json`, the merge job's apply of that reviewed scoped plan (after the served
  apply, which copies the local BC first): the scope it records is all it re-reads;
- the emulator's per-call cost at 1/4 and 1x size (`emulator_scale.py`, its last line).

The last line is one JSON object: validate_s, first_plan_s, plan_s, plan_calls, plan_changed_s,
plan_changed_calls, apply_s, apply_calls, pr_apply_read_calls, pr_apply_writes, call_ms_quarter,
call_ms_full, per_call_ratio, peak_mb (the largest peak RSS of one command), `targets` (each with
its figure, limit and whether it was met) and details. Bounded: every child has a time limit and
the served emulator runs under `timeout`, so it stops by itself. Targets (issue 13): validate_s
<= 1, plan_s <= 20, plan_changed_calls <= 250, per_call_ratio <= 1.3; (issue 16) the pull
request's plan and its apply read at most 250 calls each (plan_changed_calls, pr_apply_read_calls;
the apply's writes come on top). The script exits 1 when any target is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from random import Random
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

from validate_scale import GRANTS, NOW, WIRE, config_text, email  # noqa: E402

from bcsync.config import load  # noqa: E402
from bcsync.core.model import MULTI_ROLE_TYPES, PRESENCE_TYPES, ROLES, AssetType, State  # noqa: E402

TOKEN = "bench-e2e-admin-token"
QPS = 50
LIMIT_S = 15 * 60
CHANGED_MEMBERS = [email(i) for i in range(201, 3900, 333) if i % 7][:10]
CHANGED_PARTNER = "partner-5"
# Members the generated config declares and this one drops (a BC holds at most 4,000).
REMOVED = range(3950, 4000)
# Kept out of the differences: admins (required and protected ones among them), partner-0.
STEADY = 10


# -- the world ---------------------------------------------------------------------------------


def wire_role(asset_type: AssetType, role: str) -> Any:
    if asset_type in MULTI_ROLE_TYPES:
        return [p.upper() for p in role.split(",")]
    return None if asset_type is AssetType.PIXEL else role.upper()


def seed_of(desired: State, rng: Random) -> tuple[dict[str, Any], dict[str, int]]:
    """The emulator seed: the desired state as the BC holds it, with 1,000 differences."""
    emails = sorted(desired.members)
    users = [
        {"user_id": f"68{i:017d}", "email": e, "name": f"Member {i}"} for i, e in enumerate(emails)
    ]
    users[emails.index(email(0))]["token"] = TOKEN
    members = [
        {"email": m.email, "role": m.role.value.upper()}
        | ({"finance_role": m.finance_role.value.upper()} if m.finance_role else {})
        for m in desired.members.values()
    ]
    grants = dict(desired.grants)
    movable = [g for g in grants.values() if g.member not in {email(i) for i in range(STEADY)}]
    rng.shuffle(movable)
    ranked = [
        g
        for g in movable[300:]
        if g.asset.type not in MULTI_ROLE_TYPES | PRESENCE_TYPES and len(ROLES[g.asset.type]) > 1
    ]
    roles: dict[Any, str] = {g.key: g.role for g in grants.values()}
    for g in movable[:300]:
        del roles[g.key]  # missing: a create
    for g in ranked[:300]:
        roles[g.key] = next(r for r in ROLES[g.asset.type] if r != g.role)  # an update
    ads = [k for k in desired.assets if k.type is AssetType.AD_ACCOUNT]
    strays = 0
    while strays < 200:  # a grant the config does not declare: a revocation
        key = (rng.choice(ads), rng.choice(emails[STEADY:]))
        if key not in roles:
            roles[key], strays = "analyst", strays + 1
    finance = [m for m in members if m.get("finance_role") and m["role"] == "STANDARD"][:50]
    for m in finance:
        del m["finance_role"]  # set by the plan: an update
    extra = [email(i) for i in REMOVED]  # in the BC, no longer in config: a removal
    users += [
        {"user_id": f"67{i:017d}", "email": e, "name": f"Extra {i}"} for i, e in enumerate(extra)
    ]
    members += [{"email": e, "role": "STANDARD"} for e in extra]
    shares = {k: s.role for k, s in desired.shares.items()}
    movable_shares = sorted(k for k in shares if k[0] != min(desired.partners))
    rng.shuffle(movable_shares)
    for share in movable_shares[:50]:
        del shares[share]
    for share in movable_shares[50:100]:
        shares[share] = next(r for r in ROLES[AssetType.AD_ACCOUNT] if r != shares[share])
    center = {
        "bc_id": desired.bc_id,
        "name": "Benchmark Retail",
        "members": members,
        "assets": {
            WIRE[t]: [
                {"id": k.id, "name": f"{t.value} {k.id}"}
                for k in sorted(desired.assets)
                if k.type is t
            ]
            for t in AssetType
        },
        "grants": [
            {"email": e, "asset_type": WIRE[a.type], "asset_id": a.id}
            | ({"role": w} if (w := wire_role(a.type, role)) else {})
            for (a, e), role in sorted(roles.items())
        ],
        "partners": [
            {
                "bc_id": p,
                "shares": [
                    {"asset_type": "ADVERTISER", "asset_id": a.id, "role": r.upper()}
                    for (q, a), r in sorted(shares.items())
                    if q == p
                ],
            }
            for p in sorted(desired.partners)
        ],
    }
    seed = {
        "version": 1,
        "users": users,
        "business_centers": [center],
        "external_business_centers": [
            {"bc_id": p, "name": f"Partner {p}"} for p in sorted(desired.partners)
        ],
    }
    sizes = {
        "members": len(members),
        "assets": len(desired.assets),
        "grants": len(roles),
        "shares": len(shares),
        "differences": 300 + 300 + 200 + 50 + len(finance) + 100,
    }
    return seed, sizes


def drop_members(config: str) -> str:
    """The config without the REMOVED members' blocks."""
    for i in REMOVED:
        block = re.search(rf"^  {re.escape(email(i))}:\n(?:    .*\n)*", config, re.MULTILINE)
        assert block is not None, email(i)
        config = config[: block.start()] + config[block.end() :]
    return config


def touch_ten_and_one(config: str) -> str:
    """The head commit: 10 members gain a finance role, one partner loses one share."""
    for member in CHANGED_MEMBERS:
        head = f"  {member}:\n    role: standard\n"
        assert head in config, member
        config = config.replace(head, head + "    finance_role: manager\n", 1)
    block = re.search(
        rf"  {CHANGED_PARTNER}:\n(    .*\n)+?      ad_accounts:\n(        .*\n)", config
    )
    assert block is not None
    return config[: block.start(2)] + config[block.end(2) :]


def git(root: Path, *args: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env |= {"GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    who = ["-c", "user.name=Bench", "-c", "user.email=bench@example.org"]
    subprocess.run(["git", *who, *args], cwd=root, env=env, check=True, capture_output=True)


def write_world(repo: Path) -> dict[str, Any]:
    """The repository: base commit (config, seed), head commit (10 members, 1 partner)."""
    repo.mkdir(parents=True, exist_ok=True)
    config = drop_members(config_text(GRANTS, Random(7))[0])
    (repo / "bcsync.yaml").write_text(config)
    result = load([str(repo / "bcsync.yaml")], now=NOW)
    if result.errors:
        raise SystemExit(f"the generated config is invalid: {result.errors[:3]}")
    seed, sizes = seed_of(result.configs[0].desired, Random(11))
    (repo / "seed.yaml").write_text(json.dumps(seed))  # JSON is YAML, and quick to write
    (repo / ".gitignore").write_text(".bcsync/\n")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "base")
    (repo / "bcsync.yaml").write_text(touch_ten_and_one(config))
    git(repo, "commit", "-q", "-am", "head: 10 members, 1 partner")
    return sizes


# -- one command in a child process ------------------------------------------------------------


def child(report: Path, args: list[str]) -> int:
    """`--child`: run one bcsync command here, recording each plan's read calls and scope."""
    from bcsync.cli import cli
    from bcsync.loop import reconcile

    reads: list[dict[str, Any]] = []
    plan_one = reconcile.plan_one

    async def counted(*a: Any, **k: Any) -> Any:
        planned = await plan_one(*a, **k)
        scope = planned.plan.scope
        reads.append(
            {
                "calls": planned.read.calls,
                "changes": sum(1 for c in planned.plan.changes if c.is_change),
                "steps": len(planned.plan.steps),
                "scope": scope.key() if scope else None,
            }
        )
        return planned

    reconcile.plan_one = counted
    code = 0
    try:
        cli.main(args, standalone_mode=False)
    except SystemExit as exc:
        code = int(exc.code or 0)
    report.write_text(json.dumps({"reads": reads, "code": code}))
    return code


def run(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> dict[str, Any]:
    """One command in a fresh process: seconds, peak RSS, exit code, output, reads."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
        report = Path(f.name)
    command = [sys.executable, str(Path(__file__).resolve()), "--child", str(report), "--", *args]
    started = time.perf_counter()
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen(
            command,
            cwd=cwd,
            env={**os.environ, "NO_COLOR": "1", "CI": "1", **(env or {})},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        timer = threading.Timer(LIMIT_S, proc.kill)  # bounded: a stuck command is killed
        timer.start()
        _, status, usage = os.wait4(proc.pid, 0)  # this child's own peak RSS
        timer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.perf_counter() - started
        out.seek(0)
        text = out.read().decode(errors="replace")
    done = json.loads(report.read_text()) if report.stat().st_size else {"reads": [], "code": -1}
    report.unlink()
    return {
        "s": seconds,
        "peak_mb": usage.ru_maxrss / 1024,
        "code": done["code"] if proc.returncode == done["code"] else proc.returncode,
        "reads": done["reads"],
        "out": text,
    }


def calls_of(result: dict[str, Any]) -> int:
    return sum(r["calls"] for r in result["reads"])


# -- the served emulator -----------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# The served emulator's control token: its own, chosen per run, never a TikTok token.
CONTROL_TOKEN = secrets.token_urlsafe(24)
CONTROL_HEADERS = {"Emulator-Control-Token": CONTROL_TOKEN}


def stats(url: str) -> dict[str, Any]:
    import httpx

    return dict(httpx.get(f"{url}/_emulator/stats", headers=CONTROL_HEADERS, timeout=5).json())


def serve(db: Path, port: int) -> subprocess.Popen[bytes]:
    """`bcsync emulator serve` on 127.0.0.1 at 50 QPS, under `timeout`: it stops by itself."""
    import httpx

    command = ["timeout", str(LIMIT_S), sys.executable, "-m", "bcsync", "emulator", "serve"]
    command += ["--db", str(db), "--port", str(port), "--control", "--qps-limit", str(QPS)]
    env = {**os.environ, "BCSYNC_EMULATOR_CONTROL_TOKEN": CONTROL_TOKEN}
    server = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env
    )
    deadline = time.monotonic() + 120
    while True:
        try:
            httpx.get(
                f"http://127.0.0.1:{port}/_emulator/stats", headers=CONTROL_HEADERS, timeout=1
            )
            return server
        except httpx.TransportError:
            if time.monotonic() > deadline or server.poll() is not None:
                server.kill()
                raise SystemExit("the served emulator did not start") from None
            time.sleep(0.3)


def apply_served(repo: Path, work: Path) -> dict[str, Any]:
    """Apply the head config's ~1,000 changes to a served copy of the seeded local BC."""
    served = work / "served"
    served.mkdir()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    config = (repo / "bcsync.yaml").read_text()
    local = "provider: { type: local, seed: seed.yaml }"
    assert local in config
    provider = f'provider: {{ type: emulator, url: "{url}", qps: {QPS} }}'
    (served / "bcsync.yaml").write_text(config.replace(local, provider))
    # The local BC's database is the seed, loaded: serving a copy skips loading it again.
    shutil.copy(repo / ".bcsync" / "local" / "seed.yaml.db", work / "served.db")
    server = serve(work / "served.db", port)
    try:
        before = stats(url)["total"]
        result = run(
            ["apply", str(served), "--auto-approve", "--now", NOW.isoformat()],
            cwd=work,
            env={"BCSYNC_EMULATOR_TOKEN": TOKEN},
        )
        result["emulator_calls"] = stats(url)["total"] - before
    finally:
        server.terminate()
        server.wait(timeout=30)
    return result


# -- main --------------------------------------------------------------------------------------


def per_call(skip: bool) -> dict[str, float | None]:
    """The emulator's per-call cost at 1/4 and 1x: emulator_scale.py's own last line."""
    names = ("call_ms_quarter", "call_ms_full", "per_call_ratio")
    if skip:
        return dict.fromkeys(names)
    command = [sys.executable, str(HERE / "emulator_scale.py"), "--repeat", "3", "--loads", "1"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=LIMIT_S, check=False)
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        raise SystemExit(f"emulator_scale.py failed: {done.stderr.strip()[-500:]}")
    figures = json.loads(lines[-1])
    print(f"emulator per call: {lines[-1]}", flush=True)
    return {name: figures[name] for name in names}


def check(result: dict[str, Any], what: str, codes: tuple[int, ...] = (0,)) -> None:
    if result["code"] not in codes:
        tail = "\n".join(result["out"].splitlines()[-15:])
        raise SystemExit(f"{what} exited {result['code']}:\n{tail}")


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--keep", type=Path, help="work here and keep the files")
    parser.add_argument("--validate-repeat", type=int, default=3)
    parser.add_argument("--skip-per-call", action="store_true", help="skip emulator_scale.py")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="bcsync-e2e-"))
    repo = work / "repo"
    now = ["--now", NOW.isoformat()]
    started = time.perf_counter()
    try:
        sizes = write_world(repo)
        print(f"world: {sizes} in {time.perf_counter() - started:.1f} s", flush=True)
        validates = [
            run(["validate", str(repo), *now], cwd=work) for _ in range(args.validate_repeat)
        ]
        for v in validates:
            check(v, "validate")
        validate_s = statistics.median(v["s"] for v in validates)
        print(f"validate: median {validate_s:.2f} s", flush=True)
        first = run(["plan", str(repo), *now], cwd=work)
        check(first, "first plan")
        print(f"first plan (seeds the local BC): {first['s']:.1f} s", flush=True)
        full = run(["plan", str(repo), *now], cwd=work)
        check(full, "plan")
        print(f"plan: {full['s']:.1f} s, {calls_of(full)} calls, {full['reads']}", flush=True)
        pr_plan = work / "pr.json"
        changed = run(["plan", "--changed", "--base", "HEAD~1", "--out", str(pr_plan), *now], repo)
        check(changed, "plan --changed")
        print(f"plan --changed: {changed['s']:.2f} s, {changed['reads']}", flush=True)
        applied = apply_served(repo, work)
        check(applied, "apply")
        summary = [line for line in applied["out"].splitlines() if "succeeded" in line]
        print(
            f"apply: {applied['s']:.1f} s, {applied['emulator_calls']} calls; {summary}", flush=True
        )
        pr_apply = run(["apply", str(pr_plan), *now], cwd=repo)
        check(pr_apply, "apply of the pull request's plan")
        print(f"apply PR.json: {pr_apply['s']:.2f} s, {pr_apply['reads']}", flush=True)
        figures = per_call(args.skip_per_call)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    runs = [*validates, first, full, changed, applied, pr_apply]
    result = {
        "validate_s": round(validate_s, 3),
        "first_plan_s": round(first["s"], 2),
        "plan_s": round(full["s"], 2),
        "plan_calls": calls_of(full),
        "plan_changes": sum(r["changes"] for r in full["reads"]),
        "plan_changed_s": round(changed["s"], 2),
        "plan_changed_calls": calls_of(changed),
        "plan_changed_scope": [
            {k: len(v) for k, v in (r["scope"] or {}).items()} for r in changed["reads"]
        ],
        "apply_s": round(applied["s"], 2),
        "apply_calls": applied["emulator_calls"],
        "apply_read_calls": calls_of(applied),
        "apply_summary": summary[-1] if summary else None,
        "pr_apply_s": round(pr_apply["s"], 2),
        "pr_apply_read_calls": calls_of(pr_apply),
        "pr_apply_writes": sum(r["steps"] for r in pr_apply["reads"]),
        **figures,
        "peak_mb": round(max(r["peak_mb"] for r in runs), 1),
        "sizes": sizes,
        "qps": QPS,
        "total_s": round(time.perf_counter() - started, 1),
    }
    result["targets"] = targets_of(result)
    print(json.dumps(result))
    missed = [name for name, t in result["targets"].items() if t["met"] is False]
    if missed:
        print(f"missed: {', '.join(missed)}", file=sys.stderr)
        return 1
    return 0


TARGETS = {
    "validate_s": 1.0,
    "plan_s": 20.0,
    "plan_changed_calls": 250,  # the pull request's plan (issue 13, issue 16 item 4)
    "pr_apply_read_calls": 250,  # the merge job's apply of it, reads only (issue 16 item 4)
    "per_call_ratio": 1.3,
}


def targets_of(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each target with its figure, its limit and whether it was met (None: not measured)."""
    return {
        name: {
            "value": result[name],
            "limit": limit,
            "met": None if result[name] is None else result[name] <= limit,
        }
        for name, limit in TARGETS.items()
    }


if __name__ == "__main__":
    if len(sys.argv) > 3 and sys.argv[1] == "--child" and sys.argv[3] == "--":
        sys.exit(child(Path(sys.argv[2]), sys.argv[4:]))
    sys.exit(main())
