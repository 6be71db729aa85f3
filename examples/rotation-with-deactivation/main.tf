# Rotation that never leaves two Active keys longer than the apply: each new key
# (the first, and every rotation's) triggers the deactivation of the user's other
# keys. With create_before_destroy the old key is then deleted by the same apply;
# a key made outside Terraform is left Inactive, not deleted. Terraform 1.14+.
terraform {
  required_providers {
    iamkey = {
      source  = "iamkey/iamkey"
      version = "~> 0.1"
    }
  }
}

provider "iamkey" {
  region = "us-east-1"
}

resource "iamkey_access_key" "ci" {
  user = "deploy-bot"

  secret_destination {
    secretsmanager_secret_id = "ci/deploy-bot/access-key"
  }

  rotation {
    after_days = 30
  }

  lifecycle {
    create_before_destroy = true
    action_trigger {
      events  = [after_create]
      actions = [action.iamkey_deactivate_keys.all_but_the_new_one]
    }
  }
}

action "iamkey_deactivate_keys" "all_but_the_new_one" {
  config {
    user            = "deploy-bot"
    older_than_days = 0
    exclude         = [iamkey_access_key.ci.id]
  }
}
