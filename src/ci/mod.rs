//! The Job abstraction: one trait over both CI systems.
//!
//! Code above this module asks for "the runs of this job type on these
//! pushes" or "trigger N of this type on this push" through [`CiBackend`]
//! without naming Buildbot or Taskcluster; [`Backends::for_system`] picks the
//! implementation from the job's own [`CiSystem`].

#![warn(missing_docs)]

pub mod buildbot;
pub mod clock;
pub mod job_events;
pub mod live_events;
pub mod system;
pub mod taskcluster;

use crate::error::{Error, Result};
use crate::http::HttpClient;
use crate::model::{CiSystem, Job, JobKind, JobState, JobType, Push, PushHistory};
use crate::sources::buildapi::BasicCredentials;
use crate::sources::taskcluster::credentials::{parse_user_credentials, TaskclusterCredentials};
use crate::sources::taskcluster::RootUrl;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::rc::Rc;

/// The CI systems' naming conventions, kept with the CI code.
impl JobType {
    /// A job type known only by name (the command line's `--buildername` /
    /// `--label`): Taskcluster labels never contain spaces, Buildbot
    /// buildernames always do. Kind by the systems' naming conventions.
    pub fn from_name(name: &str) -> JobType {
        let ci = if name.contains(' ') {
            CiSystem::Buildbot
        } else {
            CiSystem::Taskcluster
        };
        let lower = name.to_ascii_lowercase();
        let is_build = match ci {
            CiSystem::Taskcluster => lower.starts_with("build-"),
            CiSystem::Buildbot => {
                lower.ends_with(" build") || lower.contains(" build ") && !lower.contains(" test ")
            }
        };
        JobType {
            name: name.to_string(),
            ci,
            kind: if is_build {
                JobKind::Build
            } else {
                JobKind::Test
            },
            platform: String::new(),
            symbol: String::new(),
        }
    }
}

/// The CI system's answer to a trigger: what it created.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TriggerReceipt {
    /// Self-Serve job id (Buildbot) or action task id (Taskcluster), one per
    /// request accepted.
    pub ids: Vec<String>,
    /// Runs of the job type the accepted requests asked for.
    pub runs: u32,
    /// Why fewer runs than asked were accepted (a refusal, or a lost answer,
    /// part-way through a series of requests); the accepted ones above still
    /// stand.
    pub stopped_by: Option<String>,
    /// With `stopped_by`: runs of the last request, whose answer was lost
    /// (it may have been carried out). 0 when it was refused.
    #[serde(default)]
    pub unknown_runs: u32,
    /// With `stopped_by` and no unknown runs: who must act on the refusal.
    #[serde(default)]
    pub refusal: Refusal,
}

impl TriggerReceipt {
    /// All `runs` accepted under one id.
    pub fn accepted(id: String, runs: u32) -> Self {
        TriggerReceipt {
            ids: vec![id],
            runs,
            ..TriggerReceipt::default()
        }
    }
}

/// Why a trigger was refused, as far as the user must act on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Refusal {
    /// 401, or no credentials at hand: log in.
    LogIn,
    /// 403: the account has no access.
    NoAccess,
    /// Any other refusal (a 4xx, a parsed refusal), or a failure before
    /// anything was sent.
    #[default]
    Other,
}

impl Refusal {
    /// The refusal an error stands for, by its type.
    pub fn of(error: &Error) -> Refusal {
        match error {
            Error::Unauthorized { .. } | Error::Config(_) => Refusal::LogIn,
            Error::Forbidden { .. } => Refusal::NoAccess,
            _ => Refusal::Other,
        }
    }
}

/// Where each service lives. Production defaults; every one overridable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Endpoints {
    /// Treeherder's origin, `https://treeherder.mozilla.org`.
    pub treeherder: String,
    /// hg's origin, `https://hg.mozilla.org` (pushlogs).
    pub hg: String,
    /// Self-Serve BuildAPI base, `…/buildapi/self-serve`.
    pub buildapi: String,
    /// buildjson dumps directory, `…/builddata/buildjson`.
    pub buildjson: String,
    /// `…/allthethings.json`.
    pub allthethings: String,
    /// Taskcluster root URL used when Treeherder does not name one.
    pub taskcluster: String,
}

