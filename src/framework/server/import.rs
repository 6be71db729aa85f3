//! ImportResourceState and GenerateResourceConfig.
//!
//! Rules: an import by identity goes to the resource's identity import when the
//! type has an identity, else the string ID is used; the imported object's
//! identity comes back with it. Generated configuration holds only configurable
//! attributes, never a computed one (so never a secret).

use super::{decode, identity_of, resource, state_type, Encoded, Typed};
use crate::framework::{OpContext, Provider};
use crate::value::Diagnostics;

pub struct Imported<'a> {
    pub state: Typed<'a>,
    pub identity: Option<Typed<'a>>,
}

pub async fn import_resource_state<'a>(
    ctx: &OpContext,
    provider: &'a dyn Provider,
    type_name: &str,
    id: &str,
    identity: Option<&dyn Encoded>,
) -> Result<Imported<'a>, Diagnostics> {
    let resource = resource(provider, type_name)?;
    let state = match (identity, resource.identity_schema()) {
        (Some(identity), Some(schema)) => {
            let identity = decode(identity, schema.value_type(), "identity")?;
            resource.import_by_identity(ctx, &identity).await?
        }
        _ => resource.import(ctx, id).await?,
    };
    let identity = identity_of(resource, &state);
    Ok(Imported { state: Typed { value: state, ty: state_type(resource) }, identity })
}

pub fn generate_resource_config<'a>(provider: &'a dyn Provider, type_name: &str, state: &dyn Encoded) -> Result<Typed<'a>, Diagnostics> {
    let resource = resource(provider, type_name)?;
    let ty = state_type(resource);
    let state = decode(state, ty, "state")?;
    Ok(Typed { value: resource.generate_config(&state), ty })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::server::testing::Notes;
    use crate::value::Value;

    #[tokio::test]
    async fn import_by_id_and_by_identity_give_the_same_stub_and_identity() {
        let provider = Notes::provider();
        let ctx = OpContext::default();
        let by_id = import_resource_state(&ctx, &provider, "notes_note", "n3", None).await.unwrap();
        let identity = Value::object([("id", Value::string("n3"))]);
        let by_identity = import_resource_state(&ctx, &provider, "notes_note", "", Some(&identity)).await.unwrap();
        assert_eq!(by_id.state.value, by_identity.state.value);
        assert_eq!(by_id.state.value.get("id"), &Value::string("n3"));
        assert_eq!(by_identity.identity.unwrap().value, identity);
        let unknown = import_resource_state(&ctx, &provider, "notes_x", "n3", None).await.err().unwrap();
        assert_eq!(unknown.first().unwrap().summary, "Unknown resource type");
    }

    #[test]
    fn generated_configuration_has_no_computed_attribute() {
        let provider = Notes::provider();
        let state = Value::object([("id", Value::string("n1")), ("text", Value::string("a")), ("kind", Value::string("memo"))]);
        let config = generate_resource_config(&provider, "notes_note", &state).unwrap().value;
        assert_eq!(config.get("id"), &Value::Null);
        assert_eq!((config.get("text"), config.get("kind")), (&Value::string("a"), &Value::string("memo")));
    }
}
