//! The add-on driver's Rust side: what the add-on's background asks of the
//! engine, as serialisable requests and answers (plan a backfill for the job
//! selected on a Treeherder page, carry it out, take one monitoring step),
//! the add-on's settings and which endpoints a page may use, and the texts
//! its panel and popup show. Like the CLI, it drives the shared engine; the
//! background's JavaScript only stores these values and shows their texts.
//! `wasm.rs` exposes it to JavaScript.

pub mod culprit;

use crate::ci::live_events::socket_url;
use crate::ci::system::{Login, SETTINGS_LOGIN};
use crate::ci::{clock, Backends, CiContext, Endpoints, Logins, Refusal};
use crate::engine::execute::{execute_plans, send_recorded, PushExecution};
use crate::engine::failures::{failures_of_job, FailureRow, JobFailureReport};
use crate::engine::ledger::{Ledger, TriggerJournal, TriggerKind, TriggerOutcome, TriggerRequest};
use crate::engine::planning::{
    check_choices, choose_scope_of_selected, plan as engine_plan, unknown_triggers, PlanRange,
    PlanRequest as EnginePlanRequest,
};
use crate::engine::watch::{
    all_settled, watch_items, watch_step, WatchEvent, DEFAULT_RERUN_BUDGET,
};
use crate::engine::Session;
use crate::error::{Error, Result};
use crate::http::HttpClient;
use crate::model::job_view::SelectedJob;
use crate::model::{CiSystem, Job, JobState, JobType, Push, PushHistory, UpstreamBuild};
use crate::plan::confirmation::{needs_confirmation, PlanSize};
use crate::plan::default_times::TimesSuggestion;
use crate::plan::failure_scope::FailureScope;
use crate::plan::monitor::{Stage, WatchItem};
use crate::plan::trigger::{push_plan, PushAction, PushPlan};
use crate::plan::verdict::{backfill_verdict, Verdict};
use crate::services::treeherder;
use crate::sources::buildapi::{BasicCredentials, DEFAULT_SELF_SERVE_BASE};
use crate::sources::treeherder_page::parse_job_view_url;
use crate::url_text::parse_url;
use culprit::{culprit_run_key, new_culprit_run, plan_culprit, CulpritRun};
use serde::{Deserialize, Serialize};
use std::rc::Rc;

pub use crate::plan::choices::{Mode, MAX_DEPTH, MAX_TIMES};

/// Plans starting more jobs than this wait for Confirm: every plan started
/// from a page does (docs/threat-model.md): a click on a page is the
/// weakest sign of intent the add-on gets, and the plan is what the user
/// must see before anything starts.
const CONFIRM_ABOVE: u32 = 0;

const PRODUCTION_TREEHERDER: &str = "https://treeherder.mozilla.org";
const STAGING_TREEHERDER: &str = "https://treeherder.allizom.org";

/// Whether this build is the development variant (cargo feature
/// `dev-sandbox`, on by default, off in the release build that is
/// published): only then does the add-on use a local `mozci-sandbox` and
/// accept loopback `http://` endpoints.
pub const DEVELOPMENT_BUILD: bool = cfg!(feature = "dev-sandbox");

/// The build's name as the options page shows it.
pub fn build_variant() -> &'static str {
    if DEVELOPMENT_BUILD {
        "development"
    } else {
        "release"
    }
}

/// The options page's settings.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AddonSettings {
    /// Custom instance origins (Treeherder, hg, BuildAPI host, Taskcluster):
    /// used when the page's origin is this Treeherder.
    pub custom: Option<CustomOrigins>,
    /// The local `mozci-sandbox`es the user enabled in the options (each
    /// start-up line's four origins, all loopback). Read only by a
    /// development build.
    pub sandboxes: Vec<CustomOrigins>,
    /// The Self-Serve BuildAPI login's user (LDAP), from the options.
    pub buildapi_user: Option<String>,
    /// Its password; sent to the configured BuildAPI origin only.
    pub buildapi_password: Option<String>,
}

/// A Treeherder instance outside production and staging, by its origins.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct CustomOrigins {
    /// Treeherder's origin (the page's).
    pub treeherder: String,
    /// hg's origin (pushlogs).
    pub hg: String,
    /// Self-Serve BuildAPI's host.
    pub buildapi: String,
    /// Taskcluster's root URL.
    pub taskcluster: String,
}

impl CustomOrigins {
    fn all(&self) -> [(&'static str, &str); 4] {
        [
            ("Treeherder", &self.treeherder),
            ("hg", &self.hg),
            ("BuildAPI", &self.buildapi),
            ("Taskcluster", &self.taskcluster),
        ]
    }
}

/// Whether `url` is served from this machine (127.0.0.0/8, `localhost`, `::1`).
fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// A custom endpoint the user typed: `https://` with a host; loopback
/// `http://` as well in a development build.
fn checked_custom_endpoint(what: &str, text: &str) -> Result<url::Url> {
    let url = parse_url(text.trim())
        .map_err(|e| Error::Config(format!("the custom {what} endpoint `{text}`: {e}")))?;
    let allowed = match url.scheme() {
        "https" => url.host().is_some(),
        "http" => DEVELOPMENT_BUILD && is_loopback(&url),
        _ => false,
    };
    if allowed {
        Ok(url)
    } else if DEVELOPMENT_BUILD {
        Err(Error::Config(format!(
            "the custom {what} endpoint `{text}` must be https:// (or http:// on this machine)"
        )))
    } else {
        Err(Error::Config(format!(
            "the custom {what} endpoint `{text}` must be https://"
        )))
    }
}

/// The enabled sandbox's endpoints, when every one of its origins is
/// loopback; any other address is refused, whatever it claims to be.
#[cfg(feature = "dev-sandbox")]
fn sandbox_endpoints(sandbox: &CustomOrigins) -> Result<Endpoints> {
    for (what, text) in sandbox.all() {
        let url = parse_url(text.trim())
            .map_err(|e| Error::Config(format!("the sandbox's {what} origin `{text}`: {e}")))?;
        if !matches!(url.scheme(), "http" | "https") || !is_loopback(&url) {
            return Err(Error::Config(format!(
                "the sandbox's {what} origin `{text}` is not on this machine: a mozci-sandbox listens on loopback only"
            )));
        }
    }
    Ok(Endpoints::sandbox(
        &sandbox.treeherder,
        &sandbox.hg,
        &sandbox.buildapi,
        &sandbox.taskcluster,
    ))
}

/// Scheme, host and port of `text`, when it parses.
fn origin_of(text: &str) -> Option<url::Origin> {
    parse_url(text.trim())
        .ok()
        .map(|u| u.origin())
        .filter(url::Origin::is_tuple)
}

impl AddonSettings {
    fn buildapi_credentials(&self) -> Option<BasicCredentials> {
        match (&self.buildapi_user, &self.buildapi_password) {
            (Some(user), Some(password)) if !user.is_empty() => {
                Some(BasicCredentials::new(user.clone(), password.clone()))
            }
            _ => None,
        }
    }

