//! Pulse-shaped job events ({exchange, routingKey, payload}) and their
//! Server-Sent Events stream (`GET /__sandbox/events` on the Treeherder origin,
//! `GET /events` on the Taskcluster origin).

use std::convert::Infallible;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::stream::{self, Stream};
use serde_json::json;
use tokio::sync::broadcast;

use crate::model::{Job, JobState, PulseEvent};
use crate::AppState;

/// The pulse message a job's current state would produce.
pub fn job_event(job: &Job) -> PulseEvent {
    let treeherder = json!({
        "job_id": job.id, "push_id": job.push_id, "repo": job.repo, "revision": job.revision,
        "state": job.state.as_str(), "result": job.result, "ref_data_name": job.label,
    });
    match (&job.taskcluster, &job.buildbot) {
        (Some(tc), _) => {
            let exchange = match (job.state, job.is_failure(), job.result.as_str()) {
                (JobState::Pending, _, _) => "task-pending",
                (JobState::Running, _, _) => "task-running",
                (JobState::Completed, _, "exception" | "usercancel") => "task-exception",
                (JobState::Completed, true, _) => "task-failed",
                (JobState::Completed, false, _) => "task-completed",
            };
            PulseEvent {
                exchange: format!("exchange/taskcluster-queue/v1/{exchange}"),
                routing_key: format!(
                    "primary.{}.{}.sandbox.sandbox-worker.gecko-t.t-linux.gecko-level-3.{}._",
                    tc.task_id, tc.retry_id, tc.task_group_id
                ),
                payload: json!({
                    "status": crate::taskcluster::task_status(job),
                    "runId": tc.retry_id,
                    "task": {"tags": {"label": job.label}},
                    "treeherder": treeherder,
                }),
            }
        }
        (None, Some(bb)) => {
            let phase = match job.state {
                JobState::Pending => "submitted",
                JobState::Running => "started",
                JobState::Completed => "finished",
            };
            PulseEvent {
                exchange: "exchange/build/".into(),
                routing_key: format!("build.{}.{}.{phase}", job.repo, job.label.replace(' ', "_")),
                payload: json!({
                    "build": {
                        "buildername": job.label, "branch": job.repo, "revision": job.revision,
                        "request_id": bb.request_id, "build_id": bb.build_id, "result": job.buildbot_status(),
                    },
                    "treeherder": treeherder,
                }),
            }
        }
        (None, None) => PulseEvent {
            exchange: "exchange/sandbox/v1/job".into(),
            routing_key: job.repo.clone(),
            payload: treeherder,
        },
    }
}

/// Streams every event published after the client connected.
pub async fn stream(
    State(state): State<AppState>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let receiver = state.events.subscribe();
    let events = stream::unfold(receiver, |mut receiver| async move {
        loop {
            match receiver.recv().await {
                Ok(event) => {
                    let data = serde_json::to_string(&event).unwrap_or_default();
                    return Some((Ok(Event::default().event("pulse").data(data)), receiver));
                }
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    });
    Sse::new(events).keep_alive(KeepAlive::default())
}
