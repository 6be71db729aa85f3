//! Unit tests of `iamkey_access_key`.

use std::sync::Arc;

use super::plan::delivery_change_without_secret;
use super::schema::*;
use super::*;
use crate::framework::{OpContext, PlanKind, Resource};
use crate::resources::common::{is_access_key_id, validate_user_name};
use crate::value::{AttributePath, Diagnostics, Value};

/// Age-based rotation reads the injected clock: due exactly at `after_days`.
#[test]
fn a_key_is_replaced_once_it_is_after_days_old_by_the_injected_clock() {
    let resource = AccessKeyResource::new(Arc::new(Clients::default()));
    let created = aws_smithy_types::DateTime::from_str("2026-01-01T00:00:00Z", aws_smithy_types::date_time::Format::DateTime).unwrap().secs();
    let mut prior = Value::object([("create_date", Value::string("2026-01-01T00:00:00Z"))]);
    prior.set("rotation", Value::object([("after_days", Value::Number(crate::value::Number::Int(30))), ("keepers", Value::Null)]));
    let reasons_at = |now: i64| {
        let ctx = OpContext { clock: crate::framework::SharedClock(Arc::new(crate::framework::clock::FixedClock(now))), ..Default::default() };
        resource.replacement_reasons(&ctx, &prior, &prior)
    };
    assert!(reasons_at(created + 30 * 86_400 - 1).is_empty(), "a second before 30 days: kept");
    assert_eq!(reasons_at(created + 30 * 86_400), vec![AttributePath::root("create_date")]);
}

/// The input table of reliability.md row 22: every case decided without AWS.
#[test]
fn user_names_follow_the_iam_rule_in_ascii() {
    let valid = ["a", "deploy-bot", "A_b+c=d,e.f@g-h", "x".repeat(64).as_str(), "_", "+", "=", ",", ".", "@", "-", "0", "user123", "UPPER", "a.b@example.com"]
        .map(str::to_string);
    let invalid = [
        String::new(),
        "x".repeat(65),
        "x".repeat(128),
        "x".repeat(129),
        "é".into(),
        "пользователь".into(),
        "has space".into(),
        "a/b".into(),
        "nul\0".into(),
        "tab\t".into(),
        "new\nline".into(),
        "🔑".into(),
        "semi;colon".into(),
        "colon:".into(),
        "star*".into(),
        "quote\"".into(),
        "back\\slash".into(),
        "hash#".into(),
        "percent%".into(),
        "caret^".into(),
        "amp&".into(),
        "paren(".into(),
        "brace{".into(),
        "bracket[".into(),
        "pipe|".into(),
        "tilde~".into(),
        "bang!".into(),
        "dollar$".into(),
        "question?".into(),
        "less<".into(),
        "greater>".into(),
        "apos'".into(),
        "grave`".into(),
        "ｆｕｌｌｗｉｄｔｈ".into(),
        "\u{200b}zero-width".into(),
        "ǅ".into(),
    ];
    for name in &valid {
        assert!(validate_user_name(&Value::string(name.clone())).is_ok(), "{name:?} should be valid");
    }
    for name in &invalid {
        assert!(validate_user_name(&Value::string(name.clone())).is_err(), "{name:?} should be invalid");
    }
    assert!(valid.len() + invalid.len() >= 40);
}

#[test]
fn statuses_are_exactly_active_or_inactive() {
    for ok in ["Active", "Inactive"] {
        assert!(validate_status(&Value::string(ok)).is_ok());
    }
    for bad in ["Expired", "active", "", "ACTIVE", "Inactive "] {
        assert!(validate_status(&Value::string(bad)).is_err(), "{bad:?}");
    }
}

#[test]
fn descriptions_follow_the_iam_tag_value_rule() {
    for ok in ["", "CI deploy key", "rotated: 2026-11/a=b+c-d@e_f.g", "Schlüssel für München", "鍵", &"x".repeat(256)] {
        assert!(validate_description(&Value::string(ok)).is_ok(), "{ok:?}");
    }
    for bad in ["semi;colon", "new\nline", "tab\t", "quote\"", "star*", "comma,", &"x".repeat(257)] {
        assert!(validate_description(&Value::string(bad)).is_err(), "{bad:?}");
    }
}

