//! The `iamkey` provider: its configuration schema, and the AWS clients it builds
//! once in ConfigureProvider and shares with every resource.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use crate::aws::credentials::{self, SessionStep};
use crate::aws::{AccountGuard, AssumeRole, ClientSettings, ConfigError, WebIdentity, WebIdentityToken};
use crate::framework::clock::SystemClock;
use crate::framework::schema::{Attribute, Block, Nesting, Schema};
use crate::framework::{Action, DataSource, EphemeralResource, Function, ListResource, OpContext, Provider, Resource, SharedClock};
use crate::resources::access_key::AccessKeyResource;
use crate::resources::Clients;
use crate::secret::Secret;
use crate::value::summary;
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
    actions: Vec<Arc<dyn Action>>,
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
            actions: vec![
                Arc::new(crate::resources::deactivate_keys::DeactivateKeys::new(clients.clone())),
                Arc::new(crate::resources::quarantine_key::QuarantineKey::new(clients.clone())),
            ],
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

/// A set of 12-digit AWS account IDs.
fn account_ids(v: &Value) -> Result<(), String> {
    let is_account = |a: &Value| a.as_str().is_some_and(|a| a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit()));
    match v.as_list().unwrap_or_default().iter().find(|a| !is_account(a)) {
        Some(_) => Err("each account ID must be 12 digits".into()),
        None => Ok(()),
    }
}

/// STS takes sessions of 15 minutes to 12 hours (the role's maximum may be lower).
const SESSION_RANGE: std::ops::RangeInclusive<Duration> = Duration::from_secs(900)..=Duration::from_secs(43_200);

/// A role session's duration: a duration string (`"1h"`), or, deprecated, a
/// whole number of seconds (`validate` warns about those).
fn session_duration(text: &str) -> Result<Duration, String> {
    let duration = match text.parse::<u64>() {
        Ok(seconds) => Duration::from_secs(seconds),
        Err(_) => credentials::parse_duration(text)?,
    };
    match SESSION_RANGE.contains(&duration) {
        true => Ok(duration),
        false => Err(format!("{text:?} is outside what STS accepts: 15m to 12h")),
    }
}

fn session_duration_value(v: &Value) -> Result<(), String> {
    session_duration(v.as_str().unwrap_or_default()).map(|_| ())
}

const DURATION_DESCRIPTION: &str = "Session duration, as a duration string (`\"15m\"`, `\"1h\"`, `\"1h30m\"`), from 15 minutes to 12 hours (and at most the role's maximum session duration). A whole number of seconds is still accepted, with a deprecation warning.";

