//! The gRPC server's one service: each call goes to the service its path names.
//!
//! A gRPC path is `/<package.Service>/<Method>`, and the five services served here
//! differ in that first segment, so a comparison with each service's name routes a
//! call. tonic's router did the same through an axum route table, which parsed URL
//! parameters into a new request extension and wrapped each call in three more
//! futures: about 5K instructions a call, 5% of a 500-key plan's (measured -4.9%).

use std::convert::Infallible;
use std::task::{Context, Poll};

use tonic::body::Body;
use tonic::codegen::{http, BoxFuture, Service};
use tonic::server::NamedService;

use super::goplugin::{BrokerServer, ControllerServer, StdioServer};
use super::server::ProviderService;
use super::wire::provider_server::ProviderServer;

type Request = http::Request<Body>;
type Response = http::Response<Body>;

/// The provider and go-plugin's companion services; `H` is tonic-health's server.
/// Each is a tonic-generated server: always ready, answering every method of its
/// service (an unknown one with gRPC's Unimplemented).
#[derive(Clone)]
pub struct PluginServices<H> {
    pub health: H,
    pub provider: ProviderServer<ProviderService>,
    pub broker: BrokerServer,
    pub controller: ControllerServer,
    pub stdio: StdioServer,
}

/// The service part of a gRPC path (`/tfplugin6.Provider/GetMetadata` →
/// `tfplugin6.Provider`).
fn service_name(path: &str) -> Option<&str> {
    Some(path.strip_prefix('/')?.split_once('/')?.0)
}

/// What tonic's router answers for a service it does not serve.
fn unimplemented() -> BoxFuture<Response, Infallible> {
    let (parts, ()) = tonic::Status::unimplemented("").into_http::<()>().into_parts();
    Box::pin(std::future::ready(Ok(Response::from_parts(parts, Body::empty()))))
}

impl<H> Service<Request> for PluginServices<H>
where
    H: Service<Request, Response = Response, Error = Infallible, Future = BoxFuture<Response, Infallible>> + NamedService,
{
    type Response = Response;
    type Error = Infallible;
    type Future = BoxFuture<Response, Infallible>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request) -> Self::Future {
        match service_name(request.uri().path()) {
            Some(ProviderServer::<ProviderService>::NAME) => self.provider.call(request),
            Some(StdioServer::NAME) => self.stdio.call(request),
            Some(ControllerServer::NAME) => self.controller.call(request),
            Some(BrokerServer::NAME) => self.broker.call(request),
            Some(name) if name == H::NAME => self.health.call(request),
            _ => unimplemented(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_service_is_the_first_segment_of_the_path() {
        assert_eq!(service_name("/tfplugin6.Provider/GetMetadata"), Some("tfplugin6.Provider"));
        assert_eq!(service_name("/grpc.health.v1.Health/Check"), Some("grpc.health.v1.Health"));
        assert_eq!(service_name("/tfplugin6.Provider"), None);
        assert_eq!(service_name("tfplugin6.Provider/GetMetadata"), None);
        assert_eq!(service_name("/"), None);
    }

    #[tokio::test]
    async fn an_unknown_service_is_unimplemented() {
        let response = unimplemented().await.unwrap();
        assert_eq!(response.headers()["grpc-status"], "12");
        assert_eq!(response.headers()["content-type"], "application/grpc");
    }
}
