//! ConfigureProvider. Rule: the configuration is decoded with the provider's
//! schema, validated again (nothing relies on Terraform having called
//! ValidateProviderConfig), and only then handed to the provider, which builds
//! what its resources use.

use super::{decode, Encoded};
use crate::framework::{OpContext, Provider};
use crate::value::Diagnostics;

pub async fn configure_provider(ctx: &OpContext, provider: &dyn Provider, config: &dyn Encoded, terraform_version: &str) -> Diagnostics {
    match decode(config, provider.schema().value_type(), "provider configuration") {
        Ok(config) => {
            let checked = super::validate::provider_value(provider, &config);
            // Its warnings were shown at validation already; its errors stop here.
            match checked.has_errors() {
                true => checked,
                false => provider.configure(ctx, &config, terraform_version).await,
            }
        }
        Err(diags) => diags,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::server::testing::{Notes, Undecodable};
    use crate::value::Value;

    #[tokio::test]
    async fn the_provider_sees_the_decoded_configuration_and_terraform_version() {
        let provider = Notes::provider();
        let ctx = OpContext::default();
        assert!(configure_provider(&ctx, &provider, &Value::object([]), "1.15.5").await.is_empty());
        let summaries = |d: Diagnostics| d.iter().map(|d| d.summary.clone()).collect::<Vec<_>>();
        assert_eq!(summaries(configure_provider(&ctx, &provider, &Value::object([]), "").await), ["No Terraform version"]);
        assert_eq!(summaries(configure_provider(&ctx, &provider, &Undecodable, "1.15.5").await), ["Invalid value from Terraform"]);
    }
}
