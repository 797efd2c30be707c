//! What a Treeherder job view shows as selected: the repository, the push
//! and the job. `sources::treeherder_page` reads it from the page's URL;
//! `plan::backfill_button` decides on it without knowing the URL's forms.

#![warn(missing_docs)]

use serde::{Deserialize, Serialize};

/// How the page identifies the selected job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SelectedJob {
    /// Current Treeherder: a Taskcluster task id and run (retry) id.
    TaskRun {
        /// The task's id (22 characters, URL-safe base64).
        task_id: String,
        /// The run (retry) number, from 0.
        run: u32,
    },
    /// Legacy and 2015: a Treeherder job id.
    JobId {
        /// Treeherder's job id.
        job_id: u64,
    },
}

/// Which generation of Treeherder's UI the URL comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PageEra {
    /// The React app with `/jobs?…` URLs.
    Current,
    /// The 2015 Angular app with `#/jobs?…` hash URLs.
    Legacy2015,
}

/// What the job view URL says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobViewSelection {
    /// The page's origin (scheme, host, port): which Treeherder it claims to be.
    pub origin: String,
    /// The repository's short name (`autoland`).
    pub repo: String,
    /// The push's revision, when the URL names one.
    pub revision: Option<String>,
    /// The selected job, when one is.
    pub selected: Option<SelectedJob>,
    /// Which UI generation the URL comes from.
    pub era: PageEra,
}
