//! The plugin host: go-plugin's handshake, AutoMTLS, the gRPC server with its
//! companion services, signals, shutdown and `--debug` mode.
//!
//! stdout belongs to the one handshake line (or, in debug mode, to the reattach
//! instructions for the developer); everything else goes to stderr.

pub mod conn;
pub mod logging;
pub mod tls;

use std::collections::HashSet;
use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use tokio_util::sync::CancellationToken;

use crate::protocol::{goplugin, routes::PluginServices, server::ProviderService};
use conn::Listener;

pub const MAGIC_COOKIE_KEY: &str = "TF_PLUGIN_MAGIC_COOKIE";
pub const MAGIC_COOKIE_VALUE: &str = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";

/// go-plugin's core protocol version, the first field of the handshake line.
const CORE_PROTOCOL_VERSION: u32 = 1;
/// The Terraform plugin protocol major version this provider speaks.
const APP_PROTOCOL_VERSION: u32 = 6;
/// How long in-flight calls may finish after Shutdown; Terraform kills at 2 s.
const SHUTDOWN_GRACE: Duration = Duration::from_millis(1200);

#[derive(Debug, thiserror::Error)]
pub enum HostError {
    #[error(
        "This binary is a plugin. These are not meant to be executed directly.\n\
         Please execute the program that consumes these plugins, which will load any\n\
         plugins automatically (this one is a Terraform/OpenTofu provider: reference it\n\
         in required_providers and run terraform init)."
    )]
    NotLaunchedByTerraform,
    #[error(
        "This provider speaks plugin protocol 6, which the calling program does not offer \
         (it offered {0:?}). Use Terraform 0.15.4 or later, or any OpenTofu release."
    )]
    ProtocolUnsupported(String),
    #[error("TLS set-up failed: {0}")]
    Tls(#[from] tls::TlsError),
    #[error("could not listen: {0}")]
    Listen(#[from] std::io::Error),
    #[error("gRPC server failed: {0}")]
    Server(#[from] tonic::transport::Error),
}

/// Checks what Terraform sets before it starts a plugin: the magic cookie first,
/// then protocol 6 among the offered versions (a set: the order varies).
pub fn check_launch_environment() -> Result<(), HostError> {
    if std::env::var(MAGIC_COOKIE_KEY).ok().as_deref() != Some(MAGIC_COOKIE_VALUE) {
        return Err(HostError::NotLaunchedByTerraform);
    }
    match std::env::var("PLUGIN_PROTOCOL_VERSIONS") {
        Err(_) => Ok(()),
        Ok(offered) => {
            let versions: HashSet<&str> = offered.split(',').map(str::trim).collect();
            if versions.contains("6") {
                Ok(())
            } else {
                Err(HostError::ProtocolUnsupported(offered))
            }
        }
    }
}

/// Stops SIGINT from killing the process: Ctrl-C reaches Terraform's whole process
/// group, and Terraform stops providers itself (StopProvider, then Shutdown). The
/// handler is installed synchronously, so it holds from the moment this returns,
/// even while the handshake write blocks the only thread (SA_RESTART resumes that
/// write). A handler that does nothing, rather than SIG_IGN: a disposition of
/// "ignore" would be inherited by programs the provider starts (a
/// `credential_process`), a handler is reset for them. (`--debug` mode installs its
/// own Ctrl-C handler over it.)
pub fn ignore_interrupts() {
    #[cfg(unix)]
    {
        extern "C" fn do_nothing(_: libc::c_int) {}
        // SAFETY: installs a handler that touches nothing, for one signal; the
        // struct is zeroed (empty mask) before the fields that matter are set.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = do_nothing as extern "C" fn(libc::c_int) as usize;
            action.sa_flags = libc::SA_RESTART;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(libc::SIGINT, &action, std::ptr::null_mut());
        }
    }
}

/// Resolves when the process gets SIGTERM (never where there are no signals, or
/// when the handler cannot be installed). The handler is installed by this call.
fn terminated() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    let mut terms = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    async move {
        #[cfg(unix)]
        if let Some(terms) = terms.as_mut() {
            terms.recv().await;
            return;
        }
        std::future::pending::<()>().await
    }
}

