use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use aws_credential_types::provider::SharedCredentialsProvider;
use aws_smithy_async::time::{SharedTimeSource, TimeSource};
use aws_smithy_types::date_time::Format;

use super::*;
use crate::aws::fake::{self, FakeIam, SIGNED_BY};
use crate::aws::{ClientSettings, ConfigError};

/// A clock the test moves: the SDK's identity cache and the fake STS both read it.
#[derive(Clone, Debug)]
struct TestClock(Arc<Mutex<SystemTime>>);

impl TestClock {
    fn new() -> Self {
        TestClock(Arc::new(Mutex::new(SystemTime::now())))
    }
    fn advance(&self, by: Duration) {
        *self.0.lock().unwrap() += by;
    }
}

impl TimeSource for TestClock {
    fn now(&self) -> SystemTime {
        *self.0.lock().unwrap()
    }
}

/// Shorter than the 15 minutes the identity cache keeps credentials that carry no
/// expiry: a renewal at the session's end is then the session's expiry at work.
const SESSION: Duration = Duration::from_secs(600);
const ROLE_B: &str = "arn:aws:iam::111111111111:role/hop-b";
const ROLE_C: &str = "arn:aws:iam::222222222222:role/hop-c";
const BASE_KEY: &str = "AKIDBASE";

/// A session STS handed out: its key, its role, when it expires.
type Session = (String, String, SystemTime);

/// STS and IAM on one fake, both reading `clock`. AssumeRole hands out a new
/// session valid for SESSION, only to the signer the chain allows (ROLE_B: the
/// base key; ROLE_C: a live ROLE_B session). IAM answers only a live session of
/// `iam_role` and refuses anything else as ExpiredToken; the signers it saw
/// are recorded.
async fn sts_and_iam(clock: TestClock, iam_role: &'static str) -> (FakeIam, Arc<Mutex<Vec<String>>>) {
    let sessions: Arc<Mutex<Vec<Session>>> = Arc::default();
    let iam_signers: Arc<Mutex<Vec<String>>> = Arc::default();
    let seen = iam_signers.clone();
    let fake = FakeIam::start(move |action, form, before| {
        let signer = form.get(SIGNED_BY).cloned().unwrap_or_default();
        let mut sessions = sessions.lock().unwrap();
        let live = |role: &str| sessions.iter().any(|(key, r, expiry)| *key == signer && r == role && *expiry > clock.now());
        match action {
            "AssumeRole" => {
                let role = form.get("RoleArn").cloned().unwrap_or_default();
                let allowed = match role.as_str() {
                    ROLE_B => signer == BASE_KEY,
                    ROLE_C => live(ROLE_B),
                    _ => false,
                };
                if !allowed {
                    return fake::error(403, "AccessDenied");
                }
                let key = format!("ASIA{}{before}", if role == ROLE_B { "B" } else { "C" });
                let expiry = clock.now() + SESSION;
                sessions.push((key.clone(), role.clone(), expiry));
                fake::assumed("AssumeRole", &role, &key, &aws_smithy_types::DateTime::from(expiry).fmt(Format::DateTime).unwrap())
            }
            "ListAccessKeys" => {
                seen.lock().unwrap().push(signer.clone());
                match live(iam_role) {
                    true => fake::listed("bob", &[], None),
                    false => fake::error(403, "ExpiredToken"),
                }
            }
            "GetCallerIdentity" => fake::caller("123456789012", "arn:aws:iam::123456789012:user/base"),
            _ => fake::error(400, "InvalidAction"),
        }
    })
    .await;
    (fake, iam_signers)
}

/// The SDK configuration a provider with the base key would have, on `clock`.
fn base_config(endpoint: &str, clock: &TestClock) -> aws_config::SdkConfig {
    aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .time_source(SharedTimeSource::new(clock.clone()))
        .sleep_impl(aws_smithy_async::rt::sleep::default_async_sleep().unwrap())
        .identity_cache(aws_config::identity::IdentityCache::lazy().build())
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new(BASE_KEY, "base-secret", None, None, "test")))
        .build()
}

