"""Benchmark: many Business Centers on one TikTok app (issue 21; not run by pytest).

    python tests/benchmarks/many_bcs.py [--ns 1,4,8] [--writes 40] [--skip-100] [--keep DIR]

One `bcsync emulator serve` on 127.0.0.1 enforces the app's limit (10 QPS / 600 QPM, TikTok's
Basic tier, counted per app) and counts throttled answers; a private `redis-server` (Debian's,
on a Unix socket in the work directory) holds the shared limit. Every BC's admin token belongs
to one developer app per scenario, so scenarios never share a budget.

1. Shared limit under load. For N = 1, 4, 8: N bcsync processes at once, each running
   `apply --auto-approve` on its own BC (--writes grants to assign, read before and after),
   first each pacing itself (no Redis), then with `$BCSYNC_RATE_LIMIT_URL`. Each process runs
   this script in `--child` mode and notes when every request left and how it was answered.
   - throttled: answers 40100 the emulator gave (its stats, before and after);
   - aggregate ratio: admitted calls per second, first request to last, over the app's QPS;
   - fairness: in the window where all N processes were calling, the fewest calls one process
     made over the most (1.0 = equal turns).
2. A hundred BCs in one run: `plan` then `apply` over one directory of 100 configs of mixed sizes
   (2 to 16 members, 1 to 12 ad accounts; the agency's admin is no member of one of them, to
   show one failure does not stop the others), with the shared limit on. Read calls against
   the fewest a correct read needs (`min_read_calls`, per BC, with the client's page sizes),
   the admitted rate over the app's QPS, and each command's peak RSS.

The last line is one JSON object: throttled_without_shared, throttled_with_shared,
aggregate_ratio_with_shared, aggregate_ratio_without_shared, fairness (maps from N),
bcs_100_calls, bcs_100_min_calls, bcs_100_rate_ratio, bcs_100_peak_mb, bcs_100_apply_s,
bcs_100_failed, direct_grant_calls and asset_group_calls (null: asset groups as code are not
built yet), details. Targets (issue 21): zero throttled answers and an aggregate ratio of at
least 0.9 with the shared limit for every N, fairness at least 0.8 (ours), plan's read calls at
the minimum, 100-BC rate ratio at least 0.9. A missed target exits 1. Bounded: every child and
the servers run under time limits and stop by themselves.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
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

QPS, QPM = 10, 600
LIMIT_S = 10 * 60
NOW = "2026-11-25"
BROKEN_BC = 37  # in the 100-BC run: the agency's admin is not a member of this one
HUNDRED_TOKEN = "tok-agency-admin"


# -- the world ---------------------------------------------------------------------------------


def bc_id(scenario: int, k: int) -> str:
    return f"71{scenario:03d}{k:03d}{0:011d}"


class World:
    """The seed of every BC, and each BC's config, token and app."""

    def __init__(self) -> None:
        self.users: list[dict[str, Any]] = []
        self.centers: list[dict[str, Any]] = []
        self.tokens: dict[str, str] = {}

    def user(self, email: str, **extra: str) -> dict[str, Any]:
        user = {"user_id": f"68{len(self.users):017d}", "email": email, "name": email} | extra
        self.users.append(user)
        return user

    def add_bc(
        self,
        bc: str,
        members: int,
        ads: int,
        writes: int,
        *,
        held: int = 0,
        app: str = "",
        admin: str = "",
    ) -> str:
        """A BC whose config grants `writes` ad-account roles the seed lacks (and `held` it has).

        Its first admin is `admin` (a user made elsewhere), or a new user with its own token in
        `app`. Returns the config's text.
        """
        if not admin:
            admin = f"admin@{bc}.example"
            self.tokens[bc] = f"tok-{bc}"
            self.user(admin, token=self.tokens[bc], app_id=app)
        emails = [admin, f"ops@{bc}.example"] + [f"m{j}@{bc}.example" for j in range(members)]
        for email in emails[1:]:
            self.user(email)
        ad_ids = [f"72{bc[2:8]}{i:011d}" for i in range(ads)]
        pairs = [(e, a) for e in emails[2:] for a in ad_ids][: writes + held]
        roles = {p: ("operator", "analyst")[n % 2] for n, p in enumerate(pairs)}
        seeded = {p: r for n, (p, r) in enumerate(roles.items()) if n >= writes}
        self.centers.append(
            {
                "bc_id": bc,
                "name": f"BC {bc}",
                "members": [
                    {"email": e, "role": "ADMIN" if j < 2 else "STANDARD", "status": "BOUND"}
                    for j, e in enumerate(emails)
                ],
                "assets": {"ADVERTISER": [{"id": a, "name": f"Ads {a}"} for a in ad_ids]},
                "grants": [
                    {"email": e, "asset_type": "ADVERTISER", "asset_id": a, "role": r.upper()}
                    for (e, a), r in seeded.items()
                ],
            }
        )
        return config_text(bc, emails, ad_ids, roles)

    def seed(self) -> dict[str, Any]:
        return {
            "version": 1,
            "settings": {"invite_accept_after_seconds": 0},
            "users": self.users,
            "business_centers": self.centers,
        }