/// Serves the provider as Terraform launched it, until Shutdown.
pub async fn serve(provider: ProviderService) -> Result<(), HostError> {
    let terminated = terminated();
    let identity;
    let tls = match std::env::var("PLUGIN_CLIENT_CERT") {
        Ok(pem) => {
            let client = tls::parse_client_certificate(&pem)?;
            identity = tls::ServerIdentity::generate()?;
            Some((tls::server_config(&identity, client)?, identity.certificate.clone()))
        }
        // Terraform leaves the variable unset only under TF_DISABLE_PLUGIN_TLS (its
        // SDK test framework); go-plugin then expects plaintext and an empty cert
        // field. Set but blank or unusable is refused above: never plaintext by mistake.
        Err(_) => None,
    };
    let listener = Arc::new(Listener::bind().await?);
    let address = listener.address()?;
    let cert_field = tls.as_ref().map(|(_, cert)| base64::engine::general_purpose::STANDARD_NO_PAD.encode(cert)).unwrap_or_default();
    let line = format!("{CORE_PROTOCOL_VERSION}|{APP_PROTOCOL_VERSION}|{}|{}|grpc|{cert_field}\n", address.network, address.address);
    let shutdown = CancellationToken::new();
    let acceptor = tls.map(|(config, _)| tokio_rustls::TlsAcceptor::from(config));
    let incoming = listener.clone().incoming(acceptor, shutdown.clone());
    let server = tokio::spawn(run_grpc(provider, incoming, shutdown.clone(), shutdown.clone()));
    {
        let mut stdout = std::io::stdout().lock();
        stdout.write_all(line.as_bytes())?;
        stdout.flush()?;
    }
    tracing::info!(network = address.network, address = %address.address, "plugin serving");
    tokio::select! {
        _ = shutdown.cancelled() => {}
        _ = terminated => {
            tracing::info!("SIGTERM: shutting down");
            shutdown.cancel();
        }
    }
    // In-flight calls get a short grace; Terraform kills the process at 2 s anyway.
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, server).await;
    drop(listener); // removes the socket and its folder
    log_resource_usage();
    Ok(())
}

/// One INFO line at exit with the process's CPU time and peak memory, which the
/// benchmark reads from TF_LOG_PATH (at INFO no per-call line is written, so the
/// reading costs nothing). Peak memory is VmHWM: getrusage's ru_maxrss would report
/// the RSS of the Terraform process this one was forked from.
fn log_resource_usage() {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: getrusage only writes the struct it is given.
        let usage = unsafe {
            let mut usage: libc::rusage = std::mem::zeroed();
            libc::getrusage(libc::RUSAGE_SELF, &mut usage);
            usage
        };
        let millis = |t: libc::timeval| t.tv_sec as f64 * 1000.0 + t.tv_usec as f64 / 1000.0;
        let peak_rss_kib: u64 = std::fs::read_to_string("/proc/self/status")
            .ok()
            .and_then(|status| {
                let line = status.lines().find(|l| l.starts_with("VmHWM:"))?.to_string();
                line.split_whitespace().nth(1)?.parse().ok()
            })
            .unwrap_or(0);
        tracing::info!(cpu_user_ms = millis(usage.ru_utime), cpu_system_ms = millis(usage.ru_stime), peak_rss_kib, "provider resource usage");
    }
}

/// Serves until `shutdown`; `on_controller_shutdown` is what GRPCController.Shutdown
/// cancels (the same token normally; a detached one in debug mode, which outlives
/// the Terraform runs it serves).
async fn run_grpc(
    provider: ProviderService,
    incoming: tokio_stream::wrappers::ReceiverStream<std::io::Result<conn::PluginStream>>,
    shutdown: CancellationToken,
    on_controller_shutdown: CancellationToken,
) -> Result<(), HostError> {
    let (health_reporter, health_service) = tonic_health::server::health_reporter();
    health_reporter.set_service_status("plugin", tonic_health::ServingStatus::Serving).await;
    let services = PluginServices {
        health: health_service,
        provider: provider.into_server(),
        broker: goplugin::broker(shutdown.clone()),
        controller: goplugin::controller(on_controller_shutdown),
        stdio: goplugin::stdio(shutdown.clone()),
    };
    tonic::transport::Server::builder().serve_with_incoming_shutdown(services, incoming, shutdown.clone().cancelled_owned()).await?;
    Ok(())
}

/// `--debug`: serves without Terraform (no cookie, no TLS) until Ctrl-C, and
/// prints the TF_REATTACH_PROVIDERS value that points Terraform at it.
pub async fn serve_debug(provider: ProviderService, provider_address: &str) -> Result<(), HostError> {
    let listener = Arc::new(Listener::bind().await?);
    let address = listener.address()?;
    let shutdown = CancellationToken::new();
    let incoming = listener.clone().incoming(None, shutdown.clone());
    let server = tokio::spawn(run_grpc(provider, incoming, shutdown.clone(), CancellationToken::new()));
    let reattach = serde_json::json!({
        provider_address: {
            "Protocol": "grpc",
            "ProtocolVersion": APP_PROTOCOL_VERSION,
            "Pid": std::process::id(),
            "Test": true,
            "Addr": { "Network": address.network, "String": address.address },
        }
    });
    let mut stdout = std::io::stdout().lock();
    writeln!(
        stdout,
        "Provider started. To attach Terraform CLI, set the TF_REATTACH_PROVIDERS environment variable with the following:\n\n\
         \tTF_REATTACH_PROVIDERS='{reattach}'\n\nPress Ctrl-C to stop."
    )?;
    stdout.flush()?;
    drop(stdout);
    let _ = tokio::signal::ctrl_c().await;
    shutdown.cancel();
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, server).await;
    drop(listener);
    Ok(())
}
