//! Unit tests of the IAM layer against the scripted endpoint (`aws::fake`).

use std::time::SystemTime;

use super::*;
use crate::aws::fake::{self, FakeIam, Reply};

const USER: &str = "bob";
const NEW_ID: &str = "AKIAFAKE000000000NEW";
const OLD_ID: &str = "AKIAFAKE000000000OLD";
const SECRET: &str = "canarySecretcanarySecretcanarySecret1234";

fn now() -> String {
    aws_smithy_types::DateTime::from(SystemTime::now()).fmt(Format::DateTime).unwrap()
}

async fn iam(fake: &FakeIam) -> Iam {
    Iam::new(fake.client(Duration::from_secs(5)), 3)
}

#[tokio::test]
async fn create_retries_throttling_and_creates_exactly_one_key() {
    let fake = FakeIam::start(|action, _, before| match (action, before) {
        ("CreateAccessKey", 0 | 1) => fake::error(400, "Throttling"),
        ("CreateAccessKey", _) => fake::created(USER, NEW_ID, SECRET, &now()),
        ("ListAccessKeys", _) => fake::listed(USER, &[], None),
        _ => fake::error(400, "Unexpected"),
    })
    .await;
    let created = iam(&fake).await.create_access_key(Some(USER), &CancellationToken::new()).await.unwrap();
    assert_eq!(created.metadata.access_key_id, NEW_ID);
    assert_eq!(created.secret.expose(), SECRET);
    assert_eq!(fake.calls("CreateAccessKey"), 3);
    assert!(!format!("{created:?}").contains(SECRET), "Debug redacts the secret");
}

#[tokio::test]
async fn throttling_past_the_attempt_limit_fails_without_creating() {
    let fake = FakeIam::start(|action, _, _| match action {
        "CreateAccessKey" => fake::error(400, "Throttling"),
        "ListAccessKeys" => fake::listed(USER, &[], None),
        _ => fake::error(400, "Unexpected"),
    })
    .await;
    let err = iam(&fake).await.create_access_key(Some(USER), &CancellationToken::new()).await.unwrap_err();
    assert!(matches!(err, CreateFailure::NotCreated(ref e) if e.code() == Some("Throttling")), "{err:?}");
    assert_eq!(fake.calls("CreateAccessKey"), 3);
    assert_eq!(fake.calls("ListAccessKeys"), 1, "the listing before the call; a throttled call executed nothing: no reconcile");
}

#[tokio::test]
async fn a_lost_create_answer_is_not_retried_and_the_new_key_is_found() {
    let fake = FakeIam::start(|action, _, before| match (action, before) {
        ("CreateAccessKey", _) => Reply::Drop,
        ("ListAccessKeys", 0) => fake::listed(USER, &[(OLD_ID, "Active", "2020-01-01T00:00:00Z")], None),
        ("ListAccessKeys", _) => fake::listed(USER, &[(OLD_ID, "Active", "2020-01-01T00:00:00Z"), (NEW_ID, "Active", &now())], None),
        _ => fake::error(400, "Unexpected"),
    })
    .await;
    let err = iam(&fake).await.create_access_key(Some(USER), &CancellationToken::new()).await.unwrap_err();
    match err {
        CreateFailure::CreatedWithoutSecret { key, .. } => assert_eq!(key.access_key_id, NEW_ID),
        other => panic!("expected the new key to be found, got {other:?}"),
    }
    assert_eq!(fake.calls("CreateAccessKey"), 1, "never retried blindly");
}

#[tokio::test]
async fn a_lost_create_answer_with_no_new_key_reports_nothing_created() {
    let fake = FakeIam::start(|action, _, _| match action {
        "CreateAccessKey" => Reply::Drop,
        "ListAccessKeys" => fake::listed(USER, &[(OLD_ID, "Active", "2020-01-01T00:00:00Z")], None),
        _ => fake::error(400, "Unexpected"),
    })
    .await;
    let err = iam(&fake).await.create_access_key(Some(USER), &CancellationToken::new()).await.unwrap_err();
    assert!(matches!(err, CreateFailure::NotCreated(IamError::Transport { .. })), "{err:?}");
    assert_eq!(fake.calls("CreateAccessKey"), 1);
}

