//! End to end, past parity II: the secret's lifecycle. SES passwords per region
//! and as a provider function, rotation, moving state from aws_iam_access_key,
//! waiting until a new key works.

use crate::support::*;

fn outputs(ws: &Workspace) -> serde_json::Value {
    serde_json::from_str(&ws.tf(&["output", "-json"]).assert_success().stdout).unwrap()
}

#[test]
fn ses_passwords_for_several_regions_and_the_provider_function_match_the_reference_vectors() {
    let user = unique_user("ses");
    create_user(&user);
    let outputs_hcl = "output \"vector\" {\n  value = provider::iamkey::ses_smtp_password_v4(\"some+secret+key\", \"us-west-1\")\n}\n\
                       output \"by_function\" {\n  value     = provider::iamkey::ses_smtp_password_v4(iamkey_access_key.k.secret, \"eu-west-1\")\n  sensitive = true\n}\n\
                       output \"by_resource\" {\n  value     = iamkey_access_key.k.ses_smtp_passwords_v4\n  sensitive = true\n}\n";
    let regions = |list: &str| format!("  ses_smtp_regions = [{list}]\n");
    let ws = Workspace::new(&format!("{}{outputs_hcl}", key_config(&user, &regions("\"eu-west-1\""))));
    let applied = ws.apply().assert_success();
    let out = outputs(&ws);
    assert_eq!(out["vector"]["value"], "BH+jbMzper5WwlwUar9E1ySBqHa9whi0GPo+sJ0mVYJj", "the reference provider's vector");
    assert_eq!(out["by_function"]["sensitive"], true, "a password derived from a sensitive secret stays sensitive");
    assert_eq!(out["by_resource"]["value"]["eu-west-1"], out["by_function"]["value"]);
    let state = ws.resource("iamkey_access_key.k");
    assert_eq!(state["sensitive_values"]["ses_smtp_passwords_v4"], true);
    let password = out["by_function"]["value"].as_str().unwrap();
    assert!(!applied.all().contains(password), "a password was printed");

    // Another region is added in place: same key, one more password, no unknowns.
    ws.write(&format!("{}{outputs_hcl}", key_config(&user, &regions("\"eu-west-1\", \"us-west-2\""))));
    let plan = ws.plan();
    assert_eq!(plan.code, 2);
    assert!(plan.stdout.contains("update in-place") && !plan.stdout.contains("known after apply"), "{}", plan.stdout);
    ws.apply().assert_success();
    let out = outputs(&ws);
    assert_eq!(out["by_resource"]["value"].as_object().unwrap().len(), 2);
    assert_eq!(out["by_resource"]["value"]["eu-west-1"], password);
    assert_eq!(keys_of(&user).len(), 1);
    assert_eq!(ws.plan().code, 0);

    // A region name that is not one is refused before any AWS call, naming it.
    ws.write(&key_config(&user, &regions("\"eu_west_1\"")));
    let refused = ws.refused_plan();
    assert!(refused.contains("ses_smtp_regions") && refused.contains("not an AWS region name"), "{refused}");
    ws.write(&format!("{}output \"x\" {{\n  value = provider::iamkey::ses_smtp_password_v4(\"k\", \"nowhere\")\n}}\n", key_config(&user, "")));
    let refused = ws.refused_plan();
    assert!(refused.contains("\"nowhere\" is not an AWS region name"), "{refused}");
    assert!(!refused.contains(".."), "Terraform adds the final period, the provider does not: {refused}");
}

