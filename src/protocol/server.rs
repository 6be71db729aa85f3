//! The tfplugin6 `Provider` service, thin: each RPC converts its request, calls
//! the framework server and converts the answer. The rules live in
//! `framework::server`; this module knows neither them nor IAM.
//!
//! Rules kept here:
//! - every RPC that runs provider code runs in `serve` (only the constant answers
//!   of `unsupported` and StopProvider do not; InvokeAction, whose work outlives the
//!   call, takes the same context, span and panic guard from `serve`'s parts): one
//!   span (RPC, type, request id) and one panic guard, which answers with an error
//!   diagnostic (and for an apply, the state the operation recorded) and keeps the
//!   server serving;
//! - domain failures travel as diagnostics; a gRPC status only for protocol faults;
//! - every RPC Terraform 1.15 may call gets an answer (never `Unimplemented`);
//! - StopProvider cancels in-flight work and the server keeps serving.

use std::pin::Pin;

use futures::{Stream, StreamExt};
use tonic::{Request, Response, Status};
use tracing::Instrument;

use super::convert::{self, diagnostics, encoded, Stored};
pub use super::serve::ProviderService;
use super::serve::{guarded, internal_error, CancelOnDrop, RpcResult};
use super::{respond, unsupported, wire};
use crate::framework::server::{self as fw, Encoded};
use crate::framework::{self, FunctionError, OpContext};

type BoxStream<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send + 'static>>;

fn one_event<T: Send + 'static>(event: T) -> BoxStream<T> {
    Box::pin(futures::stream::once(async move { Ok(event) }))
}

#[tonic::async_trait]
impl wire::provider_server::Provider for ProviderService {
    async fn get_metadata(&self, _: Request<wire::get_metadata::Request>) -> RpcResult<wire::get_metadata::Response> {
        self.answer("GetMetadata", "", |_| async { convert::metadata(self.provider()) }).await
    }

    async fn get_provider_schema(&self, _: Request<wire::get_provider_schema::Request>) -> RpcResult<wire::get_provider_schema::Response> {
        self.answer("GetProviderSchema", "", |_| async { self.schema_response.get_or_init(|| convert::provider_schema(self.provider())).clone() }).await
    }