/// An IAM client signed through the role chain `hops`, as `connect` builds it.
fn iam_through(base: &aws_config::SdkConfig, hops: &[AssumeRole]) -> aws_sdk_iam::Client {
    let sessions = role_sessions(base.credentials_provider(), None, hops, |signer| {
        let mut sts = aws_sdk_sts::config::Builder::from(base);
        sts.set_credentials_provider(signer);
        aws_sdk_sts::Client::from_conf(sts.build())
    });
    let config = base.clone().into_builder().credentials_provider(sessions.unwrap()).build();
    aws_sdk_iam::Client::from_conf(aws_sdk_iam::config::Builder::from(&config).build())
}

fn hop(role_arn: &str) -> AssumeRole {
    AssumeRole { role_arn: role_arn.into(), ..Default::default() }
}

#[tokio::test]
async fn a_role_session_is_renewed_before_it_expires_and_no_call_fails() {
    let clock = TestClock::new();
    let (fake, signers) = sts_and_iam(clock.clone(), ROLE_B).await;
    let iam = iam_through(&base_config(&fake.endpoint, &clock), &[hop(ROLE_B)]);

    iam.list_access_keys().user_name("bob").send().await.expect("first call, first session");
    iam.list_access_keys().user_name("bob").send().await.expect("second call, same session");
    assert_eq!(fake.calls("AssumeRole"), 1, "a live session is reused");
    // Five seconds before the session ends: the next call must not go out with it.
    clock.advance(SESSION - Duration::from_secs(5));
    iam.list_access_keys().user_name("bob").send().await.expect("a call just before expiry gets a new session");
    assert_eq!(fake.calls("AssumeRole"), 2);
    // Long after that session ended too.
    clock.advance(SESSION * 3);
    iam.list_access_keys().user_name("bob").send().await.expect("a call after expiry gets a new session");
    assert_eq!(fake.calls("AssumeRole"), 3);
    assert_eq!(*signers.lock().unwrap(), ["ASIAB0", "ASIAB0", "ASIAB1", "ASIAB2"]);
}

#[tokio::test]
async fn a_role_chain_assumes_each_hop_with_the_one_before_and_renews_both() {
    let clock = TestClock::new();
    let (fake, signers) = sts_and_iam(clock.clone(), ROLE_C).await;
    let iam = iam_through(&base_config(&fake.endpoint, &clock), &[hop(ROLE_B), hop(ROLE_C)]);

    iam.list_access_keys().user_name("bob").send().await.expect("signed by the second hop");
    assert_eq!(fake.calls("AssumeRole"), 2, "one session per hop");
    clock.advance(SESSION * 2);
    // ROLE_C is assumed only with a live ROLE_B session: both are renewed.
    iam.list_access_keys().user_name("bob").send().await.expect("both hops renewed");
    assert_eq!(fake.calls("AssumeRole"), 4);
    assert_eq!(*signers.lock().unwrap(), ["ASIAC1", "ASIAC3"]);
}

/// Settings for a provider with the base key and IAM and STS on `endpoint`.
fn settings(endpoint: &str) -> ClientSettings {
    ClientSettings {
        region: Some("us-east-1".into()),
        access_key: Some(BASE_KEY.into()),
        secret_key: Some(crate::secret::Secret::new("base-secret")),
        iam_endpoint: Some(endpoint.into()),
        sts_endpoint: Some(endpoint.into()),
        max_retries: Some(0),
        connect_timeout: Duration::from_secs(5),
        operation_timeout: Duration::from_secs(5),
        ..Default::default()
    }
}

#[tokio::test]
async fn a_refused_hop_is_reported_as_that_hop_at_configure() {
    let clock = TestClock::new();
    let (fake, _) = sts_and_iam(clock, ROLE_C).await;
    // ROLE_C first: the base key may not assume it.
    let chain = ClientSettings { assume_role: vec![hop(ROLE_B), hop("arn:aws:iam::333333333333:role/nobody")], ..settings(&fake.endpoint) };
    let Err(ConfigError::Session(failure)) = chain.connect().await else { panic!("the second hop was refused") };
    assert_eq!(failure.step, SessionStep::AssumeRole(1));
    assert_eq!(failure.role, "arn:aws:iam::333333333333:role/nobody");
    assert!(failure.reason.contains("AccessDenied"), "{failure}");
    assert_eq!(fake.calls("ListAccessKeys"), 0);
}

