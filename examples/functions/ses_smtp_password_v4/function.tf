resource "iamkey_access_key" "smtp" {
  user = "mailer"
}

# The SES SMTP password of the key's secret for a region other than the provider's.
output "smtp_password_eu_west_1" {
  value     = provider::iamkey::ses_smtp_password_v4(iamkey_access_key.smtp.secret, "eu-west-1")
  sensitive = true
}