impl Default for Endpoints {
    fn default() -> Self {
        Endpoints {
            treeherder: "https://treeherder.mozilla.org".into(),
            hg: "https://hg.mozilla.org".into(),
            buildapi: crate::sources::buildapi::DEFAULT_SELF_SERVE_BASE.into(),
            buildjson: crate::sources::buildjson::DEFAULT_BUILDJSON_BASE.into(),
            allthethings: crate::sources::allthethings::DEFAULT_ALLTHETHINGS_URL.into(),
            taskcluster: crate::sources::taskcluster::FIREFOX_CI_ROOT_URL.into(),
        }
    }
}

impl Endpoints {
    /// The four origins of a `mozci-sandbox` (its start-up JSON line).
    pub fn sandbox(treeherder: &str, hg: &str, buildapi: &str, taskcluster: &str) -> Self {
        let buildapi = buildapi.trim_end_matches('/');
        Endpoints {
            treeherder: treeherder.trim_end_matches('/').into(),
            hg: hg.trim_end_matches('/').into(),
            buildapi: format!("{buildapi}/buildapi/self-serve"),
            buildjson: format!("{buildapi}/builddata/buildjson"),
            allthethings: format!("{buildapi}/builddata/reports/allthethings.json"),
            taskcluster: taskcluster.trim_end_matches('/').into(),
        }
    }
}

/// One CI system, seen through the questions the engine asks.
#[async_trait(?Send)]
pub trait CiBackend {
    /// The CI system this backend talks to.
    fn system(&self) -> CiSystem;

    /// For each push (given newest first), the runs of `job_type` on it and,
    /// for tests, whether their build is there. Implementations fetch for all
    /// pushes at once (concurrently), not push by push.
    async fn push_histories(
        &self,
        repo: &str,
        pushes: &[Push],
        job_type: &JobType,
    ) -> Result<Vec<PushHistory>>;

    /// The current state of one run.
    async fn job_state(&self, repo: &str, job: &Job) -> Result<JobState>;

    /// Schedule `count` new runs of `job_type` on `push`. `files` are the
    /// build's artifacts where the CI system wants them passed.
    async fn trigger(
        &self,
        repo: &str,
        push: &Push,
        job_type: &JobType,
        count: u32,
        files: &[String],
    ) -> Result<TriggerReceipt>;

    /// Run an existing job again `count` times.
    async fn retrigger(&self, repo: &str, job: &Job, count: u32) -> Result<TriggerReceipt>;

    /// Schedule the build a test job type needs on `push`.
    async fn trigger_build(
        &self,
        repo: &str,
        push: &Push,
        build_name: &str,
    ) -> Result<TriggerReceipt>;

    /// The job type under which this CI system's "confirm the failures of
    /// this failed job" tasks appear, or `None` where it offers none
    /// (Buildbot): a culprit search then uses job runs only.
    fn confirm_job_type(&self, _job_type: &JobType) -> Option<JobType> {
        None
    }

    /// Ask the CI system to re-run the failing tests of the failed run
    /// `job` (on `push`) several times each, `times` tasks per failing
    /// test; their runs appear under [`Self::confirm_job_type`]. Only where
    /// that is `Some`.
    async fn confirm_failures(
        &self,
        _repo: &str,
        _push: &Push,
        job: &Job,
        _times: u32,
    ) -> Result<TriggerReceipt> {
        Err(Error::Invalid(format!(
            "{:?} cannot confirm the failures of {}: it has no such action",
            self.system(),
            job.name
        )))
    }

