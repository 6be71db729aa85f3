//! End to end, past parity I: descriptions, last use, the data source, resource
//! identity, `terraform query` and the plan-time quota check, each checked in IAM
//! as well as in what Terraform shows.

use crate::support::*;

/// The user's tags in IAM, as (key, value).
fn tags_of(user: &str) -> Vec<(String, String)> {
    let out = block_on(Emulator::get().iam().list_user_tags().user_name(user).send()).expect("ListUserTags");
    out.tags().iter().map(|t| (t.key().to_string(), t.value().to_string())).collect()
}

fn tag(user: &str, key: &str, value: &str) {
    let tag = aws_sdk_iam::types::Tag::builder().key(key).value(value).build().unwrap();
    block_on(Emulator::get().iam().tag_user().user_name(user).tags(tag).send()).expect("TagUser");
}

#[test]
fn description_is_a_user_tag_updated_in_place_with_drift_detected_and_removed_with_the_key() {
    let user = unique_user("desc");
    create_user(&user);
    let ws = Workspace::new(&key_config(&user, "  description = \"CI deploy key\"\n"));
    ws.apply().assert_success();
    let id = keys_of(&user)[0].0.clone();
    assert_eq!(tags_of(&user), vec![(id.clone(), "CI deploy key".to_string())]);
    assert_eq!(ws.resource("iamkey_access_key.k")["values"]["description"], "CI deploy key");
    assert_eq!(ws.plan().code, 0, "{}", ws.plan().all());

    // Changed in the console: the plan sets it back, in place.
    tag(&user, &id, "edited by hand");
    let plan = ws.plan();
    assert_eq!(plan.code, 2, "{}", plan.all());
    assert!(plan.stdout.contains("\"edited by hand\" -> \"CI deploy key\"") && plan.stdout.contains("update in-place"), "{}", plan.stdout);
    ws.apply().assert_success();
    assert_eq!(tags_of(&user), vec![(id.clone(), "CI deploy key".to_string())]);

    // Changed in configuration: in place, same key.
    ws.write(&key_config(&user, "  description = \"rotated: 2026-11\"\n"));
    ws.apply().assert_success();
    assert_eq!(keys_of(&user)[0].0, id);
    assert_eq!(tags_of(&user), vec![(id.clone(), "rotated: 2026-11".to_string())]);

    // Invalid per IAM's tag-value rule: refused at plan, naming the attribute.
    ws.write(&key_config(&user, "  description = \"semi;colon\"\n"));
    let refused = ws.refused_plan();
    assert!(refused.contains("description") && refused.contains("';'"), "{refused}");

    // Removed from configuration: the tag goes; other tags of the user stay.
    tag(&user, "team", "platform");
    ws.write(&key_config(&user, ""));
    ws.apply().assert_success();
    assert_eq!(tags_of(&user), vec![("team".to_string(), "platform".to_string())]);

    // Destroy removes the description tag with the key.
    ws.write(&key_config(&user, "  description = \"short-lived\"\n"));
    ws.apply().assert_success();
    assert_eq!(tags_of(&user).len(), 2);
    ws.tf(&["destroy", "-auto-approve", "-input=false"]).assert_success();
    assert!(keys_of(&user).is_empty());
    assert_eq!(tags_of(&user), vec![("team".to_string(), "platform".to_string())]);
}

#[test]
fn last_use_is_refreshed_from_iam_without_making_the_plan_non_empty() {
    let user = unique_user("lastused");
    create_user(&user);
    let ws = Workspace::new(&key_config(&user, "  refresh_last_used = true\n"));
    ws.apply().assert_success();
    let state = ws.resource("iamkey_access_key.k");
    for attr in ["last_used_date", "last_used_service", "last_used_region"] {
        assert!(state["values"][attr].is_null(), "a new key was never used: {attr} = {}", state["values"][attr]);
    }

    // Sign a call with the new key.
    let (id, secret) = (state["values"]["id"].as_str().unwrap(), state["values"]["secret"].as_str().unwrap());
    block_on(Emulator::get().iam_with(id, secret).list_access_keys().user_name(&user).send()).expect("a call signed with the key");

    let plan = ws.plan();
    assert_eq!(plan.code, 0, "only last use changed: the plan is empty\n{}", plan.all());
    ws.tf(&["apply", "-refresh-only", "-auto-approve", "-input=false"]).assert_success();
    let state = ws.resource("iamkey_access_key.k");
    assert_eq!(state["values"]["last_used_service"], "iam");
    assert_eq!(state["values"]["last_used_region"], REGION);
    let used = state["values"]["last_used_date"].as_str().expect("last_used_date is set");
    assert!(used.ends_with('Z') && used >= state["values"]["create_date"].as_str().unwrap(), "{used}");
    assert_eq!(ws.plan().code, 0);

    // Turned off, refresh leaves last use alone (no call) and keeps nothing stale.
    ws.write(&key_config(&user, ""));
    ws.apply().assert_success();
    ws.tf(&["apply", "-refresh-only", "-auto-approve", "-input=false"]).assert_success();
    let state = ws.resource("iamkey_access_key.k");
    for attr in ["last_used_date", "last_used_service", "last_used_region"] {
        assert!(state["values"][attr].is_null(), "{attr} = {}", state["values"][attr]);
    }
    assert_eq!(ws.plan().code, 0);
}

