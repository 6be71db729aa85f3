//! The tfplugin6 `Provider` service: one converter per RPC between the generated
//! wire types and the framework. This is the only module that calls up into the
//! framework; it knows nothing about IAM.
//!
//! Rules kept here:
//! - domain failures travel as diagnostics; a gRPC status only for protocol faults;
//! - every RPC Terraform 1.15 may call gets an answer (never `Unimplemented`);
//! - a handler that panics still answers, with an error diagnostic and any state
//!   the operation recorded, and the server keeps serving;
//! - StopProvider cancels in-flight work and the server keeps serving.

use std::collections::HashMap;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::{Arc, Mutex, OnceLock};

use futures::{FutureExt, Stream};
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};
use tracing::Instrument;

use super::codec::{decode_json, decode_msgpack, encode_msgpack};
use super::wire;
use crate::framework::plan::{force_replacement, plan};
use crate::framework::schema::{self, Mode, Nesting, Schema};
use crate::framework::{Function, OpContext, Provider, Resource};
use crate::value::{AttributePath, Diagnostics, PathStep, Severity};
use crate::value::{Type, Value};

type RpcResult<T> = Result<Response<T>, Status>;
type BoxStream<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send + 'static>>;

/// Serves a framework [`Provider`] as `tfplugin6.Provider`.
pub struct ProviderService {
    provider: Arc<dyn Provider>,
    /// Cancelled by StopProvider and then replaced, so later requests run normally.
    stop: Mutex<CancellationToken>,
    schema_response: OnceLock<wire::get_provider_schema::Response>,
}

impl ProviderService {
    pub fn new(provider: Arc<dyn Provider>) -> Self {
        ProviderService { provider, stop: Mutex::new(CancellationToken::new()), schema_response: OnceLock::new() }
    }

    /// The generated tonic server for this service, with 256 MiB message limits as
    /// terraform-plugin-go serves.
    pub fn into_server(self) -> wire::provider_server::ProviderServer<ProviderService> {
        const MAX_MESSAGE: usize = 256 << 20;
        wire::provider_server::ProviderServer::new(self).max_decoding_message_size(MAX_MESSAGE).max_encoding_message_size(MAX_MESSAGE)
    }

    fn context(&self) -> OpContext {
        let cancel = self.stop.lock().unwrap_or_else(|p| p.into_inner()).child_token();
        OpContext { cancel, ..Default::default() }
    }

    fn resource(&self, type_name: &str) -> Result<&Arc<dyn crate::framework::Resource>, Diagnostics> {
        self.provider.resource(type_name).ok_or_else(|| unknown_type("resource", type_name))
    }
}

// ---------------------------------------------------------------- conversions

fn unknown_type(kind: &str, type_name: &str) -> Diagnostics {
    Diagnostics::error(format!("Unknown {kind} type"), format!("This provider has no {kind} type \"{type_name}\"."))
}

fn diagnostics_to_wire(diags: Diagnostics) -> Vec<wire::Diagnostic> {
    diags
        .into_iter()
        .map(|d| wire::Diagnostic {
            severity: match d.severity {
                Severity::Error => wire::diagnostic::Severity::Error,
                Severity::Warning => wire::diagnostic::Severity::Warning,
            } as i32,
            summary: d.summary,
            detail: d.detail,
            attribute: d.path.map(path_to_wire),
        })
        .collect()
}

fn path_to_wire(path: AttributePath) -> wire::AttributePath {
    use wire::attribute_path::step::Selector;
    wire::AttributePath {
        steps: path
            .0
            .into_iter()
            .map(|step| wire::attribute_path::Step {
                selector: Some(match step {
                    PathStep::Attribute(a) => Selector::AttributeName(a),
                    PathStep::Key(k) => Selector::ElementKeyString(k),
                    PathStep::Index(i) => Selector::ElementKeyInt(i),
                }),
            })
            .collect(),
    }
}

fn schema_to_wire(schema: &Schema) -> wire::Schema {
    wire::Schema { version: schema.version, block: Some(block_to_wire(&schema.block, schema.version)) }
}

fn function_to_wire(function: &dyn Function) -> wire::Function {
    use wire::function::{Parameter, Return};
    wire::Function {
        parameters: function
            .parameters()
            .iter()
            .map(|p| Parameter {
                name: p.name.to_string(),
                r#type: p.ty.to_json().to_string().into_bytes(),
                description: p.description.to_string(),
                description_kind: wire::StringKind::Markdown as i32,
                ..Default::default()
            })
            .collect(),
        r#return: Some(Return { r#type: function.return_type().to_json().to_string().into_bytes() }),
        summary: function.summary().to_string(),
        description: function.description().to_string(),
        description_kind: wire::StringKind::Markdown as i32,
        ..Default::default()
    }
}

fn functions_to_wire(provider: &dyn Provider) -> HashMap<String, wire::Function> {
    provider.functions().iter().map(|f| (f.name().to_string(), function_to_wire(f.as_ref()))).collect()
}

fn identity_schema_to_wire(schema: &Schema) -> wire::ResourceIdentitySchema {
    wire::ResourceIdentitySchema {
        version: schema.version,
        identity_attributes: schema
            .block
            .attributes
            .iter()
            .map(|a| wire::resource_identity_schema::IdentityAttribute {
                name: a.name.to_string(),
                r#type: a.ty.to_json().to_string().into_bytes(),
                required_for_import: a.mode == Mode::Required,
                optional_for_import: a.mode != Mode::Required,
                description: a.description.to_string(),
            })
            .collect(),
    }
}

