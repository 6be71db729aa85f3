//! A small provider framework: schemas as data, plan rules, and the traits a
//! provider and its resources implement. Nothing here knows about IAM or about the
//! wire format; the protocol layer calls in, resources plug in.

pub mod clock;
pub mod docs;
pub mod field;
pub mod plan;
pub mod schema;
pub mod server;

use std::sync::{Arc, Mutex, OnceLock};

use async_trait::async_trait;
use tokio_util::sync::CancellationToken;

use crate::value::summary;
use crate::value::Value;
use crate::value::{AttributePath, Diagnostics};
use schema::Schema;

/// What every operation is given: a token cancelled when Terraform asks the
/// provider to stop (StopProvider), the clock, and a slot for state that must
/// survive a failure of the operation.
#[derive(Clone, Default)]
pub struct OpContext {
    pub cancel: CancellationToken,
    pub clock: SharedClock,
    pub partial_state: StateSlot,
    /// Warnings an operation that succeeds hands back with its result.
    pub warnings: Warnings,
}

/// The clock operations read; the system clock unless the provider injects another.
#[derive(Clone)]
pub struct SharedClock(pub Arc<dyn clock::Clock>);

impl Default for SharedClock {
    fn default() -> Self {
        SharedClock(Arc::new(clock::SystemClock::default()))
    }
}

impl SharedClock {
    pub fn now_secs(&self) -> i64 {
        self.0.now_secs()
    }
}

/// Warnings collected during an operation (for example, a refresh that could not
/// read an informational value because a permission is missing).
#[derive(Clone, Default)]
pub struct Warnings(Arc<Mutex<Diagnostics>>);

impl Warnings {
    pub fn add(&self, summary: impl Into<crate::value::SummaryText>, detail: impl Into<String>) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).add_warning(summary, detail);
    }

    pub fn extend(&self, warnings: Diagnostics) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).extend(warnings);
    }

    pub fn take(&self) -> Diagnostics {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

/// State an operation records as soon as a remote object exists, so that every
/// exit path (error, cancellation, panic) can still hand it to Terraform.
#[derive(Clone, Default)]
pub struct StateSlot(Arc<Mutex<Option<Value>>>);

impl StateSlot {
    pub fn record(&self, state: Value) {
        *self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(state);
    }

    pub fn take(&self) -> Option<Value> {
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).take()
    }
}

/// What the provider's Configure produced, shared with every type it serves (the
/// framework anchor's `ProviderData`): the provider sets it once, the types it
/// serves read it. Empty until a configuration was wholly known and valid.
pub struct ProviderData<T>(OnceLock<T>);

impl<T> Default for ProviderData<T> {
    fn default() -> Self {
        ProviderData(OnceLock::new())
    }
}

impl<T> ProviderData<T> {
    /// Data that is already there (tests build types around fakes).
    pub fn configured(data: T) -> Self {
        let cell = ProviderData::default();
        cell.set(data);
        cell
    }

    /// Stores what Configure produced; a later configuration of the same process
    /// (Terraform configures once) keeps the first.
    pub fn set(&self, data: T) {
        let _ = self.0.set(data);
    }

    pub fn get(&self) -> Result<&T, Diagnostics> {
        self.0.get().ok_or_else(|| {
            Diagnostics::error(
                summary::PROVIDER_NOT_CONFIGURED,
                "The provider's configuration was unknown or invalid, so it is not configured yet. \
                 Apply the resources its configuration depends on first (terraform apply -target=...).",
            )
        })
    }
}

/// The private data the framework stores with an object that a failed create
/// returned (Terraform keeps it, tainted). A successful apply replaces it.
pub const FAILED_CREATE_PRIVATE: &[u8] = br#"{"iamkey_failed_create":true}"#;

/// The private data the framework plans for an existing object that stays. When
/// Terraform replaces the object (for a reason of the resource's, `-replace`, or
/// `replace_triggered_by`), it plans the new half in a second call with a null
/// prior state and the first call's planned private data: this mark is how that
/// create is told apart from a new object. It never reaches state (see
/// `private_after_apply`).
pub const EXISTING_OBJECT_PRIVATE: &[u8] = br#"{"iamkey_existing_object":true}"#;

