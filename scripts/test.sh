#!/usr/bin/env bash
# The whole test suite: set-up (idempotent), format, lint, dependency and docs checks, then unit,
# protocol and end-to-end tests (real Terraform against the built provider and the
# IAM emulator on 127.0.0.1). End-to-end tests fail, never skip, when something is
# missing.
set -euo pipefail
cd "$(dirname "$0")/.."
# Each step prints the seconds since the start, so a slow run shows which step it was.
step() { printf '\n==> [%ss] %s\n' "$SECONDS" "$*"; }

./scripts/setup.sh
command -v gpg >/dev/null || { echo "the test suite needs gpg (Debian: apt-get install gnupg)" >&2; exit 1; }
# The compatibility test also runs a real Go build of the CLI from PATH (tests/e2e/compat.rs).
command -v terraform >/dev/null || command -v tofu >/dev/null \
  || { echo "the test suite needs terraform or tofu on PATH (a release binary of either)" >&2; exit 1; }
step "building"
cargo build --locked --features test-hooks
step "checking formatting and lints"
cargo fmt --check
cargo clippy --locked --all-targets --features test-hooks -- -D warnings
cargo clippy --locked -- -D warnings
step "checking the dependencies' licenses and sources"
python3 scripts/check-dependencies.py --self-test
python3 scripts/check-dependencies.py
step "checking that docs/ matches the schema and the registry's rules"
./target/debug/iamkey-docs --check
step "running the tests (unit, protocol, end-to-end)"
cargo test --locked --features test-hooks -- --test-threads=2
step "done"
