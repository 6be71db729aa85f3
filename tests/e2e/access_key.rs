//! End to end: the real Terraform CLI drives the built provider against the IAM
//! emulator. Each test checks what a user would see, and checks IAM itself (not
//! only the state) for what exists.

use crate::support::*;

#[test]
fn lifecycle_apply_plan_drift_import_destroy() {
    let user = unique_user("life");
    create_user(&user);
    let ws = Workspace::new(&key_config(&user, ""));

    // Apply creates exactly one key; the secret is never printed.
    let applied = ws.apply().assert_success();
    let keys = keys_of(&user);
    assert_eq!(keys.len(), 1, "{keys:?}");
    let (id, status) = &keys[0];
    assert_eq!(status, "Active");
    let state = ws.resource("iamkey_access_key.k");
    let secret = state["values"]["secret"].as_str().expect("secret in state").to_string();
    assert_eq!(secret.len(), 40);
    assert_eq!(state["values"]["id"], id.as_str());
    assert!(state["values"]["create_date"].as_str().unwrap().ends_with('Z'));
    assert!(state["values"]["ses_smtp_password_v4"].as_str().unwrap().starts_with('B'));
    assert_eq!(state["sensitive_values"]["secret"], true);
    assert_eq!(state["sensitive_values"]["ses_smtp_password_v4"], true);
    assert!(!applied.all().contains(&secret), "the secret was printed");

    // The next plan is empty.
    assert_eq!(ws.plan().code, 0, "{}", ws.plan().all());

    // Status changes in place, with no "(known after apply)" noise.
    ws.write(&key_config(&user, "  status = \"Inactive\"\n"));
    ws.tf(&["plan", "-out=tfplan", "-input=false"]).assert_success();
    let plan_json: serde_json::Value = serde_json::from_str(&ws.tf(&["show", "-json", "tfplan"]).assert_success().stdout).unwrap();
    let change = &plan_json["resource_changes"][0]["change"];
    assert_eq!(change["actions"], serde_json::json!(["update"]));
    assert_eq!(change["after_sensitive"]["secret"], true, "secret is sensitive in the plan");
    assert_eq!(change["after_sensitive"]["ses_smtp_password_v4"], true);
    let plan = ws.plan();
    assert_eq!(plan.code, 2);
    assert!(plan.stdout.contains("~ status") && plan.stdout.contains("update in-place"), "{}", plan.stdout);
    assert!(!plan.stdout.contains("known after apply"), "{}", plan.stdout);
    ws.apply().assert_success();
    assert_eq!(keys_of(&user), vec![(id.clone(), "Inactive".to_string())]);
    assert_eq!(ws.plan().code, 0);

    // A status changed outside Terraform shows as an in-place update.
    block_on(Emulator::get().iam().update_access_key().user_name(&user).access_key_id(id).status("Active".into()).send()).unwrap();
    let plan = ws.plan();
    assert_eq!(plan.code, 2, "{}", plan.all());
    assert!(plan.stdout.contains("\"Active\" -> \"Inactive\""), "{}", plan.stdout);
    ws.apply().assert_success();
    assert_eq!(keys_of(&user)[0].1, "Inactive");

    // Import, by key ID and by USER/ID: the plan after it is empty (secrets null).
    for import_id in [id.clone(), format!("{user}/{id}")] {
        ws.tf(&["state", "rm", "iamkey_access_key.k"]).assert_success();
        ws.tf(&["import", "iamkey_access_key.k", &import_id]).assert_success();
        let imported = ws.resource("iamkey_access_key.k");
        assert_eq!(imported["values"]["user"], user.as_str());
        assert_eq!(imported["values"]["status"], "Inactive");
        assert!(imported["values"]["secret"].is_null());
        let plan = ws.plan();
        assert_eq!(plan.code, 0, "after importing {import_id}: {}", plan.all());
    }

    // A key deleted outside Terraform is planned for creation, without error.
    block_on(Emulator::get().iam().delete_access_key().user_name(&user).access_key_id(id).send()).unwrap();
    let plan = ws.plan();
    assert_eq!(plan.code, 2, "{}", plan.all());
    assert!(plan.stdout.contains("will be created"), "{}", plan.stdout);
    ws.apply().assert_success();
    assert_eq!(keys_of(&user).len(), 1);

    // Destroy leaves no key in IAM.
    ws.tf(&["destroy", "-auto-approve", "-input=false"]).assert_success();
    assert!(keys_of(&user).is_empty());
}

