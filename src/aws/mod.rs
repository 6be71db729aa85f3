//! AWS clients, built once from the provider configuration: credentials the
//! provider block names first (`credentials::PRECEDENCE`), else aws-config's
//! default chain (environment, shared files and profiles, SSO, web identity,
//! container and instance metadata, credential processes), and shared by every
//! resource.

pub mod actions;
pub mod caller;
pub mod credentials;
pub mod destination;
#[cfg(test)]
pub(crate) mod fake;
pub mod files;
pub(crate) mod http;
pub mod iam;
pub mod organizations;
pub mod probe;
pub mod retry;

use std::path::PathBuf;
use std::time::Duration;

use aws_config::profile::ProfileFileCredentialsProvider;
use aws_config::provider_config::ProviderConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_runtime::env_config::file::{EnvConfigFileKind, EnvConfigFiles};
use aws_sdk_iam::error::ProvideErrorMetadata;
use aws_smithy_http_client::proxy::ProxyConfig;
use aws_smithy_runtime_api::client::http::SharedHttpClient;

pub use credentials::{AccountGuard, AssumeRole, WebIdentity, WebIdentityToken};
use credentials::{AccountRefused, BaseSource, SessionFailure};

use crate::secret::Secret;

/// A service's client built from `config`: its own retry partition, and the
/// endpoint the settings give, if any. Every client of the provider is built so.
macro_rules! service_client {
    ($sdk:ident, $config:expr, $partition:literal, $endpoint:expr) => {{
        let mut builder = $sdk::config::Builder::from($config).retry_partition(retry::retry_partition($partition));
        if let Some(endpoint) = $endpoint {
            builder = builder.endpoint_url(endpoint);
        }
        $sdk::Client::from_conf(builder.build())
    }};
}

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
    /// Role sessions taken in order, each with the credentials of the one before.
    pub assume_role: Vec<AssumeRole>,
    /// A role session from an OIDC token, taken before any `assume_role` hop.
    pub web_identity: Option<WebIdentity>,
    /// The accounts the provider may act in.
    pub account_guard: AccountGuard,
    pub iam_endpoint: Option<String>,
    pub sts_endpoint: Option<String>,
    pub secretsmanager_endpoint: Option<String>,
    pub ssm_endpoint: Option<String>,
    pub organizations_endpoint: Option<String>,
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

/// The clients every resource shares, and what configuring them learned.
#[derive(Clone, Debug)]
pub struct AwsClients {
    pub iam: iam::Iam,
    pub region: String,
    /// The AWS partition (`aws`, `aws-cn`, `aws-us-gov`, ...) of ARNs the provider
    /// writes: the caller's own when its identity was checked, else the region's.
    pub partition: String,
    pub account_id: Option<String>,
    /// Who signs the requests: decides whom a key with no `user` is for.
    pub caller: caller::CallerIdentity,
    /// Tests new keys (`wait_until_usable`); None where there is no STS to ask.
    pub probe: Option<probe::KeyProbe>,
    /// Where secrets go instead of state (`secret_destination`); None in unit tests.
    pub stores: Option<destination::SecretStores>,
    /// The organization's accounts, and a way into each; None in unit tests.
    pub organization: Option<OrganizationAccess>,
}

/// What reading an AWS Organization needs: the provider's own signed
/// configuration and endpoints, from which its account listing and a role
/// session into each member account are made when an audit asks (nothing is
/// built at start-up for a configuration that never audits).
#[derive(Clone, Debug)]
pub struct OrganizationAccess {
    config: SdkConfig,
    iam_endpoint: Option<String>,
    sts_endpoint: Option<String>,
    organizations_endpoint: Option<String>,
    max_attempts: u32,
}

impl OrganizationAccess {
    /// The organization's account listing.
    pub fn organizations(&self) -> organizations::Organizations {
        organizations::Organizations::new(service_client!(aws_sdk_organizations, &self.config, "organizations", &self.organizations_endpoint))
    }
}

impl AwsClients {
    /// Returns once a new key authenticates (the probe, for at most IAM's
    /// propagation timeout): the one wait every type that hands a new key to
    /// another provider in the same run uses.
    pub async fn wait_until_usable(&self, id: &str, secret: &Secret, cancel: &tokio_util::sync::CancellationToken) -> Result<(), probe::ProbeError> {
        let probe = self.probe.as_ref().ok_or(probe::ProbeError::NoSts)?;
        let attempts = probe.wait_until_usable(id, secret, iam::PROPAGATION_TIMEOUT, cancel).await?;
        tracing::info!(access_key_id = id, attempts, "the new key authenticates");
        Ok(())
    }

