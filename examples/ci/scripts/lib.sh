# Shared by the bcsync CI scripts (sourced, not run). Needs: gh (GH_TOKEN), python3, bcsync.
# BCSYNC_PATHS: the config files or directories of one Business Center (one plan, one checksum).
# GITHUB_REPOSITORY: owner/name. BCSYNC: the bcsync command (default: bcsync).

BCSYNC="${BCSYNC:-bcsync}"
: "${BCSYNC_PATHS:?set BCSYNC_PATHS to the config files of one Business Center}"
: "${GITHUB_REPOSITORY:?set GITHUB_REPOSITORY (owner/name)}"
# Only comments by this account are trusted to carry a reviewed checksum.
COMMENT_AUTHOR="${BCSYNC_COMMENT_AUTHOR:-github-actions[bot]}"
# One comment per pull request and Business Center, found again by this hidden marker.
MARKER="<!-- bcsync-plan: ${BCSYNC_PATHS} -->"

# Print the id and body (JSON) of our plan comment on pull request $1, or nothing.
find_comment() {
  gh api --paginate "repos/${GITHUB_REPOSITORY}/issues/$1/comments" | python3 -c '
import json, sys
marker, author = sys.argv[1], sys.argv[2]
text, decoder, found, i = sys.stdin.read(), json.JSONDecoder(), None, 0
while i < len(text):  # --paginate prints one JSON array per page
    if text[i].isspace():
        i += 1
        continue
    page, i = decoder.raw_decode(text, i)
    for c in page:
        if found is None and marker in (c.get("body") or "") and c["user"]["login"] == author:
            found = c
if found:
    print(json.dumps({"id": found["id"], "body": found["body"]}))
' "$MARKER" "$COMMENT_AUTHOR"
}

# Create or update (in place) our comment on pull request $1 with the body in file $2.
upsert_comment() {
  local existing id
  existing="$(find_comment "$1")" || return 1
  if [ -n "$existing" ]; then
    id="$(printf '%s' "$existing" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')"
    gh api -X PATCH "repos/${GITHUB_REPOSITORY}/issues/comments/${id}" -F "body=@$2" >/dev/null
  else
    gh api -X POST "repos/${GITHUB_REPOSITORY}/issues/$1/comments" -F "body=@$2" >/dev/null
  fi
}

# The checksum of the last "Checksum: sha256:<64 hex>" line on stdin (Markdown may put the
# value in `code`), or nothing.
checksum_in() {
  grep -oE 'Checksum:[*_ ]*`?sha256:[0-9a-f]{64}' | tail -n 1 | grep -oE 'sha256:[0-9a-f]{64}'
}

# Append a line to a GitHub output or summary file when running in Actions.
emit() {
  if [ -n "${2:-}" ]; then printf '%s\n' "$1" >>"$2"; fi
}
