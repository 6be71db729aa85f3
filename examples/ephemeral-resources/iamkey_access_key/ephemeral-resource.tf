# A key that exists only while this run needs it: deleted when the run ends,
# its secret never written to state or plan.
ephemeral "iamkey_access_key" "deployer" {
  user = "deploy-bot"
}

# Here it configures another provider for the run.
provider "iamkey" {
  alias      = "as_deployer"
  access_key = ephemeral.iamkey_access_key.deployer.id
  secret_key = ephemeral.iamkey_access_key.deployer.secret
}

data "iamkey_access_keys" "deployer_sees" {
  provider = iamkey.as_deployer
}