#[tokio::test]
async fn service_failure_on_create_is_reconciled_not_retried() {
    let fake = FakeIam::start(|action, _, before| match (action, before) {
        ("CreateAccessKey", _) => fake::error(500, "ServiceFailure"),
        ("ListAccessKeys", 0) => fake::listed(USER, &[], None),
        ("ListAccessKeys", _) => fake::listed(USER, &[(NEW_ID, "Active", &now())], None),
        _ => fake::error(400, "Unexpected"),
    })
    .await;
    let err = iam(&fake).await.create_access_key(Some(USER), &CancellationToken::new()).await.unwrap_err();
    assert!(matches!(err, CreateFailure::CreatedWithoutSecret { .. }), "{err:?}");
    assert_eq!(fake.calls("CreateAccessKey"), 1);
}

#[tokio::test]
async fn quota_is_not_retried() {
    let fake = FakeIam::start(|action, _, _| match action {
        "ListAccessKeys" => fake::listed(USER, &[], None),
        _ => fake::error(409, "LimitExceeded"),
    })
    .await;
    let err = iam(&fake).await.create_access_key(Some(USER), &CancellationToken::new()).await.unwrap_err();
    assert!(matches!(err, CreateFailure::NotCreated(ref e) if e.is_limit_exceeded()), "{err:?}");
    assert_eq!(fake.calls("CreateAccessKey"), 1);
    assert_eq!(fake.calls("ListAccessKeys"), 1, "only the listing before the call");
}

#[tokio::test]
async fn a_user_not_yet_visible_is_waited_for() {
    let fake = FakeIam::start(|_, _, before| match before {
        0 | 1 => fake::error(404, "NoSuchEntity"),
        _ => fake::created(USER, NEW_ID, SECRET, &now()),
    })
    .await;
    let iam = iam(&fake).await.with_propagation_timeout(Duration::from_secs(30));
    iam.create_access_key(Some(USER), &CancellationToken::new()).await.unwrap();
    assert_eq!(fake.calls("CreateAccessKey"), 3);
}

#[tokio::test]
async fn a_user_that_never_appears_fails_after_the_propagation_timeout() {
    let fake = FakeIam::start(|_, _, _| fake::error(404, "NoSuchEntity")).await;
    let iam = iam(&fake).await.with_propagation_timeout(Duration::from_millis(500));
    let started = std::time::Instant::now();
    let err = iam.create_access_key(Some(USER), &CancellationToken::new()).await.unwrap_err();
    assert!(matches!(err, CreateFailure::NotCreated(ref e) if e.is_no_such_entity()), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(3), "bounded wait");
    assert!(fake.calls("CreateAccessKey") >= 2);
    // The caller's own identity has no propagation to wait for: one call.
    let fake = FakeIam::start(|action, _, _| match action {
        "ListAccessKeys" => fake::listed(USER, &[], None),
        _ => fake::error(404, "NoSuchEntity"),
    })
    .await;
    let _ = self::iam(&fake).await.create_access_key(None, &CancellationToken::new()).await.unwrap_err();
    assert_eq!(fake.calls("CreateAccessKey"), 1);
}

#[tokio::test]
async fn a_cancelled_create_sends_nothing() {
    let fake = FakeIam::start(|_, _, _| fake::created(USER, NEW_ID, SECRET, &now())).await;
    let cancel = CancellationToken::new();
    cancel.cancel();
    let err = iam(&fake).await.create_access_key(Some(USER), &cancel).await.unwrap_err();
    assert!(matches!(err, CreateFailure::NotCreated(IamError::Cancelled { .. })));
    assert_eq!(fake.calls("CreateAccessKey"), 0);
}

type Listed = Vec<(&'static str, &'static str, String)>;

/// A fake whose CreateAccessKey fails with `fault` and whose ListAccessKeys
/// answers `before` first and `after` from then on.
async fn lost_create(fault: fn() -> Reply, before: Listed, after: Listed) -> FakeIam {
    let page = |keys: &Listed| {
        let rows: Vec<(&str, &str, &str)> = keys.iter().map(|(id, status, date)| (*id, *status, date.as_str())).collect();
        fake::listed(USER, &rows, None)
    };
    FakeIam::start(move |action, _, n| match (action, n) {
        ("CreateAccessKey", _) => fault(),
        ("ListAccessKeys", 0) => page(&before),
        ("ListAccessKeys", _) => page(&after),
        _ => fake::error(400, "Unexpected"),
    })
    .await
}

fn service_failure() -> Reply {
    fake::error(500, "ServiceFailure")
}

