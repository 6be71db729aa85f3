//! The one helper every RPC runs in: a span with the RPC, the type and a request
//! id, a cancellation token StopProvider can cancel, and a panic guard.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use futures::FutureExt;
use tokio_util::sync::CancellationToken;
use tonic::{Response, Status};
use tracing::Instrument;

use super::convert::{diagnostics, Failed};
use super::wire;
use crate::framework::{OpContext, Provider, SharedClock};
use crate::value::summary;
use crate::value::{Diagnostics, Value};

pub(super) type RpcResult<T> = Result<Response<T>, Status>;

/// Serves a framework [`Provider`] as `tfplugin6.Provider`.
pub struct ProviderService {
    provider: Arc<dyn Provider>,
    /// Cancelled by StopProvider and then replaced, so later requests run normally.
    pub(super) stop: Mutex<CancellationToken>,
    pub(super) schema_response: OnceLock<wire::get_provider_schema::Response>,
    requests: AtomicU64,
    clock: SharedClock,
}

/// Any framework provider can be served.
impl<P: Provider> From<Arc<P>> for ProviderService {
    fn from(provider: Arc<P>) -> Self {
        ProviderService::new(provider)
    }
}

impl ProviderService {
    pub fn new(provider: Arc<dyn Provider>) -> Self {
        ProviderService { clock: provider.clock(), provider, stop: Mutex::default(), schema_response: OnceLock::new(), requests: AtomicU64::new(1) }
    }

    /// The generated tonic server, with 256 MiB message limits as terraform-plugin-go serves.
    pub fn into_server(self) -> wire::provider_server::ProviderServer<ProviderService> {
        const MAX_MESSAGE: usize = 256 << 20;
        wire::provider_server::ProviderServer::new(self).max_decoding_message_size(MAX_MESSAGE).max_encoding_message_size(MAX_MESSAGE)
    }

    pub(super) fn provider(&self) -> &dyn Provider {
        self.provider.as_ref()
    }

    /// Runs one RPC's work in its span, behind the panic guard. `on_panic` builds
    /// the answer from an error diagnostic and any state the operation recorded.
    /// The panic payload is never shown: it might hold a secret.
    pub(super) async fn serve<'s, T, F>(
        &'s self,
        rpc: &'static str,
        type_name: &str,
        work: impl FnOnce(OpContext) -> F,
        on_panic: impl FnOnce(Diagnostics, Option<Value>) -> T,
    ) -> T
    where
        F: Future<Output = T> + 's,
    {
        let cancel = self.stop.lock().unwrap_or_else(|p| p.into_inner()).child_token();
        // Named field by field: `..Default::default()` would build (and drop) a
        // second token and clock for every call.
        let ctx = OpContext { cancel, clock: self.clock.clone(), partial_state: Default::default(), warnings: Default::default() };
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
                on_panic(Diagnostics::error(summary::PROVIDER_INTERNAL_ERROR, detail), recorded.take())
            }
        }
    }

    /// `serve` for an RPC whose answer on a panic is its diagnostics alone.
    pub(super) async fn answer<'s, T: Failed, F: Future<Output = T> + 's>(
        &'s self,
        rpc: &'static str,
        type_name: &str,
        work: impl FnOnce(OpContext) -> F,
    ) -> RpcResult<T> {
        Ok(Response::new(self.serve(rpc, type_name, work, |d, _| T::failed(diagnostics(d))).await))
    }
}
