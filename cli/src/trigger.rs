//! `mozci trigger`: N runs of a job type across a range of pushes, or a
//! backfill to the last good push, with a dry run, a confirmation above a
//! limit, a ledger against double triggers, and optional watching.

use crate::ledger_store::LedgerStore;
use crate::output::{any_trouble, execution_line, plan_line};
use crate::CliError;
use indicatif::{ProgressBar, ProgressStyle};
use mozci::ci::clock;
use mozci::engine::execute::{execute_plans, PushExecution};
use mozci::engine::ledger::{Ledger, TriggerRecord};
use mozci::engine::planning::{self, PlanRange, PlanRequest};
use mozci::engine::watch::{all_settled, watch_items, watch_step, DEFAULT_RERUN_BUDGET};
use mozci::engine::Session;
use mozci::model::JobType;
use mozci::model::{Push, PushHistory, Revision};
use mozci::plan::choices::{DEFAULT_DEPTH, MAX_DEPTH, MAX_TIMES};
use mozci::plan::failure_scope::FailureScope;
use mozci::plan::trigger::PushPlan;
use mozci::plan::verdict::backfill_verdict;
use serde_json::json;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::rc::Rc;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, clap::Args)]
pub struct TriggerArgs {
    /// Treeherder repository name (mozilla-inbound, autoland, …).
    #[arg(long)]
    pub repo: String,
    /// Buildbot buildername or Taskcluster label of the job type.
    #[arg(long, short = 'b', alias = "label", visible_alias = "label")]
    pub buildername: String,
    /// The newest revision of the range (a push's revision).
    #[arg(long, short = 'r', alias = "revision")]
    pub rev: String,
    /// The oldest revision of the range (included).
    #[arg(long, conflicts_with_all = ["back_revisions", "delta", "backfill"])]
    pub from_rev: Option<String>,
    /// Also the N pushes before --rev.
    #[arg(long, conflicts_with_all = ["delta", "backfill"])]
    pub back_revisions: Option<u32>,
    /// The N pushes before and the N pushes after --rev.
    #[arg(long, conflicts_with = "backfill")]
    pub delta: Option<u32>,
    /// --rev is a merge push on --repo: act on the pushes of this source
    /// repository that the merge brought in (found through its pushlog).
    #[arg(long, value_name = "SOURCE_REPO", conflicts_with_all = ["from_rev", "back_revisions", "delta", "backfill"])]
    pub follow_merge: Option<String>,
    /// Walk back from --rev to the last push with a successful run, and fill
    /// every push in between.
    #[arg(long)]
    pub backfill: bool,
    /// With --backfill: how many earlier pushes to examine at most.
    #[arg(long, default_value_t = DEFAULT_DEPTH, value_parser = clap::value_parser!(u32).range(1..=MAX_DEPTH as i64))]
    pub max_revisions: u32,
    /// Runs wanted on each push in total (existing ones count). Default:
    /// with --backfill, as many as the job's failure rate on the failing
    /// pushes calls for (shown in the plan's notes, and confirmed first);
    /// otherwise 1.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=MAX_TIMES as i64))]
    pub times: Option<u32>,
    /// Only every K-th push of the range, newest first.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    pub skips: u32,
    /// Show the plan and send nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Do not ask before triggering (see --confirm-above for when it asks).
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Plans starting more jobs than this need confirmation (--yes, or a
    /// prompt); so do a backfill no good push bounds and a times count the
    /// failure rate chose.
    #[arg(long, default_value_t = 20)]
    pub confirm_above: u32,
    /// Follow the triggered jobs until they finish (or --timeout-minutes).
    #[arg(long)]
    pub watch: bool,
    /// Seconds between polls while watching (without live events from Pulse).
    #[arg(long, default_value_t = 60)]
    pub poll_seconds: u64,
    /// With live events from Pulse: poll anyway after this many quiet seconds.
    #[arg(long, default_value_t = 600)]
    pub fallback_seconds: u64,
    /// Stop watching after this long.
    #[arg(long, default_value_t = 240)]
    pub timeout_minutes: u64,
    /// Extra runs per push allowed for coalesced or infrastructure-failed jobs while watching.
    #[arg(long, default_value_t = DEFAULT_RERUN_BUDGET)]
    pub rerun_budget: u32,
    /// Count any failure of the job (by result alone), not only runs failing
    /// like the one on --rev (its failing tests, crash signature or kind).
    #[arg(long, conflicts_with = "test")]
    pub any_failure: bool,
    /// Count a run as failed only when this test failed (its path, or the
    /// end of its path).
    #[arg(long)]
    pub test: Option<String>,
}

struct Planned {
    /// The repository the plan acts on (the merge's source with --follow-merge).
    repo: String,
    plans: Vec<PushPlan>,
    histories: Vec<PushHistory>,
    needs_confirmation: bool,
    summary: String,
    notes: Vec<String>,
    plan_json: serde_json::Value,
    /// Which failures count while watching.
    scope: FailureScope,
    /// Triggers of this job whose answer was lost: counted as asked, not resent.
    unknown: Vec<TriggerRecord>,
}

/// The plan for `args`, from the engine's one planning call (the same as
/// the add-on's): the CLI only works out which pushes were named.
async fn plan(
    session: &Session,
    args: &TriggerArgs,
    job_type: &JobType,
    ledger: &Ledger,
) -> Result<Planned, CliError> {
    let rev = Revision(args.rev.clone());
    let mut repo = args.repo.clone();
    let range = if args.backfill {
        PlanRange::ToLastGood {
            revision: rev.clone(),
            depth: args.max_revisions,
        }
    } else {
        let pushes: Vec<Push> = match (&args.from_rev, args.back_revisions, args.delta) {
            _ if args.follow_merge.is_some() => {
                let source = args.follow_merge.clone().unwrap_or_default();
                // A merge push of --repo; its changesets came from `source`.
                let pushes = session.merged_pushes(&args.repo, &rev, &source).await?;
                repo = source;
                pushes
            }
            (Some(from), _, _) => {
                session
                    .pushes_between(&args.repo, &Revision(from.clone()), &rev)
                    .await?
            }
            (None, Some(n), _) => session.pushes_ending_at(&args.repo, &rev, n).await?,
            (None, None, Some(d)) => session.pushes_around(&args.repo, &rev, d).await?,
            (None, None, None) => session.pushes_ending_at(&args.repo, &rev, 0).await?,
        };
        PlanRange::Pushes {
            pushes: pushes.into_iter().step_by(args.skips as usize).collect(),
            selected: rev.clone(),
        }
    };
    // Without --times: from the failure rate for a backfill, 1 on a range.
    let times = match args.times {
        None if !args.backfill => Some(1),
        times => times,
    };
    let request = PlanRequest {
        repo: repo.clone(),
        job_type: job_type.clone(),
        range,
        times,
        selected_job: None,
        any_failure: args.any_failure,
        test: args.test.clone(),
        rerun_budget: args.rerun_budget,
        confirm_above: args.confirm_above,
    };
    let planned = planning::plan(session, &request, ledger, clock::now_ms()).await?;
    let plan_json = match &planned.backfill {
        Some(backfill) => serde_json::to_value(backfill),
        None => serde_json::to_value(&planned.plans),
    }
    .map_err(|e| CliError::failure(e.to_string()))?;
    Ok(Planned {
        scope: planned.scope,
        repo,
        plans: planned.plans,
        histories: planned.histories,
        needs_confirmation: planned.needs_confirmation,
        summary: planned.summary,
        notes: planned.notes,
        unknown: planned.unknown,
        plan_json,
    })
}

fn confirm(question: &str) -> bool {
    eprint!("{question} [y/N] ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer).is_ok() && matches!(answer.trim(), "y" | "Y" | "yes")
}

/// One line for a trigger that may have been carried out without the tool
/// knowing.
fn unknown_line(record: &TriggerRecord) -> String {
    format!(
        "push {} {} {:?} ×{}: {}",
        record.push_id,
        record.revision.short(),
        record.kind,
        record.runs_asked,
        record.outcome.describe()
    )
}

pub async fn run(
    session: &Session,
    args: &TriggerArgs,
    store: &Rc<LedgerStore>,
    json_output: bool,
) -> Result<ExitCode, CliError> {
    let job_type = JobType::from_name(&args.buildername);
    // Plan, send and record under the state directory's writer lock, the
    // ledger read once it is held: a second process plans with the first
    // one's records. A dry run only reads.
    let lock = if args.dry_run { None } else { store.lock()? };
    let stopped_mid_send = match &lock {
        Some(lock) => store.settle_unanswered(lock)?,
        None => Vec::new(),
    };
    if lock.is_some() {
        store.prune(clock::now_ms())?;
    }
    let mut ledger = store.load()?;
    ledger.prune(clock::now_ms());
    let session = session.clone().with_journal(store.clone());
    let planned = plan(&session, args, &job_type, &ledger).await?;
    let started: u32 = planned
        .plans
        .iter()
        .map(|p| p.action.jobs_started_now())
        .sum();
    let unknown = &planned.unknown;

    if !json_output {
        println!(
            "{} on {} ({:?}): {}",
            job_type.name, planned.repo, job_type.ci, planned.summary
        );
        for note in &planned.notes {
            println!("note: {note}");
        }
        for record in &stopped_mid_send {
            println!(
                "note: a mozci process stopped between sending and recording: {}",
                unknown_line(record)
            );
        }
        for record in unknown {
            println!(
                "note: counted as asked, not resent: {}",
                unknown_line(record)
            );
        }
        for p in &planned.plans {
            println!("  {}", plan_line(p));
        }
    }
    if args.dry_run || started == 0 {
        if json_output {
            println!(
                "{}",
                json!({ "job_type": job_type, "repo": planned.repo, "dry_run": args.dry_run, "summary": planned.summary, "plan": planned.plan_json, "unknown": unknown })
            );
        } else if args.dry_run {
            println!("dry run: nothing sent");
        }
        return Ok(ExitCode::SUCCESS);
    }
    if planned.needs_confirmation && !args.yes {
        let interactive = std::io::stdin().is_terminal() && !json_output;
        if !interactive
            || !confirm(&format!(
                "Start {started} job(s) on {} push(es)?",
                planned.plans.len()
            ))
        {
            return Err(CliError::needs_confirmation(format!(
                "not triggered: {} needs confirmation (start {started} job(s)); run again with --yes, or --dry-run to inspect",
                planned.summary
            )));
        }
    }

    let progress = if json_output {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(planned.plans.len() as u64)
    };
    progress.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} pushes {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    // Each record is written ahead through the session's journal (the store).
    let executions = execute_plans(
        &session,
        &planned.repo,
        &job_type,
        &planned.plans,
        &planned.histories,
        &mut ledger,
        |execution: &PushExecution| {
            progress.inc(1);
            progress.suspend(|| {
                if !json_output {
                    println!("  {}", execution_line(execution));
                }
            });
        },
    )
    .await?;
    progress.finish_and_clear();
    drop(lock);

    let mut verdict = None;
    let mut watch_log = Vec::new();
    let mut wait_stats = None;
    if args.watch {
        let pushes: Vec<Push> = planned.histories.iter().map(|h| h.push.clone()).collect();
        let mut items = watch_items(
            &executions,
            &job_type.name,
            args.rerun_budget,
            &planned.scope,
        );
        let deadline = Instant::now() + Duration::from_secs(args.timeout_minutes * 60);
        let spinner = if json_output {
            ProgressBar::hidden()
        } else {
            ProgressBar::new_spinner()
        };
        let mut waiter = crate::watch::Waiter::start(
            &session,
            &planned.repo,
            &job_type,
            &pushes,
            args.poll_seconds,
            args.fallback_seconds,
        )
        .await?;
        let mut triggered: Vec<_> = executions.iter().flat_map(|e| e.records.clone()).collect();
        loop {
            // Each step may trigger (re-runs, tests after a build): under the
            // writer lock, with the ledger as other processes left it.
            let lock = store.lock()?;
            if let Some(lock) = &lock {
                store.settle_unanswered(lock)?;
            }
            ledger = store.load()?;
            let (histories, events) = watch_step(
                &session,
                &planned.repo,
                &job_type,
                &pushes,
                &mut items,
                &mut ledger,
            )
            .await?;
            drop(lock);
            triggered.extend(events.iter().filter_map(|e| e.record.clone()));
            waiter.observe(&histories, std::mem::take(&mut triggered).iter());
            for event in &events {
                let line = format!(
                    "push {}: {}{}",
                    event.push_id,
                    event.reaction.describe(),
                    event
                        .record
                        .as_ref()
                        .map(|r| format!(" → {}", r.outcome.describe()))
                        .unwrap_or_default()
                );
                spinner.suspend(|| {
                    if !json_output {
                        println!("  {line}");
                    }
                });
                watch_log.push(event.clone());
            }
            let in_progress: u32 = histories.iter().map(|h| h.counts().in_progress()).sum();
            spinner.set_message(format!("{in_progress} run(s) pending or running"));
            if all_settled(&items) {
                verdict = Some(backfill_verdict(&histories));
                break;
            }
            if Instant::now() >= deadline {
                verdict = Some(backfill_verdict(&histories));
                spinner
                    .suspend(|| eprintln!("watch: time limit reached with work still under way"));
                break;
            }
            waiter.wait().await;
        }
        wait_stats = Some(waiter.close().await);
        spinner.finish_and_clear();
    }

    let trouble = any_trouble(&executions);
    if json_output {
        println!(
            "{}",
            json!({ "job_type": job_type, "repo": planned.repo, "summary": planned.summary, "plan": planned.plan_json, "executions": executions, "watch": watch_log, "live_events": wait_stats, "verdict": verdict, "unknown": unknown })
        );
    } else {
        if let Some(v) = &verdict {
            println!("answer: {}", v.describe());
        }
        if trouble {
            eprintln!("some triggers were refused or got no usable answer: see above (an unknown one may have been scheduled; it is counted as asked and not re-sent)");
        }
    }
    Ok(if trouble {
        ExitCode::from(crate::EXIT_PARTIAL)
    } else {
        ExitCode::SUCCESS
    })
}