fn provider_schema() -> Schema {
    let assume_role = Block::new("Assume an IAM role (sts:AssumeRole) and manage keys with the role's credentials. Give the block more than once to chain roles: each is assumed with the credentials of the one before, in order. The session is renewed before it expires.")
        .attribute(Attribute::required("role_arn", Type::String).describe("ARN of the role to assume."))
        .attribute(Attribute::optional("session_name", Type::String).describe("Session name. Default `terraform-provider-iamkey`."))
        .attribute(Attribute::optional("external_id", Type::String).describe("External ID the role's trust policy requires."))
        .attribute(Attribute::optional("duration", Type::String).validate(session_duration_value).describe(DURATION_DESCRIPTION))
        .attribute(Attribute::optional("policy", Type::String).describe("Session policy (JSON) that further limits the role's permissions."))
        .attribute(Attribute::optional("source_identity", Type::String).describe("Source identity recorded in CloudTrail for the role session (needs `sts:SetSourceIdentity`)."))
        .attribute(Attribute::optional("tags", Type::Map(Box::new(Type::String))).describe("Session tags passed to sts:AssumeRole (needs `sts:TagSession`)."))
        .attribute(Attribute::optional("transitive_tag_keys", Type::Set(Box::new(Type::String))).describe("Keys of `tags` that pass on to the sessions of later `assume_role` blocks (needs `sts:TagSession`)."));
    let web_identity = Block::new("Assume an IAM role with an OpenID Connect token (sts:AssumeRoleWithWebIdentity), as CI systems with OIDC federation do (GitHub Actions, GitLab). Taken before any `assume_role` block, which then chains from it. The session is renewed before it expires, reading the token file again.")
        .attribute(Attribute::required("role_arn", Type::String).describe("ARN of the role to assume."))
        .attribute(Attribute::optional("web_identity_token", Type::String).sensitive().describe("The OIDC token. Exactly one of `web_identity_token` and `web_identity_token_file`."))
        .attribute(Attribute::optional("web_identity_token_file", Type::String).describe("Path of a file holding the OIDC token, read again at every renewal."))
        .attribute(Attribute::optional("session_name", Type::String).describe("Session name. Default `terraform-provider-iamkey`."))
        .attribute(Attribute::optional("duration", Type::String).validate(session_duration_value).describe(DURATION_DESCRIPTION))
        .attribute(Attribute::optional("policy", Type::String).describe("Session policy (JSON) that further limits the role's permissions."));
    let endpoints = Block::new("Custom service endpoints, for emulators (moto, LocalStack) and private endpoints. `AWS_ENDPOINT_URL_<SERVICE>` and `AWS_ENDPOINT_URL` are honoured too.")
        .attribute(Attribute::optional("iam", Type::String).validate(endpoint_url).describe("IAM endpoint URL."))
        .attribute(Attribute::optional("sts", Type::String).validate(endpoint_url).describe("STS endpoint URL."))
        .attribute(Attribute::optional("secretsmanager", Type::String).validate(endpoint_url).describe("Secrets Manager endpoint URL (for `secret_destination`)."))
        .attribute(Attribute::optional("ssm", Type::String).validate(endpoint_url).describe("SSM endpoint URL (for `secret_destination`)."))
        .attribute(Attribute::optional("organizations", Type::String).validate(endpoint_url).describe("AWS Organizations endpoint URL (for an `organization` audit)."));
    let account_set = || Type::Set(Box::new(Type::String));
    Schema::new(
        0,
        Block::new("The iamkey provider manages AWS IAM access keys. Every argument is optional. Credentials named in the provider block (`access_key` and `secret_key`, else `profile`) come first; otherwise the AWS SDK's default chain decides: environment variables, shared config and credentials files, SSO, web identity, container and instance metadata.")
            .attribute(Attribute::optional("region", Type::String).describe("AWS region, used to sign requests and to derive SES SMTP passwords. Falls back to `AWS_REGION`, `AWS_DEFAULT_REGION` and the profile."))
            .attribute(Attribute::optional("profile", Type::String).describe("Named profile of the shared config and credentials files. Its credentials win over the environment's (`AWS_ACCESS_KEY_ID`); only `access_key` and `secret_key` come before it. Falls back to `AWS_PROFILE`, which comes after the environment's credentials."))
            .attribute(Attribute::optional("shared_config_files", string_list()).describe("Paths of shared config files. Default `~/.aws/config`."))
            .attribute(Attribute::optional("shared_credentials_files", string_list()).describe("Paths of shared credentials files. Default `~/.aws/credentials`."))
            .attribute(Attribute::optional("access_key", Type::String).describe("Access key ID. Needs `secret_key`. Falls back to `AWS_ACCESS_KEY_ID`."))
            .attribute(Attribute::optional("secret_key", Type::String).sensitive().describe("Secret access key. Falls back to `AWS_SECRET_ACCESS_KEY`."))
            .attribute(Attribute::optional("token", Type::String).sensitive().describe("Session token for temporary credentials. Falls back to `AWS_SESSION_TOKEN`."))
            .attribute(Attribute::optional("allowed_account_ids", account_set()).validate(account_ids).describe("The only AWS accounts the provider may act in. The caller's account (sts:GetCallerIdentity, after any role is assumed) is checked when the provider is configured, before any IAM call; another account stops the plan. Conflicts with `forbidden_account_ids` and `skip_credentials_validation`."))
            .attribute(Attribute::optional("forbidden_account_ids", account_set()).validate(account_ids).describe("AWS accounts the provider must never act in, checked as `allowed_account_ids` is. Conflicts with `allowed_account_ids` and `skip_credentials_validation`."))
            .attribute(Attribute::optional("max_retries", Type::Number).validate(positive_number).describe("How many times a throttled or transiently failed call is retried, with exponential backoff (pauses of at most 2 s) and jitter, within `operation_timeout`. Default 25, as hashicorp/aws."))
            .attribute(Attribute::optional("retry_mode", Type::String).validate(retry_mode).describe("`standard` or `adaptive` (client-side rate limiting). Default `standard`."))
            .attribute(Attribute::optional("skip_credentials_validation", Type::Bool).describe("Skip the sts:GetCallerIdentity check of the credentials at configure time. Default false. Cannot be combined with `allowed_account_ids` or `forbidden_account_ids`, which need the caller's account."))
            .attribute(Attribute::optional("custom_ca_bundle", Type::String).describe("Path of a PEM bundle of the CA certificates to trust instead of the system's, for private endpoints and TLS-intercepting proxies (as in hashicorp/aws and the AWS CLI: include the public roots when the bundle must also reach public AWS endpoints). Falls back to `AWS_CA_BUNDLE`."))
            .attribute(Attribute::optional("http_proxy", Type::String).describe("URL of a proxy for every AWS call. Falls back to `HTTPS_PROXY`, `HTTP_PROXY` and `NO_PROXY`."))
            .attribute(Attribute::optional("connect_timeout", Type::Number).validate(positive_number).describe("Seconds to wait for a connection to an AWS endpoint. Default 10."))
            .attribute(Attribute::optional("operation_timeout", Type::Number).validate(positive_number).describe("Seconds one AWS call may take, retries included. Default 60."))
            .block("assume_role", Nesting::List, assume_role)
            .block("assume_role_with_web_identity", Nesting::Single, web_identity)
            .block("endpoints", Nesting::Single, endpoints),
    )
}

