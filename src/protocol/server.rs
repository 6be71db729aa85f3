//! The tfplugin6 `Provider` service, thin: each RPC converts its request, calls
//! the framework server and converts the answer. The rules live in
//! `framework::server`; this module knows neither them nor IAM.
//!
//! Rules kept here:
//! - every RPC runs in `serve`: one span (RPC, type, request id) and one panic
//!   guard, which answers with an error diagnostic (and for an apply, the state
//!   the operation recorded) and keeps the server serving;
//! - domain failures travel as diagnostics; a gRPC status only for protocol faults;
//! - every RPC Terraform 1.15 may call gets an answer (never `Unimplemented`);
//! - StopProvider cancels in-flight work and the server keeps serving.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use futures::{FutureExt, Stream};
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};
use tracing::Instrument;

use super::convert::{self, diagnostics, encode_into, identity_change, Stored};
use super::{unsupported, wire};
use crate::framework::server::{self as fw, Encoded};
use crate::framework::{FunctionError, OpContext, Provider, FAILED_CREATE_PRIVATE};
use crate::value::{Diagnostics, Value};

type RpcResult<T> = Result<Response<T>, Status>;
type BoxStream<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send + 'static>>;

/// Serves a framework [`Provider`] as `tfplugin6.Provider`.
pub struct ProviderService {
    provider: Arc<dyn Provider>,
    /// Cancelled by StopProvider and then replaced, so later requests run normally.
    stop: Mutex<CancellationToken>,
    schema_response: OnceLock<wire::get_provider_schema::Response>,
    requests: AtomicU64,
}

impl ProviderService {
    pub fn new(provider: Arc<dyn Provider>) -> Self {
        ProviderService { provider, stop: Mutex::default(), schema_response: OnceLock::new(), requests: AtomicU64::new(1) }
    }

    /// The generated tonic server, with 256 MiB message limits as terraform-plugin-go serves.
    pub fn into_server(self) -> wire::provider_server::ProviderServer<ProviderService> {
        const MAX_MESSAGE: usize = 256 << 20;
        wire::provider_server::ProviderServer::new(self).max_decoding_message_size(MAX_MESSAGE).max_encoding_message_size(MAX_MESSAGE)
    }

    fn provider(&self) -> &dyn Provider {
        self.provider.as_ref()
    }

    /// Runs one RPC's work in its span, behind the panic guard. `on_panic` builds
    /// the answer from an error diagnostic and any state the operation recorded.
    /// The panic payload is never shown: it might hold a secret.
    async fn serve<'s, T, F>(
        &'s self,
        rpc: &'static str,
        type_name: &str,
        work: impl FnOnce(OpContext) -> F,
        on_panic: impl FnOnce(Diagnostics, Option<Value>) -> T,
    ) -> T
    where
        F: Future<Output = T> + 's,
    {
        let ctx = OpContext { cancel: self.stop.lock().unwrap_or_else(|p| p.into_inner()).child_token(), ..Default::default() };
        let recorded = ctx.partial_state.clone();
        let request_id = self.requests.fetch_add(1, Ordering::Relaxed);
        let span = tracing::debug_span!("rpc", tf_rpc = rpc, tf_resource_type = type_name, tf_req_id = request_id);
        let work = work(ctx);
        let guarded = AssertUnwindSafe(async move {
            crate::testhooks::panic_point(rpc);
            work.await
        });
        match guarded.catch_unwind().instrument(span).await {
            Ok(answer) => answer,
            Err(_payload) => {
                tracing::error!(tf_rpc = rpc, tf_req_id = request_id, "the provider panicked while handling the call");
                let detail = format!(
                    "The provider hit an internal error while handling {rpc}. Any object it had already created is recorded in state, \
                     so Terraform keeps track of it. Please report this issue with the provider's log (TF_LOG_PROVIDER=debug)."
                );
                on_panic(Diagnostics::error("Provider internal error", detail), recorded.take())
            }
        }
    }

    /// `serve` for an RPC whose answer on a panic is its diagnostics alone.
    async fn answer<'s, T: Failed, F: Future<Output = T> + 's>(
        &'s self,
        rpc: &'static str,
        type_name: &str,
        work: impl FnOnce(OpContext) -> F,
    ) -> RpcResult<T> {
        Ok(Response::new(self.serve(rpc, type_name, work, |d, _| T::failed(diagnostics(d))).await))
    }
}

/// A response that can carry only diagnostics.
trait Failed {
    fn failed(diagnostics: Vec<wire::Diagnostic>) -> Self;
}

