//! Compatibility: the core lifecycle on every Terraform release the provider
//! supports from one binary (1.6 speaks protocol 6.4, 1.11 speaks 6.8, 1.15 speaks
//! 6.10), and on `terraform` / `tofu` found on PATH.

use std::path::{Path, PathBuf};

use crate::support::*;

/// Create, empty plan, status in place, out-of-band delete recreated, import,
/// destroy, and destroy of a key that is already gone.
fn core_lifecycle(cli: &Path) {
    let user = unique_user("compat");
    create_user(&user);
    let config = |status: &str| format!("{}resource \"iamkey_access_key\" \"k\" {{\n  user = \"{user}\"\n  status = \"{status}\"\n}}\n", provider_block());
    let ws = Workspace::configured(&config("Active"), |ws| ws.with_cli(cli));
    let cli = cli.display();
    ws.apply().assert_success();
    let keys = keys_of(&user);
    assert_eq!(keys.len(), 1, "{cli}");
    let id = keys[0].0.clone();
    assert_eq!(ws.plan().code, 0, "{cli}: plan after apply is empty");

    ws.write(&config("Inactive"));
    let plan = ws.plan();
    assert!(plan.stdout.contains("update in-place"), "{cli}: {}", plan.stdout);
    ws.apply().assert_success();
    assert_eq!(keys_of(&user), vec![(id.clone(), "Inactive".to_string())], "{cli}");

    block_on(Emulator::get().iam().delete_access_key().user_name(&user).access_key_id(&id).send()).unwrap();
    let plan = ws.plan();
    assert!(plan.stdout.contains("will be created"), "{cli}: {}", plan.all());
    ws.apply().assert_success();
    let recreated = keys_of(&user);
    assert_eq!(recreated.len(), 1, "{cli}");

    ws.tf(&["state", "rm", "iamkey_access_key.k"]).assert_success();
    ws.tf(&["import", "iamkey_access_key.k", &recreated[0].0]).assert_success();
    assert_eq!(ws.plan().code, 0, "{cli}: plan after import is empty");

    ws.tf(&["destroy", "-auto-approve"]).assert_success();
    assert!(keys_of(&user).is_empty(), "{cli}");

    ws.apply().assert_success();
    let (again, _) = keys_of(&user).remove(0);
    block_on(Emulator::get().iam().delete_access_key().user_name(&user).access_key_id(&again).send()).unwrap();
    ws.tf(&["destroy", "-auto-approve", "-refresh=false"]).assert_success();
    assert!(ws.tf(&["state", "list"]).stdout.trim().is_empty(), "{cli}");
}

#[test]
fn core_lifecycle_on_terraform_1_6_6() {
    core_lifecycle(&pinned_terraform("1.6.6"));
}

#[test]
fn core_lifecycle_on_terraform_1_11_4() {
    core_lifecycle(&pinned_terraform("1.11.4"));
}

#[test]
fn core_lifecycle_on_terraform_1_15_5() {
    core_lifecycle(&pinned_terraform("1.15.5"));
}

fn on_path(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?).map(|dir| dir.join(name)).find(|p| p.is_file())
}

/// `terraform` and `tofu` on PATH, when present, get the same lifecycle. One that
/// is absent is reported as skipped on the terminal (past the test harness's
/// output capture), so a run without them never looks like it tested them.
#[test]
fn core_lifecycle_on_clis_found_on_path() {
    use std::io::Write;
    for name in ["terraform", "tofu"] {
        match on_path(name) {
            Some(cli) => core_lifecycle(&cli),
            None => {
                let _ = writeln!(std::io::stderr().lock(), "SKIPPED: core lifecycle on `{name}` from PATH: no `{name}` on PATH");
            }
        }
    }
}
