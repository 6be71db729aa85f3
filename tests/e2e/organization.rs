//! The organization audit, end to end: an AWS Organization on an emulator of its
//! own that enforces IAM policies, a management account whose auditor holds only
//! examples/iam-policies/organization-audit.json, member accounts in nested
//! organizational units whose OrganizationAccountAccessRole holds only
//! organization-audit-member.json, and one member account without the role. The
//! data source and `terraform query` read every account they may; the one they
//! cannot is a warning and a `failed_accounts` entry. Then each action is taken
//! out of its policy in turn, and the audit is no longer clean and names it.

use std::sync::OnceLock;

use crate::support::policies::*;
use crate::support::*;

const ROLE: &str = "OrganizationAccountAccessRole";

/// The organization, made once for the tests of this module that only read it.
struct Org {
    emulator: Emulator,
    /// The management account's auditor: the provider signs with its key.
    auditor: (String, String),
    /// The organization's root, and the unit prod (prod/payments and dev are the others).
    root: String,
    prod: String,
    /// Member accounts: in prod, in prod/payments, in dev, and (without the role) in dev.
    prod_account: String,
    payments_account: String,
    dev_account: String,
    roleless_account: String,
    /// Keys made out of band: (account, user, key id, status).
    keys: Vec<(String, String, String, &'static str)>,
    /// An administrator in each account (after enforcement, the only way to change policies).
    admins: Vec<(String, aws_sdk_iam::Client)>,
    /// The accounts whose root user holds an access key, as the emulator reads them
    /// at each GetAccountSummary (tests/support/iam_emulator.py); none at first.
    root_keys_file: tempfile::NamedTempFile,
}

/// The shared organization: in it, the root user of the payments account holds a key.
fn org() -> &'static Org {
    static ORG: OnceLock<Org> = OnceLock::new();
    ORG.get_or_init(|| {
        let org = make_org();
        std::fs::write(org.root_keys_file.path(), &org.payments_account).unwrap();
        org
    })
}

fn everything() -> serde_json::Value {
    serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
}

/// An administrator (allowed everything) in the account `iam` acts in, and its key's ID.
fn admin_in(emulator: &Emulator, iam: &aws_sdk_iam::Client) -> (aws_sdk_iam::Client, String) {
    let (id, secret) = user_with_key_in(iam, "org-admin");
    block_on(iam.put_user_policy().user_name("org-admin").policy_name("all").policy_document(everything().to_string()).send()).unwrap();
    (emulator.iam_with(&id, &secret), id)
}

