# Terraform 1.12 and later: name the key by its identity. `user` and
# `account_id` may be left out; `account_id` must match the provider's account.
import {
  to = iamkey_access_key.adopted_by_identity
  identity = {
    user          = "deploy-bot"
    access_key_id = "AKIAIOSFODNN7EXAMPLE"
  }
}

resource "iamkey_access_key" "adopted_by_identity" {
  user = "deploy-bot"
}