#[test]
fn created_inactive_then_activated_and_user_change_replaces() {
    let user = unique_user("inactive");
    let other = unique_user("other");
    create_user(&user);
    create_user(&other);
    let ws = Workspace::new(&key_config(&user, "  status = \"Inactive\"\n"));
    ws.apply().assert_success();
    let keys = keys_of(&user);
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0].1, "Inactive");
    assert_eq!(ws.plan().code, 0);

    ws.write(&key_config(&user, "  status = \"Active\"\n"));
    ws.apply().assert_success();
    assert_eq!(keys_of(&user)[0].1, "Active");

    ws.write(&key_config(&other, ""));
    let plan = ws.plan();
    assert!(plan.stdout.contains("forces replacement"), "{}", plan.stdout);
    ws.apply().assert_success();
    assert!(keys_of(&user).is_empty(), "the old key is deleted");
    assert_eq!(keys_of(&other).len(), 1);
    ws.tf(&["destroy", "-auto-approve"]).assert_success();
    assert!(keys_of(&other).is_empty());
}

#[test]
fn invalid_input_is_rejected_before_any_aws_call() {
    // Endpoints on a closed port: any AWS call would fail with a connection error,
    // so seeing only the validation error proves none was made.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let provider = provider_block_with(&format!("http://127.0.0.1:{dead}"), "  skip_credentials_validation = true\n");
    let cases = [
        ("user = \"bad name!\"", "user", "may contain only ASCII"),
        ("user = \"élodie\"", "user", "may contain only ASCII"),
        (&*format!("user = \"{}\"", "a".repeat(65)), "user", "1 to 64 characters"),
        ("user = \"\"", "user", "1 to 64 characters"),
        ("user = \"ok\"\n  status = \"active\"", "status", "case matters"),
        ("user = \"ok\"\n  pgp_key = \"keybase:someone\"", "pgp_key", "keybase: keys are not supported"),
    ];
    let ws = Workspace::new(&format!("{provider}resource \"iamkey_access_key\" \"k\" {{\n  user = \"ok\"\n}}\n"));
    for (body, attribute, message) in cases {
        ws.write(&format!("{provider}resource \"iamkey_access_key\" \"k\" {{\n  {body}\n}}\n"));
        let run = ws.plan();
        assert_eq!(run.code, 1, "{body}: {}", run.all());
        assert!(run.stderr.contains(message), "{body}: {}", run.stderr);
        // With an attribute path, Terraform quotes the attribute's own source line.
        assert!(run.stderr.contains(&format!("{attribute} = ")), "{body}: no attribute context in {}", run.stderr);
        assert!(!run.stderr.contains("connect"), "an AWS call was attempted: {}", run.stderr);
    }
}

#[test]
fn module_with_for_each_over_users_and_sensitive_outputs() {
    let users = [unique_user("mod-a"), unique_user("mod-b")];
    for u in &users {
        create_user(u);
    }
    let ws = Workspace::new("");
    std::fs::create_dir(ws.path().join("keys")).unwrap();
    std::fs::write(
        ws.path().join("keys/main.tf"),
        format!(
            "{REQUIRED_PROVIDERS}variable \"users\" {{ type = set(string) }}\n\
             resource \"iamkey_access_key\" \"this\" {{\n  for_each = var.users\n  user = each.value\n}}\n\
             output \"ids\" {{ value = {{ for u, k in iamkey_access_key.this : u => k.id }} }}\n\
             output \"secrets\" {{\n  value = {{ for u, k in iamkey_access_key.this : u => k.secret }}\n  sensitive = true\n}}\n"
        ),
    )
    .unwrap();
    ws.write(&format!(
        "{}module \"keys\" {{\n  source = \"./keys\"\n  users = [\"{}\", \"{}\"]\n}}\n\
         output \"ids\" {{ value = module.keys.ids }}\n\
         output \"secrets\" {{\n  value = module.keys.secrets\n  sensitive = true\n}}\n",
        provider_block(),
        users[0],
        users[1]
    ));
    ws.tf(&["init", "-input=false"]).assert_success();
    let run = ws.apply().assert_success();
    assert!(run.stdout.contains("secrets = <sensitive>"), "{}", run.stdout);
    for u in &users {
        assert_eq!(keys_of(u).len(), 1);
    }
    let outputs: serde_json::Value = serde_json::from_str(&ws.tf(&["output", "-json"]).assert_success().stdout).unwrap();
    assert_eq!(outputs["secrets"]["sensitive"], true);
    assert_eq!(outputs["ids"]["value"].as_object().unwrap().len(), 2);
    assert_eq!(ws.plan().code, 0);
    ws.tf(&["destroy", "-auto-approve"]).assert_success();
    for u in &users {
        assert!(keys_of(u).is_empty());
    }
}

