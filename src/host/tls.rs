//! go-plugin AutoMTLS, server side: a fresh server certificate per launch, and a
//! client verifier pinned to exactly the certificate Terraform put in
//! `PLUGIN_CLIENT_CERT`.
//!
//! Terraform's client certificate is ECDSA P-521 with cA=TRUE. The aws-lc-rs
//! provider is named explicitly because ring cannot verify P-521, and the stock
//! WebPKI verifier refuses a CA certificate presented as an end entity.

use std::sync::Arc;

use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{CertificateError, DigitallySignedStruct, DistinguishedName, ServerConfig, SignatureScheme};

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error(
        "PLUGIN_CLIENT_CERT is set but holds no PEM certificate; Terraform sets it to the certificate the provider must pin (unset it only to run without TLS)"
    )]
    NoClientCertificate,
    #[error("PLUGIN_CLIENT_CERT is not a valid PEM certificate: {0}")]
    InvalidPem(String),
    #[error("could not generate the server certificate: {0}")]
    Certificate(#[from] rcgen::Error),
    #[error("could not build the TLS configuration: {0}")]
    Config(#[from] rustls::Error),
}

/// The crypto provider for every TLS use in this process.
pub fn crypto_provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// The server's certificate and key, made fresh for each launch.
pub struct ServerIdentity {
    pub certificate: CertificateDer<'static>,
    key: PrivatePkcs8KeyDer<'static>,
}

impl ServerIdentity {
    /// ECDSA P-256, SAN `localhost` (Go ignores the CN), EKU serverAuth, valid from
    /// 30 s ago so that clock skew between processes cannot make it "not yet valid".
    pub fn generate() -> Result<Self, TlsError> {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
        let mut params = rcgen::CertificateParams::new(vec!["localhost".to_string()])?;
        params.distinguished_name.push(rcgen::DnType::CommonName, "localhost");
        params.distinguished_name.push(rcgen::DnType::OrganizationName, "terraform-provider-iamkey");
        let now = time::OffsetDateTime::now_utc();
        params.not_before = now - time::Duration::seconds(30);
        params.not_after = now + time::Duration::days(3650);
        params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
        params.key_usages = vec![rcgen::KeyUsagePurpose::DigitalSignature];
        let certificate = params.self_signed(&key)?;
        Ok(ServerIdentity { certificate: certificate.der().clone(), key: PrivatePkcs8KeyDer::from(key.serialize_der()) })
    }
}

/// Reads the one certificate from `PLUGIN_CLIENT_CERT`'s PEM; it must parse as
/// X.509, since a pin that no client can present would refuse every connection.
pub fn parse_client_certificate(pem: &str) -> Result<CertificateDer<'static>, TlsError> {
    use rustls::pki_types::pem::PemObject;
    let first = CertificateDer::pem_slice_iter(pem.as_bytes()).next();
    let certificate = first.ok_or(TlsError::NoClientCertificate)?.map_err(|e| TlsError::InvalidPem(e.to_string()))?;
    webpki::EndEntityCert::try_from(&certificate).map_err(|e| TlsError::InvalidPem(format!("not an X.509 certificate ({e})")))?;
    Ok(certificate)
}

/// TLS 1.2+ server configuration: our certificate, ALPN `h2` (grpc-go enforces it),
/// and a client certificate that is mandatory and must be the pinned one.
pub fn server_config(identity: &ServerIdentity, client: CertificateDer<'static>) -> Result<Arc<ServerConfig>, TlsError> {
    let provider = crypto_provider();
    let verifier = PinnedClientCert { certificate: client, algorithms: provider.signature_verification_algorithms };
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_client_cert_verifier(Arc::new(verifier))
        .with_single_cert(vec![identity.certificate.clone()], PrivateKeyDer::Pkcs8(identity.key.clone_key()))?;
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(Arc::new(config))
}

/// Accepts exactly one client certificate, compared byte for byte, as go-plugin's
/// own server does (its client CA pool holds only that certificate).
#[derive(Debug)]
struct PinnedClientCert {
    certificate: CertificateDer<'static>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ClientCertVerifier for PinnedClientCert {
    /// Empty: Go filters its certificates by the CA names we list, and Terraform's
    /// is self-signed.
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        if end_entity.as_ref() == self.certificate.as_ref() {
            Ok(ClientCertVerified::assertion())
        } else {
            Err(rustls::Error::InvalidCertificate(CertificateError::ApplicationVerificationFailure))
        }
    }

    fn verify_tls12_signature(&self, message: &[u8], cert: &CertificateDer<'_>, dss: &DigitallySignedStruct) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(&self, message: &[u8], cert: &CertificateDer<'_>, dss: &DigitallySignedStruct) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verifier_offers_p521_so_go_sends_its_certificate() {
        let schemes = crypto_provider().signature_verification_algorithms.supported_schemes();
        assert!(schemes.contains(&SignatureScheme::ECDSA_NISTP521_SHA512));
    }

    #[test]
    fn server_certificate_names_localhost() {
        let identity = ServerIdentity::generate().unwrap();
        let der = identity.certificate.as_ref();
        assert!(der.windows(9).any(|w| w == b"localhost"));
    }

    #[test]
    fn only_a_parseable_x509_client_certificate_is_accepted() {
        assert!(matches!(parse_client_certificate(""), Err(TlsError::NoClientCertificate)));
        assert!(matches!(parse_client_certificate("not pem"), Err(TlsError::NoClientCertificate)));
        let garbage = "-----BEGIN CERTIFICATE-----\nAAAAAAAAAAAA\n-----END CERTIFICATE-----\n";
        assert!(matches!(parse_client_certificate(garbage), Err(TlsError::InvalidPem(_))));
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let mut params = rcgen::CertificateParams::new(vec!["localhost".to_string()]).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained); // as Terraform's
        let certificate = params.self_signed(&key).unwrap();
        assert_eq!(parse_client_certificate(&certificate.pem()).unwrap().as_ref(), certificate.der().as_ref());
    }
}
