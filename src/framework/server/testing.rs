//! An in-memory provider for the framework's unit tests: `notes_note`, a resource
//! that stores a text under a generated id. It follows the checklist for adding a
//! resource (design/design.md): a schema declared once, an identity, CRUD, import,
//! a list resource and a function; quirks let a test make it misbehave.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use super::Encoded;
use crate::framework::schema::{Attribute, Block, Schema};
use crate::framework::{
    Action, ApplyOutcome, DataSource, EphemeralResource, Function, FunctionError, ListResource, Listed, OpContext, Opened, Parameter, Progress, Provider,
    Resource,
};
use crate::value::{AttributePath, Diagnostics, Type, Value};

/// How the resource misbehaves, for the central checks after apply.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub enum Quirk {
    #[default]
    None,
    /// Create reports success and returns no state.
    ForgetState,
    /// Create leaves a computed value unknown.
    LeaveUnknown,
    /// Create stores the note, records it, then fails.
    FailAfterCreate,
    /// Delete fails.
    FailDelete,
    /// The identity it reports has an unknown part.
    IncompleteIdentity,
}

pub struct Notes {
    schema: Schema,
    identity_schema: Schema,
    list_schema: Schema,
    pub store: Mutex<BTreeMap<String, String>>,
    next_id: AtomicU64,
    pub quirk: Mutex<Quirk>,
}

pub struct NotesProvider {
    schema: Schema,
    pub notes: Arc<Notes>,
    pub count: Arc<Count>,
    resources: Vec<Arc<dyn Resource>>,
    data_sources: Vec<Arc<dyn DataSource>>,
    list_resources: Vec<Arc<dyn ListResource>>,
    ephemeral_resources: Vec<Arc<dyn EphemeralResource>>,
    functions: Vec<Arc<dyn Function>>,
    actions: Vec<Arc<dyn Action>>,
}

/// A configuration of `notes_note`.
pub fn config(text: &str) -> Value {
    Value::object([("id", Value::Null), ("text", Value::string(text)), ("kind", Value::Null)])
}

/// A value that never decodes, as a corrupt message from Terraform would.
pub struct Undecodable;

impl Encoded for Undecodable {
    fn decode(&self, _: &Type) -> Result<Value, String> {
        Err("msgpack: unexpected end of input".into())
    }
}

fn not_empty(v: &Value) -> Result<(), String> {
    match v.as_str() {
        Some("") => Err("A note needs some text.".into()),
        _ => Ok(()),
    }
}

impl Notes {
    pub fn provider() -> NotesProvider {
        let notes = Arc::new(Notes {
            schema: Schema::new(
                1,
                Block::new("A note.")
                    .attribute(Attribute::computed("id", Type::String).describe("Its id."))
                    .attribute(Attribute::required("text", Type::String).describe("Its text.").validate(not_empty))
                    .attribute(Attribute::optional_computed("kind", Type::String).default(Value::string("plain")).replace_on_change()),
            ),
            identity_schema: Schema::new(0, Block::new("").attribute(Attribute::required("id", Type::String))),
            list_schema: Schema::new(0, Block::new("").attribute(Attribute::optional("prefix", Type::String))),
            store: Mutex::default(),
            next_id: AtomicU64::new(1),
            quirk: Mutex::default(),
        });
        let count = Arc::new(Count::new());
        NotesProvider {
            schema: Schema::new(0, Block::new("")),
            resources: vec![notes.clone()],
            data_sources: vec![notes.clone()],
            list_resources: vec![notes.clone()],
            ephemeral_resources: vec![notes.clone()],
            functions: vec![Arc::new(Upper)],
            actions: vec![count.clone()],
            count,
            notes,
        }
    }

    fn quirk(&self) -> Quirk {
        *self.quirk.lock().unwrap()
    }

    fn state(&self, id: &str, text: &str, kind: &Value) -> Value {
        Value::object([("id", Value::string(id)), ("text", Value::string(text)), ("kind", kind.clone())])
    }
}

