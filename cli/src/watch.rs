//! Watching jobs until they settle: `mozci watch`, and the wait between two
//! polls of any watch (`mozci trigger --watch` too).
//!
//! With Pulse credentials (see `config::pulse_address`) and a Taskcluster
//! job type, the wait ends when live job events say the watched work moved
//! (a watched task, or a task an action created, resolved: see
//! `mozci::ci::job_events`), on every (re)connection to the broker (one
//! poll reconciles what may have been missed), or after a long fallback
//! interval; while the broker is unreachable it polls every --poll-seconds.
//! Without Pulse it polls every --poll-seconds, as before.

use crate::job_args::JobAtRevision;
use crate::ledger_store::LedgerStore;
use crate::pulse::{Listener, ListenerEvent};
use crate::CliError;
use mozci::ci::clock;
use mozci::ci::job_events::JobEvents;
use mozci::engine::ledger::{TriggerOutcome, TriggerRecord};
use mozci::engine::Session;
use mozci::model::JobType;
use mozci::model::{CiSystem, JobState, Push, PushHistory, UpstreamBuild};
use mozci::sources::taskcluster::pulse::{task_binding, task_group_binding};
use serde::Serialize;
use serde_json::json;
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// After a message worth a poll, further messages are gathered this long
/// so that runs finishing together cost one poll.
const GATHER: Duration = Duration::from_millis(300);

#[derive(Debug, Clone, clap::Args)]
pub struct WatchArgs {
    #[command(flatten)]
    pub job: JobAtRevision,
    /// Also the N pushes before --rev.
    #[arg(long, default_value_t = 0)]
    pub back_revisions: u32,
    /// Seconds between polls without live events (no Pulse credentials,
    /// Buildbot jobs, or while the broker is unreachable).
    #[arg(long, default_value_t = 60)]
    pub poll_seconds: u64,
    /// With live events: poll anyway after this many quiet seconds.
    #[arg(long, default_value_t = 600)]
    pub fallback_seconds: u64,
    /// Stop watching after this long.
    #[arg(long, default_value_t = 240)]
    pub timeout_minutes: u64,
}

/// Unreadable Pulse messages named on stderr before they are only counted.
const UNREADABLE_SHOWN: u32 = 3;

/// How a watch went, for the summary.
#[derive(Debug, Clone, Default, Serialize)]
pub struct WaitStats {
    /// Whether live events were used at all.
    pub pulse: bool,
    pub polls: u32,
    /// Polls asked for by an event (the rest: start, reconnections, intervals).
    pub polls_on_events: u32,
    pub messages: u32,
    /// Messages that could not be read (not JSON, not a queue message):
    /// ignored, the first few named on stderr.
    pub unreadable: u32,
    pub connections: u32,
    pub disconnections: u32,
}

/// Decides when the next poll of a watch is due.
pub struct Waiter {
    poll: Duration,
    fallback: Duration,
    listener: Option<Listener>,
    events: JobEvents,
    connected: bool,
    pub stats: WaitStats,
}

impl Waiter {
    /// Starts listening when Pulse is configured and the job type runs on
    /// Taskcluster: bound to the task groups of the pushes' decision tasks
    /// (where action tasks run), then to watched tasks as polls find them.
    pub async fn start(
        session: &Session,
        repo: &str,
        job_type: &JobType,
        pushes: &[Push],
        poll_seconds: u64,
        fallback_seconds: u64,
    ) -> Result<Waiter, CliError> {
        let mut waiter = Waiter {
            poll: Duration::from_secs(poll_seconds.max(1)),
            fallback: Duration::from_secs(fallback_seconds.max(poll_seconds).max(1)),
            listener: None,
            events: JobEvents::new(),
            connected: false,
            stats: WaitStats::default(),
        };
        let address = match crate::config::pulse_address()? {
            Some(a) if job_type.ci == CiSystem::Taskcluster => a,
            _ => return Ok(waiter),
        };
        let push_ids: Vec<u64> = pushes.iter().map(|p| p.id).collect();
        let groups = match mozci::services::treeherder::decision_tasks(
            &session.ctx,
            repo,
            &push_ids,
        )
        .await
        {
            Ok(found) => found.into_values().collect(),
            Err(e) => {
                // Watched tasks are still bound one by one after each poll.
                waiter.say(&format!(
                    "watch: no decision tasks ({e}); following tasks only"
                ));
                Vec::new()
            }
        };
        let bindings = groups
            .iter()
            .map(|g: &String| task_group_binding(g))
            .collect();
        let listener = Listener::start(address.clone(), bindings);
        waiter.say(&format!(
            "watch: live job events from Pulse {} (queue {})",
            address.display(),
            listener.queue
        ));
        waiter.listener = Some(listener);
        waiter.stats.pulse = true;
        Ok(waiter)
    }

