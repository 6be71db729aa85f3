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
  # One line per key and control it fails.
  findings = flatten([
    for key in data.iamkey_access_keys.organization.access_keys : [
      for finding in key.findings : "${key.account_id} ${key.user} ${key.access_key_id} ${finding.control}: ${finding.reason}"
    ]
  ])
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
