//! Reliability end to end: every fault class injected between the provider and
//! the emulator must leave no orphaned key (the emulator's keys equal what state
//! tracks, tainted ones included) and converge on the next apply; and a canary
//! secret must never appear in any output, even at TRACE with the SDK's
//! body-logging switches on.
//!
//! Each test writes its figures to target/reliability/; scripts/reliability-report.sh
//! turns them into design/reliability.md.

use std::time::Duration;

use crate::support::proxy::{Fault, FaultProxy};
use crate::support::*;

#[derive(Clone, Copy, PartialEq, Debug)]
enum Phase {
    /// The fault hits the apply that creates the key.
    Create,
    /// The fault hits the refresh of an existing key (a plan).
    Refresh,
    /// The fault hits an in-place status update.
    Update,
    /// The key was deleted outside Terraform just before destroy.
    DestroyGone,
}

struct FaultClass {
    name: &'static str,
    phase: Phase,
    /// (action, count, fault) armed at the proxy for the faulted run.
    armed: Option<(&'static str, usize, Fault)>,
    /// Environment for the faulted run only (failure points).
    env: &'static [(&'static str, &'static str)],
    status: &'static str,
    pgp: bool,
    /// Whether the key has a `description` (a user tag written after the create).
    description: bool,
    /// Whether the key refreshes its last use (one GetAccessKeyLastUsed per read).
    refresh_last_used: bool,
    /// Whether the faulted run itself succeeds.
    survives: bool,
    /// The provider's operation_timeout (seconds): short only where a timeout is the fault.
    operation_timeout: u32,
}

fn classes() -> Vec<FaultClass> {
    let class = |name, phase, armed, survives| FaultClass {
        name,
        phase,
        armed,
        env: &[],
        status: "Active",
        pgp: false,
        description: false,
        refresh_last_used: false,
        survives,
        operation_timeout: 30,
    };
    vec![
        class("throttling on create (2x Throttling)", Phase::Create, Some(("CreateAccessKey", 2, Fault::Error { status: 400, code: "Throttling" })), true),
        class("throttling storm past the attempt limit", Phase::Create, Some(("CreateAccessKey", 50, Fault::Error { status: 400, code: "Throttling" })), false),
        class(
            "throttling with x-amz-retry-after on refresh",
            Phase::Refresh,
            Some(("ListAccessKeys", 2, Fault::ErrorRetryAfter { status: 400, code: "Throttling", retry_after_ms: 200 })),
            true,
        ),
        class("500 ServiceFailure on create", Phase::Create, Some(("CreateAccessKey", 1, Fault::Error { status: 500, code: "ServiceFailure" })), false),
        class("503 on refresh", Phase::Refresh, Some(("ListAccessKeys", 2, Fault::Error { status: 503, code: "ServiceUnavailable" })), true),
        class("500 on the credential check", Phase::Create, Some(("GetCallerIdentity", 1, Fault::Error { status: 500, code: "InternalFailure" })), true),
        class("connection reset before create executes", Phase::Create, Some(("CreateAccessKey", 1, Fault::Drop)), false),
        class("connection reset on refresh", Phase::Refresh, Some(("ListAccessKeys", 1, Fault::Drop)), true),
        FaultClass {
            operation_timeout: 1,
            ..class("timeout on refresh (operation_timeout)", Phase::Refresh, Some(("ListAccessKeys", 3, Fault::Delay(Duration::from_secs(3)))), false)
        },
        class("lost CreateAccessKey response (executed, answer dropped)", Phase::Create, Some(("CreateAccessKey", 1, Fault::Lost)), false),
        class(
            "ConcurrentModification on status update",
            Phase::Update,
            Some(("UpdateAccessKey", 1, Fault::Error { status: 409, code: "ConcurrentModification" })),
            false,
        ),
        class(
            "NoSuchEntity: user not yet visible on create",
            Phase::Create,
            Some(("CreateAccessKey", 2, Fault::Error { status: 404, code: "NoSuchEntity" })),
            true,
        ),
        class("NoSuchEntity race: key deleted before destroy", Phase::DestroyGone, None, true),
        class("LimitExceeded on create", Phase::Create, Some(("CreateAccessKey", 1, Fault::Error { status: 409, code: "LimitExceeded" })), false),
        FaultClass {
            name: "status update fails after create",
            phase: Phase::Create,
            armed: Some(("UpdateAccessKey", 1, Fault::Error { status: 400, code: "InvalidInput" })),
            env: &[],
            status: "Inactive",
            pgp: false,
            description: false,
            refresh_last_used: false,
            survives: false,
            operation_timeout: 30,
        },
        FaultClass {
            name: "PGP encryption fails after create",
            phase: Phase::Create,
            armed: None,
            env: &[("IAMKEY_TEST_FAIL_AT", "pgp-encrypt")],
            status: "Active",
            pgp: true,
            description: false,
            refresh_last_used: false,
            survives: false,
            operation_timeout: 30,
        },
        FaultClass {
            description: true,
            ..class(
                "description (TagUser) fails after create",
                Phase::Create,
                Some(("TagUser", 3, Fault::Error { status: 500, code: "ServiceFailure" })),
                false,
            )
        },
        // Last use is information: a caller without iam:GetAccessKeyLastUsed keeps the values it had.
        FaultClass {
            refresh_last_used: true,
            ..class(
                "GetAccessKeyLastUsed denied on refresh",
                Phase::Refresh,
                Some(("GetAccessKeyLastUsed", 1, Fault::Error { status: 403, code: "AccessDenied" })),
                true,
            )
        },
        FaultClass {
            name: "panic in the provider after CreateAccessKey",
            phase: Phase::Create,
            armed: None,
            env: &[("IAMKEY_TEST_PANIC_AT", "after-create")],
            status: "Active",
            pgp: false,
            description: false,
            refresh_last_used: false,
            survives: false,
            operation_timeout: 30,
        },
    ]
}

/// A recipient key made with gpg, shared by the classes that need one.
fn pgp_public_key() -> &'static str {
    static KEY: std::sync::OnceLock<GpgKey> = std::sync::OnceLock::new();
    &KEY.get_or_init(|| GpgKey::generate("reliability <r@example.com>", "default")).armored
}