#[test]
fn import_ids_are_checked_for_length_and_alphabet() {
    assert!(!is_access_key_id(&"A".repeat(15)));
    assert!(is_access_key_id(&"A".repeat(16)));
    assert!(is_access_key_id(&"A".repeat(128)));
    assert!(!is_access_key_id(&"A".repeat(129)));
    assert!(!is_access_key_id("AKIA-EXAMPLE-KEY-ID"));
}

#[test]
fn create_plan_knows_which_secret_fields_stay_null() {
    let resource = AccessKeyResource::new(Arc::default());
    let mut planned = Value::Object(Default::default());
    resource.modify_plan(&Value::Null, &Value::object([("pgp_key", Value::Null)]), &mut planned);
    assert_eq!(planned.get("secret"), &Value::Unknown);
    assert_eq!(planned.get("encrypted_secret"), &Value::Null);
    let mut planned = Value::Object(Default::default());
    resource.modify_plan(&Value::Null, &Value::object([("pgp_key", Value::string("k"))]), &mut planned);
    assert_eq!(planned.get("secret"), &Value::Null);
    assert_eq!(planned.get("key_fingerprint"), &Value::Unknown);
}

#[test]
fn in_place_plan_keeps_the_secret_known() {
    let resource = AccessKeyResource::new(Arc::default());
    let prior = Value::object([("id", Value::string("AKIA1")), ("secret", Value::string("s"))]);
    let mut planned = prior.clone();
    resource.modify_plan(&prior, &Value::object([]), &mut planned);
    assert_eq!(planned.get("secret"), &Value::string("s"));
}

#[test]
fn a_new_pgp_key_or_destination_replaces_a_key_whose_secret_was_delivered_and_only_such_a_key() {
    let resource = AccessKeyResource::new(Arc::default());
    let ctx = OpContext::default();
    let imported = Value::object([("id", Value::string("AKIA1")), ("create_date", Value::string("2026-01-01T00:00:00Z"))]);
    let created = |name: &'static str, value: &str| {
        let mut prior = imported.clone();
        prior.set(name, Value::string(value));
        prior
    };
    for (prior, delivered) in [
        (imported.clone(), false),
        (created("secret", "s"), true),
        (created("encrypted_secret", "e"), true),
        (created("secret_destination_version", "v1"), true),
    ] {
        let mut planned = prior.clone();
        planned.set("pgp_key", Value::string("k"));
        let reasons = resource.reasons_to_replace(&ctx, &prior, &planned);
        assert_eq!(reasons, if delivered { vec![AttributePath::root("pgp_key")] } else { vec![] }, "{prior:?}");
        let warnings = delivery_change_without_secret(&resource.view(&prior), &resource.view(&planned));
        assert_eq!(warnings.iter().count(), usize::from(!delivered), "{prior:?}");
    }
    let mut planned = imported.clone();
    planned.set("secret_destination", Value::object([("ssm_parameter_name", Value::string("/k"))]));
    assert!(resource.reasons_to_replace(&ctx, &imported, &planned).is_empty());
    let warning = delivery_change_without_secret(&resource.view(&imported), &resource.view(&planned));
    let warning = warning.first().unwrap();
    assert_eq!(warning.summary, "No secret to deliver for this key");
    assert!(warning.detail.contains("secret_destination is recorded and nothing is written there"), "{}", warning.detail);
}

#[test]
fn the_fields_name_every_attribute_of_the_schemas() {
    use crate::framework::field::declares_exactly;
    let schema = schema();
    assert_eq!(declares_exactly(&schema.block, key::NAMES), Ok(()));
    let nested = |name: &str| &schema.block.blocks.iter().find(|b| b.name == name).unwrap().block;
    assert_eq!(declares_exactly(nested(key::rotation.name), key_rotation::NAMES), Ok(()));
    assert_eq!(declares_exactly(nested(key::secret_destination.name), key_destination::NAMES), Ok(()));
    assert_eq!(declares_exactly(&identity_schema().block, key_identity::NAMES), Ok(()));
}