/// The identity of the object `state` describes, on the wire: only for types with
/// an identity, and only once every part of it is known.
fn identity_to_wire(resource: &dyn Resource, state: &Value) -> Option<wire::ResourceIdentityData> {
    let schema = resource.identity_schema()?;
    if state.is_null() {
        return None;
    }
    let identity = resource.identity(state).filter(Value::is_wholly_known)?;
    let identity_data = encode(&identity, schema.value_type()).ok()?;
    Some(wire::ResourceIdentityData { identity_data: Some(identity_data) })
}

fn block_to_wire(block: &schema::Block, version: i64) -> wire::schema::Block {
    use wire::schema::nested_block::NestingMode;
    wire::schema::Block {
        version,
        attributes: block
            .attributes
            .iter()
            .map(|a| wire::schema::Attribute {
                name: a.name.to_string(),
                r#type: a.ty.to_json().to_string().into_bytes(),
                description: a.description.to_string(),
                required: a.mode == Mode::Required,
                optional: matches!(a.mode, Mode::Optional | Mode::OptionalComputed),
                computed: a.is_computed(),
                sensitive: a.sensitive,
                description_kind: wire::StringKind::Markdown as i32,
                ..Default::default()
            })
            .collect(),
        block_types: block
            .blocks
            .iter()
            .map(|b| wire::schema::NestedBlock {
                type_name: b.name.to_string(),
                block: Some(block_to_wire(&b.block, version)),
                nesting: match b.nesting {
                    Nesting::Single => NestingMode::Single,
                    Nesting::List => NestingMode::List,
                } as i32,
                ..Default::default()
            })
            .collect(),
        description: block.description.to_string(),
        description_kind: wire::StringKind::Markdown as i32,
        ..Default::default()
    }
}

/// Decodes a `DynamicValue`: msgpack when present, else JSON, else null.
fn decode(value: Option<&wire::DynamicValue>, ty: &Type, what: &str) -> Result<Value, Diagnostics> {
    let result = match value {
        Some(v) if !v.msgpack.is_empty() => decode_msgpack(&v.msgpack, ty),
        Some(v) if !v.json.is_empty() => decode_json(&v.json, ty, false),
        _ => Ok(Value::Null),
    };
    result.map_err(|e| Diagnostics::error("Invalid value from Terraform", format!("The {what} sent by Terraform could not be decoded: {e}.")))
}

fn encode(value: &Value, ty: &Type) -> Result<wire::DynamicValue, Diagnostics> {
    encode_msgpack(value, ty).map(|msgpack| wire::DynamicValue { msgpack, json: Vec::new() }).map_err(|e| {
        Diagnostics::error("Provider produced an invalid value", format!("The provider could not encode its result: {e}. This is a bug in the provider."))
    })
}

/// Runs a handler, turning a panic into an error diagnostic. `on_panic` builds the
/// answer from that diagnostic and any state the operation recorded before it
/// panicked. The panic payload is never shown: it might hold a secret.
async fn guarded<T>(rpc: &'static str, ctx: &OpContext, handler: impl Future<Output = T>, on_panic: impl FnOnce(Diagnostics, Option<Value>) -> T) -> T {
    let handler = async move {
        crate::testhooks::panic_point(rpc);
        handler.await
    };
    match AssertUnwindSafe(handler).catch_unwind().await {
        Ok(answer) => answer,
        Err(_payload) => {
            tracing::error!(tf_rpc = rpc, "the provider panicked while handling the call");
            let diags = Diagnostics::error(
                "Provider internal error",
                format!(
                    "The provider hit an internal error while handling {rpc}. Any object it had \
                     already created is recorded in state, so Terraform keeps track of it. \
                     Please report this issue with the provider's log (TF_LOG_PROVIDER=debug)."
                ),
            );
            on_panic(diags, ctx.partial_state.take())
        }
    }
}

fn one_event<T: Send + 'static>(event: T) -> BoxStream<T> {
    Box::pin(futures::stream::once(async move { Ok(event) }))
}

// ---------------------------------------------------------------- the service

#[tonic::async_trait]
impl wire::provider_server::Provider for ProviderService {
    async fn get_metadata(&self, _: Request<wire::get_metadata::Request>) -> RpcResult<wire::get_metadata::Response> {
        use wire::get_metadata as m;
        Ok(Response::new(m::Response {
            server_capabilities: Some(server_capabilities()),
            resources: self.provider.resources().iter().map(|r| m::ResourceMetadata { type_name: r.type_name().to_string() }).collect(),
            data_sources: self.provider.data_sources().iter().map(|d| m::DataSourceMetadata { type_name: d.type_name().to_string() }).collect(),
            list_resources: self.provider.list_resources().iter().map(|l| m::ListResourceMetadata { type_name: l.type_name().to_string() }).collect(),
            functions: self.provider.functions().iter().map(|f| m::FunctionMetadata { name: f.name().to_string() }).collect(),
            ephemeral_resources: self.provider.ephemeral_resources().iter().map(|e| m::EphemeralMetadata { type_name: e.type_name().to_string() }).collect(),
            ..Default::default()
        }))
    }