    /// IAM in `account`: the provider's own client in its own account; in another,
    /// through a session of the role `role_name` there, signed by the provider's
    /// credentials. The session is taken now, so a role that cannot be assumed
    /// fails here, naming sts:AssumeRole; the SDK renews it as it expires.
    pub async fn iam_in_account(&self, account: &str, role_name: &str) -> Result<iam::Iam, SessionFailure> {
        if self.account_id.as_deref() == Some(account) {
            return Ok(self.iam.clone());
        }
        let access = self.organization.as_ref().ok_or_else(|| SessionFailure {
            step: credentials::SessionStep::AssumeRole(0),
            role: role_name.to_string(),
            reason: "no AWS Organizations access is configured".into(),
        })?;
        let role_arn = format!("arn:{}:iam::{account}:role/{role_name}", self.partition);
        let hop = AssumeRole { role_arn: role_arn.clone(), ..Default::default() };
        let session = credentials::role_sessions(access.config.credentials_provider(), None, std::slice::from_ref(&hop), |signer| {
            let mut sts = sts_builder(&access.config, access.sts_endpoint.as_ref());
            sts.set_credentials_provider(signer);
            aws_sdk_sts::Client::from_conf(sts.build())
        });
        let session = credentials::taken_now(&role_arn, session).await?;
        let in_account = access.config.to_builder().credentials_provider(session).build();
        Ok(iam::Iam::new(service_client!(aws_sdk_iam, &in_account, "iam", &access.iam_endpoint), access.max_attempts))
    }
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
    #[error(transparent)]
    Session(#[from] SessionFailure),
    #[error(transparent)]
    Account(#[from] AccountRefused),
    #[error("allowed_account_ids and forbidden_account_ids need the caller's account, which skip_credentials_validation = true leaves unknown")]
    GuardWithoutIdentity,
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

    /// Which base credentials the provider block chooses (`credentials::PRECEDENCE`).
    pub fn base_source(&self) -> BaseSource<'_> {
        match (&self.access_key, &self.secret_key, &self.profile) {
            (Some(access_key), Some(secret_key), _) => BaseSource::StaticKeys { access_key, secret_key },
            (_, _, Some(profile)) => BaseSource::NamedProfile(profile),
            _ => BaseSource::DefaultChain,
        }
    }

    /// The shared config and credentials files the provider block names, read
    /// here, bounded, and handed over as contents: aws-config never opens them.
    async fn profile_files(&self) -> Result<Option<EnvConfigFiles>, ConfigError> {
        if self.shared_config_files.is_empty() && self.shared_credentials_files.is_empty() {
            return Ok(None);
        }
        let mut profile_files = EnvConfigFiles::builder();
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
        Ok(Some(profile_files.build()))
    }

    /// The SDK configuration with the base credentials (`base_source`): region,
    /// retries, timeouts and the HTTP client as the settings say.
    async fn base_config(&self) -> Result<SdkConfig, ConfigError> {
        let retry = retry::sdk_retry_config(self.adaptive_retries, self.max_attempts());
        let timeouts = TimeoutConfig::builder()
            .connect_timeout(self.connect_timeout)
            .operation_timeout(self.operation_timeout)
            .operation_attempt_timeout(self.operation_timeout)
            .build();
        let http_client = self.http_client(self.read_ca_bundle().await?)?;
        let profile_files = self.profile_files().await?;
        let mut loader =
            aws_config::defaults(BehaviorVersion::latest()).retry_config(retry.clone()).timeout_config(timeouts.clone()).http_client(http_client.clone());
        if let Some(region) = &self.region {
            loader = loader.region(Region::new(region.clone()));
        }
        // The profile also gives the region and other settings, whichever source signs.
        if let Some(profile) = &self.profile {
            loader = loader.profile_name(profile);
        }
        if let Some(files) = &profile_files {
            loader = loader.profile_files(files.clone());
        }
        match self.base_source() {
            BaseSource::StaticKeys { access_key, secret_key } => {
                let token = self.token.as_ref().map(|t| t.expose().to_string());
                loader = loader.credentials_provider(Credentials::new(access_key, secret_key.expose(), token, None, "iamkey-provider-configuration"));
            }
            BaseSource::NamedProfile(profile) => {
                // The profile alone: aws-config's default chain would try the
                // environment's credentials first and never reach it.
                let provider_config = ProviderConfig::without_region()
                    .with_region(self.region.clone().map(Region::new))
                    .with_http_client(http_client)
                    .with_retry_config(retry)
                    .with_timeout_config(timeouts);
                let mut named = ProfileFileCredentialsProvider::builder().configure(&provider_config).profile_name(profile);
                if let Some(files) = profile_files {
                    named = named.profile_files(files);
                }
                loader = loader.credentials_provider(named.build());
            }
            BaseSource::DefaultChain => {}
        }
        Ok(loader.load().await)
    }

    /// Builds the clients and, unless skipped, proves the credentials work and
    /// that they belong to an account the guard allows.
    pub async fn connect(&self) -> Result<AwsClients, ConfigError> {
        if self.skip_credentials_validation && self.account_guard.is_set() {
            return Err(ConfigError::GuardWithoutIdentity);
        }
        let base = self.base_config().await?;
        let region = base.region().map(|r| r.to_string()).ok_or(ConfigError::MissingRegion)?;
        let sessions = credentials::role_sessions(base.credentials_provider(), self.web_identity.as_ref(), &self.assume_role, |signer| {
            let mut sts = self.sts_builder(&base);
            sts.set_credentials_provider(signer);
            aws_sdk_sts::Client::from_conf(sts.build())
        });
        let config = match sessions {
            Some(credentials) => base.into_builder().credentials_provider(credentials).build(),
            None => base,
        };
        let (account_id, caller, partition) = if self.skip_credentials_validation {
            (None, caller::CallerIdentity::lookup(self.sts_client(&config)), caller::partition_of_region(&region))
        } else {
            let (account, arn) = self.caller_identity(&config).await?;
            self.account_guard.check(&account)?;
            let partition = caller::partition_of_arn(&arn).unwrap_or_else(|| caller::partition_of_region(&region));
            (Some(account), caller::CallerIdentity::known(caller::Caller::from_arn(&arn)), partition)
        };
        let iam = service_client!(aws_sdk_iam, &config, "iam", &self.iam_endpoint);
        let probe = Some(probe::KeyProbe::new(self.sts_config(&config)));
        let stores = Some(destination::SecretStores::new(
            service_client!(aws_sdk_secretsmanager, &config, "secretsmanager", &self.secretsmanager_endpoint),
            service_client!(aws_sdk_ssm, &config, "ssm", &self.ssm_endpoint),
        ));
        let organization = Some(OrganizationAccess {
            config: config.clone(),
            iam_endpoint: self.iam_endpoint.clone(),
            sts_endpoint: self.sts_endpoint.clone(),
            organizations_endpoint: self.organizations_endpoint.clone(),
            max_attempts: self.max_attempts(),
        });
        Ok(AwsClients { iam: iam::Iam::new(iam, self.max_attempts()), region, partition, account_id, caller, probe, stores, organization })
    }

    fn sts_builder(&self, config: &SdkConfig) -> aws_sdk_sts::config::Builder {
        sts_builder(config, self.sts_endpoint.as_ref())
    }

    fn sts_config(&self, config: &SdkConfig) -> aws_sdk_sts::Config {
        self.sts_builder(config).build()
    }

    fn sts_client(&self, config: &SdkConfig) -> aws_sdk_sts::Client {
        aws_sdk_sts::Client::from_conf(self.sts_config(config))
    }

    /// The account and ARN of the credentials' principal. A role session that
    /// could not be taken is reported as that session's failure.
    async fn caller_identity(&self, config: &SdkConfig) -> Result<(String, String), ConfigError> {
        let identity = self.sts_client(config).get_caller_identity().send().await.map_err(|e| match SessionFailure::behind(&e) {
            Some(session) => ConfigError::Session(session.clone()),
            None => ConfigError::InvalidCredentials(describe_failure(&e)),
        })?;
        Ok((identity.account().unwrap_or_default().to_string(), identity.arn().unwrap_or_default().to_string()))
    }
}

/// STS's configuration from `config`, at `endpoint` when one is set.
fn sts_builder(config: &SdkConfig, endpoint: Option<&String>) -> aws_sdk_sts::config::Builder {
    let sts_config = aws_sdk_sts::config::Builder::from(config).retry_partition(retry::retry_partition("sts"));
    match endpoint {
        Some(endpoint) => sts_config.endpoint_url(endpoint),
        None => sts_config,
    }
}

/// A failed SDK call as the service's clients all return it.
pub(crate) type SdkFailure<E> = aws_smithy_runtime_api::client::result::SdkError<E, aws_smithy_runtime_api::http::Response>;

/// How a call failed: AWS's code and message when it sent them, else
/// `failure_reason`.
pub(crate) fn describe_failure<E: ProvideErrorMetadata + std::error::Error + 'static>(e: &SdkFailure<E>) -> String {
    match (e.code(), e.message()) {
        (Some(code), Some(message)) => format!("{code}: {message}"),
        (Some(code), None) => code.to_string(),
        _ => failure_reason(e),
    }
}

/// AWS's error code alone (never its message), or `failure_reason` when none came.
pub(crate) fn failure_code<E: ProvideErrorMetadata + std::error::Error + 'static>(e: &SdkFailure<E>) -> String {
    e.code().map_or_else(|| failure_reason(e), str::to_string)
}

/// Why a call failed when AWS sent no error code (a TLS refusal with rustls's
/// reason, see `http::tls_refusal`); never includes bodies. Every error of this
/// layer that has no code to show shows this (IAM's own wording names IAM).
pub(crate) fn failure_reason<E: std::error::Error + 'static>(e: &SdkFailure<E>) -> String {
    use aws_smithy_runtime_api::client::result::SdkError;
    // A role session that could not be renewed fails the call before it is sent.
    if let Some(session) = SessionFailure::behind(e) {
        return format!("the role session could not be renewed: {}", clause(&session.to_string()));
    }
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
        let assume = ConfigError::Session(SessionFailure {
            step: credentials::SessionStep::AssumeRole(0),
            role: "arn:aws:iam::1:role/r".into(),
            reason: "AccessDenied: not authorized.".into(),
        });
        assert_eq!(format!("{assume}."), "assuming role arn:aws:iam::1:role/r (sts:AssumeRole): AccessDenied: not authorized.");
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
