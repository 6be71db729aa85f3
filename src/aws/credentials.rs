//! Whose credentials sign the provider's calls: the source the provider block
//! names, else aws-config's default chain; then the role sessions
//! (`assume_role_with_web_identity`, each `assume_role` hop in order) taken with
//! them; then the account guard on the identity that results.
//!
//! Sessions are never turned into static credentials: each is a credentials
//! provider that asks STS for a new session whenever it is called, and the SDK's
//! identity cache (aws-config's lazy cache, shared by every client built from the
//! config) keeps the session and calls the provider again before it expires. That
//! is what aws-config's own `AssumeRoleProvider` does; ours adds what that one
//! cannot send (`source_identity`, `transitive_tag_keys`) and says which hop failed.

use std::fmt;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use aws_credential_types::provider::{self, error::CredentialsError, future, ProvideCredentials, SharedCredentialsProvider};
use aws_credential_types::Credentials;

use super::{clause, describe_failure, files};
use crate::secret::Secret;

/// Where credentials are looked for, first to last (hashicorp/aws's order, the
/// AWS CLI's and botocore's: what the provider block names explicitly wins over
/// the environment). The configuration guide's table is checked against this.
pub const PRECEDENCE: &[(&str, &str)] = &[
    ("provider block: `access_key`, `secret_key`, `token`", "static credentials; nothing else is looked at"),
    (
        "provider block: `profile`",
        "that profile of the shared files (static keys, SSO, `credential_process`, `role_arn`); the environment's credentials are ignored",
    ),
    ("environment: `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`", "static credentials from the environment"),
    ("shared files: the profile in `AWS_PROFILE`, else `default`", "as for `profile` above"),
    ("web identity: `AWS_WEB_IDENTITY_TOKEN_FILE` with `AWS_ROLE_ARN`", "sts:AssumeRoleWithWebIdentity"),
    ("container credentials", "ECS task roles, EKS Pod Identity"),
    ("EC2 instance metadata", "the instance profile's role"),
];

/// The base credentials the provider block chooses (rows 1 and 2 of
/// `PRECEDENCE`), or aws-config's default chain (rows 3 onwards, in that order).
#[derive(Debug, PartialEq)]
pub enum BaseSource<'a> {
    StaticKeys { access_key: &'a str, secret_key: &'a Secret },
    NamedProfile(&'a str),
    DefaultChain,
}

/// One `assume_role` hop.
#[derive(Debug, Default, Clone)]
pub struct AssumeRole {
    pub role_arn: String,
    pub session_name: Option<String>,
    pub external_id: Option<String>,
    pub duration: Option<Duration>,
    pub policy: Option<String>,
    pub source_identity: Option<String>,
    pub tags: Vec<(String, String)>,
    pub transitive_tag_keys: Vec<String>,
}

/// `assume_role_with_web_identity`.
#[derive(Debug, Clone)]
pub struct WebIdentity {
    pub role_arn: String,
    pub session_name: Option<String>,
    pub duration: Option<Duration>,
    pub policy: Option<String>,
    pub token: WebIdentityToken,
}

/// The OIDC token: given, or read from a file at every renewal (CI systems and
/// Kubernetes replace the file as tokens expire).
#[derive(Debug, Clone)]
pub enum WebIdentityToken {
    Value(Secret),
    File { path: PathBuf, read_timeout: Duration },
}

pub const DEFAULT_SESSION_NAME: &str = "terraform-provider-iamkey";

/// Which role session could not be had, and why.
#[derive(Debug, Clone, PartialEq)]
pub enum SessionStep {
    /// `assume_role` block number `n` (0-based).
    AssumeRole(usize),
    WebIdentity,
    /// The token file of `assume_role_with_web_identity` could not be read.
    WebIdentityToken,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}: {}", self.what(), clause(reason))]
pub struct SessionFailure {
    pub step: SessionStep,
    pub role: String,
    pub reason: String,
}

impl SessionFailure {
    fn what(&self) -> String {
        match self.step {
            // The call is named, as IAM failures name theirs: the policy to check.
            SessionStep::AssumeRole(_) => format!("assuming role {} (sts:AssumeRole)", self.role),
            SessionStep::WebIdentity => format!("assuming role {} with web identity (sts:AssumeRoleWithWebIdentity)", self.role),
            SessionStep::WebIdentityToken => "reading the web identity token".to_string(),
        }
    }

