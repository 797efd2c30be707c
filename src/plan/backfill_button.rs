//! Whether the Backfill button applies to what the user selected, and what
//! its tooltip says.

#![warn(missing_docs)]

use crate::model::job_view::{JobViewSelection, SelectedJob};
use serde::{Deserialize, Serialize};

/// What the add-on shows on its Backfill button.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ButtonState {
    /// A click does something.
    pub enabled: bool,
    /// Tooltip: what a click will do, or why the button is disabled.
    pub title: String,
}

/// Repositories where backfilling makes no sense: each try push stands alone
/// (Treeherder disables its own backfill there too).
pub fn is_try_repository(repo: &str) -> bool {
    repo == "try" || repo.starts_with("try-") || repo.ends_with("-try")
}

/// Decide the button's state from the page selection, before any network
/// answer is in (later facts, e.g. an expired task, refine it).
pub fn backfill_button_state(selection: Option<&JobViewSelection>) -> ButtonState {
    let disabled = |why: &str| ButtonState {
        enabled: false,
        title: format!("Backfill (unavailable — {why})"),
    };
    let Some(sel) = selection else {
        return disabled("this is not a Treeherder job view");
    };
    if is_try_repository(&sel.repo) {
        return disabled("backfill does not apply to try pushes");
    }
    let job = match &sel.selected {
        Some(SelectedJob::TaskRun { task_id, run }) => format!("task {task_id} run {run}"),
        Some(SelectedJob::JobId { job_id }) => format!("job {job_id}"),
        None => return disabled("select a job first"),
    };
    ButtonState {
        enabled: true,
        title: format!(
            "Backfill {job} on {}: run it on earlier pushes back to the last good one",
            sel.repo
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::treeherder_page::parse_job_view_url;

    fn state(url: &str) -> ButtonState {
        backfill_button_state(parse_job_view_url(url).as_ref())
    }

    #[test]
    fn enabled_for_a_selected_job_on_an_integration_repo() {
        let s = state("https://treeherder.mozilla.org/jobs?repo=autoland&selectedTaskRun=ZBK4oDL4TnK1EjT-UY-o2A.1");
        assert!(s.enabled);
        assert_eq!(s.title, "Backfill task ZBK4oDL4TnK1EjT-UY-o2A run 1 on autoland: run it on earlier pushes back to the last good one");
    }

    #[test]
    fn disabled_with_a_reason() {
        let s = state("https://treeherder.mozilla.org/jobs?repo=try&selectedJob=5");
        assert_eq!(
            (s.enabled, s.title.as_str()),
            (
                false,
                "Backfill (unavailable — backfill does not apply to try pushes)"
            )
        );
        assert!(state("https://treeherder.mozilla.org/jobs?repo=autoland")
            .title
            .contains("select a job first"));
        assert!(!state("https://example.org/").enabled);
        assert!(is_try_repository("try-comm-central"));
        assert!(!is_try_repository("mozilla-central"));
    }
}
