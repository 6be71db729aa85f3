# A reusable module (called by examples/user-keys-for-several-users): one access
# key for each user in a list.
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

resource "iamkey_access_key" "this" {
  for_each = var.users
  user     = each.value
}

output "access_key_ids" {
  description = "Access key ID per user."
  value       = { for user, key in iamkey_access_key.this : user => key.id }
}

output "secrets" {
  description = "Secret access key per user."
  value       = { for user, key in iamkey_access_key.this : user => key.secret }
  sensitive   = true
}
