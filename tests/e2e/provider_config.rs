//! End to end: every way users configure the provider, against the emulator
//! (through a counting proxy where the test must see which calls were made).

use crate::support::proxy::{Fault, FaultProxy};
use crate::support::*;

/// A user and a key for it that moto issued: signing with it makes IAM infer the user.
fn user_with_own_key(prefix: &str) -> (String, String, String) {
    let user = unique_user(prefix);
    create_user(&user);
    let key = block_on(Emulator::get().iam().create_access_key().user_name(&user).send()).unwrap();
    let key = key.access_key().unwrap();
    (user, key.access_key_id().to_string(), key.secret_access_key().to_string())
}

const SELF_KEY: &str = "resource \"iamkey_access_key\" \"k\" {}\n";

#[test]
fn environment_variables_alone_configure_everything() {
    // Credentials, region and the endpoint (AWS_ENDPOINT_URL) all come from the environment.
    let (user, key_id, secret) = user_with_own_key("env");
    let ws = Workspace::configured(&format!("provider \"iamkey\" {{}}\n{SELF_KEY}"), |ws| {
        ws.with_env("AWS_ACCESS_KEY_ID", &key_id).with_env("AWS_SECRET_ACCESS_KEY", &secret)
    });
    ws.apply().assert_success();
    assert_eq!(ws.resource("iamkey_access_key.k")["values"]["user"], user.as_str());
    ws.tf(&["destroy", "-auto-approve"]).assert_success();
}

#[test]
fn a_profile_in_shared_config_and_credentials_files() {
    let (user, key_id, secret) = user_with_own_key("profile");
    let ws = Workspace::configured("", |ws| ws.without_env("AWS_ACCESS_KEY_ID").without_env("AWS_SECRET_ACCESS_KEY").without_env("AWS_REGION"));
    let config = ws.path().join("aws-config");
    let credentials = ws.path().join("aws-credentials");
    std::fs::write(&config, "[profile iamkey-test]\nregion = eu-west-1\n").unwrap();
    std::fs::write(&credentials, format!("[iamkey-test]\naws_access_key_id = {key_id}\naws_secret_access_key = {secret}\n")).unwrap();
    let endpoint = Emulator::get().endpoint();
    let profile = format!(
        "  profile = \"iamkey-test\"\n  shared_config_files = [\"{}\"]\n  shared_credentials_files = [\"{}\"]\n",
        config.display(),
        credentials.display()
    );
    ws.write(&format!("{}{SELF_KEY}", provider_block_with(&endpoint, &profile)));
    ws.apply().assert_success();
    let values = ws.resource("iamkey_access_key.k")["values"].clone();
    assert_eq!(values["user"], user.as_str(), "the profile's credentials signed the calls");
    // The SES password is derived for the profile's region.
    let secret = values["secret"].as_str().unwrap();
    let expected = iamkey::crypto::ses::ses_smtp_password_v4(&iamkey::secret::Secret::new(secret), "eu-west-1");
    assert_eq!(values["ses_smtp_password_v4"], expected.expose());
    ws.tf(&["destroy", "-auto-approve"]).assert_success();
}

#[test]
fn assume_role_calls_sts_and_manages_keys_with_the_role() {
    let proxy = FaultProxy::start(&Emulator::get().endpoint());
    let user = unique_user("assume");
    create_user(&user);
    let endpoint = proxy.endpoint();
    let assume_role =
        "  assume_role {\n    role_arn = \"arn:aws:iam::123456789012:role/key-manager\"\n    session_name = \"iamkey-e2e\"\n    duration = 900\n  }\n";
    let ws = Workspace::new(&format!("{}resource \"iamkey_access_key\" \"k\" {{\n  user = \"{user}\"\n}}\n", provider_block_with(&endpoint, assume_role)));
    let applied = ws.apply().assert_success();
    // A duration in seconds, as before duration strings, still works, and says it is deprecated.
    assert!(applied.all().contains("Duration in seconds is deprecated"), "{}", applied.all());
    assert!(proxy.calls("AssumeRole") >= 1, "sts:AssumeRole was called");
    assert_eq!(proxy.calls("CreateAccessKey"), 1);
    assert_eq!(keys_of(&user).len(), 1);
    ws.tf(&["destroy", "-auto-approve"]).assert_success();
}