#[async_trait]
impl Resource for Notes {
    fn type_name(&self) -> &'static str {
        "notes_note"
    }

    fn schema(&self) -> &Schema {
        &self.schema
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        if config.get("text").as_str() == Some("forbidden") {
            diags.add_error_at(AttributePath::root("text"), "Forbidden text", "That word is not allowed.");
        }
    }

    async fn create(&self, ctx: &OpContext, planned: &Value) -> ApplyOutcome {
        let id = format!("n{}", self.next_id.fetch_add(1, Ordering::Relaxed));
        let text = planned.get("text").as_str().unwrap_or_default().to_string();
        self.store.lock().unwrap().insert(id.clone(), text.clone());
        let state = self.state(&id, &text, planned.get("kind"));
        ctx.partial_state.record(state.clone());
        match self.quirk() {
            Quirk::ForgetState => ApplyOutcome::ok(Value::Null),
            Quirk::LeaveUnknown => ApplyOutcome::ok(self.state(&id, &text, &Value::Unknown)),
            Quirk::FailAfterCreate => ApplyOutcome::failed(state, Diagnostics::error("Lost track", "The answer did not arrive.")),
            _ => ApplyOutcome::ok(state),
        }
    }

    async fn read(&self, _: &OpContext, state: Value) -> Result<Option<Value>, Diagnostics> {
        let id = state.get("id").as_str().unwrap_or_default();
        Ok(self.store.lock().unwrap().get(id).map(|text| self.state(id, text, state.get("kind"))))
    }

    async fn update(&self, _: &OpContext, _: &Value, planned: &Value) -> ApplyOutcome {
        let id = planned.get("id").as_str().unwrap_or_default();
        self.store.lock().unwrap().insert(id.to_string(), planned.get("text").as_str().unwrap_or_default().to_string());
        ApplyOutcome::ok(planned.clone())
    }

    async fn delete(&self, _: &OpContext, prior: &Value) -> Diagnostics {
        if self.quirk() == Quirk::FailDelete {
            return Diagnostics::error("Delete failed", "The note is locked.");
        }
        self.store.lock().unwrap().remove(prior.get("id").as_str().unwrap_or_default());
        Diagnostics::new()
    }

    async fn import(&self, _: &OpContext, id: &str) -> Result<Value, Diagnostics> {
        Ok(Value::object([("id", Value::string(id)), ("text", Value::Null), ("kind", Value::string("plain"))]))
    }

    fn identity_schema(&self) -> Option<&Schema> {
        Some(&self.identity_schema)
    }

    fn identity(&self, state: &Value) -> Option<Value> {
        match self.quirk() {
            Quirk::IncompleteIdentity => Some(Value::object([("id", Value::Unknown)])),
            _ => Some(Value::object([("id", state.get("id").clone())])),
        }
    }

    async fn import_by_identity(&self, ctx: &OpContext, identity: &Value) -> Result<Value, Diagnostics> {
        self.import(ctx, identity.get("id").as_str().unwrap_or_default()).await
    }
}

#[async_trait]
impl DataSource for Notes {
    fn type_name(&self) -> &'static str {
        "notes_note"
    }

    fn schema(&self) -> &Schema {
        &self.schema
    }

    async fn read(&self, _: &OpContext, config: &Value) -> Result<Value, Diagnostics> {
        let text = config.get("text").as_str().unwrap_or_default();
        let id = self.store.lock().unwrap().iter().find(|(_, t)| *t == text).map(|(id, _)| id.clone());
        id.map(|id| self.state(&id, text, &Value::string("plain"))).ok_or_else(|| Diagnostics::error("No such note", "No note has that text."))
    }
}

#[async_trait]
impl ListResource for Notes {
    fn type_name(&self) -> &'static str {
        "notes_note"
    }

    #[allow(clippy::misnamed_getters, reason = "a list block has its own schema, not the resource's")]
    fn schema(&self) -> &Schema {
        &self.list_schema
    }

    async fn list(&self, _: &OpContext, _: &Value) -> Result<Vec<Listed>, Diagnostics> {
        let store = self.store.lock().unwrap();
        Ok(store
            .iter()
            .map(|(id, text)| Listed { display_name: format!("note {id}"), state: self.state(id, text, &Value::string("plain")), identity: None })
            .collect())
    }
}

#[async_trait]
impl EphemeralResource for Notes {
    fn type_name(&self) -> &'static str {
        "notes_note"
    }

    fn schema(&self) -> &Schema {
        &self.schema
    }

    async fn open(&self, _: &OpContext, config: &Value) -> Result<Opened, Diagnostics> {
        let text = config.get("text").as_str().unwrap_or_default();
        Ok(Opened { result: self.state("ephemeral", text, &Value::string("plain")), private: text.as_bytes().to_vec() })
    }

    async fn close(&self, _: &OpContext, private: &[u8]) -> Diagnostics {
        match private.is_empty() {
            true => Diagnostics::error("Nothing to close", "The private data is empty."),
            false => Diagnostics::new(),
        }
    }
}