#[test]
fn data_source_returns_what_iam_holds_with_filters_and_last_use() {
    let user = unique_user("ds");
    create_user(&user);
    // One key made outside Terraform and used; one made by Terraform, Inactive.
    let outside = block_on(Emulator::get().iam().create_access_key().user_name(&user).send()).unwrap();
    let outside = outside.access_key().unwrap();
    block_on(Emulator::get().iam_with(outside.access_key_id(), outside.secret_access_key()).list_access_keys().user_name(&user).send()).unwrap();
    let signed_by_that_key =
        format!("  alias = \"self\"\n  access_key = \"{}\"\n  secret_key = \"{}\"\n", outside.access_key_id(), outside.secret_access_key());
    let config = format!(
        "{}{}resource \"iamkey_access_key\" \"k\" {{\n  user = \"{user}\"\n  status = \"Inactive\"\n}}\n\
         data \"iamkey_access_keys\" \"all\" {{\n  user = iamkey_access_key.k.user\n}}\n\
         data \"iamkey_access_keys\" \"active\" {{\n  user = iamkey_access_key.k.user\n  status = \"Active\"\n}}\n\
         data \"iamkey_access_keys\" \"caller\" {{\n  provider = iamkey.self\n  depends_on = [iamkey_access_key.k]\n}}\n",
        provider_block(),
        provider_block_with(&Emulator::get().endpoint(), &signed_by_that_key),
    );
    let ws = Workspace::new(&config);
    ws.apply().assert_success();
    let made = ws.resource("iamkey_access_key.k")["values"]["id"].as_str().unwrap().to_string();

    let all = ws.resource("data.iamkey_access_keys.all")["values"].clone();
    let listed: Vec<(&str, &str)> =
        all["access_keys"].as_array().unwrap().iter().map(|k| (k["access_key_id"].as_str().unwrap(), k["status"].as_str().unwrap())).collect();
    let mut in_iam = keys_of(&user);
    in_iam.sort();
    let mut listed_sorted: Vec<(String, String)> = listed.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect();
    listed_sorted.sort();
    assert_eq!(listed_sorted, in_iam, "the data source lists what IAM holds");
    let used = all["access_keys"].as_array().unwrap().iter().find(|k| k["access_key_id"] == outside.access_key_id()).unwrap();
    // Last used by the ListAccessKeys above (iam), or by the credential check of the
    // provider signed with it (sts) when Terraform configures that one first.
    let service = used["last_used_service"].as_str();
    assert!(matches!(service, Some("iam" | "sts")), "last used service: {service:?}");
    assert!(used["last_used_date"].as_str().is_some_and(|d| d.ends_with('Z')));
    assert_eq!(used["age_days"], 0);
    assert_eq!(used["user"], user.as_str());
    let fresh = all["access_keys"].as_array().unwrap().iter().find(|k| k["access_key_id"] == made.as_str()).unwrap();
    assert!(fresh["last_used_date"].is_null() && fresh["last_used_service"].is_null(), "{fresh}");

    let active = ws.resource("data.iamkey_access_keys.active")["values"].clone();
    let active_ids: Vec<&str> = active["access_keys"].as_array().unwrap().iter().map(|k| k["access_key_id"].as_str().unwrap()).collect();
    assert_eq!(active_ids, [outside.access_key_id()], "the status filter keeps only Active keys");

    // Without `user`, the keys of the identity that signs the requests.
    let caller = ws.resource("data.iamkey_access_keys.caller")["values"].clone();
    assert_eq!(caller["user"], user.as_str());
    assert_eq!(caller["access_keys"].as_array().unwrap().len(), 2);

    // A wrong filter is refused at plan time, naming the attribute.
    ws.write(&format!("{}data \"iamkey_access_keys\" \"x\" {{\n  user = \"{user}\"\n  status = \"active\"\n}}\n", provider_block()));
    let refused = ws.refused_plan();
    assert!(refused.contains("status must be") && refused.contains("data.iamkey_access_keys.x"), "{refused}");
}

