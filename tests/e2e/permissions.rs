//! Least privilege, proven end to end: each documented policy under
//! examples/iam-policies/ is attached to the user whose key the provider signs
//! with, on an emulator that enforces IAM policies, and the feature's lifecycle
//! runs clean with it; then, one action at a time, the policy without that action
//! makes the lifecycle fail, or warn where the provider degrades on purpose, with
//! a diagnostic that names the action. So no documented action is unnecessary and
//! none is missing.
//!
//! moto authorizes IAM actions against the resource "*" only (it does not match
//! user ARNs or evaluate `${aws:username}`), so the test attaches each policy with
//! its Resource set to "*": it proves the action sets; the resource scoping follows
//! AWS's resource types for these actions (docs/guides/permissions.md). The
//! emulator skips its signature check here (see tests/support/iam_emulator.py):
//! the signing key still decides the caller, and its policies every action.

use crate::support::policies::*;
use crate::support::*;

/// One feature: its policy files (the last one is the one whose actions are
/// removed one at a time), and the runs of its lifecycle.
struct Feature {
    name: &'static str,
    policies: &'static [&'static str],
    /// Whether the last policy's actions are removed one at a time (false for a
    /// feature that needs no permission beyond an earlier feature's policy).
    remove_each_action: bool,
    /// Whose keys it manages: another user, or (false) the caller itself.
    other_user: bool,
    /// A key of the managed user made beforehand (for the data source to read).
    existing_key: bool,
    /// Whether the one step is a `.tfquery.hcl` file for `terraform query`.
    query: bool,
    /// Whether the provider assumes a role: the feature's policies but the last go
    /// on the role, the last (what taking the role needs) on the operator.
    role: bool,
    /// An action the one step invokes (`terraform apply -invoke=...`) instead of
    /// applying, and the progress line that shows it did its work; the managed
    /// user's keys are made Active again before each run.
    invoke: Option<(&'static str, &'static str)>,
    /// The configurations applied in order (destroy follows), with @USER@ for the
    /// managed user, @KEY@ for its existing key, @ENDPOINT@ for the emulator and @NAME@ for a name unique to
    /// the run (secrets and parameters outlive a destroy).
    steps: &'static [&'static str],
}