    async fn get_provider_schema(&self, _: Request<wire::get_provider_schema::Request>) -> RpcResult<wire::get_provider_schema::Response> {
        let response = self.schema_response.get_or_init(|| wire::get_provider_schema::Response {
            provider: Some(schema_to_wire(self.provider.schema())),
            resource_schemas: self.provider.resources().iter().map(|r| (r.type_name().to_string(), schema_to_wire(r.schema()))).collect(),
            data_source_schemas: self.provider.data_sources().iter().map(|d| (d.type_name().to_string(), schema_to_wire(d.schema()))).collect(),
            list_resource_schemas: self.provider.list_resources().iter().map(|l| (l.type_name().to_string(), schema_to_wire(l.schema()))).collect(),
            functions: functions_to_wire(self.provider.as_ref()),
            ephemeral_resource_schemas: self.provider.ephemeral_resources().iter().map(|e| (e.type_name().to_string(), schema_to_wire(e.schema()))).collect(),
            server_capabilities: Some(server_capabilities()),
            ..Default::default()
        });
        Ok(Response::new(response.clone()))
    }

    async fn validate_provider_config(&self, request: Request<wire::validate_provider_config::Request>) -> RpcResult<wire::validate_provider_config::Response> {
        let request = request.into_inner();
        let ctx = self.context();
        let diags = guarded(
            "ValidateProviderConfig",
            &ctx,
            async {
                let schema = self.provider.schema();
                let config = match decode(request.config.as_ref(), schema.value_type(), "provider configuration") {
                    Ok(c) => c,
                    Err(d) => return d,
                };
                let mut diags = schema.validate(&config);
                self.provider.validate(&config, &mut diags);
                diags
            },
            |d, _| d,
        )
        .await;
        Ok(Response::new(wire::validate_provider_config::Response { diagnostics: diagnostics_to_wire(diags) }))
    }

    async fn validate_resource_config(&self, request: Request<wire::validate_resource_config::Request>) -> RpcResult<wire::validate_resource_config::Response> {
        let request = request.into_inner();
        let ctx = self.context();
        let diags = guarded(
            "ValidateResourceConfig",
            &ctx,
            async {
                let resource = match self.resource(&request.type_name) {
                    Ok(r) => r,
                    Err(d) => return d,
                };
                let config = match decode(request.config.as_ref(), resource.schema().value_type(), "configuration") {
                    Ok(c) => c,
                    Err(d) => return d,
                };
                validate_config(resource.as_ref(), &config)
            },
            |d, _| d,
        )
        .await;
        Ok(Response::new(wire::validate_resource_config::Response { diagnostics: diagnostics_to_wire(diags) }))
    }

    async fn validate_data_resource_config(
        &self,
        request: Request<wire::validate_data_resource_config::Request>,
    ) -> RpcResult<wire::validate_data_resource_config::Response> {
        let request = request.into_inner();
        let diags = match self.provider.data_source(&request.type_name) {
            None => unknown_type("data source", &request.type_name),
            Some(ds) => match decode(request.config.as_ref(), ds.schema().value_type(), "configuration") {
                Ok(config) => ds.schema().validate(&config),
                Err(d) => d,
            },
        };
        Ok(Response::new(wire::validate_data_resource_config::Response { diagnostics: diagnostics_to_wire(diags) }))
    }

    async fn upgrade_resource_state(&self, request: Request<wire::upgrade_resource_state::Request>) -> RpcResult<wire::upgrade_resource_state::Response> {
        let request = request.into_inner();
        let result = (|| {
            let resource = self.resource(&request.type_name)?;
            let schema = resource.schema();
            if request.version > schema.version {
                return Err(Diagnostics::error(
                    "State written by a newer provider",
                    format!(
                        "The state of this {} has schema version {}, newer than this provider's {}. Upgrade the provider.",
                        request.type_name, request.version, schema.version
                    ),
                ));
            }
            let raw = request.raw_state.as_ref().map(|r| r.json.as_slice()).unwrap_or_default();
            let ty = schema.value_type();
            // Attributes no longer in the schema are dropped; new ones start null.
            let state =
                decode_json(raw, ty, true).map_err(|e| Diagnostics::error("Invalid stored state", format!("The stored state could not be read: {e}.")))?;
            encode(&state, ty)
        })();
        let (upgraded_state, diags) = split(result);
        Ok(Response::new(wire::upgrade_resource_state::Response { upgraded_state, diagnostics: diagnostics_to_wire(diags) }))
    }

    async fn get_resource_identity_schemas(
        &self,
        _: Request<wire::get_resource_identity_schemas::Request>,
    ) -> RpcResult<wire::get_resource_identity_schemas::Response> {
        let identity_schemas: HashMap<String, wire::ResourceIdentitySchema> =
            self.provider.resources().iter().filter_map(|r| Some((r.type_name().to_string(), identity_schema_to_wire(r.identity_schema()?)))).collect();
        Ok(Response::new(wire::get_resource_identity_schemas::Response { identity_schemas, diagnostics: Vec::new() }))
    }

