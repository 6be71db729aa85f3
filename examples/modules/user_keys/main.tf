# A reusable module (called by examples/user-keys-for-several-users): one access
# key for each user in a list, its secret written to a Secrets Manager secret per
# user (never to state). The module returns where each secret went, not the secret.
terraform {
  required_providers {
    iamkey = {
      source  = "iamkey/iamkey"
      version = "~> 0.1"
    }
  }
}

variable "users" {
  description = "IAM user names that each get one access key."
  type        = set(string)
}

variable "secret_prefix" {
  description = "Each user's secret is written to the Secrets Manager secret PREFIX/USER."
  type        = string
  default     = "iam-keys"
}

resource "iamkey_access_key" "this" {
  for_each = var.users
  user     = each.value

  secret_destination {
    secretsmanager_secret_id = "${var.secret_prefix}/${each.value}"
  }
}

output "access_key_ids" {
  description = "Access key ID per user."
  value       = { for user, key in iamkey_access_key.this : user => key.id }
}

output "secret_ids" {
  description = "The Secrets Manager secret holding each user's key (JSON with access_key_id and secret_access_key)."
  value       = { for user, key in iamkey_access_key.this : user => key.secret_destination.secretsmanager_secret_id }
}