#[test]
fn wrong_credentials_fail_at_plan_with_a_clear_error() {
    let proxy = FaultProxy::start(&Emulator::get().endpoint());
    proxy.arm("GetCallerIdentity", 1000, Fault::Error { status: 403, code: "InvalidClientTokenId" });
    let ws = Workspace::new(&format!("{}resource \"iamkey_access_key\" \"k\" {{\n  user = \"nobody\"\n}}\n", provider_block_for(&proxy.endpoint())));
    let run = ws.plan();
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(run.stderr.contains("Invalid AWS credentials"), "{}", run.stderr);
    assert!(run.stderr.contains("InvalidClientTokenId"), "{}", run.stderr);
    assert!(run.stderr.contains("Sources tried"), "{}", run.stderr);
    assert_eq!(proxy.calls("CreateAccessKey"), 0);
}

#[test]
fn a_missing_region_is_reported_on_the_region_argument() {
    let ws = Workspace::configured(&format!("{}resource \"iamkey_access_key\" \"k\" {{\n  user = \"nobody\"\n}}\n", provider_block()), |ws| {
        ws.without_env("AWS_REGION")
    });
    let run = ws.plan();
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("No AWS region") && run.stderr.contains("AWS_REGION"), "{}", run.stderr);
}

#[test]
fn provider_configuration_unknown_at_plan_time_plans_and_applies() {
    let user = unique_user("unknown-cfg");
    create_user(&user);
    let endpoint = Emulator::get().endpoint();
    let ws = Workspace::new(&format!(
        "resource \"terraform_data\" \"region\" {{\n  input = \"us-east-1\"\n}}\n{}resource \"iamkey_access_key\" \"k\" {{\n  user = \"{user}\"\n}}\n",
        provider_block_with(&endpoint, "  region = terraform_data.region.output\n")
    ));
    let plan = ws.plan();
    assert_eq!(plan.code, 2, "{}", plan.all());
    assert!(plan.stdout.contains("2 to add"), "{}", plan.stdout);
    ws.apply().assert_success();
    assert_eq!(keys_of(&user).len(), 1);
    ws.tf(&["destroy", "-auto-approve"]).assert_success();
}

#[test]
fn throttling_on_create_is_retried_and_creates_exactly_one_key() {
    let proxy = FaultProxy::start(&Emulator::get().endpoint());
    proxy.arm("CreateAccessKey", 2, Fault::Error { status: 400, code: "Throttling" });
    let user = unique_user("throttle");
    create_user(&user);
    let ws = Workspace::new(&format!("{}resource \"iamkey_access_key\" \"k\" {{\n  user = \"{user}\"\n}}\n", provider_block_for(&proxy.endpoint())));
    ws.apply().assert_success();
    assert_eq!(proxy.calls("CreateAccessKey"), 3);
    assert_eq!(keys_of(&user).len(), 1);
    ws.tf(&["destroy", "-auto-approve"]).assert_success();
}

#[test]
fn http_proxy_carries_every_aws_call() {
    let proxy = FaultProxy::start(&Emulator::get().endpoint());
    let user = unique_user("proxied");
    create_user(&user);
    let endpoint = Emulator::get().endpoint();
    let ws = Workspace::new(&format!(
        "{}resource \"iamkey_access_key\" \"k\" {{\n  user = \"{user}\"\n}}\n",
        provider_block_with(&endpoint, &format!("  http_proxy = \"{}\"\n", proxy.endpoint()))
    ));
    ws.apply().assert_success();
    assert_eq!(proxy.calls("CreateAccessKey"), 1, "the create went through the proxy");
    assert!(proxy.calls("GetCallerIdentity") >= 1);
    ws.tf(&["destroy", "-auto-approve"]).assert_success();
    assert!(keys_of(&user).is_empty());
}