    /// The session failure behind a failed SDK call, if that is why it failed (a
    /// credentials provider's error travels as the source of the call's error).
    pub fn behind<'a>(error: &'a (dyn std::error::Error + 'static)) -> Option<&'a SessionFailure> {
        let mut current = Some(error);
        while let Some(e) = current {
            if let Some(found) = e.downcast_ref::<SessionFailure>() {
                return Some(found);
            }
            current = e.source();
        }
        None
    }
}

/// A credentials provider that takes one role session per call.
struct RoleSession {
    step: SessionStep,
    role_arn: String,
    request: Request,
}

enum Request {
    AssumeRole(aws_sdk_sts::operation::assume_role::builders::AssumeRoleFluentBuilder),
    WebIdentity(aws_sdk_sts::operation::assume_role_with_web_identity::builders::AssumeRoleWithWebIdentityFluentBuilder, WebIdentityToken),
}

/// Shows which session, never a credential.
impl fmt::Debug for RoleSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RoleSession").field("step", &self.step).field("role_arn", &self.role_arn).finish()
    }
}

impl RoleSession {
    fn failure(&self, step: SessionStep, reason: String) -> CredentialsError {
        CredentialsError::provider_error(SessionFailure { step, role: self.role_arn.clone(), reason })
    }

    async fn session(&self) -> provider::Result {
        let credentials = match &self.request {
            Request::AssumeRole(request) => request.clone().send().await.map(|out| out.credentials).map_err(|e| describe_failure(&e)),
            Request::WebIdentity(request, token) => {
                let token = read_token(token).await.map_err(|reason| self.failure(SessionStep::WebIdentityToken, reason))?;
                request.clone().web_identity_token(token.expose()).send().await.map(|out| out.credentials).map_err(|e| describe_failure(&e))
            }
        };
        let credentials = credentials.map_err(|reason| self.failure(self.step.clone(), reason))?;
        let credentials = credentials.ok_or_else(|| self.failure(self.step.clone(), "STS returned no credentials".into()))?;
        let expiry = SystemTime::try_from(credentials.expiration).ok();
        Ok(Credentials::new(credentials.access_key_id, credentials.secret_access_key, Some(credentials.session_token), expiry, "iamkey-role-session"))
    }
}

impl ProvideCredentials for RoleSession {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::new(self.session())
    }
}

async fn read_token(token: &WebIdentityToken) -> Result<Secret, String> {
    match token {
        WebIdentityToken::Value(value) => Ok(value.clone()),
        WebIdentityToken::File { path, read_timeout } => {
            let bytes = files::read_bounded("web_identity_token_file", path, files::TOKEN_FILE_CAP, *read_timeout).await.map_err(|e| e.to_string())?;
            let text = String::from_utf8(bytes).map_err(|_| format!("{}: not UTF-8 text", path.display()))?;
            Ok(Secret::new(text.trim()))
        }
    }
}

fn seconds(duration: Option<Duration>) -> Option<i32> {
    duration.map(|d| d.as_secs().min(i32::MAX as u64) as i32)
}

/// The credentials of the role sessions layered on `base`: web identity first
/// (it needs no credentials of its own), then each `assume_role` hop with the
/// credentials of the one before. `sts` builds the STS client a hop calls.
pub fn role_sessions(
    base: Option<SharedCredentialsProvider>,
    web_identity: Option<&WebIdentity>,
    hops: &[AssumeRole],
    sts: impl Fn(Option<SharedCredentialsProvider>) -> aws_sdk_sts::Client,
) -> Option<SharedCredentialsProvider> {
    let mut credentials = base;
    if let Some(web) = web_identity {
        // AssumeRoleWithWebIdentity is unsigned: the token is the proof.
        let request = sts(None)
            .assume_role_with_web_identity()
            .role_arn(&web.role_arn)
            .role_session_name(web.session_name.clone().unwrap_or_else(|| DEFAULT_SESSION_NAME.into()))
            .set_policy(web.policy.clone())
            .set_duration_seconds(seconds(web.duration));
        let session = RoleSession { step: SessionStep::WebIdentity, role_arn: web.role_arn.clone(), request: Request::WebIdentity(request, web.token.clone()) };
        credentials = Some(SharedCredentialsProvider::new(session));
    }
    for (n, hop) in hops.iter().enumerate() {
        let mut request = sts(credentials.clone())
            .assume_role()
            .role_arn(&hop.role_arn)
            .role_session_name(hop.session_name.clone().unwrap_or_else(|| DEFAULT_SESSION_NAME.into()))
            .set_external_id(hop.external_id.clone())
            .set_policy(hop.policy.clone())
            .set_source_identity(hop.source_identity.clone())
            .set_duration_seconds(seconds(hop.duration));
        for (key, value) in &hop.tags {
            // Both fields are set, so building the tag cannot fail.
            if let Ok(tag) = aws_sdk_sts::types::Tag::builder().key(key).value(value).build() {
                request = request.tags(tag);
            }
        }
        for key in &hop.transitive_tag_keys {
            request = request.transitive_tag_keys(key);
        }
        let session = RoleSession { step: SessionStep::AssumeRole(n), role_arn: hop.role_arn.clone(), request: Request::AssumeRole(request) };
        credentials = Some(SharedCredentialsProvider::new(session));
    }
    credentials
}