def config_text(bc: str, emails: list[str], ad_ids: list[str], roles: dict) -> str:
    lines = [
        "version: 1",
        f'business_center: {{ id: "{bc}", name: BC {bc} }}',
        "provider: { type: emulator, url: URL }",
        "assets:",
        "  ad_accounts:",
        *(f'    ads-{a[-4:]}: "{a}"' for a in ad_ids),
        "members:",
    ]
    for j, email in enumerate(emails):
        mine = {a: r for (e, a), r in roles.items() if e == email}
        lines.append(f"  {email}:")
        lines.append(f"    role: {'admin' if j < 2 else 'standard'}")
        if mine:
            lines.append("    access:")
            lines.append("      ad_accounts:")
            lines += [f"        ads-{a[-4:]}: {r}" for a, r in sorted(mine.items())]
    return "\n".join(lines) + "\n"


# -- a bcsync command in a child process -------------------------------------------------------


def child(report: Path, args: list[str]) -> int:
    """`--child`: run one bcsync command here, noting each request's start and answer."""
    from bcsync.cli import cli
    from bcsync.loop import reconcile
    from bcsync.providers.tiktok import client

    sends: list[tuple[float, str]] = []
    reads: list[dict[str, Any]] = []
    send = client.TikTokClient._send

    async def noted(self: Any, *a: Any, **k: Any) -> Any:
        started = time.time()
        try:
            answer = await send(self, *a, **k)
        except client._Failed as failure:
            sends.append((started, failure.kind.value))
            raise
        sends.append((started, "ok"))
        return answer

    plan_one = reconcile.plan_one

    async def counted(*a: Any, **k: Any) -> Any:
        planned = await plan_one(*a, **k)
        reads.append({"bc_id": planned.plan.bc_id, "calls": planned.read.calls})
        return planned

    client.TikTokClient._send = noted  # type: ignore[method-assign]
    reconcile.plan_one = counted
    code = 0
    try:
        cli.main(args, standalone_mode=False)
    except SystemExit as exc:
        code = int(exc.code or 0)
    except Exception as exc:  # the CLI maps errors; anything else is this script's business
        print(f"child failed: {exc!r}", file=sys.stderr)
        code = 70
    report.write_text(json.dumps({"sends": sends, "reads": reads, "code": code}))
    return code


def start(args: list[str], cwd: Path, env: dict[str, str], report: Path) -> subprocess.Popen:
    command = [sys.executable, str(Path(__file__).resolve()), "--child", str(report), "--", *args]
    out = (report.with_suffix(".out")).open("wb")
    return subprocess.Popen(
        command,
        cwd=cwd,
        env={**os.environ, "NO_COLOR": "1", "CI": "1", **env},
        stdout=out,
        stderr=subprocess.STDOUT,
    )


def finish(proc: subprocess.Popen, report: Path) -> dict[str, Any]:
    """Wait (bounded) for a child; its report with peak RSS and the tail of its output."""
    timer = threading.Timer(LIMIT_S, proc.kill)
    timer.daemon = True  # an interrupted benchmark must not wait for it
    timer.start()
    _, status, usage = os.wait4(proc.pid, 0)
    timer.cancel()
    proc.returncode = os.waitstatus_to_exitcode(status)
    done = json.loads(report.read_text()) if report.exists() and report.stat().st_size else {}
    done.setdefault("sends", [])
    done.setdefault("reads", [])
    done["code"] = done.get("code", proc.returncode)
    done["peak_mb"] = usage.ru_maxrss / 1024
    done["out"] = report.with_suffix(".out").read_text(errors="replace")
    return done


