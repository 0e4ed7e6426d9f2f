#!/usr/bin/env bash
# Pull request, privileged side (a `workflow_run` job; its definition comes from the default
# branch, the checkout is the default branch). Takes the pull request's configs from the
# unprivileged run's artifact AS DATA (nothing from the pull request is executed), plans them
# with `--changed` against the checkout, and posts the Markdown plan as one comment per BC,
# updated in place on every push; posted even when the config is invalid or the plan refused.
# Env (from the event, never from the artifact): PR_NUMBER, HEAD_SHA, PR_RUN_ID (the
# unprivileged run); BCSYNC_PATHS, GITHUB_REPOSITORY, GH_TOKEN, the provider's token.
# Optional: BCSYNC_BASE (default HEAD, the default branch), BCSYNC_PLAN_OUT (copy plan.json).
# Exit: 0 when the plan is fine (changes or not), else bcsync's code (3 invalid, 4 refused, 1...).
set -uo pipefail
. "$(dirname "$0")/lib.sh"
: "${PR_NUMBER:?set PR_NUMBER (github.event.workflow_run.pull_requests[0].number)}"
: "${HEAD_SHA:?set HEAD_SHA (github.event.workflow_run.head_sha)}"
: "${PR_RUN_ID:?set PR_RUN_ID (github.event.workflow_run.id)}"
case "$PR_NUMBER" in '' | *[!0-9]*) echo "PR_NUMBER must be a number" >&2; exit 64 ;; esac
work="$(mktemp -d)"

# Plan only the pull request's current head: an older run that finishes late must not
# overwrite a newer plan. A pull request merged before its plan was posted is planned against
# the commit before its merge (re-run this job, then the apply job).
pr_state() {
  gh api "repos/${GITHUB_REPOSITORY}/pulls/${PR_NUMBER}" | python3 "$HERE/github.py" head-sha
}
pull="$(pr_state)" || { echo "could not read pull request #${PR_NUMBER}" >&2; exit 1; }
read -r head merged <<<"$pull"
if [ "${head:-}" != "$HEAD_SHA" ]; then
  echo "Pull request #${PR_NUMBER} has moved on from ${HEAD_SHA}: its newer run plans it."
  exit 0
fi
base="${BCSYNC_BASE:-HEAD}"
if [ "${merged:--}" != "-" ]; then base="${merged}^"; fi

# The pull request's configs, as data: only BCSYNC_PATHS, regular files, over the checkout.
artifacts="$(gh api "repos/${GITHUB_REPOSITORY}/actions/runs/${PR_RUN_ID}/artifacts")" || exit 1
artifact_id="$(printf '%s' "$artifacts" | python3 "$HERE/github.py" artifact bcsync-configs)"
if [ -z "$artifact_id" ]; then
  echo "The pull request's run ${PR_RUN_ID} left no bcsync-configs artifact." >&2
  exit 1
fi
gh api "repos/${GITHUB_REPOSITORY}/actions/artifacts/${artifact_id}/zip" >"$work/configs.zip" || exit 1
# shellcheck disable=SC2086  # PATHS is a list
python3 "$HERE/github.py" unpack "$work/configs.zip" . $BCSYNC_PATHS 2>"$work/plan.err"
code=$?
if [ "$code" -eq 0 ]; then
  # shellcheck disable=SC2086
  $BCSYNC plan $BCSYNC_PATHS --changed --base "$base" --head-commit "$HEAD_SHA" \
    --format markdown --out "$work/plan.json" --detailed-exitcode \
    >"$work/plan.md" 2>"$work/plan.err"
  code=$?
fi
{
  echo "$ID_LINE"
  # Where the merge job finds the reviewed plan (JSON) this run keeps as an artifact.
  if [ -n "${GITHUB_RUN_ID:-}" ]; then echo "<!-- bcsync-plan-run: ${GITHUB_RUN_ID} -->"; fi
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
    pre_block "$work/plan.err"
  fi
  echo
  cat "$work/plan.md" 2>/dev/null
  echo
  echo "<sub>Planned at commit ${HEAD_SHA}. On merge, only this plan is applied, and only if the"
  echo "pull request's head is still this commit.</sub>"
} >"$work/comment.md"
pull="$(pr_state)" || { echo "could not read pull request #${PR_NUMBER}" >&2; exit 1; }
read -r head merged <<<"$pull"
if [ "${head:-}" != "$HEAD_SHA" ]; then
  echo "Pull request #${PR_NUMBER} moved on while planning: its newer run plans it."
  exit 0
fi
upsert_comment "$PR_NUMBER" "$work/comment.md" || { echo "could not post the plan comment" >&2; exit 1; }
checksum="$(grep -oE '^<!-- bcsync-reviewed checksum=sha256:[0-9a-f]{64}' "$work/plan.md" 2>/dev/null |
  grep -oE 'sha256:[0-9a-f]{64}')"
emit "checksum=${checksum}" "${GITHUB_OUTPUT:-}"
emit "exit-code=${code}" "${GITHUB_OUTPUT:-}"
if [ -n "${BCSYNC_PLAN_OUT:-}" ] && [ -f "$work/plan.json" ]; then cp "$work/plan.json" "$BCSYNC_PLAN_OUT"; fi
cat "$work/plan.err" >&2
case "$code" in
  0 | 2) exit 0 ;;
  *) exit "$code" ;;
esac
