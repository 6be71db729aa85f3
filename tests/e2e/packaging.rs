//! End to end: release packaging, the examples, and the README's quick start.

use std::path::Path;
use std::process::Command;

use crate::support::*;

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

#[test]
fn packaged_zip_installs_from_a_mirror_and_its_checksums_are_verified() {
    let dist = tempfile::tempdir().unwrap();
    let status = Command::new(project_root().join("scripts/package.sh")).arg(dist.path()).env("IAMKEY_BUILD_PROFILE", "debug").status().unwrap();
    assert!(status.success());
    let version = env!("CARGO_PKG_VERSION");
    let sums = std::fs::read_to_string(dist.path().join(format!("terraform-provider-iamkey_{version}_SHA256SUMS"))).unwrap();
    let manifest = std::fs::read_to_string(dist.path().join(format!("terraform-provider-iamkey_{version}_manifest.json"))).unwrap();
    assert!(manifest.contains("\"protocol_versions\":[\"6.0\"]"));
    assert!(sums.lines().any(|l| l.contains("_linux_") && l.ends_with(".zip")), "{sums}");

    let cli_config = dist.path().join("packed.rc");
    write_cli_config(&cli_config, &dist.path().join("mirror"), false);
    let ws = Workspace::configured("", |ws| ws.with_env("TF_CLI_CONFIG_FILE", cli_config.to_str().unwrap()));
    ws.write(&format!("{}resource \"iamkey_access_key\" \"k\" {{\n  user = \"x\"\n}}\n", provider_block()));
    ws.tf(&["init", "-input=false"]).assert_success();
    let lock = std::fs::read_to_string(ws.path().join(".terraform.lock.hcl")).unwrap();
    assert!(lock.contains("\"h1:"), "the lock file records the package's checksum:\n{lock}");
    // The README's lock command for several platforms, for the one built here.
    let platform = format!("{}_{}", std::env::consts::OS, if cfg!(target_arch = "x86_64") { "amd64" } else { "arm64" });
    let mirror = format!("-fs-mirror={}", dist.path().join("mirror").display());
    std::fs::remove_file(ws.path().join(".terraform.lock.hcl")).unwrap();
    let locked = ws.tf(&["providers", "lock", &mirror, &format!("-platform={platform}")]).assert_success();
    assert!(locked.stdout.contains(&format!("Obtained iamkey/iamkey checksums for {platform}")), "{}", locked.all());
    assert_eq!(std::fs::read_to_string(ws.path().join(".terraform.lock.hcl")).unwrap(), lock, "the same lock as init's");
    let mirrored_for_tofu = dist.path().join("mirror/registry.opentofu.org/iamkey/iamkey");
    assert_eq!(std::fs::read_dir(&mirrored_for_tofu).unwrap().count(), 1, "the mirror serves OpenTofu's registry host too");
    // A fresh install verifies the package against the lock file.
    std::fs::remove_dir_all(ws.path().join(".terraform")).unwrap();
    ws.tf(&["init", "-input=false"]).assert_success();
    // A package whose content changed is refused: same name, one more byte.
    let zip = std::fs::read_dir(dist.path().join("mirror/registry.terraform.io/iamkey/iamkey")).unwrap().next().unwrap().unwrap().path();
    let tamper = "import sys, zipfile\nsrc, = sys.argv[1:]\nz = zipfile.ZipFile(src)\nm = z.infolist()[0]\ndata = z.read(m) + b'x'\nz.close()\nwith zipfile.ZipFile(src, 'w') as out:\n    out.writestr(m, data)\n";
    assert!(Command::new("python3").args(["-c", tamper, zip.to_str().unwrap()]).status().unwrap().success());
    std::fs::remove_dir_all(ws.path().join(".terraform")).unwrap();
    let run = ws.tf(&["init", "-input=false"]);
    assert_ne!(run.code, 0, "a package that does not match the lock file must be refused");
    assert!(run.stderr.contains("checksums"), "{}", run.stderr);
}