    async fn upgrade_resource_identity(
        &self,
        request: Request<wire::upgrade_resource_identity::Request>,
    ) -> RpcResult<wire::upgrade_resource_identity::Response> {
        let request = request.into_inner();
        let result = (|| {
            let resource = self.resource(&request.type_name)?;
            let Some(schema) = resource.identity_schema() else {
                return Err(Diagnostics::error(
                    "Resource identity not supported",
                    format!("The {} type has no resource identity in this provider version.", request.type_name),
                ));
            };
            if request.version > schema.version {
                return Err(Diagnostics::error(
                    "Identity written by a newer provider",
                    format!("The stored identity has version {}, newer than this provider's {}. Upgrade the provider.", request.version, schema.version),
                ));
            }
            let raw = request.raw_identity.as_ref().map(|r| r.json.as_slice()).unwrap_or_default();
            let identity = decode_json(raw, schema.value_type(), true)
                .map_err(|e| Diagnostics::error("Invalid stored identity", format!("The stored identity could not be read: {e}.")))?;
            encode(&identity, schema.value_type())
        })();
        let (identity, diags) = split(result);
        Ok(Response::new(wire::upgrade_resource_identity::Response {
            upgraded_identity: identity.map(|v| wire::ResourceIdentityData { identity_data: Some(v) }),
            diagnostics: diagnostics_to_wire(diags),
        }))
    }

    async fn configure_provider(&self, request: Request<wire::configure_provider::Request>) -> RpcResult<wire::configure_provider::Response> {
        let request = request.into_inner();
        let ctx = self.context();
        let diags = guarded(
            "ConfigureProvider",
            &ctx,
            async {
                let schema = self.provider.schema();
                match decode(request.config.as_ref(), schema.value_type(), "provider configuration") {
                    Ok(config) => self.provider.configure(&ctx, &config, &request.terraform_version).await,
                    Err(d) => d,
                }
            },
            |d, _| d,
        )
        .instrument(tracing::debug_span!("rpc", tf_rpc = "ConfigureProvider"))
        .await;
        Ok(Response::new(wire::configure_provider::Response { diagnostics: diagnostics_to_wire(diags) }))
    }

    async fn read_resource(&self, request: Request<wire::read_resource::Request>) -> RpcResult<wire::read_resource::Response> {
        let request = request.into_inner();
        let ctx = self.context();
        let result = guarded(
            "ReadResource",
            &ctx,
            async {
                let resource = self.resource(&request.type_name)?;
                let ty = resource.schema().value_type();
                let state = decode(request.current_state.as_ref(), ty, "current state")?;
                if state.is_null() {
                    return Ok((encode(&Value::Null, ty)?, None));
                }
                if request.private == crate::framework::FAILED_CREATE_PRIVATE {
                    resource.refreshing_failed_create(&state);
                }
                match resource.read(&ctx, &state).await {
                    // A known identity is sent back unchanged when this one is not complete
                    // (the provider's account unknown); a removed object has none.
                    Ok(Some(new_state)) => {
                        let identity = identity_to_wire(resource.as_ref(), &new_state).or_else(|| request.current_identity.clone());
                        Ok((encode(&new_state, ty)?, identity))
                    }
                    Ok(None) => Ok((encode(&Value::Null, ty)?, None)),
                    // The prior state stays as it is when the read fails.
                    Err(diags) => Err(diags),
                }
            },
            |d, _| Err(d),
        )
        .instrument(tracing::debug_span!("rpc", tf_rpc = "ReadResource", tf_resource_type = %request.type_name))
        .await;
        let (new_state, new_identity, diags) = match result {
            Ok((state, identity)) => (Some(state), identity, ctx.warnings.take()),
            Err(d) => (request.current_state, request.current_identity, d),
        };
        Ok(Response::new(wire::read_resource::Response {
            new_state,
            diagnostics: diagnostics_to_wire(diags),
            private: request.private,
            new_identity,
            ..Default::default()
        }))
    }

    async fn plan_resource_change(&self, request: Request<wire::plan_resource_change::Request>) -> RpcResult<wire::plan_resource_change::Response> {
        let request = request.into_inner();
        let ctx = self.context();
        let result = guarded(
            "PlanResourceChange",
            &ctx,
            async {
                let resource = self.resource(&request.type_name)?;
                let ty = resource.schema().value_type();
                let prior = decode(request.prior_state.as_ref(), ty, "prior state")?;
                let proposed = decode(request.proposed_new_state.as_ref(), ty, "proposed new state")?;
                let config = decode(request.config.as_ref(), ty, "configuration")?;
                // Validated again: Terraform validates first, but nothing here relies on it.
                if !config.is_null() {
                    let diags = validate_config(resource.as_ref(), &config);
                    if diags.has_errors() {
                        return Err(diags);
                    }
                }
                let mut planned = plan(resource.schema(), &prior, &proposed, &config);
                if !prior.is_null() {
                    let reasons = resource.replacement_reasons(&prior, &planned.state);
                    force_replacement(resource.schema(), &config, &mut planned, reasons);
                }
                if !planned.state.is_null() {
                    resource.modify_plan(&prior, &config, &mut planned.state);
                }
                let warnings = resource.check_plan(&ctx, &prior, &config, &mut planned.state).await;
                if warnings.has_errors() {
                    return Err(warnings);
                }
                // An identity never changes in place: an update keeps the prior one
                // (absent for state written before identities); a new object has none yet.
                let identity = if planned.requires_replace.is_empty() && !prior.is_null() {
                    request.prior_identity.clone()
                } else {
                    identity_to_wire(resource.as_ref(), &planned.state)
                };
                Ok((encode(&planned.state, ty)?, planned.requires_replace, identity, warnings))
            },
            |d, _| Err(d),
        )
        .instrument(tracing::debug_span!("rpc", tf_rpc = "PlanResourceChange", tf_resource_type = %request.type_name))
        .await;
        let (planned_state, requires_replace, planned_identity, diags) = match result {
            Ok((state, replace, identity, warnings)) => (Some(state), replace, identity, warnings),
            Err(d) => (None, Vec::new(), None, d),
        };
        Ok(Response::new(wire::plan_resource_change::Response {
            planned_state,
            requires_replace: requires_replace.into_iter().map(path_to_wire).collect(),
            planned_private: request.prior_private,
            diagnostics: diagnostics_to_wire(diags),
            planned_identity,
            ..Default::default()
        }))
    }