/// Reads the configuration into client settings. Only called with a wholly known
/// configuration that passed validation.
fn settings_from(config: &Value) -> ClientSettings {
    let string = |v: &Value| v.as_str().map(str::to_string);
    let strings = |v: &Value| v.as_list().unwrap_or_default().iter().filter_map(|p| p.as_str()).map(str::to_string).collect::<Vec<_>>();
    let paths = |v: &Value| strings(v).into_iter().map(PathBuf::from).collect();
    let seconds = |v: &Value, default| v.as_i64().map_or(default, |s| Duration::from_secs(s.max(0) as u64));
    let duration = |v: &Value| v.as_str().and_then(|d| session_duration(d).ok());
    let operation_timeout = seconds(config.get("operation_timeout"), DEFAULT_OPERATION_TIMEOUT);
    let assume_role = |hop: &Value| AssumeRole {
        role_arn: string(hop.get("role_arn")).unwrap_or_default(),
        session_name: string(hop.get("session_name")),
        external_id: string(hop.get("external_id")),
        duration: duration(hop.get("duration")),
        policy: string(hop.get("policy")),
        source_identity: string(hop.get("source_identity")),
        tags: hop.get("tags").as_map().map(|m| m.iter().filter_map(|(k, v)| Some((k.to_string(), v.as_str()?.to_string()))).collect()).unwrap_or_default(),
        transitive_tag_keys: strings(hop.get("transitive_tag_keys")),
    };
    let web = config.get("assume_role_with_web_identity");
    let web_identity = string(web.get("role_arn")).map(|role_arn| WebIdentity {
        role_arn,
        session_name: string(web.get("session_name")),
        duration: duration(web.get("duration")),
        policy: string(web.get("policy")),
        token: match web.get("web_identity_token").as_str() {
            Some(token) => WebIdentityToken::Value(Secret::new(token)),
            None => {
                WebIdentityToken::File { path: PathBuf::from(web.get("web_identity_token_file").as_str().unwrap_or_default()), read_timeout: operation_timeout }
            }
        },
    });
    // An empty list restricts nothing, as in hashicorp/aws.
    let account_guard = match (strings(config.get("allowed_account_ids")), strings(config.get("forbidden_account_ids"))) {
        (allowed, _) if !allowed.is_empty() => AccountGuard::Allowed(allowed),
        (_, forbidden) if !forbidden.is_empty() => AccountGuard::Forbidden(forbidden),
        _ => AccountGuard::AnyAccount,
    };
    let endpoints = config.get("endpoints");
    ClientSettings {
        region: string(config.get("region")),
        profile: string(config.get("profile")),
        shared_config_files: paths(config.get("shared_config_files")),
        shared_credentials_files: paths(config.get("shared_credentials_files")),
        access_key: string(config.get("access_key")),
        secret_key: config.get("secret_key").as_str().map(Secret::new),
        token: config.get("token").as_str().map(Secret::new),
        assume_role: config.get("assume_role").as_list().unwrap_or_default().iter().map(assume_role).collect(),
        web_identity,
        account_guard,
        iam_endpoint: string(endpoints.get("iam")),
        sts_endpoint: string(endpoints.get("sts")),
        secretsmanager_endpoint: string(endpoints.get("secretsmanager")),
        ssm_endpoint: string(endpoints.get("ssm")),
        organizations_endpoint: string(endpoints.get("organizations")),
        custom_ca_bundle: string(config.get("custom_ca_bundle")).map(PathBuf::from),
        http_proxy: string(config.get("http_proxy")),
        max_retries: config.get("max_retries").as_i64().map(|n| n.clamp(0, 100) as u32),
        adaptive_retries: config.get("retry_mode").as_str() == Some("adaptive"),
        connect_timeout: seconds(config.get("connect_timeout"), DEFAULT_CONNECT_TIMEOUT),
        operation_timeout,
        skip_credentials_validation: config.get("skip_credentials_validation").as_bool().unwrap_or(false),
    }
}

