# A key for an IAM user.
resource "iamkey_access_key" "ci" {
  user = "deploy-bot"
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

output "ci_secret" {
  value     = iamkey_access_key.ci.secret
  sensitive = true
}

output "encrypted_secret" {
  # Decrypt with: terraform output -raw encrypted_secret | base64 --decode | gpg --decrypt
  value = iamkey_access_key.encrypted.encrypted_secret
}
