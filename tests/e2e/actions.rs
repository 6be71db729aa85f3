//! End to end, actions (Terraform 1.14+; the suite's 1.15.5): `terraform plan
//! -invoke` is a dry run that changes nothing in IAM, `terraform apply -invoke`
//! deactivates exactly the selected keys with one progress line each, and bad input
//! is refused at plan on its attribute with no IAM call.

use crate::support::proxy::FaultProxy;
use crate::support::*;

/// Creates a key outside Terraform; returns its ID.
fn outside_key(user: &str) -> String {
    block_on(Emulator::get().iam().create_access_key().user_name(user).send()).unwrap().access_key().unwrap().access_key_id().to_string()
}

fn set_status(user: &str, id: &str, status: &str) {
    block_on(Emulator::get().iam().update_access_key().user_name(user).access_key_id(id).status(status.into()).send()).unwrap();
}

/// examples/actions/iamkey_deactivate_keys/action.tf for `user`, leaving `keep`
/// alone, with every idle key selected (the keys here are new: unused for 0 days).
fn example_for(endpoint: &str, user: &str, keep: &str, unused_for_days: &str) -> String {
    let example = std::fs::read_to_string(project_root().join("examples/actions/iamkey_deactivate_keys/action.tf")).unwrap();
    let example = example.replace("\"deploy-bot\"", &format!("\"{user}\"")).replace("AKIAIOSFODNN7EXAMPLE", keep);
    let example = example.replace("unused_for_days = 90", &format!("unused_for_days = {unused_for_days}"));
    format!("{}{example}", provider_block_for(endpoint))
}

#[test]
fn deactivate_keys_plans_exactly_the_selected_keys_then_deactivates_only_them() {
    let proxy = FaultProxy::start(&Emulator::get().endpoint());
    let (user, other) = (unique_user("deactivate"), unique_user("deactivate-other"));
    create_user(&user);
    create_user(&other);
    let (stale, kept) = (outside_key(&user), outside_key(&user));
    let elsewhere = outside_key(&other);
    let ws = Workspace::new(&example_for(&proxy.endpoint(), &user, &kept, "0"));
    let invoke = "-invoke=action.iamkey_deactivate_keys.stale";

    let mut plan = None;
    let calls = proxy.calls_during(|| plan = Some(ws.tf(&["plan", invoke])));
    let plan = plan.unwrap();
    assert_eq!(plan.code, 0, "{}", plan.all());
    let warning = plan.all().split("Warning: Keys to deactivate").nth(1).map(str::to_string).unwrap_or_else(|| panic!("{}", plan.all()));
    assert!(warning.contains("would deactivate 1 access key(s), and delete none") && warning.contains(&stale), "{warning}");
    assert!(!warning.contains(&kept), "an excluded key is not listed: {warning}");
    assert!(!calls.iter().any(|(action, _)| *action == "UpdateAccessKey"), "a plan changes nothing: {calls:?}");
    assert_eq!(keys_of(&user).iter().filter(|(_, s)| s == "Active").count(), 2);

    let apply = ws.tf(&["apply", "-auto-approve", invoke]);
    assert_eq!(apply.code, 0, "{}", apply.all());
    assert!(apply.all().contains(&format!("{stale}: Active → Inactive")), "one progress line per key: {}", apply.all());
    let mut statuses = keys_of(&user);
    statuses.sort();
    let mut expected = vec![(stale.clone(), "Inactive".to_string()), (kept.clone(), "Active".to_string())];
    expected.sort();
    assert_eq!(statuses, expected, "exactly the selected key, checked in IAM");
    assert_eq!(keys_of(&other), vec![(elsewhere, "Active".to_string())], "another user's key is untouched");

    // Again: the key is Inactive now, so nothing is selected and nothing changes.
    let again = ws.tf(&["apply", "-auto-approve", invoke]);
    assert_eq!(again.code, 0, "{}", again.all());
    assert!(again.all().contains("deactivated 0 of 0"), "{}", again.all());
}

#[test]
fn a_bad_deactivation_filter_or_user_name_is_refused_at_plan_on_its_attribute_with_no_iam_call() {
    let proxy = FaultProxy::start(&Emulator::get().endpoint());
    let user = unique_user("deactivate-bad");
    create_user(&user);
    let id = outside_key(&user);
    set_status(&user, &id, "Active");
    let cases =
        [(user.as_str(), "-1", "unused_for_days"), (user.as_str(), "null", "No age or idle time"), ("not a user!", "0", "An IAM user name may contain only")];
    for (named, days, expected) in cases {
        let ws = Workspace::new(&example_for(&proxy.endpoint(), named, &id, days));
        let mut plan = None;
        let calls = proxy.calls_during(|| plan = Some(ws.tf(&["plan", "-invoke=action.iamkey_deactivate_keys.stale"])));
        let plan = plan.unwrap();
        assert_eq!(plan.code, 1, "{}", plan.all());
        assert!(plan.stderr.contains(expected), "{expected}: {}", plan.stderr);
        assert!(calls.is_empty(), "{expected}: no IAM call: {calls:?}");
    }
}

