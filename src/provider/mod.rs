//! The `iamkey` provider: its configuration schema, and the AWS clients it builds
//! once in ConfigureProvider and shares with every resource.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use crate::aws::{AssumeRole, ClientSettings, ConfigError};
use crate::framework::clock::SystemClock;
use crate::framework::schema::{Attribute, Block, Nesting, Schema};
use crate::framework::{DataSource, EphemeralResource, Function, ListResource, OpContext, Provider, Resource, SharedClock};
use crate::resources::access_key::AccessKeyResource;
use crate::resources::Clients;
use crate::secret::Secret;
use crate::value::{AttributePath, Diagnostics};
use crate::value::{Type, Value};

pub struct IamKeyProvider {
    schema: Schema,
    clients: Arc<Clients>,
    resources: Vec<Arc<dyn Resource>>,
    data_sources: Vec<Arc<dyn DataSource>>,
    list_resources: Vec<Arc<dyn ListResource>>,
    functions: Vec<Arc<dyn Function>>,
    ephemeral_resources: Vec<Arc<dyn EphemeralResource>>,
}

const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const DEFAULT_OPERATION_TIMEOUT: Duration = Duration::from_secs(60);

impl Default for IamKeyProvider {
    fn default() -> Self {
        Self::new()
    }
}

impl IamKeyProvider {
    pub fn new() -> Self {
        let clients = Arc::new(Clients::default());
        IamKeyProvider {
            schema: provider_schema(),
            resources: vec![Arc::new(AccessKeyResource::new(clients.clone()))],
            data_sources: vec![Arc::new(crate::resources::access_keys::AccessKeysDataSource::new(clients.clone()))],
            list_resources: vec![Arc::new(crate::resources::access_key_list::AccessKeyList::new(clients.clone()))],
            functions: vec![Arc::new(crate::functions::ses_smtp_password_v4::SesSmtpPasswordFunction::default())],
            ephemeral_resources: vec![Arc::new(crate::resources::ephemeral_key::EphemeralAccessKey::new(clients.clone()))],
            clients,
        }
    }
}

fn string_list() -> Type {
    Type::List(Box::new(Type::String))
}

fn positive_number(v: &Value) -> Result<(), String> {
    match v.as_i64() {
        Some(n) if n >= 0 => Ok(()),
        _ => Err("must be a whole number, 0 or more".into()),
    }
}

fn retry_mode(v: &Value) -> Result<(), String> {
    match v.as_str() {
        Some("standard" | "adaptive") => Ok(()),
        _ => Err("must be \"standard\" or \"adaptive\"".into()),
    }
}

fn endpoint_url(v: &Value) -> Result<(), String> {
    match v.as_str() {
        Some(s) if s.starts_with("http://") || s.starts_with("https://") => Ok(()),
        _ => Err("must be a URL starting with http:// or https://".into()),
    }
}

