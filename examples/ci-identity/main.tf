# A CI system's AWS identity: an IAM user whose access key rotates every 30 days
# with no downtime, and whose secret goes straight to Secrets Manager, never into
# Terraform's state. The CI system reads the secret from Secrets Manager at the
# start of each job, so it always holds the live key.
variable "user" {
  description = "The CI system's IAM user (created elsewhere, with its own policies)."
  type        = string
  default     = "ci-deployer"
}

resource "iamkey_access_key" "ci" {
  user        = var.user
  description = "Deploy key for the CI system - rotated every 30 days by Terraform"

  # The first plan after the key is 30 days old replaces it.
  rotation {
    after_days = 30
  }

  # A JSON document with access_key_id and secret_access_key; each rotation writes
  # a new version. State keeps only the version ID.
  secret_destination {
    secretsmanager_secret_id = "ci/${var.user}/aws-access-key"
  }

  # Zero downtime: the new key is created (and written to the secret) before the
  # old one is deleted. The user holds two keys for a moment: IAM's limit, so the
  # user must have no other key.
  lifecycle {
    create_before_destroy = true
  }
}

output "access_key_id" {
  description = "The live key's ID (the secret is only in Secrets Manager)."
  value       = iamkey_access_key.ci.id
}

output "rotates_after" {
  description = "When the next plan will replace the key."
  value       = timeadd(iamkey_access_key.ci.create_date, "720h")
}