/// An example this test runs: its folder, the users it names (replaced by users
/// of this run), and how it runs.
struct Example {
    folder: &'static str,
    users: &'static [&'static str],
    /// `terraform query` instead of apply and destroy.
    query: bool,
    /// Signed with a key of its first user (it reads the caller's own keys).
    as_first_user: bool,
}

const fn example(folder: &'static str, users: &'static [&'static str]) -> Example {
    Example { folder, users, query: false, as_first_user: false }
}

const RUN_HERE: [Example; 7] = [
    example("provider", &[]),
    example("resources/iamkey_access_key", &["deploy-bot"]),
    Example { as_first_user: true, ..example("data-sources/iamkey_access_keys", &["deploy-bot"]) },
    example("functions/ses_smtp_password_v4", &["mailer"]),
    example("ephemeral-resources/iamkey_access_key", &["deploy-bot"]),
    Example { query: true, ..example("list-resources/iamkey_access_key", &["deploy-bot"]) },
    example("user-keys-for-several-users", &["build-bot", "deploy-bot"]),
];

/// Examples another test runs end to end, and the one called by another.
const RUN_ELSEWHERE: [&str; 8] = [
    "organization-audit",
    "quickstart",
    "ci-identity",
    "adopt-existing-keys",
    "modules/user_keys",
    "actions/iamkey_deactivate_keys",
    "actions/iamkey_quarantine_key",
    "rotation-with-deactivation",
];

/// Folders under examples/ holding Terraform files.
fn example_folders(dir: &Path, root: &Path, found: &mut Vec<String>) {
    let entries: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    if entries.iter().any(|p| p.extension().is_some_and(|x| x == "tf" || x == "hcl")) {
        found.push(dir.strip_prefix(root).unwrap().to_string_lossy().into_owned());
    }
    for sub in entries.iter().filter(|p| p.is_dir()) {
        example_folders(sub, root, found);
    }
}

#[test]
fn every_example_is_formatted_and_runs_against_the_emulator() {
    let tree = tempfile::tempdir().unwrap();
    copy_tree(&project_root().join("examples"), tree.path());
    let ws = Workspace::new("");
    let fmt = ws.tf(&["fmt", "-check", "-recursive", tree.path().to_str().unwrap()]);
    assert_eq!(fmt.code, 0, "terraform fmt would change: {}", fmt.all());
    let mut folders = Vec::new();
    example_folders(&project_root().join("examples"), &project_root().join("examples"), &mut folders);
    for folder in &folders {
        assert!(RUN_HERE.iter().any(|e| e.folder == folder) || RUN_ELSEWHERE.contains(&folder.as_str()), "examples/{folder} runs in no test");
    }

    let recipient = GpgKey::generate("examples <examples@example.invalid>", "encrypt").armored;
    for Example { folder, users: placeholders, query, as_first_user } in RUN_HERE {
        let dir = tree.path().join(folder);
        // Type examples carry no terraform block: they are read with the provider example.
        if !dir.join("provider.tf").exists()
            && !std::fs::read_dir(&dir).unwrap().any(|e| std::fs::read_to_string(e.unwrap().path()).unwrap_or_default().contains("required_providers"))
        {
            std::fs::copy(project_root().join("examples/provider/provider.tf"), dir.join("provider.tf")).unwrap();
        }
        // The import examples need a key that exists: their own test runs them.
        for import_example in ["import-by-string-id.tf", "import-by-identity.tf"] {
            let _ = std::fs::remove_file(dir.join(import_example));
        }
        let users: Vec<String> = placeholders.iter().map(|p| unique_user(p)).collect();
        for file in std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()) {
            let text = std::fs::read_to_string(&file).unwrap();
            let text = placeholders.iter().zip(&users).fold(text, |text, (from, to)| text.replace(&format!("\"{from}\""), &format!("\"{to}\"")));
            std::fs::write(&file, text).unwrap();
        }
        users.iter().for_each(|u| create_user(u));
        let mut signer = Vec::new();
        if as_first_user {
            let made = block_on(Emulator::get().iam().create_access_key().user_name(&users[0]).send()).unwrap();
            let key = made.access_key().unwrap();
            signer = vec![("AWS_ACCESS_KEY_ID", key.access_key_id().to_string()), ("AWS_SECRET_ACCESS_KEY", key.secret_access_key().to_string())];
        }
        let signer: Vec<(&str, &str)> = signer.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let chdir = format!("-chdir={}", dir.display());
        ws.tf(&[&chdir, "init", "-input=false"]).assert_success();
        if query {
            let listed = ws.tf_env(&[&chdir, "query"], &signer);
            assert_eq!(listed.code, 0, "examples/{folder}: {}", listed.all());
            continue;
        }
        let pgp = format!("-var=deploy_bot_pgp_key={recipient}");
        let variables: &[&str] = if folder.starts_with("resources/") { &[&pgp] } else { &[] };
        let applied = ws.tf_env(&[&[chdir.as_str(), "apply", "-auto-approve", "-input=false"], variables].concat(), &signer);
        assert_eq!(applied.code, 0, "examples/{folder}: {}", applied.all());
        let destroyed = ws.tf_env(&[&[chdir.as_str(), "destroy", "-auto-approve", "-input=false"], variables].concat(), &signer);
        assert_eq!(destroyed.code, 0, "examples/{folder}: {}", destroyed.all());
        let signing_key = signer.first().map(|(_, id)| id.to_string());
        for user in &users {
            let left: Vec<_> = keys_of(user).into_iter().filter(|(id, _)| Some(id) != signing_key.as_ref()).collect();
            assert!(left.is_empty(), "examples/{folder} left keys of {user}: {left:?}");
        }
    }
}

