# A key that exists only for this run (Terraform 1.10+), and the SES SMTP password
# of its secret for a region other than the provider's. Both are ephemeral: never
# in plan or state, and accepted only where ephemeral values are (provider
# configuration, write-only arguments such as aws_secretsmanager_secret_version's
# secret_string_wo). A key that outlives the run gets its regional passwords from
# the resource's `ses_smtp_regions`, delivered with `secret_destination`.
ephemeral "iamkey_access_key" "smtp" {
  user = "mailer"
}

locals {
  smtp_password_eu_west_1 = provider::iamkey::ses_smtp_password_v4(ephemeral.iamkey_access_key.smtp.secret, "eu-west-1")
}
