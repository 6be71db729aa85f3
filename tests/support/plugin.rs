//! Playing Terraform's part towards the plugin binary: launching it as go-plugin
//! does (cookie, protocol versions, a Terraform-like P-521 client certificate with
//! cA=TRUE) and connecting over mutual TLS on its unix socket. Shared by the
//! protocol tests and the benchmark.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;

use base64::Engine;
use hyper_util::rt::TokioIo;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use tonic::transport::{Channel, Endpoint};

pub const COOKIE: (&str, &str) = ("TF_PLUGIN_MAGIC_COOKIE", "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2");

/// A client certificate made the way go-plugin makes Terraform's.
pub struct ClientIdentity {
    pub pem: String,
    pub der: CertificateDer<'static>,
    pub key: PrivatePkcs8KeyDer<'static>,
}

pub fn terraform_like_identity() -> ClientIdentity {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P521_SHA512).unwrap();
    let mut params = rcgen::CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    params.distinguished_name.push(rcgen::DnType::CommonName, "localhost");
    params.distinguished_name.push(rcgen::DnType::OrganizationName, "HashiCorp");
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth, rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    let cert = params.self_signed(&key).unwrap();
    ClientIdentity { pem: cert.pem(), der: cert.der().clone(), key: PrivatePkcs8KeyDer::from(key.serialize_der()) }
}

pub struct Plugin {
    pub child: Child,
    pub stdout: BufReader<Box<dyn std::io::Read + Send>>,
    pub handshake: String,
    pub socket: String,
    pub server_cert: Vec<u8>,
    pub identity: ClientIdentity,
}

impl Plugin {
    /// Waits for the plugin to exit, failing if it takes longer than `limit`.
    pub fn exits_within(&mut self, limit: std::time::Duration) -> std::process::ExitStatus {
        let mut child = std::mem::replace(&mut self.child, Command::new("true").spawn().unwrap());
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || tx.send(child.wait()));
        rx.recv_timeout(limit).unwrap_or_else(|_| panic!("the plugin did not exit within {limit:?}")).unwrap()
    }
}

impl Drop for Plugin {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn launch() -> Plugin {
    launch_with(&[])
}

pub fn launch_with(env: &[(&str, &str)]) -> Plugin {
    launch_binary(Path::new(env!("CARGO_BIN_EXE_terraform-provider-iamkey")), env)
}

/// Starts a plugin binary as Terraform does and reads its handshake line.
pub fn launch_binary(binary: &Path, env: &[(&str, &str)]) -> Plugin {
    launch_binary_as(binary, env, terraform_like_identity())
}

/// As `launch_binary`, with a client identity made beforehand (so that timing a
/// launch does not time making a P-521 key).
pub fn launch_binary_as(binary: &Path, env: &[(&str, &str)], identity: ClientIdentity) -> Plugin {
    let mut command = plugin_command(binary, env, &identity);
    command.stdout(Stdio::piped());
    let mut child = command.spawn().unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    Plugin::handshake(child, stdout, identity)
}

/// The command Terraform runs to start a plugin: cookie, protocol versions and
/// client certificate set; stdin and stderr closed; stdout left to the caller.
pub fn plugin_command(binary: &Path, env: &[(&str, &str)], identity: &ClientIdentity) -> Command {
    let mut command = Command::new(binary);
    command
        .envs(env.iter().copied())
        .env(COOKIE.0, COOKIE.1)
        .env("PLUGIN_PROTOCOL_VERSIONS", "5,6")
        .env("PLUGIN_CLIENT_CERT", &identity.pem)
        .stdin(Stdio::null())
        .stderr(Stdio::null());
    command
}

impl Plugin {
    /// Reads the handshake line of a started plugin from its `stdout`.
    pub fn handshake<R: std::io::Read + Send + 'static>(child: Child, stdout: BufReader<R>, identity: ClientIdentity) -> Plugin {
        let mut stdout: BufReader<Box<dyn std::io::Read + Send>> = BufReader::new(Box::new(stdout));
        let mut handshake = String::new();
        stdout.read_line(&mut handshake).unwrap();
        let fields: Vec<&str> = handshake.trim_end().split('|').collect();
        assert_eq!(fields.len(), 6, "handshake: {handshake:?}");
        let server_cert = base64::engine::general_purpose::STANDARD_NO_PAD.decode(fields[5]).expect("RawStd base64");
        let socket = fields[3].to_string();
        Plugin { child, stdout, handshake, socket, server_cert, identity }
    }
}

