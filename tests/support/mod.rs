//! The end-to-end harness: a real `terraform` CLI against the built provider and the
//! moto IAM emulator on 127.0.0.1. Prerequisites come from scripts/setup.sh; when
//! one is missing the tests fail with the command that installs it.
//!
//! Nothing here can reach AWS: the credentials are dummies, every endpoint (and
//! AWS_ENDPOINT_URL, the fallback of any endpoint left unset) is on loopback, and
//! `Emulator::endpoint` refuses to hand out anything else.
#![allow(dead_code)]

#[cfg(not(feature = "test-hooks"))]
compile_error!("The test suite needs the provider's test hooks: run `cargo test --features test-hooks` (scripts/test.sh does).");

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

pub mod plugin;
pub mod policies;
pub mod proxy;

pub const REGION: &str = "us-east-1";
pub const DUMMY_KEY_ID: &str = "AKIAIOSFODNN7EXAMPLE";
pub const DUMMY_SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

pub fn project_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn require(path: PathBuf, what: &str) -> PathBuf {
    assert!(path.exists(), "{what} is missing at {}: run scripts/setup.sh first", path.display());
    path
}

/// A pinned Terraform release installed by set-up (1.6.6, 1.11.4 or 1.15.5).
pub fn pinned_terraform(version: &str) -> PathBuf {
    let path = if version == "1.15.5" { ".tools/bin/terraform".to_string() } else { format!(".tools/terraform-{version}/terraform") };
    require(project_root().join(path), &format!("Terraform {version}"))
}

/// The Terraform CLI: IAMKEY_TF_CLI when set, else Terraform 1.15.5 from set-up.
pub fn terraform_cli() -> PathBuf {
    match std::env::var_os("IAMKEY_TF_CLI") {
        Some(cli) => PathBuf::from(cli),
        None => require(project_root().join(".tools/bin/terraform"), "the terraform CLI shim"),
    }
}

/// One moto server for the whole test binary, started by tests/support/iam_emulator.py
/// (moto_server without its per-request host lookup and request log).
pub struct Emulator {
    port: u16,
    pid: u32,
}

static EMULATOR: OnceLock<Emulator> = OnceLock::new();

