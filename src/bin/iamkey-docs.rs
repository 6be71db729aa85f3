//! `iamkey-docs`: generates the registry docs under `docs/` from the provider's
//! schema, `templates/` and `examples/` (what tfplugindocs does for Go providers).
//! A binary of its own, so the plugin Terraform runs carries no docs generator.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

#[derive(Parser)]
#[command(name = "iamkey-docs", version, about = "Generate the registry docs of terraform-provider-iamkey")]
struct Cli {
    /// The project folder (holding templates/, examples/ and docs/).
    #[arg(long, default_value = ".")]
    root: PathBuf,
    /// Write nothing; fail if docs/ is out of date or breaks the registry's rules.
    #[arg(long)]
    check: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match iamkey::docs::generate(&cli.root, cli.check) {
        Ok(stale) if cli.check && !stale.is_empty() => {
            eprintln!("docs/ is out of date; run `cargo run --bin iamkey-docs`. Stale: {stale:?}");
            ExitCode::FAILURE
        }
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("could not write docs: {e}");
            ExitCode::FAILURE
        }
    }
}