/// What a plan is for, as Terraform tells it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlanKind {
    /// A new object.
    Create,
    /// The object that replaces an existing one (Terraform deletes the old one
    /// first, unless `create_before_destroy`).
    Replacement,
    /// An existing object: update, no-op, destroy, or the first half of a replacement.
    Existing,
}

impl PlanKind {
    /// From the prior state and the prior private data Terraform sent.
    pub fn of(prior: &Value, prior_private: &[u8]) -> Self {
        match (prior.is_null(), prior_private == EXISTING_OBJECT_PRIVATE) {
            (false, _) => PlanKind::Existing,
            (true, true) => PlanKind::Replacement,
            (true, false) => PlanKind::Create,
        }
    }
}

/// The private data an applied object keeps: the failed-create mark, or what was
/// planned, never the existing-object mark (it only pairs the two plan calls).
pub fn private_after_apply(planned_private: &[u8], failed_create: bool) -> Vec<u8> {
    match (failed_create, planned_private == EXISTING_OBJECT_PRIVATE) {
        (true, _) => FAILED_CREATE_PRIVATE.to_vec(),
        (false, true) => Vec::new(),
        (false, false) => planned_private.to_vec(),
    }
}

/// The outcome of an apply: the new state (which may be present even with errors:
/// Terraform then keeps it, tainted on create) and the diagnostics.
pub struct ApplyOutcome {
    pub state: Value,
    pub diagnostics: Diagnostics,
}

impl ApplyOutcome {
    pub fn ok(state: Value) -> Self {
        ApplyOutcome { state, diagnostics: Diagnostics::new() }
    }

    pub fn failed(state: Value, diagnostics: Diagnostics) -> Self {
        ApplyOutcome { state, diagnostics }
    }
}

/// A managed resource type.
#[async_trait]
pub trait Resource: Send + Sync + 'static {
    fn type_name(&self) -> &'static str;
    fn schema(&self) -> &Schema;

    /// Checks beyond what the schema's validators express. Runs without AWS calls.
    fn validate(&self, _config: &Value, _diags: &mut Diagnostics) {}

    /// Why an existing object must be replaced although no replace-on-change
    /// attribute changed (for example, its age); empty to keep it. Terraform honours
    /// a path only where the planned value differs from the prior one.
    fn replacement_reasons(&self, _ctx: &OpContext, _prior: &Value, _planned: &Value) -> Vec<AttributePath> {
        Vec::new()
    }

    /// Adjusts the schema's plan for this resource's rules (which computed values
    /// stay null, which become unknown).
    fn modify_plan(&self, _prior: &Value, _config: &Value, _planned: &mut Value) {}

    /// Checks a planned change against the remote system, after the schema's plan
    /// rules and `modify_plan`, and may fill in computed values only the remote
    /// system knows; `planned` is null for a destroy. Errors stop the plan.
    /// (Terraform drops warnings from its second call for a replacement.)
    async fn check_plan(&self, _ctx: &OpContext, _kind: PlanKind, _prior: &Value, _config: &Value, _planned: &mut Value) -> Diagnostics {
        Diagnostics::new()
    }

    async fn create(&self, ctx: &OpContext, planned: &Value) -> ApplyOutcome;
    /// Told, on refresh, of an object that a failed create returned: Terraform
    /// holds it tainted, so the next apply deletes it (before creating its
    /// replacement, unless create_before_destroy). Called before `read`.
    fn refreshing_failed_create(&self, _state: &Value) {}
    /// Reads the remote object; `Ok(None)` when it is gone. It is given the current
    /// state to keep: the new state is mostly the old one with what changed.
    async fn read(&self, ctx: &OpContext, state: Value) -> Result<Option<Value>, Diagnostics>;
    async fn update(&self, ctx: &OpContext, prior: &Value, planned: &Value) -> ApplyOutcome;
    async fn delete(&self, ctx: &OpContext, prior: &Value) -> Diagnostics;
    /// Builds the state stub for `terraform import`; Terraform reads it right after.
    async fn import(&self, ctx: &OpContext, id: &str) -> Result<Value, Diagnostics>;

    /// Configuration that describes the object in `state` (for `-generate-config-out`):
    /// its configurable attributes, never a computed one, so never a secret.
    fn generate_config(&self, state: &Value) -> Value {
        plan::config_from_state(self.schema(), state)
    }

    /// Whether state of `source_type` from the provider at `source_provider` (as
    /// Terraform names it, `registry.terraform.io/hashicorp/aws`) at schema version
    /// `source_version` can move to this type (`moved` blocks across types). The
    /// protocol layer then reads it with this type's schema: attributes with the
    /// same name carry over, others are dropped.
    fn accepts_moved_state(&self, _source_provider: &str, _source_type: &str, _source_version: i64) -> bool {
        false
    }

    /// The identity schema (protocol 6.9), for types that have one. Required
    /// attributes are required for import; optional ones are optional for it.
    fn identity_schema(&self) -> Option<&Schema> {
        None
    }

    /// The identity of the object `state` describes, or None while any part of it
    /// is unknown. An identity never changes for the life of the object.
    fn identity(&self, _state: &Value) -> Option<Value> {
        None
    }

    /// Builds the state stub for an `import` block that gives an identity.
    async fn import_by_identity(&self, _ctx: &OpContext, _identity: &Value) -> Result<Value, Diagnostics> {
        Err(Diagnostics::error(summary::IMPORT_BY_IDENTITY_NOT_SUPPORTED, "This resource type has no identity; import it by ID."))
    }
}