macro_rules! failed_with_diagnostics {
    ($($response:path),* $(,)?) => {$(
        #[allow(clippy::needless_update)]
        impl Failed for $response {
            fn failed(diagnostics: Vec<wire::Diagnostic>) -> Self {
                Self { diagnostics, ..Default::default() }
            }
        }
    )*};
}

failed_with_diagnostics!(
    wire::get_provider_schema::Response,
    wire::validate_provider_config::Response,
    wire::validate_resource_config::Response,
    wire::validate_data_resource_config::Response,
    wire::validate_list_resource_config::Response,
    wire::validate_ephemeral_resource_config::Response,
    wire::configure_provider::Response,
    wire::upgrade_resource_state::Response,
    wire::upgrade_resource_identity::Response,
    wire::get_resource_identity_schemas::Response,
    wire::plan_resource_change::Response,
    wire::import_resource_state::Response,
    wire::move_resource_state::Response,
    wire::read_data_source::Response,
    wire::generate_resource_config::Response,
    wire::open_ephemeral_resource::Response,
    wire::renew_ephemeral_resource::Response,
    wire::close_ephemeral_resource::Response,
    wire::get_functions::Response,
);

impl Failed for wire::get_metadata::Response {
    fn failed(diagnostics: Vec<wire::Diagnostic>) -> Self {
        Self { diagnostics, ..Default::default() }
    }
}

fn one_event<T: Send + 'static>(event: T) -> BoxStream<T> {
    Box::pin(futures::stream::once(async move { Ok(event) }))
}

#[tonic::async_trait]
impl wire::provider_server::Provider for ProviderService {
    async fn get_metadata(&self, _: Request<wire::get_metadata::Request>) -> RpcResult<wire::get_metadata::Response> {
        use wire::get_metadata as m;
        let p = self.provider();
        self.answer("GetMetadata", "", |_| async {
            m::Response {
                server_capabilities: Some(convert::server_capabilities()),
                resources: p.resources().iter().map(|r| m::ResourceMetadata { type_name: r.type_name().into() }).collect(),
                data_sources: p.data_sources().iter().map(|d| m::DataSourceMetadata { type_name: d.type_name().into() }).collect(),
                list_resources: p.list_resources().iter().map(|l| m::ListResourceMetadata { type_name: l.type_name().into() }).collect(),
                functions: p.functions().iter().map(|f| m::FunctionMetadata { name: f.name().into() }).collect(),
                ephemeral_resources: p.ephemeral_resources().iter().map(|e| m::EphemeralMetadata { type_name: e.type_name().into() }).collect(),
                ..Default::default()
            }
        })
        .await
    }

    async fn get_provider_schema(&self, _: Request<wire::get_provider_schema::Request>) -> RpcResult<wire::get_provider_schema::Response> {
        let p = self.provider();
        let schemas =
            |items: Vec<(&str, &crate::framework::schema::Schema)>| items.into_iter().map(|(name, s)| (name.to_string(), convert::schema(s))).collect();
        self.answer("GetProviderSchema", "", |_| async {
            let response = self.schema_response.get_or_init(|| wire::get_provider_schema::Response {
                provider: Some(convert::schema(p.schema())),
                resource_schemas: schemas(p.resources().iter().map(|r| (r.type_name(), r.schema())).collect()),
                data_source_schemas: schemas(p.data_sources().iter().map(|d| (d.type_name(), d.schema())).collect()),
                list_resource_schemas: schemas(p.list_resources().iter().map(|l| (l.type_name(), l.schema())).collect()),
                ephemeral_resource_schemas: schemas(p.ephemeral_resources().iter().map(|e| (e.type_name(), e.schema())).collect()),
                functions: convert::functions(p),
                server_capabilities: Some(convert::server_capabilities()),
                ..Default::default()
            });
            response.clone()
        })
        .await
    }

    async fn get_resource_identity_schemas(
        &self,
        _: Request<wire::get_resource_identity_schemas::Request>,
    ) -> RpcResult<wire::get_resource_identity_schemas::Response> {
        let resources = self.provider().resources();
        self.answer("GetResourceIdentitySchemas", "", |_| async {
            let identity_schemas = resources.iter().filter_map(|r| Some((r.type_name().to_string(), convert::identity_schema(r.identity_schema()?))));
            wire::get_resource_identity_schemas::Response { identity_schemas: identity_schemas.collect(), diagnostics: Vec::new() }
        })
        .await
    }

