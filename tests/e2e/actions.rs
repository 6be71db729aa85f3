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
fn a_bad_deactivation_filter_is_refused_at_plan_on_its_attribute_with_no_iam_call() {
    let proxy = FaultProxy::start(&Emulator::get().endpoint());
    let user = unique_user("deactivate-bad");
    create_user(&user);
    let id = outside_key(&user);
    set_status(&user, &id, "Active");
    for (days, expected) in [("-1", "unused_for_days"), ("null", "No age or idle time")] {
        let ws = Workspace::new(&example_for(&proxy.endpoint(), &user, &id, days));
        let mut plan = None;
        let calls = proxy.calls_during(|| plan = Some(ws.tf(&["plan", "-invoke=action.iamkey_deactivate_keys.stale"])));
        let plan = plan.unwrap();
        assert_eq!(plan.code, 1, "{}", plan.all());
        assert!(plan.stderr.contains(expected), "{expected}: {}", plan.stderr);
        assert!(calls.is_empty(), "{days}: no IAM call: {calls:?}");
    }
}
