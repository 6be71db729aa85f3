# Every access key in every account of the AWS Organization, with the controls
# each one fails. Run with the management account's credentials (or a delegated
# administrator's) allowed examples/iam-policies/organization-audit.json; the
# OrganizationAccountAccessRole of each member account needs
# examples/iam-policies/organization-audit-member.json.

data "iamkey_access_keys" "organization" {
  organization {}

  # An audit that could not read every account stops the plan.
  lifecycle {
    postcondition {
      condition     = length(self.failed_accounts) == 0
      error_message = "Accounts not read: ${join(", ", [for a in self.failed_accounts : "${a.account_id} (${a.reason})"])}"
    }
  }
}

locals {
  # One line per key and control it fails, and one per account whose root user
  # holds a key (IAM.4: a role cannot list the root user's keys, only learn of them).
  findings = concat(
    flatten([
      for key in data.iamkey_access_keys.organization.access_keys : [
        for finding in key.findings : "${key.account_id} ${key.user} ${key.access_key_id} ${finding.control}: ${finding.reason}"
      ]
    ]),
    [for account in data.iamkey_access_keys.organization.accounts_with_root_keys : "${account} root IAM.4: the root user holds an access key"],
  )
}

# A warning on every plan and apply while a key fails a control.
check "access_key_controls" {
  assert {
    condition     = length(local.findings) == 0
    error_message = "Access keys failing controls:\n${join("\n", local.findings)}"
  }
}

output "findings" {
  value = local.findings
}
