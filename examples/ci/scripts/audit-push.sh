#!/usr/bin/env bash
# After an apply (its own job, `contents: write`, no TikTok token): append the apply's audit
# records to audit/<config>.jsonl on a dedicated branch (default bcsync-audit), so the trail
# outlives the run's artifacts. Append-only; a concurrent push is retried on the new tip.
# Read it with: git fetch origin bcsync-audit && git show origin/bcsync-audit:audit/FILE >a.jsonl
# && bcsync audit --log a.jsonl
# Env: BCSYNC_PATHS, BCSYNC_AUDIT_RECORDS (the apply's audit log), GITHUB_REPOSITORY, GH_TOKEN;
# BCSYNC_AUDIT_BRANCH (default bcsync-audit); BCSYNC_AUDIT_REMOTE (default the repository).
set -euo pipefail
: "${BCSYNC_PATHS:?set BCSYNC_PATHS}"
: "${BCSYNC_AUDIT_RECORDS:?set BCSYNC_AUDIT_RECORDS to the audit log of the apply job}"
if [ ! -s "$BCSYNC_AUDIT_RECORDS" ]; then
  echo "No audit records (nothing was applied)."
  exit 0
fi
records="$(realpath "$BCSYNC_AUDIT_RECORDS")"
branch="${BCSYNC_AUDIT_BRANCH:-bcsync-audit}"
remote="${BCSYNC_AUDIT_REMOTE:-https://github.com/${GITHUB_REPOSITORY}.git}"
name="$(printf '%s' "$BCSYNC_PATHS" | tr -c 'A-Za-z0-9._-' '_')"
file="audit/${name}.jsonl"
work="$(mktemp -d)"
auth=()
if [ -n "${GH_TOKEN:-}" ] && [ -z "${BCSYNC_AUDIT_REMOTE:-}" ]; then
  basic="$(printf 'x-access-token:%s' "$GH_TOKEN" | base64 | tr -d '\n')"
  auth=(-c "http.extraheader=AUTHORIZATION: basic ${basic}")
fi
for attempt in 1 2 3 4 5; do
  # A fresh clone each attempt: the records are appended to the branch's tip exactly once.
  git init -q "$work/$attempt"
  cd "$work/$attempt"
  git config user.name "${BCSYNC_AUDIT_NAME:-github-actions[bot]}"
  git config user.email "${BCSYNC_AUDIT_EMAIL:-41898282+github-actions[bot]@users.noreply.github.com}"
  if git "${auth[@]}" fetch -q --depth 1 "$remote" "refs/heads/${branch}" 2>/dev/null; then
    git checkout -q -B "$branch" FETCH_HEAD
  else
    git checkout -q --orphan "$branch"
  fi
  mkdir -p audit
  cat "$records" >>"$file"
  git add "$file"
  git commit -q -m "bcsync audit: ${BCSYNC_PATHS} at ${GITHUB_SHA:-unknown} (run ${GITHUB_RUN_ID:-local})"
  if git "${auth[@]}" push -q "$remote" "HEAD:refs/heads/${branch}"; then
    echo "Appended $(wc -l <"$records") audit record(s) to ${branch}:${file}"
    exit 0
  fi
  echo "The audit branch moved (attempt ${attempt}); retrying on its new tip." >&2
  sleep "$attempt"
done
echo "Could not push the audit records to ${branch}." >&2
exit 1