    async fn get_functions(&self, _: Request<wire::get_functions::Request>) -> RpcResult<wire::get_functions::Response> {
        self.answer("GetFunctions", "", |_| async { wire::get_functions::Response { functions: convert::functions(self.provider()), diagnostics: Vec::new() } })
            .await
    }

    async fn validate_provider_config(&self, request: Request<wire::validate_provider_config::Request>) -> RpcResult<wire::validate_provider_config::Response> {
        let r = &request.into_inner();
        self.answer("ValidateProviderConfig", "", |_| async {
            wire::validate_provider_config::Response { diagnostics: diagnostics(fw::validate::provider_config(self.provider(), &r.config)) }
        })
        .await
    }

    async fn validate_resource_config(&self, request: Request<wire::validate_resource_config::Request>) -> RpcResult<wire::validate_resource_config::Response> {
        let r = &request.into_inner();
        self.answer("ValidateResourceConfig", &r.type_name, |_| async {
            wire::validate_resource_config::Response { diagnostics: diagnostics(fw::validate::resource_config(self.provider(), &r.type_name, &r.config)) }
        })
        .await
    }

    async fn validate_data_resource_config(
        &self,
        request: Request<wire::validate_data_resource_config::Request>,
    ) -> RpcResult<wire::validate_data_resource_config::Response> {
        let r = &request.into_inner();
        self.answer("ValidateDataResourceConfig", &r.type_name, |_| async {
            wire::validate_data_resource_config::Response {
                diagnostics: diagnostics(fw::validate::data_source_config(self.provider(), &r.type_name, &r.config)),
            }
        })
        .await
    }

    async fn validate_list_resource_config(
        &self,
        request: Request<wire::validate_list_resource_config::Request>,
    ) -> RpcResult<wire::validate_list_resource_config::Response> {
        let r = &request.into_inner();
        self.answer("ValidateListResourceConfig", &r.type_name, |_| async {
            let diags = fw::validate::list_resource_config(self.provider(), &r.type_name, &r.config);
            wire::validate_list_resource_config::Response { diagnostics: diagnostics(diags) }
        })
        .await
    }

    async fn validate_ephemeral_resource_config(
        &self,
        request: Request<wire::validate_ephemeral_resource_config::Request>,
    ) -> RpcResult<wire::validate_ephemeral_resource_config::Response> {
        let r = &request.into_inner();
        self.answer("ValidateEphemeralResourceConfig", &r.type_name, |_| async {
            let diags = fw::validate::ephemeral_resource_config(self.provider(), &r.type_name, &r.config);
            wire::validate_ephemeral_resource_config::Response { diagnostics: diagnostics(diags) }
        })
        .await
    }

    async fn configure_provider(&self, request: Request<wire::configure_provider::Request>) -> RpcResult<wire::configure_provider::Response> {
        let r = &request.into_inner();
        self.answer("ConfigureProvider", "", |ctx| async move {
            let diags = fw::configure::configure_provider(&ctx, self.provider(), &r.config, &r.terraform_version).await;
            wire::configure_provider::Response { diagnostics: diagnostics(diags) }
        })
        .await
    }

    async fn upgrade_resource_state(&self, request: Request<wire::upgrade_resource_state::Request>) -> RpcResult<wire::upgrade_resource_state::Response> {
        let r = &request.into_inner();
        self.answer("UpgradeResourceState", &r.type_name, |_| async {
            let mut diags = Diagnostics::new();
            let upgraded =
                fw::upgrade::upgrade_resource_state(self.provider(), &r.type_name, r.version, &Stored(r.raw_state.as_ref())).map_err(|d| diags.extend(d));
            let upgraded_state = encode_into(upgraded.as_ref().ok(), &mut diags);
            wire::upgrade_resource_state::Response { upgraded_state, diagnostics: diagnostics(diags) }
        })
        .await
    }

    async fn upgrade_resource_identity(
        &self,
        request: Request<wire::upgrade_resource_identity::Request>,
    ) -> RpcResult<wire::upgrade_resource_identity::Response> {
        let r = &request.into_inner();
        self.answer("UpgradeResourceIdentity", &r.type_name, |_| async {
            let (identity, diags) = split(fw::upgrade::upgrade_resource_identity(self.provider(), &r.type_name, r.version, &Stored(r.raw_identity.as_ref())));
            wire::upgrade_resource_identity::Response { upgraded_identity: convert::identity(identity.as_ref()), diagnostics: diagnostics(diags) }
        })
        .await
    }

