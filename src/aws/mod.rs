//! AWS clients, built once from the provider configuration on top of aws-config's
//! default chain (environment, shared files and profiles, SSO, web identity,
//! container and instance metadata, credential processes), and shared by every
//! resource.

pub mod caller;
pub mod destination;
#[cfg(test)]
pub(crate) mod fake;
pub mod files;
pub(crate) mod http;
pub mod iam;
pub mod probe;
pub mod retry;

use std::path::PathBuf;
use std::time::Duration;

use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_runtime::env_config::file::{EnvConfigFileKind, EnvConfigFiles};
use aws_sdk_iam::error::ProvideErrorMetadata;
use aws_smithy_http_client::proxy::ProxyConfig;
use aws_smithy_runtime_api::client::http::SharedHttpClient;

use crate::secret::Secret;

/// What the provider configuration decides about the clients. Every field is
/// optional: unset means "as the AWS SDK's default chain decides".
#[derive(Debug, Default, Clone)]
pub struct ClientSettings {
    pub region: Option<String>,
    pub profile: Option<String>,
    pub shared_config_files: Vec<PathBuf>,
    pub shared_credentials_files: Vec<PathBuf>,
    pub access_key: Option<String>,
    pub secret_key: Option<Secret>,
    pub token: Option<Secret>,
    pub assume_role: Option<AssumeRole>,
    pub iam_endpoint: Option<String>,
    pub sts_endpoint: Option<String>,
    pub secretsmanager_endpoint: Option<String>,
    pub ssm_endpoint: Option<String>,
    pub max_retries: Option<u32>,
    pub adaptive_retries: bool,
    /// PEM bundle of extra CA certificates to trust (falls back to AWS_CA_BUNDLE).
    pub custom_ca_bundle: Option<PathBuf>,
    /// Proxy for every AWS call (falls back to HTTPS_PROXY/HTTP_PROXY/NO_PROXY).
    pub http_proxy: Option<String>,
    pub connect_timeout: Duration,
    pub operation_timeout: Duration,
    pub skip_credentials_validation: bool,
}

#[derive(Debug, Default, Clone)]
pub struct AssumeRole {
    pub role_arn: String,
    pub session_name: Option<String>,
    pub external_id: Option<String>,
    pub duration: Option<Duration>,
    pub policy: Option<String>,
    pub source_identity: Option<String>,
    pub tags: Vec<(String, String)>,
}

/// The clients every resource shares, and what configuring them learned.
#[derive(Clone, Debug)]
pub struct AwsClients {
    pub iam: iam::Iam,
    pub region: String,
    pub account_id: Option<String>,
    /// Who signs the requests: decides whom a key with no `user` is for.
    pub caller: caller::CallerIdentity,
    /// Tests new keys (`wait_until_usable`); None where there is no STS to ask.
    pub probe: Option<probe::KeyProbe>,
    /// Where secrets go instead of state (`secret_destination`); None in unit tests.
    pub stores: Option<destination::SecretStores>,
}

/// AWS's text (a service message, a transport reason) as a clause of our own
/// sentence: without its final period, which the sentence that quotes it adds.
/// Every error of this module that shows such text displays it through this.
pub(crate) fn clause(text: &str) -> &str {
    text.trim_end_matches('.')
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("no AWS region is configured")]
    MissingRegion,
    #[error("the AWS credentials could not be verified with sts:GetCallerIdentity: {}", clause(.0))]
    InvalidCredentials(String),
    #[error("assuming role {role}: {}", clause(reason))]
    AssumeRole { role: String, reason: String },
    #[error("custom_ca_bundle {path}: {reason}")]
    CaBundle { path: String, reason: String },
    #[error("http_proxy: {0}")]
    Proxy(String),
    #[error(transparent)]
    File(#[from] files::FileError),
}

impl ClientSettings {
    fn max_attempts(&self) -> u32 {
        retry::max_attempts(self.max_retries)
    }

    /// The CA bundle (the argument, else AWS_CA_BUNDLE) with its path, if any,
    /// read bounded (see `files`).
    async fn read_ca_bundle(&self) -> Result<Option<(PathBuf, Vec<u8>)>, ConfigError> {
        let Some(path) = self.custom_ca_bundle.clone().or_else(|| std::env::var_os("AWS_CA_BUNDLE").map(PathBuf::from)) else { return Ok(None) };
        let pem = files::read_bounded("custom_ca_bundle", &path, files::CA_BUNDLE_CAP, self.operation_timeout).await?;
        Ok(Some((path, pem)))
    }

