//! `mozci failures`: the tests that failed in one Treeherder job, read from
//! the best log the job has.

use crate::CliError;
use mozci::engine::failures::failures_of_job;
use mozci::engine::Session;

#[derive(Debug, Clone, clap::Args)]
pub struct FailuresArgs {
    /// Treeherder repository name (autoland, mozilla-inbound, …).
    #[arg(long)]
    pub repo: String,
    /// The Treeherder job id (the `selectedJob` of a job view URL).
    #[arg(long)]
    pub job_id: u64,
}

pub async fn run(
    session: &Session,
    args: &FailuresArgs,
    json_output: bool,
) -> Result<(), CliError> {
    let report = failures_of_job(&session.ctx, &args.repo, args.job_id).await?;
    if json_output {
        let doc = serde_json::to_value(&report).map_err(|e| CliError::failure(e.to_string()))?;
        println!("{doc}");
        return Ok(());
    }
    let failures = &report.failures;
    let tests = failures.failed_tests();
    println!(
        "job {} on {}: {} failing test(s), read from {:?}",
        report.job_id,
        report.repo,
        tests.len(),
        failures.source
    );
    for f in failures.unexpected() {
        let subtest = f
            .subtest
            .as_deref()
            .map(|s| format!(" | {s}"))
            .unwrap_or_default();
        let expected = f
            .expected
            .as_deref()
            .map(|e| format!(" (expected {e})"))
            .unwrap_or_default();
        // mozlog often repeats the subtest as the message.
        let message = f
            .message
            .as_deref()
            .filter(|m| Some(*m) != f.subtest.as_deref())
            .map(|m| format!(" — {m}"))
            .unwrap_or_default();
        println!("  {}{subtest}: {}{expected}{message}", f.test, f.status);
    }
    for c in &failures.crashes {
        println!(
            "  crash in {}: {}",
            c.test.as_deref().unwrap_or("(no test)"),
            c.signature.as_deref().unwrap_or("(no signature)")
        );
    }
    if let Some(timeout) = &failures.task_timeout {
        println!("  task timeout: {timeout}");
    }
    if failures.failures_not_stored > 0 {
        println!("  … and {} more failure(s)", failures.failures_not_stored);
    }
    for note in &report.unavailable {
        println!("note: not read: {note}");
    }
    Ok(())
}
