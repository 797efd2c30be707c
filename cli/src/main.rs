//! `mozci`: the command line over the core crate.

use clap::{Parser, Subcommand};
use mozci::plan::backfill_button::backfill_button_state;
use mozci::sources::treeherder_page::parse_job_view_url;

#[derive(Parser)]
#[command(
    name = "mozci",
    version,
    about = "Trigger, backfill and inspect Mozilla CI jobs"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Show what a Treeherder job view URL selects and whether Backfill applies.
    Selection {
        /// A Treeherder job view URL.
        url: String,
    },
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Selection { url } => {
            let selection = parse_job_view_url(&url);
            let button = backfill_button_state(selection.as_ref());
            let out = serde_json::json!({ "selection": selection, "backfill": button });
            println!("{out:#}");
            if selection.is_some() {
                std::process::ExitCode::SUCCESS
            } else {
                std::process::ExitCode::from(2)
            }
        }
    }
}
