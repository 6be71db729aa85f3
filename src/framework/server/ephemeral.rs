//! OpenEphemeralResource, RenewEphemeralResource, CloseEphemeralResource.
//!
//! Rules: Open decodes the configuration and returns the result with the private
//! data Terraform hands back to Close; nothing this framework serves needs
//! renewing within a run, so Renew only checks the type.

use super::{decode, unknown_type, Encoded, Typed};
use crate::framework::{EphemeralResource, OpContext, Provider};
use crate::value::Diagnostics;

pub struct OpenedResult<'a> {
    pub result: Typed<'a>,
    pub private: Vec<u8>,
}

pub async fn open<'a>(ctx: &OpContext, provider: &'a dyn Provider, type_name: &str, config: &dyn Encoded) -> Result<OpenedResult<'a>, Diagnostics> {
    let ephemeral = ephemeral(provider, type_name)?;
    let ty = ephemeral.schema().value_type();
    let config = decode(config, ty, "configuration")?;
    let opened = ephemeral.open(ctx, &config).await?;
    Ok(OpenedResult { result: Typed { value: opened.result, ty }, private: opened.private })
}

pub fn renew(provider: &dyn Provider, type_name: &str) -> Diagnostics {
    ephemeral(provider, type_name).err().unwrap_or_default()
}

pub async fn close(ctx: &OpContext, provider: &dyn Provider, type_name: &str, private: &[u8]) -> Diagnostics {
    match ephemeral(provider, type_name) {
        Ok(ephemeral) => ephemeral.close(ctx, private).await,
        Err(diags) => diags,
    }
}

fn ephemeral<'a>(provider: &'a dyn Provider, type_name: &str) -> Result<&'a dyn EphemeralResource, Diagnostics> {
    provider.ephemeral_resource(type_name).map(|e| e.as_ref()).ok_or_else(|| unknown_type("ephemeral resource", type_name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::server::testing::{config, Notes};
    use crate::value::Value;

    #[tokio::test]
    async fn open_hands_private_data_to_close() {
        let provider = Notes::provider();
        let ctx = OpContext::default();
        let opened = open(&ctx, &provider, "notes_note", &config("hi")).await.unwrap();
        assert_eq!(opened.result.value.get("text"), &Value::string("hi"));
        assert!(close(&ctx, &provider, "notes_note", &opened.private).await.is_empty());
        assert!(close(&ctx, &provider, "notes_note", b"").await.has_errors());
        assert!(renew(&provider, "notes_note").is_empty());
        assert_eq!(renew(&provider, "notes_x").first().unwrap().summary, "Unknown ephemeral resource type");
    }
}