impl Emulator {
    pub fn get() -> &'static Emulator {
        EMULATOR.get_or_init(Emulator::start)
    }

    fn start() -> Emulator {
        Emulator::start_with(&[])
    }

    /// A server of the caller's own, with `env` (for a test that changes
    /// server-wide settings, such as policy enforcement); it lives until the test
    /// binary exits.
    pub fn start_with(env: &[(&str, &str)]) -> Emulator {
        let env: Vec<(String, String)> = env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        require(project_root().join(".venv/bin/moto_server"), "moto_server");
        let python = project_root().join(".venv/bin/python");
        let launcher = project_root().join("tests/support/iam_emulator.py");
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        // The server lives on a thread that never ends, so the parent-death signal
        // (sent when the spawning thread dies) fires only when the test binary exits.
        std::thread::spawn(move || {
            let mut command = Command::new(python);
            command.arg(launcher).args(["-H", "127.0.0.1", "-p", &port.to_string()]).envs(env).stdout(Stdio::null()).stderr(Stdio::piped());
            #[cfg(target_os = "linux")]
            unsafe {
                use std::os::unix::process::CommandExt;
                command.pre_exec(|| {
                    libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                    Ok(())
                });
            }
            let mut child = command.spawn().expect("moto_server starts");
            let pid = child.id();
            let stderr = BufReader::new(child.stderr.take().unwrap());
            let mut announced = false;
            for line in stderr.lines().map_while(Result::ok) {
                if !announced && line.contains("Running on") {
                    announced = true;
                    let _ = ready_tx.send(pid);
                }
            }
            let _ = child.wait();
            loop {
                std::thread::park();
            }
        });
        let pid = ready_rx.recv_timeout(std::time::Duration::from_secs(60)).expect("moto_server announces it is running");
        Emulator { port, pid }
    }

    /// CPU time the emulator process has used so far (Linux: from /proc).
    pub fn cpu_time(&self) -> std::time::Duration {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid)).unwrap_or_default();
        // Fields after the command name (which may hold spaces): utime and stime are 14 and 15.
        let after_name = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or("");
        let ticks: u64 = after_name.split_whitespace().skip(11).take(2).filter_map(|f| f.parse::<u64>().ok()).sum();
        // SAFETY: sysconf only reads a configuration value.
        let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
        std::time::Duration::from_micros(ticks * 1_000_000 / per_second)
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// An IAM client signed with the given key (the dummy key by default).
    pub fn iam_with(&self, key_id: &str, secret: &str) -> aws_sdk_iam::Client {
        self.iam_signed(key_id, secret, None)
    }

    /// An IAM client signed with the given key and, for temporary credentials, token.
    fn iam_signed(&self, key_id: &str, secret: &str, token: Option<String>) -> aws_sdk_iam::Client {
        aws_sdk_iam::Client::new(&self.signed(key_id, secret, token))
    }

    /// The configuration every client of this emulator is built from: its
    /// endpoint, the test region, and the given credentials.
    fn signed(&self, key_id: &str, secret: &str, token: Option<String>) -> aws_config::SdkConfig {
        let credentials = aws_credential_types::Credentials::new(key_id, secret, token, None, "test");
        aws_config::SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new(REGION))
            .endpoint_url(self.endpoint())
            .credentials_provider(aws_credential_types::provider::SharedCredentialsProvider::new(credentials))
            .sleep_impl(aws_smithy_async::rt::sleep::default_async_sleep().expect("tokio's sleep"))
            .build()
    }

    pub fn iam(&self) -> aws_sdk_iam::Client {
        self.iam_with(DUMMY_KEY_ID, DUMMY_SECRET)
    }

    /// Credentials of a role session in `account`: moto maps a session of a role
    /// ARN in another account to that account (the role need not exist).
    pub fn session_in(&self, account: &str) -> AccountSession {
        self.session_as(account, "e2e")
    }

    /// Credentials of a session of the role `role` in `account`.
    pub fn session_as(&self, account: &str, role: &str) -> AccountSession {
        let sts = aws_sdk_sts::Client::new(&self.signed(DUMMY_KEY_ID, DUMMY_SECRET, None));
        let out = block_on(sts.assume_role().role_arn(format!("arn:aws:iam::{account}:role/{role}")).role_session_name("e2e").send()).expect("AssumeRole");
        let credentials = out.credentials().expect("credentials");
        AccountSession { key_id: credentials.access_key_id().into(), secret: credentials.secret_access_key().into(), token: credentials.session_token().into() }
    }

    /// An AWS Organizations client acting in the default account (the management
    /// account of an organization it creates).
    pub fn organizations(&self) -> aws_sdk_organizations::Client {
        aws_sdk_organizations::Client::new(&self.signed(DUMMY_KEY_ID, DUMMY_SECRET, None))
    }

    /// An IAM client acting in the account of `session`.
    pub fn iam_in(&self, session: &AccountSession) -> aws_sdk_iam::Client {
        self.iam_signed(&session.key_id, &session.secret, Some(session.token.clone()))
    }
}

/// The default account of the emulator: the dummy credentials act in it.
pub const DEFAULT_ACCOUNT: &str = "123456789012";

/// Temporary credentials in one account of the emulator.
pub struct AccountSession {
    pub key_id: String,
    pub secret: String,
    pub token: String,
}

/// The key IDs `user` has in the account `iam` acts in.
pub fn key_ids_with(iam: &aws_sdk_iam::Client, user: &str) -> Vec<String> {
    let out = block_on(iam.list_access_keys().user_name(user).send()).expect("ListAccessKeys");
    out.access_key_metadata().iter().map(|k| k.access_key_id().unwrap().to_string()).collect()
}

/// Runs a future to completion from a synchronous test.
pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(future)
}

/// A user name unique to this test run.
pub fn unique_user(prefix: &str) -> String {
    static COUNTER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("{prefix}-{}-{n}", std::process::id())
}

pub fn create_user(name: &str) {
    block_on(Emulator::get().iam().create_user().user_name(name).send()).expect("CreateUser");
}

/// The keys IAM has for a user: (id, status).
pub fn keys_of(user: &str) -> Vec<(String, String)> {
    let out = block_on(Emulator::get().iam().list_access_keys().user_name(user).send()).expect("ListAccessKeys");
    out.access_key_metadata().iter().map(|k| (k.access_key_id().unwrap().to_string(), k.status().unwrap().as_str().to_string())).collect()
}