fn provider_schema() -> Schema {
    let assume_role = Block::new("Assume an IAM role (sts:AssumeRole) with the credentials found, and manage keys with the role's credentials.")
        .attribute(Attribute::required("role_arn", Type::String).describe("ARN of the role to assume."))
        .attribute(Attribute::optional("session_name", Type::String).describe("Session name. Default `terraform-provider-iamkey`."))
        .attribute(Attribute::optional("external_id", Type::String).describe("External ID the role's trust policy requires."))
        .attribute(Attribute::optional("duration", Type::Number).validate(positive_number).describe("Session duration in seconds."))
        .attribute(Attribute::optional("policy", Type::String).describe("Session policy (JSON) that further limits the role's permissions."))
        .attribute(Attribute::optional("source_identity", Type::String).describe("Source identity recorded in CloudTrail for the role session."))
        .attribute(Attribute::optional("tags", Type::Map(Box::new(Type::String))).describe("Session tags passed to sts:AssumeRole."));
    let endpoints = Block::new("Custom service endpoints, for emulators (moto, LocalStack) and private endpoints. `AWS_ENDPOINT_URL_<SERVICE>` and `AWS_ENDPOINT_URL` are honoured too.")
        .attribute(Attribute::optional("iam", Type::String).validate(endpoint_url).describe("IAM endpoint URL."))
        .attribute(Attribute::optional("sts", Type::String).validate(endpoint_url).describe("STS endpoint URL."))
        .attribute(Attribute::optional("secretsmanager", Type::String).validate(endpoint_url).describe("Secrets Manager endpoint URL (for `secret_destination`)."))
        .attribute(Attribute::optional("ssm", Type::String).validate(endpoint_url).describe("SSM endpoint URL (for `secret_destination`)."));
    Schema::new(
        0,
        Block::new("The iamkey provider manages AWS IAM access keys. Every argument is optional and falls back to the AWS SDK's default chain: environment variables, shared config and credentials files, SSO, web identity, container and instance metadata.")
            .attribute(Attribute::optional("region", Type::String).describe("AWS region, used to sign requests and to derive SES SMTP passwords. Falls back to `AWS_REGION`, `AWS_DEFAULT_REGION` and the profile."))
            .attribute(Attribute::optional("profile", Type::String).describe("Named profile of the shared config and credentials files. Falls back to `AWS_PROFILE`."))
            .attribute(Attribute::optional("shared_config_files", string_list()).describe("Paths of shared config files. Default `~/.aws/config`."))
            .attribute(Attribute::optional("shared_credentials_files", string_list()).describe("Paths of shared credentials files. Default `~/.aws/credentials`."))
            .attribute(Attribute::optional("access_key", Type::String).describe("Access key ID. Needs `secret_key`. Falls back to `AWS_ACCESS_KEY_ID`."))
            .attribute(Attribute::optional("secret_key", Type::String).sensitive().describe("Secret access key. Falls back to `AWS_SECRET_ACCESS_KEY`."))
            .attribute(Attribute::optional("token", Type::String).sensitive().describe("Session token for temporary credentials. Falls back to `AWS_SESSION_TOKEN`."))
            .attribute(Attribute::optional("max_retries", Type::Number).validate(positive_number).describe("How many times a throttled or transiently failed call is retried, with exponential backoff (pauses of at most 2 s) and jitter, within `operation_timeout`. Default 25, as hashicorp/aws."))
            .attribute(Attribute::optional("retry_mode", Type::String).validate(retry_mode).describe("`standard` or `adaptive` (client-side rate limiting). Default `standard`."))
            .attribute(Attribute::optional("skip_credentials_validation", Type::Bool).describe("Skip the sts:GetCallerIdentity check of the credentials at configure time. Default false."))
            .attribute(Attribute::optional("custom_ca_bundle", Type::String).describe("Path of a PEM bundle of the CA certificates to trust instead of the system's, for private endpoints and TLS-intercepting proxies (as in hashicorp/aws and the AWS CLI: include the public roots when the bundle must also reach public AWS endpoints). Falls back to `AWS_CA_BUNDLE`."))
            .attribute(Attribute::optional("http_proxy", Type::String).describe("URL of a proxy for every AWS call. Falls back to `HTTPS_PROXY`, `HTTP_PROXY` and `NO_PROXY`."))
            .attribute(Attribute::optional("connect_timeout", Type::Number).validate(positive_number).describe("Seconds to wait for a connection to an AWS endpoint. Default 10."))
            .attribute(Attribute::optional("operation_timeout", Type::Number).validate(positive_number).describe("Seconds one AWS call may take, retries included. Default 60."))
            .block("assume_role", Nesting::Single, assume_role)
            .block("endpoints", Nesting::Single, endpoints),
    )
}

/// Reads the configuration into client settings. Only called with a wholly known
/// configuration.
fn settings_from(config: &Value) -> ClientSettings {
    let string = |v: &Value| v.as_str().map(str::to_string);
    let paths = |v: &Value| v.as_list().unwrap_or_default().iter().filter_map(|p| p.as_str()).map(PathBuf::from).collect();
    let seconds = |v: &Value, default| v.as_i64().map_or(default, |s| Duration::from_secs(s.max(0) as u64));
    let assume_role = config.get("assume_role");
    let endpoints = config.get("endpoints");
    ClientSettings {
        region: string(config.get("region")),
        profile: string(config.get("profile")),
        shared_config_files: paths(config.get("shared_config_files")),
        shared_credentials_files: paths(config.get("shared_credentials_files")),
        access_key: string(config.get("access_key")),
        secret_key: config.get("secret_key").as_str().map(Secret::new),
        token: config.get("token").as_str().map(Secret::new),
        assume_role: string(assume_role.get("role_arn")).map(|role_arn| AssumeRole {
            role_arn,
            session_name: string(assume_role.get("session_name")),
            external_id: string(assume_role.get("external_id")),
            duration: assume_role.get("duration").as_i64().map(|s| Duration::from_secs(s.max(0) as u64)),
            policy: string(assume_role.get("policy")),
            source_identity: string(assume_role.get("source_identity")),
            tags: assume_role
                .get("tags")
                .as_map()
                .map(|m| m.iter().filter_map(|(k, v)| Some((k.to_string(), v.as_str()?.to_string()))).collect())
                .unwrap_or_default(),
        }),
        iam_endpoint: string(endpoints.get("iam")),
        sts_endpoint: string(endpoints.get("sts")),
        secretsmanager_endpoint: string(endpoints.get("secretsmanager")),
        ssm_endpoint: string(endpoints.get("ssm")),
        custom_ca_bundle: string(config.get("custom_ca_bundle")).map(PathBuf::from),
        http_proxy: string(config.get("http_proxy")),
        max_retries: config.get("max_retries").as_i64().map(|n| n.clamp(0, 100) as u32),
        adaptive_retries: config.get("retry_mode").as_str() == Some("adaptive"),
        connect_timeout: seconds(config.get("connect_timeout"), DEFAULT_CONNECT_TIMEOUT),
        operation_timeout: seconds(config.get("operation_timeout"), DEFAULT_OPERATION_TIMEOUT),
        skip_credentials_validation: config.get("skip_credentials_validation").as_bool().unwrap_or(false),
    }
}

