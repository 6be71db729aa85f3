//! The one HTTP client every AWS client of the provider shares.
//!
//! Rules it keeps:
//! - A TLS connector (which parses every trusted root certificate) is built once per
//!   pair of connector timeouts, on the first request that needs it, and reused. The
//!   SDK's own client also built a connector, then dropped it, each time an SDK client
//!   was constructed: six connectors per ConfigureProvider, each parsing the roots (and
//!   decoding a CA bundle), 62M of the 383M instructions of a 500-key plan with
//!   `AWS_CA_BUNDLE` set.
//! - A CA bundle is checked certificate by certificate before the SDK sees it: the SDK
//!   panics on a certificate it cannot parse, which would crash the provider.
//! - A TLS failure (the endpoint's certificate not trusted, a protocol it refuses) is
//!   final: the SDK counted it as a transient I/O error and retried it until the
//!   operation timeout, then said "timed out"; now the first attempt reports it, saying
//!   why (`tls_refusal`).

use std::collections::HashMap;
use std::fmt;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use aws_smithy_http_client::proxy::ProxyConfig;
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode, TlsContext, TrustStore};
use aws_smithy_http_client::Connector;
use aws_smithy_runtime_api::client::http::{HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::result::{ConnectorError, DispatchFailure};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;

/// Connect and read timeouts: the SDK asks for a connector per pair.
type ConnectorKey = (Option<Duration>, Option<Duration>);

pub(crate) struct ProviderHttpClient {
    tls: TlsContext,
    proxy: ProxyConfig,
    connectors: Mutex<HashMap<ConnectorKey, SharedHttpConnector>>,
}

impl ProviderHttpClient {
    /// Trusts the system's roots or, when a CA bundle is given (already checked by
    /// `check_ca_bundle`), its certificates instead, as hashicorp/aws (aws-sdk-go) and
    /// the AWS CLI do: a bundle narrows what is trusted, it never widens it.
    pub(crate) fn shared(ca_bundle: Option<Vec<u8>>, proxy: ProxyConfig) -> Result<SharedHttpClient, String> {
        let trust = match ca_bundle {
            Some(pem) => TrustStore::empty().with_pem_certificate(pem),
            None => TrustStore::default(),
        };
        let tls = TlsContext::builder().with_trust_store(trust).build().map_err(|e| e.to_string())?;
        Ok(SharedHttpClient::new(ProviderHttpClient { tls, proxy, connectors: Mutex::default() }))
    }

    fn build_connector(&self, settings: &HttpConnectorSettings, components: &RuntimeComponents) -> Connector {
        let mut connector = Connector::builder();
        connector.set_connector_settings(Some(settings.clone()));
        connector.set_sleep_impl(components.sleep_impl());
        connector.set_proxy_config(Some(self.proxy.clone()));
        connector.tls_provider(tls::Provider::Rustls(CryptoMode::AwsLc)).tls_context(self.tls.clone()).build()
    }
}

impl HttpClient for ProviderHttpClient {
    fn http_connector(&self, settings: &HttpConnectorSettings, components: &RuntimeComponents) -> SharedHttpConnector {
        let key = (settings.connect_timeout(), settings.read_timeout());
        // A poisoned lock still holds whole connectors: insertion is the only write.
        let mut connectors = self.connectors.lock().unwrap_or_else(PoisonError::into_inner);
        connectors.entry(key).or_insert_with(|| SharedHttpConnector::new(TlsFailuresAreFinal(self.build_connector(settings, components)))).clone()
    }
}

#[derive(Debug)]
struct TlsFailuresAreFinal(Connector);

impl HttpConnector for TlsFailuresAreFinal {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let call = self.0.call(request);
        HttpConnectorFuture::new(async move {
            call.await.map_err(|error| match rustls_error(&error) {
                // A user error is one the SDK never retries.
                Some(tls) => ConnectorError::user(Box::new(TlsRefused(tls.to_string()))),
                None => error,
            })
        })
    }
}

