//! The flags that name a job type on a push, shared by the commands that
//! read or run one job type around a revision (`culprit`, `rate`).

use mozci::model::JobType;
use mozci::model::Revision;

#[derive(Debug, Clone, clap::Args)]
pub struct JobAtRevision {
    /// Treeherder repository name (autoland, mozilla-inbound, …).
    #[arg(long)]
    pub repo: String,
    /// Buildbot buildername or Taskcluster label of the job type.
    #[arg(long, short = 'b', visible_alias = "buildername")]
    pub label: String,
    /// The revision of the newest push concerned (where the failure was seen).
    #[arg(long, short = 'r', alias = "revision")]
    pub rev: String,
}

impl JobAtRevision {
    pub fn job_type(&self) -> JobType {
        JobType::from_name(&self.label)
    }

    pub fn revision(&self) -> Revision {
        Revision(self.rev.clone())
    }
}
