//! The listener and its connections: a private unix socket (TCP on 127.0.0.1
//! where unix sockets are unavailable, with TCP_NODELAY on every accepted socket),
//! with TLS terminated here so that the client certificate can be pinned.

use std::io;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
#[cfg(unix)]
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;

/// How long a client may take to finish the TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

pub enum Listener {
    #[cfg(unix)]
    Unix {
        listener: UnixListener,
        path: PathBuf,
        _dir: tempfile::TempDir,
    },
    Tcp(TcpListener),
}

/// Where the plugin listens, as the handshake line and TF_REATTACH_PROVIDERS name it.
pub struct Address {
    pub network: &'static str,
    pub address: String,
}

impl Listener {
    /// A unix socket in a fresh 0700 folder under `PLUGIN_UNIX_SOCKET_DIR` or the
    /// temp folder; TCP on 127.0.0.1 within PLUGIN_MIN_PORT..=PLUGIN_MAX_PORT when
    /// that fails.
    pub async fn bind() -> io::Result<Listener> {
        #[cfg(unix)]
        match Self::bind_unix() {
            Ok(listener) => return Ok(listener),
            Err(e) => tracing::warn!("unix socket unavailable ({e}); listening on TCP"),
        }
        Self::bind_tcp().await
    }

    #[cfg(unix)]
    fn bind_unix() -> io::Result<Listener> {
        use std::fs::Permissions;
        use std::os::unix::fs::PermissionsExt;
        let parent = std::env::var_os("PLUGIN_UNIX_SOCKET_DIR").map(PathBuf::from).unwrap_or_else(std::env::temp_dir);
        // The folder is made 0700 (the umask can only remove bits), so no other user
        // can reach the socket in it at any moment; the socket itself is then 0600.
        let dir = tempfile::Builder::new().prefix("plugin").permissions(Permissions::from_mode(0o700)).tempdir_in(parent)?;
        let path = dir.path().join("iamkey.sock");
        let listener = UnixListener::bind(&path)?;
        std::fs::set_permissions(&path, Permissions::from_mode(0o600))?;
        Ok(Listener::Unix { listener, path, _dir: dir })
    }

    async fn bind_tcp() -> io::Result<Listener> {
        let port = |name: &str, default: u16| std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default);
        let (min, max) = (port("PLUGIN_MIN_PORT", 10000), port("PLUGIN_MAX_PORT", 25000));
        for p in min..=max {
            if let Ok(listener) = TcpListener::bind(("127.0.0.1", p)).await {
                return Ok(Listener::Tcp(listener));
            }
        }
        Err(io::Error::new(io::ErrorKind::AddrInUse, format!("no free port in {min}..={max}")))
    }

    pub fn address(&self) -> io::Result<Address> {
        Ok(match self {
            #[cfg(unix)]
            Listener::Unix { path, .. } => Address { network: "unix", address: path.display().to_string() },
            Listener::Tcp(l) => Address { network: "tcp", address: l.local_addr()?.to_string() },
        })
    }

    async fn accept(&self) -> io::Result<Io> {
        match self {
            #[cfg(unix)]
            Listener::Unix { listener, .. } => Ok(Io::Unix(listener.accept().await?.0)),
            Listener::Tcp(l) => {
                let (stream, _) = l.accept().await?;
                // Small HTTP/2 frames must not wait for delayed ACKs (protocol.md §5).
                stream.set_nodelay(true)?;
                Ok(Io::Tcp(stream))
            }
        }
    }

    /// Accepts connections until `shutdown`, completing TLS (when configured) off
    /// the accept loop. Refused handshakes are logged and dropped.
    pub fn incoming(
        self: Arc<Self>,
        tls: Option<TlsAcceptor>,
        shutdown: CancellationToken,
    ) -> tokio_stream::wrappers::ReceiverStream<io::Result<PluginStream>> {
        let (tx, rx) = mpsc::channel(16);
        tokio::spawn(async move {
            loop {
                let io = tokio::select! {
                    _ = shutdown.cancelled() => break,
                    accepted = self.accept() => match accepted {
                        Ok(io) => io,
                        Err(e) => {
                            tracing::warn!("accept failed: {e}");
                            continue;
                        }
                    },
                };
                let tx = tx.clone();
                let tls = tls.clone();
                tokio::spawn(async move {
                    let stream = match tls {
                        None => PluginStream::Plain(io),
                        Some(acceptor) => match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(io)).await {
                            Ok(Ok(tls_stream)) => PluginStream::Tls(Box::new(tls_stream)),
                            Ok(Err(e)) => {
                                tracing::warn!("refused a connection: TLS handshake failed: {e}");
                                return;
                            }
                            Err(_) => {
                                tracing::warn!("refused a connection: TLS handshake timed out");
                                return;
                            }
                        },
                    };
                    let _ = tx.send(Ok(stream)).await;
                });
            }
        });
        tokio_stream::wrappers::ReceiverStream::new(rx)
    }
}