#[test]
fn custom_ca_bundle_replaces_the_system_roots_and_an_untrusted_endpoint_is_refused_at_once() {
    let (proxy, private_ca) = FaultProxy::start_tls(&Emulator::get().endpoint());
    let user = unique_user("private-ca");
    create_user(&user);
    let resource = format!("resource \"iamkey_access_key\" \"k\" {{\n  user = \"{user}\"\n}}\n");
    let ws = Workspace::configured(&format!("{}{resource}", provider_block_for(&proxy.endpoint())), |ws| ws);
    let (private_ca_file, other_ca_file) = (ws.path().join("private-ca.pem"), ws.path().join("other-ca.pem"));
    std::fs::write(&private_ca_file, private_ca).unwrap();
    std::fs::write(&other_ca_file, rcgen::generate_simple_self_signed(vec!["other".into()]).unwrap().cert.pem()).unwrap();
    let plan = ["plan", "-detailed-exitcode", "-input=false"];
    let refused_with_reason = |run: &Run| {
        assert_eq!(run.code, 1, "{}", run.all());
        // At the first attempt, saying why (it was retried until the operation timeout, then shown as "timed out").
        let shown = run.stderr.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(shown.contains("TLS with the endpoint failed: invalid peer certificate: UnknownIssuer"), "{shown}");
    };

    // The system's roots (the machine's store) do not hold the private CA.
    refused_with_reason(&ws.plan());
    assert_eq!(proxy.connections(), 1, "a TLS failure is not retried");
    assert_eq!(proxy.calls("GetCallerIdentity"), 0, "no request was sent over the untrusted connection");
    // A system store that holds it (SSL_CERT_FILE) is trusted when no bundle is named...
    let private_ca_store = [("SSL_CERT_FILE", private_ca_file.to_str().unwrap())];
    assert_eq!(ws.tf_env(&plan, &private_ca_store).code, 2);
    // ...and replaced by a bundle that does not (as in hashicorp/aws and the AWS CLI).
    let bundle = |path: &std::path::Path| format!("  custom_ca_bundle = \"{}\"\n", path.display());
    ws.write(&format!("{}{resource}", provider_block_with(&proxy.endpoint(), &bundle(&other_ca_file))));
    refused_with_reason(&ws.tf_env(&plan, &private_ca_store));

    ws.write(&format!("{}{resource}", provider_block_with(&proxy.endpoint(), &bundle(&private_ca_file))));
    ws.apply().assert_success();
    assert_eq!(proxy.calls("CreateAccessKey"), 1, "the create went over HTTPS to the private-CA endpoint");
    assert_eq!(keys_of(&user).len(), 1);
    ws.tf(&["destroy", "-auto-approve"]).assert_success();
    assert!(keys_of(&user).is_empty());
}

#[test]
fn missing_credentials_fail_at_plan_naming_the_sources_tried() {
    let ws = Workspace::configured(&format!("{}resource \"iamkey_access_key\" \"k\" {{\n  user = \"nobody\"\n}}\n", provider_block()), |ws| {
        ws.without_env("AWS_ACCESS_KEY_ID").without_env("AWS_SECRET_ACCESS_KEY")
    });
    let run = ws.plan();
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(run.stderr.contains("Invalid AWS credentials"), "{}", run.stderr);
    assert!(run.stderr.contains("Sources tried") && run.stderr.contains("skip_credentials_validation"), "{}", run.stderr);
}

/// The emulator's accounts used below (besides DEFAULT_ACCOUNT, the environment's).
const ACCOUNT_B: &str = "111111111111";
const ACCOUNT_C: &str = "222222222222";
const ACCOUNT_D: &str = "333333333333";

