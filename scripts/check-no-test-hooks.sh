#!/usr/bin/env bash
# Fails when the given provider binary carries any test hook: a fail point or the
# movable clock (their environment variables) or a gRPC test client (tonic's
# client-only message). package.sh runs it on every release binary; the test
# suite runs it on its own build, which has the hooks, to prove it finds them.
# Usage: scripts/check-no-test-hooks.sh BINARY
set -euo pipefail
binary="$1"
markers=(IAMKEY_TEST_PANIC_AT IAMKEY_TEST_FAIL_AT IAMKEY_TEST_DAYS_AHEAD "Service was not ready")
found=()
for marker in "${markers[@]}"; do
  if grep -q -a -F -- "$marker" "$binary"; then
    found+=("$marker")
  fi
done
if [ "${#found[@]}" -gt 0 ]; then
  printf 'test hooks in %s: %s\n' "$binary" "$(IFS=,; echo "${found[*]}")" >&2
  exit 1
fi
echo "no test hooks in $binary"
