#!/usr/bin/env bash
# Merge: apply exactly the plan reviewed on the pull request. The checksum is read from the plan
# comment (posted by COMMENT_AUTHOR) of the pull request that brought this commit, or given as
# BCSYNC_CHECKSUM; `bcsync apply --checksum` re-plans and refuses (exit 4) if the plan differs
# (the Business Center or the config changed since): re-run the plan and review again.
# Env: BCSYNC_PATHS, GITHUB_REPOSITORY, GITHUB_SHA (or PR_NUMBER), GH_TOKEN, the provider's token.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
checksum="${BCSYNC_CHECKSUM:-}"
if [ -z "$checksum" ]; then
  pr="${PR_NUMBER:-}"
  if [ -z "$pr" ]; then
    : "${GITHUB_SHA:?set GITHUB_SHA (or PR_NUMBER, or BCSYNC_CHECKSUM)}"
    pr="$(gh api "repos/${GITHUB_REPOSITORY}/commits/${GITHUB_SHA}/pulls" |
      python3 -c 'import json,sys; p=json.load(sys.stdin); print(p[0]["number"] if p else "")')"
  fi
  if [ -z "$pr" ]; then
    echo "Refused: commit ${GITHUB_SHA:-?} came from no pull request, so no plan was reviewed." >&2
    exit 4
  fi
  checksum="$(find_comment "$pr" | python3 -c '
import json, sys
text = sys.stdin.read().strip()
print(json.loads(text)["body"] if text else "")' | checksum_in)"
  if [ -z "$checksum" ]; then
    echo "Refused: pull request #$pr has no bcsync plan comment with a checksum." >&2
    exit 4
  fi
fi
echo "Applying the reviewed plan ${checksum} to ${BCSYNC_PATHS}"
# shellcheck disable=SC2086  # PATHS is a list
$BCSYNC apply --auto-approve --checksum "$checksum" $BCSYNC_PATHS
code=$?
if [ "$code" -eq 4 ]; then
  echo "The plan changed since it was reviewed: plan again (re-run the pull request's plan)." >&2
fi
exit "$code"
