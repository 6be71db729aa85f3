//! The benchmark (`scripts/bench.sh`, or `cargo bench`): figures printed and written
//! to design/benchmarks.md, each next to a baseline measured in the same run, as
//! medians and ratios. It exits non-zero when a target is missed.
//!
//! Baselines: Terraform's built-in `terraform_data` (no plugin at all) and
//! hashicorp's Go null provider (`null_resource`, a go-plugin provider), given by
//! BENCH_NULL_PROVIDER. Sizes: BENCH_SIZES (default 10,100,500).

#[path = "../tests/support/mod.rs"]
mod support;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use support::plugin::{connect, launch_binary, launch_binary_as, terraform_like_identity, ClientAuth};
use support::proxy::FaultProxy;
use support::*;

const LAUNCHES: usize = 30;
const SCHEMA_CALLS: usize = 200;
const PLAN_REPEATS: usize = 3;

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

fn ratio(a: Duration, b: Duration) -> f64 {
    a.as_secs_f64() / b.as_secs_f64()
}

/// Time from exec to the handshake line, median of LAUNCHES.
fn startup(binary: &Path, protocols: &str) -> Duration {
    median(
        (0..LAUNCHES)
            .map(|_| {
                let identity = terraform_like_identity();
                let started = Instant::now();
                let plugin = launch_binary_as(binary, &[("PLUGIN_PROTOCOL_VERSIONS", protocols)], identity);
                let took = started.elapsed();
                drop(plugin);
                took
            })
            .collect(),
    )
}

fn schema_latency(binary: &Path) -> Duration {
    let plugin = launch_binary(binary, &[]);
    block_on(async {
        let channel = connect(&plugin, ClientAuth::Certificate(&plugin.identity)).await.unwrap();
        let mut client = iamkey::protocol::testing::provider_client::ProviderClient::new(channel);
        let mut samples = Vec::new();
        for _ in 0..SCHEMA_CALLS {
            let started = Instant::now();
            client.get_provider_schema(iamkey::protocol::testing::get_provider_schema::Request {}).await.unwrap();
            samples.push(started.elapsed());
        }
        median(samples)
    })
}

/// A CLI config whose filesystem mirror holds this provider and the null provider.
fn mirror_with_null_provider(dir: &Path, null_provider: &Path) -> PathBuf {
    let null_dir = dir.join("mirror/registry.terraform.io/hashicorp/null/2.1.2/linux_amd64");
    std::fs::create_dir_all(&null_dir).unwrap();
    std::fs::copy(null_provider, null_dir.join("terraform-provider-null_v2.1.2_x4")).unwrap();
    let own_dir = dir.join(format!("mirror/registry.terraform.io/iamkey/iamkey/{}/linux_amd64", env!("CARGO_PKG_VERSION")));
    std::fs::create_dir_all(&own_dir).unwrap();
    std::fs::copy(env!("CARGO_BIN_EXE_terraform-provider-iamkey"), own_dir.join(format!("terraform-provider-iamkey_v{}", env!("CARGO_PKG_VERSION")))).unwrap();
    let rc = dir.join("bench.rc");
    write_cli_config(&rc, &dir.join("mirror"), false);
    rc
}

/// CPU time (user + system) of every child process that has ended and been waited
/// for, with their own children: Terraform and the providers it started.
fn children_cpu() -> Duration {
    // SAFETY: getrusage only writes the struct it is given.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage);
        usage
    };
    let time = |t: libc::timeval| Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64);
    time(usage.ru_utime) + time(usage.ru_stime)
}

/// One Terraform command: its wall time and the CPU time of Terraform with its plugins.
#[derive(Default, Clone, Copy)]
struct Sample {
    wall: Duration,
    cpu: Duration,
}

fn median_sample(samples: Vec<Sample>) -> Sample {
    Sample { wall: median(samples.iter().map(|s| s.wall).collect()), cpu: median(samples.iter().map(|s| s.cpu).collect()) }
}

#[derive(Default, Clone, Copy)]
struct Timings {
    apply: Duration,
    plan_no_refresh: Sample,
    plan_refresh: Sample,
    destroy: Duration,
}