/// One key of `user` with the given status and extra `arguments` (HCL lines).
fn config(endpoint: &str, user: &str, status: &str, arguments: &str, operation_timeout: u32) -> String {
    format!(
        "{}resource \"iamkey_access_key\" \"k\" {{\n  user = \"{user}\"\n  status = \"{status}\"\n{arguments}}}\n",
        provider_block_with(endpoint, &format!("  operation_timeout = {operation_timeout}\n  max_retries = 2\n"))
    )
}

impl FaultClass {
    /// This class's key with the given status.
    fn config(&self, endpoint: &str, user: &str, status: &str) -> String {
        let mut arguments = String::new();
        if self.pgp {
            arguments.push_str(&format!("  pgp_key = <<EOT\n{}EOT\n", pgp_public_key()));
        }
        if self.description {
            arguments.push_str("  description = \"CI deploy key\"\n");
        }
        if self.refresh_last_used {
            arguments.push_str("  refresh_last_used = true\n");
        }
        config(endpoint, user, status, &arguments, self.operation_timeout)
    }
}

/// The invariant after any fault: IAM holds exactly the keys state tracks.
/// Returns the number of keys IAM holds that state does not track (orphans).
#[track_caller]
fn assert_no_orphans(ws: &Workspace, user: &str, what: &str) -> usize {
    let mut in_iam: Vec<String> = keys_of(user).into_iter().map(|(id, _)| id).collect();
    in_iam.sort();
    let tracked = ws.state_key_ids();
    let orphans = in_iam.iter().filter(|id| !tracked.contains(id)).count();
    assert_eq!(in_iam, tracked, "{what}: IAM's keys differ from state's (an orphan or a lost key)");
    orphans
}

