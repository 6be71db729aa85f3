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

/// Runs `work` behind the panic guard: a panic becomes the internal-error
/// diagnostic. The panic payload is never shown: it might hold a secret.
pub(super) async fn panic_guarded<T>(rpc: &'static str, work: impl Future<Output = T>) -> Result<T, Diagnostics> {
    let guarded = AssertUnwindSafe(async move {
        crate::testhooks::panic_point(rpc);
        work.await
    });
    guarded.catch_unwind().await.map_err(|_payload| {
        tracing::error!(tf_rpc = rpc, "the provider panicked while handling the call");
        internal_error(rpc)
    })
}

/// `panic_guarded` for work whose outcome is its diagnostics.
pub(super) async fn guarded(rpc: &'static str, work: impl Future<Output = Diagnostics>) -> Diagnostics {
    panic_guarded(rpc, work).await.unwrap_or_else(|internal| internal)
}

/// What a panic (or a lost task) answers.
pub(super) fn internal_error(rpc: &'static str) -> Diagnostics {
    let detail = format!(
        "The provider hit an internal error while handling {rpc}. Any object it had already created is recorded in state, \
         so Terraform keeps track of it. Please report this issue with the provider's log (TF_LOG_PROVIDER=debug)."
    );
    Diagnostics::error(summary::PROVIDER_INTERNAL_ERROR, detail)
}

/// Cancels its token when dropped: held by a response stream, so Terraform
/// closing the stream stops the work behind it.
pub(super) struct CancelOnDrop(pub CancellationToken);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.cancel();
    }
}

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

    /// The context and the span (RPC, type, request id) of one call; StopProvider
    /// cancels the context's token.
    pub(super) fn context(&self, rpc: &'static str, type_name: &str) -> (OpContext, tracing::Span) {
        let cancel = self.stop.lock().unwrap_or_else(|p| p.into_inner()).child_token();
        // Named field by field: `..Default::default()` would build (and drop) a
        // second token and clock for every call.
        let ctx = OpContext { cancel, clock: self.clock.clone(), partial_state: Default::default(), warnings: Default::default() };
        let request_id = self.requests.fetch_add(1, Ordering::Relaxed);
        (ctx, tracing::debug_span!("rpc", tf_rpc = rpc, tf_resource_type = type_name, tf_req_id = request_id))
    }

    /// The provider, for work that outlives the call that started it (a stream).
    pub(super) fn provider_arc(&self) -> Arc<dyn Provider> {
        self.provider.clone()
    }

    /// Runs one RPC's work in its span, behind the panic guard. `on_panic` builds
    /// the answer from an error diagnostic and any state the operation recorded.
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
        let (ctx, span) = self.context(rpc, type_name);
        let recorded = ctx.partial_state.clone();
        match panic_guarded(rpc, work(ctx)).instrument(span).await {
            Ok(answer) => answer,
            Err(diags) => on_panic(diags, recorded.take()),
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
