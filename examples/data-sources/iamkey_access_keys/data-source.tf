# Every key of a user, with age and last use.
data "iamkey_access_keys" "deploy" {
  user = "deploy-bot"
}

# Only the active keys of the identity that signs the provider's requests.
data "iamkey_access_keys" "mine" {
  status = "Active"
}

# Keys not used for 90 days: candidates for deactivation.
output "stale_keys" {
  value = [
    for k in data.iamkey_access_keys.deploy.access_keys : k.access_key_id
    if k.last_used_date == null ? k.age_days > 90 : timecmp(k.last_used_date, timeadd(plantimestamp(), "-2160h")) < 0
  ]
}