    /// The Self-Serve origins the user's LDAP login may go to: production,
    /// the custom instance's BuildAPI host when it passes
    /// [`checked_custom_endpoint`], and in a development build the enabled
    /// sandbox's. Nothing a page says adds to this list.
    fn self_serve_origins(&self) -> Vec<url::Origin> {
        let mut origins: Vec<url::Origin> =
            origin_of(DEFAULT_SELF_SERVE_BASE).into_iter().collect();
        if let Some(custom) = &self.custom {
            if let Ok(url) = checked_custom_endpoint("BuildAPI", &custom.buildapi) {
                origins.push(url.origin());
            }
        }
        #[cfg(feature = "dev-sandbox")]
        for sandbox in &self.sandboxes {
            if let Ok(endpoints) = sandbox_endpoints(sandbox) {
                origins.extend(origin_of(&endpoints.buildapi));
            }
        }
        origins
    }

    /// The BuildAPI login for requests to `endpoints`, only when their
    /// Self-Serve origin is one the user configured ([`Self::self_serve_origins`]).
    pub fn buildapi_credentials_for(&self, endpoints: &Endpoints) -> Option<BasicCredentials> {
        let target = origin_of(&endpoints.buildapi)?;
        if self.self_serve_origins().contains(&target) {
            self.buildapi_credentials()
        } else {
            None
        }
    }
}

/// What the user asked for on a page.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlanRequest {
    /// The job view the user clicked on (data: checked against the known
    /// Treeherders, never trusted for where to send).
    pub page_url: String,
    /// What to do.
    pub mode: Mode,
    /// Earlier pushes to look at.
    pub depth: u32,
    /// `None`: chosen from the job's failure rate (`plan::default_times`).
    #[serde(default)]
    pub times: Option<u32>,
    /// Count only this test's failures (from the runs' logs), in a culprit
    /// search and a backfill alike.
    #[serde(default)]
    pub test: Option<String>,
    /// Backfill: count any failure of the job (by result alone) rather than
    /// runs failing like the selected one.
    #[serde(default)]
    pub any_failure: bool,
}

/// Who must act when the CI system refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthProblem {
    /// No Taskcluster credentials: log in to Treeherder.
    LogInToTreeherder,
    /// BuildAPI answered 401: enter LDAP credentials in the options.
    LogInInOptions,
    /// 403: the credentials are valid but have no access.
    NoAccess,
}

/// What went wrong, as the add-on shows it: an error, a refusal, or a
/// missing login (not a test failure: those are `TestFailure`s).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Problem {
    /// What went wrong and what to do, in one sentence.
    pub message: String,
    /// Set when a login is what is missing.
    pub auth: Option<AuthProblem>,
}

impl Problem {
    /// `error` as the add-on shows it. `ci`: the system of the job acted on,
    /// when known: it says which login a refusal calls for.
    pub fn of(error: &Error, ci: Option<CiSystem>) -> Problem {
        let login = ci.map(CiSystem::login);
        let auth = match (error, login) {
            (Error::Forbidden { .. }, _) => Some(AuthProblem::NoAccess),
            (Error::Unauthorized { .. } | Error::Config(_), Some(Login::Treeherder)) => {
                Some(AuthProblem::LogInToTreeherder)
            }
            (Error::Unauthorized { .. }, _) => Some(AuthProblem::LogInInOptions),
            _ => None,
        };
        let message = match auth {
            Some(AuthProblem::NoAccess) => format!("this account has no access ({error})"),
            Some(AuthProblem::LogInInOptions) => {
                let (service, account) = settings_login(login);
                format!("{service} needs your {account}: enter it in the add-on's options")
            }
            Some(AuthProblem::LogInToTreeherder) => {
                format!("log in to Treeherder first ({error})")
            }
            None => error.to_string(),
        };
        Problem { message, auth }
    }
}

/// The service and account of a login kept in the add-on's options: the
/// system's own, or (when the refusal is not tied to a system) the one such
/// login there is.
fn settings_login(login: Option<Login>) -> (&'static str, &'static str) {
    match login {
        Some(Login::DriverSettings { service, account }) => (service, account),
        _ => match SETTINGS_LOGIN {
            Login::DriverSettings { service, account } => (service, account),
            Login::Treeherder => ("the CI system", "login"),
        },
    }
}

/// One push of a plan, as the panel shows it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PlanRow {
    /// The push's pushlog id.
    pub push_id: u64,
    /// Its short revision.
    pub revision: String,
    /// What the plan does there.
    pub action: String,
    /// Its runs as they stand.
    pub runs: String,
}

/// A plan ready to show and, once confirmed, to execute.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AddonPlan {
    /// The run this plan would start (see [`run_key`]).
    pub key: String,
    /// The repository's short name.
    pub repo: String,
    /// What the user chose to do.
    pub mode: Mode,
    /// Earlier pushes looked at.
    pub depth: u32,
    /// Runs per push.
    pub times: u32,
    /// The selected job's type.
    pub job_type: JobType,
    /// The run the user selected.
    pub selected_job: Job,
    /// Its push.
    pub selected_push: Push,
    /// The services of the page's Treeherder.
    pub endpoints: Endpoints,
    /// Taskcluster's root URL for that Treeherder, if it has one.
    pub tc_root: Option<String>,
    /// Newest first.
    pub histories: Vec<PushHistory>,
    /// What to do on each push.
    pub plans: Vec<PushPlan>,
    /// One line: what the plan does.
    pub summary: String,
    /// What the user should know before confirming.
    pub notes: Vec<String>,
    /// CI jobs a Confirm click starts now.
    pub jobs_started_now: u32,
    /// A Confirm click is needed.
    pub needs_confirmation: bool,
    /// One row per push, as the panel shows them.
    pub rows: Vec<PlanRow>,
    /// Treeherder page of the range, for links.
    pub range_url: String,
    // Defaults: a plan kept by an earlier version of the add-on still reads.
    /// The panel's heading.
    #[serde(default)]
    pub title: String,
    /// Find culprit: the search, with its first round worked out.
    #[serde(default)]
    pub culprit: Option<CulpritRun>,
    /// Set when the times count was not chosen: the count the failure rate calls for.
    #[serde(default)]
    pub times_suggestion: Option<TimesSuggestion>,
    /// Which failures count while the runs are watched.
    #[serde(default)]
    pub scope: FailureScope,
    /// The selected job's failures, each with its kind and line, as the
    /// panel shows them (empty when it did not fail or its logs could not
    /// be read).
    #[serde(default)]
    pub failure_lines: Vec<FailureRow>,
}