    async fn read_resource(&self, request: Request<wire::read_resource::Request>) -> RpcResult<wire::read_resource::Response> {
        let r = &request.into_inner();
        let kept = |diags| fw::read::ReadResponse::kept(diags);
        let read = self
            .serve(
                "ReadResource",
                &r.type_name,
                |ctx| async move { fw::read::read_resource(&ctx, self.provider(), &r.type_name, &r.current_state, &r.private).await },
                |d, _| kept(d),
            )
            .await;
        let mut diags = read.diagnostics;
        let new_state = encode_into(read.new_state.as_ref(), &mut diags).or_else(|| r.current_state.clone());
        let new_identity = identity_change(&read.identity, r.current_identity.clone());
        Ok(Response::new(wire::read_resource::Response {
            new_state,
            new_identity,
            private: r.private.clone(),
            diagnostics: diagnostics(diags),
            ..Default::default()
        }))
    }

    async fn plan_resource_change(&self, request: Request<wire::plan_resource_change::Request>) -> RpcResult<wire::plan_resource_change::Response> {
        let r = &request.into_inner();
        self.answer("PlanResourceChange", &r.type_name, |ctx| async move {
            let request = fw::plan::PlanRequest { type_name: &r.type_name, prior: &r.prior_state, proposed: &r.proposed_new_state, config: &r.config };
            let plan = match fw::plan::plan_resource_change(&ctx, self.provider(), request).await {
                Ok(plan) => plan,
                Err(d) => return Failed::failed(diagnostics(d)),
            };
            let mut diags = plan.diagnostics;
            wire::plan_resource_change::Response {
                planned_state: encode_into(Some(&plan.planned_state), &mut diags),
                requires_replace: plan.requires_replace.into_iter().map(convert::path).collect(),
                planned_private: r.prior_private.clone(),
                planned_identity: identity_change(&plan.identity, r.prior_identity.clone()),
                diagnostics: diagnostics(diags),
                ..Default::default()
            }
        })
        .await
    }

    async fn apply_resource_change(&self, request: Request<wire::apply_resource_change::Request>) -> RpcResult<wire::apply_resource_change::Response> {
        let r = &request.into_inner();
        let p = self.provider();
        let applied = self
            .serve(
                "ApplyResourceChange",
                &r.type_name,
                |ctx| async move {
                    let request = fw::apply::ApplyRequest { type_name: &r.type_name, prior: &r.prior_state, planned: &r.planned_state, config: &r.config };
                    fw::apply::apply_resource_change(&ctx, p, request).await
                },
                |d, recorded| fw::apply::after_panic(p, &r.type_name, &r.prior_state, d, recorded),
            )
            .await;
        let mut diags = applied.diagnostics;
        let new_state = encode_into(applied.new_state.as_ref(), &mut diags).or_else(|| r.prior_state.clone());
        Ok(Response::new(wire::apply_resource_change::Response {
            new_state,
            private: if applied.failed_create { FAILED_CREATE_PRIVATE.to_vec() } else { r.planned_private.clone() },
            new_identity: convert::identity(applied.identity.as_ref()),
            diagnostics: diagnostics(diags),
            ..Default::default()
        }))
    }

    async fn import_resource_state(&self, request: Request<wire::import_resource_state::Request>) -> RpcResult<wire::import_resource_state::Response> {
        let r = &request.into_inner();
        self.answer("ImportResourceState", &r.type_name, |ctx| async move {
            let identity = r.identity.as_ref().and_then(|i| i.identity_data.as_ref()).map(|i| i as &dyn Encoded);
            let (imported, mut diags) = split(fw::import::import_resource_state(&ctx, self.provider(), &r.type_name, &r.id, identity).await);
            let imported = imported.and_then(|imported| {
                let state = encode_into(Some(&imported.state), &mut diags)?;
                let identity = convert::identity(imported.identity.as_ref());
                Some(wire::import_resource_state::ImportedResource { type_name: r.type_name.clone(), state: Some(state), identity, ..Default::default() })
            });
            wire::import_resource_state::Response { imported_resources: imported.into_iter().collect(), diagnostics: diagnostics(diags), ..Default::default() }
        })
        .await
    }