    /// The provider's one HTTP client (`http::ProviderHttpClient`): trusting the CA
    /// bundle (`read_ca_bundle`, checked here) when there is one, else the system's
    /// roots; through the proxy argument, else the proxy environment variables.
    fn http_client(&self, ca_bundle: Option<(PathBuf, Vec<u8>)>) -> Result<SharedHttpClient, ConfigError> {
        let proxy = match &self.http_proxy {
            Some(url) => ProxyConfig::all(url.as_str()).map_err(|e| ConfigError::Proxy(e.to_string()))?,
            None => ProxyConfig::from_env(),
        };
        let shown = ca_bundle.as_ref().map(|(path, _)| path.display().to_string()).unwrap_or_default();
        let pem = match ca_bundle {
            Some((_, pem)) => {
                http::check_ca_bundle(&pem).map_err(|reason| ConfigError::CaBundle { path: shown.clone(), reason })?;
                Some(pem)
            }
            None => None,
        };
        http::ProviderHttpClient::shared(pem, proxy).map_err(|reason| ConfigError::CaBundle { path: shown, reason })
    }

    async fn base_config(&self) -> Result<SdkConfig, ConfigError> {
        let retry = retry::sdk_retry_config(self.adaptive_retries, self.max_attempts());
        let mut loader = aws_config::defaults(BehaviorVersion::latest()).retry_config(retry).timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(self.connect_timeout)
                .operation_timeout(self.operation_timeout)
                .operation_attempt_timeout(self.operation_timeout)
                .build(),
        );
        if let Some(region) = &self.region {
            loader = loader.region(Region::new(region.clone()));
        }
        loader = loader.http_client(self.http_client(self.read_ca_bundle().await?)?);
        if let Some(profile) = &self.profile {
            loader = loader.profile_name(profile);
        }
        if !self.shared_config_files.is_empty() || !self.shared_credentials_files.is_empty() {
            let mut profile_files = EnvConfigFiles::builder();
            // Read here, bounded, and handed over as contents: aws-config never opens them.
            let named = [
                ("shared_config_files", EnvConfigFileKind::Config, &self.shared_config_files),
                ("shared_credentials_files", EnvConfigFileKind::Credentials, &self.shared_credentials_files),
            ];
            for (argument, kind, paths) in named {
                // A named file that does not exist is skipped, as aws-config skips it.
                for path in paths.iter().filter(|p| !matches!(p.try_exists(), Ok(false))) {
                    let contents = files::read_bounded(argument, path, files::SHARED_FILE_CAP, self.operation_timeout).await?;
                    let text = String::from_utf8(contents).map_err(|_| files::FileError { argument, path: path.clone(), reason: "not UTF-8 text".into() })?;
                    profile_files = profile_files.with_contents(kind, text);
                }
            }
            loader = loader.profile_files(profile_files.build());
        }
        if let (Some(access_key), Some(secret_key)) = (&self.access_key, &self.secret_key) {
            loader = loader.credentials_provider(Credentials::new(
                access_key,
                secret_key.expose(),
                self.token.as_ref().map(|t| t.expose().to_string()),
                None,
                "iamkey-provider-configuration",
            ));
        }
        Ok(loader.load().await)
    }

    /// Builds the clients and, unless skipped, proves the credentials work.
    pub async fn connect(&self) -> Result<AwsClients, ConfigError> {
        let mut config = self.base_config().await?;
        let region = config.region().map(|r| r.to_string()).ok_or(ConfigError::MissingRegion)?;
        if let Some(role) = &self.assume_role {
            config = self.assume(role, config).await?;
        }
        let (account_id, caller) = if self.skip_credentials_validation {
            (None, caller::CallerIdentity::lookup(self.sts_client(&config)))
        } else {
            let (account, arn) = self.caller_identity(&config).await?;
            (Some(account), caller::CallerIdentity::known(caller::Caller::from_arn(&arn)))
        };
        let mut iam_config = aws_sdk_iam::config::Builder::from(&config).retry_partition(retry::retry_partition("iam"));
        if let Some(endpoint) = &self.iam_endpoint {
            iam_config = iam_config.endpoint_url(endpoint);
        }
        let iam = aws_sdk_iam::Client::from_conf(iam_config.build());
        let probe = Some(probe::KeyProbe::new(self.sts_config(&config)));
        let mut secrets_config = aws_sdk_secretsmanager::config::Builder::from(&config).retry_partition(retry::retry_partition("secretsmanager"));
        if let Some(endpoint) = &self.secretsmanager_endpoint {
            secrets_config = secrets_config.endpoint_url(endpoint);
        }
        let mut ssm_config = aws_sdk_ssm::config::Builder::from(&config).retry_partition(retry::retry_partition("ssm"));
        if let Some(endpoint) = &self.ssm_endpoint {
            ssm_config = ssm_config.endpoint_url(endpoint);
        }
        let stores = Some(destination::SecretStores::new(
            aws_sdk_secretsmanager::Client::from_conf(secrets_config.build()),
            aws_sdk_ssm::Client::from_conf(ssm_config.build()),
        ));
        Ok(AwsClients { iam: iam::Iam::new(iam, self.max_attempts()), region, account_id, caller, probe, stores })
    }

    fn sts_config(&self, config: &SdkConfig) -> aws_sdk_sts::Config {
        let mut sts_config = aws_sdk_sts::config::Builder::from(config).retry_partition(retry::retry_partition("sts"));
        if let Some(endpoint) = &self.sts_endpoint {
            sts_config = sts_config.endpoint_url(endpoint);
        }
        sts_config.build()
    }

    fn sts_client(&self, config: &SdkConfig) -> aws_sdk_sts::Client {
        aws_sdk_sts::Client::from_conf(self.sts_config(config))
    }

    /// The account and ARN of the credentials' principal.
    async fn caller_identity(&self, config: &SdkConfig) -> Result<(String, String), ConfigError> {
        let identity = self.sts_client(config).get_caller_identity().send().await.map_err(|e| ConfigError::InvalidCredentials(describe_failure(&e)))?;
        Ok((identity.account().unwrap_or_default().to_string(), identity.arn().unwrap_or_default().to_string()))
    }

    /// Swaps the credentials for those of the assumed role.
    async fn assume(&self, role: &AssumeRole, base: SdkConfig) -> Result<SdkConfig, ConfigError> {
        let failure = |reason: String| ConfigError::AssumeRole { role: role.role_arn.clone(), reason };
        let mut request = self
            .sts_client(&base)
            .assume_role()
            .role_arn(&role.role_arn)
            .role_session_name(role.session_name.clone().unwrap_or_else(|| "terraform-provider-iamkey".into()))
            .set_external_id(role.external_id.clone())
            .set_policy(role.policy.clone())
            .set_source_identity(role.source_identity.clone());
        for (key, value) in &role.tags {
            let tag = aws_sdk_sts::types::Tag::builder().key(key).value(value).build().map_err(|e| failure(e.to_string()))?;
            request = request.tags(tag);
        }
        if let Some(duration) = role.duration {
            request = request.duration_seconds(duration.as_secs().min(i32::MAX as u64) as i32);
        }
        let output = request.send().await.map_err(|e| failure(describe_failure(&e)))?;
        let creds = output.credentials().ok_or_else(|| failure("STS returned no credentials".into()))?;
        let credentials =
            Credentials::new(creds.access_key_id(), creds.secret_access_key(), Some(creds.session_token().to_string()), None, "iamkey-assume-role");
        Ok(base.into_builder().credentials_provider(aws_credential_types::provider::SharedCredentialsProvider::new(credentials)).build())
    }
}

