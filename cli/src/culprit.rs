//! `mozci culprit`: which push made a job fail, or whether it is only
//! intermittent. Runs rounds of the engine's culprit search (triggering the
//! runs it asks for, recorded in the ledger) until the answer is in.

use crate::job_args::JobAtRevision;
use crate::ledger_store::LedgerStore;
use crate::CliError;
use mozci::ci::clock;
use mozci::engine::culprit::{confirm_newest, culprit_step, CulpritProgress};
use mozci::engine::ledger::TriggerOutcome;
use mozci::engine::watch::choose_scope;
use mozci::engine::Session;
use mozci::plan::culprit::observed::RunVerdicts;
use mozci::plan::culprit::range::PlannedRuns;
use mozci::plan::culprit::{ConfirmAction, CulpritConfig, CulpritSearch};
use serde_json::json;
use std::process::ExitCode;
use std::rc::Rc;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, clap::Args)]
pub struct CulpritArgs {
    #[command(flatten)]
    pub job: JobAtRevision,
    /// Suspect pushes: the push of --rev and the ones before it. Needed
    /// with --no-confirm; in the default confirm-first mode the suspects
    /// are the pushes after the last one where the job passed (at most 40),
    /// and this caps them.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=200))]
    pub suspects: Option<u32>,
    /// Do not use the CI's confirm-failures tasks (nor confirm first): a
    /// plain search of --suspects pushes with whole-job runs only. Without
    /// it, where the CI offers them (Taskcluster), the failure is confirmed
    /// on the failing push first, an older push already failing the same
    /// way ends the search, and confirm tasks (one test re-run 5 times,
    /// planned at about a quarter of a job run's machine time, counted at
    /// their measured run time) are used where they tell the most per
    /// machine time.
    #[arg(long)]
    pub no_confirm: bool,
    /// Pushes before the suspects whose runs teach the flake rate (their
    /// existing runs cost nothing, and the flake rate is what the search
    /// most needs to learn).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=50))]
    pub older: u32,
    /// Pushes before those (the job's history) whose runs are read once,
    /// at the start, to set the flake rate's prior; they do not count in
    /// the budget. 0 reads none.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(0..=1000))]
    pub history: u32,
    /// Search for the push that broke this test (a path or its end): a run
    /// counts as failed only if its logs say this test failed.
    #[arg(long, conflicts_with = "any_failure")]
    pub test: Option<String>,
    /// Count any failure of the job (but infrastructure trouble), not only
    /// failures like the failed run on the push of --rev.
    #[arg(long)]
    pub any_failure: bool,
    /// Stop after this much machine time in all, in job runs (a run counts
    /// 1, a confirm task its share), answering the most probable.
    #[arg(long, default_value_t = 300)]
    pub budget: u32,
    /// Runs out at once (one round).
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=64))]
    pub runs_per_round: u32,
    /// Stop when one answer reaches this probability.
    #[arg(long, default_value_t = 0.99)]
    pub threshold: f64,
    /// Show the runs the first round would trigger and send nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Seconds between looks at the runs.
    #[arg(long, default_value_t = 60)]
    pub poll_seconds: u64,
    /// Give up (with the answer so far) after this long.
    #[arg(long, default_value_t = 600)]
    pub timeout_minutes: u64,
}

fn planned_line(p: &PlannedRuns) -> String {
    format!(
        "push {:>3} {} (Treeherder push {}) ×{}",
        p.index,
        p.revision.short(),
        p.push_id,
        p.runs
    )
}

fn trouble(progress: &CulpritProgress) -> Vec<String> {
    progress
        .triggered
        .iter()
        .filter(|r| !matches!(r.outcome, TriggerOutcome::Accepted { .. }))
        .map(|r| format!("push {}: {}", r.push_id, r.outcome.describe()))
        .collect()
}