mod against_a_fake_iam {
    use super::*;
    use crate::aws::fake::{self, FakeIam, Reply};
    use crate::aws::AwsClients;

    const SECRET: &str = "canarySecretcanarySecretcanarySecret1234";

    async fn resource(
        handler: impl Fn(&str, &std::collections::HashMap<String, String>, usize) -> Reply + Send + Sync + 'static,
    ) -> (AccessKeyResource, FakeIam) {
        let fake = FakeIam::start(handler).await;
        (AccessKeyResource::new(Arc::new(Clients::configured(fake.clients()))), fake)
    }

    /// Secret stores that refuse every write (the fake answers them with an error).
    fn refusing_stores(endpoint: &str) -> crate::aws::destination::SecretStores {
        let credentials = aws_sdk_secretsmanager::config::Credentials::new("AKIDTEST", "test-secret", None, None, "test");
        let secrets = aws_sdk_secretsmanager::Config::builder()
            .behavior_version(aws_sdk_secretsmanager::config::BehaviorVersion::latest())
            .region(aws_sdk_secretsmanager::config::Region::new("us-east-1"))
            .endpoint_url(endpoint)
            .credentials_provider(credentials.clone())
            .build();
        let ssm = aws_sdk_ssm::Config::builder()
            .behavior_version(aws_sdk_ssm::config::BehaviorVersion::latest())
            .region(aws_sdk_ssm::config::Region::new("us-east-1"))
            .endpoint_url(endpoint)
            .credentials_provider(credentials)
            .build();
        crate::aws::destination::SecretStores::new(aws_sdk_secretsmanager::Client::from_conf(secrets), aws_sdk_ssm::Client::from_conf(ssm))
    }

    #[tokio::test]
    async fn a_failed_write_to_the_destination_keeps_the_key_tainted_and_the_secret_nowhere() {
        let fake = FakeIam::start(|action, _, _| match action {
            "CreateAccessKey" => fake::created("bob", "AKIAFAKE000000000NEW", SECRET, &now()),
            "ListAccessKeys" => fake::listed("bob", &[], None),
            _ => fake::error(500, "ServiceFailure"),
        })
        .await;
        let clients = AwsClients { stores: Some(refusing_stores(&fake.endpoint)), ..fake.clients() };
        let resource = AccessKeyResource::new(Arc::new(Clients::configured(clients)));
        let mut planned = planned("Active");
        planned.set("secret_destination", Value::object([("ssm_parameter_name", Value::string("/ci/bob"))]));
        resource.modify_plan(&Value::Null, &planned.clone(), &mut planned);
        let outcome = resource.create(&OpContext::default(), &planned).await;
        assert!(outcome.diagnostics.has_errors());
        assert_eq!(outcome.diagnostics.first().unwrap().path, Some(AttributePath::root("secret_destination")));
        assert_eq!(outcome.state.get("id"), &Value::string("AKIAFAKE000000000NEW"), "the key is kept (tainted)");
        for attribute in ["secret", "ses_smtp_password_v4", "secret_destination_version"] {
            assert_eq!(outcome.state.get(attribute), &Value::Null, "{attribute}");
        }
        assert!(outcome.state.is_wholly_known());
        assert!(!format!("{:?}", outcome.diagnostics).contains(SECRET));
    }

    fn now() -> String {
        aws_smithy_types::DateTime::from(std::time::SystemTime::now()).fmt(aws_smithy_types::date_time::Format::DateTime).unwrap()
    }

    fn planned(status: &str) -> Value {
        Value::object([("user", Value::string("bob")), ("status", Value::string(status)), ("id", Value::Unknown), ("secret", Value::Unknown)])
    }

