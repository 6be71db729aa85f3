//! go-plugin's own services, which Terraform's plugin client calls next to the
//! provider: the broker (unused, kept open), the controller (Shutdown) and stdio
//! (kept open; the provider writes nothing to stdout after the handshake).

use std::pin::Pin;

use futures::Stream;
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status, Streaming};

#[cfg_attr(not(feature = "test-hooks"), allow(dead_code, reason = "generated: only the tests' clients build every message"))]
mod wire {
    tonic::include_proto!("plugin");
}

type BoxStream<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send + 'static>>;

/// A stream that sends nothing and ends when the server shuts down.
fn idle_until<T: Send + 'static>(shutdown: CancellationToken) -> BoxStream<T> {
    Box::pin(futures::stream::once(async move {
        shutdown.cancelled_owned().await;
        Err(Status::unavailable("the plugin is shutting down"))
    }))
}

pub struct Broker {
    shutdown: CancellationToken,
}

#[tonic::async_trait]
impl wire::grpc_broker_server::GrpcBroker for Broker {
    type StartStreamStream = BoxStream<wire::ConnInfo>;

    async fn start_stream(&self, _: Request<Streaming<wire::ConnInfo>>) -> Result<Response<Self::StartStreamStream>, Status> {
        Ok(Response::new(idle_until(self.shutdown.clone())))
    }
}

pub struct Controller {
    shutdown: CancellationToken,
}

#[tonic::async_trait]
impl wire::grpc_controller_server::GrpcController for Controller {
    async fn shutdown(&self, _: Request<wire::Empty>) -> Result<Response<wire::Empty>, Status> {
        tracing::debug!("Shutdown requested by the plugin client");
        self.shutdown.cancel();
        Ok(Response::new(wire::Empty {}))
    }
}

pub struct Stdio {
    shutdown: CancellationToken,
}

#[tonic::async_trait]
impl wire::grpc_stdio_server::GrpcStdio for Stdio {
    type StreamStdioStream = BoxStream<wire::StdioData>;

    async fn stream_stdio(&self, _: Request<()>) -> Result<Response<Self::StreamStdioStream>, Status> {
        Ok(Response::new(idle_until(self.shutdown.clone())))
    }
}

/// The generated servers of the three services.
pub type BrokerServer = wire::grpc_broker_server::GrpcBrokerServer<Broker>;
pub type ControllerServer = wire::grpc_controller_server::GrpcControllerServer<Controller>;
pub type StdioServer = wire::grpc_stdio_server::GrpcStdioServer<Stdio>;

pub fn broker(shutdown: CancellationToken) -> BrokerServer {
    BrokerServer::new(Broker { shutdown })
}

pub fn controller(shutdown: CancellationToken) -> ControllerServer {
    ControllerServer::new(Controller { shutdown })
}

pub fn stdio(shutdown: CancellationToken) -> StdioServer {
    StdioServer::new(Stdio { shutdown })
}

/// Client stubs, for the protocol tests that play Terraform's part.
#[cfg(feature = "test-hooks")]
pub mod client {
    pub use super::wire::grpc_controller_client::GrpcControllerClient;
    pub use super::wire::grpc_stdio_client::GrpcStdioClient;
    pub use super::wire::Empty;
}