    /// Watch news go to stderr, also with --json (stdout stays one document).
    fn say(&self, line: &str) {
        eprintln!("{line}");
    }

    /// Takes a poll's findings in: the tasks still pending or running are
    /// watched, and the task groups of actions just triggered followed.
    pub fn observe<'a>(
        &mut self,
        histories: &[PushHistory],
        records: impl IntoIterator<Item = &'a TriggerRecord>,
    ) {
        self.stats.polls += 1;
        let Some(listener) = &self.listener else {
            return;
        };
        let in_progress = histories.iter().flat_map(|h| {
            h.jobs
                .iter()
                .filter(|j| matches!(j.state, JobState::Pending | JobState::Running))
                .filter_map(|j| j.ids.task_id.as_deref())
        });
        let builds = histories.iter().filter_map(|h| match &h.upstream_build {
            UpstreamBuild::InProgress { build } => build.ids.task_id.as_deref(),
            _ => None,
        });
        let mut new = self.events.watch_tasks(in_progress);
        new.extend(self.events.watch_reaction_tasks(builds));
        for task in new {
            listener.bind(task_binding(&task));
        }
        for record in records {
            if let TriggerOutcome::Accepted { ids, .. } | TriggerOutcome::Partial { ids, .. } =
                &record.outcome
            {
                for action_task in ids {
                    if self.events.follow_group(action_task) {
                        listener.bind(task_group_binding(action_task));
                    }
                }
            }
        }
    }

    /// Returns when the next poll is due.
    pub async fn wait(&mut self) {
        let Some(listener) = self.listener.as_mut() else {
            tokio::time::sleep(self.poll).await;
            return;
        };
        let limit = if self.connected {
            self.fallback
        } else {
            self.poll
        };
        let mut deadline = Instant::now() + limit;
        loop {
            let event = tokio::select! {
                _ = tokio::time::sleep_until(deadline.into()) => return,
                event = listener.next() => event,
            };
            match event {
                None => {
                    // The listener stopped for good: plain polling from now on.
                    self.listener = None;
                    return;
                }
                Some(ListenerEvent::Connected) => {
                    note_connected(&mut self.stats, &mut self.connected);
                    return;
                }
                Some(ListenerEvent::Disconnected(reason)) => {
                    note_disconnected(&mut self.stats, &mut self.connected, &reason, self.poll);
                    deadline = deadline.min(Instant::now() + self.poll);
                }
                Some(ListenerEvent::Unreadable(why)) => {
                    // Named a few times, then only counted: a broker
                    // flooding the queue must not flood the terminal.
                    self.stats.unreadable += 1;
                    if self.stats.unreadable <= UNREADABLE_SHOWN {
                        eprintln!("watch: ignored a Pulse message: {why}");
                    } else if self.stats.unreadable == UNREADABLE_SHOWN + 1 {
                        eprintln!("watch: more unreadable Pulse messages: counted, not shown");
                    }
                }
                Some(ListenerEvent::Message(message)) => {
                    self.stats.messages += 1;
                    let outcome = self.events.apply(&message);
                    if let Some(group) = &outcome.follow_group {
                        listener.bind(task_group_binding(group));
                    }
                    if outcome.poll {
                        self.stats.polls_on_events += 1;
                        self.gather().await;
                        return;
                    }
                }
            }
        }
    }

    /// Takes in the messages arriving in the next moment (no poll of their own).
    async fn gather(&mut self) {
        let Some(listener) = self.listener.as_mut() else {
            return;
        };
        let until = Instant::now() + GATHER;
        loop {
            let event = tokio::select! {
                _ = tokio::time::sleep_until(until.into()) => return,
                event = listener.next() => event,
            };
            match event {
                Some(ListenerEvent::Message(message)) => {
                    self.stats.messages += 1;
                    if let Some(group) = self.events.apply(&message).follow_group {
                        listener.bind(task_group_binding(&group));
                    }
                }
                Some(ListenerEvent::Connected) => {
                    note_connected(&mut self.stats, &mut self.connected);
                }
                Some(ListenerEvent::Disconnected(reason)) => {
                    note_disconnected(&mut self.stats, &mut self.connected, &reason, self.poll);
                }
                Some(ListenerEvent::Unreadable(_)) => {}
                None => return,
            }
        }
    }

    /// Stops listening (the broker forgets the queue).
    pub async fn close(self) -> WaitStats {
        if let Some(listener) = self.listener {
            listener.close().await;
        }
        self.stats
    }
}