    async fn apply_resource_change(&self, request: Request<wire::apply_resource_change::Request>) -> RpcResult<wire::apply_resource_change::Response> {
        let request = request.into_inner();
        let ctx = self.context();
        let resource = match self.resource(&request.type_name) {
            Ok(r) => r,
            Err(d) => return Ok(Response::new(apply_response(None, d))),
        };
        let ty = resource.schema().value_type();
        let decoded =
            decode(request.prior_state.as_ref(), ty, "prior state").and_then(|prior| Ok((prior, decode(request.planned_state.as_ref(), ty, "planned state")?)));
        let (prior, planned) = match decoded.and_then(|(prior, planned)| {
            validate_apply(resource.as_ref(), request.config.as_ref(), &planned)?;
            Ok((prior, planned))
        }) {
            Ok(pair) => pair,
            Err(d) => return Ok(Response::new(apply_response(request.prior_state, d))),
        };
        let outcome = guarded(
            "ApplyResourceChange",
            &ctx,
            async {
                match (prior.is_null(), planned.is_null()) {
                    (true, _) => resource.create(&ctx, &planned).await,
                    (false, true) => {
                        let diags = resource.delete(&ctx, &prior).await;
                        // A failed delete keeps the object in state.
                        let state = if diags.has_errors() { prior.clone() } else { Value::Null };
                        crate::framework::ApplyOutcome::failed(state, diags)
                    }
                    (false, false) => resource.update(&ctx, &prior, &planned).await,
                }
            },
            |d, partial| {
                // After a panic: whatever the operation recorded, else the prior state.
                crate::framework::ApplyOutcome::failed(partial.unwrap_or_else(|| prior.clone()), d)
            },
        )
        .instrument(tracing::debug_span!("rpc", tf_rpc = "ApplyResourceChange", tf_resource_type = %request.type_name))
        .await;
        let mut diags = outcome.diagnostics;
        let new_state = match encode(&outcome.state, ty) {
            Ok(v) => Some(v),
            Err(d) => {
                diags.extend(d);
                None
            }
        };
        let failed_create = prior.is_null() && diags.has_errors() && !outcome.state.is_null();
        let mut response = apply_response(new_state, diags);
        response.private = if failed_create { crate::framework::FAILED_CREATE_PRIVATE.to_vec() } else { request.planned_private };
        response.new_identity = identity_to_wire(resource.as_ref(), &outcome.state);
        Ok(Response::new(response))
    }

    async fn import_resource_state(&self, request: Request<wire::import_resource_state::Request>) -> RpcResult<wire::import_resource_state::Response> {
        let request = request.into_inner();
        let ctx = self.context();
        let result = guarded(
            "ImportResourceState",
            &ctx,
            async {
                let resource = self.resource(&request.type_name)?;
                let identity = request.identity.as_ref().and_then(|i| i.identity_data.as_ref());
                let state = match (identity, resource.identity_schema()) {
                    (Some(identity), Some(schema)) => {
                        let identity = decode(Some(identity), schema.value_type(), "identity")?;
                        resource.import_by_identity(&ctx, &identity).await?
                    }
                    _ => resource.import(&ctx, &request.id).await?,
                };
                Ok((encode(&state, resource.schema().value_type())?, identity_to_wire(resource.as_ref(), &state)))
            },
            |d, _| Err(d),
        )
        .instrument(tracing::debug_span!("rpc", tf_rpc = "ImportResourceState", tf_resource_type = %request.type_name))
        .await;
        let (imported, diags) = split(result);
        Ok(Response::new(wire::import_resource_state::Response {
            imported_resources: imported
                .map(|(state, identity)| wire::import_resource_state::ImportedResource {
                    type_name: request.type_name.clone(),
                    state: Some(state),
                    identity,
                    ..Default::default()
                })
                .into_iter()
                .collect(),
            diagnostics: diagnostics_to_wire(diags),
            ..Default::default()
        }))
    }

    async fn move_resource_state(&self, request: Request<wire::move_resource_state::Request>) -> RpcResult<wire::move_resource_state::Response> {
        let request = request.into_inner();
        let result = (|| {
            let resource = self.resource(&request.target_type_name)?;
            let (source, kind, version) = (&request.source_provider_address, &request.source_type_name, request.source_schema_version);
            if !resource.accepts_moved_state(source, kind, version) {
                return Err(Diagnostics::error(
                    "Move not supported",
                    format!("This provider cannot move {kind} (schema version {version}) of {source} to {}.", request.target_type_name),
                ));
            }
            let ty = resource.schema().value_type();
            let raw = request.source_state.as_ref().map(|r| r.json.as_slice()).unwrap_or_default();
            let state = decode_json(raw, ty, true)
                .map_err(|e| Diagnostics::error("Invalid source state", format!("The state of the {kind} could not be read: {e}.")))?;
            Ok((encode(&state, ty)?, identity_to_wire(resource.as_ref(), &state)))
        })();
        let (moved, diags) = split(result);
        let (target_state, target_identity) = moved.map_or((None, None), |(state, identity)| (Some(state), identity));
        Ok(Response::new(wire::move_resource_state::Response { target_state, target_identity, diagnostics: diagnostics_to_wire(diags), ..Default::default() }))
    }

