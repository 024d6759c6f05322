#!/usr/bin/env bash
# Build the demo's pull request as a real git repository (shared by demo.sh and record.py).
#
#   bash examples/demo_repo.sh DEST CHANGE
#
# DEST becomes a fresh repository holding examples/support-bot on branch `main` (the base of
# the pull request), and a branch `pr` checked out on top of it with one commit that applies
# CHANGE:
#   worse-system-prompt  examples/changes/worse-system-prompt.md over prompts/system.md
#   readme-only          examples/changes/readme-only.md over README.md
# Commits have fixed authors and dates, so the same CHANGE always gives the same commit ids.
set -euo pipefail

if [[ $# -ne 2 ]]; then
  echo "usage: $0 DEST worse-system-prompt|readme-only" >&2
  exit 2
fi
dest=$1
change=$2
examples=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

case $change in
  worse-system-prompt)
    source_file=changes/worse-system-prompt.md target=prompts/system.md
    message="Shorter support answers for mobile users" ;;
  readme-only)
    source_file=changes/readme-only.md target=README.md
    message="Docs: how to run the assistant locally" ;;
  *)
    echo "$0: unknown change '$change' (worse-system-prompt | readme-only)" >&2
    exit 2 ;;
esac

# Only this script's settings: no hooks, signing or templates from the user's git config.
export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1
export GIT_AUTHOR_NAME="Acme Dev" GIT_AUTHOR_EMAIL="dev@acme.example"
export GIT_COMMITTER_NAME="Acme Dev" GIT_COMMITTER_EMAIL="dev@acme.example"
export GIT_AUTHOR_DATE="2025-08-01T09:00:00Z" GIT_COMMITTER_DATE="2025-08-01T09:00:00Z"

rm -rf "$dest"
mkdir -p "$dest"
cp -R "$examples/support-bot/." "$dest/"
git -C "$dest" init --quiet --initial-branch=main
git -C "$dest" add --all
git -C "$dest" commit --quiet --message="Support assistant with its eval suite"

export GIT_AUTHOR_DATE="2025-08-04T14:30:00Z" GIT_COMMITTER_DATE="2025-08-04T14:30:00Z"
git -C "$dest" switch --quiet --create pr
cp "$examples/$source_file" "$dest/$target"
git -C "$dest" commit --quiet --all --message="$message"
