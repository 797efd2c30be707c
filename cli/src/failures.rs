//! `mozci failures`: what failed in one Treeherder job, read from the best
//! log the job has, or in one log at hand (`--log PATH|URL`): each failure's
//! kind, test and line.

use crate::CliError;
use mozci::engine::failures::failures_of_job;
use mozci::engine::Session;
use mozci::http::{send_checked, BodyKind, HttpRequest, RetryPolicy};
use mozci::sources::test_failures::{log_failures, JobFailures};

#[derive(Debug, Clone, clap::Args)]
pub struct FailuresArgs {
    /// Treeherder repository name (autoland, mozilla-inbound, …).
    #[arg(long, required_unless_present = "log")]
    pub repo: Option<String>,
    /// The Treeherder job id (the `selectedJob` of a job view URL).
    #[arg(long, required_unless_present = "log")]
    pub job_id: Option<u64>,
    /// Read this log instead of a job's: a file or an http(s) URL, plain or
    /// gzip; a task log, a raw structured log or an error summary.
    #[arg(long, conflicts_with_all = ["repo", "job_id"])]
    pub log: Option<String>,
}

pub async fn run(
    session: &Session,
    args: &FailuresArgs,
    json_output: bool,
) -> Result<(), CliError> {
    if let Some(log) = &args.log {
        let body = read_log(session, log).await?;
        let failures = log_failures(&body)?;
        if json_output {
            let doc = serde_json::json!({
                "log": log,
                "source": failures.source,
                "kind": failures.kind,
                "kinds": failures.kinds,
                "failed_tests": failures.failed_tests(),
                "lines": failures.shown_lines(),
                "failures": failures,
            });
            println!("{doc}");
        } else {
            println!(
                "{log}: {}, read as {:?}",
                kind_summary(&failures),
                failures.source
            );
            print_failures(&failures);
        }
        return Ok(());
    }
    let (Some(repo), Some(job_id)) = (&args.repo, args.job_id) else {
        return Err(CliError::usage(
            "give --repo and --job-id, or --log PATH|URL",
        ));
    };
    let report = failures_of_job(&session.ctx, repo, job_id).await?;
    if json_output {
        let mut doc =
            serde_json::to_value(&report).map_err(|e| CliError::failure(e.to_string()))?;
        doc["lines"] = serde_json::to_value(report.failures.shown_lines())
            .map_err(|e| CliError::failure(e.to_string()))?;
        println!("{doc}");
        return Ok(());
    }
    let failures = &report.failures;
    println!(
        "job {} on {}: {} failing test(s), {}, read from {:?}",
        report.job_id,
        report.repo,
        failures.failed_tests().len(),
        kind_summary(failures),
        failures.source
    );
    print_failures(failures);
    for note in &report.unavailable {
        println!("note: not read: {note}");
    }
    Ok(())
}

/// A log file's bytes, or a log URL's body.
async fn read_log(session: &Session, log: &str) -> Result<Vec<u8>, CliError> {
    if log.starts_with("http://") || log.starts_with("https://") {
        let response = send_checked(
            session.ctx.http.as_ref(),
            // A log's limits (a task log runs to hundreds of megabytes), not an API answer's.
            HttpRequest::get(log).body_kind(BodyKind::Log),
            RetryPolicy::default(),
        )
        .await?;
        return Ok(response.body);
    }
    std::fs::read(log).map_err(|e| CliError::usage(format!("cannot read the log {log}: {e}")))
}

/// `main kind (also: …)`, or that nothing failed.
fn kind_summary(failures: &JobFailures) -> String {
    match failures.kinds.split_first() {
        None => "no failure found".to_string(),
        Some((main, [])) => format!("failure kind: {main}"),
        Some((main, others)) => {
            let others: Vec<&str> = others.iter().map(|k| k.as_str()).collect();
            format!("failure kind: {main} (also: {})", others.join(", "))
        }
    }
}

fn print_failures(failures: &JobFailures) {
    for line in failures.shown_lines() {
        println!("  {}", line.describe());
    }
    if let Some(timeout) = &failures.task_timeout {
        println!("  task timeout: {timeout}");
    }
    if failures.failures_not_stored > 0 {
        println!("  … and {} more failure(s)", failures.failures_not_stored);
    }
}