/// The rustls error somewhere in an error's chain. rustls hands it to hyper inside
/// `io::Error`s, whose `source` skips the error they wrap, so those are stepped into.
fn rustls_error<'a>(error: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
    let mut link = Some(error);
    while let Some(error) = link {
        if let Some(tls) = error.downcast_ref::<rustls::Error>() {
            return Some(tls);
        }
        link = match error.downcast_ref::<std::io::Error>().and_then(std::io::Error::get_ref) {
            Some(wrapped) => Some(wrapped as &(dyn std::error::Error + 'static)),
            None => error.source(),
        };
    }
    None
}

/// Why TLS with an endpoint failed (rustls's reason, which holds no secret).
#[derive(Debug, thiserror::Error)]
#[error("TLS with the endpoint failed: {0}")]
struct TlsRefused(String);

/// The reason a call failed in its TLS handshake, if that is why it failed.
pub(crate) fn tls_refusal(failure: &DispatchFailure) -> Option<String> {
    use std::error::Error;
    let source = failure.as_connector_error()?.source()?;
    source.downcast_ref::<TlsRefused>().map(ToString::to_string)
}

impl fmt::Debug for ProviderHttpClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProviderHttpClient").field("proxy", &self.proxy).finish_non_exhaustive()
    }
}

/// Every certificate of a PEM bundle decodes and parses as rustls will use it, and
/// there is at least one; the error says which certificate (counting from 1) is bad.
///
/// A bundle of canonical PEM certificates (the system's, most corporate ones) is
/// split at `memchr`'s speed and decoded with the `base64` crate's table-driven
/// decoder, to the same bytes as rustls's constant-time one: Debian's 144
/// certificates take 2.8M instructions instead of 8.5M (a plan of 500 keys, 165M).
/// Any other bundle, and any certificate that fails, is judged by rustls's own
/// parser, which is the one the SDK uses and whose errors are reported.
pub(crate) fn check_ca_bundle(pem: &[u8]) -> Result<(), String> {
    match canonical_anchors(pem) {
        Some(_) => Ok(()),
        None => check_as_rustls_parses(pem),
    }
}

/// How many certificates a bundle made only of canonical PEM certificates holds,
/// each decoded and parsed as a trust anchor: lines ending in `\n` (no `\r`), each
/// section exactly `-----BEGIN CERTIFICATE-----`, lines of standard base64 and
/// `-----END CERTIFICATE-----`, other text only between sections and never starting
/// with `-----`. None for anything else, for no certificate, or for one that fails.
fn canonical_anchors(pem: &[u8]) -> Option<usize> {
    use base64::Engine;
    const BEGIN: &[u8] = b"-----BEGIN CERTIFICATE-----";
    const END: &[u8] = b"-----END CERTIFICATE-----";
    // rustls also ends a line at `\r`, which could start a section inside a line.
    if memchr::memchr(b'\r', pem).is_some() {
        return None;
    }
    let (mut count, mut in_section) = (0, false);
    let (mut base64, mut der) = (Vec::new(), Vec::new());
    let mut start = 0;
    for end in memchr::memchr_iter(b'\n', pem).chain(std::iter::once(pem.len())) {
        let line = &pem[start..end];
        start = end + 1;
        match (in_section, line) {
            (false, BEGIN) => in_section = true,
            (false, _) if line.starts_with(b"-----") => return None,
            (false, _) => {}
            (true, END) => {
                der.clear();
                base64::engine::general_purpose::STANDARD.decode_vec(&base64, &mut der).ok()?;
                webpki::anchor_from_trusted_cert(&CertificateDer::from(der.as_slice())).ok()?;
                base64.clear();
                (count, in_section) = (count + 1, false);
            }
            // Whatever is not base64 (a marker, a space) fails the decoding above.
            (true, _) => base64.extend_from_slice(line),
        }
    }
    (!in_section && count > 0).then_some(count)
}