#[test]
fn destroy_of_a_key_already_deleted_succeeds() {
    let user = unique_user("gone");
    create_user(&user);
    let ws = Workspace::new(&key_config(&user, ""));
    ws.apply().assert_success();
    let (id, _) = keys_of(&user).remove(0);
    block_on(Emulator::get().iam().delete_access_key().user_name(&user).access_key_id(&id).send()).unwrap();
    ws.tf(&["destroy", "-auto-approve", "-refresh=false"]).assert_success();
    assert!(ws.tf(&["state", "list"]).stdout.trim().is_empty());
}

#[test]
fn key_for_the_calling_identity_when_user_is_omitted() {
    let user = unique_user("self");
    create_user(&user);
    let own = block_on(Emulator::get().iam().create_access_key().user_name(&user).send()).unwrap();
    let own = own.access_key().unwrap();
    let endpoint = Emulator::get().endpoint();
    let credentials = format!("  access_key = \"{}\"\n  secret_key = \"{}\"\n", own.access_key_id(), own.secret_access_key());
    let ws = Workspace::new(&format!("{}resource \"iamkey_access_key\" \"k\" {{}}\n", provider_block_with(&endpoint, &credentials)));
    let plan = ws.plan();
    let names_user = |l: &str| l.trim_start().starts_with("+ user ") && l.ends_with(&format!("= \"{user}\""));
    assert!(plan.stdout.lines().any(names_user), "the plan names the caller's user:\n{}", plan.stdout);
    ws.apply().assert_success();
    assert_eq!(ws.resource("iamkey_access_key.k")["values"]["user"], user.as_str());
    assert_eq!(keys_of(&user).len(), 2);
    assert_eq!(ws.plan().code, 0);
    ws.tf(&["destroy", "-auto-approve"]).assert_success();
    assert_eq!(keys_of(&user).len(), 1, "only the caller's own key is left");
}

#[test]
fn validate_and_providers_schema_work_with_the_built_binary() {
    let ws = Workspace::new(&key_config("someone", ""));
    ws.tf(&["validate"]).assert_success();
    let schema: serde_json::Value = serde_json::from_str(&ws.tf(&["providers", "schema", "-json"]).assert_success().stdout).unwrap();
    let provider = &schema["provider_schemas"]["registry.terraform.io/iamkey/iamkey"];
    let resource = &provider["resource_schemas"]["iamkey_access_key"]["block"]["attributes"];
    for name in [
        "user",
        "status",
        "pgp_key",
        "id",
        "secret",
        "ses_smtp_password_v4",
        "encrypted_secret",
        "encrypted_ses_smtp_password_v4",
        "key_fingerprint",
        "create_date",
    ] {
        let attr = &resource[name];
        assert!(attr["description"].as_str().is_some_and(|d| !d.is_empty()), "{name} has no description");
    }
    assert_eq!(resource["secret"]["sensitive"], true);
    for (name, attr) in provider["provider"]["block"]["attributes"].as_object().unwrap() {
        assert!(attr["description"].as_str().is_some_and(|d| !d.is_empty()), "provider.{name} has no description");
    }
    // Terraform 1.14+ lists the actions with their schemas.
    let actions = &provider["action_schemas"];
    assert_eq!(actions["iamkey_deactivate_keys"]["block"]["attributes"]["unused_for_days"]["type"], "number", "{actions}");
    assert_eq!(actions["iamkey_quarantine_key"]["block"]["attributes"]["access_key_id"]["required"], true, "{actions}");
}