    /// The CI system's own fixed-range backfill of `job` (on `push`):
    /// `times` runs on each of the `depth` earlier pushes, in one request.
    /// Only Taskcluster has one (its `backfill` action).
    async fn backfill_action(
        &self,
        _repo: &str,
        _push: &Push,
        job: &Job,
        _depth: u32,
        _times: u32,
    ) -> Result<TriggerReceipt> {
        Err(Error::Invalid(format!(
            "{:?} has no backfill action: choose \"to the last good push\" for {}",
            self.system(),
            job.name
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_types_from_names() {
        let t = JobType::from_name("Ubuntu VM 12.04 x64 mozilla-inbound opt test mochitest-1");
        assert_eq!((t.ci, t.kind), (CiSystem::Buildbot, JobKind::Test));
        let b = JobType::from_name("Linux x86-64 mozilla-inbound build");
        assert_eq!((b.ci, b.kind), (CiSystem::Buildbot, JobKind::Build));
        let b = JobType::from_name("Linux x86-64 mozilla-inbound leak test build");
        assert_eq!(b.kind, JobKind::Build);
        let t = JobType::from_name("test-linux1804-64/opt-mochitest-browser-chrome-1");
        assert_eq!((t.ci, t.kind), (CiSystem::Taskcluster, JobKind::Test));
        assert_eq!(JobType::from_name("build-linux64/opt").kind, JobKind::Build);
    }
}

/// The backends a session can use, picked by a job's own CI system.
#[derive(Clone, Default)]
pub struct Backends {
    /// Buildbot's backend, if this session has one.
    pub buildbot: Option<Rc<dyn CiBackend>>,
    /// Taskcluster's backend, if this session has one.
    pub taskcluster: Option<Rc<dyn CiBackend>>,
}

/// The user's logins as a driver holds them. Each reaches its own CI system
/// only: the Self-Serve login goes to the endpoints' Self-Serve origin, the
/// Taskcluster credentials to the session's root URL.
#[derive(Debug, Clone, Default)]
pub struct Logins {
    /// Self-Serve BuildAPI's Basic credentials (LDAP).
    pub buildapi: Option<BasicCredentials>,
    /// Taskcluster credentials given as such (the CLI's environment).
    pub taskcluster: Option<TaskclusterCredentials>,
    /// Treeherder's `userCredentials` text (the add-on reads it from the
    /// page): only the entry for the session's root URL is used, and only
    /// while it has not expired. Used when `taskcluster` is `None`.
    pub treeherder_user_credentials: Option<String>,
}

impl Backends {
    /// Both backends on `ctx`'s endpoints. `taskcluster_root` overrides the
    /// endpoints' root URL (a repository Treeherder says runs elsewhere).
    pub fn connect(
        ctx: &CiContext,
        taskcluster_root: Option<&str>,
        logins: Logins,
    ) -> Result<Backends> {
        let root = RootUrl::parse(taskcluster_root.unwrap_or(&ctx.endpoints.taskcluster))?;
        let taskcluster_credentials =
            match (logins.taskcluster, &logins.treeherder_user_credentials) {
                (Some(credentials), _) => Some(credentials),
                (None, Some(text)) => Some(
                    parse_user_credentials(Some(text), &root, clock::now_ms() as i64)?.credentials,
                ),
                (None, None) => None,
            };
        let buildbot = buildbot::BuildbotCi::new(ctx.clone(), logins.buildapi.as_ref())?;
        let taskcluster =
            taskcluster::TaskclusterCi::new(ctx.clone(), root, taskcluster_credentials);
        Ok(Backends {
            buildbot: Some(Rc::new(buildbot)),
            taskcluster: Some(Rc::new(taskcluster)),
        })
    }

    /// Backends holding `backend` alone, in the place of the system it is.
    pub fn only(backend: Rc<dyn CiBackend>) -> Backends {
        match backend.system() {
            CiSystem::Buildbot => Backends {
                buildbot: Some(backend),
                taskcluster: None,
            },
            CiSystem::Taskcluster => Backends {
                buildbot: None,
                taskcluster: Some(backend),
            },
        }
    }

    /// The backend of `system`; an error naming what to configure if the
    /// session has none.
    pub fn for_system(&self, system: CiSystem) -> Result<&dyn CiBackend> {
        let backend = match system {
            CiSystem::Buildbot => self.buildbot.as_deref(),
            CiSystem::Taskcluster => self.taskcluster.as_deref(),
        };
        backend.ok_or_else(|| {
            Error::Config(format!(
                "no {system:?} backend is configured for this session"
            ))
        })
    }
}

/// Everything a backend needs to talk to the services.
#[derive(Clone)]
pub struct CiContext {
    /// The one I/O seam.
    pub http: Rc<dyn HttpClient>,
    /// Where the services are.
    pub endpoints: Endpoints,
    /// How many requests one operation may have in flight at once.
    pub concurrency: usize,
}

impl crate::services::treeherder::TreeherderAccess for CiContext {
    fn http(&self) -> &dyn HttpClient {
        self.http.as_ref()
    }

    fn treeherder_origin(&self) -> &str {
        &self.endpoints.treeherder
    }
}

impl CiContext {
    /// A context with the default concurrency.
    pub fn new(http: Rc<dyn HttpClient>, endpoints: Endpoints) -> Self {
        CiContext {
            http,
            endpoints,
            concurrency: 8,
        }
    }
}