fn features() -> Vec<Feature> {
    let feature = |name, policies, steps| Feature {
        name,
        policies,
        remove_each_action: true,
        other_user: true,
        existing_key: false,
        query: false,
        role: false,
        invoke: None,
        steps,
    };
    vec![
        feature(
            "core resource",
            &["core.json"],
            &[
                "resource \"iamkey_access_key\" \"k\" {\n  user = \"@USER@\"\n}\n",
                "resource \"iamkey_access_key\" \"k\" {\n  user   = \"@USER@\"\n  status = \"Inactive\"\n}\n",
            ],
        ),
        // No spaces in descriptions: moto re-encodes a space differently from the
        // Rust SDK when it checks a signature, and answers SignatureDoesNotMatch.
        feature(
            "description",
            &["core.json", "description.json"],
            &[
                "resource \"iamkey_access_key\" \"k\" {\n  user        = \"@USER@\"\n  description = \"deploy-key\"\n}\n",
                "resource \"iamkey_access_key\" \"k\" {\n  user        = \"@USER@\"\n  description = \"deploy-key-v2\"\n}\n",
            ],
        ),
        feature(
            "refresh_last_used",
            &["core.json", "last-used.json"],
            &["resource \"iamkey_access_key\" \"k\" {\n  user              = \"@USER@\"\n  refresh_last_used = true\n}\n"],
        ),
        Feature {
            existing_key: true,
            ..feature(
                "data source",
                &["data-source.json"],
                &["data \"iamkey_access_keys\" \"d\" {\n  user = \"@USER@\"\n}\noutput \"keys\" {\n  value = length(data.iamkey_access_keys.d.access_keys)\n}\n"],
            )
        },
        Feature {
            other_user: false,
            ..feature(
                "caller mode (user omitted)",
                &["caller-mode.json"],
                &["resource \"iamkey_access_key\" \"k\" {}\n", "resource \"iamkey_access_key\" \"k\" {\n  status = \"Inactive\"\n}\n"],
            )
        },
        // The key's own user may list its keys: the data source signed with the
        // ephemeral key proves the key was opened and works.
        feature(
            "ephemeral resource",
            &["ephemeral.json"],
            &["ephemeral \"iamkey_access_key\" \"k\" {\n  user = \"@USER@\"\n}\n\
               provider \"iamkey\" {\n  alias      = \"eph\"\n  access_key = ephemeral.iamkey_access_key.k.id\n  \
               secret_key = ephemeral.iamkey_access_key.k.secret\n  endpoints {\n    iam = \"@ENDPOINT@\"\n    sts = \"@ENDPOINT@\"\n  }\n}\n\
               data \"iamkey_access_keys\" \"via\" {\n  provider = iamkey.eph\n}\n"],
        ),
        feature(
            "secret_destination: Secrets Manager",
            &["core.json", "secrets-manager.json"],
            &[
                "resource \"iamkey_access_key\" \"k\" {\n  user = \"@USER@\"\n  secret_destination {\n    secretsmanager_secret_id = \"iam-keys/@NAME@\"\n  }\n  \
                 rotation {\n    keepers = { v = \"1\" }\n  }\n}\n",
                "resource \"iamkey_access_key\" \"k\" {\n  user = \"@USER@\"\n  secret_destination {\n    secretsmanager_secret_id = \"iam-keys/@NAME@\"\n  }\n  \
                 rotation {\n    keepers = { v = \"2\" }\n  }\n}\n",
            ],
        ),
        feature(
            "secret_destination: SSM Parameter Store",
            &["core.json", "ssm.json"],
            &["resource \"iamkey_access_key\" \"k\" {\n  user = \"@USER@\"\n  secret_destination {\n    ssm_parameter_name = \"/iam-keys/@NAME@\"\n  }\n}\n"],
        ),
        // The example's own policy runs the example as written (each of its actions
        // is shown necessary by the features above).
        Feature {
            remove_each_action: false,
            ..feature("examples/ci-identity", &["../ci-identity/terraform-runner-policy.json"], ci_identity_example())
        },
        // The operator may only take the role; the role holds the core policy. (moto
        // checks sts:AssumeRole against the caller's policies but not the trust
        // policy, nor sts:TagSession or sts:SetSourceIdentity, so those two are
        // documented from the Service Authorization Reference, not proven here.)
        Feature {
            role: true,
            ..feature(
                "assume_role (the role holds core.json)",
                &["core.json", "assume-role.json"],
                &["resource \"iamkey_access_key\" \"k\" {\n  user = \"@USER@\"\n}\n", "resource \"iamkey_access_key\" \"k\" {\n  user   = \"@USER@\"\n  status = \"Inactive\"\n}\n"],
            )
        },
        Feature {
            existing_key: true,
            invoke: Some(("action.iamkey_deactivate_keys.stale", "deactivated 1 of 1")),
            ..feature(
                "action iamkey_deactivate_keys",
                &["deactivate-keys.json"],
                &["action \"iamkey_deactivate_keys\" \"stale\" {\n  config {\n    user            = \"@USER@\"\n    unused_for_days = 0\n  }\n}\n"],
            )
        },
        // The key named by ID alone: its owner is found with GetAccessKeyLastUsed.
        Feature {
            existing_key: true,
            invoke: Some(("action.iamkey_quarantine_key.leaked", "AWSCompromisedKeyQuarantineV3 attached")),
            ..feature(
                "action iamkey_quarantine_key",
                &["quarantine-key.json"],
                &["action \"iamkey_quarantine_key\" \"leaked\" {\n  config {\n    access_key_id = \"@KEY@\"\n  }\n}\n"],
            )
        },
        Feature {
            remove_each_action: false,
            ..feature(
                "wait_until_usable (sts:GetCallerIdentity needs no permission)",
                &["core.json"],
                &["resource \"iamkey_access_key\" \"k\" {\n  user              = \"@USER@\"\n  wait_until_usable = true\n}\n"],
            )
        },
    ]
}

/// examples/ci-identity/main.tf for the managed user, as the one step.
fn ci_identity_example() -> &'static [&'static str] {
    let example = std::fs::read_to_string(project_root().join("examples/ci-identity/main.tf")).unwrap();
    assert!(example.contains("\"ci-deployer\""));
    let step: &'static str = Box::leak(example.replace("\"ci-deployer\"", "\"@USER@\"").into_boxed_str());
    Box::leak(Box::new([step]))
}

/// `terraform query` over every user: run alone, after the others, since it reads
/// every user's keys (ListUsers).
fn list_resource() -> Feature {
    Feature {
        name: "list resource (terraform query, every user)",
        policies: &["list-resource.json"],
        remove_each_action: true,
        other_user: true,
        existing_key: true,
        query: true,
        role: false,
        invoke: None,
        steps: &["list \"iamkey_access_key\" \"all\" {\n  provider = iamkey\n  config {\n  }\n}\n"],
    }
}

/// What one lifecycle printed, and whether every command succeeded, with an empty
/// plan after each apply and no warning.
struct Lifecycle {
    clean: bool,
    output: String,
}

/// The role a feature's provider assumes, one per operator.
fn role_of(operator: &str) -> String {
    format!("iamkey-manager-{operator}")
}

