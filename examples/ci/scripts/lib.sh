# Shared by the bcsync CI scripts (sourced, not run). Needs: gh (GH_TOKEN), python3, bcsync.
# BCSYNC_PATHS: the config files of one Business Center (one plan, one checksum).
# GITHUB_REPOSITORY: owner/name. BCSYNC: the bcsync command (default: bcsync).

BCSYNC="${BCSYNC:-bcsync}"
: "${BCSYNC_PATHS:?set BCSYNC_PATHS to the config files of one Business Center}"
: "${GITHUB_REPOSITORY:?set GITHUB_REPOSITORY (owner/name)}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# Only comments by this account are read back. github-actions[bot] is every workflow's identity
# (a branch's own workflow can post as it too): the reviewed-plan marker binds the plan to the
# head commit and configs, and a GitHub App identity (README) makes spoofing the author harder.
COMMENT_AUTHOR="${BCSYNC_COMMENT_AUTHOR:-github-actions[bot]}"
# One comment per pull request and Business Center: its FIRST line is this id.
ID_LINE="<!-- bcsync-plan: ${BCSYNC_PATHS} -->"

# Print the id and body (JSON) of our comment on pull request $1 (first line ID_LINE, by
# COMMENT_AUTHOR), or nothing. Comments by anyone else are ignored, whatever they say.
find_comment() {
  gh api --paginate "repos/${GITHUB_REPOSITORY}/issues/$1/comments" |
    python3 "$HERE/github.py" find-comment "$ID_LINE" "$COMMENT_AUTHOR"
}

# Create or update (in place) our comment on pull request $1 with the body in file $2.
upsert_comment() {
  local existing id
  existing="$(find_comment "$1")" || return 1
  if [ -n "$existing" ]; then
    id="$(printf '%s' "$existing" | python3 "$HERE/github.py" field id)"
    gh api -X PATCH "repos/${GITHUB_REPOSITORY}/issues/comments/${id}" -F "body=@$2" >/dev/null
  else
    gh api -X POST "repos/${GITHUB_REPOSITORY}/issues/$1/comments" -F "body=@$2" >/dev/null
  fi
}

# Append a line to a GitHub output or summary file when running in Actions.
emit() {
  if [ -n "${2:-}" ]; then printf '%s\n' "$1" >>"$2"; fi
}

# bcsync's stderr for a comment or an issue: HTML-escaped in <pre>, so no text from a config
# can open a comment, close the block, or start a line the merge job reads.
pre_block() {
  python3 "$HERE/github.py" pre "$1"
}
