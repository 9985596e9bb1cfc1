#!/usr/bin/env bash
# The two test passes of `npm test`, run side by side: every test file on SQLite, and the
# conformance and crash suites again on PostgreSQL (KHEISH_TEST_STORE=postgres). Most of a test's
# time is spent waiting on daemons, fsync and sockets rather than on the CPU, so running the passes
# at once shortens CI by about the PostgreSQL pass's length (docs/decisions.md, "CI budget").
# Each pass writes to its own log, printed whole when both are done, so the output reads as if the
# passes had run one after the other; the exit status fails when either pass failed.
set -u
cd "$(dirname "$0")/.."
logs=$(mktemp -d)
trap 'kill $sqlite $postgres $progress 2>/dev/null; rm -rf "$logs"' EXIT
node --test --test-concurrency=2 --test-timeout=300000 "test/**/*.test.ts" >"$logs/sqlite.log" 2>&1 &
sqlite=$!
KHEISH_TEST_STORE=postgres node --test --test-concurrency=2 --test-timeout=300000 \
  "test/conformance/**/*.test.ts" "test/crash/**/*.test.ts" >"$logs/postgres.log" 2>&1 &
postgres=$!
echo "test passes started: SQLite (pid $sqlite) and PostgreSQL (pid $postgres); their output follows when both end" >&2
# Progress once a minute: finished top-level tests so far in each pass.
(
  while sleep 60; do
    done_in() { grep -cE '^(✔|✖) ' "$1" 2>/dev/null || true; }
    echo "… $(done_in "$logs/sqlite.log") SQLite and $(done_in "$logs/postgres.log") PostgreSQL tests finished" >&2
  done
) &
progress=$!
wait "$sqlite"
sqlite_status=$?
wait "$postgres"
postgres_status=$?
kill "$progress" 2>/dev/null
echo "== SQLite pass (exit $sqlite_status) =="
cat "$logs/sqlite.log"
echo "== PostgreSQL pass (exit $postgres_status) =="
cat "$logs/postgres.log"
[ "$sqlite_status" -eq 0 ] && [ "$postgres_status" -eq 0 ]
