# A key for an IAM user.
resource "iamkey_access_key" "ci" {
  user = "deploy-bot"
}

# A key kept out of state in clear: only the encrypted secret is stored.
resource "iamkey_access_key" "encrypted" {
  user    = "deploy-bot"
  status  = "Inactive"
  pgp_key = file("${path.module}/deploy-bot.asc") # gpg --armor --export KEYID
}

output "ci_access_key_id" {
  value = iamkey_access_key.ci.id
}

output "ci_secret" {
  value     = iamkey_access_key.ci.secret
  sensitive = true
}
