#!/usr/bin/env bash
# Pull request: validate and plan one Business Center, post the Markdown plan as one comment
# (updated in place on every push), even when the plan is invalid or refused; then fail the job
# if it was. Env: BCSYNC_PATHS, GITHUB_REPOSITORY, PR_NUMBER, GH_TOKEN, the provider's token.
# Exit: 0 when the plan is fine (changes or not), else bcsync's code (3 invalid, 4 refused, 1...).
set -uo pipefail
. "$(dirname "$0")/lib.sh"
: "${PR_NUMBER:?set PR_NUMBER}"
work="$(mktemp -d)"
# shellcheck disable=SC2086  # PATHS is a list
$BCSYNC plan $BCSYNC_PATHS --format markdown --out "$work/plan.json" --detailed-exitcode \
  >"$work/plan.md" 2>"$work/plan.err"
code=$?
checksum="$(checksum_in <"$work/plan.md")"
{
  echo "$MARKER"
  echo "### bcsync plan for \`${BCSYNC_PATHS}\`"
  echo
  case "$code" in
    0 | 2) ;;
    3) echo "**The configuration is invalid (exit 3).** Fix it and push again:" ;;
    4) echo "**Refused (exit 4): this plan will not be applied as it stands.**" ;;
    *) echo "**bcsync plan failed (exit $code).**" ;;
  esac
  if [ "$code" -ne 0 ] && [ "$code" -ne 2 ] && [ -s "$work/plan.err" ]; then
    echo
    echo '```text'
    head -c 20000 "$work/plan.err"
    echo
    echo '```'
  fi
  echo
  cat "$work/plan.md"
  echo
  echo "<sub>Commit ${GITHUB_SHA:-unknown}. On merge, only a plan with this checksum is applied.</sub>"
} >"$work/comment.md"
upsert_comment "$PR_NUMBER" "$work/comment.md" || { echo "could not post the plan comment" >&2; exit 1; }
emit "checksum=${checksum}" "${GITHUB_OUTPUT:-}"
emit "exit-code=${code}" "${GITHUB_OUTPUT:-}"
cat "$work/plan.err" >&2
case "$code" in
  0 | 2) exit 0 ;;
  *) exit "$code" ;;
esac