    async fn move_resource_state(&self, request: Request<wire::move_resource_state::Request>) -> RpcResult<wire::move_resource_state::Response> {
        let r = &request.into_inner();
        self.answer("MoveResourceState", &r.target_type_name, |_| async {
            let source = fw::upgrade::MoveSource { provider: &r.source_provider_address, type_name: &r.source_type_name, version: r.source_schema_version };
            let (moved, mut diags) = split(fw::upgrade::move_resource_state(self.provider(), &r.target_type_name, source, &Stored(r.source_state.as_ref())));
            let target_state = encode_into(moved.as_ref().map(|(state, _)| state), &mut diags);
            let target_identity = convert::identity(moved.as_ref().and_then(|(_, identity)| identity.as_ref()));
            wire::move_resource_state::Response { target_state, target_identity, diagnostics: diagnostics(diags), ..Default::default() }
        })
        .await
    }

    async fn read_data_source(&self, request: Request<wire::read_data_source::Request>) -> RpcResult<wire::read_data_source::Response> {
        let r = &request.into_inner();
        self.answer("ReadDataSource", &r.type_name, |ctx| async move {
            let (state, mut diags) = split(fw::read::read_data_source(&ctx, self.provider(), &r.type_name, &r.config).await);
            let state = encode_into(state.as_ref(), &mut diags);
            wire::read_data_source::Response { state, diagnostics: diagnostics(diags), ..Default::default() }
        })
        .await
    }

    async fn generate_resource_config(&self, request: Request<wire::generate_resource_config::Request>) -> RpcResult<wire::generate_resource_config::Response> {
        let r = &request.into_inner();
        self.answer("GenerateResourceConfig", &r.type_name, |_| async {
            let (config, mut diags) = split(fw::import::generate_resource_config(self.provider(), &r.type_name, &r.state));
            let config = encode_into(config.as_ref(), &mut diags);
            wire::generate_resource_config::Response { config, diagnostics: diagnostics(diags) }
        })
        .await
    }

    async fn open_ephemeral_resource(&self, request: Request<wire::open_ephemeral_resource::Request>) -> RpcResult<wire::open_ephemeral_resource::Response> {
        let r = &request.into_inner();
        self.answer("OpenEphemeralResource", &r.type_name, |ctx| async move {
            let (opened, mut diags) = split(fw::ephemeral::open(&ctx, self.provider(), &r.type_name, &r.config).await);
            let result = encode_into(opened.as_ref().map(|o| &o.result), &mut diags);
            let private = result.as_ref().and(opened.map(|o| o.private));
            wire::open_ephemeral_resource::Response { result, private, diagnostics: diagnostics(diags), ..Default::default() }
        })
        .await
    }

    async fn renew_ephemeral_resource(&self, request: Request<wire::renew_ephemeral_resource::Request>) -> RpcResult<wire::renew_ephemeral_resource::Response> {
        let r = &request.into_inner();
        self.answer("RenewEphemeralResource", &r.type_name, |_| async {
            let diags = fw::ephemeral::renew(self.provider(), &r.type_name);
            wire::renew_ephemeral_resource::Response { private: r.private.clone(), diagnostics: diagnostics(diags), ..Default::default() }
        })
        .await
    }

    async fn close_ephemeral_resource(&self, request: Request<wire::close_ephemeral_resource::Request>) -> RpcResult<wire::close_ephemeral_resource::Response> {
        let r = &request.into_inner();
        self.answer("CloseEphemeralResource", &r.type_name, |ctx| async move {
            let diags = fw::ephemeral::close(&ctx, self.provider(), &r.type_name, r.private.as_deref().unwrap_or_default()).await;
            wire::close_ephemeral_resource::Response { diagnostics: diagnostics(diags) }
        })
        .await
    }

    type ListResourceStream = BoxStream<wire::list_resource::Event>;

    async fn list_resource(&self, request: Request<wire::list_resource::Request>) -> RpcResult<Self::ListResourceStream> {
        let r = &request.into_inner();
        let failed = |d| vec![wire::list_resource::Event { diagnostic: diagnostics(d), ..Default::default() }];
        let work = |ctx: OpContext| async move {
            let request =
                fw::list::ListRequest { type_name: &r.type_name, config: &r.config, limit: r.limit, include_resource_object: r.include_resource_object };
            let listed = fw::list::list_resource(&ctx, self.provider(), request).await?;
            let mut diags = Diagnostics::new();
            let events = listed
                .into_iter()
                .map(|o| wire::list_resource::Event {
                    identity: convert::identity(Some(&o.identity)),
                    display_name: o.display_name,
                    resource_object: encode_into(o.state.as_ref(), &mut diags),
                    diagnostic: Vec::new(),
                })
                .collect::<Vec<_>>();
            if diags.has_errors() {
                return Err(diags);
            }
            Ok(events)
        };
        let events = self.serve("ListResource", &r.type_name, |ctx| async move { work(ctx).await.unwrap_or_else(failed) }, |d, _| failed(d)).await;
        Ok(Response::new(Box::pin(futures::stream::iter(events.into_iter().map(Ok)))))
    }