#[test]
fn pgp_key_round_trip_decrypts_with_the_private_key() {
    use base64::Engine;
    let key = GpgKey::generate("iamkey-test <test@example.com>", "default");
    let home = &key.home;
    let armored = key.armored.clone();
    let binary_b64 = base64::engine::general_purpose::STANDARD.encode(key.gpg(&["--export", &key.fingerprint], None));
    let user = unique_user("pgp");
    create_user(&user);
    for (form, key) in [("armored", armored.clone()), ("base64 binary", binary_b64)] {
        std::fs::write(home.path().join("key.txt"), &key).unwrap();
        let ws = Workspace::new(&key_config(&user, &format!("  pgp_key = file(\"{}\")\n", home.path().join("key.txt").display())));
        ws.apply().assert_success();
        let values = ws.resource("iamkey_access_key.k")["values"].clone();
        assert!(values["secret"].is_null() && values["ses_smtp_password_v4"].is_null(), "{form}: clear secrets stay null");
        let fingerprint = values["key_fingerprint"].as_str().unwrap();
        assert_eq!(fingerprint.len(), 40, "{form}");
        assert!(fingerprint.chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
        let decrypt = |field: &str| {
            let message = base64::engine::general_purpose::STANDARD.decode(values[field].as_str().unwrap()).unwrap();
            String::from_utf8(gpg(home.path(), &["--decrypt"], Some(&message))).unwrap()
        };
        let secret = decrypt("encrypted_secret");
        assert_eq!(secret.len(), 40, "{form}: a secret access key");
        let password = decrypt("encrypted_ses_smtp_password_v4");
        let expected = iamkey::crypto::ses::ses_smtp_password_v4(&iamkey::secret::Secret::new(secret), REGION);
        assert_eq!(password, expected.expose(), "{form}: the SES password belongs to the secret");
        assert_eq!(ws.plan().code, 0, "{form}");
        ws.tf(&["destroy", "-auto-approve"]).assert_success();
    }
    assert!(keys_of(&user).is_empty());

    // Importing a key whose configuration sets pgp_key keeps the key: its secret was
    // never known here, so there is nothing to encrypt, and the plan says so.
    let made = block_on(Emulator::get().iam().create_access_key().user_name(&user).send()).unwrap();
    let id = made.access_key().unwrap().access_key_id().to_string();
    std::fs::write(home.path().join("key.txt"), &armored).unwrap();
    let import = format!("import {{\n  to = iamkey_access_key.k\n  id = \"{user}/{id}\"\n}}\n");
    let ws = Workspace::new(&format!("{}{import}", key_config(&user, &format!("  pgp_key = file(\"{}\")\n", home.path().join("key.txt").display()))));
    let plan = ws.plan();
    assert!(!plan.stdout.contains("must be replaced") && plan.stdout.contains("1 to import, 0 to add, 1 to change, 0 to destroy"), "{}", plan.all());
    assert!(plan.all().contains("No secret to deliver for this key"), "{}", plan.all());
    ws.apply().assert_success();
    assert_eq!(keys_of(&user), vec![(id.clone(), "Active".to_string())], "the imported key stays, unchanged");
    let values = ws.resource("iamkey_access_key.k")["values"].clone();
    assert!(values["pgp_key"].is_string() && values["encrypted_secret"].is_null(), "{values}");
    assert_eq!(ws.plan().code, 0);
}

#[test]
fn debug_mode_serves_terraform_through_tf_reattach_providers() {
    use std::io::BufRead;
    // In debug mode the provider has its own environment, not Terraform's: only
    // dummy credentials and the loopback emulator.
    let mut server = std::process::Command::new(env!("CARGO_BIN_EXE_terraform-provider-iamkey"))
        .arg("--debug")
        .env_clear()
        .env("AWS_ACCESS_KEY_ID", DUMMY_KEY_ID)
        .env("AWS_SECRET_ACCESS_KEY", DUMMY_SECRET)
        .env("AWS_REGION", REGION)
        .env("AWS_ENDPOINT_URL", Emulator::get().endpoint())
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut reattach = None;
    for line in std::io::BufReader::new(server.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        if let Some(value) = line.trim().strip_prefix("TF_REATTACH_PROVIDERS='") {
            reattach = Some(value.trim_end_matches('\'').to_string());
            break;
        }
    }
    let reattach = reattach.expect("--debug prints TF_REATTACH_PROVIDERS");
    let json: serde_json::Value = serde_json::from_str(&reattach).unwrap();
    assert_eq!(json["registry.terraform.io/iamkey/iamkey"]["Test"], true);
    let user = unique_user("debug");
    create_user(&user);
    let ws = Workspace::configured(&key_config(&user, ""), |ws| ws.with_env("TF_REATTACH_PROVIDERS", &reattach));
    // Two runs against the same process: it outlives each Terraform run.
    ws.apply().assert_success();
    assert_eq!(keys_of(&user).len(), 1);
    ws.tf(&["destroy", "-auto-approve"]).assert_success();
    assert!(keys_of(&user).is_empty());
    assert!(server.try_wait().unwrap().is_none(), "the debug server keeps serving");
    unsafe {
        libc::kill(server.id() as i32, libc::SIGINT);
    }
    assert!(server.wait().unwrap().success(), "Ctrl-C stops the debug server");
}

#[test]
fn an_assumed_role_caller_with_user_omitted_is_refused_at_plan_and_creates_nothing() {
    let role = unique_user("deploy-role");
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}]}"#;
    block_on(Emulator::get().iam().create_role().role_name(&role).assume_role_policy_document(trust).send()).expect("CreateRole");
    let sts = aws_sdk_sts::Client::from_conf(
        aws_sdk_sts::Config::builder()
            .behavior_version(aws_sdk_sts::config::BehaviorVersion::latest())
            .region(aws_sdk_sts::config::Region::new(REGION))
            .endpoint_url(Emulator::get().endpoint())
            .credentials_provider(aws_sdk_sts::config::Credentials::new(DUMMY_KEY_ID, DUMMY_SECRET, None, None, "test"))
            .build(),
    );
    let arn = format!("arn:aws:iam::123456789012:role/{role}");
    let assumed = block_on(sts.assume_role().role_arn(&arn).role_session_name("ci").send()).expect("AssumeRole");
    let session = assumed.credentials().unwrap();
    let proxy = crate::support::proxy::FaultProxy::start(&Emulator::get().endpoint());
    let credentials = format!(
        "  access_key = \"{}\"\n  secret_key = \"{}\"\n  token = \"{}\"\n",
        session.access_key_id(),
        session.secret_access_key(),
        session.session_token()
    );
    let ws = Workspace::new(&format!("{}resource \"iamkey_access_key\" \"k\" {{}}\n", provider_block_with(&proxy.endpoint(), &credentials)));
    let refused = ws.apply();
    assert_eq!(refused.code, 1, "{}", refused.all());
    assert!(refused.stderr.contains("The caller is not an IAM user") && refused.stderr.contains("assumed-role"), "{}", refused.stderr);
    assert_eq!(proxy.calls("CreateAccessKey"), 0);
    assert!(ws.tf(&["state", "list"]).stdout.trim().is_empty());
}