    #[tokio::test]
    async fn a_failed_status_update_after_create_still_returns_the_key() {
        let (resource, _fake) = resource(|action, _, _| match action {
            "CreateAccessKey" => fake::created("bob", "AKIAFAKE000000000NEW", SECRET, &now()),
            "ListAccessKeys" => fake::listed("bob", &[], None),
            _ => fake::error(400, "InvalidInput"),
        })
        .await;
        let ctx = OpContext::default();
        let outcome = resource.create(&ctx, &planned("Inactive")).await;
        assert!(outcome.diagnostics.has_errors());
        assert_eq!(outcome.diagnostics.first().unwrap().path, Some(AttributePath::root("status")));
        assert_eq!(outcome.state.get("id"), &Value::string("AKIAFAKE000000000NEW"));
        assert_eq!(outcome.state.get("status"), &Value::string("Active"), "state says what IAM has");
        assert!(outcome.state.is_wholly_known(), "no unknown reaches Terraform");
        assert_eq!(ctx.partial_state.take().unwrap().get("id"), &Value::string("AKIAFAKE000000000NEW"));
        let shown = format!("{:?}", outcome.diagnostics);
        assert!(!shown.contains(SECRET));
    }

    #[tokio::test]
    async fn a_failed_description_tag_after_create_still_returns_the_key() {
        let (resource, _fake) = resource(|action, _, _| match action {
            "CreateAccessKey" => fake::created("bob", "AKIAFAKE000000000NEW", SECRET, &now()),
            "ListAccessKeys" => fake::listed("bob", &[], None),
            _ => fake::error(500, "ServiceFailure"),
        })
        .await;
        let mut planned = planned("Active");
        planned.set("description", Value::string("CI key"));
        let outcome = resource.create(&OpContext::default(), &planned).await;
        assert!(outcome.diagnostics.has_errors());
        assert_eq!(outcome.diagnostics.first().unwrap().path, Some(AttributePath::root("description")));
        assert_eq!(outcome.state.get("id"), &Value::string("AKIAFAKE000000000NEW"), "the key is kept (tainted)");
        assert_eq!(outcome.state.get("description"), &Value::Null, "state says what IAM has");
        assert!(outcome.state.is_wholly_known());
    }

    #[tokio::test]
    async fn a_lost_create_answer_keeps_the_new_key_in_state_without_secret() {
        let (resource, fake) = resource(|action, _, before| match (action, before) {
            ("CreateAccessKey", _) => Reply::Drop,
            ("ListAccessKeys", 0) => fake::listed("bob", &[], None),
            ("ListAccessKeys", _) => fake::listed("bob", &[("AKIAFAKE000000000NEW", "Active", &now())], None),
            _ => fake::error(400, "Unexpected"),
        })
        .await;
        let outcome = resource.create(&OpContext::default(), &planned("Active")).await;
        assert!(outcome.diagnostics.has_errors());
        assert_eq!(outcome.state.get("id"), &Value::string("AKIAFAKE000000000NEW"));
        assert_eq!(outcome.state.get("secret"), &Value::Null);
        assert!(outcome.state.is_wholly_known());
        assert_eq!(fake.calls("CreateAccessKey"), 1);
    }

    #[tokio::test]
    async fn with_no_user_the_plan_names_the_callers_user_and_refuses_root_and_roles() {
        use crate::aws::caller::Caller;
        let fake = FakeIam::start(|action, form, _| match action {
            "ListAccessKeys" => fake::listed(form.get("UserName").map_or("root", String::as_str), &[], None),
            _ => fake::error(400, "Unexpected"),
        })
        .await;
        let role = "arn:aws:sts::123456789012:assumed-role/deploy/ci".to_string();
        let cases = [
            (Caller::User("alice".into()), false, Ok(Value::string("alice"))),
            (Caller::Root, false, Err("Refusing to create a root access key")),
            (Caller::Root, true, Ok(Value::Unknown)),
            (Caller::Other { arn: role.clone() }, true, Err("The caller is not an IAM user")),
        ];
        for (caller, allow_root_key, expected) in cases {
            let resource = AccessKeyResource::new(Arc::new(Clients::configured(fake.clients_of(caller.clone()))));
            let mut config = Value::object([("status", Value::string("Active"))]);
            if allow_root_key {
                key::allow_root_key.set(&mut config, Value::Bool(true));
            }
            let mut planned = config.clone();
            planned.set("user", Value::Unknown);
            planned.set("id", Value::Unknown);
            let diags = resource.check_plan(&OpContext::default(), PlanKind::Create, &Value::Null, &config, &mut planned).await;
            match expected {
                Ok(user) => {
                    assert!(!diags.has_errors(), "{caller:?}: {diags:?}");
                    assert_eq!(planned.get("user"), &user, "{caller:?}");
                }
                Err(summary) => {
                    assert_eq!(diags.first().unwrap().summary, summary, "{caller:?}");
                    assert_eq!(diags.first().unwrap().path, Some(AttributePath::root("user")));
                }
            }
        }
        assert_eq!(fake.calls("ListAccessKeys"), 2, "the quota is checked for alice and for the allowed root only");
        // Apply refuses the same way, before any IAM call.
        let resource = AccessKeyResource::new(Arc::new(Clients::configured(fake.clients_of(Caller::Root))));
        let planned = Value::object([("status", Value::string("Active")), ("user", Value::Unknown), ("id", Value::Unknown)]);
        let outcome = resource.create(&OpContext::default(), &planned).await;
        assert_eq!(outcome.diagnostics.first().unwrap().summary, "Refusing to create a root access key");
        assert_eq!(outcome.state, Value::Null);
        assert_eq!(fake.calls("CreateAccessKey"), 0);
    }