/// A data source type.
#[async_trait]
pub trait DataSource: Send + Sync + 'static {
    fn type_name(&self) -> &'static str;
    fn schema(&self) -> &Schema;
    async fn read(&self, ctx: &OpContext, config: &Value) -> Result<Value, Diagnostics>;
}

/// One object a list resource found: a name for people, and the state of the
/// managed resource it would be (its identity derived from that state unless given).
pub struct Listed {
    pub display_name: String,
    pub state: Value,
    /// The identity, when it is not the one the resource derives from the state
    /// (an object in another account than the provider's, say).
    pub identity: Option<Value>,
}

/// A list resource (protocol 6.10, `terraform query`): finds existing objects of
/// the managed resource type with the same name.
#[async_trait]
pub trait ListResource: Send + Sync + 'static {
    fn type_name(&self) -> &'static str;
    /// The schema of the list block's `config { }` (Terraform adds the block around it).
    fn schema(&self) -> &Schema;
    async fn list(&self, ctx: &OpContext, config: &Value) -> Result<Vec<Listed>, Diagnostics>;
}

/// What Open produced: the result Terraform passes to consumers (never stored),
/// and private data Terraform hands back to Renew and Close (no secret in it).
pub struct Opened {
    pub result: Value,
    pub private: Vec<u8>,
}

/// Lines an action reports while it runs: Terraform shows each as it arrives.
#[derive(Clone, Debug)]
pub struct Progress(tokio::sync::mpsc::UnboundedSender<String>);

impl Progress {
    /// A progress channel and the receiver its lines arrive at, in order.
    pub fn channel() -> (Progress, tokio::sync::mpsc::UnboundedReceiver<String>) {
        let (sender, receiver) = tokio::sync::mpsc::unbounded_channel();
        (Progress(sender), receiver)
    }

    /// Reports one line (never a secret). Lost, harmlessly, once Terraform stopped
    /// listening.
    pub fn report(&self, line: impl Into<String>) {
        let _ = self.0.send(line.into());
    }

    /// For tests: runs `work` with a progress channel, and returns every line it
    /// reported, in order, with its outcome.
    #[cfg(test)]
    pub async fn recording<T, F: std::future::Future<Output = T>>(work: impl FnOnce(Progress) -> F) -> (Vec<String>, T) {
        let (progress, mut lines) = Progress::channel();
        let outcome = work(progress).await;
        let mut seen = Vec::new();
        while let Some(line) = lines.recv().await {
            seen.push(line);
        }
        (seen, outcome)
    }
}

