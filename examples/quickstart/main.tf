# Quick start: one access key for an IAM user, against the local IAM emulator
# that scripts/quickstart.sh starts (the endpoints come from AWS_ENDPOINT_URL).
terraform {
  required_providers {
    iamkey = {
      source  = "iamkey/iamkey"
      version = "~> 0.1"
    }
  }
}

provider "iamkey" {}

variable "user" {
  type    = string
  default = "quickstart-user"
}

# The secret goes to an SSM SecureString parameter, never to Terraform state.
resource "iamkey_access_key" "example" {
  user = var.user

  secret_destination {
    ssm_parameter_name = "/quickstart/${var.user}/access-key"
  }
}

output "access_key_id" {
  value = iamkey_access_key.example.id
}

output "secret_parameter" {
  description = "The SSM parameter that holds the secret (JSON with access_key_id and secret_access_key)."
  value       = iamkey_access_key.example.secret_destination.ssm_parameter_name
}
