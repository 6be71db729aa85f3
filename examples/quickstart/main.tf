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

resource "iamkey_access_key" "example" {
  user = var.user
}

output "access_key_id" {
  value = iamkey_access_key.example.id
}

output "secret" {
  value     = iamkey_access_key.example.secret
  sensitive = true
}
