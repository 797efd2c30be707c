//! `mozci`: the command line over the core crate. Trigger N jobs across a
//! range of pushes or backfill to the last good push (the successor of
//! mozci's `scripts/trigger.py`), list a job's failing tests, find the push
//! that made a job fail, and print the trychooser graph.

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

mod config;
mod culprit;
mod failures;
mod graph;
mod job_args;
mod ledger_store;
mod output;
mod pulse;
mod rate;
mod trigger;
mod watch;

use clap::{Parser, Subcommand};
use mozci::ci::{Backends, CiContext, Logins};
use mozci::engine::Session;
use mozci::http::NativeClient;
use mozci::plan::backfill_button::backfill_button_state;
use mozci::sources::treeherder_page::parse_job_view_url;
use std::process::ExitCode;
use std::rc::Rc;
use std::time::Duration;

/// Exit codes: 0 done; 1 a service failed or answered something unusable;
/// 2 bad usage or input; 3 not triggered because the plan needs
/// confirmation; 4 credentials missing, refused (401) or without access (403);
/// 5 some triggers were refused or got no answer.
pub const EXIT_FAILURE: u8 = 1;
pub const EXIT_USAGE: u8 = 2;
pub const EXIT_NEEDS_CONFIRMATION: u8 = 3;
pub const EXIT_AUTH: u8 = 4;
pub const EXIT_PARTIAL: u8 = 5;

const EXAMPLES: &str = "Examples:
  # What would a backfill of this Buildbot job to its last good push do?
  mozci trigger --repo mozilla-inbound -b 'Ubuntu VM 12.04 x64 mozilla-inbound opt test mochitest-1' \\
      --rev 3a8a4e6b3f7c9d2e1f0a5b6c7d8e9f0a1b2c3d4e --backfill --max-revisions 10 --dry-run

  # Three runs of a Taskcluster job on the push and the 4 before it, then follow them
  TASKCLUSTER_CLIENT_ID=... TASKCLUSTER_ACCESS_TOKEN=... \\
  mozci trigger --repo autoland --label test-linux1804-64/opt-mochitest-browser-chrome-1 \\
      --rev <40-hex> --back-revisions 4 --times 3 --watch

  # Which tests failed in a job; how often a job fails; which push made it fail
  mozci failures --repo autoland --job-id 123456
  mozci failures --log live_backing.log.gz --json
  mozci rate --repo autoland --label test-linux1804-64/opt-xpcshell --rev <40-hex> --pushes 30
  mozci culprit --repo autoland --label test-linux1804-64/opt-mochitest-browser-chrome-1 \\
      --rev <40-hex> --suspects 12 --dry-run

  # Against a local sandbox (mozci-sandbox prints the JSON line on start)
  mozci --sandbox \"$(head -1 sandbox.json)\" graph --repo try

Environment: MOZCI_TREEHERDER, MOZCI_HG, MOZCI_BUILDAPI, MOZCI_BUILDJSON,
MOZCI_ALLTHETHINGS, MOZCI_TASKCLUSTER, MOZCI_SANDBOX (endpoints);
MOZCI_LDAP_USER, MOZCI_LDAP_PASSWORD (BuildAPI; asked for on a terminal
otherwise); TASKCLUSTER_CLIENT_ID, TASKCLUSTER_ACCESS_TOKEN,
TASKCLUSTER_CERTIFICATE; MOZCI_PULSE_USER, MOZCI_PULSE_PASSWORD, MOZCI_PULSE_URL
(live job events for --watch and watch); MOZCI_CONFIG (config file),
MOZCI_STATE_DIR (ledger).

Exit codes: 0 done, 1 service failure, 2 usage, 3 needs confirmation,
4 credentials, 5 some triggers refused or unanswered.";

#[derive(Parser)]
#[command(name = "mozci", version, about = "Trigger, backfill and inspect Mozilla CI jobs", after_help = EXAMPLES)]
struct Cli {
    #[command(flatten)]
    endpoints: config::EndpointArgs,
    /// Print one JSON document instead of text.
    #[arg(long, global = true)]
    json: bool,
    /// HTTP timeout per request, in seconds, body included (logs and
    /// buildjson dumps get at least 300 s: see docs/limits.md).
    #[arg(long, global = true, default_value_t = 30)]
    http_timeout: u64,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Trigger N runs of a job type on a range of pushes, or backfill to the last good push.
    Trigger(trigger::TriggerArgs),
    /// List the tests that failed in a Treeherder job.
    Failures(failures::FailuresArgs),
    /// How often a job (or one of its tests) fails across pushes, and how
    /// many runs show such a failure.
    Rate(rate::RateArgs),
    /// Find the push that made a job fail (or tell it is intermittent) by
    /// triggering as few runs as the flake-aware search needs.
    Culprit(culprit::CulpritArgs),
    /// Follow a job type's runs on a push range until they settle (live
    /// events from Pulse when MOZCI_PULSE_USER/PASSWORD are set).
    Watch(watch::WatchArgs),
    /// Print the trychooser graph (tests per platform) of a repository as JSON.
    Graph {
        #[arg(long)]
        repo: String,
    },
    /// Show what a Treeherder job view URL selects and whether Backfill applies.
    Selection {
        /// A Treeherder job view URL.
        url: String,
    },
}