/// The identity Terraform stored for `address` in the local state file.
fn stored_identity(ws: &Workspace, address: &str) -> serde_json::Value {
    let state: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(ws.path().join("terraform.tfstate")).unwrap()).unwrap();
    let (kind, name) = address.split_once('.').unwrap();
    let resource = state["resources"].as_array().unwrap().iter().find(|r| r["type"] == kind && r["name"] == name).expect("resource in state");
    resource["instances"][0]["identity"].clone()
}

#[test]
fn identity_is_recorded_imports_by_identity_and_upgrades_state_written_before_it() {
    let user = unique_user("identity");
    create_user(&user);
    // State written by Terraform 1.11, which knows no identities.
    let ws = Workspace::new(&key_config(&user, "")).with_cli(&pinned_terraform("1.11.4"));
    ws.apply().assert_success();
    let id = keys_of(&user)[0].0.clone();
    assert!(stored_identity(&ws, "iamkey_access_key.k").is_null());

    // Terraform 1.15 without refresh: no change, and the identity stays absent.
    let ws = ws.with_cli(&pinned_terraform("1.15.5"));
    assert_eq!(ws.tf(&["plan", "-refresh=false", "-detailed-exitcode"]).code, 0);
    // With refresh: still no change, and the identity is recorded.
    assert_eq!(ws.plan().code, 0, "{}", ws.plan().all());
    ws.tf(&["apply", "-refresh-only", "-auto-approve"]).assert_success();
    let expected = serde_json::json!({"account_id": "123456789012", "user": user, "access_key_id": id});
    assert_eq!(stored_identity(&ws, "iamkey_access_key.k"), expected);
    assert_eq!(ws.plan().code, 0);

    // An import block with an identity adopts the key; the user may be left out.
    ws.tf(&["state", "rm", "iamkey_access_key.k"]).assert_success();
    for identity in [format!("user = \"{user}\", access_key_id = \"{id}\""), format!("access_key_id = \"{id}\"")] {
        let import = format!("import {{\n  to       = iamkey_access_key.k\n  identity = {{ {identity} }}\n}}\n");
        ws.write(&format!("{}{import}", key_config(&user, "")));
        let applied = ws.apply().assert_success();
        assert!(applied.stdout.contains("1 imported, 0 added, 0 changed, 0 destroyed"), "{}", applied.stdout);
        assert_eq!(stored_identity(&ws, "iamkey_access_key.k"), expected);
        assert_eq!(keys_of(&user).len(), 1, "import creates nothing");
        ws.tf(&["state", "rm", "iamkey_access_key.k"]).assert_success();
    }

    // An identity from another account is refused with the reason.
    let import = format!("import {{\n  to       = iamkey_access_key.k\n  identity = {{ account_id = \"999999999999\", access_key_id = \"{id}\" }}\n}}\n");
    ws.write(&format!("{}{import}", key_config(&user, "")));
    let refused = ws.refused_plan();
    assert!(refused.contains("account 999999999999"), "{refused}");
}