/// A failed SDK call as the service's clients all return it.
pub(crate) type SdkFailure<E> = aws_smithy_runtime_api::client::result::SdkError<E, aws_smithy_runtime_api::http::Response>;

/// How a call failed: AWS's code and message when it sent them, else
/// `failure_reason`.
pub(crate) fn describe_failure<E: ProvideErrorMetadata>(e: &SdkFailure<E>) -> String {
    match (e.code(), e.message()) {
        (Some(code), Some(message)) => format!("{code}: {message}"),
        (Some(code), None) => code.to_string(),
        _ => failure_reason(e),
    }
}

/// AWS's error code alone (never its message), or `failure_reason` when none came.
pub(crate) fn failure_code<E: ProvideErrorMetadata>(e: &SdkFailure<E>) -> String {
    e.code().map_or_else(|| failure_reason(e), str::to_string)
}

/// Why a call failed when AWS sent no error code (a TLS refusal with rustls's
/// reason, see `http::tls_refusal`); never includes bodies. Every error of this
/// layer that has no code to show shows this (IAM's own wording names IAM).
pub(crate) fn failure_reason<E>(e: &SdkFailure<E>) -> String {
    use aws_smithy_runtime_api::client::result::SdkError;
    match e {
        SdkError::TimeoutError(_) => "timed out".into(),
        SdkError::DispatchFailure(f) if f.is_timeout() => "timed out connecting".into(),
        SdkError::DispatchFailure(f) => http::tls_refusal(f).unwrap_or_else(|| "could not connect to the endpoint".into()),
        SdkError::ConstructionFailure(_) => "the request could not be built (are credentials configured?)".into(),
        SdkError::ResponseError(_) => "the response could not be read".into(),
        SdkError::ServiceError(se) => format!("the endpoint answered HTTP {}", se.raw().status().as_u16()),
        _ => "the request failed".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aws_text_is_quoted_without_its_final_period() {
        let refused = ConfigError::InvalidCredentials("InvalidClientTokenId: The security token included in the request is invalid.".into());
        assert_eq!(format!("{refused}."), "the AWS credentials could not be verified with sts:GetCallerIdentity: InvalidClientTokenId: The security token included in the request is invalid.");
        let assume = ConfigError::AssumeRole { role: "arn:aws:iam::1:role/r".into(), reason: "AccessDenied: not authorized.".into() };
        assert_eq!(format!("{assume}."), "assuming role arn:aws:iam::1:role/r: AccessDenied: not authorized.");
    }

    #[tokio::test]
    async fn a_ca_bundle_that_is_missing_or_not_pem_is_a_clear_error() {
        let timeout = Duration::from_secs(5);
        let missing = ClientSettings { custom_ca_bundle: Some("/nonexistent/ca.pem".into()), operation_timeout: timeout, ..Default::default() };
        let err = missing.read_ca_bundle().await.expect_err("error");
        assert!(err.to_string().starts_with("custom_ca_bundle /nonexistent/ca.pem:"), "{err}");
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), "not a certificate").unwrap();
        let garbage = ClientSettings { custom_ca_bundle: Some(file.path().into()), operation_timeout: timeout, ..Default::default() };
        let pem = garbage.read_ca_bundle().await.unwrap();
        assert!(garbage.http_client(pem).err().unwrap().to_string().contains("no PEM certificate"));
        // The SDK panics on a certificate it cannot parse; the provider says which one.
        std::fs::write(file.path(), "-----BEGIN CERTIFICATE-----\nMIIBnotacert\n-----END CERTIFICATE-----\n").unwrap();
        let malformed = ClientSettings { region: Some("us-east-1".into()), skip_credentials_validation: true, ..garbage };
        let Err(err) = malformed.connect().await else { panic!("a malformed certificate was accepted") };
        assert!(err.to_string().contains("certificate 1 is not a valid X.509 certificate"), "{err}");
    }

    #[tokio::test]
    async fn a_fifo_named_as_a_file_is_refused_within_the_timeout_naming_the_argument() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("config");
        files::tests::make_fifo(&fifo);
        let timeout = Duration::from_secs(2);
        for settings in [
            ClientSettings { custom_ca_bundle: Some(fifo.clone()), operation_timeout: timeout, ..Default::default() },
            ClientSettings { shared_config_files: vec![fifo.clone()], region: Some("us-east-1".into()), operation_timeout: timeout, ..Default::default() },
        ] {
            let started = std::time::Instant::now();
            let err = settings.connect().await.expect_err("refused");
            assert!(started.elapsed() < timeout, "{:?}", started.elapsed());
            assert!(matches!(err, ConfigError::File(ref f) if f.reason.contains("FIFO")), "{err}");
        }
    }

    #[test]
    fn an_invalid_proxy_url_is_a_clear_error() {
        let settings = ClientSettings { http_proxy: Some("::not a url::".into()), ..Default::default() };
        assert!(matches!(settings.http_client(None), Err(ConfigError::Proxy(_))));
    }
}
