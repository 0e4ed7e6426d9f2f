#!/usr/bin/env bash
# Schedule: drift (changes made outside bcsync) and entries expiring soon, into the job summary
# and into ONE issue per Business Center, updated in place: opened (or reopened by a new one)
# when something needs attention, closed with a note when all is clean. Exit 2 when either
# needs attention (the scheduled run fails and notifies), the first error code otherwise
# (1 runtime, 3 invalid), 0 when all is well.
# Env: BCSYNC_PATHS, the provider's token; BCSYNC_EXPIRING_WITHIN (default 30d). With
# GITHUB_REPOSITORY and GH_TOKEN (issues: write) the issue is kept; without, only the summary.
set -uo pipefail
BCSYNC="${BCSYNC:-bcsync}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
: "${BCSYNC_PATHS:?set BCSYNC_PATHS to the config files of one Business Center}"
within="${BCSYNC_EXPIRING_WITHIN:-30d}"
summary="${GITHUB_STEP_SUMMARY:-/dev/null}"
work="$(mktemp -d)"
# shellcheck disable=SC2086  # PATHS is a list
$BCSYNC drift $BCSYNC_PATHS --format markdown >"$work/drift.md" 2>"$work/drift.err"
drift=$?
# shellcheck disable=SC2086
$BCSYNC expiring $BCSYNC_PATHS --within "$within" >"$work/expiring.txt" 2>"$work/expiring.err"
expiring=$?
cat "$work/drift.md" "$work/expiring.txt" | tee -a "$summary"
cat "$work/drift.err" "$work/expiring.err" >&2
for code in "$drift" "$expiring"; do
  if [ "$code" -ne 0 ] && [ "$code" -ne 2 ]; then exit "$code"; fi
done
attention=0
if [ "$drift" -eq 2 ] || [ "$expiring" -eq 2 ]; then attention=1; fi

if [ -n "${GITHUB_REPOSITORY:-}" ] && [ -n "${GH_TOKEN:-}" ]; then
  author="${BCSYNC_COMMENT_AUTHOR:-github-actions[bot]}"
  id_line="<!-- bcsync-drift: ${BCSYNC_PATHS} -->"
  run="${GITHUB_SERVER_URL:-https://github.com}/${GITHUB_REPOSITORY}/actions/runs/${GITHUB_RUN_ID:-0}"
  issue="$(gh api --paginate "repos/${GITHUB_REPOSITORY}/issues?state=open&per_page=100" |
    python3 "$HERE/github.py" find-issue "$id_line" "$author" | python3 -c '
import json, sys
text = sys.stdin.read().strip()
print(json.loads(text)["number"] if text else "")')"
  if [ "$attention" -eq 1 ]; then
    {
      echo "$id_line"
      echo "bcsync's daily check found drift or expiries in \`${BCSYNC_PATHS}\` (run: ${run})."
      echo "Drift: fix the Business Center or the config (\`bcsync plan\` shows what apply would"
      echo "do). Expiries: renew the entry in the config or let it lapse."
      echo
      if [ "$drift" -eq 2 ]; then cat "$work/drift.md"; echo; fi
      if [ "$expiring" -eq 2 ]; then
        echo "### Expiring within ${within}"
        echo
        python3 "$HERE/github.py" pre "$work/expiring.txt"
      fi
    } >"$work/issue.md"
    if [ -n "$issue" ]; then
      gh api -X PATCH "repos/${GITHUB_REPOSITORY}/issues/${issue}" -F "body=@$work/issue.md" >/dev/null
    else
      gh api -X POST "repos/${GITHUB_REPOSITORY}/issues" \
        -f "title=bcsync: drift or expiries in ${BCSYNC_PATHS}" -F "body=@$work/issue.md" >/dev/null
    fi
  elif [ -n "$issue" ]; then
    printf 'All clean as of %s: no drift, nothing expiring within %s.\n' "$run" "$within" >"$work/clean.md"
    gh api -X POST "repos/${GITHUB_REPOSITORY}/issues/${issue}/comments" -F "body=@$work/clean.md" >/dev/null
    gh api -X PATCH "repos/${GITHUB_REPOSITORY}/issues/${issue}" -f state=closed >/dev/null
  fi
fi
if [ "$attention" -eq 1 ]; then
  echo "Needs attention: drift exit $drift, expiring exit $expiring." >&2
  exit 2
fi
exit 0