/// Secrets Manager of the shared emulator.
pub fn secrets_manager() -> aws_sdk_secretsmanager::Client {
    let config = aws_sdk_secretsmanager::Config::builder()
        .behavior_version(aws_sdk_secretsmanager::config::BehaviorVersion::latest())
        .region(aws_sdk_secretsmanager::config::Region::new(REGION))
        .endpoint_url(Emulator::get().endpoint())
        .credentials_provider(aws_sdk_secretsmanager::config::Credentials::new(DUMMY_KEY_ID, DUMMY_SECRET, None, None, "test"))
        .build();
    aws_sdk_secretsmanager::Client::from_conf(config)
}

/// SSM Parameter Store of the shared emulator.
pub fn ssm() -> aws_sdk_ssm::Client {
    let config = aws_sdk_ssm::Config::builder()
        .behavior_version(aws_sdk_ssm::config::BehaviorVersion::latest())
        .region(aws_sdk_ssm::config::Region::new(REGION))
        .endpoint_url(Emulator::get().endpoint())
        .credentials_provider(aws_sdk_ssm::config::Credentials::new(DUMMY_KEY_ID, DUMMY_SECRET, None, None, "test"))
        .build();
    aws_sdk_ssm::Client::from_conf(config)
}

/// A filesystem mirror holding the built provider, and a CLI config that installs
/// it from there. Made once per test binary.
struct Mirror {
    cli_config: PathBuf,
    _dir: tempfile::TempDir,
}

static MIRROR: OnceLock<Mirror> = OnceLock::new();

fn mirror() -> &'static Mirror {
    MIRROR.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let version = env!("CARGO_PKG_VERSION");
        let platform = format!("{}_{}", std::env::consts::OS, if cfg!(target_arch = "x86_64") { "amd64" } else { "arm64" });
        let target = dir.path().join(format!("mirror/registry.terraform.io/iamkey/iamkey/{version}/{platform}"));
        std::fs::create_dir_all(&target).unwrap();
        std::fs::copy(env!("CARGO_BIN_EXE_terraform-provider-iamkey"), target.join(format!("terraform-provider-iamkey_v{version}"))).unwrap();
        let cli_config = dir.path().join("terraform.rc");
        write_cli_config(&cli_config, &dir.path().join("mirror"), true);
        Mirror { cli_config, _dir: dir }
    })
}

/// A Terraform working directory.
pub struct Workspace {
    pub dir: tempfile::TempDir,
    cli: PathBuf,
    extra_env: Vec<(String, String)>,
    removed_env: Vec<String>,
}

pub const REQUIRED_PROVIDERS: &str = "terraform {\n  required_providers {\n    iamkey = { source = \"iamkey/iamkey\" }\n  }\n}\n";

/// The provider block every test uses unless it configures its own.
pub fn provider_block() -> String {
    provider_block_for(&Emulator::get().endpoint())
}

/// A provider block whose IAM and STS endpoints are `endpoint` (a loopback URL).
pub fn provider_block_for(endpoint: &str) -> String {
    provider_block_with(endpoint, "")
}

/// A configuration with two keys `k{user}{key}` of the given status for each user.
pub fn two_keys_per_user(endpoint: &str, users: &[String], status: &str) -> String {
    let mut hcl = provider_block_for(endpoint);
    for (i, u) in users.iter().enumerate() {
        for k in 0..2 {
            hcl.push_str(&format!("resource \"iamkey_access_key\" \"k{i}{k}\" {{\n  user = \"{u}\"\n  status = \"{status}\"\n}}\n"));
        }
    }
    hcl
}

/// As `provider_block_for`, with more arguments (HCL lines) in the block.
pub fn provider_block_with(endpoint: &str, arguments: &str) -> String {
    assert!(endpoint.starts_with("http://127.0.0.1:") || endpoint.starts_with("https://127.0.0.1:"), "tests only ever talk to loopback");
    format!(
        "provider \"iamkey\" {{\n{arguments}  endpoints {{\n    iam = \"{endpoint}\"\n    sts = \"{endpoint}\"\n    organizations = \"{endpoint}\"\n  }}\n}}\n"
    )
}

