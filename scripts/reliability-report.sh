#!/usr/bin/env bash
# Runs the reliability suite and writes its measured figures to design/reliability.md.
# The suite itself also runs in the test command (scripts/test.sh); this command
# only publishes what it measured.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh >/dev/null
rm -rf target/reliability
cargo test --locked --features test-hooks --test e2e -- --test-threads=2 reliability:: >&2
cargo test --locked --features test-hooks --test decoder_properties --test protocol -- --test-threads=2 >&2
f=target/reliability
{
  echo "# Reliability figures"
  echo
  echo "Written by \`scripts/reliability-report.sh\` from the tests' own measurements"
  echo "($(date -u +%Y-%m-%d), Terraform 1.15.5, moto 5.2.5, debug build). The suite runs in the"
  echo "test command; a figure below is only written when its assertions passed."
  echo
  echo "## Leak scan"
  echo
  cat "$f/leaks.md"
  echo
  echo "## Fault injection (each class: its own user and fault proxy in front of the emulator)"
  echo
  cat "$f/faults.md"
  echo
  echo "## Lost or failed creates beside existing keys of the same user"
  echo
  echo "A key is adopted only if it was absent from the user's listing taken just before the call,"
  echo "created after the call started, not made by another create of this provider, and the only such key."
  echo
  cat "$f/lost-create.md"
  echo
  echo "## Throttling with the default settings"
  echo
  cat "$f/throttling.md"
  echo
  echo "Also tested: SIGINT to Terraform's process group mid-apply (3 creates in flight: all finish and"
  echo "are recorded in state); the lost-answer, throttling, pagination, propagation and timeout paths"
  echo "of the IAM layer against a scripted endpoint (unit tests in \`src/aws/iam/tests.rs\`)."
  echo
  echo "## Process and transport faults (protocol tests, \`tests/protocol.rs\`)"
  echo
  echo "- a panic after CreateAccessKey: answered with an error and the created key's state; the server keeps serving"
  echo "- a panicking handler: answered twice, payload not shown, server still serving"
  echo "- StopProvider during a read in flight: the read is cancelled within 2 s, prior state kept, server keeps serving"
  echo "- Shutdown with a call in flight: the process exits within 2 s; Shutdown when idle removes the socket"
  echo "- refused: no magic cookie (exit 1, nothing on stdout), no protocol 6, no client certificate, another"
  echo "  certificate, plaintext, TLS 1.1"
  echo
  echo "## Bad input"
  echo
  echo "- 51 user-name cases (lengths 0/1/64/65/128/129, non-ASCII letters, control characters, each allowed and"
  echo "  many forbidden punctuation marks) and 7 status cases decided by validation (unit tests); six of them"
  echo "  end to end, rejected at plan on the attribute with the endpoints on a closed port (0 IAM calls)"
  for file in "$f"/fuzz-*.md; do
    echo "- $(cat "$file")"
  done
} > design/reliability.md
echo "wrote design/reliability.md"