/// The session of the role `role_arn` (`role_sessions`' one hop), asked for
/// credentials now: a session that cannot be had fails here, with its
/// `SessionFailure`. The credentials it gave are handed out first; later calls
/// (when the SDK's cache finds them expiring) ask the session again.
pub async fn taken_now(role_arn: &str, session: Option<SharedCredentialsProvider>) -> Result<SharedCredentialsProvider, SessionFailure> {
    let failure = |reason: String| SessionFailure { step: SessionStep::AssumeRole(0), role: role_arn.to_string(), reason };
    let session = session.ok_or_else(|| failure("no role session was set up".into()))?;
    let first = session.provide_credentials().await.map_err(|e| match SessionFailure::behind(&e) {
        Some(found) => found.clone(),
        None => failure(e.to_string()),
    })?;
    Ok(SharedCredentialsProvider::new(TakenNow { first: std::sync::Mutex::new(Some(first)), then: session }))
}

/// Credentials already taken, then a session's renewals.
#[derive(Debug)]
struct TakenNow {
    first: std::sync::Mutex<Option<Credentials>>,
    then: SharedCredentialsProvider,
}

impl ProvideCredentials for TakenNow {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        match self.first.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).take() {
            Some(first) => future::ProvideCredentials::ready(Ok(first)),
            None => self.then.provide_credentials(),
        }
    }
}

/// `allowed_account_ids` / `forbidden_account_ids`: which accounts the provider
/// may act in, checked on the identity the credentials resolve to before any
/// IAM call.
#[derive(Debug, Default, Clone, PartialEq)]
pub enum AccountGuard {
    #[default]
    AnyAccount,
    Allowed(Vec<String>),
    Forbidden(Vec<String>),
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AccountRefused {
    #[error("the credentials belong to AWS account {account}, which is not in allowed_account_ids ({})", .allowed.join(", "))]
    NotAllowed { account: String, allowed: Vec<String> },
    #[error("the credentials belong to AWS account {account}, which is in forbidden_account_ids ({})", .forbidden.join(", "))]
    Forbidden { account: String, forbidden: Vec<String> },
}

impl AccountGuard {
    pub fn is_set(&self) -> bool {
        *self != AccountGuard::AnyAccount
    }

    pub fn check(&self, account: &str) -> Result<(), AccountRefused> {
        match self {
            AccountGuard::Allowed(allowed) if !allowed.iter().any(|a| a == account) => {
                Err(AccountRefused::NotAllowed { account: account.to_string(), allowed: allowed.clone() })
            }
            AccountGuard::Forbidden(forbidden) if forbidden.iter().any(|f| f == account) => {
                Err(AccountRefused::Forbidden { account: account.to_string(), forbidden: forbidden.clone() })
            }
            _ => Ok(()),
        }
    }
}

/// Reads a duration as hashicorp/aws takes it, Go's `time.ParseDuration` format
/// (`"1h"`, `"15m"`, `"1h30m"`, `"90s"`, `"1.5h"`); `Err` says why not.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    const UNITS: &[(&str, f64)] = &[("ms", 0.001), ("s", 1.0), ("m", 60.0), ("h", 3600.0)];
    let invalid = || format!("{text:?} is not a duration such as \"15m\", \"1h\" or \"1h30m\"");
    let mut rest = text;
    let mut total = 0.0;
    if rest.is_empty() {
        return Err(invalid());
    }
    while !rest.is_empty() {
        let number_end = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).ok_or_else(invalid)?;
        let number: f64 = rest[..number_end].parse().map_err(|_| invalid())?;
        rest = &rest[number_end..];
        let unit_end = rest.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(rest.len());
        let (_, scale) = UNITS.iter().find(|(unit, _)| *unit == &rest[..unit_end]).ok_or_else(invalid)?;
        total += number * scale;
        rest = &rest[unit_end..];
    }
    Duration::try_from_secs_f64(total).map_err(|_| invalid())
}

#[cfg(test)]
mod tests;