#[test]
fn quota_is_caught_at_plan_time_and_replacements_are_accounted_for() {
    // Two keys made outside Terraform: a plan for a third fails, listing them.
    let user = unique_user("quota");
    create_user(&user);
    let existing: Vec<String> = (0..2)
        .map(|_| block_on(Emulator::get().iam().create_access_key().user_name(&user).send()).unwrap().access_key().unwrap().access_key_id().to_string())
        .collect();
    let ws = Workspace::new(&key_config(&user, ""));
    let plan = ws.plan();
    assert_eq!(plan.code, 1, "{}", plan.all());
    assert!(plan.stderr.contains("Access key quota would be exceeded") && plan.stderr.contains("never used"), "{}", plan.stderr);
    for id in &existing {
        assert!(plan.stderr.contains(&format!("{id} (Active, 0 days old")), "{id} missing from: {}", plan.stderr);
    }
    let apply = ws.apply();
    assert_eq!(apply.code, 1);
    assert!(apply.stderr.contains("Access key quota would be exceeded"), "{}", apply.stderr);
    assert!(ws.tf(&["state", "list"]).stdout.trim().is_empty());
    assert_eq!(keys_of(&user).len(), 2, "nothing was created");

    // Two keys managed here: replacing one (deleted first) plans and applies.
    let user = unique_user("quota-managed");
    create_user(&user);
    let pair = |extra: &str| format!("{}resource \"iamkey_access_key\" \"k2\" {{\n  user = \"{user}\"\n{extra}}}\n", key_config(&user, extra));
    let two = pair("");
    let ws = Workspace::new(&two);
    ws.apply().assert_success();
    let before = ws.resource("iamkey_access_key.k")["values"]["id"].as_str().unwrap().to_string();
    let plan = ws.tf(&["plan", "-replace=iamkey_access_key.k", "-detailed-exitcode"]);
    assert_eq!(plan.code, 2, "{}", plan.all());
    ws.tf(&["apply", "-replace=iamkey_access_key.k", "-auto-approve"]).assert_success();
    let after = ws.resource("iamkey_access_key.k")["values"]["id"].as_str().unwrap().to_string();
    assert_ne!(before, after);
    assert_eq!(keys_of(&user).len(), 2);

    // With create_before_destroy the new key would be a third: it still plans (the
    // new half of a replacement is not counted), apply stops with the quota error,
    // and both old keys stay tracked.
    ws.write(&pair("  lifecycle {\n    create_before_destroy = true\n  }\n"));
    let plan = ws.tf(&["plan", "-replace=iamkey_access_key.k", "-detailed-exitcode"]);
    assert_eq!(plan.code, 2, "{}", plan.all());
    let run = ws.tf(&["apply", "-replace=iamkey_access_key.k", "-auto-approve"]);
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(run.stderr.contains("quota"), "{}", run.stderr);
    let mut in_iam: Vec<String> = keys_of(&user).into_iter().map(|(id, _)| id).collect();
    in_iam.sort();
    assert_eq!(ws.state_key_ids(), in_iam, "no orphan, nothing lost");
    ws.write(&two);

    // A third key for that user is refused at plan time.
    ws.write(&format!("{two}resource \"iamkey_access_key\" \"k3\" {{\n  user = \"{user}\"\n}}\n"));
    let plan = ws.plan();
    assert_eq!(plan.code, 1, "{}", plan.all());
    assert!(plan.stderr.contains("Access key quota would be exceeded") && plan.stderr.contains("iamkey_access_key.k3"), "{}", plan.stderr);
    assert_eq!(keys_of(&user).len(), 2);
}

#[test]
fn keys_planned_together_count_against_the_quota_at_plan_time() {
    let proxy = crate::support::proxy::FaultProxy::start(&Emulator::get().endpoint());
    let user = unique_user("quota-count");
    create_user(&user);
    let keys =
        |n: usize| format!("{}resource \"iamkey_access_key\" \"k\" {{\n  count = {n}\n  user  = \"{user}\"\n}}\n", provider_block_for(&proxy.endpoint()));
    let ws = Workspace::new(&keys(3));
    let mut plan = None;
    let calls = proxy.calls_during(|| plan = Some(ws.plan()));
    let plan = plan.unwrap();
    assert_eq!(plan.code, 1, "{}", plan.all());
    assert!(plan.stderr.contains("Access key quota would be exceeded") && plan.stderr.contains(&format!("\"{user}\"")), "{}", plan.stderr);
    assert!(plan.stderr.contains("IAM allows 2 per user"), "{}", plan.stderr);
    assert!(!calls.iter().any(|(action, _)| *action == "CreateAccessKey"), "{calls:?}");
    let apply = ws.apply();
    assert_eq!(apply.code, 1, "{}", apply.all());
    assert!(keys_of(&user).is_empty(), "no key was created");

    // Two fit: planned together, and planned again one by one as apply creates them.
    ws.write(&keys(2));
    ws.apply().assert_success();
    assert_eq!(keys_of(&user).len(), 2);
}

/// Creates a key outside Terraform: (id, secret).
fn outside_key(user: &str) -> (String, String) {
    let out = block_on(Emulator::get().iam().create_access_key().user_name(user).send()).unwrap();
    let key = out.access_key().unwrap();
    (key.access_key_id().to_string(), key.secret_access_key().to_string())
}