/// `check_ca_bundle` by rustls's PEM parser, as the SDK parses the bundle.
fn check_as_rustls_parses(pem: &[u8]) -> Result<(), String> {
    let mut count = 0;
    for (index, certificate) in CertificateDer::pem_slice_iter(pem).enumerate() {
        let number = index + 1;
        let certificate = certificate.map_err(|e| format!("certificate {number} is not valid PEM ({e})"))?;
        webpki::anchor_from_trusted_cert(&certificate).map_err(|e| format!("certificate {number} is not a valid X.509 certificate ({e})"))?;
        count += 1;
    }
    if count == 0 {
        return Err("holds no PEM certificate".into());
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn certificate_pem() -> String {
        rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap().cert.pem()
    }

    #[test]
    fn a_bundle_of_good_certificates_passes() {
        let bundle = format!("{}{}", certificate_pem(), certificate_pem());
        assert_eq!(check_ca_bundle(bundle.as_bytes()), Ok(()));
    }

    #[test]
    fn a_bad_certificate_is_named_by_its_position() {
        let bad_base64 = "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n";
        let not_x509 = "-----BEGIN CERTIFICATE-----\nMIIBnotacert\n-----END CERTIFICATE-----\n";
        let error = check_ca_bundle(format!("{}{bad_base64}", certificate_pem()).as_bytes()).unwrap_err();
        assert!(error.starts_with("certificate 2 is not valid PEM"), "{error}");
        let error = check_ca_bundle(format!("{not_x509}{}", certificate_pem()).as_bytes()).unwrap_err();
        assert!(error.starts_with("certificate 1 is not a valid X.509 certificate"), "{error}");
        assert_eq!(check_ca_bundle(b"not a certificate"), Err("holds no PEM certificate".into()));
    }

    #[test]
    fn a_canonical_bundle_is_decoded_by_the_fast_path() {
        let bundle = format!("# comment\n{}\n{}", certificate_pem(), certificate_pem());
        assert_eq!(canonical_anchors(bundle.as_bytes()), Some(2));
        assert_eq!(canonical_anchors(bundle.replace('\n', "\r\n").as_bytes()), None);
    }

    /// Whatever a bundle holds, the check answers as rustls's parser judges it: the
    /// fast path never passes a bundle the SDK would panic on. Each variant of a
    /// bundle changes one byte (or inserts one) into a character PEM treats specially.
    #[test]
    fn the_check_agrees_with_rustls_on_every_variant_of_a_bundle() {
        let bundle = format!("text\n{}{}", certificate_pem(), certificate_pem()).into_bytes();
        let specials = [b' ', b'\t', b'\r', b'\n', b'=', b'-', b'A', b'/', b'#', 0xff];
        let mut variants = vec![bundle.clone(), bundle[..bundle.len() - 30].to_vec()];
        for at in (0..bundle.len()).step_by(3) {
            for &special in &specials {
                let mut replaced = bundle.clone();
                replaced[at] = special;
                let mut inserted = bundle.clone();
                inserted.insert(at, special);
                variants.extend([replaced, inserted]);
            }
        }
        let mut fast = 0;
        for variant in &variants {
            fast += usize::from(canonical_anchors(variant).is_some());
            assert_eq!(check_ca_bundle(variant), check_as_rustls_parses(variant), "{}", String::from_utf8_lossy(variant));
        }
        assert!(fast > variants.len() / 20, "the fast path took {fast} of {} variants", variants.len());
    }

    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    /// A TLS server on loopback whose certificate nobody trusts; counts handshakes.
    async fn untrusted_server() -> (u16, Arc<AtomicUsize>) {
        let key = rcgen::KeyPair::generate().unwrap();
        let certificate = rcgen::CertificateParams::new(vec!["127.0.0.1".to_string()]).unwrap().self_signed(&key).unwrap();
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![certificate.der().clone()], rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()))
            .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let handshakes = Arc::new(AtomicUsize::new(0));
        let counted = handshakes.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                counted.fetch_add(1, Ordering::SeqCst);
                let _ = acceptor.accept(stream).await;
            }
        });
        (port, handshakes)
    }

    /// An SDK config for any service that sends to `untrusted_server` through the
    /// provider's HTTP client, with test credentials and up to 5 attempts.
    pub(crate) async fn untrusted_endpoint() -> (aws_config::SdkConfig, Arc<AtomicUsize>) {
        let (port, handshakes) = untrusted_server().await;
        let config = aws_config::SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .credentials_provider(aws_credential_types::provider::SharedCredentialsProvider::new(aws_credential_types::Credentials::for_tests()))
            .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(5))
            .endpoint_url(format!("https://127.0.0.1:{port}"))
            .http_client(ProviderHttpClient::shared(None, ProxyConfig::disabled()).unwrap())
            .build();
        (config, handshakes)
    }

    #[tokio::test]
    async fn an_untrusted_certificate_fails_the_first_attempt_saying_why() {
        let (config, handshakes) = untrusted_endpoint().await;
        let error = aws_sdk_sts::Client::new(&config).get_caller_identity().send().await.unwrap_err();
        let aws_sdk_sts::error::SdkError::DispatchFailure(failure) = &error else { panic!("{error:?}") };
        assert_eq!(tls_refusal(failure).as_deref(), Some("TLS with the endpoint failed: invalid peer certificate: UnknownIssuer"));
        assert_eq!(crate::aws::failure_reason(&error), "TLS with the endpoint failed: invalid peer certificate: UnknownIssuer");
        assert_eq!(handshakes.load(Ordering::SeqCst), 1, "not retried");
    }
}
