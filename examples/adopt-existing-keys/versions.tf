terraform {
  required_version = ">= 1.7" # for_each in import blocks
  required_providers {
    iamkey = {
      source  = "iamkey/iamkey"
      version = "~> 0.1"
    }
  }
}

provider "iamkey" {
  region = "us-east-1"
}