/// An error with the exit code it maps to.
#[derive(Debug)]
pub struct CliError {
    pub code: u8,
    pub message: String,
}

impl std::fmt::Display for CliError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl CliError {
    pub fn usage(message: impl Into<String>) -> Self {
        CliError {
            code: EXIT_USAGE,
            message: message.into(),
        }
    }
    pub fn failure(message: impl Into<String>) -> Self {
        CliError {
            code: EXIT_FAILURE,
            message: message.into(),
        }
    }
    pub fn needs_confirmation(message: impl Into<String>) -> Self {
        CliError {
            code: EXIT_NEEDS_CONFIRMATION,
            message: message.into(),
        }
    }
}

impl From<mozci::Error> for CliError {
    fn from(e: mozci::Error) -> Self {
        use mozci::Error as E;
        let code = match &e {
            E::Unauthorized { .. } | E::Forbidden { .. } => EXIT_AUTH,
            E::Config(_) => EXIT_AUTH,
            E::Invalid(_) => EXIT_USAGE,
            _ => EXIT_FAILURE,
        };
        CliError {
            code,
            message: e.to_string(),
        }
    }
}

fn session(cli: &Cli, interactive_credentials: bool) -> Result<Session, CliError> {
    let endpoints = config::endpoints(&cli.endpoints)?;
    let http = NativeClient::new(Duration::from_secs(cli.http_timeout.max(1)))?;
    let ctx = CiContext::new(Rc::new(http), endpoints);
    let logins = Logins {
        buildapi: config::buildapi_credentials(interactive_credentials)?,
        taskcluster: config::taskcluster_credentials(),
        treeherder_user_credentials: None,
    };
    let backends = Backends::connect(&ctx, None, logins)?;
    Ok(Session::new(ctx, backends))
}

async fn run(cli: Cli) -> Result<ExitCode, CliError> {
    match &cli.command {
        Command::Selection { url } => {
            let selection = parse_job_view_url(url);
            let button = backfill_button_state(selection.as_ref());
            let out = serde_json::json!({ "selection": selection, "backfill": button });
            println!("{out:#}");
            Ok(if selection.is_some() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(EXIT_USAGE)
            })
        }
        Command::Graph { repo } => {
            graph::run(&session(&cli, false)?, repo).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Failures(args) => {
            failures::run(&session(&cli, false)?, args, cli.json).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Rate(args) => {
            rate::run(&session(&cli, false)?, args, cli.json).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Culprit(args) => {
            let needs_buildapi = !args.dry_run && args.job.label.contains(' ');
            let session = session(&cli, needs_buildapi)?;
            let store = Rc::new(ledger_store::LedgerStore::open(config::state_dir())?);
            culprit::run(&session, args, &store, cli.json).await
        }
        Command::Watch(args) => {
            let store = ledger_store::LedgerStore::open(config::state_dir())?;
            watch::run(&session(&cli, false)?, args, &store, cli.json).await
        }
        Command::Trigger(args) => {
            // Credentials are only asked for when something may be sent.
            let needs_buildapi = !args.dry_run && args.buildername.contains(' ');
            let session = session(&cli, needs_buildapi)?;
            let store = Rc::new(ledger_store::LedgerStore::open(config::state_dir())?);
            trigger::run(&session, args, &store, cli.json).await
        }
    }
}

/// Output piped into `head` and closed early should end the program quietly,
/// as for any Unix tool, not panic in `println!`.
fn quiet_on_closed_pipe() {
    #[cfg(unix)]
    // SAFETY: restoring the default disposition of SIGPIPE at start-up,
    // before any thread exists, has no other effect on the program.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

fn main() -> ExitCode {
    quiet_on_closed_pipe();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("mozci: cannot start the async runtime: {e}");
            return ExitCode::from(EXIT_FAILURE);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("mozci: {}", e.message);
            ExitCode::from(e.code)
        }
    }
}
