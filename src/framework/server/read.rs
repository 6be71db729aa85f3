//! ReadResource and ReadDataSource.
//!
//! Rules: a null state reads as null; an object that is gone reads as null (and
//! has no identity); a failed read keeps the state and identity Terraform holds;
//! an identity that is not complete yet (the account unknown) keeps the one
//! Terraform holds; warnings of a successful read come back with it.

use super::{decode, decode_valid, identity_of, resource, state_type, Encoded, IdentityChange, Typed};
use crate::framework::{OpContext, Provider, FAILED_CREATE_PRIVATE};
use crate::value::{Diagnostics, Value};

pub struct ReadResponse<'a> {
    /// The refreshed state; `None` keeps the state Terraform sent.
    pub new_state: Option<Typed<'a>>,
    pub identity: IdentityChange<'a>,
    pub diagnostics: Diagnostics,
}

pub async fn read_resource<'a>(ctx: &OpContext, provider: &'a dyn Provider, type_name: &str, current: &dyn Encoded, private: &[u8]) -> ReadResponse<'a> {
    match refreshed(ctx, provider, type_name, current, private).await {
        Ok((new_state, identity)) => ReadResponse { new_state: Some(new_state), identity, diagnostics: ctx.warnings.take() },
        Err(diagnostics) => ReadResponse::kept(diagnostics),
    }
}

impl ReadResponse<'_> {
    /// The answer to a read that failed: Terraform keeps what it holds.
    pub fn kept(diagnostics: Diagnostics) -> Self {
        ReadResponse { new_state: None, identity: IdentityChange::Keep, diagnostics }
    }
}

async fn refreshed<'a>(
    ctx: &OpContext,
    provider: &'a dyn Provider,
    type_name: &str,
    current: &dyn Encoded,
    private: &[u8],
) -> Result<(Typed<'a>, IdentityChange<'a>), Diagnostics> {
    let resource = resource(provider, type_name)?;
    let ty = state_type(resource);
    let state = decode(current, ty, "current state")?;
    let gone = || (Typed { value: Value::Null, ty }, IdentityChange::Absent);
    if state.is_null() {
        return Ok(gone());
    }
    if private == FAILED_CREATE_PRIVATE {
        resource.refreshing_failed_create(&state);
    }
    Ok(match resource.read(ctx, state).await? {
        None => gone(),
        Some(new_state) => {
            let identity = identity_of(resource, &new_state).map_or(IdentityChange::Keep, IdentityChange::Set);
            (Typed { value: new_state, ty }, identity)
        }
    })
}

/// The data source's state, and the warnings of a read that succeeded. The
/// configuration is validated again first: no call is made with input that
/// validation refuses, whatever Terraform sent before.
pub async fn read_data_source<'a>(
    ctx: &OpContext,
    provider: &'a dyn Provider,
    type_name: &str,
    config: &dyn Encoded,
) -> Result<(Typed<'a>, Diagnostics), Diagnostics> {
    let data_source = provider.data_source(type_name).ok_or_else(|| super::unknown_type("data source", type_name))?;
    let config = decode_valid(config, data_source.schema(), "configuration")?;
    let value = data_source.read(ctx, &config).await?;
    Ok((Typed { value, ty: data_source.schema().value_type() }, ctx.warnings.take()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::server::testing::{config, Notes, Undecodable};

    fn note(id: &str) -> Value {
        Value::object([("id", Value::string(id)), ("text", Value::string("old")), ("kind", Value::string("plain"))])
    }

    #[tokio::test]
    async fn refresh_outcomes() {
        let provider = Notes::provider();
        provider.notes.store.lock().unwrap().insert("n1".into(), "new".into());
        let ctx = OpContext::default();
        let read = |state: Value| {
            let (ctx, provider) = (&ctx, &provider);
            async move { read_resource(ctx, provider, "notes_note", &state, b"").await }
        };

        let present = read(note("n1")).await;
        assert_eq!(present.new_state.unwrap().value.get("text"), &Value::string("new"), "the remote text wins");
        assert!(matches!(present.identity, IdentityChange::Set(ref i) if i.value.get("id") == &Value::string("n1")));

        let gone = read(note("n9")).await;
        assert_eq!(gone.new_state.unwrap().value, Value::Null, "a vanished object reads as null");
        assert!(matches!(gone.identity, IdentityChange::Absent));

        let null = read(Value::Null).await;
        assert_eq!(null.new_state.unwrap().value, Value::Null);

        let corrupt = read_resource(&ctx, &provider, "notes_note", &Undecodable, b"").await;
        assert!(corrupt.new_state.is_none() && matches!(corrupt.identity, IdentityChange::Keep), "a failed read keeps what Terraform holds");
        assert!(corrupt.diagnostics.has_errors());

        let unknown = read_resource(&ctx, &provider, "notes_other", &note("n1"), b"").await;
        assert_eq!(unknown.diagnostics.first().unwrap().summary, "Unknown resource type");
    }

    #[tokio::test]
    async fn warnings_of_a_successful_read_come_back() {
        let provider = Notes::provider();
        provider.notes.store.lock().unwrap().insert("n1".into(), "x".into());
        let ctx = OpContext::default();
        ctx.warnings.add("Last use unknown", "Permission missing.");
        let read = read_resource(&ctx, &provider, "notes_note", &note("n1"), b"").await;
        assert_eq!(read.diagnostics.iter().map(|d| d.summary.as_str()).collect::<Vec<_>>(), ["Last use unknown"]);
    }

    #[tokio::test]
    async fn data_sources_read_their_configuration() {
        let provider = Notes::provider();
        provider.notes.store.lock().unwrap().insert("n4".into(), "found".into());
        let ctx = OpContext::default();
        let (found, warnings) = read_data_source(&ctx, &provider, "notes_note", &config("found")).await.unwrap();
        assert_eq!(found.value.get("id"), &Value::string("n4"));
        assert!(warnings.is_empty());
        let missing = read_data_source(&ctx, &provider, "notes_note", &config("absent")).await.unwrap_err();
        assert_eq!(missing.first().unwrap().summary, "No such note");
        let invalid = read_data_source(&ctx, &provider, "notes_note", &config("")).await.unwrap_err();
        assert_eq!(invalid.first().unwrap().summary, "Invalid value for \"text\"", "validated again before the read");
        let unknown = read_data_source(&ctx, &provider, "notes_x", &config("x")).await.unwrap_err();
        assert_eq!(unknown.first().unwrap().summary, "Unknown data source type");
    }
}