    async fn read_data_source(&self, request: Request<wire::read_data_source::Request>) -> RpcResult<wire::read_data_source::Response> {
        let request = request.into_inner();
        let ctx = self.context();
        let result = guarded(
            "ReadDataSource",
            &ctx,
            async {
                let ds = self.provider.data_source(&request.type_name).ok_or_else(|| unknown_type("data source", &request.type_name))?;
                let ty = ds.schema().value_type();
                let config = decode(request.config.as_ref(), ty, "configuration")?;
                encode(&ds.read(&ctx, &config).await?, ty)
            },
            |d, _| Err(d),
        )
        .await;
        let (state, diags) = split(result);
        Ok(Response::new(wire::read_data_source::Response { state, diagnostics: diagnostics_to_wire(diags), ..Default::default() }))
    }

    async fn generate_resource_config(&self, request: Request<wire::generate_resource_config::Request>) -> RpcResult<wire::generate_resource_config::Response> {
        let request = request.into_inner();
        let ctx = self.context();
        let result = guarded(
            "GenerateResourceConfig",
            &ctx,
            async {
                let resource = self.resource(&request.type_name)?;
                let ty = resource.schema().value_type();
                let state = decode(request.state.as_ref(), ty, "state")?;
                encode(&resource.generate_config(&state), ty)
            },
            |d, _| Err(d),
        )
        .await;
        let (config, diags) = split(result);
        Ok(Response::new(wire::generate_resource_config::Response { config, diagnostics: diagnostics_to_wire(diags) }))
    }

    async fn validate_ephemeral_resource_config(
        &self,
        request: Request<wire::validate_ephemeral_resource_config::Request>,
    ) -> RpcResult<wire::validate_ephemeral_resource_config::Response> {
        let request = request.into_inner();
        let diags = match self.provider.ephemeral_resource(&request.type_name) {
            None => unknown_type("ephemeral resource", &request.type_name),
            Some(e) => match decode(request.config.as_ref(), e.schema().value_type(), "configuration") {
                Ok(config) => e.schema().validate(&config),
                Err(d) => d,
            },
        };
        Ok(Response::new(wire::validate_ephemeral_resource_config::Response { diagnostics: diagnostics_to_wire(diags) }))
    }

    async fn open_ephemeral_resource(&self, request: Request<wire::open_ephemeral_resource::Request>) -> RpcResult<wire::open_ephemeral_resource::Response> {
        let request = request.into_inner();
        let ctx = self.context();
        let result = guarded(
            "OpenEphemeralResource",
            &ctx,
            async {
                let ephemeral = self.provider.ephemeral_resource(&request.type_name).ok_or_else(|| unknown_type("ephemeral resource", &request.type_name))?;
                let ty = ephemeral.schema().value_type();
                let config = decode(request.config.as_ref(), ty, "configuration")?;
                let opened = ephemeral.open(&ctx, &config).await?;
                Ok((encode(&opened.result, ty)?, opened.private))
            },
            |d, _| Err(d),
        )
        .instrument(tracing::debug_span!("rpc", tf_rpc = "OpenEphemeralResource", tf_resource_type = %request.type_name))
        .await;
        let (opened, diags) = split(result);
        let (result, private) = opened.map_or((None, None), |(result, private)| (Some(result), Some(private)));
        Ok(Response::new(wire::open_ephemeral_resource::Response { result, private, diagnostics: diagnostics_to_wire(diags), ..Default::default() }))
    }

    /// Nothing this provider opens needs renewing within a run.
    async fn renew_ephemeral_resource(&self, request: Request<wire::renew_ephemeral_resource::Request>) -> RpcResult<wire::renew_ephemeral_resource::Response> {
        let request = request.into_inner();
        let diags = match self.provider.ephemeral_resource(&request.type_name) {
            None => unknown_type("ephemeral resource", &request.type_name),
            Some(_) => Diagnostics::new(),
        };
        Ok(Response::new(wire::renew_ephemeral_resource::Response { private: request.private, diagnostics: diagnostics_to_wire(diags), ..Default::default() }))
    }

    async fn close_ephemeral_resource(&self, request: Request<wire::close_ephemeral_resource::Request>) -> RpcResult<wire::close_ephemeral_resource::Response> {
        let request = request.into_inner();
        let ctx = self.context();
        let diags = guarded(
            "CloseEphemeralResource",
            &ctx,
            async {
                match self.provider.ephemeral_resource(&request.type_name) {
                    None => unknown_type("ephemeral resource", &request.type_name),
                    Some(e) => e.close(&ctx, request.private.as_deref().unwrap_or_default()).await,
                }
            },
            |d, _| d,
        )
        .instrument(tracing::debug_span!("rpc", tf_rpc = "CloseEphemeralResource", tf_resource_type = %request.type_name))
        .await;
        Ok(Response::new(wire::close_ephemeral_resource::Response { diagnostics: diagnostics_to_wire(diags) }))
    }

    type ListResourceStream = BoxStream<wire::list_resource::Event>;