/// Monitoring state of one run of the add-on, persisted by the background.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WatchState {
    /// Stable key: repo, push and job type of the selection.
    pub key: String,
    /// The repository's short name.
    pub repo: String,
    /// The job type watched.
    pub job_type: JobType,
    /// The services of the page's Treeherder.
    pub endpoints: Endpoints,
    /// Taskcluster's root URL for that Treeherder, if it has one.
    pub tc_root: Option<String>,
    /// The pushes watched, newest first.
    pub pushes: Vec<Push>,
    /// Each push's watched work.
    pub items: Vec<WatchItem>,
    /// Each push's progress as shown.
    pub rows: Vec<ProgressRow>,
    /// Every push's work is done or given up.
    pub settled: bool,
    /// The answer, once the runs say it.
    pub verdict: Option<Verdict>,
    /// The answer in words.
    pub verdict_text: Option<String>,
    /// Treeherder page of the range, for links.
    pub range_url: String,
    /// The last poll's failure, shown until a poll succeeds.
    pub problem: Option<Problem>,
    /// Polls so far.
    pub polls: u32,
    /// The panel's and the notification's heading.
    #[serde(default)]
    pub title: String,
    /// Find culprit: the search between two steps.
    #[serde(default)]
    pub culprit: Option<CulpritRun>,
    /// Triggers whose answer was lost (or never recorded): "unknown,
    /// possibly scheduled", counted as asked and never resent.
    #[serde(default)]
    pub notice: Option<String>,
    /// What the background's subscription socket listens to for this run.
    #[serde(default)]
    pub live: LiveTargets,
}

/// Live job events for one run (jobs of a CI system that has them): the
/// socket, from the settings' endpoints (never from the page nor from CI data),
/// and what to subscribe to, worked out again after every poll.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveTargets {
    /// `ws(s)://<Taskcluster root>/subscription`; `None`: this run is polled only.
    pub socket_url: Option<String>,
    /// The pushes' decision task groups (where their tasks and the actions run).
    pub decision_groups: Vec<String>,
    /// Task ids of the actions this run triggered: their tasks are in a
    /// task group of that name.
    pub action_groups: Vec<String>,
    /// Watched runs still pending or running.
    pub tasks: Vec<String>,
    /// In-progress builds the watched tests wait for.
    pub reaction_tasks: Vec<String>,
}

impl LiveTargets {
    /// Targets for a run of `job_type` served by `endpoints`: a socket when
    /// its CI system has live events (`ci::live_events::socket_url`), and
    /// the decision task groups given.
    fn start(
        job_type: &JobType,
        endpoints: &Endpoints,
        decision_groups: Vec<String>,
    ) -> LiveTargets {
        LiveTargets {
            socket_url: socket_url(job_type.ci, endpoints),
            decision_groups,
            ..LiveTargets::default()
        }
    }

    /// After a poll (or an execution): the runs still in progress, and the
    /// task groups of the actions the records say were accepted.
    fn observe<'a>(
        &mut self,
        histories: &[PushHistory],
        records: impl IntoIterator<Item = &'a crate::engine::ledger::TriggerRecord>,
    ) {
        if self.socket_url.is_none() {
            return;
        }
        self.tasks = histories
            .iter()
            .flat_map(|h| h.jobs.iter())
            .filter(|j| matches!(j.state, JobState::Pending | JobState::Running))
            .filter_map(|j| j.ids.task_id.clone())
            .collect();
        self.reaction_tasks = histories
            .iter()
            .filter_map(|h| match &h.upstream_build {
                UpstreamBuild::InProgress { build } => build.ids.task_id.clone(),
                _ => None,
            })
            .collect();
        for record in records {
            if let TriggerOutcome::Accepted { ids, .. } | TriggerOutcome::Partial { ids, .. } =
                &record.outcome
            {
                for id in ids {
                    if !self.action_groups.contains(id) {
                        self.action_groups.push(id.clone());
                    }
                }
            }
        }
    }
}

/// One push's progress, as the panel and popup show it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ProgressRow {
    /// The push's pushlog id.
    pub push_id: u64,
    /// Its short revision.
    pub revision: String,
    /// Its runs and what is awaited.
    pub text: String,
    /// Nothing more is awaited there.
    pub done: bool,
}

/// The answer to an execution.
#[derive(Debug, Clone, Serialize)]
pub struct ExecuteAnswer {
    /// What was sent on each push.
    pub executions: Vec<PushExecution>,
    /// The ledger with every record written.
    pub ledger: Ledger,
    /// The watch that follows.
    pub watch: WatchState,
}

/// The answer to one monitoring step.
#[derive(Debug, Clone, Serialize)]
pub struct WatchAnswer {
    /// The watch after this poll.
    pub watch: WatchState,
    /// The ledger with any record written.
    pub ledger: Ledger,
    /// What the poll saw and did, per push.
    pub events: Vec<WatchEvent>,
}

/// The endpoints serving the Treeherder at `page_origin`, from the add-on's
/// own knowledge only: production and staging are built in, a custom
/// instance must match the options, and a development build also knows the
/// sandbox the user enabled. Any other origin is refused without a request
/// to it: what a page says about itself is never asked for nor believed.
pub fn endpoints_for_page(settings: &AddonSettings, page_origin: &str) -> Result<Endpoints> {
    let origin = page_origin.trim_end_matches('/');
    if origin == PRODUCTION_TREEHERDER {
        return Ok(Endpoints::default());
    }
    if origin == STAGING_TREEHERDER {
        return Ok(Endpoints {
            treeherder: STAGING_TREEHERDER.into(),
            ..Endpoints::default()
        });
    }
    let page = origin_of(origin);
    let is_page = |text: &str| page.is_some() && origin_of(text) == page;
    if let Some(c) = settings.custom.as_ref().filter(|c| is_page(&c.treeherder)) {
        for (what, text) in c.all() {
            checked_custom_endpoint(what, text)?;
        }
        return Ok(Endpoints::sandbox(
            &c.treeherder,
            &c.hg,
            &c.buildapi,
            &c.taskcluster,
        ));
    }
    #[cfg(feature = "dev-sandbox")]
    if let Some(sandbox) = settings.sandboxes.iter().find(|s| is_page(&s.treeherder)) {
        return sandbox_endpoints(sandbox);
    }
    Err(Error::Config(format!(
        "{origin} is not a Treeherder this add-on knows: it works on treeherder.mozilla.org, treeherder.allizom.org and the custom instance set in its options{}",
        if DEVELOPMENT_BUILD {
            " (or a local mozci-sandbox enabled there)"
        } else {
            ""
        }
    )))
}

/// Whether `page_url` is a job view of a Treeherder the add-on knows
/// ([`endpoints_for_page`]): the popup plans only for such tabs.
pub fn knows_page(settings: &AddonSettings, page_url: &str) -> bool {
    parse_job_view_url(page_url)
        .is_some_and(|selection| endpoints_for_page(settings, &selection.origin).is_ok())
}

/// A session on `endpoints` with both backends. Taskcluster credentials are
/// the page's `localStorage.userCredentials` text, used for this call only.
pub(crate) fn session(
    http: Rc<dyn HttpClient>,
    endpoints: &Endpoints,
    tc_root: Option<&str>,
    settings: &AddonSettings,
    user_credentials: Option<&str>,
) -> Result<Session> {
    let ctx = CiContext::new(http, endpoints.clone());
    let logins = Logins {
        // The LDAP login goes only to the Self-Serve origin the user configured.
        buildapi: settings.buildapi_credentials_for(endpoints),
        taskcluster: None,
        treeherder_user_credentials: user_credentials.map(str::to_string),
    };
    let backends = Backends::connect(&ctx, tc_root, logins)?;
    Ok(Session::new(ctx, backends))
}