/// Output blocks of every example: (file, output name, block text).
fn example_outputs() -> Vec<(String, String, String)> {
    let mut files = Vec::new();
    example_folders(&project_root().join("examples"), &project_root().join("examples"), &mut files);
    let mut outputs = Vec::new();
    for folder in files {
        for path in std::fs::read_dir(project_root().join("examples").join(&folder)).unwrap().map(|e| e.unwrap().path()) {
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            for (at, _) in text.match_indices("\noutput \"") {
                let name = text[at + 9..].split('"').next().unwrap().to_string();
                let end = text[at..].find("\n}").map_or(text.len(), |e| at + e);
                outputs.push((format!("{folder}/{}", path.file_name().unwrap().to_string_lossy()), name, text[at..end].to_string()));
            }
        }
    }
    outputs
}

/// Why an output block hands out a secret (None: it does not). A sensitive output
/// is still in state, readable by every terraform_remote_state reader; only an
/// example that exists to show `pgp_key` may output what is encrypted to it.
fn secret_in_output(file_text: &str, block: &str) -> Option<&'static str> {
    let refers =
        |attribute: &str| block.match_indices(attribute).any(|(at, _)| !block[at + attribute.len()..].starts_with(|c: char| c == '_' || c.is_alphanumeric()));
    if refers(".secret") {
        return Some("the secret");
    }
    if block.contains("ses_smtp_password") {
        return Some("an SES SMTP password");
    }
    (block.contains("encrypted_") && !file_text.contains("pgp_key")).then_some("an encrypted secret outside a pgp_key example")
}

#[test]
fn no_example_outputs_a_secret() {
    let outputs = example_outputs();
    assert!(outputs.len() >= 8, "{outputs:?}");
    for (file, name, block) in &outputs {
        let text = std::fs::read_to_string(project_root().join("examples").join(file)).unwrap();
        assert_eq!(secret_in_output(&text, block), None, "examples/{file}: output {name:?} hands out a secret:\n{block}");
    }
    // The check sees what the examples used to do.
    let module_output = "output \"secrets\" {\n  value = { for user, key in iamkey_access_key.this : user => key.secret }\n  sensitive = true\n}";
    assert_eq!(secret_in_output("", module_output), Some("the secret"));
    let function_output = "output \"p\" {\n  value = provider::iamkey::ses_smtp_password_v4(iamkey_access_key.smtp.secret, \"eu-west-1\")\n}";
    assert!(secret_in_output("", function_output).is_some());
    assert_eq!(
        secret_in_output("", "output \"e\" {\n  value = iamkey_access_key.k.encrypted_secret\n}"),
        Some("an encrypted secret outside a pgp_key example")
    );
    assert_eq!(secret_in_output("pgp_key = var.k", "output \"e\" {\n  value = iamkey_access_key.k.encrypted_secret\n}"), None);
    assert_eq!(secret_in_output("", "output \"v\" {\n  value = iamkey_access_key.k.secret_destination_version\n}"), None);
}

