"""TikTok's own Python SDK against `bcsync emulator serve`: every endpoint bcsync uses.

Not collected by pytest: it needs the official SDK, which is not a bcsync dependency.

    pip install tiktok-business-api-sdk-official   # the package of tiktok/tiktok-business-api-sdk
    python3 tests/conformance/official_sdk.py

It serves the conformance world on a free 127.0.0.1 port, points the SDK's `Configuration.host`
at it, calls each endpoint with the SDK's own models and request encoding (token header, JSON-
encoded GET objects), and prints one JSON line last: {"ok": N, "failed": {...}}. Exit status 0
only if every call answered code 0. The SDK raises on any code but 0, so a call that returns is
a call the emulator accepted.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]  # bcsync, and this package as pytest names it

from conformance.table import (  # noqa: E402
    AD1,
    AD2,
    BC,
    BOB,
    GROUP,
    LEAD,
    PARTNER,
    PIXEL,
    STD,
)
from conformance.world import TOKEN, seed  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(workdir: Path, port: int) -> subprocess.Popen[bytes]:
    """`bcsync emulator serve` on 127.0.0.1:port, once it answers."""
    seed_file = workdir / "seed.yaml"
    seed_file.write_text(yaml.safe_dump(seed()), encoding="utf-8")
    command = [
        sys.executable, "-m", "bcsync", "emulator", "serve", "--seed", str(seed_file),
        "--db", str(workdir / "emulator.db"), "--port", str(port), "--reset",
    ]  # fmt: skip
    server = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/open_api/v1.3/bc/get/", timeout=1)
            return server
        except urllib.error.HTTPError:
            return server  # it answers (an HTTP error is still an answer)
        except OSError:
            if server.poll() is not None:
                _, err = server.communicate()
                raise SystemExit(f"the emulator exited: {err.decode()}") from None
            time.sleep(0.2)
    server.kill()
    raise SystemExit("the emulator did not start within 30 s")


def calls(sdk: Any, api: Any) -> list[tuple[str, Callable[[], Any]]]:
    """Each endpoint bcsync uses, called the SDK's way; reads first, then writes."""
    t = TOKEN
    ext = sdk.BcmemberinviteExtUserRole(finance_role="ANALYST")
    return [
        ("GET /bc/get/", lambda: api.bc_get(t, bc_id=BC)),
        ("GET /bc/member/get/", lambda: api.bc_member_get(
            BC, t, page=1, page_size=20,
            filtering=sdk.FilteringBcMemberGet(relation_status="BOUND"))),
        ("GET /bc/asset/get/", lambda: api.bc_asset_get(
            BC, "ADVERTISER", t, page_size=50, filtering=sdk.FilteringBcAssetGet(user_id=BOB))),
        ("GET /bc/asset/admin/get/", lambda: api.bc_asset_admin_get(
            BC, "PIXEL", t, filtering=sdk.FilteringBcAssetAdminGet(relation_status="BOUND"))),
        ("GET /bc/asset/member/get/", lambda: api.bc_asset_member_get(BC, "LEAD", LEAD, t)),
        ("GET /bc/partner/get/", lambda: api.bc_partner_get(BC, t, page_size=50)),
        ("GET /bc/partner/asset/get/", lambda: api.bc_partner_asset_get(
            BC, PARTNER, "ADVERTISER", "SHARING", t)),
        ("GET /bc/asset_group/list/", lambda: api.bc_asset_group_list(
            BC, t, page=1, page_size=10)),
        ("GET /bc/asset_group/get/", lambda: api.bc_asset_group_get(
            BC, GROUP, "MEMBER", t, page=1, page_size=10)),
        ("POST /bc/member/invite/", lambda: api.bc_member_invite(t, body=sdk.MemberInviteBody(
            bc_id=BC, emails=["sdk@conformance.example"], asset_ids=[AD1],
            advertiser_role="OPERATOR", ext_user_role=ext))),
        ("POST /bc/member/invite/ (asset_ids [])", lambda: api.bc_member_invite(
            t, body=sdk.MemberInviteBody(bc_id=BC, emails=["plain@conformance.example"],
                                         asset_ids=[]))),
        ("POST /bc/member/update/", lambda: api.bc_member_update(t, body=sdk.MemberUpdateBody(
            bc_id=BC, user_id=STD, user_role="STANDARD", ext_user_role=ext))),
        ("POST /bc/asset/assign/", lambda: api.bc_asset_assign(t, body=sdk.AssetAssignBody(
            bc_id=BC, user_id=STD, asset_type="ADVERTISER", asset_id=AD1,
            advertiser_role="ADMIN"))),
        ("POST /bc/asset/assign/ (PIXEL, no role)", lambda: api.bc_asset_assign(
            t, body=sdk.AssetAssignBody(bc_id=BC, user_id=STD, asset_type="PIXEL",
                                        asset_id=PIXEL))),
        ("POST /bc/asset/unassign/", lambda: api.bc_asset_unassign(t, body=sdk.AssetUnassignBody(
            bc_id=BC, user_id=STD, asset_type="PIXEL", asset_id=PIXEL))),
        ("POST /bc/partner/add/", lambda: api.bc_partner_add(t, body=sdk.PartnerAddBody(
            bc_id=BC, partner_id=PARTNER, asset_type="ADVERTISER", asset_ids=[AD2]))),
        ("POST /bc/partner/asset/delete/", lambda: api.bc_partner_asset_delete(
            t, body=sdk.AssetDeleteBody(bc_id=BC, partner_id=PARTNER, asset_type="ADVERTISER",
                                        asset_ids=[AD2]))),
        ("POST /bc/partner/delete/", lambda: api.bc_partner_delete(t, body=sdk.PartnerDeleteBody(
            bc_id=BC, partner_id=PARTNER))),
        ("POST /bc/member/delete/ (user_email)", lambda: api.bc_member_delete(
            t, body=sdk.MemberDeleteBody(bc_id=BC, user_email="pending@conformance.example"))),
        ("POST /bc/member/delete/ (user_id)", lambda: api.bc_member_delete(
            t, body=sdk.MemberDeleteBody(bc_id=BC, user_id=BOB))),
    ]  # fmt: skip


def main() -> int:
    try:
        import business_api_client as sdk
        from business_api_client.api.bc_api import BCApi
    except ImportError:
        print("the official SDK is not installed: pip install tiktok-business-api-sdk-official")
        return 64
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        server = serve(Path(tmp), port)
        try:
            config = sdk.Configuration()
            config.host = f"http://127.0.0.1:{port}"
            api = BCApi(sdk.ApiClient(config))
            failed: dict[str, str] = {}
            done = 0
            for name, call in calls(sdk, api):
                try:
                    call()
                    done += 1
                except Exception as exc:  # the SDK's TiktokSDKError, or a transport error
                    failed[name] = f"{type(exc).__name__}: {exc}"
        finally:
            server.terminate()
            server.wait(timeout=10)
    for name, why in failed.items():
        print(f"FAILED {name}: {why}")
    print(json.dumps({"ok": done, "failed": failed}))
    return 0 if not failed else 1


if __name__ == "__main__":
    raise SystemExit(main())