fn action_text(action: &PushAction) -> String {
    match action {
        PushAction::Nothing => "enough runs already".into(),
        PushAction::Retrigger { count, .. } => format!("retrigger ×{count}"),
        PushAction::Trigger { count, .. } => format!("add {count} new job(s)"),
        PushAction::BuildFirst { then_tests, .. } => {
            format!("build first, then {then_tests} test run(s)")
        }
        PushAction::WaitForBuild { then_tests, .. } => {
            format!("wait for the build, then {then_tests} test run(s)")
        }
    }
}

pub(crate) fn runs_text(history: Option<&PushHistory>) -> String {
    match history {
        Some(h) => {
            let c = h.counts();
            let mut text = format!("{} passed, {} failed", c.succeeded, c.failed);
            // Only when the runs' logs were read: what they showed.
            if c.failed_otherwise > 0 {
                text.push_str(&format!(", {} failed otherwise", c.failed_otherwise));
            }
            if !h.readings.is_empty() && c.infra_failed > 0 {
                text.push_str(&format!(
                    ", {} infrastructure failure(s), re-run",
                    c.infra_failed
                ));
            }
            text.push_str(&format!(", {} pending/running", c.in_progress()));
            text
        }
        None => String::new(),
    }
}

fn range_url(endpoints: &Endpoints, repo: &str, pushes: &[Push]) -> String {
    let base = endpoints.treeherder.trim_end_matches('/');
    match (pushes.first(), pushes.last()) {
        (Some(newest), Some(oldest)) => format!(
            "{base}/jobs?repo={repo}&tochange={}&fromchange={}",
            newest.revision.0, oldest.revision.0
        ),
        _ => format!("{base}/jobs?repo={repo}"),
    }
}

/// Plan what `request` asks for on the page's selected job. The ledger's
/// pending triggers count as runs already asked for, so nothing is doubled.
pub async fn plan(
    http: Rc<dyn HttpClient>,
    settings: &AddonSettings,
    request: &PlanRequest,
    ledger: &Ledger,
) -> Result<AddonPlan> {
    let selection = parse_job_view_url(&request.page_url)
        .ok_or_else(|| Error::Invalid("this page is not a Treeherder job view".into()))?;
    let endpoints = endpoints_for_page(settings, &selection.origin)?;
    let ctx = CiContext::new(http.clone(), endpoints.clone());
    let repo = selection.repo.clone();
    // The range rules first, before any request.
    check_choices(&repo, request.times, Some(request.depth))?;
    let repository = treeherder::repository(&ctx, &repo).await?;
    if repository.is_try_repo {
        return Err(Error::Invalid(
            "backfill does not apply to try pushes".into(),
        ));
    }
    let (job, push) = match &selection.selected {
        Some(SelectedJob::TaskRun { task_id, run }) => {
            treeherder::job_by_task(&ctx, &repo, task_id, *run).await?
        }
        Some(SelectedJob::JobId { job_id }) => treeherder::job_by_id(&ctx, &repo, *job_id).await?,
        None => return Err(Error::Invalid("select a job first".into())),
    };
    let job_type = JobType::of(&job);
    let tc_root = repository.tc_root_url.clone();
    let session = session(http, &endpoints, tc_root.as_deref(), settings, None)?;
    let now = clock::now_ms();
    let key = run_key(session.origin(), &repo, push.id, &job_type.name);
    let title = title(request.mode, &job_type, &repo);
    if request.mode.is_culprit_search() {
        let selected = Selected {
            repo,
            job,
            push,
            job_type,
            endpoints,
            tc_root,
        };
        return plan_find_culprit(&session, request, ledger, now, key, title, selected).await;
    }
    let range = match request.mode {
        Mode::ToLastGood => PlanRange::ToLastGood {
            revision: push.revision.clone(),
            depth: request.depth,
        },
        Mode::CiBackfill => PlanRange::CiBackfill {
            push: push.clone(),
            depth: request.depth,
        },
        Mode::TriggerHere | Mode::FindCulprit | Mode::FindCulpritRunsOnly => PlanRange::Pushes {
            pushes: vec![push.clone()],
            selected: push.revision.clone(),
        },
    };
    let planned = engine_plan(
        &session,
        &EnginePlanRequest {
            repo: repo.clone(),
            job_type: job_type.clone(),
            range,
            times: request.times,
            selected_job: Some(job.clone()),
            any_failure: request.any_failure,
            test: request.test.clone(),
            rerun_budget: DEFAULT_RERUN_BUDGET,
            confirm_above: CONFIRM_ABOVE,
        },
        ledger,
        now,
    )
    .await?;
    let times = planned.times;
    let rows = match request.mode {
        Mode::CiBackfill => planned
            .histories
            .iter()
            .skip(1)
            .map(|h| PlanRow {
                push_id: h.push.id,
                revision: h.push.revision.short().to_string(),
                action: format!("backfill action ×{times}"),
                runs: runs_text(Some(h)),
            })
            .collect(),
        _ => planned
            .plans
            .iter()
            .map(|p| PlanRow {
                push_id: p.push_id,
                revision: p.revision.short().to_string(),
                action: action_text(&p.action),
                runs: runs_text(planned.histories.iter().find(|h| h.push.id == p.push_id)),
            })
            .collect(),
    };
    let mut notes = planned.notes;
    // Counted as asked in the plan above, and named so the user knows why.
    notes.extend(unknown_notice(planned.unknown.iter()));
    let pushes: Vec<Push> = planned.histories.iter().map(|h| h.push.clone()).collect();
    Ok(AddonPlan {
        key,
        title,
        culprit: None,
        range_url: range_url(&endpoints, &repo, &pushes),
        repo,
        mode: request.mode,
        depth: request.depth,
        times,
        job_type,
        selected_job: job,
        selected_push: push,
        endpoints,
        tc_root,
        histories: planned.histories,
        plans: planned.plans,
        summary: planned.summary,
        notes,
        jobs_started_now: planned.jobs_started_now,
        needs_confirmation: planned.needs_confirmation,
        rows,
        times_suggestion: planned.times_suggestion,
        scope: planned.scope,
        failure_lines: planned
            .selected_failures
            .map(|report| report.rows)
            .unwrap_or_default(),
    })
}

/// The page's selected job, read from Treeherder, and the services it is on.
struct Selected {
    repo: String,
    job: Job,
    push: Push,
    job_type: JobType,
    endpoints: Endpoints,
    tc_root: Option<String>,
}

