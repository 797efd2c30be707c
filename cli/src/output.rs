//! How plans, executions and answers are shown: lines for people, one JSON
//! document for scripts (`--json`).

use mozci::engine::execute::PushExecution;
use mozci::engine::ledger::TriggerOutcome;
use mozci::plan::trigger::{PushAction, PushPlan};

/// One line for a push's plan.
pub fn plan_line(plan: &PushPlan) -> String {
    let what = match &plan.action {
        PushAction::Nothing => "nothing to do".to_string(),
        PushAction::Retrigger { count, .. } => format!("retrigger ×{count}"),
        PushAction::Trigger { count, files } if files.is_empty() => format!("trigger ×{count}"),
        PushAction::Trigger { count, .. } => format!("trigger ×{count} with the push's build"),
        PushAction::BuildFirst {
            build_name,
            then_tests,
        } => format!("build `{build_name}` first, then ×{then_tests}"),
        PushAction::WaitForBuild { then_tests, .. } => {
            format!("wait for the build, then ×{then_tests}")
        }
    };
    let c = &plan.counts;
    format!(
        "push {:>8} {}  have: {} ok, {} failed, {} pending/running, {} coalesced  → {}  ({})",
        plan.push_id,
        plan.revision.short(),
        c.succeeded,
        c.failed,
        c.in_progress(),
        c.coalesced,
        what,
        plan.reason
    )
}

/// One line for what was sent on a push.
pub fn execution_line(execution: &PushExecution) -> String {
    if execution.records.is_empty() {
        return format!(
            "push {:>8} {}  nothing sent",
            execution.plan.push_id,
            execution.plan.revision.short()
        );
    }
    let parts: Vec<String> = execution
        .records
        .iter()
        .map(|r| format!("{:?} {}: {}", r.kind, r.job_name, r.outcome.describe()))
        .collect();
    format!(
        "push {:>8} {}  {}",
        execution.plan.push_id,
        execution.plan.revision.short(),
        parts.join("; ")
    )
}

/// Whether anything sent was refused or is unknown.
pub fn any_trouble(executions: &[PushExecution]) -> bool {
    executions
        .iter()
        .flat_map(|e| &e.records)
        .any(|r| !matches!(r.outcome, TriggerOutcome::Accepted { .. }))
}
