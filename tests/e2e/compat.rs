//! Compatibility: the core lifecycle on every Terraform release the provider
//! supports from one binary (1.6 speaks protocol 6.4, 1.11 speaks 6.8, 1.15 speaks
//! 6.10), and on `terraform` / `tofu` from PATH, at least one of which must be there.

use std::ffi::OsStr;
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

fn in_search_path(search_path: &OsStr, name: &str) -> Option<PathBuf> {
    std::env::split_paths(search_path).map(|dir| dir.join(name)).find(|p| p.is_file())
}

/// The CLIs on PATH that the lifecycle runs on, and the message that fails the
/// test when PATH holds neither: the pinned releases come from set-up, but a
/// real Go build of `terraform` or `tofu` must be proven too, so its absence is a
/// missing prerequisite, never a pass.
fn clis_in(search_path: &OsStr) -> Result<Vec<PathBuf>, String> {
    let found: Vec<PathBuf> = ["terraform", "tofu"].into_iter().filter_map(|name| in_search_path(search_path, name)).collect();
    if found.is_empty() {
        let path = search_path.to_string_lossy();
        return Err(format!(
            "neither `terraform` nor `tofu` is on PATH ({path}): install one (a release binary of either) to run the core lifecycle on a real Go CLI"
        ));
    }
    Ok(found)
}

/// `terraform` and `tofu` on PATH get the same lifecycle; at least one must be
/// there. Each one run is named on the terminal (past the test harness's output
/// capture), so a run shows which of the two it proved.
#[test]
fn core_lifecycle_on_clis_found_on_path() {
    use std::io::Write;
    let clis = clis_in(&std::env::var_os("PATH").unwrap_or_default()).unwrap_or_else(|missing| panic!("{missing}"));
    for cli in &clis {
        let _ = writeln!(std::io::stderr().lock(), "core lifecycle on {} from PATH", cli.display());
        core_lifecycle(cli);
    }
}

#[test]
fn a_path_without_terraform_or_tofu_is_a_missing_prerequisite() {
    let empty = tempfile::tempdir().unwrap();
    let message = clis_in(empty.path().as_os_str()).unwrap_err();
    assert!(message.contains("neither `terraform` nor `tofu` is on PATH"), "{message}");
    assert!(message.contains(&empty.path().display().to_string()), "names the PATH searched: {message}");
    let with_tofu = tempfile::tempdir().unwrap();
    std::fs::write(with_tofu.path().join("tofu"), "").unwrap();
    let search = std::env::join_paths([empty.path(), with_tofu.path()]).unwrap();
    assert_eq!(clis_in(&search).unwrap(), vec![with_tofu.path().join("tofu")], "either CLI is enough");
}