/// Apply, plans and destroy of one configuration, timed with no logging at all (the
/// baselines run the same way: provider logs cost Terraform time too).
fn measure(ws: &Workspace) -> Timings {
    let run = |args: &[&str]| {
        let (cpu, started) = (children_cpu(), Instant::now());
        ws.tf(args).assert_success();
        Sample { wall: started.elapsed(), cpu: children_cpu() - cpu }
    };
    let apply = run(&["apply", "-auto-approve", "-input=false", "-parallelism=10"]).wall;
    let plan_no_refresh = median_sample((0..PLAN_REPEATS).map(|_| run(&["plan", "-refresh=false", "-input=false"])).collect());
    let plan_refresh = median_sample((0..PLAN_REPEATS).map(|_| run(&["plan", "-input=false"])).collect());
    let destroy = run(&["destroy", "-auto-approve", "-input=false"]).wall;
    Timings { apply, plan_no_refresh, plan_refresh, destroy }
}

/// The provider processes' own CPU time in one plan, from the resource-usage line
/// each logs at exit (INFO, so no per-call logging runs), and the emulator's.
fn provider_and_emulator_cpu(ws: &Workspace, log: &Path, args: &[&str]) -> (Duration, Duration) {
    let _ = std::fs::remove_file(log);
    let emulator = Emulator::get().cpu_time();
    ws.tf_env(args, &[("TF_LOG_PROVIDER", "info"), ("TF_LOG_PATH", log.to_str().unwrap())]).assert_success();
    let emulator = Emulator::get().cpu_time() - emulator;
    (Duration::from_secs_f64(resource_usage(log).0 / 1000.0), emulator)
}

/// (CPU ms summed over every provider launch, peak RSS KiB of any launch) from the log.
fn resource_usage(log: &Path) -> (f64, u64) {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let (mut cpu, mut peak) = (0.0, 0u64);
    for line in text.lines().filter(|l| l.contains("provider resource usage")) {
        let field = |name: &str| -> f64 {
            line.split(&format!("{name}=")).nth(1).and_then(|rest| rest.split_whitespace().next()).and_then(|v| v.trim_matches('"').parse().ok()).unwrap_or(0.0)
        };
        cpu += field("cpu_user_ms") + field("cpu_system_ms");
        peak = peak.max(field("peak_rss_kib") as u64);
    }
    (cpu, peak)
}

const SHAPED: &str = "terraform_data shaped like a key";

/// N terraform_data whose input is an object with a key's attributes and values
/// (`values` from `terraform show -json`, every string blanked to as many `x`s):
/// what Terraform itself spends on a resource of that shape, with no plugin. It is
/// a little heavier than the key: Terraform keeps the object twice, as input and output.
fn data_shaped_like(values: &serde_json::Value, n: usize) -> String {
    fn blank(value: &serde_json::Value) -> serde_json::Value {
        match value {
            serde_json::Value::String(s) => serde_json::Value::String("x".repeat(s.len())),
            serde_json::Value::Array(items) => items.iter().map(blank).collect(),
            serde_json::Value::Object(fields) => fields.iter().map(|(k, v)| (k.clone(), blank(v))).collect(),
            other => other.clone(),
        }
    }
    format!(
        "locals {{\n  key = jsondecode(<<EOT\n{}\nEOT\n  )\n}}\nresource \"terraform_data\" \"r\" {{\n  count = {n}\n  input = local.key\n}}\n",
        blank(values)
    )
}

fn iamkey_config(endpoint: &str, users: usize, keys: usize, prefix: &str) -> String {
    format!(
        "{}locals {{\n  users = {users}\n}}\nresource \"iamkey_access_key\" \"k\" {{\n  count = {keys}\n  user  = \"{prefix}-${{count.index % local.users}}\"\n}}\n",
        provider_block_for(endpoint)
    )
}

/// "N Action, ..." for calls counted by `FaultProxy::calls_during`.
fn describe_calls(calls: &[(&str, usize)]) -> String {
    let seen: Vec<String> = calls.iter().map(|(a, n)| format!("{n} {a}")).collect();
    if seen.is_empty() {
        "none".into()
    } else {
        seen.join(", ")
    }
}

/// The IAM calls the proxy saw during `run`, described.
fn iam_calls(proxy: &FaultProxy, run: impl FnOnce()) -> String {
    describe_calls(&proxy.calls_during(run))
}