    #[tokio::test]
    async fn a_plan_for_a_user_iam_does_not_have_warns_and_says_how_long_apply_waits() {
        let (resource, _fake) = resource(|_, _, _| fake::error(404, "NoSuchEntity")).await;
        let config = Value::object([("user", Value::string("ghost")), ("status", Value::string("Active"))]);
        let mut planned = config.clone();
        planned.set("id", Value::Unknown);
        let diags = resource.check_plan(&OpContext::default(), PlanKind::Create, &Value::Null, &config, &mut planned).await;
        assert!(!diags.has_errors(), "the user may be created by this apply: {diags:?}");
        let warning = &diags.first().unwrap();
        assert_eq!(warning.path, Some(AttributePath::root("user")));
        assert!(warning.detail.contains("\"ghost\"") && warning.detail.contains("120 s"), "{}", warning.detail);
    }

    #[tokio::test]
    async fn an_uncertain_create_records_nothing_and_names_the_keys_that_appeared() {
        let (resource, fake) = resource(|action, _, before| match (action, before) {
            ("CreateAccessKey", _) => Reply::Drop,
            ("ListAccessKeys", 0) => fake::listed("bob", &[], None),
            ("ListAccessKeys", _) => fake::listed("bob", &[("AKIAFAKE00000000OOB1", "Active", &now()), ("AKIAFAKE000000000NEW", "Active", &now())], None),
            _ => fake::error(400, "Unexpected"),
        })
        .await;
        let ctx = OpContext::default();
        let outcome = resource.create(&ctx, &planned("Active")).await;
        assert_eq!(outcome.state, Value::Null, "neither key is adopted");
        assert!(ctx.partial_state.take().is_none());
        let detail = &outcome.diagnostics.first().unwrap().detail;
        assert!(detail.contains("AKIAFAKE00000000OOB1 created") && detail.contains("AKIAFAKE000000000NEW created"), "{detail}");
        assert_eq!(fake.calls("DeleteAccessKey") + fake.calls("UpdateAccessKey"), 0, "nothing is deleted or deactivated");
    }

    #[tokio::test]
    async fn quota_error_lists_existing_keys_and_returns_no_state() {
        let (resource, _fake) = resource(|action, _, _| match action {
            "CreateAccessKey" => fake::error(409, "LimitExceeded"),
            "GetAccessKeyLastUsed" => fake::never_used("bob"),
            "ListAccessKeys" => fake::listed(
                "bob",
                &[("AKIAFAKE00000000OLD1", "Active", "2020-01-01T00:00:00Z"), ("AKIAFAKE00000000OLD2", "Inactive", "2021-01-01T00:00:00Z")],
                None,
            ),
            _ => fake::error(400, "Unexpected"),
        })
        .await;
        let outcome = resource.create(&OpContext::default(), &planned("Active")).await;
        assert_eq!(outcome.state, Value::Null);
        let detail = &outcome.diagnostics.first().unwrap().detail;
        assert!(detail.contains("AKIAFAKE00000000OLD1 (Active") && detail.contains("AKIAFAKE00000000OLD2 (Inactive"), "{detail}");
    }