fn make_org() -> Org {
    let root_keys_file = tempfile::NamedTempFile::new().unwrap();
    let root_keys_path = root_keys_file.path().to_str().unwrap();
    let emulator = Emulator::start_with(&[
        ("IAMKEY_EMULATOR_UNSIGNED_POLICIES", "1"),
        ("IAMKEY_EMULATOR_ROLES_MUST_EXIST", "1"),
        ("IAMKEY_EMULATOR_ROOT_KEYS_FILE", root_keys_path),
    ]);
    let orgs = emulator.organizations();
    block_on(orgs.create_organization().feature_set(aws_sdk_organizations::types::OrganizationFeatureSet::All).send()).unwrap();
    let root = block_on(orgs.list_roots().send()).unwrap().roots()[0].id().unwrap().to_string();
    let unit = |parent: &str, name: &str| {
        let out = block_on(orgs.create_organizational_unit().parent_id(parent).name(name).send()).unwrap();
        out.organizational_unit().unwrap().id().unwrap().to_string()
    };
    let prod = unit(&root, "prod");
    let payments = unit(&prod, "payments");
    let dev = unit(&root, "dev");
    let account = |name: &str, parent: &str| {
        let out = block_on(orgs.create_account().account_name(name).email(format!("{name}@example.com")).send()).unwrap();
        let id = out.create_account_status().unwrap().account_id().unwrap().to_string();
        block_on(orgs.move_account().account_id(&id).source_parent_id(&root).destination_parent_id(parent).send()).unwrap();
        id
    };
    let (prod_account, payments_account, dev_account, roleless_account) =
        (account("prod", &prod), account("payments", &payments), account("dev", &dev), account("roleless", &dev));

    // The management account: the auditor, with the management policy.
    let management = emulator.iam();
    let auditor = user_with_key_in(&management, "auditor");
    let (_, document) = policy("organization-audit.json");
    block_on(management.put_user_policy().user_name("auditor").policy_name("audit").policy_document(document.to_string()).send()).unwrap();
    let (admin, _) = admin_in(&emulator, &management);
    let mut admins = vec![(DEFAULT_ACCOUNT.to_string(), admin)];

    // Each member account: users with keys; the role with the member policy but in one.
    let mut keys = Vec::new();
    let (_, member_policy) = policy("organization-audit-member.json");
    let layout: [(&String, &str, &[&'static str], bool); 4] = [
        (&prod_account, "alice", &["Active", "Active"], true),
        (&payments_account, "bob", &["Active", "Inactive"], true),
        (&dev_account, "carol", &["Active"], true),
        (&roleless_account, "dave", &["Active"], false),
    ];
    for (account, user, statuses, with_role) in layout {
        let iam = emulator.iam_in(&emulator.session_as(account, ROLE));
        block_on(iam.create_user().user_name(user).send()).unwrap();
        for status in statuses {
            let (id, secret) = {
                let key = block_on(iam.create_access_key().user_name(user).send()).unwrap();
                let key = key.access_key().unwrap();
                (key.access_key_id().to_string(), key.secret_access_key().to_string())
            };
            if *status == "Inactive" {
                block_on(iam.update_access_key().user_name(user).access_key_id(&id).status("Inactive".into()).send()).unwrap();
            }
            if user == "bob" && *status == "Active" {
                // Used once: its last use is known.
                block_on(emulator.iam_with(&id, &secret).list_access_keys().user_name(user).send()).unwrap();
            }
            keys.push((account.clone(), user.to_string(), id, *status));
        }
        // Organizations made the role, trusting the management account, with no policy.
        if with_role {
            block_on(iam.put_role_policy().role_name(ROLE).policy_name("audit").policy_document(member_policy.to_string()).send()).unwrap();
            let (admin, admin_key) = admin_in(&emulator, &iam);
            keys.push((account.clone(), "org-admin".to_string(), admin_key, "Active"));
            admins.push((account.clone(), admin));
        } else {
            block_on(iam.delete_role().role_name(ROLE).send()).unwrap();
        }
    }
    enforce_policies(&emulator);
    Org { emulator, auditor, root, prod, prod_account, payments_account, dev_account, roleless_account, keys, admins, root_keys_file }
}

impl Org {
    fn provider(&self) -> String {
        let credentials = format!("  access_key = \"{}\"\n  secret_key = \"{}\"\n", self.auditor.0, self.auditor.1);
        provider_block_with(&self.emulator.endpoint(), &credentials)
    }

    fn workspace(&self, config: &str) -> Workspace {
        Workspace::configured(&format!("{}{config}", self.provider()), |ws| ws.with_env("AWS_ENDPOINT_URL", &self.emulator.endpoint()))
    }

    /// The keys made out of band in `accounts`: (account, key id), sorted.
    fn keys_in(&self, accounts: &[&String]) -> Vec<(String, String)> {
        let mut keys: Vec<_> = self.keys.iter().filter(|k| accounts.contains(&&k.0)).map(|k| (k.0.clone(), k.2.clone())).collect();
        keys.sort();
        keys
    }
}

/// The (account, key id) pairs of a data source's `access_keys` in member
/// accounts, sorted.
fn listed(data: &serde_json::Value) -> Vec<(String, String)> {
    let mut keys: Vec<_> = data["access_keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| (k["account_id"].as_str().unwrap().to_string(), k["access_key_id"].as_str().unwrap().to_string()))
        .filter(|(account, _)| account != DEFAULT_ACCOUNT)
        .collect();
    keys.sort();
    keys
}

fn findings_of<'d>(data: &'d serde_json::Value, id: &str) -> Vec<&'d str> {
    let key = data["access_keys"].as_array().unwrap().iter().find(|k| k["access_key_id"] == id).unwrap_or_else(|| panic!("{id} not listed: {data}"));
    key["findings"].as_array().unwrap().iter().map(|f| f["control"].as_str().unwrap()).collect()
}

#[test]
fn the_data_source_reads_every_member_account_with_findings_and_reports_the_one_it_cannot() {
    let org = org();
    let ws = org
        .workspace(
            "data \"iamkey_access_keys\" \"org\" {\n  organization {}\n}\n\
             data \"iamkey_access_keys\" \"lenient\" {\n  max_age_days    = 365\n  max_unused_days = 365\n  organization {}\n}\n",
        )
        .with_env("IAMKEY_TEST_DAYS_AHEAD", "100");
    let apply = ws.apply().assert_success();
    let warning = format!("Warning: Account {} not read", org.roleless_account);
    assert!(apply.all().contains(&warning), "{}", apply.all());
    assert!(apply.all().contains(&format!("The keys of AWS account {} are not in the results", org.roleless_account)), "{}", apply.all());

    let data = ws.resource("data.iamkey_access_keys.org")["values"].clone();
    let members = [&org.prod_account, &org.payments_account, &org.dev_account];
    assert_eq!(listed(&data), org.keys_in(&members), "every key of every readable member account, with its account");
    let auditor =
        data["access_keys"].as_array().unwrap().iter().find(|k| k["access_key_id"] == org.auditor.0.as_str()).expect("the management account is read too");
    assert_eq!(auditor["account_id"], DEFAULT_ACCOUNT);
    let failed = data["failed_accounts"].as_array().unwrap();
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(failed[0]["account_id"], org.roleless_account.as_str());
    let reason = failed[0]["reason"].as_str().unwrap();
    assert!(
        reason.contains(&format!("arn:aws:iam::{}:role/{ROLE} (sts:AssumeRole)", org.roleless_account)),
        "the reason names the role and the call: {reason}"
    );

    // 100 days on: every active key is past both limits; alice has two active keys.
    let key = |user: &str, status: &str| org.keys.iter().find(|k| k.1 == user && k.3 == status).unwrap().2.clone();
    let alice: Vec<_> = org.keys.iter().filter(|k| k.1 == "alice").map(|k| k.2.clone()).collect();
    for id in &alice {
        assert_eq!(findings_of(&data, id), ["IAM.3", "IAM.22", "TWO_ACTIVE_KEYS"]);
    }
    assert_eq!(findings_of(&data, &key("bob", "Active")), ["IAM.3", "IAM.22"]);
    assert_eq!(findings_of(&data, &key("bob", "Inactive")), Vec::<&str>::new(), "an inactive key signs nothing");
    assert_eq!(findings_of(&data, &key("carol", "Active")), ["IAM.3", "IAM.22"]);
    let reasons = |id: &str| data["access_keys"].as_array().unwrap().iter().find(|k| k["access_key_id"] == id).unwrap()["findings"].to_string();
    assert!(reasons(&key("bob", "Active")).contains("unused for 100 days (limit 45)"), "{}", reasons(&key("bob", "Active")));
    assert!(reasons(&key("carol", "Active")).contains("never used in its 100 days (limit 45)"), "{}", reasons(&key("carol", "Active")));
    assert_eq!(data["accounts_with_root_keys"], serde_json::json!([org.payments_account]), "IAM.4: the one account whose root user holds a key");

    let lenient = ws.resource("data.iamkey_access_keys.lenient")["values"].clone();
    assert_eq!(findings_of(&lenient, &alice[0]), ["TWO_ACTIVE_KEYS"], "the limits are configurable");
    assert_eq!(findings_of(&lenient, &key("carol", "Active")), Vec::<&str>::new());
}

#[test]
fn units_and_account_lists_choose_the_accounts() {
    let org = org();
    let config = format!(
        "data \"iamkey_access_keys\" \"prod\" {{\n  organization {{\n    ou_ids = [\"{prod}\"]\n  }}\n}}\n\
         data \"iamkey_access_keys\" \"prod_but_payments\" {{\n  organization {{\n    ou_ids              = [\"{prod}\"]\n    exclude_account_ids = [\"{payments}\"]\n  }}\n}}\n\
         data \"iamkey_access_keys\" \"dev_one\" {{\n  organization {{\n    account_ids = [\"{dev_account}\"]\n  }}\n}}\n",
        prod = org.prod,
        payments = org.payments_account,
        dev_account = org.dev_account,
    );
    let ws = org.workspace(&config);
    let apply = ws.apply().assert_success();
    assert!(!apply.all().contains("Warning:"), "no account outside the choice is read:\n{}", apply.all());
    let keys = |name: &str| listed(&ws.resource(&format!("data.iamkey_access_keys.{name}"))["values"]);
    assert_eq!(keys("prod"), org.keys_in(&[&org.prod_account, &org.payments_account]), "a unit and the units below it");
    let prod = ws.resource("data.iamkey_access_keys.prod")["values"].clone();
    assert!(prod["access_keys"].as_array().unwrap().iter().all(|k| k["account_id"] != DEFAULT_ACCOUNT), "the management account is not under prod");
    assert_eq!(keys("prod_but_payments"), org.keys_in(&[&org.prod_account]));
    assert_eq!(keys("dev_one"), org.keys_in(&[&org.dev_account]));

    // Nothing left to read is an error, not an empty audit.
    let none = org.workspace(&format!(
        "data \"iamkey_access_keys\" \"none\" {{\n  organization {{\n    account_ids         = [\"{a}\"]\n    exclude_account_ids = [\"{a}\"]\n  }}\n}}\n",
        a = org.dev_account
    ));
    let refused = none.plan();
    assert_eq!(refused.code, 1, "{}", refused.all());
    assert!(refused.stderr.contains("No accounts to read"), "{}", refused.all());
}

#[test]
fn terraform_query_lists_member_keys_and_generates_imports_that_carry_the_account() {
    let org = org();
    let ws = org.workspace("");
    let query = |config: &str, args: &[&str]| {
        let list = format!("list \"iamkey_access_key\" \"org\" {{\n  provider         = iamkey\n  include_resource = true\n  limit            = 1000\n  config {{\n{config}  }}\n}}\n");
        std::fs::write(ws.path().join("keys.tfquery.hcl"), list).unwrap();
        let mut all = vec!["query"];
        all.extend_from_slice(args);
        ws.tf(&all)
    };
    let run = query("    organization {}\n", &["-json"]);
    assert_eq!(run.code, 0, "{}", run.all());
    let events: Vec<serde_json::Value> = run.stdout.lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
    let found: Vec<&serde_json::Value> = events.iter().filter(|e| e["type"] == "list_resource_found").map(|e| &e["list_resource_found"]).collect();
    let mut identities: Vec<(String, String)> = found
        .iter()
        .map(|f| (f["identity"]["account_id"].as_str().unwrap().to_string(), f["identity"]["access_key_id"].as_str().unwrap().to_string()))
        .filter(|(account, _)| account != DEFAULT_ACCOUNT)
        .collect();
    identities.sort();
    assert_eq!(identities, org.keys_in(&[&org.prod_account, &org.payments_account, &org.dev_account]), "each identity names the key's account");
    let warned = events.iter().any(|e| e["type"] == "diagnostic" && e["diagnostic"]["summary"] == format!("Account {} not read", org.roleless_account));
    assert!(warned, "the account without the role is a warning:\n{}", run.stdout);
    let root_key =
        events.iter().find(|e| e["type"] == "diagnostic" && e["diagnostic"]["summary"] == format!("Account {} has a root access key", org.payments_account));
    let root_key = root_key.unwrap_or_else(|| panic!("a root user's key, which no role can list, is a warning:\n{}", run.stdout));
    assert!(root_key["diagnostic"]["detail"].as_str().unwrap().starts_with("IAM.4: "), "{root_key}");

    let carol = org.keys.iter().find(|k| k.1 == "carol").unwrap();
    let carol_found = found.iter().find(|f| f["identity"]["access_key_id"] == carol.2.as_str()).unwrap();
    assert_eq!(
        carol_found["display_name"],
        format!("{}: carol: {} (Active, 0 days old, never used)", org.dev_account, carol.2),
        "account, user, key, age, last use"
    );
    assert_eq!(carol_found["identity"]["user"], "carol");
    let alice = org.keys.iter().find(|k| k.1 == "alice").unwrap();
    let alice_found = found.iter().find(|f| f["identity"]["access_key_id"] == alice.2.as_str()).unwrap();
    assert!(alice_found["display_name"].as_str().unwrap().ends_with("; findings: TWO_ACTIVE_KEYS"), "{}", alice_found["display_name"]);

    // Generated configuration carries the account; only a provider in that account imports it.
    let only_carol = format!("    user = \"carol\"\n    organization {{\n      account_ids = [\"{}\"]\n    }}\n", org.dev_account);
    query(&only_carol, &["-generate-config-out=generated.tf"]).assert_success();
    let generated = std::fs::read_to_string(ws.path().join("generated.tf")).unwrap();
    assert!(generated.contains(&format!("account_id    = \"{}\"", org.dev_account)), "{generated}");
    assert!(generated.contains(&carol.2), "{generated}");
    // Terraform takes `provider` in an import block only while it generates
    // configuration: the resource block's names the provider from then on.
    let generated = generated.replace("  provider = iamkey\n", "");
    std::fs::write(ws.path().join("generated.tf"), &generated).unwrap();
    let refused = ws.plan();
    assert_ne!(refused.code, 0, "the management account's provider may not import a member account's key");
    assert!(refused.all().contains("Identity is in another account"), "{}", refused.all());

    let member = format!(
        "provider \"iamkey\" {{\n  alias      = \"dev\"\n  access_key = \"{}\"\n  secret_key = \"{}\"\n  assume_role {{\n    role_arn = \"arn:aws:iam::{}:role/{ROLE}\"\n  }}\n  endpoints {{\n    iam = \"{endpoint}\"\n    sts = \"{endpoint}\"\n  }}\n}}\n",
        org.auditor.0,
        org.auditor.1,
        org.dev_account,
        endpoint = org.emulator.endpoint()
    );
    std::fs::write(ws.path().join("member.tf"), member).unwrap();
    let with_member_provider = generated.replace("= iamkey\n", "= iamkey.dev\n");
    assert_ne!(with_member_provider, generated, "the generated blocks name their provider: {generated}");
    std::fs::write(ws.path().join("generated.tf"), with_member_provider).unwrap();
    let plan = ws.plan();
    assert!(plan.code == 0 || plan.code == 2, "{}", plan.all());
    assert!(plan.stdout.contains("1 to import"), "{}", plan.all());
}

/// One audit with the policies as they stand: `terraform query` over every
/// account, and the data source over the root's units; clean when both succeed
/// without a warning. The account without the role is left out.
fn audit(org: &Org) -> (bool, String) {
    let choice = |extra: &str| format!("    organization {{\n      exclude_account_ids = [\"{}\"]\n{extra}    }}\n", org.roleless_account);
    let ws = org.workspace(&format!("data \"iamkey_access_keys\" \"units\" {{\n{}}}\n", choice(&format!("      ou_ids = [\"{}\"]\n", org.root))));
    let list = format!("list \"iamkey_access_key\" \"org\" {{\n  provider = iamkey\n  config {{\n{}  }}\n}}\n", choice(""));
    std::fs::write(ws.path().join("keys.tfquery.hcl"), list).unwrap();
    let query = ws.tf(&["query"]);
    let plan = ws.plan();
    let output = format!("{}{}", query.all(), plan.all());
    (query.code == 0 && plan.code == 0 && !output.contains("Warning:"), output)
}

#[test]
fn each_audit_policy_is_exactly_what_the_audit_needs() {
    // An organization of its own: the policies change under it while it runs.
    let org = &make_org();
    let (clean, output) = audit(org);
    assert!(clean, "the audit does not run clean with the documented policies:\n{output}");
    let admin_of = |account: &str| &org.admins.iter().find(|(a, _)| a == account).unwrap().1;
    // The management account's auditor.
    let management = admin_of(DEFAULT_ACCOUNT);
    each_action_is_needed(org, "organization-audit.json", |document| {
        block_on(management.put_user_policy().user_name("auditor").policy_name("audit").policy_document(document.to_string()).send()).unwrap();
    });
    // The role in each member account.
    each_action_is_needed(org, "organization-audit-member.json", |document| {
        for account in [&org.prod_account, &org.payments_account, &org.dev_account] {
            block_on(admin_of(account).put_role_policy().role_name(ROLE).policy_name("audit").policy_document(document.to_string()).send()).unwrap();
        }
    });
}

#[test]
fn the_audit_example_warns_on_findings_stops_on_unread_accounts_and_queries_readably() {
    let org = org();
    let example = project_root().join("examples/organization-audit");
    let main = std::fs::read_to_string(example.join("main.tf")).unwrap();
    let ws = org.workspace(&main).with_env("IAMKEY_TEST_DAYS_AHEAD", "100");
    let stopped = ws.apply();
    assert_ne!(stopped.code, 0, "an account not read stops the audit");
    assert!(stopped.all().contains(&format!("Accounts not read: {} (assuming role", org.roleless_account)), "{}", stopped.all());

    let readable = main.replace("  organization {}\n", &format!("  organization {{\n    exclude_account_ids = [\"{}\"]\n  }}\n", org.roleless_account));
    assert_ne!(readable, main);
    ws.write(&format!("{}{readable}", org.provider()));
    let audited = ws.apply().assert_success();
    assert!(audited.all().contains("Check block assertion failed"), "{}", audited.all());
    let carol = org.keys.iter().find(|k| k.1 == "carol").unwrap();
    let line = format!("{} carol {} IAM.22: active and never used in its 100 days (limit 45)", org.dev_account, carol.2);
    assert!(audited.all().contains(&line), "{line} missing from:\n{}", audited.all());
    let root_line = format!("{} root IAM.4: the root user holds an access key", org.payments_account);
    assert!(audited.all().contains(&root_line), "{root_line} missing from:\n{}", audited.all());

    std::fs::copy(example.join("audit.tfquery.hcl"), ws.path().join("audit.tfquery.hcl")).unwrap();
    let query = ws.tf(&["query"]);
    assert_eq!(query.code, 0, "{}", query.all());
    let listed = format!("{}: carol: {} (Active, 100 days old, never used); findings: IAM.3, IAM.22", org.dev_account, carol.2);
    assert!(query.stdout.contains(&listed), "{listed} missing from:\n{}", query.all());
}

/// Takes each action of the policy `file` out in turn (`attach` puts a document
/// in place): the audit must then not run clean, and must name the action.
fn each_action_is_needed(org: &Org, file: &str, attach: impl Fn(&serde_json::Value)) {
    let (actions, document) = policy(file);
    for action in &actions {
        attach(&without(&document, action));
        let (clean, output) = audit(org);
        attach(&document);
        assert!(!clean, "{action} is in {file} but the audit needs no permission for it:\n{output}");
        assert!(output.contains(action.as_str()), "without {action} the audit fails without naming it:\n{output}");
    }
}