#[test]
fn rotation_by_age_and_by_keepers_replaces_the_key_before_deleting_it() {
    let user = unique_user("rotate");
    create_user(&user);
    let rotating = |keepers: &str| {
        key_config(&user, &format!("  rotation {{\n    after_days = 30\n    keepers    = {{ owner = \"{keepers}\" }}\n  }}\n  lifecycle {{\n    create_before_destroy = true\n  }}\n"))
    };
    let ws = Workspace::new(&rotating("a"));
    ws.apply().assert_success();
    let first = keys_of(&user)[0].0.clone();
    assert_eq!(ws.plan().code, 0, "a new key is not due");

    // 29 days on: not due. 30 days on: replaced, the new key created first.
    assert_eq!(ws.tf_env(&["plan", "-detailed-exitcode"], &[("IAMKEY_TEST_DAYS_AHEAD", "29")]).code, 0);
    let aged = [("IAMKEY_TEST_DAYS_AHEAD", "30")];
    let plan = ws.tf_env(&["plan", "-detailed-exitcode"], &aged);
    assert_eq!(plan.code, 2, "{}", plan.all());
    assert!(plan.stdout.contains("create replacement and then destroy") && plan.stdout.contains("# forces replacement"), "{}", plan.stdout);
    ws.tf_env(&["apply", "-auto-approve"], &aged).assert_success();
    let keys = keys_of(&user);
    assert_eq!(keys.len(), 1, "the old key is gone: {keys:?}");
    let second = keys[0].0.clone();
    assert_ne!(second, first);
    assert_eq!(ws.state_key_ids(), std::slice::from_ref(&second));
    assert_eq!(ws.plan().code, 0, "the new key is not due");

    // A change of keepers replaces the key too.
    ws.write(&rotating("b"));
    let plan = ws.plan();
    assert_eq!(plan.code, 2);
    assert!(plan.stdout.contains("create replacement and then destroy"), "{}", plan.stdout);
    ws.apply().assert_success();
    let third = keys_of(&user)[0].0.clone();
    assert!(third != second && keys_of(&user).len() == 1);

    // With another key held by the user, rotation would need a third: stopped
    // before anything is created, and nothing is lost.
    let (outside, _) = {
        let out = block_on(Emulator::get().iam().create_access_key().user_name(&user).send()).unwrap();
        (out.access_key().unwrap().access_key_id().to_string(), ())
    };
    let run = ws.tf_env(&["apply", "-auto-approve"], &aged);
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(run.stderr.contains(&outside), "the error lists the user's keys: {}", run.stderr);
    let mut in_iam: Vec<String> = keys_of(&user).into_iter().map(|(id, _)| id).collect();
    in_iam.sort();
    let mut expected = vec![outside.clone(), third.clone()];
    expected.sort();
    assert_eq!(in_iam, expected);
    assert_eq!(ws.state_key_ids(), [third]);
}

#[test]
fn a_moved_block_adopts_a_key_from_aws_iam_access_key_state_without_creating_one() {
    let user = unique_user("moved");
    create_user(&user);
    let created = block_on(Emulator::get().iam().create_access_key().user_name(&user).send()).unwrap();
    let key = created.access_key().unwrap();
    let (id, secret) = (key.access_key_id().to_string(), key.secret_access_key().to_string());

    // A state file as hashicorp/aws writes it for aws_iam_access_key (schema version 0).
    let aws_state = serde_json::json!({
        "version": 4, "terraform_version": "1.15.5", "serial": 3, "lineage": "5b0f4e4c-0000-4000-8000-000000000001", "outputs": {},
        "resources": [{
            "mode": "managed", "type": "aws_iam_access_key", "name": "ci",
            "provider": "provider[\"registry.terraform.io/hashicorp/aws\"]",
            "instances": [{
                "schema_version": 0,
                "attributes": {
                    "create_date": "2026-01-02T03:04:05Z", "encrypted_secret": null, "encrypted_ses_smtp_password_v4": null,
                    "id": id, "key_fingerprint": null, "pgp_key": null, "secret": secret,
                    "ses_smtp_password_v4": "BExampleExampleExampleExampleExampleExample1", "status": "Active", "user": user
                },
                "sensitive_attributes": [[{"type": "get_attr", "value": "secret"}], [{"type": "get_attr", "value": "ses_smtp_password_v4"}]],
                "private": "bnVsbA=="
            }]
        }],
        "check_results": null
    });

    // hashicorp/aws is named by the state; a stand-in from a local mirror satisfies
    // `terraform init` offline (the move itself never starts it).
    let mirror = tempfile::tempdir().unwrap();
    let platform = format!("{}_{}", std::env::consts::OS, if cfg!(target_arch = "x86_64") { "amd64" } else { "arm64" });
    for (address, file) in [("iamkey/iamkey/0.1.0", "terraform-provider-iamkey_v0.1.0"), ("hashicorp/aws/6.0.0", "terraform-provider-aws_v6.0.0")] {
        let dir = mirror.path().join(format!("registry.terraform.io/{address}/{platform}"));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::copy(env!("CARGO_BIN_EXE_terraform-provider-iamkey"), dir.join(file)).unwrap();
    }
    let cli_config = mirror.path().join("terraform.rc");
    write_cli_config(&cli_config, mirror.path(), false);
    let config = format!(
        "{}resource \"iamkey_access_key\" \"ci\" {{\n  user = \"{user}\"\n}}\nmoved {{\n  from = aws_iam_access_key.ci\n  to   = iamkey_access_key.ci\n}}\n",
        provider_block()
    );
    let ws = Workspace::configured(&config, |ws| {
        std::fs::write(ws.path().join("terraform.tfstate"), aws_state.to_string()).unwrap();
        ws.with_env("TF_CLI_CONFIG_FILE", cli_config.to_str().unwrap())
    });
    let plan = ws.plan();
    assert!(plan.stdout.contains("has moved to iamkey_access_key.ci"), "{}", plan.all());
    assert!(plan.stdout.contains("0 to add, 0 to change, 0 to destroy"), "{}", plan.stdout);
    ws.apply().assert_success();
    let state = ws.resource("iamkey_access_key.ci");
    assert_eq!(state["values"]["id"], id.as_str());
    assert_eq!(state["values"]["secret"], secret.as_str(), "the secret moves with the key");
    assert_ne!(state["values"]["create_date"], "2026-01-02T03:04:05Z", "then read from IAM like any key");
    assert_eq!(keys_of(&user), vec![(id, "Active".to_string())], "no key was created or deleted");
    assert_eq!(ws.plan().code, 0);
}