/// The Find the culprit mode's plan: the scope and notes as for any plan
/// (`engine::planning`), the search's first round from `addon::culprit`.
async fn plan_find_culprit(
    session: &Session,
    request: &PlanRequest,
    ledger: &Ledger,
    now: u64,
    key: String,
    title: String,
    selected: Selected,
) -> Result<AddonPlan> {
    let Selected {
        repo,
        job,
        push,
        job_type,
        endpoints,
        tc_root,
    } = selected;
    let choice = choose_scope_of_selected(
        session,
        &repo,
        Some(&job),
        None,
        request.any_failure,
        request.test.as_deref(),
    )
    .await;
    let run = new_culprit_run(
        session,
        &repo,
        &job_type,
        &push,
        request.depth,
        choice.scope.clone(),
        request.mode.confirms_first(),
    )
    .await?;
    let (run, summary, mut notes, rows) = plan_culprit(session, &run, &job_type, ledger).await?;
    notes.extend(choice.note);
    notes.extend(unknown_notice(
        unknown_triggers(session, &repo, &job_type, ledger, now).iter(),
    ));
    let jobs_started_now = run.planned_now;
    let needs_confirmation = needs_confirmation(
        PlanSize {
            jobs_started_now,
            bounded: true,
            times_chosen_by_tool: false,
        },
        CONFIRM_ABOVE,
    );
    let pushes = run.range.pushes_newest_first();
    Ok(AddonPlan {
        key: culprit_run_key(&key),
        title,
        range_url: range_url(&endpoints, &repo, &pushes),
        culprit: Some(run),
        repo,
        mode: request.mode,
        depth: request.depth,
        times: request.times.unwrap_or(1),
        job_type,
        selected_job: job,
        selected_push: push,
        endpoints,
        tc_root,
        histories: Vec::new(),
        plans: Vec::new(),
        summary,
        notes,
        jobs_started_now,
        needs_confirmation,
        rows,
        times_suggestion: None,
        scope: choice.scope,
        failure_lines: choice
            .failures
            .map(|report| report.rows)
            .unwrap_or_default(),
    })
}

/// The tests that failed in the job selected on the page at `page_url`
/// (structured log, error summary, `text_log_errors` or the task log,
/// whichever can be read; see `engine::failures`).
pub async fn selected_job_failures(
    http: Rc<dyn HttpClient>,
    settings: &AddonSettings,
    page_url: &str,
) -> Result<JobFailureReport> {
    let selection = parse_job_view_url(page_url)
        .ok_or_else(|| Error::Invalid("this page is not a Treeherder job view".into()))?;
    let endpoints = endpoints_for_page(settings, &selection.origin)?;
    let ctx = CiContext::new(http, endpoints);
    let repo = selection.repo.as_str();
    let job_id = match &selection.selected {
        Some(SelectedJob::JobId { job_id }) => *job_id,
        Some(SelectedJob::TaskRun { task_id, run }) => {
            let (job, _) = treeherder::job_by_task(&ctx, repo, task_id, *run).await?;
            job.ids.job_id.ok_or_else(|| {
                Error::Invalid(format!("Treeherder has no job id for task {task_id}"))
            })?
        }
        None => return Err(Error::Invalid("select a job first".into())),
    };
    failures_of_job(&ctx, repo, job_id).await
}

/// The panel's heading for a run of `mode`.
pub(crate) fn title(mode: Mode, job_type: &JobType, repo: &str) -> String {
    match mode {
        Mode::FindCulprit | Mode::FindCulpritRunsOnly => {
            format!("Find the culprit of {} on {repo}", job_type.name)
        }
        _ => format!("Backfill {} on {repo}", job_type.name),
    }
}

/// The key under which a run is stored: one run per Treeherder origin,
/// repository, push and job type at a time (the same repository and push id
/// on two instances are different runs).
pub fn run_key(origin: &str, repo: &str, push_id: u64, job_name: &str) -> String {
    format!(
        "{}/{repo}/{push_id}/{job_name}",
        crate::engine::ledger::origin_key(origin)
    )
}

/// The refusal behind a trigger's outcome, by its recorded type. A lost
/// answer is not a refusal: it is shown as unknown, possibly scheduled.
pub(crate) fn refusal_problem(outcome: &TriggerOutcome, ci: CiSystem) -> Option<Problem> {
    let (reason, refusal) = match outcome {
        TriggerOutcome::Refused { reason, refusal }
        | TriggerOutcome::Partial {
            reason,
            refusal,
            unknown_runs: 0,
            ..
        } => (reason, *refusal),
        _ => return None,
    };
    let auth = match refusal {
        Refusal::NoAccess => AuthProblem::NoAccess,
        Refusal::LogIn => match ci.login() {
            Login::Treeherder => AuthProblem::LogInToTreeherder,
            Login::DriverSettings { .. } => AuthProblem::LogInInOptions,
        },
        Refusal::Other => {
            return Some(Problem {
                message: format!("refused, nothing was scheduled: {reason}"),
                auth: None,
            })
        }
    };
    let message = match auth {
        AuthProblem::NoAccess => "this account has no access: nothing was triggered".to_string(),
        AuthProblem::LogInInOptions => {
            let (service, account) = settings_login(Some(ci.login()));
            format!("{service} refused: log in (enter your {account} in the add-on's options)")
        }
        AuthProblem::LogInToTreeherder => "log in to Treeherder first".to_string(),
    };
    Some(Problem {
        message,
        auth: Some(auth),
    })
}

fn progress_rows(
    watch_pushes: &[Push],
    items: &[WatchItem],
    histories: &[PushHistory],
) -> Vec<ProgressRow> {
    watch_pushes
        .iter()
        .filter_map(|push| {
            let item = items.iter().find(|i| i.push_id == push.id)?;
            let history = histories.iter().find(|h| h.push.id == push.id);
            let stage = match item.stage {
                Stage::WaitingForBuild => "waiting for the build",
                Stage::Running => "running",
                Stage::Done => "done",
                Stage::GaveUp => "gave up",
            };
            Some(ProgressRow {
                push_id: push.id,
                revision: push.revision.short().to_string(),
                text: format!("{stage}: {}", runs_text(history)),
                done: matches!(item.stage, Stage::Done | Stage::GaveUp),
            })
        })
        .collect()
}

/// How long a plan waits for its Confirm: an older one is planned again.
pub const PLAN_MAX_AGE_MS: u64 = 5 * 60 * 1000;

/// Why a kept plan must not be carried out now (made `created_at_ms`): it
/// is too old, or it overlaps, for the same job on the same Treeherder, a
/// run in flight (`running`, unsettled) or a plan being sent right now
/// (`sending`, not stored as a run yet).
pub fn plan_conflict(
    plan: &AddonPlan,
    created_at_ms: u64,
    running: &[WatchState],
    sending: &[AddonPlan],
    now_ms: u64,
) -> Option<String> {
    let age = now_ms.saturating_sub(created_at_ms);
    if age > PLAN_MAX_AGE_MS {
        return Some(format!(
            "this plan is {} minute(s) old: click Backfill again for a fresh one",
            age / 60_000
        ));
    }
    let origin = crate::engine::ledger::origin_key(&plan.endpoints.treeherder);
    let same_job = |treeherder: &str, repo: &str, job: &JobType| {
        crate::engine::ledger::origin_key(treeherder) == origin
            && repo == plan.repo
            && job.name == plan.job_type.name
    };
    let pushes = plan_pushes(plan);
    let overlaps = |ids: &[u64]| ids.iter().any(|id| pushes.contains(id));
    if let Some(run) = running.iter().find(|run| {
        !run.settled
            && same_job(&run.endpoints.treeherder, &run.repo, &run.job_type)
            && overlaps(&run.pushes.iter().map(|p| p.id).collect::<Vec<_>>())
    }) {
        return Some(format!(
            "a run in flight ({}) already covers some of these pushes: follow it, or plan again once it is done",
            run.title
        ));
    }
    sending
        .iter()
        .find(|other| {
            same_job(&other.endpoints.treeherder, &other.repo, &other.job_type)
                && overlaps(&plan_pushes(other))
        })
        .map(|_| {
            "a plan for some of these pushes is being sent right now: click Backfill again in a moment"
                .to_string()
        })
}