/// `user` in the default account (the environment's credentials) and in `other`.
fn user_in_both(prefix: &str, other: &AccountSession) -> (String, aws_sdk_iam::Client) {
    let user = unique_user(prefix);
    create_user(&user);
    let other_iam = Emulator::get().iam_in(other);
    block_on(other_iam.create_user().user_name(&user).send()).expect("CreateUser in the other account");
    (user, other_iam)
}

#[test]
fn an_explicit_profile_beats_the_environments_credentials() {
    // The environment holds credentials of DEFAULT_ACCOUNT (the harness's dummy key);
    // the profile named in the provider block holds credentials of ACCOUNT_B.
    let account_b = Emulator::get().session_in(ACCOUNT_B);
    let (user, iam_b) = user_in_both("explicit-profile", &account_b);
    let ws = Workspace::configured("", |ws| ws);
    let credentials = ws.path().join("aws-credentials");
    std::fs::write(
        &credentials,
        format!(
            "[account-b]\naws_access_key_id = {}\naws_secret_access_key = {}\naws_session_token = {}\n",
            account_b.key_id, account_b.secret, account_b.token
        ),
    )
    .unwrap();
    let profile = format!("  profile = \"account-b\"\n  shared_credentials_files = [\"{}\"]\n", credentials.display());
    ws.write(&format!("{}resource \"iamkey_access_key\" \"k\" {{\n  user = \"{user}\"\n}}\n", provider_block_with(&Emulator::get().endpoint(), &profile)));
    ws.apply().assert_success();
    assert_eq!(key_ids_with(&iam_b, &user), ws.state_key_ids(), "the key is in the profile's account");
    assert!(keys_of(&user).is_empty(), "nothing in the environment's account");
    ws.tf(&["destroy", "-auto-approve"]).assert_success();
    assert!(key_ids_with(&iam_b, &user).is_empty());
}

#[test]
fn without_a_profile_the_environments_credentials_sign() {
    let account_b = Emulator::get().session_in(ACCOUNT_B);
    let (user, iam_b) = user_in_both("environment-only", &account_b);
    let ws = Workspace::new(&key_config(&user, ""));
    ws.apply().assert_success();
    assert_eq!(keys_of(&user).len(), 1, "the key is in the environment's account");
    assert!(key_ids_with(&iam_b, &user).is_empty());
    ws.tf(&["destroy", "-auto-approve"]).assert_success();
}

#[test]
fn the_account_guard_stops_the_plan_naming_both_accounts_with_no_iam_call() {
    let proxy = FaultProxy::start(&Emulator::get().endpoint());
    let user = unique_user("guard");
    create_user(&user);
    let resource = format!("resource \"iamkey_access_key\" \"k\" {{\n  user = \"{user}\"\n}}\n");
    let guarded = |guard: &str| format!("{}{resource}", provider_block_with(&proxy.endpoint(), guard));
    let ws = Workspace::new(&guarded(&format!("  allowed_account_ids = [\"{ACCOUNT_B}\", \"{ACCOUNT_C}\"]\n")));
    let mut refused = String::new();
    let calls = proxy.calls_during(|| refused = ws.refused_plan());
    assert_eq!(calls, [], "no IAM call was made");
    let shown = refused.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(shown.contains("Wrong AWS account"), "{shown}");
    assert!(shown.contains(&format!("AWS account {DEFAULT_ACCOUNT}, which is not in allowed_account_ids ({ACCOUNT_B}, {ACCOUNT_C})")), "{shown}");

    ws.write(&guarded(&format!("  forbidden_account_ids = [\"{DEFAULT_ACCOUNT}\"]\n")));
    let calls = proxy.calls_during(|| refused = ws.refused_plan());
    assert_eq!(calls, []);
    assert!(refused.split_whitespace().collect::<Vec<_>>().join(" ").contains(&format!("which is in forbidden_account_ids ({DEFAULT_ACCOUNT})")), "{refused}");

    ws.write(&guarded(&format!("  forbidden_account_ids = [\"{ACCOUNT_B}\"]\n  skip_credentials_validation = true\n")));
    let calls = proxy.calls_during(|| refused = ws.refused_plan());
    assert_eq!(calls, []);
    assert!(refused.contains("Account guard needs the caller's identity"), "{refused}");

    ws.write(&guarded(&format!("  allowed_account_ids = [\"{DEFAULT_ACCOUNT}\"]\n")));
    ws.apply().assert_success();
    assert_eq!(keys_of(&user).len(), 1, "the allowed account is served");
    ws.tf(&["destroy", "-auto-approve"]).assert_success();
}