#[test]
fn wait_until_usable_returns_only_once_the_new_key_authenticates() {
    use crate::support::proxy::{Fault, FaultProxy};
    let proxy = FaultProxy::start(&Emulator::get().endpoint());
    let user = unique_user("usable");
    create_user(&user);
    // No credential check at configure time: every GetCallerIdentity is a probe.
    let provider = provider_block_with(&proxy.endpoint(), "  skip_credentials_validation = true\n");
    let config = format!("{provider}resource \"iamkey_access_key\" \"k\" {{\n  user              = \"{user}\"\n  wait_until_usable = true\n}}\n");
    let ws = Workspace::new(&config);
    // As a key that IAM has not propagated yet: refused twice, then accepted.
    proxy.arm("GetCallerIdentity", 2, Fault::Error { status: 403, code: "InvalidClientTokenId" });
    ws.apply().assert_success();
    assert_eq!(proxy.calls("GetCallerIdentity"), 3, "apply returned only after the key authenticated");
    assert_eq!(keys_of(&user).len(), 1);
    assert_eq!(ws.plan().code, 0);
    assert_eq!(proxy.calls("GetCallerIdentity"), 3, "only a new key is tested");

    // An Inactive key can never pass: refused at plan time.
    ws.write(&config.replace("wait_until_usable = true", "wait_until_usable = true\n  status            = \"Inactive\""));
    let refused = ws.refused_plan();
    assert!(refused.contains("An Inactive key never becomes usable"), "{refused}");
}