# -- servers -----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve_emulator(seed: Path, db: Path) -> tuple[subprocess.Popen, str]:
    import httpx

    port = free_port()
    command = ["timeout", str(LIMIT_S * 4), sys.executable, "-m", "bcsync", "emulator", "serve"]
    command += ["--seed", str(seed), "--db", str(db), "--port", str(port), "--control"]
    command += ["--qps-limit", str(QPS), "--qpm-limit", str(QPM)]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            httpx.get(f"{url}/_emulator/stats", timeout=1)
            return server, url
        except httpx.TransportError:
            if time.monotonic() > deadline or server.poll() is not None:
                server.kill()
                raise SystemExit("the served emulator did not start") from None
            time.sleep(0.3)


def serve_redis(work: Path) -> tuple[subprocess.Popen, str]:
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("redis-server is not installed (Debian: apt-get install redis-server)")
    sock = work / "redis.sock"
    command = ["timeout", str(LIMIT_S * 4), binary, "--port", "0", "--unixsocket", str(sock)]
    command += ["--save", "", "--appendonly", "no"]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while not sock.exists():
        if time.monotonic() > deadline or server.poll() is not None:
            server.kill()
            raise SystemExit("redis-server did not start")
        time.sleep(0.1)
    return server, f"unix://{sock}"


def throttled(url: str) -> int:
    import httpx

    return int(httpx.get(f"{url}/_emulator/stats", timeout=10).json()["throttled"])


def stop(server: subprocess.Popen) -> None:
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()


# -- figures -----------------------------------------------------------------------------------


def admitted(sends: list[list[Any]]) -> list[float]:
    """Start times of the requests the server did not throttle."""
    return sorted(t for t, outcome in sends if outcome != "throttled")


def rate_ratio(stamps: list[float]) -> float:
    """Admitted calls a second, first request to last, over the app's QPS."""
    if len(stamps) < 2:
        return 0.0
    return (len(stamps) - 1) / (stamps[-1] - stamps[0]) / QPS


def fairness(per_process: list[list[float]]) -> float:
    """In the window where every process was calling: fewest calls of one over the most."""
    if len(per_process) < 2:
        return 1.0
    low = max(s[0] for s in per_process)
    high = min(s[-1] for s in per_process)
    counts = [sum(1 for t in s if low <= t <= high) for s in per_process]
    return min(counts) / max(counts) if max(counts) else 0.0


def scenario(
    work: Path, name: str, dirs: list[Path], tokens: list[str], env: dict[str, str], url: str
) -> dict[str, Any]:
    """N processes at once, each applying its own BC; figures of the run."""
    before = throttled(url)
    started = time.perf_counter()
    procs = []
    for i, (d, token) in enumerate(zip(dirs, tokens, strict=True)):
        report = work / f"{name}-{i}.json"
        args = ["apply", str(d), "--auto-approve", "--now", NOW]
        procs.append((start(args, work, {"BCSYNC_EMULATOR_TOKEN": token, **env}, report), report))
    results = [finish(p, r) for p, r in procs]
    wall = time.perf_counter() - started
    stamps = [admitted(r["sends"]) for r in results]
    every = sorted(t for s in stamps for t in s)
    figures = {
        "throttled": throttled(url) - before,
        "ratio": round(rate_ratio(every), 3),
        "fairness": round(fairness([s for s in stamps if s]), 3),
        "calls": len(every),
        "wall_s": round(wall, 1),
        "codes": [r["code"] for r in results],
    }
    failed = [r for r in results if r["code"] != 0]
    if failed:
        figures["first_failure"] = "\n".join(failed[0]["out"].splitlines()[-6:])
    print(f"{name}: {json.dumps(figures)}", flush=True)
    return figures


