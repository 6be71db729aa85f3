# Terraform 1.6 and later: adopt an existing key with an import block. The ID is
# the access key ID, or USER/ACCESS_KEY_ID (which saves one IAM call).
import {
  to = iamkey_access_key.adopted
  id = "deploy-bot/AKIAIOSFODNN7EXAMPLE"
}

resource "iamkey_access_key" "adopted" {
  user = "deploy-bot"
}
