//! The benchmark (`scripts/bench.sh`, or `cargo bench`): figures printed and written
//! to docs/benchmarks.md, each next to a baseline measured in the same run, as
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

#[derive(Default, Clone, Copy)]
struct Timings {
    apply: Duration,
    plan_no_refresh: Duration,
    plan_refresh: Duration,
    destroy: Duration,
}

/// Apply, plans and destroy of one configuration, timed with no logging at all (the
/// baselines run the same way: provider logs cost Terraform time too).
fn measure(ws: &Workspace) -> Timings {
    let timed = |args: &[&str]| {
        let started = Instant::now();
        ws.tf(args).ok();
        started.elapsed()
    };
    let apply = timed(&["apply", "-auto-approve", "-input=false", "-parallelism=10"]);
    let plan_no_refresh = median((0..PLAN_REPEATS).map(|_| timed(&["plan", "-refresh=false", "-input=false"])).collect());
    let plan_refresh = median((0..PLAN_REPEATS).map(|_| timed(&["plan", "-input=false"])).collect());
    let destroy = timed(&["destroy", "-auto-approve", "-input=false"]);
    Timings { apply, plan_no_refresh, plan_refresh, destroy }
}

/// Provider CPU per resource for one plan without and one with refresh, from the
/// resource-usage line each provider process logs at exit (a separate, logged run).
fn provider_cpu_per_op(ws: &Workspace, log: &Path, resources: usize) -> f64 {
    let env = [("TF_LOG_PROVIDER", "debug"), ("TF_LOG_PATH", log.to_str().unwrap())];
    ws.tf_env(&["plan", "-refresh=false", "-input=false"], &env).ok();
    ws.tf_env(&["plan", "-input=false"], &env).ok();
    resource_usage(log).0 / (2 * resources) as f64
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

fn iamkey_config(endpoint: &str, users: usize, keys: usize, prefix: &str) -> String {
    format!(
        "{}locals {{\n  users = {users}\n}}\nresource \"iamkey_access_key\" \"k\" {{\n  count = {keys}\n  user  = \"{prefix}-${{count.index % local.users}}\"\n}}\n",
        provider_block_for(endpoint)
    )
}

fn main() {
    let null_provider = PathBuf::from(std::env::var("BENCH_NULL_PROVIDER").expect("BENCH_NULL_PROVIDER: the Go null provider binary (scripts/bench.sh installs it)"));
    let sizes: Vec<usize> = std::env::var("BENCH_SIZES")
        .unwrap_or_else(|_| "10,100,500".into())
        .split(',')
        .map(|s| s.trim().parse().unwrap())
        .collect();
    let own = PathBuf::from(env!("CARGO_BIN_EXE_terraform-provider-iamkey"));
    let mut report = vec!["# Benchmarks".to_string(), String::new(), format!(
        "Measured by `scripts/bench.sh` ({}, release build, Terraform 1.15.5, moto 5.2.5, 2 cores). Medians; each row next to \
         its baselines from the same run. Baselines: Terraform's built-in `terraform_data` (no plugin) and hashicorp's Go \
         null provider 2.1.2 (`null_resource`).",
        std::process::Command::new("date").arg("-u").arg("+%Y-%m-%d").output().map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string()).unwrap_or_default()
    ), String::new()];
    let mut misses = Vec::new();

    // Start-up and the plugin protocol.
    let own_start = startup(&own, "5,6");
    let null_start = startup(&null_provider, "4,5");
    let schema = schema_latency(&own);
    let size = std::fs::metadata(&own).unwrap().len();
    report.push("## Start-up\n\n| figure | iamkey | Go null provider | target |\n|---|---|---|---|".into());
    report.push(format!("| exec to handshake line (median of {LAUNCHES}) | {} | {} | ≤ 10 ms |", ms(own_start), ms(null_start)));
    report.push(format!("| GetProviderSchema over mTLS (median of {SCHEMA_CALLS}) | {:.3} ms | — | — |", schema.as_secs_f64() * 1000.0));
    report.push(format!("| stripped release binary | {:.1} MB | {:.1} MB | ≤ 20 MB |", size as f64 / 1e6, std::fs::metadata(&null_provider).unwrap().len() as f64 / 1e6));
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
    report.push("## Terraform workloads (N resources; for iamkey N/2 users with 2 keys each)\n".into());
    report.push("| N | resource | apply | plan -refresh=false | plan (refresh) | destroy | provider CPU per resource per plan | ListAccessKeys per refresh |".into());
    report.push("|---|---|---|---|---|---|---|---|".into());
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
        own_ws.tf(&["apply", "-auto-approve", "-input=false", "-parallelism=10"]).ok();
        let lists_before = proxy.calls("ListAccessKeys");
        let cpu_ms = provider_cpu_per_op(&own_ws, &scratch.path().join(format!("iamkey-{n}.log")), n);
        // Of its two plans only the second refreshes (the quota check lists nothing for existing keys).
        let lists_per_refresh = (proxy.calls("ListAccessKeys") - lists_before) as f64;
        own_ws.tf(&["destroy", "-auto-approve", "-input=false", "-refresh=false"]).ok();
        for (name, t, cpu, lists) in [("terraform_data", data, String::new(), String::new()), ("null_resource", null, String::new(), String::new()), (
            "iamkey_access_key",
            own,
            format!("{cpu_ms:.2} ms"),
            format!("{lists_per_refresh:.0} for {users} users"),
        )] {
            report.push(format!("| {n} | {name} | {} | {} | {} | {} | {cpu} | {lists} |", secs(t.apply), secs(t.plan_no_refresh), secs(t.plan_refresh), secs(t.destroy)));
        }
        report.push(format!(
            "| {n} | **ratios** | {:.2}× data | {:.2}× data, {:.2}× null | {:.2}× null | {:.2}× null | | |",
            ratio(own.apply, data.apply),
            ratio(own.plan_no_refresh, data.plan_no_refresh),
            ratio(own.plan_no_refresh, null.plan_no_refresh),
            ratio(own.plan_refresh, null.plan_refresh),
            ratio(own.destroy, null.destroy),
        ));
        if n >= 500 {
            if ratio(own.plan_no_refresh, data.plan_no_refresh) > 1.3 {
                misses.push(format!("plan -refresh=false of {n}: {:.2}× terraform_data > 1.3×", ratio(own.plan_no_refresh, data.plan_no_refresh)));
            }
            if own.plan_refresh > null.plan_refresh {
                misses.push(format!("plan of {n}: {} slower than null_resource's {}", secs(own.plan_refresh), secs(null.plan_refresh)));
            }
        }
        if lists_per_refresh > users as f64 {
            misses.push(format!("refresh of {n} keys made {lists_per_refresh} ListAccessKeys for {users} users"));
        }
    }

    // Memory at 1,000 keys.
    let prefix = unique_user("bench-mem");
    for u in 0..500 {
        create_user(&format!("{prefix}-{u}"));
    }
    let ws = Workspace::configured(&iamkey_config(&proxy.endpoint(), 500, 1000, &prefix), |ws| ws.with_env("TF_CLI_CONFIG_FILE", rc.to_str().unwrap()));
    ws.tf(&["apply", "-auto-approve", "-input=false", "-parallelism=10"]).ok();
    let log = scratch.path().join("memory.log");
    ws.tf_env(&["plan", "-input=false"], &[("TF_LOG_PROVIDER", "debug"), ("TF_LOG_PATH", log.to_str().unwrap())]).ok();
    let (_, peak_kib) = resource_usage(&log);
    ws.tf(&["destroy", "-auto-approve", "-input=false", "-refresh=false"]).ok();
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
    std::fs::write(project_root().join("docs/benchmarks.md"), &text).unwrap();
    if !misses.is_empty() {
        eprintln!("benchmark targets missed: {misses:?}");
        std::process::exit(1);
    }
}