    async fn list_resource(&self, request: Request<wire::list_resource::Request>) -> RpcResult<Self::ListResourceStream> {
        let request = request.into_inner();
        let ctx = self.context();
        let result = guarded(
            "ListResource",
            &ctx,
            async {
                let lister = self.provider.list_resource(&request.type_name).ok_or_else(|| unknown_type("list resource", &request.type_name))?;
                let resource = self.resource(&request.type_name)?;
                let config = decode(request.config.as_ref(), lister.schema().value_type(), "list configuration")?;
                let mut diags = lister.schema().validate(&config);
                if diags.has_errors() {
                    return Err(diags);
                }
                let found = lister.list(&ctx, &config).await?;
                let limit = usize::try_from(request.limit).ok().filter(|l| *l > 0).unwrap_or(usize::MAX);
                let mut events = Vec::new();
                for listed in found.into_iter().take(limit) {
                    let Some(identity) = identity_to_wire(resource.as_ref(), &listed.state) else {
                        diags.add_error(
                            "Listed object without identity",
                            format!("{} has no complete identity (is the provider's account known?).", listed.display_name),
                        );
                        return Err(diags);
                    };
                    let resource_object = match request.include_resource_object {
                        true => Some(encode(&listed.state, resource.schema().value_type())?),
                        false => None,
                    };
                    events.push(wire::list_resource::Event {
                        identity: Some(identity),
                        display_name: listed.display_name,
                        resource_object,
                        diagnostic: Vec::new(),
                    });
                }
                Ok(events)
            },
            |d, _| Err(d),
        )
        .instrument(tracing::debug_span!("rpc", tf_rpc = "ListResource", tf_resource_type = %request.type_name))
        .await;
        let events = match result {
            Ok(events) => events,
            Err(diags) => vec![wire::list_resource::Event { diagnostic: diagnostics_to_wire(diags), ..Default::default() }],
        };
        Ok(Response::new(Box::pin(futures::stream::iter(events.into_iter().map(Ok)))))
    }

    async fn validate_list_resource_config(
        &self,
        request: Request<wire::validate_list_resource_config::Request>,
    ) -> RpcResult<wire::validate_list_resource_config::Response> {
        let request = request.into_inner();
        let diags = match self.provider.list_resource(&request.type_name) {
            None => unknown_type("list resource", &request.type_name),
            Some(lister) => match decode(request.config.as_ref(), lister.schema().value_type(), "list configuration") {
                Ok(config) => lister.schema().validate(&config),
                Err(d) => d,
            },
        };
        Ok(Response::new(wire::validate_list_resource_config::Response { diagnostics: diagnostics_to_wire(diags) }))
    }

    async fn get_functions(&self, _: Request<wire::get_functions::Request>) -> RpcResult<wire::get_functions::Response> {
        Ok(Response::new(wire::get_functions::Response { functions: functions_to_wire(self.provider.as_ref()), diagnostics: Vec::new() }))
    }

    async fn call_function(&self, request: Request<wire::call_function::Request>) -> RpcResult<wire::call_function::Response> {
        let request = request.into_inner();
        let failed = |text: String, argument: Option<usize>| wire::call_function::Response {
            result: None,
            error: Some(wire::FunctionError { text, function_argument: argument.map(|a| a as i64) }),
        };
        let Some(function) = self.provider.functions().iter().find(|f| f.name() == request.name) else {
            return Ok(Response::new(failed(format!("This provider has no function \"{}\".", request.name), None)));
        };
        let parameters = function.parameters();
        if request.arguments.len() != parameters.len() {
            let text = format!("{} takes {} arguments, not {}.", function.name(), parameters.len(), request.arguments.len());
            return Ok(Response::new(failed(text, None)));
        }
        let mut arguments = Vec::with_capacity(parameters.len());
        for (i, (argument, parameter)) in request.arguments.iter().zip(parameters).enumerate() {
            match decode(Some(argument), &parameter.ty, "argument") {
                Ok(value) => arguments.push(value),
                Err(d) => return Ok(Response::new(failed(first_detail(&d), Some(i)))),
            }
        }
        // The panic payload is never shown: an argument may be a secret.
        let called = std::panic::catch_unwind(AssertUnwindSafe(|| function.call(&arguments)))
            .unwrap_or_else(|_| Err(crate::framework::FunctionError { text: "The provider hit an internal error.".into(), argument: None }));
        let response = match called.map(|value| encode(&value, &function.return_type())) {
            Ok(Ok(result)) => wire::call_function::Response { result: Some(result), error: None },
            Ok(Err(d)) => failed(first_detail(&d), None),
            Err(e) => failed(e.text, e.argument),
        };
        Ok(Response::new(response))
    }

    async fn validate_state_store_config(&self, request: Request<wire::validate_state_store::Request>) -> RpcResult<wire::validate_state_store::Response> {
        let diags = unknown_type("state store", &request.into_inner().type_name);
        Ok(Response::new(wire::validate_state_store::Response { diagnostics: diagnostics_to_wire(diags) }))
    }

    async fn configure_state_store(&self, request: Request<wire::configure_state_store::Request>) -> RpcResult<wire::configure_state_store::Response> {
        let diags = unknown_type("state store", &request.into_inner().type_name);
        Ok(Response::new(wire::configure_state_store::Response { diagnostics: diagnostics_to_wire(diags) }))
    }

    type ReadStateBytesStream = BoxStream<wire::read_state_bytes::Response>;