#[test]
fn the_readme_quick_start_creates_and_destroys_a_key() {
    let output =
        Command::new(project_root().join("scripts/quickstart.sh")).env("IAMKEY_BUILD_PROFILE", "debug").env("IAMKEY_TF_CLI", terraform_cli()).output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    for step in ["1/6", "2/6", "3/6", "4/6", "5/6", "6/6"] {
        assert!(stdout.contains(&format!("==> {step}")), "step {step} missing:\n{stdout}");
    }
    assert!(stdout.contains("Apply complete! Resources: 1 added"), "{stdout}");
    assert!(stdout.contains("secret_parameter = \"/quickstart/quickstart-user/access-key\""), "{stdout}");
    assert!(stdout.contains("secret_destination_version = \"1\""), "the secret went to its parameter: {stdout}");
    assert!(stdout.contains("Destroy complete! Resources: 1 destroyed."), "{stdout}");
    assert!(stdout.contains("Quick start complete."));
}

/// package.sh refuses a release binary with test hooks; this proves its check
/// finds every hook of the suite's own build (which has them all compiled in).
#[test]
fn the_release_check_finds_the_test_hooks_of_a_test_build() {
    let binary = env!("CARGO_BIN_EXE_terraform-provider-iamkey");
    let checked = Command::new(project_root().join("scripts/check-no-test-hooks.sh")).arg(binary).output().unwrap();
    let report = String::from_utf8_lossy(&checked.stderr);
    assert!(!checked.status.success(), "a test build must fail the check: {report}");
    for hook in ["IAMKEY_TEST_PANIC_AT", "IAMKEY_TEST_FAIL_AT", "IAMKEY_TEST_DAYS_AHEAD"] {
        assert!(report.contains(hook), "{hook} not found: {report}");
    }
}

/// An example file as a user would run it here: after the suite's provider block
/// (the example's own provider block is in versions.tf), with its placeholders
/// (`from`) replaced by names of this run (`to`).
fn example_with(path: &str, replacements: &[(&str, &str)]) -> String {
    let mut example = std::fs::read_to_string(project_root().join("examples").join(path)).unwrap();
    for (from, to) in replacements {
        assert!(example.contains(from), "examples/{path} has no {from:?}");
        example = example.replace(from, to);
    }
    format!("{}{example}", provider_block())
}

#[test]
fn the_import_block_examples_adopt_an_existing_key_as_documented() {
    for example in ["import-by-string-id.tf", "import-by-identity.tf"] {
        let user = unique_user("import-example");
        create_user(&user);
        let made = block_on(Emulator::get().iam().create_access_key().user_name(&user).send()).expect("CreateAccessKey");
        let key_id = made.access_key().unwrap().access_key_id().to_string();
        let ws = Workspace::new("");
        ws.write(&example_with(&format!("resources/iamkey_access_key/{example}"), &[("deploy-bot", &user), ("AKIAIOSFODNN7EXAMPLE", &key_id)]));
        let applied = ws.apply().assert_success();
        assert!(applied.stdout.contains("1 imported, 0 added, 0 changed, 0 destroyed"), "{example}: {}", applied.stdout);
        assert_eq!(ws.state_key_ids(), vec![key_id.clone()], "{example}");
        assert_eq!(keys_of(&user), vec![(key_id, "Active".to_string())], "{example}: the import made or changed no key");
        assert_eq!(ws.plan().code, 0, "{example}: nothing to do after the import");
    }
}

/// tests/support/provider_registry.py serving `dist` over HTTPS; lives as long as the test.
struct Registry {
    child: std::process::Child,
    port: u16,
    ca: std::path::PathBuf,
}