pub async fn run(
    session: &Session,
    args: &CulpritArgs,
    store: &Rc<LedgerStore>,
    json_output: bool,
) -> Result<ExitCode, CliError> {
    let job_type = args.job.job_type();
    let confirm_first = !args.no_confirm && session.confirm_job_type(&job_type).is_some();
    if !confirm_first && args.suspects.is_none() {
        return Err(CliError::failure(if args.no_confirm {
            "--suspects is needed with --no-confirm".to_string()
        } else {
            format!(
                "{:?} offers no confirm tasks: give --suspects for a plain search",
                job_type.ci
            )
        }));
    }
    let mut config = CulpritConfig::new(args.suspects.unwrap_or(1));
    config.threshold = args.threshold;
    config.budget = args.budget;
    config.runs_per_round = args.runs_per_round;
    if confirm_first {
        config.confirm = Some(ConfirmAction::default());
    }
    // Refuse bad settings before any request is made.
    CulpritSearch::new(config.clone())?;
    let session = &session.clone().with_journal(store.clone());
    // Failures count when they look like the failed run on the push of
    // --rev (its failure signature), unless --test or --any-failure says
    // otherwise; the failed runs' logs are read whatever the scope, since a
    // run failed only by the infrastructure is no evidence.
    let newest = session
        .pushes_ending_at(&args.job.repo, &args.job.revision(), 0)
        .await?;
    let selected = session
        .histories(
            &args.job.repo,
            &newest,
            &job_type,
            &store.load()?,
            clock::now_ms(),
        )
        .await?;
    let (scope, scope_problem) = choose_scope(
        session,
        &args.job.repo,
        selected.first(),
        None,
        args.any_failure,
        args.test.as_deref(),
    )
    .await;
    if let Some(problem) = scope_problem {
        eprintln!("warning: {problem}");
    }
    if !json_output {
        println!("{}.", capitalised(&scope.describe()));
    }
    let mut verdicts = Some(RunVerdicts::new(scope.clone()));
    let mut confirm_plan = None;
    let range = if confirm_first {
        let verdicts = verdicts.get_or_insert_with(|| RunVerdicts::new(scope.clone()));
        let start = session
            .confirm_first_start(
                &args.job.repo,
                &job_type,
                &args.job.revision(),
                args.older,
                args.suspects,
                verdicts,
                &store.load()?,
            )
            .await?;
        for note in &start.unread {
            eprintln!("warning: logs not read, run left out: {note}");
        }
        let Some(range) = start.range else {
            // Nothing to search: say why and stop.
            if json_output {
                let doc = json!({
                    "repo": args.job.repo, "job_type": job_type, "revision": args.job.rev,
                    "mode": "confirm_first", "confirm_first": start.plan, "done": true,
                    "confirm_tasks_used": 0, "cost_used": 0.0, "explanation": start.sentence,
                });
                println!("{doc}");
            } else {
                println!("{}", start.sentence);
            }
            return Ok(ExitCode::SUCCESS);
        };
        if !json_output {
            println!("{}", start.sentence);
        }
        confirm_plan = Some(start.plan);
        range
    } else {
        session
            .culprit_range(
                &args.job.repo,
                &job_type,
                &args.job.revision(),
                args.suspects.unwrap_or(1),
                args.older,
            )
            .await?
    };
    config.n = range.n();
    let history = if args.history == 0 {
        None
    } else {
        // The history only saves runs: without it the search learns the
        // flake rate from its own runs.
        match session.flake_history(&range, args.history, &scope).await {
            Ok((history, unread)) => {
                for note in &unread {
                    eprintln!("warning: history run left out, its logs not read: {note}");
                }
                config.rates = history.rate_model()?;
                Some(history)
            }
            Err(e) => {
                eprintln!("warning: the job's history could not be read ({e}); the search learns the flake rate from its own runs");
                None
            }
        }
    };
    if let (Some(history), false) = (&history, json_output) {
        println!("{}", history.describe());
    }
    let deadline = Instant::now() + Duration::from_secs(args.timeout_minutes.saturating_mul(60));
    let mut rounds: Vec<serde_json::Value> = Vec::new();
    loop {
        let (now, send) = (clock::now_ms(), !args.dry_run);
        // Each step plans and sends under the writer lock, with the ledger
        // as every process left it (a dry run only reads).
        let lock = if send { store.lock()? } else { None };
        if let Some(lock) = &lock {
            for record in store.settle_unanswered(lock)? {
                eprintln!(
                    "note: a mozci process stopped between sending and recording: push {}: {}",
                    record.push_id,
                    record.outcome.describe()
                );
            }
        }
        let mut ledger = store.load()?;
        ledger.prune(now);
        // Confirm first: the failure is re-run on the push where it was
        // seen before the search's answer is taken (sent once, ever).
        let mut confirmed_first = None;
        if confirm_first && send && rounds.is_empty() {
            confirmed_first =
                confirm_newest(session, &range, &mut ledger, now, verdicts.as_ref()).await?;
        }
        let mut progress = culprit_step(
            session,
            &range,
            &config,
            &mut ledger,
            now,
            send,
            verdicts.as_mut(),
        )
        .await?;
        if let Some(record) = confirmed_first {
            if !json_output {
                println!(
                    "confirm first: confirm-failures on push {}: {}",
                    record.revision.short(),
                    record.outcome.describe()
                );
            }
            progress.triggered.insert(0, record);
        }
        for note in &progress.unread_logs {
            eprintln!("warning: logs not read, run left out for now: {note}");
        }
        drop(lock);
        if !progress.planned.is_empty()
            || !progress.confirms_planned.is_empty()
            || !progress.triggered.is_empty()
        {
            rounds.push(json!({
                "planned": progress.planned,
                "confirms": progress.confirms_planned,
                "triggered": progress.triggered,
            }));
            if !json_output {
                let verb = if args.dry_run {
                    "would trigger"
                } else {
                    "triggered"
                };
                println!("round {}: {verb}", rounds.len());
                for p in &progress.planned {
                    println!("  {}", planned_line(p));
                }
                for p in &progress.confirms_planned {
                    println!("  {} confirm task(s) per failing test", planned_line(p));
                }
            }
        }
        let problems = trouble(&progress);
        // An answer is taken once the confirm tasks on their way are read.
        let finished = (progress.is_done() && progress.confirms_in_flight == 0) || args.dry_run;
        let timed_out = !finished && Instant::now() >= deadline;
        if finished || timed_out || !problems.is_empty() {
            if json_output {
                let doc = json!({
                    "repo": args.job.repo,
                    "job_type": job_type,
                    "revision": args.job.rev,
                    "test": args.test,
                    "dry_run": args.dry_run,
                    "history": history,
                    "done": progress.is_done(),
                    "rounds": rounds,
                    "answer": progress.answer,
                    "mode": if confirm_first { "confirm_first" } else { "runs_only" },
                    "confirm_first": confirm_plan,
                    "confirm_tasks_used": progress.answer.confirms_used,
                    "cost_used": progress.answer.cost_used,
                    "culprit": progress.culprit,
                    "explanation": progress.explanation,
                });
                println!("{doc}");
            } else {
                if args.dry_run {
                    println!("dry run: nothing sent");
                }
                println!("{}", progress.explanation);
                println!("{}", cost_sentence(&progress, confirm_first));
            }
            if !problems.is_empty() {
                return Err(CliError {
                    code: crate::EXIT_PARTIAL,
                    message: format!(
                        "some triggers were refused or got no answer (nothing is re-sent without checking): {}",
                        problems.join("; ")
                    ),
                });
            }
            if timed_out {
                return Err(CliError::failure(format!(
                    "no answer after {} minute(s); run the same command again to continue",
                    args.timeout_minutes
                )));
            }
            return Ok(ExitCode::SUCCESS);
        }
        tokio::time::sleep(Duration::from_secs(args.poll_seconds.max(1))).await;
    }
}

/// `text` with its first letter in capitals.
fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Whether confirm tasks were used and what the search cost.
fn cost_sentence(progress: &CulpritProgress, confirm_first: bool) -> String {
    let answer = &progress.answer;
    if !confirm_first {
        return format!("Cost: {} job run(s); no confirm tasks.", answer.runs_used);
    }
    format!(
        "Cost: {} job run(s) and {} confirm task(s), {:.2} job runs of machine time.",
        answer.runs_used, answer.confirms_used, answer.cost_used
    )
}
