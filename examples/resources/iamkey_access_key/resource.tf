# A key for an IAM user, its secret written to Secrets Manager instead of state.
resource "iamkey_access_key" "ci" {
  user = "deploy-bot"

  secret_destination {
    secretsmanager_secret_id = "ci/deploy-bot/access-key"
  }
}

# A key whose secret is stored only encrypted to an OpenPGP key
# (ASCII-armored, from `gpg --armor --export KEYID`).
variable "deploy_bot_pgp_key" {
  type = string
}

resource "iamkey_access_key" "encrypted" {
  user    = "deploy-bot"
  status  = "Inactive"
  pgp_key = var.deploy_bot_pgp_key
}

output "ci_access_key_id" {
  value = iamkey_access_key.ci.id
}

output "ci_secret_version" {
  description = "The Secrets Manager version the secret was written as."
  value       = iamkey_access_key.ci.secret_destination_version
}

output "encrypted_secret" {
  # Decrypt with: terraform output -raw encrypted_secret | base64 --decode | gpg --decrypt
  value = iamkey_access_key.encrypted.encrypted_secret
}
