# keys.tfquery.hcl: run `terraform query`, or `terraform query -generate-config-out=keys.tf`
# to write resource and import blocks (without secrets) for what it finds.

# Active keys of one user not used for 90 days.
list "iamkey_access_key" "stale" {
  provider         = iamkey
  include_resource = true
  config {
    user            = "deploy-bot"
    status          = "Active"
    unused_for_days = 90
  }
}

# Every key in the account older than a year (ListUsers, then each user's keys).
list "iamkey_access_key" "old" {
  provider = iamkey
  limit    = 1000
  config {
    older_than_days = 365
  }
}