/// What one fault class did, as measured.
struct Outcome {
    faulted_run_succeeded: bool,
    orphans: usize,
    converged: bool,
}

/// Runs one class and measures its outcome.
fn run_class(class: &FaultClass) -> Outcome {
    let user = unique_user("fault");
    create_user(&user);
    let proxy = FaultProxy::start(&Emulator::get().endpoint());
    let endpoint = proxy.endpoint();
    let ws = Workspace::new(&class.config(&endpoint, &user, class.status));
    let arm = || {
        if let Some((action, count, fault)) = &class.armed {
            proxy.arm(action, *count, fault.clone());
        }
    };
    let faulted = match class.phase {
        Phase::Create => {
            arm();
            ws.tf_env(&["apply", "-auto-approve", "-input=false"], class.env)
        }
        Phase::Refresh => {
            ws.apply().assert_success();
            arm();
            ws.tf_env(&["plan", "-input=false"], class.env)
        }
        Phase::Update => {
            ws.apply().assert_success();
            ws.write(&class.config(&endpoint, &user, "Inactive"));
            arm();
            ws.tf_env(&["apply", "-auto-approve", "-input=false"], class.env)
        }
        Phase::DestroyGone => {
            ws.apply().assert_success();
            let (id, _) = keys_of(&user).remove(0);
            block_on(Emulator::get().iam().delete_access_key().user_name(&user).access_key_id(&id).send()).unwrap();
            ws.tf_env(&["destroy", "-auto-approve", "-refresh=false"], class.env)
        }
    };
    assert_eq!(faulted.code == 0, class.survives, "{}: unexpected outcome:\n{}", class.name, faulted.all());
    assert!(!faulted.all().contains("panicked at"), "{}: a Rust panic message reached the user", class.name);
    let orphans = assert_no_orphans(&ws, &user, class.name);

    // The next apply (no fault) converges, and the plan after it is empty.
    proxy.disarm();
    if class.phase == Phase::DestroyGone {
        assert!(keys_of(&user).is_empty());
        return Outcome { faulted_run_succeeded: faulted.code == 0, orphans, converged: ws.tf(&["state", "list"]).stdout.trim().is_empty() };
    }
    let status = if class.phase == Phase::Update { "Inactive" } else { class.status };
    ws.write(&class.config(&endpoint, &user, status));
    ws.apply().assert_success();
    let converged = ws.plan().code == 0;
    assert!(converged, "{}: plan after the converging apply is not empty", class.name);
    let keys = keys_of(&user);
    assert_eq!(keys.len(), 1, "{}: {keys:?}", class.name);
    assert_eq!(keys[0].1, status, "{}", class.name);
    let orphans = orphans + assert_no_orphans(&ws, &user, class.name);
    ws.tf(&["destroy", "-auto-approve"]).assert_success();
    assert!(keys_of(&user).is_empty(), "{}", class.name);
    Outcome { faulted_run_succeeded: faulted.code == 0, orphans, converged }
}

fn report_dir() -> std::path::PathBuf {
    let dir = project_root().join("target/reliability");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn every_fault_class_leaves_no_orphan_and_converges() {
    let classes = classes();
    let mut rows = Vec::new();
    let mut survived = 0;
    // Three at a time: each class has its own user and proxy.
    for chunk in classes.chunks(3) {
        let outcomes: Vec<Outcome> = std::thread::scope(|scope| {
            let handles: Vec<_> = chunk.iter().map(|c| scope.spawn(move || run_class(c))).collect();
            handles.into_iter().map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e))).collect()
        });
        for (class, outcome) in chunk.iter().zip(outcomes) {
            let run = if outcome.faulted_run_succeeded { "succeeded" } else { "failed with a diagnostic" };
            let converged = if outcome.converged { "yes" } else { "no" };
            rows.push(format!("| {} | {run} | {} | {converged} |", class.name, outcome.orphans));
            survived += usize::from(outcome.orphans == 0 && outcome.converged);
        }
    }
    assert_eq!(rows.len(), classes.len(), "every class ran");
    let table = format!(
        "| fault class | faulted run | orphaned keys | next apply converged (empty plan after) |\n|---|---|---|---|\n{}\n\nFault classes survived (no orphan, converged): {survived} of {}.\n",
        rows.join("\n"),
        classes.len()
    );
    std::fs::write(report_dir().join("faults.md"), table).unwrap();
}

