# Turn off deploy-bot's keys unused for 90 days, except the break-glass key.
#   terraform plan  -invoke=action.iamkey_deactivate_keys.stale   (which keys; changes nothing)
#   terraform apply -invoke=action.iamkey_deactivate_keys.stale   (deactivates them; deletes none)
action "iamkey_deactivate_keys" "stale" {
  config {
    user            = "deploy-bot"
    unused_for_days = 90
    exclude         = ["AKIAIOSFODNN7EXAMPLE"]
  }
}
