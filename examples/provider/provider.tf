terraform {
  required_providers {
    iamkey = {
      source  = "iamkey/iamkey"
      version = "~> 0.1"
    }
  }
}

# Credentials and region come from the usual AWS sources (environment, profiles,
# SSO, instance metadata) unless set here.
provider "iamkey" {
  region = "us-east-1"
}
