//! End to end: how many IAM calls each operation makes, counted at a proxy. IAM's
//! rate limits are low: a default refresh makes one ListAccessKeys per distinct
//! user, not per key (last use and the user's tags cost calls only where asked
//! for), writes make exactly one call each, and the plan-time quota check lists
//! each user's keys once per plan.

use crate::support::proxy::FaultProxy;
use crate::support::*;

#[test]
fn each_operation_makes_the_fewest_iam_calls() {
    let proxy = FaultProxy::start(&Emulator::get().endpoint());
    let users = [unique_user("calls-a"), unique_user("calls-b")];
    for u in &users {
        create_user(u);
    }
    let config = |status: &str| two_keys_per_user(&proxy.endpoint(), &users, status);
    let ws = Workspace::new(&config("Inactive"));
    let plan = proxy.calls_during(|| drop(ws.tf(&["plan", "-out=tfplan"]).assert_success()));
    assert_eq!(plan, [("ListAccessKeys", 2)], "plan: the quota check lists each user's keys once");
    let mut create = proxy.calls_during(|| drop(ws.tf(&["apply", "tfplan"]).assert_success()));
    // Apply plans each create again, so the quota check runs again: once per user,
    // or once more after that user's first create changed its keys.
    let lists = create.iter().position(|(a, _)| *a == "ListAccessKeys").map(|i| create.remove(i).1);
    assert!(lists.is_some_and(|n| (2..=4).contains(&n)), "apply's quota checks: {lists:?}");
    assert_eq!(create, [("CreateAccessKey", 4), ("UpdateAccessKey", 4)], "create: 1 call, +1 for Inactive");
    assert_eq!(proxy.calls_during(|| assert_eq!(ws.plan().code, 0)), [("ListAccessKeys", 2)], "refresh of 4 keys of 2 users");
    ws.write(&config("Active"));
    let update = proxy.calls_during(|| drop(ws.tf(&["apply", "-auto-approve", "-refresh=false"]).assert_success()));
    assert_eq!(update, [("UpdateAccessKey", 4)], "status update: 1 call each");
    let id = ws.resource("iamkey_access_key.k00")["values"]["id"].as_str().unwrap().to_string();
    ws.tf(&["state", "rm", "iamkey_access_key.k00"]).assert_success();
    let import = proxy.calls_during(|| drop(ws.tf(&["import", "iamkey_access_key.k00", &id]).assert_success()));
    assert_eq!(
        import,
        [("ListAccessKeys", 1), ("GetAccessKeyLastUsed", 1), ("ListUserTags", 1)],
        "import by ID: find the user, then read (with its description)"
    );
    ws.tf(&["state", "rm", "iamkey_access_key.k00"]).assert_success();
    let import = proxy.calls_during(|| drop(ws.tf(&["import", "iamkey_access_key.k00", &format!("{}/{id}", users[0])]).assert_success()));
    assert_eq!(import, [("ListAccessKeys", 1), ("ListUserTags", 1)], "import by USER/ID: just the read (with its description)");
    let destroy = proxy.calls_during(|| drop(ws.tf(&["destroy", "-auto-approve", "-refresh=false"]).assert_success()));
    assert_eq!(destroy, [("DeleteAccessKey", 4)], "delete: 1 call each");
}