#[test]
fn a_plan_for_a_user_iam_does_not_have_warns_instead_of_waiting_silently() {
    let missing = unique_user("not-created-yet");
    let ws = Workspace::new(&key_config(&missing, ""));
    let plan = ws.plan();
    assert_eq!(plan.code, 2, "the plan itself succeeds: the user may be created by the same apply\n{}", plan.all());
    let shown = plan.all();
    assert!(shown.contains("Warning: IAM has no such user yet") && shown.contains(&missing) && shown.contains("120 s"), "{shown}");
}

#[test]
fn a_deactivation_outside_terraform_survives_apply_unless_status_is_configured() {
    let user = unique_user("incident");
    create_user(&user);
    let ws = Workspace::new(&key_config(&user, ""));
    ws.apply().assert_success();
    let id = keys_of(&user)[0].0.clone();
    let deactivate = || block_on(Emulator::get().iam().update_access_key().user_name(&user).access_key_id(&id).status("Inactive".into()).send()).unwrap();

    // A responder deactivates the key; the pipeline's next apply never mentions status.
    deactivate();
    let plan = ws.plan();
    assert_eq!(plan.code, 0, "no change planned: {}", plan.all());
    ws.apply().assert_success();
    assert_eq!(keys_of(&user), [(id.clone(), "Inactive".to_string())], "still Inactive after apply");
    assert_eq!(ws.resource("iamkey_access_key.k")["values"]["status"], "Inactive", "state follows IAM");

    // An explicit status = "Active" turns it back on, and the plan says so.
    ws.write(&key_config(&user, "  status = \"Active\"\n"));
    let plan = ws.plan();
    assert_eq!(plan.code, 2, "{}", plan.all());
    assert!(plan.stdout.contains("\"Inactive\" -> \"Active\""), "{}", plan.stdout);
    let shown = plan.all().split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(shown.contains("Inactive key turned back on") && shown.contains(&format!("access key {id} of user {user}")), "{shown}");
    ws.apply().assert_success();
    assert_eq!(keys_of(&user)[0].1, "Active");

    // Import of an Inactive key, with status unset, plans nothing.
    deactivate();
    ws.write(&key_config(&user, ""));
    ws.tf(&["state", "rm", "iamkey_access_key.k"]).assert_success();
    ws.tf(&["import", "iamkey_access_key.k", &format!("{user}/{id}")]).assert_success();
    let plan = ws.plan();
    assert_eq!(plan.code, 0, "import plans no change: {}", plan.all());
    assert_eq!(keys_of(&user)[0].1, "Inactive");
    ws.tf(&["destroy", "-auto-approve"]).assert_success();
}
