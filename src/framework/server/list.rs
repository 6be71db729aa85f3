//! ListResource (`terraform query`).
//!
//! Rules: the list configuration is validated first; at most `limit` objects come
//! back (0: no limit); every object comes with its complete identity, and with
//! its state only when Terraform asks for it.

use super::{decode_valid, identity_of, resource, state_type, unknown_type, Encoded, Typed};
use crate::framework::{OpContext, Provider};
use crate::value::summary;
use crate::value::Diagnostics;

pub struct ListRequest<'r> {
    pub type_name: &'r str,
    pub config: &'r dyn Encoded,
    /// At most this many objects; 0 or less: no limit.
    pub limit: i64,
    pub include_resource_object: bool,
}

pub struct ListedObject<'a> {
    pub display_name: String,
    pub identity: Typed<'a>,
    pub state: Option<Typed<'a>>,
}

/// The objects found, and the warnings of a listing that succeeded (parts of it
/// that could not be listed, say).
pub async fn list_resource<'a>(
    ctx: &OpContext,
    provider: &'a dyn Provider,
    request: ListRequest<'_>,
) -> Result<(Vec<ListedObject<'a>>, Diagnostics), Diagnostics> {
    let lister = provider.list_resource(request.type_name).ok_or_else(|| unknown_type("list resource", request.type_name))?;
    let resource = resource(provider, request.type_name)?;
    let config = decode_valid(request.config, lister.schema(), "list configuration")?;
    let limit = usize::try_from(request.limit).ok().filter(|l| *l > 0).unwrap_or(usize::MAX);
    let mut objects = Vec::new();
    for listed in lister.list(ctx, &config).await?.into_iter().take(limit) {
        let identity = match listed.identity {
            Some(value) => resource.identity_schema().map(|schema| Typed { value, ty: schema.value_type() }),
            None => identity_of(resource, &listed.state),
        };
        let Some(identity) = identity else {
            let detail = format!("{} has no complete identity (is the provider's account known?).", listed.display_name);
            return Err(Diagnostics::error(summary::LISTED_OBJECT_WITHOUT_IDENTITY, detail));
        };
        let state = request.include_resource_object.then(|| Typed { value: listed.state, ty: state_type(resource) });
        objects.push(ListedObject { display_name: listed.display_name, identity, state });
    }
    Ok((objects, ctx.warnings.take()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::server::testing::Notes;
    use crate::value::Value;

    #[tokio::test]
    async fn limits_identities_and_objects() {
        let provider = Notes::provider();
        provider.notes.store.lock().unwrap().extend([("n1".to_string(), "a".to_string()), ("n2".into(), "b".into()), ("n3".into(), "c".into())]);
        let ctx = OpContext::default();
        let config = Value::object([("prefix", Value::Null)]);
        let list = |limit, include_resource_object| {
            let (ctx, provider, config) = (&ctx, &provider, &config);
            async move { list_resource(ctx, provider, ListRequest { type_name: "notes_note", config, limit, include_resource_object }).await.unwrap().0 }
        };
        let all = list(0, false).await;
        assert_eq!(all.iter().map(|o| o.identity.value.get("id").as_str().unwrap()).collect::<Vec<_>>(), ["n1", "n2", "n3"]);
        assert!(all.iter().all(|o| o.state.is_none()), "no object unless asked for");
        let two = list(2, true).await;
        assert_eq!(two.len(), 2);
        assert_eq!(two[1].state.as_ref().unwrap().value.get("text"), &Value::string("b"));
    }

    #[tokio::test]
    async fn an_object_without_identity_stops_the_listing() {
        let provider = Notes::provider();
        provider.notes.store.lock().unwrap().insert("n1".into(), "a".into());
        *provider.notes.quirk.lock().unwrap() = crate::framework::server::testing::Quirk::IncompleteIdentity;
        let request = ListRequest { type_name: "notes_note", config: &Value::object([("prefix", Value::Null)]), limit: 0, include_resource_object: false };
        let refused = list_resource(&OpContext::default(), &provider, request).await.err().unwrap();
        assert_eq!(refused.first().unwrap().summary, "Listed object without identity");
    }
}
