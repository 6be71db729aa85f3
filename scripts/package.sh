#!/usr/bin/env bash
# Builds release artifacts in the Terraform Registry format and lays them out as a
# packed filesystem mirror:
#   DIST/terraform-provider-iamkey_<version>_<os>_<arch>.zip
#   DIST/terraform-provider-iamkey_<version>_SHA256SUMS
#   DIST/terraform-provider-iamkey_<version>_SHA256SUMS.sig  (with IAMKEY_SIGNING_KEY: a
#       detached binary OpenPGP signature by that key, which the registry checks)
#   DIST/terraform-provider-iamkey_<version>_manifest.json   ({"protocol_versions":["6.0"]})
#   DIST/mirror/registry.terraform.io/iamkey/iamkey/<the zip>   (for terraform)
#   DIST/mirror/registry.opentofu.org/iamkey/iamkey/<the zip>   (for tofu, which resolves
#       iamkey/iamkey to its own registry's host)
# Only the host platform is built: a release for several platforms runs this on each
# (or cross-compiles) into the same DIST and signs the combined SHA256SUMS once.
# Usage: scripts/package.sh [DIST]   (default dist/; IAMKEY_BUILD_PROFILE=debug packages
# the debug build with the test hooks, which the test suite uses to stay fast; a
# release binary is refused if it carries any test hook)
# IAMKEY_SIGNING_KEY: fingerprint of the release signing key in gpg's keyring
# (GNUPGHOME). Without it the checksums are not signed: fine for a filesystem mirror,
# refused by a registry.
set -euo pipefail
cd "$(dirname "$0")/.."
dist=$(realpath -m "${1:-dist}")
profile="${IAMKEY_BUILD_PROFILE:-release}"

if [ "$profile" = release ]; then
  cargo build --release --locked --quiet
else
  # The test suite's build: the same features as its other tests use.
  cargo build --locked --quiet --features test-hooks
fi
binary="target/$profile/terraform-provider-iamkey"
if [ "$profile" = release ]; then
  scripts/check-no-test-hooks.sh "$binary" >&2
fi
version=$("$binary" --version | awk '{print $2}')
os=$(uname -s | tr '[:upper:]' '[:lower:]')
case "$(uname -m)" in x86_64) arch=amd64;; aarch64|arm64) arch=arm64;; *) arch=$(uname -m);; esac
name="terraform-provider-iamkey_${version}"
zip="${name}_${os}_${arch}.zip"

mkdir -p "$dist"
python3 - "$binary" "$dist/$zip" "terraform-provider-iamkey_v${version}" <<'PY'
import sys, zipfile
binary, target, member = sys.argv[1:]
info = zipfile.ZipInfo(member, date_time=(2020, 1, 1, 0, 0, 0))
info.external_attr = 0o755 << 16
info.compress_type = zipfile.ZIP_DEFLATED
with zipfile.ZipFile(target, "w") as z, open(binary, "rb") as f:
    z.writestr(info, f.read())
PY
cp terraform-registry-manifest.json "$dist/${name}_manifest.json"
# Every platform packaged into DIST so far (a multi-platform release fills one DIST).
(cd "$dist" && sha256sum "${name}"_*.zip "${name}_manifest.json" > "${name}_SHA256SUMS")
if [ -n "${IAMKEY_SIGNING_KEY:-}" ]; then
  gpg --batch --yes --local-user "$IAMKEY_SIGNING_KEY" --output "$dist/${name}_SHA256SUMS.sig" \
    --detach-sign "$dist/${name}_SHA256SUMS"
  gpg --batch --verify "$dist/${name}_SHA256SUMS.sig" "$dist/${name}_SHA256SUMS" 2>/dev/null \
    || { echo "the new signature does not verify with $IAMKEY_SIGNING_KEY" >&2; exit 1; }
else
  echo "note: ${name}_SHA256SUMS is not signed (set IAMKEY_SIGNING_KEY to sign a release for a registry)" >&2
fi
for registry in registry.terraform.io registry.opentofu.org; do
  mkdir -p "$dist/mirror/$registry/iamkey/iamkey"
  cp "$dist/$zip" "$dist/mirror/$registry/iamkey/iamkey/"
done
echo "$dist/$zip"