    async fn get_resource_identity_schemas(
        &self,
        _: Request<wire::get_resource_identity_schemas::Request>,
    ) -> RpcResult<wire::get_resource_identity_schemas::Response> {
        self.answer("GetResourceIdentitySchemas", "", |_| async { convert::identity_schemas(self.provider()) }).await
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
            let (upgraded_state, diags) = encoded(fw::upgrade::upgrade_resource_state(self.provider(), &r.type_name, r.version, &Stored(r.raw_state.as_ref())));
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
            respond::upgraded_identity(fw::upgrade::upgrade_resource_identity(self.provider(), &r.type_name, r.version, &Stored(r.raw_identity.as_ref())))
        })
        .await
    }

    async fn read_resource(&self, request: Request<wire::read_resource::Request>) -> RpcResult<wire::read_resource::Response> {
        let r = &request.into_inner();
        let read = |ctx: OpContext| async move { fw::read::read_resource(&ctx, self.provider(), &r.type_name, &r.current_state, &r.private).await };
        let answer = self.serve("ReadResource", &r.type_name, read, |d, _| fw::read::ReadResponse::kept(d)).await;
        Ok(Response::new(respond::read(answer, r)))
    }

    async fn plan_resource_change(&self, request: Request<wire::plan_resource_change::Request>) -> RpcResult<wire::plan_resource_change::Response> {
        let r = &request.into_inner();
        self.answer("PlanResourceChange", &r.type_name, |ctx| async move {
            let request = fw::plan::PlanRequest {
                type_name: &r.type_name,
                prior: &r.prior_state,
                proposed: &r.proposed_new_state,
                config: &r.config,
                prior_private: &r.prior_private,
            };
            respond::plan(fw::plan::plan_resource_change(&ctx, self.provider(), request).await, r)
        })
        .await
    }

    async fn apply_resource_change(&self, request: Request<wire::apply_resource_change::Request>) -> RpcResult<wire::apply_resource_change::Response> {
        let (r, p) = (&request.into_inner(), self.provider());
        let apply = |ctx: OpContext| async move {
            let request = fw::apply::ApplyRequest { type_name: &r.type_name, prior: &r.prior_state, planned: &r.planned_state, config: &r.config };
            fw::apply::apply_resource_change(&ctx, p, request).await
        };
        let answer =
            self.serve("ApplyResourceChange", &r.type_name, apply, |d, recorded| fw::apply::after_panic(p, &r.type_name, &r.prior_state, d, recorded)).await;
        Ok(Response::new(respond::apply(answer, r)))
    }

    async fn import_resource_state(&self, request: Request<wire::import_resource_state::Request>) -> RpcResult<wire::import_resource_state::Response> {
        let r = &request.into_inner();
        self.answer("ImportResourceState", &r.type_name, |ctx| async move {
            let identity = r.identity.as_ref().and_then(|i| i.identity_data.as_ref()).map(|i| i as &dyn Encoded);
            respond::import(fw::import::import_resource_state(&ctx, self.provider(), &r.type_name, &r.id, identity).await, &r.type_name)
        })
        .await
    }

    async fn move_resource_state(&self, request: Request<wire::move_resource_state::Request>) -> RpcResult<wire::move_resource_state::Response> {
        let r = &request.into_inner();
        self.answer("MoveResourceState", &r.target_type_name, |_| async {
            let source = fw::upgrade::MoveSource { provider: &r.source_provider_address, type_name: &r.source_type_name, version: r.source_schema_version };
            respond::moved(fw::upgrade::move_resource_state(self.provider(), &r.target_type_name, source, &Stored(r.source_state.as_ref())))
        })
        .await
    }

    async fn read_data_source(&self, request: Request<wire::read_data_source::Request>) -> RpcResult<wire::read_data_source::Response> {
        let r = &request.into_inner();
        self.answer("ReadDataSource", &r.type_name, |ctx| async move {
            respond::data_source_read(fw::read::read_data_source(&ctx, self.provider(), &r.type_name, &r.config).await)
        })
        .await
    }

    async fn generate_resource_config(&self, request: Request<wire::generate_resource_config::Request>) -> RpcResult<wire::generate_resource_config::Response> {
        let r = &request.into_inner();
        self.answer("GenerateResourceConfig", &r.type_name, |_| async {
            let (config, diags) = encoded(fw::import::generate_resource_config(self.provider(), &r.type_name, &r.state));
            wire::generate_resource_config::Response { config, diagnostics: diagnostics(diags) }
        })
        .await
    }

    async fn open_ephemeral_resource(&self, request: Request<wire::open_ephemeral_resource::Request>) -> RpcResult<wire::open_ephemeral_resource::Response> {
        let r = &request.into_inner();
        self.answer("OpenEphemeralResource", &r.type_name, |ctx| async move {
            respond::opened(fw::ephemeral::open(&ctx, self.provider(), &r.type_name, &r.config).await)
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
        let list = |ctx: OpContext| async move {
            let request =
                fw::list::ListRequest { type_name: &r.type_name, config: &r.config, limit: r.limit, include_resource_object: r.include_resource_object };
            respond::listed(fw::list::list_resource(&ctx, self.provider(), request).await)
        };
        let events = self.serve("ListResource", &r.type_name, list, |d, _| respond::list_failed(d)).await;
        Ok(Response::new(Box::pin(futures::stream::iter(events.into_iter().map(Ok)))))
    }

    async fn call_function(&self, request: Request<wire::call_function::Request>) -> RpcResult<wire::call_function::Response> {
        let r = &request.into_inner();
        let call = |_| async {
            let arguments: Vec<&dyn Encoded> = r.arguments.iter().map(|a| a as &dyn Encoded).collect();
            respond::called(fw::function::call_function(self.provider(), &r.name, &arguments))
        };
        // The panic text is generic: an argument may be a secret.
        let internal_error = || respond::called(Err(FunctionError { text: "The provider hit an internal error.".into(), argument: None }));
        Ok(Response::new(self.serve("CallFunction", &r.name, call, |_, _| internal_error()).await))
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
        let r = &request.into_inner();
        self.answer("PlanAction", &r.action_type, |ctx| async move {
            let diags = fw::action::plan_action(&ctx, self.provider(), &r.action_type, &r.config).await;
            wire::plan_action::Response { diagnostics: diagnostics(diags), deferred: None }
        })
        .await
    }

    type InvokeActionStream = BoxStream<wire::invoke_action::Event>;

    /// Progress goes out as the action reports it; the last event says how it ended.
    /// Terraform closing the stream cancels the action.
    async fn invoke_action(&self, request: Request<wire::invoke_action::Request>) -> RpcResult<Self::InvokeActionStream> {
        use wire::invoke_action::event::{Completed, Progress as ProgressEvent, Type as EventType};
        let r = request.into_inner();
        let (progress, lines) = framework::Progress::channel();
        let (ctx, span) = self.context("InvokeAction", &r.action_type);
        let stop = CancelOnDrop(ctx.cancel.clone());
        let provider = self.provider_arc();
        let work = async move {
            let diags = guarded("InvokeAction", fw::action::invoke_action(&ctx, provider.as_ref(), &r.action_type, &r.config, &progress)).await;
            drop(progress); // the last line is in: the stream of lines ends
            diags
        };
        let finished = tokio::spawn(work.instrument(span));
        let event = |t| Ok(wire::invoke_action::Event { r#type: Some(t) });
        let lines = futures::stream::unfold(lines, |mut lines| async { lines.recv().await.map(|line| (line, lines)) });
        let progress = lines.map(move |message| event(EventType::Progress(ProgressEvent { message })));
        let completed = futures::stream::once(async move {
            let diags = finished.await.unwrap_or_else(|_| internal_error("InvokeAction"));
            let _ = &stop; // kept until the end: dropping the stream early cancels the action
            event(EventType::Completed(Completed { diagnostics: diagnostics(diags) }))
        });
        Ok(Response::new(Box::pin(progress.chain(completed))))
    }

    async fn validate_action_config(&self, request: Request<wire::validate_action_config::Request>) -> RpcResult<wire::validate_action_config::Response> {
        let r = &request.into_inner();
        self.answer("ValidateActionConfig", &r.type_name, |_| async move {
            wire::validate_action_config::Response { diagnostics: diagnostics(fw::action::validate_action_config(self.provider(), &r.type_name, &r.config)) }
        })
        .await
    }

    async fn stop_provider(&self, _: Request<wire::stop_provider::Request>) -> RpcResult<wire::stop_provider::Response> {
        let previous = std::mem::take(&mut *self.stop.lock().unwrap_or_else(|p| p.into_inner()));
        previous.cancel();
        tracing::info!("StopProvider: in-flight operations cancelled");
        Ok(Response::new(wire::stop_provider::Response { error: String::new() }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::server::testing::Notes;
    use crate::value::{Number, Type, Value};
    use std::sync::atomic::Ordering;
    use std::sync::Arc;
    use wire::invoke_action::event::Type as EventType;
    use wire::provider_server::Provider as _;

    fn request(times: i64) -> Request<wire::invoke_action::Request> {
        let ty = Type::Object([("times".into(), Type::Number)].into());
        let config = Value::object([("times", Value::Number(Number::Int(times)))]);
        let config = convert::encode(&fw::Typed { value: config, ty: &ty }).unwrap();
        Request::new(wire::invoke_action::Request { action_type: "notes_count".into(), config: Some(config), ..Default::default() })
    }

    /// Each event as a line: `progress: …` or `completed: summaries`.
    async fn events(stream: BoxStream<wire::invoke_action::Event>) -> Vec<String> {
        stream
            .map(|event| match event.unwrap().r#type.unwrap() {
                EventType::Progress(p) => format!("progress: {}", p.message),
                EventType::Completed(c) => format!("completed: {:?}", c.diagnostics.iter().map(|d| d.summary.as_str()).collect::<Vec<_>>()),
            })
            .collect()
            .await
    }

    #[tokio::test]
    async fn an_action_streams_its_progress_then_how_it_ended() {
        let service = ProviderService::new(Arc::new(Notes::provider()));
        let stream = service.invoke_action(request(2)).await.unwrap().into_inner();
        assert_eq!(events(stream).await, ["progress: counted 1", "progress: counted 2", "completed: []"]);
        let bad = service.invoke_action(request(-1)).await.unwrap().into_inner();
        let ended = events(bad).await;
        assert_eq!(ended.len(), 1);
        assert!(ended[0].starts_with("completed: [\"Invalid value for"), "{ended:?}");
    }

    #[tokio::test]
    async fn a_panicking_action_ends_its_stream_with_an_internal_error_and_the_server_serves_on() {
        let service = ProviderService::new(Arc::new(Notes::provider()));
        let stream = service.invoke_action(request(13)).await.unwrap().into_inner();
        assert_eq!(events(stream).await, ["completed: [\"Provider internal error\"]"]);
        let stream = service.invoke_action(request(1)).await.unwrap().into_inner();
        assert_eq!(events(stream).await, ["progress: counted 1", "completed: []"]);
    }

    #[tokio::test]
    async fn terraform_closing_the_stream_cancels_the_action() {
        let provider = Arc::new(Notes::provider());
        let service = ProviderService::new(provider.clone());
        let mut stream = service.invoke_action(request(1_000_000)).await.unwrap().into_inner();
        assert!(matches!(stream.next().await.unwrap().unwrap().r#type, Some(EventType::Progress(_))));
        drop(stream);
        // The action sees the cancellation at its next step and ends well short (the
        // bound only keeps a broken build from hanging).
        let ended = tokio::time::timeout(std::time::Duration::from_secs(30), provider.count.ended.notified()).await;
        assert!(ended.is_ok(), "the action never ended");
        let counted = provider.count.counted.load(Ordering::Relaxed);
        assert!(counted < 1_000_000, "the action ran to the end: {counted}");
    }
}