    /// Plans `n` new keys for bob (who has none) as Terraform does, one at a time.
    async fn plan_new_keys(resource: &AccessKeyResource, kind: PlanKind, n: usize) -> Vec<Diagnostics> {
        let mut results = Vec::new();
        for _ in 0..n {
            let config = Value::object([("user", Value::string("bob"))]);
            let mut planned = planned("Active");
            results.push(resource.check_plan(&OpContext::default(), kind, &Value::Null, &config, &mut planned).await);
        }
        results
    }

    #[tokio::test]
    async fn the_quota_check_counts_the_other_keys_the_same_plan_creates() {
        let (resource, fake) = resource(|action, _, _| match action {
            "ListAccessKeys" => fake::listed("bob", &[], None),
            _ => fake::error(400, "Unexpected"),
        })
        .await;
        let planned = plan_new_keys(&resource, PlanKind::Create, 3).await;
        assert!(!planned[0].has_errors() && !planned[1].has_errors(), "two keys fit: {planned:?}");
        let refused = planned[2].first().unwrap();
        assert_eq!((refused.summary.as_str(), refused.path.clone()), ("Access key quota would be exceeded", Some(AttributePath::root("user"))));
        assert!(refused.detail.contains("\"bob\"") && refused.detail.contains("2 other keys"), "{}", refused.detail);
        assert_eq!(fake.calls("CreateAccessKey"), 0);

        // The new half of a replacement takes its old key's slot: not counted.
        let (resource, _fake) = resource_listing_one().await;
        let replacements = plan_new_keys(&resource, PlanKind::Replacement, 3).await;
        assert!(replacements.iter().all(Diagnostics::is_empty), "{replacements:?}");
    }

    #[tokio::test]
    async fn a_create_that_begins_leaves_the_count_to_iam() {
        // Apply plans each create again just before it: bob has the first key by
        // the time the second is planned, and it is counted once.
        let (resource, _fake) = resource_listing_one().await;
        assert!(!plan_new_keys(&resource, PlanKind::Create, 1).await[0].has_errors(), "one held, this one fits");
        resource.begin_planned_create(Some("bob"));
        assert!(!plan_new_keys(&resource, PlanKind::Create, 1).await[0].has_errors(), "counted in IAM, not also as planned");
        assert!(plan_new_keys(&resource, PlanKind::Create, 1).await[0].has_errors(), "a third is refused");
    }

    /// Bob holds one key.
    async fn resource_listing_one() -> (AccessKeyResource, FakeIam) {
        resource(|action, _, _| match action {
            "ListAccessKeys" => fake::listed("bob", &[("AKIAFAKE00000000OLD1", "Active", "2020-01-01T00:00:00Z")], None),
            "GetAccessKeyLastUsed" => fake::never_used("bob"),
            _ => fake::error(400, "Unexpected"),
        })
        .await
    }

    #[tokio::test]
    async fn read_keeps_unknown_statuses_and_drops_keys_of_missing_users() {
        let (resource, _fake) = resource(|_, form, _| match form.get("UserName").map(String::as_str) {
            Some("bob") => fake::listed("bob", &[("AKIAFAKE000000000NEW", "Expired", "2020-01-01T00:00:00Z")], None),
            _ => fake::error(404, "NoSuchEntity"),
        })
        .await;
        let state = Value::object([("id", Value::string("AKIAFAKE000000000NEW")), ("user", Value::string("bob")), ("secret", Value::string("kept"))]);
        let read = resource.read(&OpContext::default(), state.clone()).await.unwrap().unwrap();
        assert_eq!(read.get("status"), &Value::string("Expired"));
        assert_eq!(read.get("secret"), &Value::string("kept"), "secrets carry over from state");
        let mut gone = state.clone();
        gone.set("user", Value::string("ghost"));
        assert_eq!(resource.read(&OpContext::default(), gone).await.unwrap(), None);
    }
}
