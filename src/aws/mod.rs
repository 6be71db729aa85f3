//! AWS clients, built once from the provider configuration on top of aws-config's
//! default chain (environment, shared files and profiles, SSO, web identity,
//! container and instance metadata, credential processes), and shared by every
//! resource.

pub mod iam;
#[cfg(test)]
pub(crate) mod fake;

use std::path::PathBuf;
use std::time::Duration;

use aws_runtime::env_config::file::{EnvConfigFileKind, EnvConfigFiles};
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_sdk_iam::error::ProvideErrorMetadata;

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
    pub max_retries: Option<u32>,
    pub adaptive_retries: bool,
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
}

/// The clients every resource shares, and what configuring them learned.
#[derive(Clone, Debug)]
pub struct AwsClients {
    pub iam: iam::Iam,
    pub region: String,
    pub account_id: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("no AWS region is configured")]
    MissingRegion,
    #[error("the AWS credentials could not be verified with sts:GetCallerIdentity: {0}")]
    InvalidCredentials(String),
    #[error("assuming role {role}: {reason}")]
    AssumeRole { role: String, reason: String },
}

/// The SDK's default is 3 attempts; hashicorp/aws counts retries, not attempts.
const DEFAULT_MAX_RETRIES: u32 = 2;

impl ClientSettings {
    fn max_attempts(&self) -> u32 {
        self.max_retries.unwrap_or(DEFAULT_MAX_RETRIES) + 1
    }

    async fn base_config(&self) -> SdkConfig {
        let retry = if self.adaptive_retries { RetryConfig::adaptive() } else { RetryConfig::standard() };
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .retry_config(retry.with_max_attempts(self.max_attempts()))
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(self.connect_timeout)
                    .operation_timeout(self.operation_timeout)
                    .operation_attempt_timeout(self.operation_timeout)
                    .build(),
            );
        if let Some(region) = &self.region {
            loader = loader.region(Region::new(region.clone()));
        }
        if let Some(profile) = &self.profile {
            loader = loader.profile_name(profile);
        }
        if !self.shared_config_files.is_empty() || !self.shared_credentials_files.is_empty() {
            let mut files = EnvConfigFiles::builder();
            for path in &self.shared_config_files {
                files = files.with_file(EnvConfigFileKind::Config, path);
            }
            for path in &self.shared_credentials_files {
                files = files.with_file(EnvConfigFileKind::Credentials, path);
            }
            loader = loader.profile_files(files.build());
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
        loader.load().await
    }

    /// Builds the clients and, unless skipped, proves the credentials work.
    pub async fn connect(&self) -> Result<AwsClients, ConfigError> {
        let mut config = self.base_config().await;
        let region = config.region().map(|r| r.to_string()).ok_or(ConfigError::MissingRegion)?;
        if let Some(role) = &self.assume_role {
            config = self.assume(role, config).await?;
        }
        let account_id = if self.skip_credentials_validation { None } else { Some(self.caller_account(&config).await?) };
        let mut iam_config = aws_sdk_iam::config::Builder::from(&config);
        if let Some(endpoint) = &self.iam_endpoint {
            iam_config = iam_config.endpoint_url(endpoint);
        }
        let iam = aws_sdk_iam::Client::from_conf(iam_config.build());
        Ok(AwsClients { iam: iam::Iam::new(iam, self.max_attempts()), region, account_id })
    }

    fn sts_client(&self, config: &SdkConfig) -> aws_sdk_sts::Client {
        let mut sts_config = aws_sdk_sts::config::Builder::from(config);
        if let Some(endpoint) = &self.sts_endpoint {
            sts_config = sts_config.endpoint_url(endpoint);
        }
        aws_sdk_sts::Client::from_conf(sts_config.build())
    }

    async fn caller_account(&self, config: &SdkConfig) -> Result<String, ConfigError> {
        let identity = self.sts_client(config).get_caller_identity().send().await.map_err(|e| {
            ConfigError::InvalidCredentials(match (e.code(), e.message()) {
                (Some(code), Some(message)) => format!("{code}: {message}"),
                (Some(code), None) => code.to_string(),
                _ => sdk_failure_kind(&e),
            })
        })?;
        Ok(identity.account().unwrap_or_default().to_string())
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
            .set_policy(role.policy.clone());
        if let Some(duration) = role.duration {
            request = request.duration_seconds(duration.as_secs().min(i32::MAX as u64) as i32);
        }
        let output = request.send().await.map_err(|e| {
            failure(match (e.code(), e.message()) {
                (Some(code), Some(message)) => format!("{code}: {message}"),
                _ => sdk_failure_kind(&e),
            })
        })?;
        let creds = output.credentials().ok_or_else(|| failure("STS returned no credentials".into()))?;
        let credentials = Credentials::new(
            creds.access_key_id(),
            creds.secret_access_key(),
            Some(creds.session_token().to_string()),
            None,
            "iamkey-assume-role",
        );
        Ok(base
            .into_builder()
            .credentials_provider(aws_credential_types::provider::SharedCredentialsProvider::new(credentials))
            .build())
    }
}

/// Why a call failed when AWS sent no error code; never includes bodies.
fn sdk_failure_kind<E, R>(e: &aws_sdk_sts::error::SdkError<E, R>) -> String {
    use aws_sdk_sts::error::SdkError;
    match e {
        SdkError::TimeoutError(_) => "timed out".into(),
        SdkError::DispatchFailure(f) if f.is_timeout() => "timed out connecting".into(),
        SdkError::DispatchFailure(_) => "could not connect to the endpoint".into(),
        SdkError::ConstructionFailure(_) => "the request could not be built (are credentials configured?)".into(),
        SdkError::ResponseError(_) => "the response could not be read".into(),
        _ => "the request failed".into(),
    }
}