    async fn call_function(&self, request: Request<wire::call_function::Request>) -> RpcResult<wire::call_function::Response> {
        let r = &request.into_inner();
        let failed = |e: FunctionError| wire::call_function::Response {
            result: None,
            error: Some(wire::FunctionError { text: e.text, function_argument: e.argument.map(|a| a as i64) }),
        };
        let work = |_| async {
            let arguments: Vec<&dyn Encoded> = r.arguments.iter().map(|a| a as &dyn Encoded).collect();
            let (value, ty) = fw::function::call_function(self.provider(), &r.name, &arguments).map_err(failed)?;
            let encoded = convert::encode(&fw::Typed { value, ty: &ty });
            Ok(wire::call_function::Response {
                result: Some(encoded.map_err(|d| failed(FunctionError { text: first_detail(&d), argument: None }))?),
                error: None,
            })
        };
        // The panic text is generic: an argument may be a secret.
        let on_panic = |_, _| Err(failed(FunctionError { text: "The provider hit an internal error.".into(), argument: None }));
        let answer = self.serve("CallFunction", &r.name, |ctx| async move { work(ctx).await }, on_panic).await;
        Ok(Response::new(answer.unwrap_or_else(|e| e)))
    }

    async fn validate_state_store_config(&self, request: Request<wire::validate_state_store::Request>) -> RpcResult<wire::validate_state_store::Response> {
        Ok(Response::new(unsupported::validate_state_store(request.into_inner())))
    }

    async fn configure_state_store(&self, request: Request<wire::configure_state_store::Request>) -> RpcResult<wire::configure_state_store::Response> {
        Ok(Response::new(unsupported::configure_state_store(request.into_inner())))
    }

    type ReadStateBytesStream = BoxStream<wire::read_state_bytes::Response>;

    async fn read_state_bytes(&self, request: Request<wire::read_state_bytes::Request>) -> RpcResult<Self::ReadStateBytesStream> {
        Ok(Response::new(one_event(unsupported::read_state_bytes(request.into_inner()))))
    }

    async fn write_state_bytes(&self, _: Request<tonic::Streaming<wire::write_state_bytes::RequestChunk>>) -> RpcResult<wire::write_state_bytes::Response> {
        Ok(Response::new(unsupported::write_state_bytes()))
    }

    async fn get_states(&self, request: Request<wire::get_states::Request>) -> RpcResult<wire::get_states::Response> {
        Ok(Response::new(unsupported::get_states(request.into_inner())))
    }

    async fn delete_state(&self, request: Request<wire::delete_state::Request>) -> RpcResult<wire::delete_state::Response> {
        Ok(Response::new(unsupported::delete_state(request.into_inner())))
    }

    async fn plan_action(&self, request: Request<wire::plan_action::Request>) -> RpcResult<wire::plan_action::Response> {
        Ok(Response::new(unsupported::plan_action(request.into_inner())))
    }

    type InvokeActionStream = BoxStream<wire::invoke_action::Event>;

    async fn invoke_action(&self, request: Request<wire::invoke_action::Request>) -> RpcResult<Self::InvokeActionStream> {
        Ok(Response::new(one_event(unsupported::invoke_action(request.into_inner()))))
    }

    async fn validate_action_config(&self, request: Request<wire::validate_action_config::Request>) -> RpcResult<wire::validate_action_config::Response> {
        Ok(Response::new(unsupported::validate_action_config(request.into_inner())))
    }

    async fn stop_provider(&self, _: Request<wire::stop_provider::Request>) -> RpcResult<wire::stop_provider::Response> {
        let previous = std::mem::take(&mut *self.stop.lock().unwrap_or_else(|p| p.into_inner()));
        previous.cancel();
        tracing::info!("StopProvider: in-flight operations cancelled");
        Ok(Response::new(wire::stop_provider::Response { error: String::new() }))
    }
}

fn split<T>(result: Result<T, Diagnostics>) -> (Option<T>, Diagnostics) {
    match result {
        Ok(v) => (Some(v), Diagnostics::new()),
        Err(d) => (None, d),
    }
}

/// A function error carries one message: the first diagnostic's detail.
fn first_detail(diags: &Diagnostics) -> String {
    diags.first().map(|d| d.detail.clone()).unwrap_or_default()
}