/// An accepted socket.
pub enum Io {
    #[cfg(unix)]
    Unix(UnixStream),
    Tcp(TcpStream),
}

/// A connection the gRPC server serves: TLS unless Terraform disabled it.
pub enum PluginStream {
    Tls(Box<tokio_rustls::server::TlsStream<Io>>),
    Plain(Io),
}

impl tonic::transport::server::Connected for PluginStream {
    type ConnectInfo = ();
    fn connect_info(&self) -> Self::ConnectInfo {}
}

/// Forwards the I/O traits to whichever variant is inside; `vectored = false`
/// keeps the variants' vectored writes from the caller's sight.
macro_rules! delegate_io {
    ($ty:ty, vectored = $vectored:expr, $($variant:path),+) => {
        impl AsyncRead for $ty {
            fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
                match self.get_mut() { $($variant(s) => Pin::new(s).poll_read(cx, buf),)+ }
            }
        }
        impl AsyncWrite for $ty {
            fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
                match self.get_mut() { $($variant(s) => Pin::new(s).poll_write(cx, buf),)+ }
            }
            fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                match self.get_mut() { $($variant(s) => Pin::new(s).poll_flush(cx),)+ }
            }
            fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                match self.get_mut() { $($variant(s) => Pin::new(s).poll_shutdown(cx),)+ }
            }
            fn poll_write_vectored(self: Pin<&mut Self>, cx: &mut Context<'_>, bufs: &[io::IoSlice<'_>]) -> Poll<io::Result<usize>> {
                match self.get_mut() { $($variant(s) => Pin::new(s).poll_write_vectored(cx, bufs),)+ }
            }
            fn is_write_vectored(&self) -> bool {
                $vectored && match self { $($variant(s) => s.is_write_vectored(),)+ }
            }
        }
    };
}

#[cfg(unix)]
delegate_io!(Io, vectored = true, Io::Unix, Io::Tcp);
#[cfg(not(unix))]
delegate_io!(Io, vectored = true, Io::Tcp);
// h2 writes a DATA payload of 256 bytes or more straight from the response, in a
// write (a TLS record and a syscall) of its own, to a stream that takes vectored
// writes; to any other it copies payloads under 1 KiB into its frame buffer. A
// plan's responses are 0.5-1 KiB, so the gRPC server sees a non-vectored stream
// and the responses of a batch leave together: a refresh of 500 keys went from
// 3,238 writes to 1,579, a plan without refresh from 1,567 to 601, and the
// provider CPU of either fell by about 7% (medians of 30 alternating plans).
delegate_io!(PluginStream, vectored = false, PluginStream::Tls, PluginStream::Plain);

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_grpc_server_sees_a_stream_without_vectored_writes() {
        let (socket, _peer) = UnixStream::pair().unwrap();
        let io = Io::Unix(socket);
        assert!(io.is_write_vectored(), "the socket itself takes vectored writes");
        assert!(!PluginStream::Plain(io).is_write_vectored());
    }
}