/// The one place configuration errors become diagnostics.
fn config_diagnostic(error: ConfigError) -> Diagnostics {
    let mut diags = Diagnostics::new();
    match &error {
        ConfigError::MissingRegion => diags.add_error_at(
            AttributePath::root("region"),
            summary::NO_AWS_REGION,
            "Set `region` in the provider block, or AWS_REGION, or a region in the selected profile.",
        ),
        ConfigError::InvalidCredentials(_) => diags.add_error(
            summary::INVALID_AWS_CREDENTIALS,
            format!(
                "{error}.\n\nSources tried, in order: the provider's access_key/secret_key/token, \
                 the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_PROFILE), \
                 the shared config and credentials files (profile, SSO, credential_process), web identity \
                 (AWS_WEB_IDENTITY_TOKEN_FILE), and container and instance metadata. Configure one of them, \
                 or set skip_credentials_validation = true to skip this check."
            ),
        ),
        ConfigError::Session(failure) => {
            let detail = format!("{error}.");
            match failure.step {
                SessionStep::AssumeRole(n) => diags.add_error_at(AttributePath::root("assume_role").index(n as i64).attribute("role_arn"), summary::CANNOT_ASSUME_ROLE, detail),
                SessionStep::WebIdentity => {
                    diags.add_error_at(AttributePath::root("assume_role_with_web_identity").attribute("role_arn"), summary::CANNOT_ASSUME_ROLE_WITH_WEB_IDENTITY, detail)
                }
                SessionStep::WebIdentityToken => {
                    diags.add_error_at(AttributePath::root("assume_role_with_web_identity").attribute("web_identity_token_file"), summary::UNREADABLE_WEB_IDENTITY_TOKEN, detail)
                }
            }
        }
        ConfigError::Account(_) => diags.add_error(
            summary::WRONG_AWS_ACCOUNT,
            format!("{error}. Nothing was done in it. Check the credentials (the provider block's, then the environment's, see the configuration guide) or the account list."),
        ),
        ConfigError::GuardWithoutIdentity => diags.add_error_at(AttributePath::root("skip_credentials_validation"), summary::ACCOUNT_GUARD_NEEDS_THE_CALLER_S_IDENTITY, format!("{error}: remove skip_credentials_validation, or the account list.")),
        ConfigError::CaBundle { .. } => diags.add_error_at(AttributePath::root("custom_ca_bundle"), summary::INVALID_CA_BUNDLE, error.to_string()),
        ConfigError::Proxy(_) => diags.add_error_at(AttributePath::root("http_proxy"), summary::INVALID_PROXY, error.to_string()),
        ConfigError::File(file) => diags.add_error_at(AttributePath::root(file.argument), summary::UNUSABLE_FILE, error.to_string()),
    }
    diags
}