/// The pushes a plan acts on.
fn plan_pushes(plan: &AddonPlan) -> Vec<u64> {
    match &plan.culprit {
        Some(run) => run
            .range
            .pushes_newest_first()
            .iter()
            .map(|p| p.id)
            .collect(),
        None => plan.histories.iter().map(|h| h.push.id).collect(),
    }
}

/// Carry out a confirmed plan: each trigger written ahead to `journal`,
/// sent once and recorded in the ledger (returned updated), and the watch
/// state to poll from now on. The pushes are read again first: the plan
/// may be minutes old, and runs asked for since (in the ledger) count.
pub async fn execute(
    http: Rc<dyn HttpClient>,
    settings: &AddonSettings,
    plan: &AddonPlan,
    user_credentials: Option<&str>,
    ledger: &mut Ledger,
    journal: Rc<dyn TriggerJournal>,
) -> Result<ExecuteAnswer> {
    let ci = plan.job_type.ci;
    if ci.login() == Login::Treeherder && user_credentials.is_none() {
        return Err(Error::Config(format!(
            "no {} credentials: log in to Treeherder",
            ci.name()
        )));
    }
    let session = session(
        http,
        &plan.endpoints,
        plan.tc_root.as_deref(),
        settings,
        user_credentials,
    )?
    .with_journal(journal);
    ledger.prune(clock::now_ms());
    if plan.mode.is_culprit_search() {
        return culprit::execute_culprit(&session, plan, ledger).await;
    }
    let (executions, items, watch_pushes) = match plan.mode {
        Mode::CiBackfill => {
            // Through the same backend and ledger as every other trigger:
            // written ahead, sent once, and never sent again while a first
            // one may have been carried out.
            let job = &plan.selected_job;
            let push = &plan.selected_push;
            if let Some(sent) = ledger.backfill_action_sent(
                session.origin(),
                &plan.repo,
                push.id,
                &plan.job_type.name,
                clock::now_ms(),
            ) {
                return Err(Error::Invalid(format!(
                    "a backfill action for this job was already sent ({}): not sending another",
                    sent.outcome.describe()
                )));
            }
            let backend = session.backends.for_system(ci)?;
            let request = TriggerRequest {
                kind: TriggerKind::BackfillAction,
                job_name: plan.job_type.name.clone(),
                runs_asked: plan.depth.saturating_mul(plan.times),
                visible_before: 0,
            };
            let record = send_recorded(
                &session,
                &plan.repo,
                push,
                request,
                backend.backfill_action(&plan.repo, push, job, plan.depth, plan.times),
            )
            .await?;
            ledger.record(record.clone());
            let earlier: Vec<Push> = plan
                .histories
                .iter()
                .skip(1)
                .map(|h| h.push.clone())
                .collect();
            let items: Vec<WatchItem> = if record.outcome.runs_possibly_scheduled(1) > 0 {
                earlier
                    .iter()
                    .map(|p| WatchItem {
                        push_id: p.id,
                        job_name: plan.job_type.name.clone(),
                        wanted: plan.times,
                        stage: Stage::Running,
                        rerun_budget: 0,
                        scope: plan.scope.clone(),
                        readings: Vec::new(),
                    })
                    .collect()
            } else {
                Vec::new()
            };
            let execution = PushExecution {
                plan: PushPlan {
                    push_id: push.id,
                    revision: push.revision.clone(),
                    counts: plan
                        .histories
                        .first()
                        .map(PushHistory::counts)
                        .unwrap_or_default(),
                    wanted: 0,
                    action: PushAction::Nothing,
                    reason: format!(
                        "the {} backfill action: {} run(s) on each of the {} earlier push(es)",
                        ci.name(),
                        plan.times,
                        plan.depth
                    ),
                },
                records: vec![record],
            };
            (vec![execution], items, earlier)
        }
        _ => {
            // Each push decided again on its runs as they are now, with the
            // ledger's requests (another run's included) counted.
            let pushes: Vec<Push> = plan
                .plans
                .iter()
                .filter_map(|p| plan.histories.iter().find(|h| h.push.id == p.push_id))
                .map(|h| h.push.clone())
                .collect();
            let fresh = session
                .histories(&plan.repo, &pushes, &plan.job_type, ledger, clock::now_ms())
                .await?;
            let plans: Vec<PushPlan> = plan
                .plans
                .iter()
                .filter_map(|p| {
                    fresh
                        .iter()
                        .find(|h| h.push.id == p.push_id)
                        .map(|h| push_plan(h, p.wanted))
                })
                .collect();
            let executions = execute_plans(
                &session,
                &plan.repo,
                &plan.job_type,
                &plans,
                &fresh,
                ledger,
                |_| {},
            )
            .await?;
            let items = watch_items(
                &executions,
                &plan.job_type.name,
                DEFAULT_RERUN_BUDGET,
                &plan.scope,
            );
            let pushes: Vec<Push> = plan
                .histories
                .iter()
                .filter(|h| items.iter().any(|i| i.push_id == h.push.id))
                .map(|h| h.push.clone())
                .collect();
            (executions, items, pushes)
        }
    };
    let problem = executions
        .iter()
        .flat_map(|e| e.records.iter())
        .find_map(|r| refusal_problem(&r.outcome, ci));
    let notice = unknown_notice(executions.iter().flat_map(|e| e.records.iter()));
    // The runs just asked for count as pending until the CI system shows them.
    let mut histories = plan.histories.clone();
    ledger.apply(
        session.origin(),
        &plan.repo,
        &plan.job_type.name,
        &mut histories,
        clock::now_ms(),
    );
    let rows = progress_rows(&watch_pushes, &items, &histories);
    let settled = problem.is_some() || all_settled(&items);
    let live = if settled {
        LiveTargets::default()
    } else {
        let mut live = LiveTargets::start(
            &plan.job_type,
            &plan.endpoints,
            decision_groups(&session, &plan.repo, &plan.job_type, &watch_pushes).await,
        );
        live.observe(&histories, executions.iter().flat_map(|e| e.records.iter()));
        live
    };
    Ok(ExecuteAnswer {
        executions,
        ledger: ledger.clone(),
        watch: WatchState {
            key: plan.key.clone(),
            repo: plan.repo.clone(),
            job_type: plan.job_type.clone(),
            endpoints: plan.endpoints.clone(),
            tc_root: plan.tc_root.clone(),
            range_url: plan.range_url.clone(),
            pushes: watch_pushes,
            items,
            rows,
            settled,
            verdict: None,
            verdict_text: problem.as_ref().map(|p| p.message.clone()),
            problem,
            polls: 0,
            title: plan.title.clone(),
            culprit: None,
            notice,
            live,
        },
    })
}

