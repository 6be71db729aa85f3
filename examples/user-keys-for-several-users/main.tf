# The root configuration: the user_keys module (examples/modules/user_keys) called
# for several users.
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

module "ci_keys" {
  source = "../modules/user_keys"
  users  = ["build-bot", "deploy-bot"]
}

output "access_key_ids" {
  value = module.ci_keys.access_key_ids
}

# Where each secret is: consumers read it from Secrets Manager, not from this state.
output "secret_ids" {
  value = module.ci_keys.secret_ids
}