fn note_connected(stats: &mut WaitStats, connected: &mut bool) {
    *connected = true;
    stats.connections += 1;
    if stats.connections > 1 {
        eprintln!("watch: Pulse is back; reconciling with one poll");
    }
}

/// Says so once per outage (the listener reports every failed attempt).
fn note_disconnected(stats: &mut WaitStats, connected: &mut bool, reason: &str, poll: Duration) {
    if *connected || stats.disconnections == 0 {
        eprintln!(
            "watch: Pulse unreachable ({reason}); polling every {} s until it is back",
            poll.as_secs()
        );
        stats.disconnections += 1;
    }
    *connected = false;
}

/// Whether every run on the pushes is over (none pending, running, or
/// asked for and not visible yet).
fn settled(histories: &[PushHistory]) -> bool {
    histories.iter().all(|h| h.counts().in_progress() == 0)
}

/// `mozci watch`: follow a job type's runs on a push range until they settle.
pub async fn run(
    session: &Session,
    args: &WatchArgs,
    store: &LedgerStore,
    json_output: bool,
) -> Result<ExitCode, CliError> {
    let job_type = args.job.job_type();
    let repo = &args.job.repo;
    let pushes = session
        .pushes_ending_at(repo, &args.job.revision(), args.back_revisions)
        .await?;
    let ledger = store.load()?;
    let mut waiter = Waiter::start(
        session,
        repo,
        &job_type,
        &pushes,
        args.poll_seconds,
        args.fallback_seconds,
    )
    .await?;
    let deadline = Instant::now() + Duration::from_secs(args.timeout_minutes * 60);
    let mut last_line = String::new();
    let (histories, timed_out) = loop {
        let histories = session
            .histories(repo, &pushes, &job_type, &ledger, clock::now_ms())
            .await?;
        waiter.observe(&histories, []);
        let line = progress_line(&histories);
        if line != last_line && !json_output {
            println!("{line}");
        }
        last_line = line;
        if settled(&histories) {
            break (histories, false);
        }
        if Instant::now() >= deadline {
            break (histories, true);
        }
        waiter.wait().await;
    };
    let stats = waiter.close().await;
    if json_output {
        let pushes: Vec<_> = histories
            .iter()
            .map(|h| json!({"push_id": h.push.id, "revision": h.push.revision, "counts": h.counts()}))
            .collect();
        println!(
            "{}",
            json!({"job_type": job_type, "repo": repo, "settled": !timed_out, "pushes": pushes, "watch": stats})
        );
    } else {
        for h in &histories {
            println!(
                "  push {} {}: {:?}",
                h.push.id,
                h.push.revision.0,
                h.counts()
            );
        }
        println!(
            "{} poll(s){}",
            stats.polls,
            if stats.pulse {
                format!(
                    ", {} on live events ({} message(s))",
                    stats.polls_on_events, stats.messages
                )
            } else {
                String::new()
            }
        );
    }
    if timed_out {
        eprintln!("watch: time limit reached with runs still pending or running");
        return Ok(ExitCode::from(crate::EXIT_FAILURE));
    }
    Ok(ExitCode::SUCCESS)
}

fn progress_line(histories: &[PushHistory]) -> String {
    let (mut pending, mut running, mut done) = (0, 0, 0);
    for h in histories {
        let c = h.counts();
        pending += c.pending;
        running += c.running;
        done += c.succeeded + c.failed + c.infra_failed + c.coalesced + c.other;
    }
    format!("{pending} pending, {running} running, {done} finished")
}