/// Trusts exactly the certificate from the handshake line, as go-plugin does.
#[derive(Debug)]
pub struct PinnedServer(pub Vec<u8>);

impl ServerCertVerifier for PinnedServer {
    fn verify_server_cert(
        &self,
        ee: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if ee.as_ref() == self.0.as_slice() {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::General("unexpected server certificate".into()))
        }
    }
    fn verify_tls12_signature(&self, m: &[u8], c: &CertificateDer<'_>, d: &DigitallySignedStruct) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(m, c, d, &iamkey::host::tls::crypto_provider().signature_verification_algorithms)
    }
    fn verify_tls13_signature(&self, m: &[u8], c: &CertificateDer<'_>, d: &DigitallySignedStruct) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(m, c, d, &iamkey::host::tls::crypto_provider().signature_verification_algorithms)
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        iamkey::host::tls::crypto_provider().signature_verification_algorithms.supported_schemes()
    }
}

pub enum ClientAuth<'a> {
    Certificate(&'a ClientIdentity),
    NoCertificate,
    Plaintext,
}

pub async fn connect(plugin: &Plugin, auth: ClientAuth<'_>) -> Result<Channel, tonic::transport::Error> {
    let socket = plugin.socket.clone();
    let builder = rustls::ClientConfig::builder_with_provider(iamkey::host::tls::crypto_provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(PinnedServer(plugin.server_cert.clone())));
    let tls = match &auth {
        ClientAuth::Certificate(id) => Some(builder.with_client_auth_cert(vec![id.der.clone()], PrivateKeyDer::Pkcs8(id.key.clone_key())).unwrap()),
        ClientAuth::NoCertificate => Some(builder.with_no_client_auth()),
        ClientAuth::Plaintext => None,
    };
    let connector = tls.map(|mut config| {
        config.alpn_protocols = vec![b"h2".to_vec()];
        tokio_rustls::TlsConnector::from(Arc::new(config))
    });
    Endpoint::from_static("http://localhost")
        .connect_with_connector(tower::service_fn(move |_| {
            let (socket, connector) = (socket.clone(), connector.clone());
            async move {
                let stream = tokio::net::UnixStream::connect(socket).await?;
                match connector {
                    Some(c) => {
                        let tls = c.connect(ServerName::try_from("localhost").unwrap(), stream).await?;
                        Ok::<_, std::io::Error>(TokioIo::new(EitherStream::Tls(Box::new(tls))))
                    }
                    None => Ok(TokioIo::new(EitherStream::Plain(stream))),
                }
            }
        }))
        .await
}

/// The client side's connection, TLS or not.
pub enum EitherStream {
    Tls(Box<tokio_rustls::client::TlsStream<tokio::net::UnixStream>>),
    Plain(tokio::net::UnixStream),
}

impl tokio::io::AsyncRead for EitherStream {
    fn poll_read(self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>, buf: &mut tokio::io::ReadBuf<'_>) -> std::task::Poll<std::io::Result<()>> {
        match self.get_mut() {
            EitherStream::Tls(s) => std::pin::Pin::new(s).poll_read(cx, buf),
            EitherStream::Plain(s) => std::pin::Pin::new(s).poll_read(cx, buf),
        }
    }
}

impl tokio::io::AsyncWrite for EitherStream {
    fn poll_write(self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>, buf: &[u8]) -> std::task::Poll<std::io::Result<usize>> {
        match self.get_mut() {
            EitherStream::Tls(s) => std::pin::Pin::new(s).poll_write(cx, buf),
            EitherStream::Plain(s) => std::pin::Pin::new(s).poll_write(cx, buf),
        }
    }
    fn poll_flush(self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<std::io::Result<()>> {
        match self.get_mut() {
            EitherStream::Tls(s) => std::pin::Pin::new(s).poll_flush(cx),
            EitherStream::Plain(s) => std::pin::Pin::new(s).poll_flush(cx),
        }
    }
    fn poll_shutdown(self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<std::io::Result<()>> {
        match self.get_mut() {
            EitherStream::Tls(s) => std::pin::Pin::new(s).poll_shutdown(cx),
            EitherStream::Plain(s) => std::pin::Pin::new(s).poll_shutdown(cx),
        }
    }
}