/// Exactly one of the token and the token file.
fn validate_web_identity(web: &Value, diags: &mut Diagnostics) {
    if web.is_null() {
        return;
    }
    let (token, file) = (web.get("web_identity_token"), web.get("web_identity_token_file"));
    if token.is_unknown() || file.is_unknown() || token.is_null() != file.is_null() {
        return;
    }
    diags.add_error_at(
        AttributePath::root("assume_role_with_web_identity").attribute("web_identity_token_file"),
        summary::WEB_IDENTITY_TOKEN_ONE_SOURCE,
        "Set exactly one of web_identity_token and web_identity_token_file.",
    );
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

    fn actions(&self) -> &[Arc<dyn Action>] {
        &self.actions
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        let has_key = !config.get("access_key").is_null();
        let has_secret = !config.get("secret_key").is_null();
        if has_key != has_secret {
            let missing = if has_key { "secret_key" } else { "access_key" };
            diags.add_error_at(
                AttributePath::root(missing),
                summary::INCOMPLETE_STATIC_CREDENTIALS,
                "access_key and secret_key go together: set both, or neither.",
            );
        }
        let (allowed, forbidden) = (config.get("allowed_account_ids"), config.get("forbidden_account_ids"));
        if !allowed.is_null() && !forbidden.is_null() {
            diags.add_error_at(
                AttributePath::root("forbidden_account_ids"),
                summary::CONFLICTING_ACCOUNT_LISTS,
                "Set allowed_account_ids or forbidden_account_ids, not both.",
            );
        }
        if config.get("skip_credentials_validation").as_bool() == Some(true) && !(allowed.is_null() && forbidden.is_null()) {
            diags.add_error_at(
                AttributePath::root("skip_credentials_validation"),
                summary::ACCOUNT_GUARD_NEEDS_THE_CALLER_S_IDENTITY,
                "allowed_account_ids and forbidden_account_ids are checked against the caller's account, which skip_credentials_validation = true leaves unknown: remove one or the other.",
            );
        }
        validate_web_identity(config.get("assume_role_with_web_identity"), diags);
        let hops = config.get("assume_role").as_list().unwrap_or_default().iter().enumerate();
        let durations = hops.map(|(n, hop)| (AttributePath::root("assume_role").index(n as i64), hop));
        let web = std::iter::once((AttributePath::root("assume_role_with_web_identity"), config.get("assume_role_with_web_identity")));
        for (at, block) in durations.chain(web) {
            if block.get("duration").as_str().is_some_and(|d| d.parse::<u64>().is_ok()) {
                diags.add_warning_at(
                    at.attribute("duration"),
                    summary::DURATION_IN_SECONDS_IS_DEPRECATED,
                    "Give the session duration as a duration string, as hashicorp/aws takes it: \"15m\", \"1h\", \"1h30m\". A whole number of seconds still works for now.",
                );
            }
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

    /// Values of `ty` one of which differs from an unset argument, whatever it means.
    fn samples(ty: &crate::value::Type) -> Vec<Value> {
        use crate::value::{Number, Type};
        match ty {
            Type::String => ["http://127.0.0.1:9", "1h", "adaptive"].map(Value::string).to_vec(),
            Type::Bool => vec![Value::Bool(true), Value::Bool(false)],
            Type::Number => vec![Value::Number(Number::Int(7)), Value::Number(Number::Int(900))],
            Type::List(_) | Type::Set(_) => vec![Value::List(vec![Value::string("111111111111")])],
            Type::Map(_) => vec![Value::Map([("k".into(), Value::string("v"))].into())],
            _ => vec![],
        }
    }

    /// Whether some sample of `ty`, set by `set` on top of `base`, changes the settings.
    fn is_read(base: &Value, ty: &crate::value::Type, set: impl Fn(&mut Value, Value)) -> bool {
        let unset = format!("{:?}", settings_from(base));
        samples(ty).into_iter().any(|sample| {
            let mut config = base.clone();
            set(&mut config, sample);
            format!("{:?}", settings_from(&config)) != unset
        })
    }

    /// Generated from the schema: every argument, and every argument of each nested
    /// block (set beside the block's required ones), reaches the client settings.
    #[test]
    fn settings_read_every_argument_of_the_schema() {
        use crate::framework::schema::{Mode, Nesting};
        let schema = provider_schema();
        let mut unread = Vec::new();
        let mut tried = 0;
        for attr in &schema.block.attributes {
            tried += 1;
            if !is_read(&Value::Null, &attr.ty, |config, v| config.set(attr.name, v)) {
                unread.push(attr.name.to_string());
            }
        }
        for nested in &schema.block.blocks {
            let in_block = |object: Value| match nested.nesting {
                Nesting::Single => object,
                Nesting::List => Value::List(vec![object]),
            };
            let mut required = Value::Null;
            for attr in nested.block.attributes.iter().filter(|a| a.mode == Mode::Required) {
                required.set(attr.name, samples(&attr.ty).remove(0));
            }
            for attr in &nested.block.attributes {
                tried += 1;
                let (base, object) = match attr.mode {
                    Mode::Required => (Value::Null, Value::Null),
                    _ => (Value::object([(nested.name, in_block(required.clone()))]), required.clone()),
                };
                let set = |config: &mut Value, v: Value| {
                    let mut object = object.clone();
                    object.set(attr.name, v);
                    config.set(nested.name, in_block(object));
                };
                if !is_read(&base, &attr.ty, set) {
                    unread.push(format!("{}.{}", nested.name, attr.name));
                }
            }
        }
        assert!(tried > 30, "every argument is tried: {tried}");
        assert!(unread.is_empty(), "arguments that do not reach the client settings: {unread:?}");
    }

    #[test]
    fn settings_debug_output_redacts_credentials() {
        let mut config = Value::Null;
        config.set("secret_key", Value::string("wJalrXUtnFEMI-canary"));
        config.set("token", Value::string("token-canary"));
        let shown = format!("{:?}", settings_from(&config));
        assert!(!shown.contains("canary"), "{shown}");
    }

    fn summaries_of(config: &Value) -> Vec<(String, Option<AttributePath>)> {
        let diags = crate::framework::server::validate::provider_value(&IamKeyProvider::new(), config);
        diags.iter().map(|d| (d.summary.clone(), d.path.clone())).collect()
    }

    fn strings(items: &[&str]) -> Value {
        Value::List(items.iter().map(|s| Value::string(*s)).collect())
    }

    #[test]
    fn account_lists_conflict_with_each_other_and_with_a_skipped_identity_check() {
        let mut config = Value::Null;
        config.set("allowed_account_ids", strings(&["111111111111"]));
        assert!(summaries_of(&config).is_empty());
        config.set("forbidden_account_ids", strings(&["222222222222"]));
        assert_eq!(summaries_of(&config), [("Conflicting account lists".to_string(), Some(AttributePath::root("forbidden_account_ids")))]);
        let mut blind = Value::Null;
        blind.set("forbidden_account_ids", strings(&["222222222222"]));
        blind.set("skip_credentials_validation", Value::Bool(true));
        assert_eq!(summaries_of(&blind), [("Account guard needs the caller's identity".to_string(), Some(AttributePath::root("skip_credentials_validation")))]);
        let mut malformed = Value::Null;
        malformed.set("allowed_account_ids", strings(&["12345"]));
        assert_eq!(summaries_of(&malformed)[0].0, "Invalid value for \"allowed_account_ids\"");
    }

    #[test]
    fn role_durations_take_duration_strings_and_warn_on_seconds() {
        let with_duration = |duration: &str| {
            let mut hop = Value::Null;
            hop.set("role_arn", Value::string("arn:aws:iam::111111111111:role/r"));
            hop.set("duration", Value::string(duration));
            let mut config = Value::Null;
            config.set("assume_role", Value::List(vec![hop]));
            config
        };
        assert!(summaries_of(&with_duration("1h")).is_empty());
        let at = Some(AttributePath::root("assume_role").index(0).attribute("duration"));
        assert_eq!(summaries_of(&with_duration("3600")), [("Duration in seconds is deprecated".to_string(), at.clone())]);
        assert_eq!(summaries_of(&with_duration("5m")), [("Invalid value for \"duration\"".to_string(), at.clone())]);
        assert_eq!(summaries_of(&with_duration("13h")), [("Invalid value for \"duration\"".to_string(), at)]);
        assert_eq!(settings_from(&with_duration("3600")).assume_role[0].duration, Some(Duration::from_secs(3600)));
        assert_eq!(settings_from(&with_duration("1h30m")).assume_role[0].duration, Some(Duration::from_secs(5400)));
    }

    #[test]
    fn web_identity_takes_exactly_one_token_source() {
        let with = |fields: &[(&'static str, &str)]| {
            let mut web = Value::Null;
            web.set("role_arn", Value::string("arn:aws:iam::111111111111:role/ci"));
            for (name, value) in fields {
                web.set(*name, Value::string(*value));
            }
            let mut config = Value::Null;
            config.set("assume_role_with_web_identity", web);
            config
        };
        let at = Some(AttributePath::root("assume_role_with_web_identity").attribute("web_identity_token_file"));
        let one_source = vec![("Web identity token: one source".to_string(), at)];
        assert_eq!(summaries_of(&with(&[])), one_source);
        assert_eq!(summaries_of(&with(&[("web_identity_token", "t"), ("web_identity_token_file", "/f")])), one_source);
        assert!(summaries_of(&with(&[("web_identity_token_file", "/f")])).is_empty());
        let settings = settings_from(&with(&[("web_identity_token", "eyJ-canary")]));
        assert!(matches!(settings.web_identity.as_ref().map(|w| &w.token), Some(WebIdentityToken::Value(_))));
        assert!(!format!("{settings:?}").contains("canary"));
    }

    #[test]
    fn role_hops_are_read_in_order() {
        let hop = |arn: &str| {
            let mut hop = Value::Null;
            hop.set("role_arn", Value::string(arn));
            hop
        };
        let mut config = Value::Null;
        config.set("assume_role", Value::List(vec![hop("arn:aws:iam::1:role/first"), hop("arn:aws:iam::2:role/second")]));
        let hops: Vec<String> = settings_from(&config).assume_role.into_iter().map(|h| h.role_arn).collect();
        assert_eq!(hops, ["arn:aws:iam::1:role/first", "arn:aws:iam::2:role/second"]);
    }

    #[test]
    fn credentials_named_in_the_block_come_before_the_default_chain() {
        let mut config = Value::Null;
        assert_eq!(settings_from(&config).base_source(), crate::aws::credentials::BaseSource::DefaultChain);
        config.set("profile", Value::string("prod"));
        assert_eq!(settings_from(&config).base_source(), crate::aws::credentials::BaseSource::NamedProfile("prod"));
        config.set("access_key", Value::string("AKIAEXAMPLE"));
        config.set("secret_key", Value::string("sk"));
        let settings = settings_from(&config);
        assert!(matches!(settings.base_source(), crate::aws::credentials::BaseSource::StaticKeys { access_key: "AKIAEXAMPLE", .. }));
    }

    #[tokio::test]
    async fn configure_refuses_what_validation_refuses_before_any_aws_call() {
        let mut config = Value::Null;
        config.set("region", Value::string("us-east-1"));
        config.set("allowed_account_ids", strings(&["111111111111"]));
        config.set("skip_credentials_validation", Value::Bool(true));
        let provider = IamKeyProvider::new();
        let ctx = OpContext::default();
        let diags = crate::framework::server::configure::configure_provider(&ctx, &provider, &config, "1.15.5").await;
        let summaries: Vec<&str> = diags.iter().map(|d| d.summary.as_str()).collect();
        assert_eq!(summaries, ["Account guard needs the caller's identity"]);
        assert!(provider.clients.get().is_err(), "no clients were built");
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
