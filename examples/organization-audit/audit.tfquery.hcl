# `terraform query` (Terraform 1.14 and later): one line per active key of the
# organization, with its account, user, age, last use and findings.
list "iamkey_access_key" "organization" {
  provider = iamkey
  limit    = 10000
  config {
    status = "Active"
    organization {}
  }
}