    async fn read_state_bytes(&self, request: Request<wire::read_state_bytes::Request>) -> RpcResult<Self::ReadStateBytesStream> {
        let diags = unknown_type("state store", &request.into_inner().type_name);
        Ok(Response::new(one_event(wire::read_state_bytes::Response { diagnostics: diagnostics_to_wire(diags), ..Default::default() })))
    }

    async fn write_state_bytes(&self, _: Request<tonic::Streaming<wire::write_state_bytes::RequestChunk>>) -> RpcResult<wire::write_state_bytes::Response> {
        let diags = Diagnostics::error("No state store", "This provider has no state store.");
        Ok(Response::new(wire::write_state_bytes::Response { diagnostics: diagnostics_to_wire(diags) }))
    }

    async fn get_states(&self, request: Request<wire::get_states::Request>) -> RpcResult<wire::get_states::Response> {
        let diags = unknown_type("state store", &request.into_inner().type_name);
        Ok(Response::new(wire::get_states::Response { state_id: Vec::new(), diagnostics: diagnostics_to_wire(diags) }))
    }

    async fn delete_state(&self, request: Request<wire::delete_state::Request>) -> RpcResult<wire::delete_state::Response> {
        let diags = unknown_type("state store", &request.into_inner().type_name);
        Ok(Response::new(wire::delete_state::Response { diagnostics: diagnostics_to_wire(diags) }))
    }

    async fn plan_action(&self, request: Request<wire::plan_action::Request>) -> RpcResult<wire::plan_action::Response> {
        let diags = unknown_type("action", &request.into_inner().action_type);
        Ok(Response::new(wire::plan_action::Response { diagnostics: diagnostics_to_wire(diags), deferred: None }))
    }

    type InvokeActionStream = BoxStream<wire::invoke_action::Event>;

    async fn invoke_action(&self, request: Request<wire::invoke_action::Request>) -> RpcResult<Self::InvokeActionStream> {
        use wire::invoke_action::event::{Completed, Type as EventType};
        let diags = unknown_type("action", &request.into_inner().action_type);
        Ok(Response::new(one_event(wire::invoke_action::Event { r#type: Some(EventType::Completed(Completed { diagnostics: diagnostics_to_wire(diags) })) })))
    }

    async fn validate_action_config(&self, request: Request<wire::validate_action_config::Request>) -> RpcResult<wire::validate_action_config::Response> {
        let diags = unknown_type("action", &request.into_inner().type_name);
        Ok(Response::new(wire::validate_action_config::Response { diagnostics: diagnostics_to_wire(diags) }))
    }

    async fn stop_provider(&self, _: Request<wire::stop_provider::Request>) -> RpcResult<wire::stop_provider::Response> {
        let previous = std::mem::take(&mut *self.stop.lock().unwrap_or_else(|p| p.into_inner()));
        previous.cancel();
        tracing::info!("StopProvider: in-flight operations cancelled");
        Ok(Response::new(wire::stop_provider::Response { error: String::new() }))
    }
}

fn server_capabilities() -> wire::ServerCapabilities {
    wire::ServerCapabilities { get_provider_schema_optional: false, generate_resource_config: true, move_resource_state: true, ..Default::default() }
}

fn split<T>(result: Result<T, Diagnostics>) -> (Option<T>, Diagnostics) {
    match result {
        Ok(v) => (Some(v), Diagnostics::new()),
        Err(d) => (None, d),
    }
}

/// A resource's whole validation of a configuration, as ValidateResourceConfig
/// runs it; plan and apply run it again.
fn validate_config(resource: &dyn Resource, config: &Value) -> Diagnostics {
    let mut diags = resource.schema().validate(config);
    resource.validate(config, &mut diags);
    diags
}

/// Before an apply sends anything: the configuration is wholly known (Terraform
/// never applies an unknown one) and valid, and the planned values pass the
/// attributes' validators (they are what the resource sends to AWS).
fn validate_apply(resource: &dyn Resource, config: Option<&wire::DynamicValue>, planned: &Value) -> Result<(), Diagnostics> {
    if planned.is_null() {
        return Ok(()); // a delete acts on the prior state: what AWS reported
    }
    let config = decode(config, resource.schema().value_type(), "configuration")?;
    if !config.is_wholly_known() {
        return Err(Diagnostics::error(
            "Unknown value at apply",
            "The configuration holds a value that is not known yet. Terraform resolves every configured value before \
             it applies; this provider refuses to guess one (an unknown user would otherwise mean the caller).",
        ));
    }
    let mut diags = validate_config(resource, &config);
    // The validators have just seen the configured values; of the plan, only what
    // the provider filled in (a computed user, say) is left to check.
    let filled_in = match planned {
        Value::Object(attributes) => {
            Value::Object(attributes.iter().map(|(name, v)| (name.clone(), if config.get(name) == v { Value::Null } else { v.clone() })).collect())
        }
        other => other.clone(),
    };
    diags.extend(resource.schema().validate_planned(&filled_in));
    if diags.has_errors() {
        return Err(diags);
    }
    Ok(())
}

fn apply_response(new_state: Option<wire::DynamicValue>, diags: Diagnostics) -> wire::apply_resource_change::Response {
    wire::apply_resource_change::Response { new_state, diagnostics: diagnostics_to_wire(diags), ..Default::default() }
}

/// A function error carries one message: the first diagnostic's detail.
fn first_detail(diags: &Diagnostics) -> String {
    diags.first().map(|d| d.detail.clone()).unwrap_or_default()
}