/// IAM calls of each operation on 4 keys of 2 users, counted at the proxy (the
/// provider's sts:GetCallerIdentity, once per Terraform command, is not counted).
fn calls_per_operation(proxy: &FaultProxy, rc: &Path) -> Vec<String> {
    let users = [unique_user("calls-a"), unique_user("calls-b")];
    for u in &users {
        create_user(u);
    }
    let config = |status: &str| two_keys_per_user(&proxy.endpoint(), &users, status);
    let ws = Workspace::configured(&config("Active"), |ws| ws.with_env("TF_CLI_CONFIG_FILE", rc.to_str().unwrap()));
    let mut rows = vec!["| operation (4 keys, 2 users) | IAM calls |".to_string(), "|---|---|".to_string()];
    let mut row = |operation: &str, calls: String| rows.push(format!("| {operation} | {calls} |"));
    row("plan of the creates (quota check)", iam_calls(proxy, || drop(ws.tf(&["plan", "-out=tfplan", "-input=false"]).assert_success())));
    row("apply of that plan: create", iam_calls(proxy, || drop(ws.tf(&["apply", "-input=false", "tfplan"]).assert_success())));
    row("refresh (plan)", iam_calls(proxy, || drop(ws.tf(&["plan", "-input=false"]).assert_success())));
    ws.write(&config("Inactive"));
    row(
        "status update (apply -refresh=false)",
        iam_calls(proxy, || drop(ws.tf(&["apply", "-auto-approve", "-input=false", "-refresh=false"]).assert_success())),
    );
    let id = ws.resource("iamkey_access_key.k00")["values"]["id"].as_str().unwrap_or_default().to_string();
    ws.tf(&["state", "rm", "iamkey_access_key.k00"]).assert_success();
    let by_user_and_id = format!("{}/{id}", users[0]);
    row(
        "import of one key (USER/ID)",
        iam_calls(proxy, || drop(ws.tf(&["import", "-input=false", "iamkey_access_key.k00", &by_user_and_id]).assert_success())),
    );
    ws.tf(&["state", "rm", "iamkey_access_key.k00"]).assert_success();
    row("import of one key (ID only)", iam_calls(proxy, || drop(ws.tf(&["import", "-input=false", "iamkey_access_key.k00", &id]).assert_success())));
    row("destroy (-refresh=false)", iam_calls(proxy, || drop(ws.tf(&["destroy", "-auto-approve", "-input=false", "-refresh=false"]).assert_success())));
    rows
}

