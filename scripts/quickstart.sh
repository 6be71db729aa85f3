#!/usr/bin/env bash
# The one-command quick start, on a fresh machine with no AWS account: build the
# provider, package it into a local filesystem mirror, start the IAM emulator on
# 127.0.0.1, then terraform init / apply / show / destroy examples/quickstart.
# IAMKEY_BUILD_PROFILE=debug reuses the debug build (the test suite runs it so).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

step() { printf '\n==> %s\n' "$*"; }

step "1/6 set-up (Python venv with Terraform 1.15.5 and the moto IAM emulator)"
./scripts/setup.sh >/dev/null
terraform="${IAMKEY_TF_CLI:-$root/.tools/bin/terraform}"

work=$(mktemp -d)
trap 'kill "${moto_pid:-}" 2>/dev/null || true; rm -rf "$work"' EXIT
step "2/6 building the provider and packaging it into a filesystem mirror ($work/dist/mirror)"
./scripts/package.sh "$work/dist" >/dev/null
cat > "$work/terraform.rc" <<RC
provider_installation {
  filesystem_mirror {
    path    = "$work/dist/mirror"
    include = ["registry.terraform.io/iamkey/iamkey"]
  }
  direct {
    exclude = ["registry.terraform.io/iamkey/iamkey"]
  }
}
RC
ls "$work/dist"

step "3/6 starting the IAM emulator on 127.0.0.1"
port=$(.venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
.venv/bin/moto_server -H 127.0.0.1 -p "$port" >"$work/moto.log" 2>&1 &
moto_pid=$!
export AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
export AWS_REGION=us-east-1 AWS_ENDPOINT_URL="http://127.0.0.1:$port" AWS_EC2_METADATA_DISABLED=true
export TF_CLI_CONFIG_FILE="$work/terraform.rc" CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1
.venv/bin/python - <<PY
import time, boto3, botocore
iam = boto3.client("iam", endpoint_url="$AWS_ENDPOINT_URL", region_name="us-east-1")
for _ in range(100):
    try:
        iam.create_user(UserName="quickstart-user"); break
    except botocore.exceptions.EndpointConnectionError:
        time.sleep(0.1)
print("emulator ready; created IAM user quickstart-user")
PY

cp examples/quickstart/main.tf "$work/"
cd "$work"
step "4/6 terraform init and apply"
"$terraform" init -input=false -no-color | grep -E "Installing|Installed|successfully"
"$terraform" apply -auto-approve -input=false -no-color | tail -n 6

step "5/6 what was created (the secret is in the SSM parameter, not in state)"
"$terraform" output -no-color
"$terraform" state show -no-color iamkey_access_key.example

step "6/6 destroy, and stop the emulator"
"$terraform" destroy -auto-approve -input=false -no-color | tail -n 1
echo
echo "Quick start complete."