/// A Terraform CLI configuration at `path` that installs from the filesystem mirror
/// at `mirror` (with `only_this_provider`, every other provider comes from the registry).
pub fn write_cli_config(path: &Path, mirror: &Path, only_this_provider: bool) {
    let scope = if only_this_provider { "    include = [\"registry.terraform.io/iamkey/iamkey\"]\n" } else { "" };
    let direct = if only_this_provider { "  direct {\n    exclude = [\"registry.terraform.io/iamkey/iamkey\"]\n  }\n" } else { "" };
    let config = format!("provider_installation {{\n  filesystem_mirror {{\n    path = \"{}\"\n{scope}  }}\n{direct}}}\n", mirror.display());
    std::fs::write(path, config).unwrap();
}

/// Terraform's output, with the stdout and stderr as text.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    fn from(output: Output) -> Run {
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    pub fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }

    #[track_caller]
    /// Asserts that the command succeeded (exit code 0), showing its output if not.
    pub fn assert_success(self) -> Run {
        assert_eq!(self.code, 0, "terraform failed:\n{}", self.all());
        self
    }
}

impl Workspace {
    /// A workspace with `config` (plus required_providers), initialised.
    pub fn new(config: &str) -> Workspace {
        Workspace::configured(config, |ws| ws)
    }

    /// A workspace whose environment is adjusted before `terraform init`.
    pub fn configured(config: &str, adjust: impl FnOnce(Workspace) -> Workspace) -> Workspace {
        let ws = Workspace::empty(adjust);
        ws.write(config);
        ws.tf(&["init", "-input=false"]).assert_success();
        ws
    }

    /// A workspace with no configuration, not initialised.
    pub fn empty(adjust: impl FnOnce(Workspace) -> Workspace) -> Workspace {
        adjust(Workspace { dir: tempfile::tempdir().unwrap(), cli: terraform_cli(), extra_env: Vec::new(), removed_env: Vec::new() })
    }

    /// Runs this workspace with another Terraform (or OpenTofu) CLI.
    pub fn with_cli(mut self, cli: &Path) -> Workspace {
        self.cli = cli.to_path_buf();
        self
    }

    pub fn with_env(mut self, key: &str, value: &str) -> Workspace {
        self.extra_env.push((key.into(), value.into()));
        self
    }

    /// Leaves a variable the harness normally sets out of Terraform's environment.
    pub fn without_env(mut self, key: &str) -> Workspace {
        self.removed_env.push(key.into());
        self
    }

    pub fn write(&self, config: &str) {
        std::fs::write(self.dir.path().join("main.tf"), format!("{REQUIRED_PROVIDERS}{config}")).unwrap();
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn tf(&self, args: &[&str]) -> Run {
        self.tf_env(args, &[])
    }

    /// Runs terraform with extra environment variables for this run only.
    pub fn tf_env(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut command = self.command(args);
        for (k, v) in env {
            command.env(k, v);
        }
        Run::from(command.output().expect("terraform runs"))
    }

    /// The terraform command for `args`, with the harness's environment, not started.
    pub fn command(&self, args: &[&str]) -> Command {
        let emulator = Emulator::get();
        let mut command = Command::new(&self.cli);
        command
            .args(args)
            .arg("-no-color")
            .current_dir(self.dir.path())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.dir.path())
            .env("TF_CLI_CONFIG_FILE", &mirror().cli_config)
            .env("CHECKPOINT_DISABLE", "1")
            .env("TF_IN_AUTOMATION", "1")
            .env("AWS_ACCESS_KEY_ID", DUMMY_KEY_ID)
            .env("AWS_SECRET_ACCESS_KEY", DUMMY_SECRET)
            .env("AWS_REGION", REGION)
            .env("AWS_ENDPOINT_URL", emulator.endpoint())
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .stdin(Stdio::null());
        for (k, v) in &self.extra_env {
            command.env(k, v);
        }
        for k in &self.removed_env {
            command.env_remove(k);
        }
        command.stdout(Stdio::piped()).stderr(Stdio::piped());
        command
    }

    pub fn apply(&self) -> Run {
        self.tf(&["apply", "-auto-approve", "-input=false"])
    }