#[tokio::test]
async fn a_failed_create_never_adopts_a_key_the_user_already_had() {
    // The sibling key is seconds old: only the listing before the call tells it apart.
    for fault in [service_failure as fn() -> Reply, || Reply::Drop] {
        let sibling = vec![(OLD_ID, "Active", now())];
        let fake = lost_create(fault, sibling.clone(), sibling).await;
        let err = iam(&fake).await.create_access_key(Some(USER), &CancellationToken::new()).await.unwrap_err();
        assert!(matches!(err, CreateFailure::NotCreated(_)), "{err:?}");
        assert_eq!(fake.calls("CreateAccessKey"), 1);
    }
}

#[tokio::test]
async fn two_new_keys_after_a_lost_answer_are_left_alone() {
    let fake = lost_create(|| Reply::Drop, vec![], vec![("AKIAFAKE00OUTOFBAND1", "Active", now()), (NEW_ID, "Active", now())]).await;
    let err = iam(&fake).await.create_access_key(Some(USER), &CancellationToken::new()).await.unwrap_err();
    match err {
        CreateFailure::Unattributable { appeared, .. } => {
            let ids: Vec<&str> = appeared.iter().map(|k| k.access_key_id.as_str()).collect();
            assert_eq!(ids, ["AKIAFAKE00OUTOFBAND1", NEW_ID]);
        }
        other => panic!("expected no adoption, got {other:?}"),
    }
}

#[tokio::test]
async fn a_new_key_older_than_the_call_is_not_adopted() {
    let fake = lost_create(service_failure, vec![], vec![(OLD_ID, "Active", "2020-01-01T00:00:00Z".into())]).await;
    let err = iam(&fake).await.create_access_key(Some(USER), &CancellationToken::new()).await.unwrap_err();
    assert!(matches!(err, CreateFailure::Unattributable { ref appeared, .. } if appeared.len() == 1), "{err:?}");
}

#[tokio::test]
async fn a_key_another_create_returned_is_never_adopted() {
    // The caller's listing (user None) cannot show the key just created for the
    // caller by name; the provider remembers it.
    let fake = FakeIam::start(|action, form, n| match (action, n) {
        ("CreateAccessKey", 0) => fake::created(USER, NEW_ID, SECRET, &now()),
        ("CreateAccessKey", _) => service_failure(),
        ("ListAccessKeys", _) if form.contains_key("UserName") || n < 2 => fake::listed(USER, &[], None),
        ("ListAccessKeys", _) => fake::listed(USER, &[(NEW_ID, "Active", &now())], None),
        _ => fake::error(400, "Unexpected"),
    })
    .await;
    let iam = iam(&fake).await;
    iam.create_access_key(Some(USER), &CancellationToken::new()).await.unwrap();
    let err = iam.create_access_key(None, &CancellationToken::new()).await.unwrap_err();
    assert!(matches!(err, CreateFailure::NotCreated(_)), "{err:?}");
}

#[tokio::test]
async fn two_creates_for_one_user_each_get_their_own_key_when_one_answer_is_lost() {
    // IAM as a tiny state machine: what was created is listed.
    let keys: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let held = keys.clone();
    let fake = FakeIam::start(move |action, _, n| match action {
        "CreateAccessKey" => {
            let id = format!("AKIAFAKE0000000NEW{n:02}");
            held.lock().unwrap().push((id.clone(), now()));
            if n == 0 {
                fake::created(USER, &id, SECRET, &now())
            } else {
                Reply::Drop
            }
        }
        "ListAccessKeys" => {
            let listed = held.lock().unwrap().clone();
            let rows: Vec<(&str, &str, &str)> = listed.iter().map(|(id, date)| (id.as_str(), "Active", date.as_str())).collect();
            fake::listed(USER, &rows, None)
        }
        _ => fake::error(400, "Unexpected"),
    })
    .await;
    let iam = iam(&fake).await;
    let cancel = CancellationToken::new();
    let (a, b) = tokio::join!(iam.create_access_key(Some(USER), &cancel), iam.create_access_key(Some(USER), &cancel));
    let mut ids = Vec::new();
    for outcome in [a, b] {
        match outcome {
            Ok(created) => ids.push(created.metadata.access_key_id),
            Err(CreateFailure::CreatedWithoutSecret { key, .. }) => ids.push(key.access_key_id),
            Err(other) => panic!("each create accounts for its own key: {other:?}"),
        }
    }
    ids.sort();
    assert_eq!(ids, ["AKIAFAKE0000000NEW00", "AKIAFAKE0000000NEW01"], "no key adopted twice");
}

