#!/usr/bin/env bash
# `make demo`: run llm-gate on the bundled example's pull requests, offline.
#
# 1. A pull request that rewrites the support bot's system prompt to "keep answers under one
#    sentence": llm-gate evaluates both sides on evals/support.jsonl and catches the drop.
# 2. A pull request that only edits the README: nothing llm-gate watches changed, so it
#    decides without a single model call.
#
# No API key and no network: every model answer is replayed from examples/cache (`--replay`;
# a request missing from the cache is an error). The cache was recorded by examples/record.py
# from a scripted OpenAI-compatible server, not a real model: the demo shows the pipeline.
# Exits 0 when the gate behaved as expected (regression caught, README change skipped).
set -uo pipefail

examples=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$examples")
bin="$root/.venv/bin"
[[ -x "$bin/llm-gate" ]] || bin=$(dirname "$(command -v llm-gate || echo /missing/llm-gate)")
if [[ ! -x "$bin/llm-gate" ]]; then
  echo "demo: llm-gate is not installed; run \`make install\` first" >&2
  exit 1
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/llm-gate-demo.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# A clean environment: no API key, no GitHub runner variables (GITHUB_WORKSPACE would point
# llm-gate at another checkout). The base URL is the one the cache was recorded with: it is
# part of every cache key. Nothing listens there; a replay never connects.
gate() {
  env -i HOME="$HOME" PATH="$bin:$PATH" PYTHONUTF8=1 ${LANG:+LANG="$LANG"} \
    OPENAI_BASE_URL=http://127.0.0.1:18080/v1 \
    "$bin/llm-gate" "$@"
}
if [[ -t 1 ]]; then
  say() { printf '\n\033[1m%s\033[0m\n' "$*"; }
else
  say() { printf '\n%s\n' "$*"; }
fi

say "━━ 1. A pull request that shortens the support bot's answers"
bash "$examples/demo_repo.sh" "$tmp/prompt-pr" worse-system-prompt || exit 1
git -C "$tmp/prompt-pr" --no-pager log --format='   %h %s' main..pr
git -C "$tmp/prompt-pr" --no-pager diff --stat main pr
git -C "$tmp/prompt-pr" --no-pager diff main pr -- prompts/system.md | tail -n +5
say "$ llm-gate eval --base main --replay --cache-dir examples/cache --results-dir out"
(cd "$tmp/prompt-pr" &&
  gate eval --base main --replay --cache-dir "$examples/cache" --results-dir "$tmp/out")
prompt_exit=$?
cp "$tmp/out/llm-gate-comment.md" "$tmp/comment.md" 2>/dev/null

# Exit code 1 means "regression" or "the gate could not decide" (say, a replay miss after
# an edit of support-bot/ without re-recording): only a written report with the ❌ verdict
# mark in its headline is the regression this demo expects.
caught=no
if [[ -f "$tmp/comment.md" ]]; then
  say "━━ The PR comment llm-gate would post (out/llm-gate-comment.md; every case side by side: out/llm-gate-report.html)"
  cat "$tmp/comment.md"
  if [[ $prompt_exit -eq 1 ]] && head -n 5 "$tmp/comment.md" | grep -q '❌ llm-gate'; then
    caught=yes
  fi
fi
say "━━ Exit code: $prompt_exit"
if [[ $caught == yes ]]; then
  echo "Non-zero: the regression was caught. In CI the job fails and the required"
  echo "\`llm-gate\` status turns red, so the pull request cannot be merged as it is."
else
  echo "Expected a regression verdict (❌ in the comment, exit code 1); got exit code"
  echo "$prompt_exit without one. After editing support-bot/ or changes/, record the cache"
  echo "again: .venv/bin/python examples/record.py"
fi

say "━━ 2. A pull request that only edits the README"
bash "$examples/demo_repo.sh" "$tmp/readme-pr" readme-only || exit 1
git -C "$tmp/readme-pr" --no-pager diff --stat main pr
mkdir "$tmp/empty-cache"  # an empty cache: any model call would be a replay miss, an error
say "$ llm-gate eval --base main --replay --cache-dir <an empty directory>"
(cd "$tmp/readme-pr" && gate eval --base main --replay --cache-dir "$tmp/empty-cache")
readme_exit=$?
say "━━ Exit code: $readme_exit"
if [[ $readme_exit -eq 0 ]]; then
  echo "Zero, with no model calls: nothing the suite watches changed. In CI the status is"
  echo "still posted (success), so a required check never blocks a docs-only pull request."
else
  echo "Expected exit code 0 (nothing relevant changed), got $readme_exit."
fi

if [[ $caught == yes && $readme_exit -eq 0 ]]; then
  say "demo: the gate behaved as expected."
  exit 0
fi
say "demo: the gate did NOT behave as expected (see above)."
exit 1
