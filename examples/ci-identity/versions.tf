terraform {
  required_version = ">= 1.6"
  required_providers {
    iamkey = {
      source  = "iamkey/iamkey"
      version = "~> 0.1"
    }
  }
}

# Terraform runs as an identity with terraform-runner-policy.json attached: it may
# manage this one user's keys and write this one secret, nothing else.
provider "iamkey" {
  region = "us-east-1"
}