#[test]
fn terraform_query_lists_keys_with_each_filter_and_generates_config_without_secrets() {
    let user = unique_user("query");
    let other = unique_user("query-other");
    create_user(&user);
    create_user(&other);
    let (used, used_secret) = outside_key(&user);
    let (idle, _) = outside_key(&user);
    block_on(Emulator::get().iam().update_access_key().user_name(&user).access_key_id(&idle).status("Inactive".into()).send()).unwrap();
    block_on(Emulator::get().iam_with(&used, &used_secret).list_access_keys().user_name(&user).send()).unwrap();
    tag(&user, &idle, "old CI key");
    let (elsewhere, _) = outside_key(&other);

    let ws = Workspace::new(&provider_block());
    let query = |name: &str, config: &str| {
        std::fs::write(
            ws.path().join("keys.tfquery.hcl"),
            format!(
                "list \"iamkey_access_key\" \"{name}\" {{\n  provider = iamkey\n  include_resource = true\n  limit = 1000\n  config {{\n{config}  }}\n}}\n"
            ),
        )
        .unwrap();
        let run = ws.tf(&["query", "-json"]);
        assert_eq!(run.code, 0, "{}", run.all());
        run.stdout
    };
    // The access key IDs in the identities `terraform query -json` reports.
    let listed_ids = |out: &str| -> Vec<String> {
        let mut ids: Vec<String> = out
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter(|event| event["type"] == "list_resource_found")
            .map(|event| event["list_resource_found"]["identity"]["access_key_id"].as_str().unwrap().to_string())
            .collect();
        ids.sort();
        ids
    };
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };

    let all_of_user = query("mine", &format!("    user = \"{user}\"\n"));
    assert_eq!(listed_ids(&all_of_user), sorted(vec![used.clone(), idle.clone()]));
    let found: Vec<serde_json::Value> =
        all_of_user.lines().filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok()).filter(|e| e["type"] == "list_resource_found").collect();
    let idle_found = &found.iter().find(|e| e["list_resource_found"]["identity"]["access_key_id"] == idle.as_str()).unwrap()["list_resource_found"];
    assert_eq!(idle_found["display_name"], format!("{user}: {idle} (Inactive, 0 days old, never used)"));
    assert_eq!(idle_found["identity"]["user"], user.as_str());
    assert_eq!(idle_found["resource_object"]["description"], "old CI key");
    assert!(idle_found["resource_object"]["secret"].is_null());
    // Every user (other tests' users too: keep ours).
    let everyone: Vec<String> = listed_ids(&query("all", "")).into_iter().filter(|id| [&used, &idle, &elsewhere].contains(&id)).collect();
    assert_eq!(everyone, sorted(vec![used.clone(), idle.clone(), elsewhere.clone()]));
    assert_eq!(listed_ids(&query("inactive", &format!("    user = \"{user}\"\n    status = \"Inactive\"\n"))), std::slice::from_ref(&idle));
    // Age and last use, with the clock moved 10 days ahead (no sleeping).
    let ws = ws.with_env("IAMKEY_TEST_DAYS_AHEAD", "10");
    let query_aged = |config: &str| {
        std::fs::write(
            ws.path().join("keys.tfquery.hcl"),
            format!("list \"iamkey_access_key\" \"aged\" {{\n  provider = iamkey\n  config {{\n{config}  }}\n}}\n"),
        )
        .unwrap();
        let run = ws.tf(&["query", "-json"]);
        assert_eq!(run.code, 0, "{}", run.all());
        listed_ids(&run.stdout)
    };
    assert_eq!(query_aged(&format!("    user = \"{user}\"\n    older_than_days = 10\n")).len(), 2);
    assert!(query_aged(&format!("    user = \"{user}\"\n    older_than_days = 11\n")).is_empty());
    assert_eq!(query_aged(&format!("    user = \"{user}\"\n    unused_for_days = 10\n")).len(), 2, "used today, but that is 10 days ago now");

    // -generate-config-out: resources and import blocks, no secret; they plan as imports.
    std::fs::write(
        ws.path().join("keys.tfquery.hcl"),
        format!("list \"iamkey_access_key\" \"mine\" {{\n  provider = iamkey\n  include_resource = true\n  config {{\n    user = \"{user}\"\n  }}\n}}\n"),
    )
    .unwrap();
    let generated = ws.tf(&["query", "-generate-config-out=generated.tf"]);
    assert_eq!(generated.code, 0, "{}", generated.all());
    let hcl = std::fs::read_to_string(ws.path().join("generated.tf")).unwrap();
    assert!(!hcl.contains(&used_secret) && !hcl.contains("secret"), "{hcl}");
    assert!(hcl.contains("old CI key") && hcl.contains("Inactive"), "{hcl}");
    let plan = ws.tf(&["plan", "-detailed-exitcode"]);
    assert!(plan.stdout.contains("2 to import, 0 to add, 0 to change, 0 to destroy"), "{}", plan.all());
    ws.apply().assert_success();
    assert_eq!(ws.plan().code, 0, "adopted keys plan clean: {}", ws.plan().all());
    assert_eq!(keys_of(&user).len(), 2);
}