/// Who runs a lifecycle: the operator signing, the managed user, and the key the
/// feature reads (`@KEY@`; the last one kept).
struct People<'p> {
    operator: &'p str,
    user: &'p str,
    key: &'p str,
}

fn run_lifecycle(emulator: &Emulator, signer: &(String, String), people: &People<'_>, feature: &Feature) -> Lifecycle {
    let (operator, user) = (people.operator, people.user);
    let steps = feature.steps;
    static RUNS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let run = RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let endpoint = emulator.endpoint();
    let mut credentials = format!("  access_key = \"{}\"\n  secret_key = \"{}\"\n", signer.0, signer.1);
    if feature.role {
        credentials.push_str(&format!("  assume_role {{\n    role_arn = \"arn:aws:iam::{DEFAULT_ACCOUNT}:role/{}\"\n  }}\n", role_of(operator)));
    }
    let config = |step: &str| {
        let step = step.replace("@USER@", user).replace("@ENDPOINT@", &endpoint).replace("@NAME@", &format!("{user}-{run}")).replace("@KEY@", people.key);
        format!("{}{step}", provider_block_with(&endpoint, &credentials))
    };
    // Secrets Manager and SSM take AWS_ENDPOINT_URL: this emulator's too.
    let ws = Workspace::configured(&config(""), |ws| ws.with_env("AWS_ENDPOINT_URL", &endpoint));
    if feature.query {
        std::fs::write(ws.path().join("keys.tfquery.hcl"), steps[0]).unwrap();
        let run = ws.tf(&["query"]);
        let output = run.all();
        return Lifecycle { clean: run.code == 0 && !output.contains("Warning:"), output };
    }
    if let Some((action, done)) = feature.invoke {
        ws.write(&config(steps[0]));
        let run = ws.tf(&["apply", "-auto-approve", &format!("-invoke={action}")]);
        let output = run.all();
        // A failed step fails the run (and names the call). The plan's dry run (what
        // the action would do) is the one warning expected.
        let dry_runs = output.matches("Warning: Keys to deactivate").count() + output.matches("Warning: Key to quarantine").count();
        return Lifecycle { clean: run.code == 0 && output.matches("Warning:").count() == dry_runs && output.contains(done), output };
    }
    let mut output = String::new();
    let mut clean = true;
    for step in steps {
        ws.write(&config(step));
        let apply = ws.apply();
        output.push_str(&apply.all());
        let plan = ws.plan();
        output.push_str(&plan.all());
        if apply.code != 0 || plan.code != 0 {
            clean = false;
            break;
        }
    }
    let destroy = ws.tf(&["destroy", "-auto-approve"]);
    output.push_str(&destroy.all());
    Lifecycle { clean: clean && destroy.code == 0 && !output.contains("Warning:"), output }
}

/// Removes what a failed lifecycle may have left: every key of `user` but `keep`,
/// and its tags.
fn clean_up(admin: &aws_sdk_iam::Client, user: &str, keep: &[String]) {
    let keys = block_on(admin.list_access_keys().user_name(user).send()).unwrap();
    for key in keys.access_key_metadata() {
        let id = key.access_key_id().unwrap();
        match keep.iter().any(|k| k == id) {
            // A kept key is Active again (an action may have deactivated it).
            true => drop(block_on(admin.update_access_key().user_name(user).access_key_id(id).status("Active".into()).send()).unwrap()),
            false => drop(block_on(admin.delete_access_key().user_name(user).access_key_id(id).send()).unwrap()),
        }
    }
    let tags = block_on(admin.list_user_tags().user_name(user).send()).unwrap();
    let names: Vec<String> = tags.tags().iter().map(|t| t.key().to_string()).collect();
    if !names.is_empty() {
        block_on(admin.untag_user().user_name(user).set_tag_keys(Some(names)).send()).unwrap();
    }
}

fn attach(admin: &aws_sdk_iam::Client, user: &str, name: &str, document: &serde_json::Value) {
    block_on(admin.put_user_policy().user_name(user).policy_name(name).policy_document(document.to_string()).send()).unwrap();
}

/// A role the operator may take (per the trust policy; moto does not check it)
/// holding `documents`.
fn role_with(admin: &aws_sdk_iam::Client, operator: &str, documents: &[(String, Vec<String>, serde_json::Value)]) {
    let trust = serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
        "Principal": {"AWS": format!("arn:aws:iam::{DEFAULT_ACCOUNT}:user/{operator}")}}]});
    block_on(admin.create_role().role_name(role_of(operator)).assume_role_policy_document(trust.to_string()).send()).unwrap();
    for (name, _, document) in documents {
        block_on(admin.put_role_policy().role_name(role_of(operator)).policy_name(name).policy_document(document.to_string()).send()).unwrap();
    }
}