    /// `plan -detailed-exitcode`: 0 no changes, 2 changes, 1 error.
    pub fn plan(&self) -> Run {
        self.tf(&["plan", "-detailed-exitcode", "-input=false"])
    }

    /// A plan that must fail (exit 1); its error output.
    pub fn refused_plan(&self) -> String {
        let run = self.plan();
        assert_eq!(run.code, 1, "the plan should have been refused:\n{}", run.all());
        run.stderr
    }

    /// The state as `terraform show -json` gives it.
    pub fn show_json(&self) -> serde_json::Value {
        serde_json::from_str(&self.tf(&["show", "-json"]).assert_success().stdout).expect("show -json is JSON")
    }

    /// The `values` of resource `address` in `show -json`.
    pub fn resource(&self, address: &str) -> serde_json::Value {
        let state = self.show_json();
        find_resource(&state["values"]["root_module"], address).unwrap_or_else(|| panic!("{address} not in state: {state}"))
    }
}

impl Workspace {
    /// The access key IDs the state tracks, tainted ones included.
    pub fn state_key_ids(&self) -> Vec<String> {
        let state = self.show_json();
        let mut ids = Vec::new();
        collect_ids(&state["values"]["root_module"], &mut ids);
        ids.sort();
        ids
    }
}

fn collect_ids(module: &serde_json::Value, ids: &mut Vec<String>) {
    for r in module["resources"].as_array().into_iter().flatten().filter(|r| r["type"] == "iamkey_access_key" && r["mode"] == "managed") {
        if let Some(id) = r["values"]["id"].as_str() {
            ids.push(id.to_string());
        }
    }
    for m in module["child_modules"].as_array().into_iter().flatten() {
        collect_ids(m, ids);
    }
}

fn find_resource(module: &serde_json::Value, address: &str) -> Option<serde_json::Value> {
    let here = module["resources"].as_array().into_iter().flatten().find(|r| r["address"] == address).cloned();
    here.or_else(|| module["child_modules"].as_array().into_iter().flatten().find_map(|m| find_resource(m, address)))
}

/// A configuration with one `iamkey_access_key.k` for `user`; `extra` adds lines
/// inside the resource block.
pub fn key_config(user: &str, extra: &str) -> String {
    format!("{}resource \"iamkey_access_key\" \"k\" {{\n  user = \"{user}\"\n{extra}}}\n", provider_block())
}

/// Runs gpg with its own home folder and no passphrase; fails the test when gpg does.
pub fn gpg(home: &std::path::Path, args: &[&str], input: Option<&[u8]>) -> Vec<u8> {
    use std::io::Write;
    let mut child = std::process::Command::new("gpg")
        .arg("--homedir")
        .arg(home)
        .args(["--batch", "--yes", "--pinentry-mode", "loopback", "--passphrase", ""])
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("gpg is installed (apt-get install gnupg)");
    child.stdin.take().unwrap().write_all(input.unwrap_or_default()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "gpg {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

/// A throwaway OpenPGP key in a gpg home of its own (private to this user, as gpg
/// asks), removed with it.
pub struct GpgKey {
    pub home: tempfile::TempDir,
    pub fingerprint: String,
    /// The public key, ASCII-armored.
    pub armored: String,
}

impl GpgKey {
    /// An RSA key for `uid` with gpg's `usage` (`default`, `sign` or `encrypt`).
    pub fn generate(uid: &str, usage: &str) -> GpgKey {
        let home = tempfile::tempdir().unwrap();
        std::fs::set_permissions(home.path(), std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
        gpg(home.path(), &["--quick-gen-key", uid, "rsa2048", usage, "never"], None);
        let listing = String::from_utf8(gpg(home.path(), &["--with-colons", "--list-secret-keys"], None)).unwrap();
        let fingerprint = listing.lines().find_map(|l| l.strip_prefix("fpr:")).map(|l| l.trim_matches(':').to_string()).expect("a fingerprint");
        let armored = String::from_utf8(gpg(home.path(), &["--armor", "--export", &fingerprint], None)).unwrap();
        GpgKey { home, fingerprint, armored }
    }

    /// gpg in this key's home.
    pub fn gpg(&self, args: &[&str], input: Option<&[u8]>) -> Vec<u8> {
        gpg(self.home.path(), args, input)
    }
}
