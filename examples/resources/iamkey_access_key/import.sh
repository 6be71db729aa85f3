# By access key ID (the user is looked up with GetAccessKeyLastUsed):
terraform import iamkey_access_key.ci AKIAIOSFODNN7EXAMPLE

# By user and access key ID:
terraform import iamkey_access_key.ci deploy-bot/AKIAIOSFODNN7EXAMPLE