#[tokio::test]
async fn a_create_reuses_a_listing_of_the_last_seconds_and_refuses_without_one() {
    let fake = FakeIam::start(|action, _, _| match action {
        "ListAccessKeys" => fake::listed(USER, &[], None),
        "CreateAccessKey" => fake::created(USER, NEW_ID, SECRET, &now()),
        _ => fake::error(400, "Unexpected"),
    })
    .await;
    let iam = iam(&fake).await;
    iam.keys_for_read(Some(USER), &CancellationToken::new()).await.unwrap(); // the plan's quota check
    iam.create_access_key(Some(USER), &CancellationToken::new()).await.unwrap();
    assert_eq!(fake.calls("ListAccessKeys"), 1, "the create reused the plan's listing");

    let fake = FakeIam::start(|action, _, _| match action {
        "ListAccessKeys" => fake::error(403, "AccessDenied"),
        _ => fake::created(USER, NEW_ID, SECRET, &now()),
    })
    .await;
    let err = self::iam(&fake).await.create_access_key(Some(USER), &CancellationToken::new()).await.unwrap_err();
    assert!(matches!(err, CreateFailure::NotCreated(ref e) if e.code() == Some("AccessDenied")), "{err:?}");
    assert_eq!(fake.calls("CreateAccessKey"), 0, "a create whose loss could not be reconciled is not sent");
}

#[tokio::test]
async fn listing_follows_every_page() {
    let fake = FakeIam::start(|action, form, before| match (action, before) {
        ("ListAccessKeys", 0) => fake::listed(USER, &[("AKIAFAKE0000000PAGE1", "Active", "2020-01-01T00:00:00Z")], Some("next")),
        ("ListAccessKeys", _) if form.get("Marker").map(String::as_str) == Some("next") => {
            fake::listed(USER, &[("AKIAFAKE0000000PAGE2", "Expired", "2020-01-02T00:00:00Z")], None)
        }
        _ => fake::error(400, "Unexpected"),
    })
    .await;
    let keys = iam(&fake).await.list_access_keys(Some(USER), &CancellationToken::new()).await.unwrap();
    let ids: Vec<&str> = keys.iter().map(|k| k.access_key_id.as_str()).collect();
    assert_eq!(ids, ["AKIAFAKE0000000PAGE1", "AKIAFAKE0000000PAGE2"]);
    assert_eq!(keys[1].status, "Expired", "a status the provider does not know is kept as it is");
    assert_eq!(keys[0].create_date.as_deref(), Some("2020-01-01T00:00:00Z"));
}

#[tokio::test]
async fn reads_are_retried_on_throttling_and_server_errors() {
    let fake = FakeIam::start(|action, _, before| match (action, before) {
        ("ListAccessKeys", 0) => fake::error(400, "Throttling"),
        ("ListAccessKeys", 1) => fake::error(500, "ServiceFailure"),
        ("ListAccessKeys", _) => fake::listed(USER, &[], None),
        _ => fake::error(400, "Unexpected"),
    })
    .await;
    assert!(iam(&fake).await.list_access_keys(Some(USER), &CancellationToken::new()).await.unwrap().is_empty());
    assert_eq!(fake.calls("ListAccessKeys"), 3);
}

#[tokio::test]
async fn deleting_a_key_that_is_gone_succeeds() {
    let fake = FakeIam::start(|_, _, _| fake::error(404, "NoSuchEntity")).await;
    iam(&fake).await.delete_access_key(USER, NEW_ID, &CancellationToken::new()).await.unwrap();
    let fake = FakeIam::start(|_, _, _| fake::error(409, "DeleteConflict")).await;
    let err = iam(&fake).await.delete_access_key(USER, NEW_ID, &CancellationToken::new()).await.unwrap_err();
    assert_eq!(err.to_string(), "IAM DeleteAccessKey failed: DeleteConflict: DeleteConflict from the fake");
}