const CANARY: &str = "CANARYzSECRETzCANARYzSECRETzCANARYzSECRT";

/// Every form in which a leaked canary could appear.
fn canary_forms() -> Vec<(&'static str, String)> {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut forms = vec![("plain", CANARY.to_string())];
    // base64 at each of the three alignments, trimmed to the stable middle part.
    for offset in 0..3 {
        let encoded = b64.encode(&CANARY.as_bytes()[offset..]);
        forms.push(("base64", encoded[4..encoded.len() - 4].to_string()));
    }
    forms.push(("url-encoded", CANARY.replace('+', "%2B").replace('/', "%2F")));
    forms
}

#[test]
fn a_canary_secret_never_appears_in_any_output_even_at_trace() {
    let proxy = FaultProxy::start(&Emulator::get().endpoint());
    proxy.arm("CreateAccessKey", 100, Fault::ReplaceSecret(CANARY));
    let user = unique_user("canary");
    create_user(&user);
    let endpoint = proxy.endpoint();
    let trace: &[(&str, &str)] = &[
        ("TF_LOG", "trace"),
        ("TF_LOG_PROVIDER", "trace"),
        ("TF_LOG_PROVIDER_IAMKEY", "trace"),
        ("LOG_SENSITIVE_BODIES", "true"),
        ("LOG_SIGNABLE_BODY", "true"),
        ("RUST_BACKTRACE", "full"),
    ];
    let ws = Workspace::new(&config(&endpoint, &user, "Active", "", 30));
    let mut outputs = Vec::new();
    // Success path, then plan/show/output, then the error path (a status update that
    // fails after create), then the panic path.
    outputs.push(ws.tf_env(&["apply", "-auto-approve", "-input=false"], trace).assert_success());
    let state_secret = ws.resource("iamkey_access_key.k")["values"]["secret"].as_str().unwrap().to_string();
    assert_eq!(state_secret, CANARY, "the canary is what the provider received");
    outputs.push(ws.tf_env(&["plan", "-input=false"], trace));
    outputs.push(ws.tf_env(&["show"], trace));
    outputs.push(ws.tf_env(&["output"], trace));
    ws.tf(&["destroy", "-auto-approve"]).assert_success();
    proxy.arm("UpdateAccessKey", 1, Fault::Error { status: 400, code: "InvalidInput" });
    ws.write(&config(&endpoint, &user, "Inactive", "", 30));
    outputs.push(ws.tf_env(&["apply", "-auto-approve", "-input=false"], trace));
    ws.tf(&["destroy", "-auto-approve"]).assert_success();
    ws.write(&config(&endpoint, &user, "Active", "", 30));
    let mut panic_env = trace.to_vec();
    panic_env.push(("IAMKEY_TEST_PANIC_AT", "after-create"));
    let panicked = ws.tf_env(&["apply", "-auto-approve", "-input=false"], &panic_env);
    assert!(panicked.stderr.contains("Provider internal error"), "{}", panicked.stderr);
    outputs.push(panicked);
    ws.tf(&["destroy", "-auto-approve"]).assert_success();

    let provider_lines: usize = outputs.iter().map(|o| o.stderr.lines().filter(|l| l.contains("terraform-provider-iamkey")).count()).sum();
    assert!(provider_lines > 20, "TRACE logging of the provider was captured ({provider_lines} lines)");
    let mut hits = Vec::new();
    for (form, needle) in canary_forms() {
        let count: usize = outputs.iter().map(|o| o.all().matches(needle.as_str()).count()).sum();
        if count > 0 {
            hits.push(format!("{form}: {count}"));
        }
    }
    let bytes: usize = outputs.iter().map(|o| o.all().len()).sum();
    std::fs::write(
        report_dir().join("leaks.md"),
        format!(
            "Canary secret searched in {} runs ({} KiB of Terraform and provider output at TRACE, {provider_lines} provider log lines, \
             with LOG_SENSITIVE_BODIES and LOG_SIGNABLE_BODY set; success, error and panic paths), in plain, base64 (3 alignments) \
             and URL-encoded forms.\n\nHits: {}.\n",
            outputs.len(),
            bytes / 1024,
            if hits.is_empty() { "0".to_string() } else { hits.join(", ") }
        ),
    )
    .unwrap();
    assert!(hits.is_empty(), "the canary leaked: {hits:?}");
}

