# Bring every existing key of some IAM users under Terraform, creating and
# changing nothing: the data source lists each user's keys, and one import block
# per key adopts it. IAM never returns a secret again, so adopted keys have none
# in state; rotate them (replace) when the secret must be managed too.
variable "users" {
  description = "IAM users whose keys to adopt."
  type        = set(string)
  default     = ["build-bot", "deploy-bot"]
}

data "iamkey_access_keys" "existing" {
  for_each = var.users
  user     = each.value
}

locals {
  # Access key ID => user, for every key of every user.
  existing_keys = merge([
    for user, listing in data.iamkey_access_keys.existing : {
      for key in listing.access_keys : key.access_key_id => user
    }
  ]...)
}

# USER/ACCESS_KEY_ID saves one IAM call per key. Once applied, these blocks do
# nothing for keys already in state; keep them to adopt keys made later, or remove.
import {
  for_each = local.existing_keys
  to       = iamkey_access_key.adopted[each.key]
  id       = "${each.value}/${each.key}"
}

resource "iamkey_access_key" "adopted" {
  for_each = local.existing_keys
  user     = each.value
}

output "adopted_key_ids" {
  value = keys(iamkey_access_key.adopted)
}