/// An action (protocol 6.10, Terraform 1.14+): something a run does, once, when
/// invoked (`terraform apply -invoke=action.TYPE.NAME`, or an `action_trigger`);
/// it changes no state.
#[async_trait]
pub trait Action: Send + Sync + 'static {
    fn type_name(&self) -> &'static str;
    fn schema(&self) -> &Schema;

    /// Checks beyond the schema's validators. No remote calls; unknown values must pass.
    fn validate(&self, _config: &Value, _diags: &mut Diagnostics) {}

    /// What invoking would do, said as warnings (a dry run); errors stop the plan.
    /// Called only with a wholly known configuration.
    async fn plan(&self, ctx: &OpContext, config: &Value) -> Diagnostics;

    /// Does it, reporting each step to `progress`; the diagnostics are the outcome
    /// (an error fails the run). `ctx.cancel` is cancelled when Terraform stops.
    async fn invoke(&self, ctx: &OpContext, config: &Value, progress: &Progress) -> Diagnostics;
}

/// An ephemeral resource (protocol 6.7, Terraform 1.10+): opened for the length of
/// one plan or apply, closed at its end; nothing of it reaches state or plan.
#[async_trait]
pub trait EphemeralResource: Send + Sync + 'static {
    fn type_name(&self) -> &'static str;
    fn schema(&self) -> &Schema;
    async fn open(&self, ctx: &OpContext, config: &Value) -> Result<Opened, Diagnostics>;
    async fn close(&self, ctx: &OpContext, private: &[u8]) -> Diagnostics;
}

/// A parameter of a provider function.
pub struct Parameter {
    pub name: &'static str,
    pub ty: crate::value::Type,
    pub description: &'static str,
}

/// Why a function call failed, and which argument (0-based) was at fault.
#[derive(Debug, PartialEq)]
pub struct FunctionError {
    pub text: String,
    pub argument: Option<usize>,
}

/// A provider function (`provider::iamkey::NAME(...)`, Terraform 1.8+): pure, no
/// AWS calls, arguments never null or unknown when called.
pub trait Function: Send + Sync + 'static {
    fn name(&self) -> &'static str;
    fn summary(&self) -> &'static str;
    fn description(&self) -> &'static str;
    fn parameters(&self) -> &[Parameter];
    fn return_type(&self) -> crate::value::Type;
    fn call(&self, arguments: &[Value]) -> Result<Value, FunctionError>;
}

/// A provider: its configuration and the types it serves.
#[async_trait]
pub trait Provider: Send + Sync + 'static {
    /// The provider's local name (`iamkey`), also the prefix of its type names.
    fn name(&self) -> &'static str;
    fn schema(&self) -> &Schema;
    fn resources(&self) -> &[Arc<dyn Resource>];
    fn data_sources(&self) -> &[Arc<dyn DataSource>];
    fn list_resources(&self) -> &[Arc<dyn ListResource>] {
        &[]
    }
    fn functions(&self) -> &[Arc<dyn Function>] {
        &[]
    }
    fn ephemeral_resources(&self) -> &[Arc<dyn EphemeralResource>] {
        &[]
    }

    fn actions(&self) -> &[Arc<dyn Action>] {
        &[]
    }

    fn action(&self, type_name: &str) -> Option<&Arc<dyn Action>> {
        self.actions().iter().find(|a| a.type_name() == type_name)
    }

    fn ephemeral_resource(&self, type_name: &str) -> Option<&Arc<dyn EphemeralResource>> {
        self.ephemeral_resources().iter().find(|e| e.type_name() == type_name)
    }

    /// Checks beyond the schema's validators. Unknown values must pass.
    fn validate(&self, _config: &Value, _diags: &mut Diagnostics) {}

    async fn configure(&self, ctx: &OpContext, config: &Value, terraform_version: &str) -> Diagnostics;

    /// The clock every operation of this provider reads.
    fn clock(&self) -> SharedClock {
        SharedClock::default()
    }

    fn resource(&self, type_name: &str) -> Option<&Arc<dyn Resource>> {
        self.resources().iter().find(|r| r.type_name() == type_name)
    }

    fn data_source(&self, type_name: &str) -> Option<&Arc<dyn DataSource>> {
        self.data_sources().iter().find(|d| d.type_name() == type_name)
    }

    fn list_resource(&self, type_name: &str) -> Option<&Arc<dyn ListResource>> {
        self.list_resources().iter().find(|l| l.type_name() == type_name)
    }
}