/// The one place configuration errors become diagnostics.
fn config_diagnostic(error: ConfigError) -> Diagnostics {
    let mut diags = Diagnostics::new();
    match &error {
        ConfigError::MissingRegion => diags.add_error_at(
            AttributePath::root("region"),
            "No AWS region",
            "Set `region` in the provider block, or AWS_REGION, or a region in the selected profile.",
        ),
        ConfigError::InvalidCredentials(_) => diags.add_error(
            "Invalid AWS credentials",
            format!(
                "{error}.\n\nSources tried, in order: the provider's access_key/secret_key/token, \
                 the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_PROFILE), \
                 the shared config and credentials files (profile, SSO, credential_process), web identity \
                 (AWS_WEB_IDENTITY_TOKEN_FILE), and container and instance metadata. Configure one of them, \
                 or set skip_credentials_validation = true to skip this check."
            ),
        ),
        ConfigError::AssumeRole { .. } => diags.add_error_at(AttributePath::root("assume_role").attribute("role_arn"), "Cannot assume role", error.to_string()),
        ConfigError::CaBundle { .. } => diags.add_error_at(AttributePath::root("custom_ca_bundle"), "Invalid CA bundle", error.to_string()),
        ConfigError::Proxy(_) => diags.add_error_at(AttributePath::root("http_proxy"), "Invalid proxy", error.to_string()),
        ConfigError::File(file) => diags.add_error_at(AttributePath::root(file.argument), "Unusable file", error.to_string()),
    }
    diags
}

#[async_trait]
impl Provider for IamKeyProvider {
    fn name(&self) -> &'static str {
        "iamkey"
    }

    fn schema(&self) -> &Schema {
        &self.schema
    }

    fn resources(&self) -> &[Arc<dyn Resource>] {
        &self.resources
    }

    fn data_sources(&self) -> &[Arc<dyn DataSource>] {
        &self.data_sources
    }

    fn list_resources(&self) -> &[Arc<dyn ListResource>] {
        &self.list_resources
    }

    fn functions(&self) -> &[Arc<dyn Function>] {
        &self.functions
    }

    fn ephemeral_resources(&self) -> &[Arc<dyn EphemeralResource>] {
        &self.ephemeral_resources
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        let has_key = !config.get("access_key").is_null();
        let has_secret = !config.get("secret_key").is_null();
        if has_key != has_secret {
            let missing = if has_key { "secret_key" } else { "access_key" };
            diags.add_error_at(AttributePath::root(missing), "Incomplete static credentials", "access_key and secret_key go together: set both, or neither.");
        }
    }

    /// The system clock; test builds move it ahead by `IAMKEY_TEST_DAYS_AHEAD` days.
    fn clock(&self) -> SharedClock {
        SharedClock(Arc::new(SystemClock { ahead_secs: crate::testhooks::days_ahead() * 86_400 }))
    }

    async fn configure(&self, _ctx: &OpContext, config: &Value, _terraform_version: &str) -> Diagnostics {
        // An unknown configuration (from resources not yet created) is fine at plan
        // time: the clients are built in the run where it is known.
        if !config.is_wholly_known() {
            return Diagnostics::new();
        }
        match settings_from(config).connect().await {
            Ok(clients) => {
                tracing::debug!(region = %clients.region, account = ?clients.account_id, "AWS clients ready");
                self.clients.set(clients);
                Diagnostics::new()
            }
            Err(e) => config_diagnostic(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_read_every_argument() {
        let mut config = Value::Null;
        config.set("region", Value::string("eu-west-1"));
        config.set("max_retries", Value::Number(crate::value::Number::Int(7)));
        config.set("retry_mode", Value::string("adaptive"));
        config.set("secret_key", Value::string("sk"));
        let mut endpoints = Value::Null;
        endpoints.set("iam", Value::string("http://127.0.0.1:1"));
        config.set("endpoints", endpoints);
        let s = settings_from(&config);
        assert_eq!(s.region.as_deref(), Some("eu-west-1"));
        assert_eq!(s.max_retries, Some(7));
        assert!(s.adaptive_retries);
        assert_eq!(s.iam_endpoint.as_deref(), Some("http://127.0.0.1:1"));
        assert_eq!(s.secret_key.map(|k| k.expose().to_string()).as_deref(), Some("sk"));
        assert_eq!(s.operation_timeout, DEFAULT_OPERATION_TIMEOUT);
    }

    #[test]
    fn settings_debug_output_redacts_credentials() {
        let mut config = Value::Null;
        config.set("secret_key", Value::string("wJalrXUtnFEMI-canary"));
        config.set("token", Value::string("token-canary"));
        let shown = format!("{:?}", settings_from(&config));
        assert!(!shown.contains("canary"), "{shown}");
    }

    #[test]
    fn half_static_credentials_are_rejected_on_the_missing_argument() {
        let mut config = Value::Null;
        config.set("access_key", Value::string("AKIAEXAMPLE"));
        let mut diags = Diagnostics::new();
        IamKeyProvider::new().validate(&config, &mut diags);
        assert_eq!(diags.first().unwrap().path, Some(AttributePath::root("secret_key")));
    }
}
