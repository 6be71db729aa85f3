//! The `terraform-provider-iamkey` binary. Without arguments it is the plugin that
//! Terraform starts; the flags serve people: `--debug`, `--version`, and `docs`.

use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use iamkey::host;
use iamkey::provider::IamKeyProvider;

#[derive(Parser)]
#[command(name = "terraform-provider-iamkey", version, about = "Terraform/OpenTofu provider for AWS IAM access keys")]
struct Cli {
    /// Serve without Terraform starting the plugin, and print TF_REATTACH_PROVIDERS.
    #[arg(long)]
    debug: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Generate the registry docs under docs/ from the schema and examples/.
    Docs {
        /// The project folder (holding examples/ and docs/).
        #[arg(long, default_value = ".")]
        root: std::path::PathBuf,
        /// Write nothing; fail if docs/ is out of date.
        #[arg(long)]
        check: bool,
    },
}

fn main() -> ExitCode {
    // First: Ctrl-C reaches Terraform's whole process group, and a SIGINT that
    // arrives before the handshake must not kill the provider either.
    host::ignore_interrupts();
    host::logging::init();
    let cli = Cli::parse();
    if let Some(Command::Docs { root, check }) = cli.command {
        return generate_docs(&root, check);
    }
    if !cli.debug {
        if let Err(e) = host::check_launch_environment() {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    }
    // One thread: the provider's work is small RPCs and waiting on IAM, and a single
    // thread answers them without cross-thread wake-ups (see design/benchmarks.md).
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("could not start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        let provider = Arc::new(IamKeyProvider::new()).into();
        if cli.debug {
            host::serve_debug(provider, iamkey::PROVIDER_ADDRESS).await
        } else {
            host::serve(provider).await
        }
    });
    // Exit at once: Terraform kills a provider that lingers 2 s after Shutdown, and
    // background tasks (an SDK call that outlived its RPC) must not hold the exit.
    let code = match result {
        Ok(()) => 0,
        Err(e) => {
            tracing::error!("{e}");
            eprintln!("terraform-provider-iamkey: {e}");
            1
        }
    };
    std::process::exit(code)
}

fn generate_docs(root: &std::path::Path, check: bool) -> ExitCode {
    match iamkey::docs::generate(root, check) {
        Ok(stale) if check && !stale.is_empty() => {
            eprintln!("docs/ is out of date; run `terraform-provider-iamkey docs`. Stale: {stale:?}");
            ExitCode::FAILURE
        }
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("could not write docs: {e}");
            ExitCode::FAILURE
        }
    }
}