#[tokio::test]
async fn the_account_guard_stops_configure_before_any_iam_call() {
    let clock = TestClock::new();
    let (fake, _) = sts_and_iam(clock, ROLE_B).await;
    let allowed = ClientSettings { account_guard: AccountGuard::Allowed(vec!["111111111111".into()]), ..settings(&fake.endpoint) };
    let Err(ConfigError::Account(refused)) = allowed.connect().await else { panic!("another account was allowed") };
    assert_eq!(refused.to_string(), "the credentials belong to AWS account 123456789012, which is not in allowed_account_ids (111111111111)");
    let forbidden = ClientSettings { account_guard: AccountGuard::Forbidden(vec!["123456789012".into()]), ..settings(&fake.endpoint) };
    assert!(matches!(forbidden.connect().await, Err(ConfigError::Account(AccountRefused::Forbidden { .. }))));
    let listed = ClientSettings { account_guard: AccountGuard::Allowed(vec!["999999999999".into(), "123456789012".into()]), ..settings(&fake.endpoint) };
    assert!(listed.connect().await.is_ok(), "an account in the list is fine");
    let blind = ClientSettings { skip_credentials_validation: true, ..forbidden };
    assert!(matches!(blind.connect().await, Err(ConfigError::GuardWithoutIdentity)));
    assert_eq!(fake.calls("GetCallerIdentity"), 3, "the blind guard asked nothing");
    assert_eq!(fake.calls("ListAccessKeys") + fake.calls("CreateAccessKey"), 0);
}

#[tokio::test]
async fn an_unreadable_token_file_is_named_at_configure() {
    let clock = TestClock::new();
    let (fake, _) = sts_and_iam(clock, ROLE_B).await;
    let web = WebIdentity {
        role_arn: ROLE_B.into(),
        session_name: None,
        duration: None,
        policy: None,
        token: WebIdentityToken::File { path: "/nonexistent/token".into(), read_timeout: Duration::from_secs(2) },
    };
    let settings = ClientSettings { web_identity: Some(web), ..settings(&fake.endpoint) };
    let Err(ConfigError::Session(failure)) = settings.connect().await else { panic!("an unreadable token was accepted") };
    assert_eq!(failure.step, SessionStep::WebIdentityToken);
    assert!(failure.to_string().starts_with("reading the web identity token: web_identity_token_file /nonexistent/token:"), "{failure}");
    assert_eq!(fake.calls("AssumeRoleWithWebIdentity"), 0);
}

#[test]
fn durations_read_as_go_writes_them() {
    let cases = [("15m", 900.0), ("1h", 3600.0), ("1h30m", 5400.0), ("90s", 90.0), ("1.5h", 5400.0), ("2h45m10s", 9910.0), ("500ms", 0.5)];
    for (text, seconds) in cases {
        assert_eq!(parse_duration(text), Ok(Duration::from_secs_f64(seconds)), "{text}");
    }
    for bad in ["", "1", "h", "1d", "1h-5m", "one hour", "1..5h"] {
        assert!(parse_duration(bad).is_err(), "{bad:?} was accepted");
    }
}

#[test]
fn a_session_failure_is_found_behind_a_failed_call() {
    let failure = SessionFailure { step: SessionStep::AssumeRole(2), role: "arn:aws:iam::1:role/r".into(), reason: "ExpiredToken".into() };
    let wrapped = CredentialsError::provider_error(failure.clone());
    assert_eq!(SessionFailure::behind(&wrapped), Some(&failure));
    assert_eq!(SessionFailure::behind(&std::io::Error::other("unrelated")), None);
}

#[test]
fn web_identity_settings_show_no_token_in_debug() {
    let web = WebIdentity {
        role_arn: ROLE_B.into(),
        session_name: None,
        duration: None,
        policy: None,
        token: WebIdentityToken::Value(crate::secret::Secret::new("eyJ-canary-token")),
    };
    let shown = format!("{web:?}");
    assert!(!shown.contains("canary"), "{shown}");
}

#[test]
fn the_configuration_guide_lists_the_sources_in_the_order_the_code_tries_them() {
    let guide = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/guides/configuration.md")).unwrap();
    let rows: Vec<(usize, &str, &str)> = guide
        .lines()
        .filter_map(|line| match line.split('|').map(str::trim).collect::<Vec<_>>()[..] {
            ["", order, source, gives, ""] => Some((order.parse().ok()?, source, gives)),
            _ => None,
        })
        .collect();
    let expected: Vec<(usize, &str, &str)> = PRECEDENCE.iter().enumerate().map(|(n, (source, gives))| (n + 1, *source, *gives)).collect();
    assert_eq!(rows, expected);
}
