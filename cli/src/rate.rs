//! `mozci rate`: how often a job (or one of its tests) fails on the pushes
//! up to a revision, with a credible interval, and how many runs of a push
//! show such a failure (the times count to ask for).

use crate::job_args::JobAtRevision;
use crate::CliError;
use mozci::engine::Session;

#[derive(Debug, Clone, clap::Args)]
pub struct RateArgs {
    #[command(flatten)]
    pub job: JobAtRevision,
    /// Pushes to read: the push of --rev and the ones before it.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=500))]
    pub pushes: u32,
    /// Only this test's failures count (a path or its end), read from the failed runs' logs.
    #[arg(long)]
    pub test: Option<String>,
    /// Probability mass of the credible interval.
    #[arg(long, default_value_t = 0.9)]
    pub level: f64,
    /// Confidence of seeing the failure at least once in the runs needed.
    #[arg(long, default_value_t = 0.95)]
    pub confidence: f64,
}

pub async fn run(session: &Session, args: &RateArgs, json_output: bool) -> Result<(), CliError> {
    let report = session
        .failure_rate(
            &args.job.repo,
            &args.job.job_type(),
            &args.job.revision(),
            args.pushes.saturating_sub(1),
            args.test.as_deref(),
            args.level,
            args.confidence,
        )
        .await?;
    if json_output {
        let doc = serde_json::to_value(&report).map_err(|e| CliError::failure(e.to_string()))?;
        println!("{doc}");
        return Ok(());
    }
    let what = match &report.test {
        Some(test) => format!("{test} in {}", report.job_type),
        None => report.job_type.clone(),
    };
    println!(
        "{what} on {}: {} failed of {} run(s) on {} push(es)",
        report.repo,
        report.failures,
        report.runs,
        report.pushes.len()
    );
    println!(
        "failure rate ≈ {:.3}, {:.0}% credible interval {:.3}–{:.3}",
        report.rate,
        report.level * 100.0,
        report.interval.0,
        report.interval.1
    );
    match report.runs_needed {
        Some(k) => println!(
            "{k} run(s) of a push show such a failure at least once with {:.0}% confidence",
            report.confidence * 100.0
        ),
        None => println!("no run failed: nothing to look for"),
    }
    for note in &report.unread_logs {
        println!("note: logs not read: {note}");
    }
    Ok(())
}
