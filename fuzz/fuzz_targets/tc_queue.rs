//! Taskcluster Queue, Index and Hooks answers: task definitions, task
//! statuses (and the job state read from their runs), task-group pages,
//! artifact lists, index `findTask`, `triggerHook`, and the index namespace
//! built from a repository and revision taken from the input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mozci::sources::taskcluster::hooks::parse_trigger_hook_response;
use mozci::sources::taskcluster::index::{decision_task_namespace, parse_find_task};
use mozci::sources::taskcluster::queue::{
    parse_artifacts, parse_task, parse_task_group_list, parse_task_status, run_job_state,
    QueueState, TaskStatus,
};
use mozci_fuzz::text;

const NOW_MS: i64 = 1_700_000_000_000;

fn read_status(status: &TaskStatus) {
    let _ = (status.job_state(), status.is_expired(NOW_MS));
    let last = status.runs.len().saturating_sub(1);
    for (i, run) in status.runs.iter().enumerate() {
        let _ = run_job_state(run, i == last);
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(task) = parse_task(data) {
        let _ = (task.label(), task.kind(), task.is_expired(NOW_MS));
    }
    if let Ok(status) = parse_task_status(data) {
        read_status(&status);
    }
    if let Ok(page) = parse_task_group_list(data) {
        for entry in &page.tasks {
            read_status(&entry.status);
            let _ = entry.task.label();
        }
    }
    let _ = parse_artifacts(data);
    let _ = parse_find_task(data);
    let _ = parse_trigger_hook_response(data);
    let as_text = text(data);
    let _ = QueueState::parse(&as_text);
    let (repo, revision) = as_text.split_once('\n').unwrap_or((&as_text, ""));
    let _ = decision_task_namespace(repo, revision);
});