#[test]
fn sigint_to_terraforms_process_group_mid_apply_loses_no_key() {
    use std::os::unix::process::CommandExt;
    let proxy = FaultProxy::start(&Emulator::get().endpoint());
    proxy.arm("CreateAccessKey", 3, Fault::Delay(Duration::from_millis(1500)));
    let users: Vec<String> = (0..3).map(|_| unique_user("sigint")).collect();
    for u in &users {
        create_user(u);
    }
    let endpoint = proxy.endpoint();
    let resources: String = users.iter().enumerate().map(|(i, u)| format!("resource \"iamkey_access_key\" \"k{i}\" {{\n  user = \"{u}\"\n}}\n")).collect();
    let ws = Workspace::new(&format!("{}{resources}", provider_block_for(&endpoint)));
    let mut command = ws.command(&["apply", "-auto-approve", "-input=false"]);
    // Its own process group, as a shell gives a foreground job: Ctrl-C reaches
    // Terraform and every provider it started.
    command.process_group(0);
    let child = command.spawn().unwrap();
    assert!(proxy.wait_for("CreateAccessKey", 3, Duration::from_secs(60)), "the creates reached IAM");
    unsafe {
        libc::kill(-(child.id() as i32), libc::SIGINT);
    }
    let output = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("Interrupt received"), "Terraform saw the interrupt:\n{stdout}");
    assert!(!stdout.contains("Plugin did not respond") && !String::from_utf8_lossy(&output.stderr).contains("Plugin did not respond"));
    let mut in_iam: Vec<String> = users.iter().flat_map(|u| keys_of(u)).map(|(id, _)| id).collect();
    in_iam.sort();
    assert_eq!(in_iam.len(), 3, "the provider survived SIGINT and finished the creates in flight");
    assert_eq!(in_iam, ws.state_key_ids(), "every key created before the interrupt is in state:\n{stdout}");
    proxy.disarm();
    ws.apply().assert_success();
    assert_eq!(ws.plan().code, 0);
    ws.tf(&["destroy", "-auto-approve"]).assert_success();
}

/// A create whose answer is lost or that fails before reaching IAM, next to keys
/// that already exist: the provider may adopt only the key its own call made.
struct SiblingCase {
    name: &'static str,
    /// A key of the same user, managed by this configuration, applied first.
    managed_sibling: bool,
    /// A key of the same user made outside Terraform just before the faulted apply.
    out_of_band: bool,
    /// How many keys the faulted apply creates.
    creates: usize,
    fault: Fault,
    /// Whether the faulted apply ends with the new key in state (its secret lost).
    adopts: bool,
}

fn sibling_cases() -> Vec<SiblingCase> {
    let case = |name, managed_sibling, out_of_band, creates, fault, adopts| SiblingCase { name, managed_sibling, out_of_band, creates, fault, adopts };
    let service_failure = || Fault::Error { status: 500, code: "ServiceFailure" };
    vec![
        case("500 that never reached IAM, beside a managed key of the same user", true, false, 1, service_failure(), false),
        case("connection reset before the call, beside a managed key of the same user", true, false, 1, Fault::Drop, false),
        case("500 that never reached IAM, a key made out of band seconds before", false, true, 1, service_failure(), false),
        case("lost answer (executed), beside a managed key of the same user", true, false, 1, Fault::Lost, true),
        case("two creates for one user in one apply, one answer lost", false, false, 2, Fault::Lost, true),
    ]
}