/// The managed policies attached to `user`, by ARN.
fn attached(iam: &aws_sdk_iam::Client, user: &str) -> Vec<String> {
    let out = block_on(iam.list_attached_user_policies().user_name(user).send()).unwrap();
    out.attached_policies().iter().filter_map(|p| p.policy_arn().map(str::to_string)).collect()
}

/// The keys of `user`, as (id, status).
fn keys_in(iam: &aws_sdk_iam::Client, user: &str) -> Vec<(String, String)> {
    let out = block_on(iam.list_access_keys().user_name(user).send()).unwrap();
    out.access_key_metadata().iter().map(|k| (k.access_key_id().unwrap().to_string(), k.status().unwrap().as_str().to_string())).collect()
}

#[test]
fn quarantine_key_reports_deactivates_attaches_the_policy_and_a_second_invoke_changes_nothing() {
    // AWS's managed policies are loaded only on request: an emulator of its own.
    let emulator = Emulator::start_with(&[("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")]);
    let iam = emulator.iam();
    let proxy = FaultProxy::start(&emulator.endpoint());
    let user = unique_user("quarantine");
    block_on(iam.create_user().user_name(&user).send()).unwrap();
    let leaked = block_on(iam.create_access_key().user_name(&user).send()).unwrap().access_key().unwrap().access_key_id().to_string();
    let example = std::fs::read_to_string(project_root().join("examples/actions/iamkey_quarantine_key/action.tf")).unwrap();
    let ws = Workspace::new(&format!("{}{}", provider_block_for(&proxy.endpoint()), example.replace("AKIAIOSFODNN7EXAMPLE", &leaked)));
    let invoke = "-invoke=action.iamkey_quarantine_key.leaked";
    const POLICY: &str = "arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV3";

    let mut plan = None;
    let calls = proxy.calls_during(|| plan = Some(ws.tf(&["plan", invoke])));
    let plan = plan.unwrap();
    assert_eq!(plan.code, 0, "{}", plan.all());
    // Terraform wraps a diagnostic's detail at word boundaries.
    let shown = plan.all().replace('\n', " ");
    assert!(shown.contains("Key to quarantine") && shown.contains(&format!("deactivate access key {leaked} of user \"{user}\"")), "{}", plan.all());
    assert!(!calls.iter().any(|(action, _)| *action == "UpdateAccessKey"), "{calls:?}");
    assert!(attached(&iam, &user).is_empty(), "a plan changes nothing");

    let apply = ws.tf(&["apply", "-auto-approve", invoke]);
    assert_eq!(apply.code, 0, "{}", apply.all());
    for line in
        [format!("{user} {leaked}: never used"), format!("{user} {leaked}: Active → Inactive"), format!("{user}: AWSCompromisedKeyQuarantineV3 attached")]
    {
        assert!(apply.all().contains(&line), "{line}: {}", apply.all());
    }
    assert_eq!(keys_in(&iam, &user), vec![(leaked.clone(), "Inactive".to_string())], "the key is Inactive, and still there");
    assert_eq!(attached(&iam, &user), [POLICY]);

    let again = ws.tf(&["apply", "-auto-approve", invoke]);
    assert_eq!(again.code, 0, "{}", again.all());
    assert!(again.all().contains(&format!("{user} {leaked}: already Inactive")), "{}", again.all());
    assert_eq!((keys_in(&iam, &user), attached(&iam, &user)), (vec![(leaked, "Inactive".to_string())], vec![POLICY.to_string()]), "nothing changed");
}

#[test]
fn the_rotation_example_leaves_exactly_one_active_key_the_new_one() {
    let user = unique_user("rotation-trigger");
    create_user(&user);
    let old = outside_key(&user);
    let example = std::fs::read_to_string(project_root().join("examples/rotation-with-deactivation/main.tf")).unwrap();
    let (_, resources) = example.split_once("provider \"iamkey\" {\n  region = \"us-east-1\"\n}\n").expect("the example's provider block");
    let ws = Workspace::new(&format!(
        "{}{}",
        provider_block(),
        resources.replace("\"deploy-bot\"", &format!("\"{user}\"")).replace("ci/deploy-bot", &format!("ci/{user}"))
    ));
    let apply = ws.apply();
    assert_eq!(apply.code, 0, "{}", apply.all());
    let new = ws.resource("iamkey_access_key.ci")["values"]["id"].as_str().unwrap().to_string();
    let mut keys = keys_of(&user);
    keys.sort();
    let mut expected = vec![(new, "Active".to_string()), (old, "Inactive".to_string())];
    expected.sort();
    assert_eq!(keys, expected, "the new key is the one Active key: {}", apply.all());
}