impl Registry {
    fn serve(dist: &Path, state: &Path, key_id: &str, public_key: &Path) -> Registry {
        let mut child = Command::new(project_root().join(".venv/bin/python"))
            .arg(project_root().join("tests/support/provider_registry.py"))
            .args(["--dist", dist.to_str().unwrap(), "--state", state.to_str().unwrap(), "--key-id", key_id, "--public-key", public_key.to_str().unwrap()])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("the registry starts");
        let mut line = String::new();
        std::io::BufRead::read_line(&mut std::io::BufReader::new(child.stdout.take().unwrap()), &mut line).unwrap();
        let port = line.trim().parse().unwrap_or_else(|_| panic!("the registry prints its port, not {line:?}"));
        Registry { child, port, ca: state.join("ca.pem") }
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn a_signed_release_installs_from_a_registry_as_signed_and_a_tampered_one_is_refused() {
    let signing = GpgKey::generate("iamkey release test <release@example.invalid>", "sign");
    let (fingerprint, armor) = (&signing.fingerprint, &signing.armored);
    let key_id = &fingerprint[fingerprint.len() - 16..];
    let dist = tempfile::tempdir().unwrap();
    let status = Command::new(project_root().join("scripts/package.sh"))
        .arg(dist.path())
        .env("IAMKEY_BUILD_PROFILE", "debug")
        .env("GNUPGHOME", signing.home.path())
        .env("IAMKEY_SIGNING_KEY", fingerprint)
        .status()
        .unwrap();
    assert!(status.success());
    let version = env!("CARGO_PKG_VERSION");
    let sums = dist.path().join(format!("terraform-provider-iamkey_{version}_SHA256SUMS"));
    assert!(dist.path().join(format!("terraform-provider-iamkey_{version}_SHA256SUMS.sig")).exists(), "package.sh signs the checksums");

    let state = tempfile::tempdir().unwrap();
    let public_key = state.path().join("public.asc");
    std::fs::write(&public_key, armor).unwrap();
    let registry = Registry::serve(dist.path(), state.path(), key_id, &public_key);
    // No mirror: the provider comes from the registry, which Terraform reaches over
    // HTTPS trusting the throwaway CA.
    let cli_config = state.path().join("direct.rc");
    std::fs::write(&cli_config, "provider_installation {\n  direct {}\n}\n").unwrap();
    let ws = Workspace::empty(|ws| ws.with_env("TF_CLI_CONFIG_FILE", cli_config.to_str().unwrap()).with_env("SSL_CERT_FILE", registry.ca.to_str().unwrap()));
    let source = format!("localhost:{}/iamkey/iamkey", registry.port);
    let config =
        format!("terraform {{\n  required_providers {{\n    iamkey = {{\n      source  = \"{source}\"\n      version = \"{version}\"\n    }}\n  }}\n}}\n");
    std::fs::write(ws.path().join("main.tf"), config).unwrap();
    let fresh_init = || {
        let _ = std::fs::remove_dir_all(ws.path().join(".terraform"));
        let _ = std::fs::remove_file(ws.path().join(".terraform.lock.hcl"));
        ws.tf(&["init", "-input=false"])
    };

    let installed = fresh_init().assert_success();
    assert!(installed.stdout.contains(&format!("Installed {source} v{version} (self-signed, key ID {key_id})")), "{}", installed.all());

    // Checksums that are not the ones signed: refused.
    let signed_sums = std::fs::read(&sums).unwrap();
    std::fs::write(&sums, [signed_sums.as_slice(), b"0000  another-file.zip\n"].concat()).unwrap();
    let refused = fresh_init();
    assert_ne!(refused.code, 0, "checksums that do not match their signature must be refused:\n{}", refused.all());
    assert!(refused.all().contains("invalid signature"), "{}", refused.all());
    std::fs::write(&sums, &signed_sums).unwrap();

    // A package that is not the one the signed checksums name: refused.
    let zip = std::fs::read_dir(dist.path()).unwrap().map(|e| e.unwrap().path()).find(|p| p.extension().is_some_and(|x| x == "zip")).unwrap();
    let mut bytes = std::fs::read(&zip).unwrap();
    bytes.push(0);
    std::fs::write(&zip, bytes).unwrap();
    let refused = fresh_init();
    assert_ne!(refused.code, 0, "a package that does not match the signed checksums must be refused:\n{}", refused.all());
    assert!(refused.all().contains("incorrect checksum"), "{}", refused.all());
}

/// The key's document in Secrets Manager.
fn stored_key(secret_id: &str) -> serde_json::Value {
    let stored = block_on(secrets_manager().get_secret_value().secret_id(secret_id).send()).expect("the secret was written");
    serde_json::from_str(stored.secret_string().unwrap()).unwrap()
}

#[test]
fn the_ci_identity_example_rotates_with_no_downtime_and_keeps_the_secret_out_of_state() {
    let user = unique_user("ci-identity");
    create_user(&user);
    let ws = Workspace::new(&example_with("ci-identity/main.tf", &[("\"ci-deployer\"", &format!("\"{user}\""))]));
    ws.apply().assert_success();
    let secret_id = format!("ci/{user}/aws-access-key");
    let first = keys_of(&user);
    assert_eq!(first.len(), 1);
    let document = stored_key(&secret_id);
    assert_eq!(document["access_key_id"], first[0].0.as_str());
    let state = std::fs::read_to_string(ws.path().join("terraform.tfstate")).unwrap();
    assert!(!state.contains(document["secret_access_key"].as_str().unwrap()), "the secret reached the state");
    assert_eq!(ws.plan().code, 0, "not due yet");

    // 30 days on, the plan replaces the key: created (and stored) first, then the old one deleted.
    let aged = [("IAMKEY_TEST_DAYS_AHEAD", "30")];
    let applied = ws.tf_env(&["apply", "-auto-approve"], &aged).assert_success();
    let created = applied.stdout.find("iamkey_access_key.ci: Creation complete").expect("a new key");
    let destroyed = applied.stdout.find("(deposed object").expect("the old key deposed");
    assert!(created < destroyed, "the old key goes only after the new one exists:\n{}", applied.stdout);
    let second = keys_of(&user);
    assert!(second.len() == 1 && second[0].0 != first[0].0, "{second:?}");
    assert_eq!(stored_key(&secret_id)["access_key_id"], second[0].0.as_str(), "the secret holds the live key");
    ws.tf(&["destroy", "-auto-approve"]).assert_success();
    assert!(keys_of(&user).is_empty());
}

#[test]
fn the_adopt_existing_keys_example_imports_every_key_and_changes_none() {
    let (build, deploy) = (unique_user("adopt-build"), unique_user("adopt-deploy"));
    let mut made = Vec::new();
    for (user, keys) in [(&build, 1), (&deploy, 2)] {
        create_user(user);
        for _ in 0..keys {
            let key = block_on(Emulator::get().iam().create_access_key().user_name(user.as_str()).send()).unwrap();
            made.push(key.access_key().unwrap().access_key_id().to_string());
        }
    }
    // One key was deactivated (a responder's doing): adopting it must not turn it back on.
    let deactivated = made[0].clone();
    block_on(Emulator::get().iam().update_access_key().user_name(&build).access_key_id(&deactivated).status("Inactive".into()).send()).unwrap();
    made.sort();
    let config = example_with("adopt-existing-keys/main.tf", &[("\"build-bot\"", &format!("\"{build}\"")), ("\"deploy-bot\"", &format!("\"{deploy}\""))]);
    let ws = Workspace::new(&config);
    let applied = ws.apply().assert_success();
    assert!(applied.stdout.contains("3 imported, 0 added, 0 changed, 0 destroyed"), "{}", applied.stdout);
    assert_eq!(ws.state_key_ids(), made);
    let mut in_iam: Vec<String> = [keys_of(&build), keys_of(&deploy)].concat().into_iter().map(|(id, _)| id).collect();
    in_iam.sort();
    assert_eq!(in_iam, made, "no key was made or deleted");
    assert_eq!(keys_of(&build), [(deactivated, "Inactive".to_string())], "the Inactive key stayed Inactive");
    assert_eq!(ws.plan().code, 0, "nothing to do after the adoption");
}