#[test]
fn the_ephemeral_key_reaches_its_consumer_and_no_key_is_left_after_the_run() {
    let user = unique_user("short-lived");
    create_user(&user);
    // A key an earlier run left behind (it crashed before Close), expired: swept.
    let leftover = block_on(Emulator::get().iam().create_access_key().user_name(&user).send()).unwrap().access_key().unwrap().access_key_id().to_string();
    let tag = aws_sdk_iam::types::Tag::builder().key(&leftover).value("iamkey-ephemeral expires=2020-01-01T00:00:00Z").build().unwrap();
    block_on(Emulator::get().iam().tag_user().user_name(&user).tags(tag).send()).unwrap();

    let consumer = provider_block_with(
        &Emulator::get().endpoint(),
        "  alias      = \"temp\"\n  access_key = ephemeral.iamkey_access_key.temp.id\n  secret_key = ephemeral.iamkey_access_key.temp.secret\n",
    );
    let config = format!(
        "{}ephemeral \"iamkey_access_key\" \"temp\" {{\n  user = \"{user}\"\n}}\n{consumer}\
         data \"iamkey_access_keys\" \"seen_by_temp\" {{\n  provider = iamkey.temp\n}}\n\
         output \"caller\" {{\n  value = data.iamkey_access_keys.seen_by_temp.user\n}}\n\
         output \"keys_during_the_run\" {{\n  value = data.iamkey_access_keys.seen_by_temp.access_keys[*].access_key_id\n}}\n",
        provider_block()
    );
    let ws = Workspace::new(&config);
    ws.apply().assert_success();
    let out = outputs(&ws);
    assert_eq!(out["caller"]["value"], user.as_str(), "the consumer signed its calls with the ephemeral key");
    let during = out["keys_during_the_run"]["value"].as_array().unwrap();
    assert_eq!(during.len(), 1, "the leftover was swept before the new key was made: {during:?}");
    assert_ne!(during[0], leftover.as_str());
    assert!(keys_of(&user).is_empty(), "Close deleted the key: {:?}", keys_of(&user));
    let tags = block_on(Emulator::get().iam().list_user_tags().user_name(&user).send()).unwrap();
    assert!(tags.tags().is_empty(), "markers go with their keys");
    let state = std::fs::read_to_string(ws.path().join("terraform.tfstate")).unwrap();
    assert!(!state.contains("ephemeral") && !state.contains("\"secret\""), "nothing ephemeral in state:\n{state}");

    // A user who already holds 2 keys gets a clear refusal, and no key.
    for _ in 0..2 {
        block_on(Emulator::get().iam().create_access_key().user_name(&user).send()).unwrap();
    }
    let refused = ws.refused_plan();
    assert!(refused.contains("No room for an ephemeral key") && refused.contains("never used"), "{refused}");
    assert_eq!(keys_of(&user).len(), 2);
}

/// The state as Terraform shows it and as it stores it, in one string.
fn everything_terraform_keeps(ws: &Workspace) -> String {
    format!("{}{}", ws.tf(&["show", "-json"]).assert_success().stdout, std::fs::read_to_string(ws.path().join("terraform.tfstate")).unwrap())
}

