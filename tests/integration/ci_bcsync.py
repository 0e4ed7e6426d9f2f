"""`bcsync` as the CI rehearsal runs it: the real CLI, with a pinned date and injected faults.

The workflow scripts call `$BCSYNC <command> ...`; the rehearsal points BCSYNC here. It adds
`--now $REHEARSAL_NOW` to the commands that evaluate expiry (so "an expiry passes" when the
rehearsal moves the date), and with REHEARSAL_FAIL_WRITES=PATH[,PATH] every call to those API
endpoints of the local Business Center answers a gateway 503, with retries cut short: a write
that fails however often it is retried, as an outage of one endpoint would look.
"""

from __future__ import annotations

import os
import sys
from typing import Any

DATED = {"plan", "apply", "drift", "expiring", "check-review"}


def inject_faults(paths: set[str]) -> None:
    from bcsync.emulator import app as emulator_app
    from bcsync.providers import factory
    from bcsync.providers.tiktok.client import RetryPolicy

    original = emulator_app.Emulator.api

    async def api(self: Any, request: Any) -> Any:
        if request.path_params["path"] in paths:
            return emulator_app.gateway_response(503)
        return await original(self, request)

    emulator_app.Emulator.api = api  # type: ignore[method-assign]
    quick = RetryPolicy(attempts=2, total_seconds=5, base_delay=0.01, max_delay=0.02)
    factory.RetryPolicy = lambda: quick  # type: ignore[assignment,misc]


def main() -> None:
    args = sys.argv[1:]
    now = os.environ.get("REHEARSAL_NOW")
    if now and args and args[0] in DATED:
        args += ["--now", now]
    failing = os.environ.get("REHEARSAL_FAIL_WRITES")
    if failing:
        inject_faults(set(failing.split(",")))
        if args and args[0] == "apply":  # nothing a failed write changed is worth waiting for
            args += ["--settle-timeout", "1"]
    from bcsync.cli import cli

    cli.main(args=args, prog_name="bcsync")


if __name__ == "__main__":
    main()