#[tokio::test]
async fn a_silent_endpoint_times_out_instead_of_hanging() {
    let fake = FakeIam::start(|_, _, _| Reply::Hang).await;
    let iam = Iam::new(fake.client(Duration::from_millis(300)), 1);
    let started = std::time::Instant::now();
    let err = iam.list_access_keys(Some(USER), &CancellationToken::new()).await.unwrap_err();
    assert!(err.to_string().contains("timed out"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn stop_abandons_a_read_in_flight() {
    let fake = FakeIam::start(|_, _, _| Reply::Hang).await;
    let iam = iam(&fake).await;
    let cancel = CancellationToken::new();
    let stopper = cancel.clone();
    let read = tokio::spawn(async move { iam.list_access_keys(Some(USER), &cancel).await });
    while fake.calls("ListAccessKeys") == 0 {
        tokio::task::yield_now().await;
    }
    stopper.cancel();
    let err = read.await.unwrap().unwrap_err();
    assert!(matches!(err, IamError::Cancelled { operation: "ListAccessKeys" }), "{err:?}");
}

#[tokio::test]
async fn reads_of_one_user_share_one_listing_until_a_write() {
    let fake = FakeIam::start(|action, _, _| match action {
        "ListAccessKeys" => fake::listed(USER, &[(NEW_ID, "Active", "2020-01-01T00:00:00Z")], None),
        "UpdateAccessKey" => fake::empty_ok("UpdateAccessKey"),
        _ => fake::error(400, "Unexpected"),
    })
    .await;
    let iam = iam(&fake).await;
    let cancel = CancellationToken::new();
    let reads: Vec<_> = (0..10).map(|_| iam.keys_for_read(Some(USER), &cancel)).collect();
    for keys in futures::future::join_all(reads).await {
        assert_eq!(keys.unwrap()[0].access_key_id, NEW_ID);
    }
    iam.keys_for_read(Some(USER), &cancel).await.unwrap();
    assert_eq!(fake.calls("ListAccessKeys"), 1, "ten concurrent reads and a later one: one call");
    iam.keys_for_read(Some("someone-else"), &cancel).await.unwrap();
    assert_eq!(fake.calls("ListAccessKeys"), 2, "another user: another call");
    iam.update_access_key(USER, NEW_ID, "Inactive", &cancel).await.unwrap();
    iam.keys_for_read(Some(USER), &cancel).await.unwrap();
    assert_eq!(fake.calls("ListAccessKeys"), 3, "a write to the user invalidates its listing");
}

#[tokio::test]
async fn a_failed_listing_is_not_kept() {
    let fake = FakeIam::start(|action, _, before| match (action, before) {
        ("ListAccessKeys", 0) => fake::error(400, "AccessDenied"),
        ("ListAccessKeys", _) => fake::listed(USER, &[], None),
        _ => fake::error(400, "Unexpected"),
    })
    .await;
    let iam = iam(&fake).await;
    assert!(iam.keys_for_read(Some(USER), &CancellationToken::new()).await.is_err());
    assert!(iam.keys_for_read(Some(USER), &CancellationToken::new()).await.unwrap().is_empty());
    assert_eq!(fake.calls("ListAccessKeys"), 2);
}

#[tokio::test]
async fn a_refusal_the_sdk_cannot_read_still_names_the_action() {
    // moto's auth errors are EC2-shaped: the awsQuery parser finds no code in them.
    let body = "<ErrorResponse><Errors><Error><Code>AccessDenied</Code><Message>User: arn:aws:iam::123456789012:user/op is not \
                authorized to perform: iam:ListAccessKeys</Message></Error></Errors></ErrorResponse>";
    let fake = FakeIam::start(move |_, _, _| Reply::Xml(403, body.into())).await;
    let err = iam(&fake).await.list_access_keys(Some(USER), &CancellationToken::new()).await.unwrap_err();
    assert_eq!(err.code(), Some("AccessDenied"));
    assert!(err.to_string().ends_with("not authorized to perform: iam:ListAccessKeys"), "{err}");
    // No body at all: a 403 is still a refusal of this action.
    let fake = FakeIam::start(move |_, _, _| Reply::Xml(403, String::new())).await;
    let err = iam(&fake).await.list_access_keys(Some(USER), &CancellationToken::new()).await.unwrap_err();
    assert_eq!(err.to_string(), "IAM ListAccessKeys failed: AccessDenied: the credentials are not allowed iam:ListAccessKeys");
}

#[tokio::test]
async fn update_sends_the_status_and_maps_errors() {
    let fake = FakeIam::start(|action, form, _| match (action, form.get("Status").map(String::as_str)) {
        ("UpdateAccessKey", Some("Inactive")) => fake::empty_ok("UpdateAccessKey"),
        _ => fake::error(400, "InvalidInput"),
    })
    .await;
    let iam = iam(&fake).await;
    iam.update_access_key(USER, NEW_ID, "Inactive", &CancellationToken::new()).await.unwrap();
    assert_eq!(iam.update_access_key(USER, NEW_ID, "Active", &CancellationToken::new()).await.unwrap_err().code(), Some("InvalidInput"));
}
