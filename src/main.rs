//! The `terraform-provider-iamkey` binary. Without arguments it is the plugin that
//! Terraform starts; the flags serve people: `--debug` and `--version`. (The docs
//! generator is the separate `iamkey-docs` binary.)

use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use iamkey::host;
use iamkey::provider::IamKeyProvider;

#[derive(Parser)]
#[command(name = "terraform-provider-iamkey", version, about = "Terraform/OpenTofu provider for AWS IAM access keys")]
struct Cli {
    /// Serve without Terraform starting the plugin, and print TF_REATTACH_PROVIDERS.
    #[arg(long)]
    debug: bool,
}

fn main() -> ExitCode {
    // First: Ctrl-C reaches Terraform's whole process group, and a SIGINT that
    // arrives before the handshake must not kill the provider either.
    host::ignore_interrupts();
    host::logging::init();
    let cli = Cli::parse();
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