fn main() {
    let null_provider =
        PathBuf::from(std::env::var("BENCH_NULL_PROVIDER").expect("BENCH_NULL_PROVIDER: the Go null provider binary (scripts/bench.sh installs it)"));
    let sizes: Vec<usize> = std::env::var("BENCH_SIZES").unwrap_or_else(|_| "10,100,500".into()).split(',').map(|s| s.trim().parse().unwrap()).collect();
    let own = PathBuf::from(env!("CARGO_BIN_EXE_terraform-provider-iamkey"));
    let mut report = vec![
        "# Benchmarks".to_string(),
        String::new(),
        format!(
            "Measured by `scripts/bench.sh` ({}, release build, Terraform 1.15.5, moto 5.2.5, 2 cores). Medians; each row next to \
         its baselines from the same run. Baselines: Terraform's built-in `terraform_data` (no plugin) and hashicorp's Go \
         null provider 2.1.2 (`null_resource`).",
            std::process::Command::new("date")
                .arg("-u")
                .arg("+%Y-%m-%d")
                .output()
                .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
                .unwrap_or_default()
        ),
        String::new(),
    ];
    let mut misses = Vec::new();

    // Start-up and the plugin protocol.
    let own_start = startup(&own, "5,6");
    let null_start = startup(&null_provider, "4,5");
    let schema = schema_latency(&own);
    let size = std::fs::metadata(&own).unwrap().len();
    report.push("## Start-up\n\n| figure | iamkey | Go null provider | target |\n|---|---|---|---|".into());
    report.push(format!("| exec to handshake line (median of {LAUNCHES}) | {} | {} | ≤ 10 ms |", ms(own_start), ms(null_start)));
    report.push(format!("| GetProviderSchema over mTLS (median of {SCHEMA_CALLS}) | {:.3} ms | — | — |", schema.as_secs_f64() * 1000.0));
    report.push(format!(
        "| stripped release binary | {:.1} MB | {:.1} MB | ≤ 20 MB |",
        size as f64 / 1e6,
        std::fs::metadata(&null_provider).unwrap().len() as f64 / 1e6
    ));
    if own_start > Duration::from_millis(10) {
        misses.push(format!("start-up {} > 10 ms", ms(own_start)));
    }
    if size > 20_000_000 {
        misses.push(format!("binary {size} bytes > 20 MB"));
    }

    // Terraform workloads.
    let scratch = tempfile::tempdir().unwrap();
    let rc = mirror_with_null_provider(scratch.path(), &null_provider);
    let proxy = FaultProxy::start(&Emulator::get().endpoint());
    report.push(String::new());
    report.push(format!("## Terraform workloads (N resources; for iamkey N/2 users with 2 keys each)\n\n`{SHAPED}`: N `terraform_data` whose input is an object with the attributes and values of one key's state (strings blanked): Terraform's own cost for a resource of that shape, with no plugin.\n"));
    report.push("| N | resource | apply | plan -refresh=false | plan (refresh) | destroy | IAM calls per refresh |".into());
    report.push("|---|---|---|---|---|---|---|".into());
    let mut cpu_rows = Vec::new();
    for &n in &sizes {
        let users = (n / 2).max(1);
        let prefix = unique_user("bench");
        for u in 0..users {
            create_user(&format!("{prefix}-{u}"));
        }
        let workspace = |config: String| Workspace::configured(&config, |ws| ws.with_env("TF_CLI_CONFIG_FILE", rc.to_str().unwrap()));
        let data = measure(&workspace(format!("resource \"terraform_data\" \"r\" {{\n  count = {n}\n  input = \"x\"\n}}\n")));
        let null = measure(&workspace(format!("resource \"null_resource\" \"r\" {{\n  count = {n}\n}}\n")));
        let own_ws = workspace(iamkey_config(&proxy.endpoint(), users, n, &prefix));
        let own = measure(&own_ws);
        // CPU and IAM calls from a separate pass, so that logging costs no timing.
        own_ws.tf(&["apply", "-auto-approve", "-input=false", "-parallelism=10"]).assert_success();
        let log = scratch.path().join(format!("iamkey-{n}.log"));
        let (provider_no_refresh, _) = provider_and_emulator_cpu(&own_ws, &log, &["plan", "-refresh=false", "-input=false"]);
        let (mut provider_refresh, mut emulator_refresh) = (Duration::ZERO, Duration::ZERO);
        let reads = proxy.calls_during(|| {
            (provider_refresh, emulator_refresh) = provider_and_emulator_cpu(&own_ws, &log, &["plan", "-input=false"]);
        });
        let lists = reads.iter().find(|(a, _)| *a == "ListAccessKeys").map_or(0, |(_, n)| *n);
        let shaped_config = data_shaped_like(&own_ws.resource("iamkey_access_key.k[0]")["values"], n);
        own_ws.tf(&["destroy", "-auto-approve", "-input=false", "-refresh=false"]).assert_success();
        let shaped = measure(&workspace(shaped_config));
        let calls = describe_calls(&reads);
        for (name, t, calls) in [("terraform_data", data, ""), ("null_resource", null, ""), (SHAPED, shaped, ""), ("iamkey_access_key", own, calls.as_str())] {
            report.push(format!(
                "| {n} | {name} | {} | {} | {} | {} | {calls} |",
                secs(t.apply),
                secs(t.plan_no_refresh.wall),
                secs(t.plan_refresh.wall),
                secs(t.destroy)
            ));
        }
        report.push(format!(
            "| {n} | **ratios** | {:.2}× data | {:.2}× data, {:.2}× null, {:.2}× shaped data | {:.2}× null | {:.2}× null | {users} users |",
            ratio(own.apply, data.apply),
            ratio(own.plan_no_refresh.wall, data.plan_no_refresh.wall),
            ratio(own.plan_no_refresh.wall, null.plan_no_refresh.wall),
            ratio(own.plan_no_refresh.wall, shaped.plan_no_refresh.wall),
            ratio(own.plan_refresh.wall, null.plan_refresh.wall),
            ratio(own.destroy, null.destroy),
        ));
        let per_resource = |d: Duration| format!("{:.2} ms", d.as_secs_f64() * 1000.0 / n as f64);
        for (name, t) in [("terraform_data", data), ("null_resource", null), (SHAPED, shaped)] {
            cpu_rows.push(format!("| {n} | {name} | {} | — | {} | — | — |", per_resource(t.plan_no_refresh.cpu), per_resource(t.plan_refresh.cpu)));
        }
        cpu_rows.push(format!(
            "| {n} | iamkey_access_key | {} | {} | {} | {} | {} |",
            per_resource(own.plan_no_refresh.cpu),
            per_resource(provider_no_refresh),
            per_resource(own.plan_refresh.cpu),
            per_resource(provider_refresh),
            per_resource(emulator_refresh)
        ));
        if n >= 500 {
            if ratio(own.plan_no_refresh.wall, data.plan_no_refresh.wall) > 1.3 {
                misses.push(format!("plan -refresh=false of {n}: {:.2}× terraform_data > 1.3×", ratio(own.plan_no_refresh.wall, data.plan_no_refresh.wall)));
            }
            if own.plan_refresh.wall > null.plan_refresh.wall {
                misses.push(format!("plan of {n}: {} slower than null_resource's {}", secs(own.plan_refresh.wall), secs(null.plan_refresh.wall)));
            }
        }
        if lists > users {
            misses.push(format!("refresh of {n} keys made {lists} ListAccessKeys for {users} users"));
        }
    }
    report.push(String::new());
    report.push(
        "## Where a plan's CPU goes (per resource; medians)\n\nTerraform with its plugins is the CPU time of the \
         `terraform` process and every provider it started (getrusage of waited children); the provider's own share is \
         what each provider process reports at exit; the emulator's is moto's, read from /proc, during the same refresh.\n"
            .into(),
    );
    report.push("| N | resource | plan -refresh=false: Terraform with plugins | of which the provider | plan (refresh): Terraform with plugins | of which the provider | emulator during the refresh |".into());
    report.push("|---|---|---|---|---|---|---|".into());
    report.extend(cpu_rows);

    report.push(String::new());
    report.push(
        "## IAM calls per operation\n\nCounted at a proxy in front of the emulator. A create is one CreateAccessKey \
         (+1 UpdateAccessKey for an Inactive one); the plan-time quota check lists each creating user's keys once per \
         plan, and apply plans each create again (one more listing per user, or two when one of its creates lands \
         before the other is planned).\n"
            .into(),
    );
    report.extend(calls_per_operation(&proxy, &rc));

    // Memory at 1,000 keys.
    let prefix = unique_user("bench-mem");
    for u in 0..500 {
        create_user(&format!("{prefix}-{u}"));
    }
    let ws = Workspace::configured(&iamkey_config(&proxy.endpoint(), 500, 1000, &prefix), |ws| ws.with_env("TF_CLI_CONFIG_FILE", rc.to_str().unwrap()));
    ws.tf(&["apply", "-auto-approve", "-input=false", "-parallelism=10"]).assert_success();
    let log = scratch.path().join("memory.log");
    ws.tf_env(&["plan", "-input=false"], &[("TF_LOG_PROVIDER", "info"), ("TF_LOG_PATH", log.to_str().unwrap())]).assert_success();
    let (_, peak_kib) = resource_usage(&log);
    ws.tf(&["destroy", "-auto-approve", "-input=false", "-refresh=false"]).assert_success();
    report.push(String::new());
    report.push(format!(
        "## Memory\n\nPeak RSS of the provider process refreshing 1,000 keys (500 users): **{:.1} MiB** (target ≤ 20 MiB).",
        peak_kib as f64 / 1024.0
    ));
    if peak_kib == 0 || peak_kib > 20 * 1024 {
        misses.push(format!("peak RSS at 1,000 keys: {peak_kib} KiB"));
    }

    report.push(String::new());
    report.push(if misses.is_empty() { "All targets met.".to_string() } else { format!("Targets missed:\n\n- {}", misses.join("\n- ")) });
    let text = report.join("\n") + "\n";
    print!("{text}");
    std::fs::write(project_root().join("design/benchmarks.md"), &text).unwrap();
    if !misses.is_empty() {
        eprintln!("benchmark targets missed: {misses:?}");
        std::process::exit(1);
    }
}