/// Runs one feature; returns its row for the report.
fn prove(feature: &Feature, emulator: &Emulator, admin: &aws_sdk_iam::Client, operator: &str, signer: &(String, String), target: &str) -> String {
    let user = if feature.other_user { target } else { operator };
    // Keys clean-up leaves: the signer's own, and one the feature reads.
    let mut kept: Vec<String> = if feature.other_user { Vec::new() } else { vec![signer.0.clone()] };
    if feature.existing_key {
        let key = block_on(admin.create_access_key().user_name(user).send()).unwrap();
        kept.push(key.access_key().unwrap().access_key_id().to_string());
    }
    let documents: Vec<(String, Vec<String>, serde_json::Value)> = feature
        .policies
        .iter()
        .map(|file| {
            let (actions, document) = policy(file);
            let name = std::path::Path::new(file).file_stem().unwrap().to_string_lossy().into_owned();
            (name, actions, document)
        })
        .collect();
    let on_the_operator = match feature.role {
        true => {
            role_with(admin, operator, &documents[..documents.len() - 1]);
            &documents[documents.len() - 1..]
        }
        false => &documents[..],
    };
    for (name, _, document) in on_the_operator {
        attach(admin, operator, name, document);
    }
    let people = People { operator, user, key: kept.last().map_or("", String::as_str) };
    let full = run_lifecycle(emulator, signer, &people, feature);
    assert!(full.clean, "{}: the lifecycle does not run clean with the documented policy:\n{}", feature.name, full.output);
    clean_up(admin, user, &kept);

    let (name, actions, document) = documents.last().unwrap();
    if !feature.remove_each_action {
        return format!("| {} | {} | none beyond it |", feature.name, feature.policies.join(" + "));
    }
    for action in actions {
        match actions.len() {
            // A statement needs an action: the policy without its only one is none.
            1 => drop(block_on(admin.delete_user_policy().user_name(operator).policy_name(name.as_str()).send()).unwrap()),
            _ => attach(admin, operator, name, &without(document, action)),
        }
        let reduced = run_lifecycle(emulator, signer, &people, feature);
        attach(admin, operator, name, document);
        clean_up(admin, user, &kept);
        assert!(!reduced.clean, "{}: {action} is in the policy but the lifecycle needs no permission for it:\n{}", feature.name, reduced.output);
        assert!(reduced.output.contains(action.as_str()), "{}: without {action} the lifecycle fails without naming it:\n{}", feature.name, reduced.output);
    }
    format!("| {} | {} | {} of {} |", feature.name, feature.policies.join(" + "), actions.len(), actions.len())
}

#[test]
fn each_documented_policy_is_exactly_what_its_feature_needs() {
    // AWS's managed policies loaded: the quarantine action attaches one.
    let emulator = Emulator::start_with(&[("IAMKEY_EMULATOR_UNSIGNED_POLICIES", "1"), ("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")]);
    let (admin_id, admin_secret) = user_with_key(&emulator, "permissions-admin");
    let admin_policy = serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]});
    block_on(emulator.iam().put_user_policy().user_name("permissions-admin").policy_name("all").policy_document(admin_policy.to_string()).send()).unwrap();
    let features = features();
    // One operator (the signer) and one managed user per feature, the list
    // resource's last.
    let people: Vec<(String, (String, String), String)> = (0..=features.len())
        .map(|i| {
            let (operator, target) = (format!("operator-{i}"), format!("ci-{i}"));
            let signer = user_with_key(&emulator, &operator);
            block_on(emulator.iam().create_user().user_name(&target).send()).unwrap();
            // A key's own user may read its keys (the ephemeral feature signs with one).
            let self_read = serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
                "Action": ["iam:ListAccessKeys", "iam:GetAccessKeyLastUsed"], "Resource": "*"}]});
            block_on(emulator.iam().put_user_policy().user_name(&target).policy_name("self-read").policy_document(self_read.to_string()).send()).unwrap();
            (operator, signer, target)
        })
        .collect();
    enforce_policies(&emulator);
    let admin = emulator.iam_with(&admin_id, &admin_secret);
    let denied = block_on(emulator.iam().list_users().send());
    assert!(denied.is_err(), "policies are enforced: an unknown key is refused");

    let rows: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = features
            .iter()
            .zip(&people)
            .map(|(feature, (operator, signer, target))| {
                let (emulator, admin) = (&emulator, &admin);
                scope.spawn(move || prove(feature, emulator, admin, operator, signer, target))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e))).collect()
    });
    let mut rows = rows;
    let (operator, signer, target) = people.last().unwrap();
    rows.push(prove(&list_resource(), &emulator, &admin, operator, signer, target));
    let dir = project_root().join("target/permissions");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("permissions.md"),
        format!("| feature | policy | actions shown necessary (each removed: named failure or warning) |\n|---|---|---|\n{}\n", rows.join("\n")),
    )
    .unwrap();
}