#[test]
fn secret_destination_keeps_the_secret_out_of_state_and_rotation_updates_it() {
    let user = unique_user("dest");
    create_user(&user);
    let secret_id = format!("ci/{user}");
    let destined = |keepers: &str| {
        key_config(
            &user,
            &format!(
                "  ses_smtp_regions = [\"eu-west-1\"]\n  secret_destination {{\n    secretsmanager_secret_id = \"{secret_id}\"\n  }}\n  rotation {{\n    keepers = {{ v = \"{keepers}\" }}\n  }}\n  lifecycle {{\n    create_before_destroy = true\n  }}\n"
            ),
        )
    };
    let ws = Workspace::new(&destined("1"));
    let plan = ws.plan();
    assert!(plan.stdout.contains("secret_destination_version") && !plan.stdout.contains("+ secret "), "{}", plan.stdout);
    ws.apply().assert_success();
    let stored = block_on(secrets_manager().get_secret_value().secret_id(&secret_id).send()).expect("the secret was written");
    let doc: serde_json::Value = serde_json::from_str(stored.secret_string().unwrap()).unwrap();
    let state = ws.resource("iamkey_access_key.k");
    assert_eq!(doc["access_key_id"], state["values"]["id"]);
    let secret = doc["secret_access_key"].as_str().unwrap().to_string();
    assert_eq!(secret.len(), 40);
    assert!(doc["ses_smtp_password_v4"].as_str().unwrap().starts_with('B') && doc["ses_smtp_passwords_v4"]["eu-west-1"].is_string());
    assert!(state["values"]["secret"].is_null() && state["values"]["ses_smtp_passwords_v4"].is_null());
    assert_eq!(state["values"]["secret_destination_version"], stored.version_id().unwrap());
    let kept = everything_terraform_keeps(&ws);
    assert!(!kept.contains(&secret), "the secret reached Terraform's state");
    assert_eq!(ws.plan().code, 0);

    // Rotation writes the new key's secret as a new version, then the old key goes.
    ws.write(&destined("2"));
    ws.apply().assert_success();
    let rotated = block_on(secrets_manager().get_secret_value().secret_id(&secret_id).send()).unwrap();
    let doc: serde_json::Value = serde_json::from_str(rotated.secret_string().unwrap()).unwrap();
    let keys = keys_of(&user);
    assert_eq!(keys.len(), 1);
    assert_eq!(doc["access_key_id"], keys[0].0.as_str(), "the destination holds the live key");
    assert_ne!(rotated.version_id(), stored.version_id());
    assert!(!everything_terraform_keeps(&ws).contains(doc["secret_access_key"].as_str().unwrap()));

    // SSM Parameter Store, as a SecureString; changing the destination replaces the key.
    let parameter = format!("/ci/{user}/key");
    ws.write(&key_config(&user, &format!("  secret_destination {{\n    ssm_parameter_name = \"{parameter}\"\n  }}\n")));
    let plan = ws.plan();
    assert!(plan.stdout.contains("must be replaced"), "{}", plan.stdout);
    ws.apply().assert_success();
    let got = block_on(ssm().get_parameter().name(&parameter).with_decryption(true).send()).expect("the parameter was written");
    let parameter_value = got.parameter().unwrap();
    assert_eq!(parameter_value.r#type(), Some(&aws_sdk_ssm::types::ParameterType::SecureString));
    let doc: serde_json::Value = serde_json::from_str(parameter_value.value().unwrap()).unwrap();
    assert_eq!(doc["access_key_id"], keys_of(&user)[0].0.as_str());
    assert!(!everything_terraform_keeps(&ws).contains(doc["secret_access_key"].as_str().unwrap()));
    assert_eq!(ws.resource("iamkey_access_key.k")["values"]["secret_destination_version"], parameter_value.version().to_string());

    // Both stores, or a destination with pgp_key: refused at plan time.
    ws.write(&key_config(&user, &format!("  secret_destination {{\n    ssm_parameter_name = \"{parameter}\"\n    secretsmanager_secret_id = \"x\"\n  }}\n")));
    let refused = ws.refused_plan();
    assert!(refused.contains("One secret store") && refused.contains("exactly one of secretsmanager_secret_id"), "{refused}");
}

#[test]
fn the_ephemeral_key_is_usable_by_the_next_provider_behind_a_propagation_gate() {
    use crate::support::proxy::{Fault, FaultProxy};
    let proxy = FaultProxy::start(&Emulator::get().endpoint());
    let user = unique_user("propagating");
    create_user(&user);
    // Both providers go through the gate; the first one checks no credentials, so the
    // first GetCallerIdentity calls are those the new key makes.
    let opener = provider_block_with(&proxy.endpoint(), "  skip_credentials_validation = true\n");
    let consumer = provider_block_with(
        &proxy.endpoint(),
        "  alias      = \"temp\"\n  access_key = ephemeral.iamkey_access_key.temp.id\n  secret_key = ephemeral.iamkey_access_key.temp.secret\n",
    );
    let config = |wait: &str| {
        format!(
            "{opener}ephemeral \"iamkey_access_key\" \"temp\" {{\n  user = \"{user}\"\n{wait}}}\n{consumer}\
             data \"iamkey_access_keys\" \"seen_by_temp\" {{\n  provider = iamkey.temp\n}}\n\
             output \"caller\" {{\n  value = data.iamkey_access_keys.seen_by_temp.user\n}}\n"
        )
    };
    let ws = Workspace::new(&config(""));
    // As IAM does with a new key for its first seconds: refused twice, then accepted.
    proxy.arm("GetCallerIdentity", 2, Fault::Error { status: 403, code: "InvalidClientTokenId" });
    ws.apply().assert_success();
    assert_eq!(outputs(&ws)["caller"]["value"], user.as_str(), "the next provider used the key at once");
    assert!(keys_of(&user).is_empty(), "closed at the end of the run");

    // Without the wait, the next provider meets the gate.
    ws.write(&config("  wait_until_usable = false\n"));
    proxy.arm("GetCallerIdentity", 2, Fault::Error { status: 403, code: "InvalidClientTokenId" });
    let run = ws.apply();
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(run.stderr.contains("Invalid AWS credentials"), "{}", run.stderr);
}
