#!/usr/bin/env bash
# Regenerate the committed reference runs and their report:
#
#   reports/make_reference.sh            (LIMIT=5 by default: LIMIT=20 reports/make_reference.sh)
#
# The bundled SmolLM2-135M-Instruct on the dev suite and the unseen suite (each when it has
# tasks with data), the first $LIMIT instances of each task, twice: with its chat template (the
# default) and without (--no-chat-template), so the report has two real runs to compare; a
# model's dev and unseen runs share one leaderboard row. Needs the benchmark data
# ($TULU_EVAL_DATA); generations are cached, so a rerun is quick. The new runs are built
# beside the old ones and swapped in only when all of them succeeded.
set -euo pipefail
cd "$(dirname "$0")/.."
LIMIT="${LIMIT:-5}"
OUT=reports/reference
NEW="$OUT/.new"
rm -rf "$NEW" && mkdir -p "$NEW"
for suite in dev unseen; do
  if ! tulu-eval tasks --suite "$suite" | grep ' found$' >/dev/null; then
    echo "no $suite task has its data yet: skipping the $suite suite"
    continue
  fi
  tulu-eval run --suite "$suite" --limit "$LIMIT" --no-report -o "$NEW/smollm2-chat-$suite"
  tulu-eval run --suite "$suite" --limit "$LIMIT" --no-report --no-chat-template -o "$NEW/smollm2-plain-$suite"
done
rm -rf "$OUT"/smollm2-* && mv "$NEW"/smollm2-* "$OUT"/ && rmdir "$NEW"
tulu-eval report "$OUT"/smollm2-*/ -o "$OUT/report.html" --title "Reference: bundled SmolLM2-135M-Instruct, --limit $LIMIT"
