# A key leaked: report where it was last used, deactivate it, and attach
# AWSCompromisedKeyQuarantineV3 to its user. Safe to invoke again.
#   terraform apply -invoke=action.iamkey_quarantine_key.leaked
action "iamkey_quarantine_key" "leaked" {
  config {
    access_key_id = "AKIAIOSFODNN7EXAMPLE"
    # user   = "deploy-bot" # found from the key when omitted
    # delete = true         # delete it too (keep it Inactive to investigate first)
  }
}