def pages(count: int, size: int) -> int:
    """Calls to list `count` items: at least one."""
    return max(1, -(-count // size))


def min_read_calls(center: dict[str, Any]) -> int:
    """The fewest calls a correct read of one BC of this benchmark needs (no partners, groups).

    The admin check, the member list, each asset type's list, the partner list, the asset
    group list, and per asset type the cheaper way to read grants: per asset (20 a page) or
    per bound member (50 a page). Page sizes are the client's own.
    """
    from collections import Counter

    from bcsync.providers.tiktok import read

    members = center["members"]
    bound = [m["email"] for m in members if m.get("status", "BOUND") == "BOUND"]
    calls = 1 + pages(len(members), read.MEMBER_PAGE) + 1 + 1  # bc/get, members, partners, groups
    for kind, assets in center["assets"].items():
        calls += pages(len(assets), read.LIST_PAGE)
        grants = [g for g in center["grants"] if g["asset_type"] == kind]
        per_asset = Counter(g["asset_id"] for g in grants)
        per_member = Counter(g["email"] for g in grants)
        by_asset = sum(pages(per_asset[a["id"]], read.ASSET_MEMBER_PAGE) for a in assets)
        by_member = sum(pages(per_member[e], read.LIST_PAGE) for e in bound)
        calls += min(by_asset, by_member)
    return calls


# -- main --------------------------------------------------------------------------------------


def build(work: Path, ns: list[int], writes: int, hundred: bool) -> dict[str, Any]:
    """Seed and configs for every scenario, and the 100-BC directory."""
    world = World()
    plan: dict[str, Any] = {"scenarios": [], "hundred": None}
    index = 0
    for n in ns:
        for mode in ("without", "with"):
            index += 1
            name = f"{mode}-{n}"
            dirs, tokens = [], []
            for k in range(n):
                bc = bc_id(index, k)
                d = work / name / f"p{k}"
                d.mkdir(parents=True)
                text = world.add_bc(bc, 6, 10, writes, app=f"app-{name}")
                (d / "bcsync.yaml").write_text(text)
                dirs.append(d)
                tokens.append(world.tokens[bc])
            plan["scenarios"].append((n, mode, name, dirs, tokens))
    if hundred:
        # An agency: one admin (one token) administers every BC, except the broken one.
        world.user("agency@agency.example", token=HUNDRED_TOKEN, app_id="app-hundred")
        world.tokens["hundred"] = HUNDRED_TOKEN
        rng = Random(21)
        d = work / "hundred"
        d.mkdir()
        bcs = []
        for k in range(100):
            bc = bc_id(999, k)
            members, ads = rng.randint(2, 16), rng.randint(1, 12)
            admin = "" if k == BROKEN_BC else "agency@agency.example"
            held = rng.randint(0, members * ads // 2)
            writes = rng.randint(0, 4)
            text = world.add_bc(bc, members, ads, writes, held=held, app="app-hundred", admin=admin)
            (d / f"bc{k:03d}.yaml").write_text(text)
            bcs.append(bc)
        plan["hundred"] = (d, bcs)
    centers = {c["bc_id"]: c for c in world.centers}
    plan["centers"], plan["tokens"] = centers, world.tokens
    (work / "seed.json").write_text(json.dumps(world.seed()))
    return plan


def point(paths: list[Path], url: str) -> None:
    for p in paths:
        p.write_text(p.read_text().replace("url: URL", f'url: "{url}"'))


def hundred_bcs(
    work: Path, built: dict[str, Any], url: str, shared: dict[str, str]
) -> dict[str, Any]:
    """plan, then apply, over 100 configs, each command one process with the agency's token."""
    d, bcs = built["hundred"]
    env = {"BCSYNC_EMULATOR_TOKEN": HUNDRED_TOKEN, **shared}
    results = {}
    for command in ("plan", "apply"):
        before = throttled(url)
        report = work / f"hundred-{command}.json"
        args = [command, str(d), "--now", NOW] + (["--auto-approve"] if command == "apply" else [])
        started = time.perf_counter()
        done = finish(start(args, work, env, report), report)
        done["s"] = time.perf_counter() - started
        done["throttled"] = throttled(url) - before
        results[command] = done
        tail = "\n".join(done["out"].splitlines()[-4:])
        print(f"100 BCs {command}: exit {done['code']} in {done['s']:.1f} s\n{tail}", flush=True)
    plan = results["plan"]
    read_calls = {r["bc_id"]: r["calls"] for r in plan["reads"]}
    minimum = sum(min_read_calls(built["centers"][bc]) for bc in read_calls)
    apply = results["apply"]
    failed = [bc for bc in bcs if bc not in read_calls]
    return {
        "bcs_100_calls": sum(read_calls.values()),
        "bcs_100_min_calls": minimum,
        "bcs_100_rate_ratio": round(rate_ratio(admitted(apply["sends"])), 3),
        "bcs_100_plan_rate_ratio": round(rate_ratio(admitted(plan["sends"])), 3),
        "bcs_100_peak_mb": round(max(plan["peak_mb"], apply["peak_mb"]), 1),
        "bcs_100_plan_s": round(plan["s"], 1),
        "bcs_100_apply_s": round(apply["s"], 1),
        "bcs_100_apply_calls": len(admitted(apply["sends"])),
        "bcs_100_throttled": plan["throttled"] + apply["throttled"],
        "bcs_100_plan_throttled": plan["throttled"],
        "bcs_100_failed": failed,
        "bcs_100_codes": {"plan": plan["code"], "apply": apply["code"]},
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--ns", default="1,4,8", help="process counts (default 1,4,8)")
    parser.add_argument("--writes", type=int, default=40, help="grants each process assigns")
    parser.add_argument("--skip-100", action="store_true", help="skip the 100-BC run")
    parser.add_argument("--keep", type=Path, help="work here and keep the files")
    args = parser.parse_args()
    ns = [int(n) for n in args.ns.split(",")]
    work = args.keep or Path(tempfile.mkdtemp(prefix="bcsync-many-"))
    work.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    servers = []
    try:
        built = build(work, ns, args.writes, not args.skip_100)
        redis, redis_url = serve_redis(work)
        servers.append(redis)
        emulator, url = serve_emulator(work / "seed.json", work / "emulator.db")
        servers.append(emulator)
        point(list(work.glob("*/*/bcsync.yaml")) + list(work.glob("hundred/*.yaml")), url)
        runs: dict[str, dict[str, Any]] = {}
        for n, mode, name, dirs, tokens in built["scenarios"]:
            env = {}
            if mode == "with":
                env = {"BCSYNC_RATE_LIMIT_URL": redis_url, "BCSYNC_RATE_LIMIT_APP": name}
            runs[name] = scenario(work, name, dirs, tokens, env, url) | {"n": n, "mode": mode}
        shared = {"BCSYNC_RATE_LIMIT_URL": redis_url, "BCSYNC_RATE_LIMIT_APP": "hundred"}
        hundred = hundred_bcs(work, built, url, shared) if built["hundred"] else {}
    finally:
        for server in reversed(servers):
            stop(server)
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)

    def by_n(mode: str, key: str) -> dict[str, Any]:
        return {str(r["n"]): r[key] for r in runs.values() if r["mode"] == mode}

    result: dict[str, Any] = {
        "throttled_without_shared": by_n("without", "throttled"),
        "throttled_with_shared": by_n("with", "throttled"),
        "aggregate_ratio_with_shared": by_n("with", "ratio"),
        "aggregate_ratio_without_shared": by_n("without", "ratio"),
        "fairness": by_n("with", "fairness"),
        "fairness_without_shared": by_n("without", "fairness"),
        **hundred,
        # Asset groups as code (issue 21 item 4) are not built yet: nothing to measure.
        "direct_grant_calls": None,
        "asset_group_calls": None,
        "qps": QPS,
        "qpm": QPM,
        "writes_per_bc": args.writes,
        "details": {
            name: {k: r[k] for k in ("calls", "wall_s", "codes")} for name, r in runs.items()
        },
        "total_s": round(time.perf_counter() - started, 1),
    }
    missed = targets_missed(result, runs)
    result["missed"] = missed
    print(json.dumps(result))
    return 1 if missed else 0


def targets_missed(result: dict[str, Any], runs: dict[str, dict[str, Any]]) -> list[str]:
    missed = []
    for n, count in result["throttled_with_shared"].items():
        if count:
            missed.append(f"{count} throttled answers with the shared limit at N={n}")
    for n, ratio in result["aggregate_ratio_with_shared"].items():
        if ratio < 0.9:
            missed.append(f"aggregate ratio {ratio} < 0.9 with the shared limit at N={n}")
    for n, fair in result["fairness"].items():
        if fair < 0.8:
            missed.append(f"fairness {fair} < 0.8 at N={n}")
    for name, run in runs.items():
        if run["mode"] == "with" and any(run["codes"]):
            missed.append(f"{name}: a process failed ({run['codes']})")
    if "bcs_100_calls" in result:
        # A throttled answer's retry is a call too: beyond the minimum, only those.
        extra = result["bcs_100_calls"] - result["bcs_100_min_calls"]
        if extra > result["bcs_100_plan_throttled"]:
            missed.append(f"the 100-BC plan read {extra} calls more than the minimum")
        if result["bcs_100_rate_ratio"] < 0.9:
            missed.append(f"100-BC apply rate ratio {result['bcs_100_rate_ratio']} < 0.9")
        if result["bcs_100_failed"] != [bc_id(999, BROKEN_BC)]:
            missed.append(
                f"100 BCs: expected only the broken BC to fail: {result['bcs_100_failed']}"
            )
    return missed


if __name__ == "__main__":
    if len(sys.argv) > 3 and sys.argv[1] == "--child" and sys.argv[3] == "--":
        sys.exit(child(Path(sys.argv[2]), sys.argv[4:]))
    sys.exit(main())
