#!/usr/bin/env bash
# Merge (push to the default branch): apply exactly the plan reviewed on the pull request that
# brought this commit. The pull request and its final head commit come from GitHub's API; the
# plan comment only from COMMENT_AUTHOR, its first line our id. `bcsync check-review` takes the
# reviewed-plan marker from it and refuses (exit 4) unless it names that final head commit and
# the merged configs' digest is its own. Then `bcsync apply --checksum <marker> --plan <the
# reviewed plan>`, the plan (JSON) fetched from the plan run the comment names, and only if that
# run is a workflow_run of the privileged workflow: apply re-reads the plan's scope, applies what
# remains of it or says "already applied", and refuses anything else. Without the reviewed plan
# (expired), the checksum alone (a scoped plan re-scoped from BCSYNC_BASE). Refused: re-plan.
# Env: BCSYNC_PATHS, GITHUB_REPOSITORY, GITHUB_SHA, BCSYNC_BASE (github.event.before), GH_TOKEN,
# the provider's token; BCSYNC_AUDIT_LOG (default: bcsync's, beside the config);
# BCSYNC_PLAN_ARTIFACT (default bcsync-plan-0); BCSYNC_WORKFLOW_PATH (.github/workflows/bcsync.yml).
set -uo pipefail
. "$(dirname "$0")/lib.sh"
: "${GITHUB_SHA:?set GITHUB_SHA (the merged commit)}"
work="$(mktemp -d)"
workflow="${BCSYNC_WORKFLOW_PATH:-.github/workflows/bcsync.yml}"

# Fetch the reviewed plan (JSON) named by comment $1 into $2; non-zero when it cannot.
reviewed_plan() {
  local run id
  run="$(python3 "$HERE/github.py" plan-run <"$1")"
  [ -n "$run" ] || return 1
  gh api "repos/${GITHUB_REPOSITORY}/actions/runs/${run}" |
    python3 "$HERE/github.py" trusted-run "$workflow" || return 1
  id="$(gh api "repos/${GITHUB_REPOSITORY}/actions/runs/${run}/artifacts" |
    python3 "$HERE/github.py" artifact "${BCSYNC_PLAN_ARTIFACT:-bcsync-plan-0}")"
  [ -n "$id" ] || { echo "The plan run ${run} kept no reviewed plan (expired?)." >&2; return 1; }
  gh api "repos/${GITHUB_REPOSITORY}/actions/artifacts/${id}/zip" >"$work/plan.zip" || return 1
  python3 "$HERE/github.py" extract "$work/plan.zip" plan.json "$2"
}
pulls="$(gh api "repos/${GITHUB_REPOSITORY}/commits/${GITHUB_SHA}/pulls")" ||
  { echo "could not ask GitHub which pull request merged ${GITHUB_SHA}" >&2; exit 1; }
read -r pr head < <(printf '%s' "$pulls" | python3 "$HERE/github.py" merged-pr "$GITHUB_SHA")
if [ -z "${pr:-}" ]; then
  echo "Refused: commit ${GITHUB_SHA} was merged by no pull request, so no plan was reviewed." >&2
  echo "Changes reach the Business Center only through a reviewed pull request." >&2
  exit 4
fi
find_comment "$pr" | python3 "$HERE/github.py" field body >"$work/comment.md" 2>/dev/null
if [ ! -s "$work/comment.md" ]; then
  echo "Refused: pull request #$pr has no bcsync plan comment by ${COMMENT_AUTHOR}." >&2
  echo "Re-plan: re-run the pull request's bcsync plan, review it, merge again." >&2
  exit 4
fi
echo "Pull request #$pr, final head ${head}: checking its reviewed plan"
# shellcheck disable=SC2086  # PATHS is a list
$BCSYNC check-review "$work/comment.md" $BCSYNC_PATHS --head-commit "$head" >"$work/review" || exit $?
checksum="$(sed -n 's/^checksum=//p' "$work/review")"
scope="$(sed -n 's/^scope=//p' "$work/review")"
args=(--auto-approve --checksum "$checksum")
# The reviewed plan itself (JSON), kept by the plan run the comment names: with it at hand a
# re-run applies what remains of it, or says "already applied". Only from a run of the
# privileged workflow; without it, the checksum alone (a re-run then needs a fresh review).
if reviewed_plan "$work/comment.md" "$work/plan.json"; then
  args+=(--plan "$work/plan.json")
elif [ "$scope" = scoped ]; then
  : "${BCSYNC_BASE:?set BCSYNC_BASE (github.event.before): the plan was scoped}"
  args+=(--changed --base "$BCSYNC_BASE")
fi
if [ -n "${BCSYNC_AUDIT_LOG:-}" ]; then args+=(--audit-log "$BCSYNC_AUDIT_LOG"); fi
echo "Applying the reviewed plan ${checksum} (${scope}) to ${BCSYNC_PATHS}"
# shellcheck disable=SC2086
$BCSYNC apply "${args[@]}" $BCSYNC_PATHS
code=$?
if [ "$code" -eq 4 ]; then
  echo "The plan changed since it was reviewed: plan again (re-run the pull request's plan)." >&2
fi
exit "$code"