/// Keys `names` of `user`; the sibling's configuration differs from the others'
/// (an explicit status), so the plan cannot mistake one for the other.
fn sibling_config(endpoint: &str, user: &str, names: &[String]) -> String {
    let keys: String = names
        .iter()
        .map(|n| {
            let status = if n == "sibling" { "  status = \"Active\"\n" } else { "" };
            format!("resource \"iamkey_access_key\" \"{n}\" {{\n  user = \"{user}\"\n{status}}}\n")
        })
        .collect();
    format!("{}{keys}", provider_block_with(endpoint, "  max_retries = 2\n"))
}

/// After any run: each key in state is tracked once and exists in IAM; every key
/// IAM holds is tracked or was there before; no key that was there before is gone.
#[track_caller]
fn assert_keys_accounted_for(ws: &Workspace, user: &str, existed_before: &[String], what: &str) -> Vec<String> {
    let tracked = ws.state_key_ids();
    let mut unique = tracked.clone();
    unique.dedup();
    assert_eq!(unique, tracked, "{what}: a key is tracked by two resource instances");
    let in_iam: Vec<String> = keys_of(user).into_iter().map(|(id, _)| id).collect();
    for id in existed_before {
        assert!(in_iam.contains(id), "{what}: key {id}, which existed before the faulted apply, was deleted");
    }
    for id in &in_iam {
        assert!(tracked.contains(id) || existed_before.contains(id), "{what}: key {id} in IAM is tracked by nothing (an orphan)");
    }
    for id in &tracked {
        assert!(in_iam.contains(id), "{what}: state tracks {id}, which IAM does not have");
    }
    tracked
}

fn run_sibling_case(case: &SiblingCase) -> String {
    let user = unique_user("sibling");
    create_user(&user);
    let proxy = FaultProxy::start(&Emulator::get().endpoint());
    let endpoint = proxy.endpoint();
    let mut names: Vec<String> = Vec::new();
    let ws = Workspace::new(&sibling_config(&endpoint, &user, &names));
    if case.managed_sibling {
        names.push("sibling".into());
        ws.write(&sibling_config(&endpoint, &user, &names));
        ws.apply().assert_success();
    }
    let managed_before = ws.state_key_ids();
    if case.out_of_band {
        block_on(Emulator::get().iam().create_access_key().user_name(&user).send()).expect("out-of-band CreateAccessKey");
    }
    let existed_before: Vec<String> = keys_of(&user).into_iter().map(|(id, _)| id).collect();
    names.extend((0..case.creates).map(|i| format!("new{i}")));
    ws.write(&sibling_config(&endpoint, &user, &names));

    proxy.arm("CreateAccessKey", 1, case.fault.clone());
    let faulted = ws.apply();
    assert_ne!(faulted.code, 0, "{}: the faulted apply must report the failed create", case.name);
    assert!(!faulted.all().contains("panicked at"), "{}", case.name);
    let tracked = assert_keys_accounted_for(&ws, &user, &existed_before, case.name);
    let adopted_old: Vec<&String> = tracked.iter().filter(|id| existed_before.contains(id) && !managed_before.contains(id)).collect();
    assert!(adopted_old.is_empty(), "{}: adopted a key that existed before: {adopted_old:?}", case.name);
    let new_in_state = tracked.iter().filter(|id| !existed_before.contains(id)).count();
    let expected_new = if case.adopts { case.creates } else { case.creates - 1 };
    assert_eq!(new_in_state, expected_new, "{}: keys the faulted apply put in state:\n{}", case.name, faulted.all());

    // One more apply converges, and keeps every key that existed before.
    proxy.disarm();
    ws.apply().assert_success();
    assert_eq!(ws.plan().code, 0, "{}: plan after the converging apply is not empty", case.name);
    let tracked = assert_keys_accounted_for(&ws, &user, &existed_before, case.name);
    assert_eq!(tracked.len(), names.len(), "{}", case.name);
    ws.tf(&["destroy", "-auto-approve"]).assert_success();
    let left: Vec<String> = keys_of(&user).into_iter().map(|(id, _)| id).filter(|id| !managed_before.contains(id)).collect();
    let out_of_band: Vec<String> = existed_before.iter().filter(|id| !managed_before.contains(id)).cloned().collect();
    assert_eq!(left, out_of_band, "{}: after destroy only the out-of-band key is left", case.name);
    let outcome = if case.adopts { "new key adopted (tainted)" } else { "nothing adopted" };
    format!("| {} | {outcome} | 0 | 0 | yes |", case.name)
}