/// `notes_count`: counts to `times`, one progress line each, stopping when
/// cancelled; 13 times panics (a bug to guard against).
pub struct Count {
    schema: Schema,
    /// Steps counted by every invoke so far.
    pub counted: AtomicU64,
    /// Notified when an invoke ends (its permit waits for a test that asks later).
    pub ended: tokio::sync::Notify,
}

impl Count {
    fn new() -> Self {
        let at_least_zero = |v: &Value| match v.as_i64() {
            Some(n) if n >= 0 => Ok(()),
            _ => Err("times must be 0 or more".to_string()),
        };
        let schema = Schema::new(0, Block::new("Counts.").attribute(Attribute::required("times", Type::Number).validate(at_least_zero).describe("How far.")));
        Count { schema, counted: AtomicU64::new(0), ended: tokio::sync::Notify::new() }
    }
}

#[async_trait]
impl Action for Count {
    fn type_name(&self) -> &'static str {
        "notes_count"
    }

    fn schema(&self) -> &Schema {
        &self.schema
    }

    async fn plan(&self, _: &OpContext, config: &Value) -> Diagnostics {
        let mut diags = Diagnostics::new();
        diags.add_warning("Would count", format!("to {}", config.get("times").as_i64().unwrap_or_default()));
        diags
    }

    async fn invoke(&self, ctx: &OpContext, config: &Value, progress: &Progress) -> Diagnostics {
        let times = config.get("times").as_i64().unwrap_or_default();
        assert_ne!(times, 13, "unlucky");
        let mut outcome = Diagnostics::new();
        for n in 1..=times {
            if ctx.cancel.is_cancelled() {
                outcome = Diagnostics::error("Operation cancelled", "Terraform asked the provider to stop.");
                break;
            }
            progress.report(format!("counted {n}"));
            self.counted.fetch_add(1, Ordering::Relaxed);
            tokio::task::yield_now().await;
        }
        self.ended.notify_one();
        outcome
    }
}

/// `upper(text)`: the text in capitals; refuses an empty one.
pub struct Upper;

static UPPER_PARAMETERS: [Parameter; 1] = [Parameter { name: "text", ty: Type::String, description: "Any text." }];

impl Function for Upper {
    fn name(&self) -> &'static str {
        "upper"
    }
    fn summary(&self) -> &'static str {
        "Capitals."
    }
    fn description(&self) -> &'static str {
        "Returns the text in capitals."
    }
    fn parameters(&self) -> &[Parameter] {
        &UPPER_PARAMETERS
    }
    fn return_type(&self) -> Type {
        Type::String
    }
    fn call(&self, arguments: &[Value]) -> Result<Value, FunctionError> {
        match arguments[0].as_str().unwrap_or_default() {
            "" => Err(FunctionError { text: "The text is empty.".into(), argument: Some(0) }),
            text => Ok(Value::string(text.to_uppercase())),
        }
    }
}

#[async_trait]
impl Provider for NotesProvider {
    fn name(&self) -> &'static str {
        "notes"
    }
    fn schema(&self) -> &Schema {
        &self.schema
    }
    fn resources(&self) -> &[Arc<dyn Resource>] {
        &self.resources
    }
    fn data_sources(&self) -> &[Arc<dyn DataSource>] {
        &self.data_sources
    }
    fn list_resources(&self) -> &[Arc<dyn ListResource>] {
        &self.list_resources
    }
    fn ephemeral_resources(&self) -> &[Arc<dyn EphemeralResource>] {
        &self.ephemeral_resources
    }
    fn functions(&self) -> &[Arc<dyn Function>] {
        &self.functions
    }
    fn actions(&self) -> &[Arc<dyn Action>] {
        &self.actions
    }
    async fn configure(&self, _: &OpContext, _: &Value, terraform_version: &str) -> Diagnostics {
        match terraform_version {
            "" => Diagnostics::error("No Terraform version", "Terraform always sends its version."),
            _ => Diagnostics::new(),
        }
    }
}
