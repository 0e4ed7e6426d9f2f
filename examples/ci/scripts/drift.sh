#!/usr/bin/env bash
# Schedule: report drift (changes made outside bcsync) and entries expiring soon, into the job
# summary. Exit 2 when either needs attention (the scheduled run fails and notifies), the first
# error code otherwise (1 runtime, 3 invalid), 0 when all is well.
# Env: BCSYNC_PATHS, the provider's token; BCSYNC_EXPIRING_WITHIN (default 30d).
set -uo pipefail
BCSYNC="${BCSYNC:-bcsync}"
: "${BCSYNC_PATHS:?set BCSYNC_PATHS to the config files of one Business Center}"
within="${BCSYNC_EXPIRING_WITHIN:-30d}"
summary="${GITHUB_STEP_SUMMARY:-/dev/null}"
# shellcheck disable=SC2086  # PATHS is a list
$BCSYNC drift $BCSYNC_PATHS | tee -a "$summary"
drift=${PIPESTATUS[0]}
# shellcheck disable=SC2086
$BCSYNC expiring $BCSYNC_PATHS --within "$within" | tee -a "$summary"
expiring=${PIPESTATUS[0]}
for code in "$drift" "$expiring"; do
  if [ "$code" -ne 0 ] && [ "$code" -ne 2 ]; then exit "$code"; fi
done
if [ "$drift" -eq 2 ] || [ "$expiring" -eq 2 ]; then
  echo "Needs attention: drift exit $drift, expiring exit $expiring." >&2
  exit 2
fi
exit 0