#[test]
fn a_role_chain_creates_the_key_with_the_last_hops_identity() {
    let proxy = FaultProxy::start(&Emulator::get().endpoint());
    let account_c = Emulator::get().session_in(ACCOUNT_C);
    let (user, iam_c) = user_in_both("role-chain", &account_c);
    let hops = format!(
        "  assume_role {{\n    role_arn = \"arn:aws:iam::{ACCOUNT_B}:role/hop-one\"\n    duration = \"1h\"\n  }}\n  assume_role {{\n    role_arn = \"arn:aws:iam::{ACCOUNT_C}:role/hop-two\"\n  }}\n"
    );
    let ws = Workspace::new(&format!("{}resource \"iamkey_access_key\" \"k\" {{\n  user = \"{user}\"\n}}\n", provider_block_with(&proxy.endpoint(), &hops)));
    let apply = ws.apply().assert_success();
    assert!(!apply.all().contains("Duration in seconds is deprecated"), "{}", apply.all());
    assert_eq!(key_ids_with(&iam_c, &user), ws.state_key_ids(), "the key is in the second hop's account");
    assert!(keys_of(&user).is_empty(), "nothing in the environment's account");
    assert!(proxy.calls("AssumeRole") >= 2, "both hops were assumed");
    ws.tf(&["destroy", "-auto-approve"]).assert_success();
    assert!(key_ids_with(&iam_c, &user).is_empty());
}

#[test]
fn web_identity_assumes_the_role_from_a_token_file() {
    let proxy = FaultProxy::start(&Emulator::get().endpoint());
    let account_d = Emulator::get().session_in(ACCOUNT_D);
    let (user, iam_d) = user_in_both("web-identity", &account_d);
    let ws = Workspace::configured("", |ws| ws);
    let token_file = ws.path().join("oidc-token");
    std::fs::write(&token_file, "eyJhbGciOiJSUzI1NiJ9.e2e.token\n").unwrap();
    let web = |path: &std::path::Path| {
        format!(
            "  assume_role_with_web_identity {{\n    role_arn = \"arn:aws:iam::{ACCOUNT_D}:role/ci\"\n    web_identity_token_file = \"{}\"\n    session_name = \"ci-run\"\n  }}\n",
            path.display()
        )
    };
    let resource = format!("resource \"iamkey_access_key\" \"k\" {{\n  user = \"{user}\"\n}}\n");
    ws.write(&format!("{}{resource}", provider_block_with(&proxy.endpoint(), &web(&token_file))));
    ws.apply().assert_success();
    assert!(proxy.calls("AssumeRoleWithWebIdentity") >= 1);
    assert_eq!(key_ids_with(&iam_d, &user), ws.state_key_ids(), "the key is in the web identity role's account");
    assert!(keys_of(&user).is_empty());
    ws.tf(&["destroy", "-auto-approve"]).assert_success();

    // A token file that is not there is named, and nothing is called.
    ws.write(&format!("{}{resource}", provider_block_with(&proxy.endpoint(), &web(&ws.path().join("missing-token")))));
    let mut refused = String::new();
    let calls = proxy.calls_during(|| refused = ws.refused_plan());
    assert_eq!(calls, []);
    assert!(refused.contains("Unreadable web identity token") && refused.contains("missing-token"), "{refused}");
}