/// The decision task groups of `pushes`, for a job type whose CI system has
/// live events: one Treeherder read. Without them the run is polled only
/// (nothing is lost).
async fn decision_groups(
    session: &Session,
    repo: &str,
    job_type: &JobType,
    pushes: &[Push],
) -> Vec<String> {
    if !job_type.ci.has_live_events() || pushes.is_empty() {
        return Vec::new();
    }
    let push_ids: Vec<u64> = pushes.iter().map(|p| p.id).collect();
    match treeherder::decision_tasks(&session.ctx, repo, &push_ids).await {
        Ok(found) => {
            let mut groups: Vec<String> = found.into_values().collect();
            groups.sort();
            groups.dedup();
            groups
        }
        Err(_) => Vec::new(),
    }
}

/// What the panel says about triggers that may have been carried out
/// without the add-on knowing (see [`TriggerOutcome::is_unknown`]).
pub(crate) fn unknown_notice<'a>(
    records: impl Iterator<Item = &'a crate::engine::ledger::TriggerRecord>,
) -> Option<String> {
    let unknown: Vec<String> = records
        .filter(|r| r.outcome.is_unknown())
        .map(|r| format!("{}: {}", r.revision.short(), r.outcome.describe()))
        .collect();
    (!unknown.is_empty()).then(|| {
        format!(
            "unknown, possibly scheduled (counted as asked, not resent): {}",
            unknown.join("; ")
        )
    })
}