#[test]
fn a_faulted_create_adopts_only_the_key_it_made_and_deletes_nothing_that_existed() {
    let cases = sibling_cases();
    let rows: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = cases.iter().map(|c| scope.spawn(move || run_sibling_case(c))).collect();
        handles.into_iter().map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e))).collect()
    });
    let table = format!(
        "| faulted create | outcome | pre-existing keys adopted | pre-existing keys deleted | next apply converged |\n|---|---|---|---|---|\n{}\n",
        rows.join("\n")
    );
    std::fs::write(report_dir().join("lost-create.md"), table).unwrap();
}

#[test]
fn default_settings_outlast_iam_throttling_with_no_error_and_no_orphan() {
    const PER_SECOND: usize = 5;
    let proxy = FaultProxy::start(&Emulator::get().endpoint());
    let users: Vec<String> = (0..8).map(|_| unique_user("throttled")).collect();
    for u in &users {
        create_user(u);
    }
    // The provider's defaults: no max_retries, no retry_mode.
    let ws = Workspace::new(&two_keys_per_user(&proxy.endpoint(), &users, "Active"));
    proxy.limit_rate(PER_SECOND);
    let mut rows = Vec::new();
    for (what, args) in [
        ("apply (16 creates)", &["apply", "-auto-approve", "-input=false"][..]),
        ("refresh (plan)", &["plan", "-detailed-exitcode", "-input=false"][..]),
        ("destroy", &["destroy", "-auto-approve", "-input=false"][..]),
    ] {
        let (throttled_before, started) = (proxy.throttled(), std::time::Instant::now());
        let mut run = None;
        let calls: usize = proxy.calls_during(|| run = Some(ws.tf(args))).iter().map(|(_, n)| n).sum();
        let run = run.unwrap();
        assert_eq!(run.code, 0, "{what} under throttling:\n{}", run.all());
        assert!(!run.all().contains("Error"), "{what}: no error shown:\n{}", run.all());
        let wall = started.elapsed().as_secs_f64();
        let throttled = proxy.throttled() - throttled_before;
        let accepted = calls - throttled;
        rows.push(format!("| {what} | {calls} | {throttled} | {wall:.1} s | {:.1} s |", accepted as f64 / PER_SECOND as f64));
        if what == "apply (16 creates)" {
            let mut in_iam: Vec<String> = users.iter().flat_map(|u| keys_of(u)).map(|(id, _)| id).collect();
            in_iam.sort();
            assert_eq!(in_iam.len(), 16);
            assert_eq!(in_iam, ws.state_key_ids(), "no orphan, no lost key");
        }
    }
    assert!(proxy.throttled() > 0, "the rate limit was reached (else this test proves nothing)");
    for u in &users {
        assert!(keys_of(u).is_empty(), "destroy removed every key of {u}");
    }
    std::fs::write(
        report_dir().join("throttling.md"),
        format!(
            "IAM answering `Throttling` above {PER_SECOND} requests per second, default provider settings, 16 keys of 8 users:\n\n\
             | run | IAM requests | throttled | wall time | accepted requests ÷ rate limit |\n|---|---|---|---|---|\n{}\n",
            rows.join("\n")
        ),
    )
    .unwrap();
}