/// One monitoring poll: fresh runs, reactions carried out (new triggers
/// only with the user's credentials at hand), progress and, once every push
/// settled, the verdict.
pub async fn watch(
    http: Rc<dyn HttpClient>,
    settings: &AddonSettings,
    state: &WatchState,
    user_credentials: Option<&str>,
    ledger: &mut Ledger,
    journal: Rc<dyn TriggerJournal>,
) -> Result<WatchAnswer> {
    let session = session(
        http,
        &state.endpoints,
        state.tc_root.as_deref(),
        settings,
        user_credentials,
    )?
    .with_journal(journal);
    if let Some(run) = &state.culprit {
        // A login from Treeherder comes with a click; one kept in the
        // options is always at hand.
        let send = state.job_type.ci.login() != Login::Treeherder || user_credentials.is_some();
        return culprit::watch_culprit(&session, state, run, ledger, send).await;
    }
    let mut items = state.items.clone();
    let (histories, events) = watch_step(
        &session,
        &state.repo,
        &state.job_type,
        &state.pushes,
        &mut items,
        ledger,
    )
    .await?;
    let settled = all_settled(&items);
    let verdict = settled.then(|| backfill_verdict(&histories));
    let mut next = state.clone();
    next.notice = unknown_notice(events.iter().filter_map(|e| e.record.as_ref())).or(next.notice);
    next.rows = progress_rows(&state.pushes, &items, &histories);
    next.items = items;
    next.settled = settled;
    next.verdict_text = verdict.as_ref().map(Verdict::describe);
    next.verdict = verdict;
    next.polls = state.polls.saturating_add(1);
    if settled {
        next.live = LiveTargets::default();
    } else {
        next.live
            .observe(&histories, events.iter().filter_map(|e| e.record.as_ref()));
    }
    Ok(WatchAnswer {
        watch: next,
        ledger: ledger.clone(),
        events,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn live_targets_come_from_the_settings_and_the_last_poll() {
        use crate::model::{JobKind, JobState, UpstreamBuild};
        use crate::plan::test_support::{build_job, history, with_build, OK};
        let mut endpoints = Endpoints::sandbox(
            "http://127.0.0.1:1",
            "http://127.0.0.1:2",
            "http://127.0.0.1:3",
            "http://127.0.0.1:4",
        );
        endpoints.taskcluster = "https://firefox-ci-tc.services.mozilla.com/".into();
        let job_type = |ci| JobType {
            name: "test-linux64/opt-mochitest-browser-chrome-1".into(),
            ci,
            kind: JobKind::Test,
            platform: "linux64".into(),
            symbol: "bc1".into(),
        };
        // Buildbot jobs are polled only.
        let buildbot = LiveTargets::start(&job_type(CiSystem::Buildbot), &endpoints, vec![]);
        assert_eq!(buildbot.socket_url, None);
        let mut live = LiveTargets::start(
            &job_type(CiSystem::Taskcluster),
            &endpoints,
            vec!["D1".into()],
        );
        assert_eq!(
            live.socket_url.as_deref(),
            Some("wss://firefox-ci-tc.services.mozilla.com/subscription")
        );
        let histories = vec![
            history(1, &[OK, JobState::Pending, JobState::Running]),
            with_build(
                history(2, &[]),
                UpstreamBuild::InProgress {
                    build: build_job(2, JobState::Running),
                },
            ),
        ];
        live.observe(&histories, []);
        assert_eq!(
            live.tasks,
            vec!["task1x1", "task1x2"],
            "unfinished runs only"
        );
        assert_eq!(live.reaction_tasks, vec!["task2x99"]);
        assert_eq!(live.decision_groups, vec!["D1"]);
        // The next poll replaces the tasks: finished ones are not watched.
        live.observe(&[history(1, &[OK, OK, JobState::Running])], []);
        assert_eq!(live.tasks, vec!["task1x2"]);
        assert!(live.reaction_tasks.is_empty());
    }

    #[test]
    fn refusals_name_who_must_act() {
        let forbidden = TriggerOutcome::Refused {
            reason: "http://x/self-serve answered 403 Forbidden: this account has no access".into(),
            refusal: Refusal::NoAccess,
        };
        let p = refusal_problem(&forbidden, CiSystem::Buildbot).map(|p| p.auth);
        assert_eq!(p, Some(Some(AuthProblem::NoAccess)));
        let unauthorized = TriggerOutcome::Refused {
            reason: "http://x answered 401 Unauthorized: log in".into(),
            refusal: Refusal::LogIn,
        };
        let p = refusal_problem(&unauthorized, CiSystem::Buildbot).map(|p| p.auth);
        assert_eq!(p, Some(Some(AuthProblem::LogInInOptions)));
        let accepted = TriggerOutcome::Accepted {
            ids: vec!["1".into()],
            runs: 1,
        };
        assert!(refusal_problem(&accepted, CiSystem::Buildbot).is_none());
        // Typed, not read from the text: a reason mentioning 403 is not a 403.
        let other = TriggerOutcome::Refused {
            reason: "answered 400: 403 Forbidden in a message".into(),
            refusal: Refusal::Other,
        };
        let p = refusal_problem(&other, CiSystem::Buildbot).map(|p| p.auth);
        assert_eq!(p, Some(None));
        let lost = TriggerOutcome::Unknown {
            reason: "timed out".into(),
        };
        assert!(refusal_problem(&lost, CiSystem::Taskcluster).is_none());
    }

    #[test]
    fn failures_say_log_in_or_no_access() {
        let f = Problem::of(
            &Error::Unauthorized {
                url: "http://b".into(),
            },
            Some(CiSystem::Buildbot),
        );
        assert_eq!(f.auth, Some(AuthProblem::LogInInOptions));
        assert!(f.message.contains("options"));
        let f = Problem::of(
            &Error::Forbidden {
                url: "http://b".into(),
                detail: "ACCESS DENIED!".into(),
            },
            Some(CiSystem::Buildbot),
        );
        assert!(f.message.starts_with("this account has no access"));
    }

    fn origins(treeherder: &str, buildapi: &str) -> CustomOrigins {
        CustomOrigins {
            treeherder: treeherder.into(),
            hg: treeherder.replace("treeherder", "hg"),
            buildapi: buildapi.into(),
            taskcluster: treeherder.replace("treeherder", "tc"),
        }
    }

    fn logged_in() -> AddonSettings {
        AddonSettings {
            buildapi_user: Some("sheriff@mozilla.com".into()),
            buildapi_password: Some("pw".into()),
            ..AddonSettings::default()
        }
    }

    #[test]
    fn an_unknown_origin_is_refused_whatever_it_would_claim() {
        let settings = logged_in();
        for origin in [
            "http://127.0.0.1:4000",
            "http://localhost:8000",
            "https://treeherder.example.com",
            "https://treeherder.mozilla.org.evil.example",
        ] {
            let refused = endpoints_for_page(&settings, origin);
            assert!(
                matches!(&refused, Err(Error::Config(m)) if m.contains("not a Treeherder this add-on knows")),
                "{origin}: {refused:?}"
            );
        }
        let production = endpoints_for_page(&settings, "https://treeherder.mozilla.org/").ok();
        assert_eq!(production, Some(Endpoints::default()));
        let staging = endpoints_for_page(&settings, "https://treeherder.allizom.org").ok();
        assert_eq!(
            staging.map(|e| (e.treeherder, e.buildapi)),
            Some((STAGING_TREEHERDER.into(), DEFAULT_SELF_SERVE_BASE.into()))
        );
    }

    #[test]
    fn only_job_views_of_known_instances_are_known_pages() {
        let settings = logged_in();
        assert!(knows_page(
            &settings,
            "https://treeherder.mozilla.org/jobs?repo=autoland&selectedTaskRun=ZBK4oDL4TnK1EjT-UY-o2A.0"
        ));
        assert!(!knows_page(
            &settings,
            "http://127.0.0.1:4000/jobs?repo=autoland&selectedTaskRun=ZBK4oDL4TnK1EjT-UY-o2A.0"
        ));
        assert!(!knows_page(&settings, "https://example.com/"));
    }

    #[test]
    fn the_login_goes_to_production_self_serve_and_nowhere_else_by_default() {
        let settings = logged_in();
        assert!(settings
            .buildapi_credentials_for(&Endpoints::default())
            .is_some());
        let impostor = Endpoints::sandbox(
            "http://127.0.0.1:4000",
            "http://127.0.0.1:4001",
            "http://127.0.0.1:4002",
            "http://127.0.0.1:4003",
        );
        assert!(settings.buildapi_credentials_for(&impostor).is_none());
        let lookalike = Endpoints {
            buildapi: "https://secure.pub.build.mozilla.org.evil.example/buildapi/self-serve"
                .into(),
            ..Endpoints::default()
        };
        assert!(settings.buildapi_credentials_for(&lookalike).is_none());
        let plain_http = Endpoints {
            buildapi: "http://secure.pub.build.mozilla.org/buildapi/self-serve".into(),
            ..Endpoints::default()
        };
        assert!(settings.buildapi_credentials_for(&plain_http).is_none());
    }

    #[test]
    fn a_custom_instance_needs_https_and_gets_the_login_on_its_own_self_serve() {
        let settings = AddonSettings {
            custom: Some(origins(
                "https://treeherder.example.com",
                "https://buildapi.example.com",
            )),
            ..logged_in()
        };
        let endpoints = endpoints_for_page(&settings, "https://treeherder.example.com");
        let endpoints = endpoints.ok().filter(|e| e.hg == "https://hg.example.com");
        let credentials = endpoints
            .as_ref()
            .and_then(|e| settings.buildapi_credentials_for(e));
        assert!(credentials.is_some(), "{endpoints:?}");
        let plain = AddonSettings {
            custom: Some(origins(
                "http://treeherder.example.com",
                "http://buildapi.example.com",
            )),
            ..logged_in()
        };
        let refused = endpoints_for_page(&plain, "http://treeherder.example.com");
        assert!(
            matches!(&refused, Err(Error::Config(m)) if m.contains("must be https://")),
            "{refused:?}"
        );
        let to_plain = Endpoints::sandbox(
            "http://treeherder.example.com",
            "http://hg.example.com",
            "http://buildapi.example.com",
            "http://tc.example.com",
        );
        assert!(plain.buildapi_credentials_for(&to_plain).is_none());
    }

    #[test]
    fn a_local_sandbox_counts_only_when_enabled_and_on_loopback_in_a_development_build() {
        let sandbox = origins("http://127.0.0.1:4000", "http://127.0.0.1:4002");
        let enabled = AddonSettings {
            sandboxes: vec![sandbox.clone()],
            ..logged_in()
        };
        let endpoints = endpoints_for_page(&enabled, "http://127.0.0.1:4000");
        let login = endpoints
            .as_ref()
            .ok()
            .and_then(|e| enabled.buildapi_credentials_for(e));
        // Another port on the same machine is another origin.
        let neighbour = endpoints_for_page(&enabled, "http://127.0.0.1:4999");
        assert!(neighbour.is_err(), "{neighbour:?}");
        let custom_loopback = AddonSettings {
            custom: Some(sandbox),
            ..logged_in()
        };
        let custom = endpoints_for_page(&custom_loopback, "http://127.0.0.1:4000");
        if DEVELOPMENT_BUILD {
            let endpoints = endpoints.ok();
            assert_eq!(
                endpoints.as_ref().map(|e| e.buildapi.as_str()),
                Some("http://127.0.0.1:4002/buildapi/self-serve")
            );
            assert!(login.is_some());
            assert!(custom.is_ok(), "{custom:?}");
        } else {
            assert!(endpoints.is_err() && login.is_none(), "{endpoints:?}");
            assert!(custom.is_err(), "{custom:?}");
        }
        // A sandbox that names a BuildAPI off this machine is not used.
        let remote = AddonSettings {
            sandboxes: vec![origins(
                "http://127.0.0.1:4000",
                "https://logger.example.com",
            )],
            ..logged_in()
        };
        let refused = endpoints_for_page(&remote, "http://127.0.0.1:4000");
        assert!(refused.is_err(), "{refused:?}");
        let to_remote = Endpoints::sandbox(
            "http://127.0.0.1:4000",
            "http://127.0.0.1:4001",
            "https://logger.example.com",
            "http://127.0.0.1:4003",
        );
        assert!(remote.buildapi_credentials_for(&to_remote).is_none());
    }

    #[test]
    fn settings_read_camel_case_and_skip_empty_users() {
        let s: AddonSettings =
            serde_json::from_str(r#"{"buildapiUser":"","buildapiPassword":"x"}"#).unwrap();
        assert!(s.buildapi_credentials().is_none());
        let s: AddonSettings =
            serde_json::from_str(r#"{"buildapiUser":"a@b","buildapiPassword":"x"}"#).unwrap();
        assert_eq!(s.buildapi_credentials().map(|c| c.user), Some("a@b".into()));
    }
}
