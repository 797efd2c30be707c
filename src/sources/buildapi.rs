//! Self-Serve BuildAPI (Buildbot era): the requests that trigger, retrigger,
//! rebuild and cancel Buildbot jobs, the reads of a revision's builds, of a
//! self-serve job, of the branches and of the pending queue, and the parsers
//! of their JSON answers. No I/O: requests are returned as [`HttpRequest`]s.

#![warn(missing_docs)]

use crate::error::{Error, Result};
use crate::http::{HttpRequest, HttpResponse, Method};
use crate::model::Revision;
use crate::url_text::parse_url;
use serde::{Deserialize, Deserializer, Serialize};
use std::collections::BTreeMap;

/// Production Self-Serve base URL.
pub(crate) const DEFAULT_SELF_SERVE_BASE: &str =
    "https://secure.pub.build.mozilla.org/buildapi/self-serve";

const SOURCE: &str = "Self-Serve BuildAPI";

/// HTTP Basic credentials (LDAP email + password) sent on every BuildAPI call.
#[derive(Clone, PartialEq, Eq)]
pub struct BasicCredentials {
    /// The LDAP account, an email address: Basic auth's user name.
    pub user: String,
    /// The LDAP password; `Debug` prints it as `<hidden>`.
    pub password: String,
}

impl std::fmt::Debug for BasicCredentials {
    // The password must never reach a log line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BasicCredentials")
            .field("user", &self.user)
            .field("password", &"<hidden>")
            .finish()
    }
}

impl BasicCredentials {
    /// Credentials for `user` (an LDAP email address) with `password`.
    pub fn new(user: impl Into<String>, password: impl Into<String>) -> Self {
        BasicCredentials {
            user: user.into(),
            password: password.into(),
        }
    }

    /// The `Authorization` header value: `Basic base64(user:password)`.
    pub(crate) fn authorization_header(&self) -> String {
        let raw = format!("{}:{}", self.user, self.password);
        format!("Basic {}", base64_encode(raw.as_bytes()))
    }
}

/// Standard base64 (RFC 4648, with padding), all that Basic auth needs.
fn base64_encode(input: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let b0 = chunk.first().copied().unwrap_or(0);
        let b1 = chunk.get(1).copied().unwrap_or(0);
        let b2 = chunk.get(2).copied().unwrap_or(0);
        let triple = (u32::from(b0) << 16) | (u32::from(b1) << 8) | u32::from(b2);
        let sextets = [triple >> 18, triple >> 12, triple >> 6, triple];
        let significant = chunk.len() + 1;
        for (i, sextet) in sextets.iter().enumerate() {
            if i < significant {
                // Masked to 6 bits: always within the 64-entry alphabet.
                out.push(char::from(ALPHABET[(sextet & 0x3f) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// How a cancellation is sent: a real DELETE, or the POST form override
/// (`_method=DELETE`) that BuildAPI accepts from clients unable to send DELETE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelMethod {
    /// An HTTP `DELETE` of the resource.
    Delete,
    /// A form `POST` of `_method=DELETE` to the resource.
    PostOverride,
}

/// Optional parts of a "run this builder at this revision" request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TriggerOptions {
    /// Extra build properties; `branch` and `revision` are always set from the call.
    pub properties: BTreeMap<String, String>,
    /// Files a test job needs: `[packageUrl, testsUrl]`. Empty for builds.
    pub files: Vec<String>,
    /// The `priority` form field; not sent when `None`, leaving BuildAPI's default.
    pub priority: Option<i64>,
}

/// The Self-Serve BuildAPI at a configurable base URL, with optional credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelfServeApi {
    base: url::Url,
    authorization: Option<String>,
}

impl SelfServeApi {
    /// `base_url` is the `…/buildapi/self-serve` root.
    pub fn new(base_url: &str) -> Result<Self> {
        let base = parse_url(base_url.trim_end_matches('/'))
            .map_err(|e| Error::Config(format!("Self-Serve base URL `{base_url}`: {e}")))?;
        if base.cannot_be_a_base() {
            return Err(Error::Config(format!(
                "Self-Serve base URL `{base_url}` cannot have paths appended"
            )));
        }
        Ok(SelfServeApi {
            base,
            authorization: None,
        })
    }

    /// Send these credentials as HTTP Basic on every request.
    pub fn with_credentials(mut self, credentials: &BasicCredentials) -> Self {
        self.authorization = Some(credentials.authorization_header());
        self
    }

    /// URL of `segments` under the self-serve root, each segment percent-encoded.
    fn url(&self, segments: &[&str], json: bool) -> String {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        if json {
            url.set_query(Some("format=json"));
        }
        url.to_string()
    }

    /// GET `/{branch}/rev/{rev}?format=json`: the builds and pending requests of a revision.
    pub fn rev_url(&self, branch: &str, revision: &Revision) -> String {
        self.url(&[branch, "rev", &revision.0], true)
    }

    /// GET `/jobs/{job_id}`: the status of a self-serve job (the id a trigger answered).
    pub fn job_url(&self, job_id: u64) -> String {
        self.url(&["jobs", &job_id.to_string()], true)
    }

    /// GET `/branches?format=json`.
    pub fn branches_url(&self) -> String {
        self.url(&["branches"], true)
    }

    /// GET `…/buildapi/pending?format=json`: a sibling of the self-serve root.
    pub fn pending_url(&self) -> String {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty();
            if self
                .base
                .path()
                .trim_end_matches('/')
                .ends_with("/self-serve")
            {
                path.pop();
            }
            path.push("pending");
        }
        url.set_query(Some("format=json"));
        url.to_string()
    }

    fn get(&self, url: String) -> HttpRequest {
        self.authorize(HttpRequest::get(url).header("Accept", "application/json"))
    }

    fn authorize(&self, request: HttpRequest) -> HttpRequest {
        match &self.authorization {
            Some(value) => request.header("Authorization", value.clone()),
            None => request,
        }
    }

    fn post_form(&self, url: String, pairs: &[(&str, &str)]) -> HttpRequest {
        self.authorize(HttpRequest::post_form(url, pairs).header("Accept", "application/json"))
    }

    /// GET a revision's builds and pending requests.
    pub fn rev(&self, branch: &str, revision: &Revision) -> Result<HttpRequest> {
        check_branch(branch)?;
        check_revision_prefix(revision)?;
        Ok(self.get(self.rev_url(branch, revision)))
    }

    /// GET the status of a self-serve job.
    pub fn job(&self, job_id: u64) -> HttpRequest {
        self.get(self.job_url(job_id))
    }

    /// GET the branches BuildAPI knows.
    pub fn branches(&self) -> HttpRequest {
        self.get(self.branches_url())
    }

    /// GET the pending queue of every branch.
    pub fn pending(&self) -> HttpRequest {
        self.get(self.pending_url())
    }

    /// POST `/{branch}/builders/{buildername}/{revision}`: run a builder at a revision.
    pub fn trigger_builder(
        &self,
        branch: &str,
        buildername: &str,
        revision: &Revision,
        options: &TriggerOptions,
    ) -> Result<HttpRequest> {
        check_branch(branch)?;
        check_buildername(buildername)?;
        if !revision.is_full() {
            return Err(Error::Invalid(format!(
                "a trigger needs a full 40-hex revision, not `{revision}`"
            )));
        }
        let mut properties: BTreeMap<&str, &str> = BTreeMap::from_iter(
            options
                .properties
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str())),
        );
        properties.insert("branch", branch);
        properties.insert("revision", &revision.0);
        let properties_json = serde_json::to_string(&properties)
            .map_err(|e| Error::Invalid(format!("trigger properties: {e}")))?;
        let files_json = serde_json::to_string(&options.files)
            .map_err(|e| Error::Invalid(format!("trigger files: {e}")))?;
        let priority = options.priority.map(|p| p.to_string());
        let mut pairs = vec![("properties", properties_json.as_str())];
        if !options.files.is_empty() {
            pairs.push(("files", files_json.as_str()));
        }
        if let Some(p) = priority.as_deref() {
            pairs.push(("priority", p));
        }
        let url = self.url(&[branch, "builders", buildername, &revision.0], false);
        Ok(self.post_form(url, &pairs))
    }

    /// POST `/{branch}/request`: run a build request `count` more times.
    pub fn retrigger_request(
        &self,
        branch: &str,
        request_id: u64,
        count: u32,
        priority: Option<i64>,
    ) -> Result<HttpRequest> {
        self.repeat(branch, "request", "request_id", request_id, count, priority)
    }

    /// POST `/{branch}/build`: rebuild a finished build `count` times.
    pub fn rebuild_build(
        &self,
        branch: &str,
        build_id: u64,
        count: u32,
        priority: Option<i64>,
    ) -> Result<HttpRequest> {
        self.repeat(branch, "build", "build_id", build_id, count, priority)
    }

    fn repeat(
        &self,
        branch: &str,
        endpoint: &str,
        id_field: &str,
        id: u64,
        count: u32,
        priority: Option<i64>,
    ) -> Result<HttpRequest> {
        check_branch(branch)?;
        if count < 1 {
            return Err(Error::Invalid(format!(
                "count must be at least 1 to repeat {id_field} {id}"
            )));
        }
        let id = id.to_string();
        let count = count.to_string();
        let priority = priority.map(|p| p.to_string());
        let mut pairs = vec![(id_field, id.as_str()), ("count", count.as_str())];
        if let Some(p) = priority.as_deref() {
            pairs.push(("priority", p));
        }
        Ok(self.post_form(self.url(&[branch, endpoint], false), &pairs))
    }

    /// Cancel a pending build request: DELETE `/{branch}/request/{id}`.
    pub fn cancel_request(
        &self,
        branch: &str,
        request_id: u64,
        method: CancelMethod,
    ) -> Result<HttpRequest> {
        check_branch(branch)?;
        Ok(self.cancel(&[branch, "request", &request_id.to_string()], method))
    }

    /// Stop a running build: DELETE `/{branch}/build/{id}`.
    pub fn cancel_build(
        &self,
        branch: &str,
        build_id: u64,
        method: CancelMethod,
    ) -> Result<HttpRequest> {
        check_branch(branch)?;
        Ok(self.cancel(&[branch, "build", &build_id.to_string()], method))
    }

    /// Cancel every pending and running job of a revision: DELETE `/{branch}/rev/{rev}`.
    pub fn cancel_rev(
        &self,
        branch: &str,
        revision: &Revision,
        method: CancelMethod,
    ) -> Result<HttpRequest> {
        check_branch(branch)?;
        check_revision_prefix(revision)?;
        Ok(self.cancel(&[branch, "rev", &revision.0], method))
    }

    fn cancel(&self, segments: &[&str], method: CancelMethod) -> HttpRequest {
        let url = self.url(segments, false);
        match method {
            CancelMethod::Delete => self.authorize(HttpRequest {
                method: Method::Delete,
                url,
                headers: vec![("Accept".to_string(), "application/json".to_string())],
                body: None,
                timeout_ms: None,
                body_kind: crate::http::BodyKind::Api,
            }),
            CancelMethod::PostOverride => self.post_form(url, &[("_method", "DELETE")]),
        }
    }
}

fn check_branch(branch: &str) -> Result<()> {
    let ok = !branch.is_empty()
        && branch
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(Error::Invalid(format!("`{branch}` is not a branch name")))
    }
}

fn check_buildername(buildername: &str) -> Result<()> {
    if buildername.trim().is_empty() {
        Err(Error::Invalid("the buildername is empty".to_string()))
    } else {
        Ok(())
    }
}

/// `/rev/` and cancel-by-revision accept a 12-to-40-hex prefix.
fn check_revision_prefix(revision: &Revision) -> Result<()> {
    let r = &revision.0;
    if (12..=40).contains(&r.len()) && r.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(())
    } else {
        Err(Error::Invalid(format!(
            "`{r}` is not a revision (12 to 40 hex digits)"
        )))
    }
}

/// The 202 answer to a trigger, retrigger, rebuild or cancel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SelfServeAccepted {
    /// The self-serve job id (look it up with [`SelfServeApi::job`]), not a Buildbot request id.
    pub request_id: u64,
    /// BuildAPI's message (a non-string `msg` as its JSON text); empty when absent.
    pub msg: String,
}

#[derive(Deserialize)]
struct StatusBody {
    status: Option<String>,
    #[serde(default)]
    msg: Option<serde_json::Value>,
    request_id: Option<u64>,
}

/// Read the answer to a mutating call. A 202 `{"status":"OK",…}` gives the
/// self-serve job id. A `FAILED` body is BuildAPI's own refusal
/// ([`Error::Refused`], or the 4xx it came with): its job requests answer 202
/// when accepted and 503 `FAILED` when the request could not be queued, to be
/// submitted again later (buildapi/controllers/selfserve.py, the
/// `SelfserveController` docstring and `_format_mq_response`). Any other
/// answer (a 5xx without that body, a garbled 2xx) is an error the caller
/// must treat as "maybe done" (`Error::after_sending`).
pub fn parse_self_serve_response(response: &HttpResponse) -> Result<SelfServeAccepted> {
    let body = serde_json::from_slice::<StatusBody>(&response.body);
    let failed = |body: &StatusBody| -> Option<String> {
        (body.status.as_deref() == Some("FAILED")).then(|| match &body.msg {
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
            None => String::new(),
        })
    };
    if !response.is_success() {
        let typed = Error::from_status(&response.url, response.status, &response.body);
        return Err(match (&typed, body.as_ref().ok().and_then(failed)) {
            // 4xx keep their own meaning (log in, no access, not found, bad input).
            (Error::Status { status, .. }, Some(detail)) if *status >= 500 => Error::Refused {
                url: response.url.clone(),
                status: response.status,
                detail,
            },
            _ => typed,
        });
    }
    let body = body.map_err(|e| Error::json(SOURCE, &e))?;
    if let Some(detail) = failed(&body) {
        return Err(Error::Refused {
            url: response.url.clone(),
            status: response.status,
            detail,
        });
    }
    let msg = match body.msg {
        Some(serde_json::Value::String(s)) => s,
        Some(other) => other.to_string(),
        None => String::new(),
    };
    match body.status.as_deref() {
        Some("OK") => {
            let request_id = body.request_id.ok_or_else(|| {
                Error::parse_field(SOURCE, "request_id", "missing from an OK answer")
            })?;
            Ok(SelfServeAccepted { request_id, msg })
        }
        other => Err(Error::parse_field(
            SOURCE,
            "status",
            format!("expected OK or FAILED, got {other:?}"),
        )),
    }
}

/// Buildbot's `status` of a build as BuildAPI reports it. The key being
/// absent (a pending request) and being null (a build without result yet)
/// mean different things, so both are kept apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub enum BuildStatus {
    /// No `status` key: the request has not started.
    #[default]
    Absent,
    /// `status: null`: started, no result recorded.
    NoResult,
    /// A Buildbot result code (0 success … 6 cancelled).
    Result(i64),
}

impl<'de> Deserialize<'de> for BuildStatus {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        Ok(match Option::<i64>::deserialize(d)? {
            None => BuildStatus::NoResult,
            Some(code) => BuildStatus::Result(code),
        })
    }
}

/// One build request: the unit a trigger or retrigger creates.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct SelfServeRequest {
    /// Buildbot's build request id: what `/{branch}/request` retriggers and cancels.
    pub request_id: u64,
    /// The Buildbot builder the request runs on.
    pub buildername: String,
    /// The BuildAPI branch (`mozilla-inbound`, `try`, …).
    pub branch: String,
    /// The revision as BuildAPI stored it, often its 12-hex prefix.
    pub revision: String,
    /// When the request was submitted, Unix seconds.
    pub submittime: Option<i64>,
    /// Buildbot's `complete` flag (0/1).
    pub complete: Option<i64>,
    /// When the request completed, Unix seconds; null until then.
    pub complete_at: Option<i64>,
    /// The request's scheduling priority.
    pub priority: Option<i64>,
    /// When a build master claimed it, Unix seconds; 0 or null while unclaimed.
    pub claimed_at: Option<i64>,
    /// Why it was scheduled (`scheduler`, `Self-serve: Requested by …`).
    pub reason: Option<String>,
}

/// A build of a revision. `requests` holds every request it served: its own
/// and those merged into it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct SelfServeBuild {
    /// The build's id in BuildAPI's builds table: what `/{branch}/build` rebuilds.
    pub build_id: u64,
    /// Buildbot's per-builder build number.
    pub buildnumber: Option<u64>,
    /// The Buildbot builder that ran it.
    pub buildername: String,
    /// The BuildAPI branch (`mozilla-inbound`, `try`, …).
    pub branch: String,
    /// The revision as BuildAPI stored it, often its 12-hex prefix.
    pub revision: String,
    /// When the build started, Unix seconds.
    pub starttime: Option<i64>,
    /// When it ended, Unix seconds; null while running.
    pub endtime: Option<i64>,
    /// Its result, if any (see [`BuildStatus`]).
    pub status: BuildStatus,
    /// The build master that claimed it.
    pub claimed_by_name: Option<String>,
    /// The requests it served.
    pub requests: Vec<SelfServeRequest>,
}

/// One element of `/{branch}/rev/{rev}`: a build, or a request still pending.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum RevItem {
    /// A build (an item with a non-null `build_id`).
    Build(SelfServeBuild),
    /// A request no build has picked up yet.
    Pending(SelfServeRequest),
}

impl RevItem {
    /// The Buildbot builder of the build or request.
    pub fn buildername(&self) -> &str {
        match self {
            RevItem::Build(b) => &b.buildername,
            RevItem::Pending(r) => &r.buildername,
        }
    }

    /// The revision as BuildAPI stored it.
    pub fn revision(&self) -> &str {
        match self {
            RevItem::Build(b) => &b.revision,
            RevItem::Pending(r) => &r.revision,
        }
    }

    /// The build request ids this item stands for.
    pub fn request_ids(&self) -> Vec<u64> {
        match self {
            RevItem::Build(b) => b.requests.iter().map(|r| r.request_id).collect(),
            RevItem::Pending(r) => vec![r.request_id],
        }
    }
}

/// Parse `/{branch}/rev/{rev}?format=json`. Production lists builds
/// (`buildFromRow`: a `build_id` from the builds table, `status` the
/// request's results, null while running) followed by pending requests
/// (`requestFromRow`: request fields only, no `build_id` and no `status`);
/// see buildapi/model/builds.py, `getRevision`. So an item with a non-null
/// `build_id` is a build, and any other item naming a `request_id` is a
/// pending request, whether `build_id` is absent or null (as mozci 0.x read
/// it: no `status`, pending).
pub fn parse_self_serve_rev(body: &[u8]) -> Result<Vec<RevItem>> {
    let raw: Vec<serde_json::Map<String, serde_json::Value>> =
        serde_json::from_slice(body).map_err(|e| Error::json("Self-Serve /rev/", &e))?;
    raw.into_iter()
        .enumerate()
        .map(|(i, mut item)| {
            let has_build = item.get("build_id").is_some_and(|b| !b.is_null());
            let is_request = !has_build && item.contains_key("request_id");
            if !has_build && !is_request {
                return Err(Error::parse_field(
                    "Self-Serve /rev/",
                    format!("[{i}]"),
                    "neither a build (build_id) nor a pending request (request_id)",
                ));
            }
            let parsed = if has_build {
                serde_json::from_value(serde_json::Value::Object(item)).map(RevItem::Build)
            } else {
                // A pending request's `build_id: null` or `status` carry nothing.
                item.remove("build_id");
                item.remove("status");
                serde_json::from_value(serde_json::Value::Object(item)).map(RevItem::Pending)
            };
            parsed.map_err(|e| Error::parse_field("Self-Serve /rev/", format!("[{i}]"), e))
        })
        .collect()
}

/// The body BuildAPI reported for a finished self-serve job.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct SelfServeJobResultBody {
    /// Whether the job failed.
    pub errors: bool,
    /// BuildAPI's message about the outcome.
    pub msg: String,
}

/// A self-serve job's `complete_data`, set once the job is done.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct SelfServeJobCompletion {
    /// The outcome BuildAPI recorded.
    pub body: SelfServeJobResultBody,
    /// The Buildbot request id the job created, once done.
    pub request_id: Option<u64>,
}

/// `GET /jobs/{id}`: one self-serve job (a trigger, retrigger, cancel, …).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct SelfServeJob {
    /// The BuildAPI command that ran (`buildapi.cmd.new_build_for_builder`, …).
    pub action: String,
    /// Who asked (the LDAP account).
    pub who: String,
    /// When it was asked, Unix seconds.
    pub when: Option<i64>,
    /// When it was done, Unix seconds; null until then.
    pub completed_at: Option<i64>,
    /// The outcome; null until done.
    pub complete_data: Option<SelfServeJobCompletion>,
    /// What was asked, as BuildAPI records it (shape varies by action).
    pub what: serde_json::Value,
}

impl SelfServeJob {
    /// Done, and BuildAPI recorded no error.
    pub fn succeeded(&self) -> bool {
        self.completed_at.is_some() && self.complete_data.as_ref().is_some_and(|c| !c.body.errors)
    }
}

/// Parse `/jobs/{id}?format=json`; the body must be a JSON object.
pub fn parse_self_serve_job(body: &[u8]) -> Result<SelfServeJob> {
    const JOB_SOURCE: &str = "Self-Serve /jobs/";
    expect_json_object(body, JOB_SOURCE)?;
    serde_json::from_slice(body).map_err(|e| Error::json(JOB_SOURCE, &e))
}

/// serde's derived structs also accept JSON arrays (fields by position);
/// documents that must be objects are checked first.
pub(crate) fn expect_json_object(body: &[u8], source: &str) -> Result<()> {
    match body.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{') => Ok(()),
        _ => Err(Error::parse(source, "expected a JSON object")),
    }
}

/// One branch of `/branches`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct SelfServeBranch {
    /// The branch's repository URL (`https://hg.mozilla.org/projects/ash`).
    pub repo: String,
    /// Its names in Buildbot's scheduler graph (`Ash`).
    pub graph_branches: Vec<String>,
    /// The version control system (`hg`).
    pub repo_type: String,
}

/// Parse `/branches?format=json`: a map from branch name to [`SelfServeBranch`].
pub fn parse_self_serve_branches(body: &[u8]) -> Result<BTreeMap<String, SelfServeBranch>> {
    serde_json::from_slice(body).map_err(|e| Error::json("Self-Serve /branches", &e))
}

/// One request waiting in `/pending`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueuedRequest {
    /// The branch key it was listed under.
    pub branch: String,
    /// The revision key it was listed under (a 12-hex prefix in production).
    pub revision: String,
    /// Buildbot's build request id (the queue's `id`).
    pub request_id: u64,
    /// The Buildbot builder it waits for.
    pub buildername: String,
    /// When it was submitted, Unix seconds.
    pub submitted_at: Option<i64>,
}

#[derive(Deserialize)]
struct QueuedRaw {
    id: u64,
    #[serde(default)]
    buildername: String,
    #[serde(default)]
    submitted_at: Option<i64>,
}

#[derive(Deserialize)]
struct PendingRaw {
    pending: BTreeMap<String, BTreeMap<String, Vec<QueuedRaw>>>,
}

/// Parse `…/buildapi/pending?format=json` (`{"pending": {branch: {rev: [...]}}}`).
pub fn parse_buildapi_pending(body: &[u8]) -> Result<Vec<QueuedRequest>> {
    let raw: PendingRaw =
        serde_json::from_slice(body).map_err(|e| Error::json("BuildAPI /pending", &e))?;
    Ok(flatten_queue(raw.pending))
}

fn flatten_queue(
    by_branch: BTreeMap<String, BTreeMap<String, Vec<QueuedRaw>>>,
) -> Vec<QueuedRequest> {
    let mut out = Vec::new();
    for (branch, by_rev) in by_branch {
        for (revision, requests) in by_rev {
            out.extend(requests.into_iter().map(|r| QueuedRequest {
                branch: branch.clone(),
                revision: revision.clone(),
                request_id: r.id,
                buildername: r.buildername,
                submitted_at: r.submitted_at,
            }));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const REV: &str = "45f8637cb9f7599786e7bdf2d4ec9ec25e08d330";
    const FORM_CONTENT_TYPE: &str = "application/x-www-form-urlencoded";

    fn api() -> SelfServeApi {
        SelfServeApi::new("http://127.0.0.1:8300/buildapi/self-serve/")
            .unwrap()
            .with_credentials(&BasicCredentials::new("sheriff@mozilla.com", "s3cret:pw"))
    }

    fn body(r: &HttpRequest) -> String {
        String::from_utf8(r.body.clone().unwrap_or_default()).unwrap()
    }

    fn response(status: u16, body: &str) -> HttpResponse {
        HttpResponse {
            status,
            url: "http://h/x".into(),
            headers: vec![],
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn base64_matches_rfc4648_vectors() {
        let vectors = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ];
        for (plain, encoded) in vectors {
            assert_eq!(base64_encode(plain.as_bytes()), encoded, "{plain}");
        }
        assert_eq!(
            BasicCredentials::new("Aladdin", "open sesame").authorization_header(),
            "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
        );
        let shown = format!("{:?}", BasicCredentials::new("u", "hunter2"));
        assert!(!shown.contains("hunter2"), "{shown}");
    }

    #[test]
    fn trigger_builder_posts_properties_files_and_priority() {
        let mut options = TriggerOptions {
            files: vec![
                "https://ftp/firefox.tar.bz2".into(),
                "https://ftp/tests.zip".into(),
            ],
            priority: Some(2),
            ..Default::default()
        };
        options.properties.insert("who".into(), "me".into());
        let r = api()
            .trigger_builder(
                "try",
                "Linux try opt test mochitest-1",
                &Revision::from(REV),
                &options,
            )
            .unwrap();
        assert_eq!(r.method, Method::Post);
        assert_eq!(
            r.url,
            format!("http://127.0.0.1:8300/buildapi/self-serve/try/builders/Linux%20try%20opt%20test%20mochitest-1/{REV}")
        );
        assert_eq!(
            body(&r),
            format!(
                "properties=%7B%22branch%22%3A%22try%22%2C%22revision%22%3A%22{REV}%22%2C%22who%22%3A%22me%22%7D\
                 &files=%5B%22https%3A%2F%2Fftp%2Ffirefox.tar.bz2%22%2C%22https%3A%2F%2Fftp%2Ftests.zip%22%5D\
                 &priority=2"
            )
        );
        assert_eq!(r.header_value("content-type"), Some(FORM_CONTENT_TYPE));
        assert_eq!(
            r.header_value("authorization"),
            Some("Basic c2hlcmlmZkBtb3ppbGxhLmNvbTpzM2NyZXQ6cHc=")
        );
        assert_eq!(r.header_value("accept"), Some("application/json"));
    }

    #[test]
    fn trigger_builder_without_files_sends_only_properties() {
        let r = api()
            .trigger_builder(
                "mozilla-inbound",
                "WINNT 5.2 mozilla-inbound build",
                &Revision::from(REV),
                &TriggerOptions::default(),
            )
            .unwrap();
        assert_eq!(
            body(&r),
            format!("properties=%7B%22branch%22%3A%22mozilla-inbound%22%2C%22revision%22%3A%22{REV}%22%7D")
        );
    }

    #[test]
    fn trigger_caller_cannot_override_branch_or_revision() {
        let mut options = TriggerOptions::default();
        options.properties.insert("revision".into(), "0".repeat(40));
        let r = api()
            .trigger_builder("try", "b", &Revision::from(REV), &options)
            .unwrap();
        assert!(body(&r).contains(REV), "{}", body(&r));
    }

    #[test]
    fn trigger_inputs_are_validated() {
        let opts = TriggerOptions::default();
        let short = Revision::from("45f8637cb9f7");
        assert!(matches!(
            api().trigger_builder("try", "b", &short, &opts),
            Err(Error::Invalid(_))
        ));
        let not_hex = Revision::from(&*"g".repeat(40));
        assert!(matches!(
            api().trigger_builder("try", "b", &not_hex, &opts),
            Err(Error::Invalid(_))
        ));
        let rev = Revision::from(REV);
        assert!(matches!(
            api().trigger_builder("try", "  ", &rev, &opts),
            Err(Error::Invalid(_))
        ));
        assert!(matches!(
            api().trigger_builder("", "b", &rev, &opts),
            Err(Error::Invalid(_))
        ));
        assert!(matches!(
            api().trigger_builder("../x", "b", &rev, &opts),
            Err(Error::Invalid(_))
        ));
        assert!(matches!(
            api().retrigger_request("try", 5, 0, None),
            Err(Error::Invalid(_))
        ));
        assert!(matches!(
            api().rebuild_build("try", 5, 0, None),
            Err(Error::Invalid(_))
        ));
        assert!(matches!(
            api().rev("try", &Revision::from("abc")),
            Err(Error::Invalid(_))
        ));
    }

    #[test]
    fn retrigger_and_rebuild_forms() {
        let r = api()
            .retrigger_request("mozilla-inbound", 28006530, 3, None)
            .unwrap();
        assert_eq!(
            r.url,
            "http://127.0.0.1:8300/buildapi/self-serve/mozilla-inbound/request"
        );
        assert_eq!(body(&r), "request_id=28006530&count=3");
        let r = api().rebuild_build("try", 26553075, 1, Some(1)).unwrap();
        assert_eq!(r.url, "http://127.0.0.1:8300/buildapi/self-serve/try/build");
        assert_eq!(body(&r), "build_id=26553075&count=1&priority=1");
        assert_eq!(r.method, Method::Post);
    }

    #[test]
    fn cancels_as_delete_or_post_override() {
        let rev = Revision::from(REV);
        let r = api()
            .cancel_request("try", 7, CancelMethod::Delete)
            .unwrap();
        assert_eq!(
            (r.method, r.url.as_str(), r.body.is_none()),
            (
                Method::Delete,
                "http://127.0.0.1:8300/buildapi/self-serve/try/request/7",
                true
            )
        );
        assert!(r.header_value("authorization").is_some());
        let r = api()
            .cancel_build("try", 8, CancelMethod::PostOverride)
            .unwrap();
        assert_eq!(
            (r.method, r.url.as_str()),
            (
                Method::Post,
                "http://127.0.0.1:8300/buildapi/self-serve/try/build/8"
            )
        );
        assert_eq!(body(&r), "_method=DELETE");
        let r = api().cancel_rev("try", &rev, CancelMethod::Delete).unwrap();
        assert_eq!(
            r.url,
            format!("http://127.0.0.1:8300/buildapi/self-serve/try/rev/{REV}")
        );
    }

    #[test]
    fn read_urls() {
        let a = api();
        assert_eq!(
            a.rev("try", &Revision::from("45f8637cb9f7")).unwrap().url,
            "http://127.0.0.1:8300/buildapi/self-serve/try/rev/45f8637cb9f7?format=json"
        );
        assert_eq!(
            a.job(123).url,
            "http://127.0.0.1:8300/buildapi/self-serve/jobs/123?format=json"
        );
        assert_eq!(
            a.branches().url,
            "http://127.0.0.1:8300/buildapi/self-serve/branches?format=json"
        );
        assert_eq!(
            a.pending().url,
            "http://127.0.0.1:8300/buildapi/pending?format=json"
        );
        assert_eq!(a.pending().method, Method::Get);
        let prod = SelfServeApi::new(DEFAULT_SELF_SERVE_BASE).unwrap();
        assert_eq!(
            prod.branches_url(),
            "https://secure.pub.build.mozilla.org/buildapi/self-serve/branches?format=json"
        );
        assert_eq!(
            prod.pending_url(),
            "https://secure.pub.build.mozilla.org/buildapi/pending?format=json"
        );
        assert!(prod.branches().header_value("authorization").is_none());
        assert!(matches!(
            SelfServeApi::new("not a url"),
            Err(Error::Config(_))
        ));
        assert!(matches!(
            SelfServeApi::new("mailto:x@y"),
            Err(Error::Config(_))
        ));
    }

    #[test]
    fn accepted_and_failed_answers() {
        let ok = parse_self_serve_response(&response(
            202,
            r#"{"status":"OK","msg":"Rebuilt","request_id":1234}"#,
        ))
        .unwrap();
        assert_eq!(
            ok,
            SelfServeAccepted {
                request_id: 1234,
                msg: "Rebuilt".into()
            }
        );

        let e =
            parse_self_serve_response(&response(503, r#"{"status":"FAILED","msg":"Server busy"}"#))
                .unwrap_err();
        assert!(
            matches!(&e, Error::Refused { status: 503, detail, .. } if detail == "Server busy"),
            "{e:?}"
        );
        let e = parse_self_serve_response(&response(
            404,
            r#"{"msg":"Revision X not found on branch Y","status":"FAILED"}"#,
        ))
        .unwrap_err();
        assert!(
            matches!(&e, Error::NotFound { detail, .. } if detail == "Revision X not found on branch Y"),
            "{e:?}"
        );
        let e = parse_self_serve_response(&response(
            400,
            r#"{"status":"FAILED","msg":"Bad request_id"}"#,
        ))
        .unwrap_err();
        assert!(
            matches!(&e, Error::Status { status: 400, detail, .. } if detail == "Bad request_id"),
            "{e:?}"
        );
        let e = parse_self_serve_response(&response(200, r#"{"status":"FAILED","msg":"nope"}"#))
            .unwrap_err();
        assert!(
            matches!(&e, Error::Refused { status: 200, detail, .. } if detail == "nope"),
            "{e:?}"
        );
        assert!(matches!(
            parse_self_serve_response(&response(401, "")),
            Err(Error::Unauthorized { .. })
        ));
        assert!(matches!(
            parse_self_serve_response(&response(403, "ACCESS DENIED!")),
            Err(Error::Forbidden { .. })
        ));
        assert!(matches!(
            parse_self_serve_response(&response(202, r#"{"status":"OK"}"#)),
            Err(Error::Parse { .. })
        ));
        assert!(matches!(
            parse_self_serve_response(&response(202, "<html>")),
            Err(Error::Parse { .. })
        ));
        // A proxy's 503 page is not BuildAPI's refusal: the request may have been queued.
        let e = parse_self_serve_response(&response(503, "<html>Service Unavailable</html>"))
            .unwrap_err();
        assert!(e.clone().after_sending().is_uncertain(), "{e:?}");
        let e = parse_self_serve_response(&response(503, r#"{"status":"FAILED","msg":"x"}"#))
            .unwrap_err();
        assert!(!e.after_sending().is_uncertain());
        assert!(matches!(
            parse_self_serve_response(&response(202, r#"{"status":"MAYBE"}"#)),
            Err(Error::Parse { .. })
        ));
    }

    const REV_BODY: &str = r#"[
      {"build_id": 26553425, "buildnumber": 12, "buildername": "Rev4 MacOSX Lion 10.7 mozilla-inbound debug test mochitest-browser-chrome",
       "branch": "mozilla-inbound", "revision": "45f8637cb9f7", "starttime": 1376420000, "endtime": 1376425000,
       "status": 0, "claimed_by_name": "bm-1",
       "requests": [
         {"request_id": 28005220, "buildername": "Rev4 MacOSX Lion 10.7 mozilla-inbound debug test mochitest-browser-chrome",
          "branch": "mozilla-inbound", "revision": "45f8637cb9f7", "submittime": 1376416000, "complete": 1,
          "complete_at": 1376425000, "priority": 0, "claimed_at": 1376420000, "reason": "scheduler"},
         {"request_id": 28006065, "buildername": "Rev4 MacOSX Lion 10.7 mozilla-inbound debug test mochitest-browser-chrome",
          "branch": "mozilla-inbound", "revision": "aaaaaaaaaaaa", "submittime": 1376416500, "complete": 1,
          "complete_at": 1376425000, "priority": 0, "claimed_at": 1376420000, "reason": "scheduler"}]},
      {"build_id": 26553999, "buildername": "Linux mozilla-inbound build", "branch": "mozilla-inbound",
       "revision": "45f8637cb9f7", "starttime": 1376420000, "endtime": null, "status": null, "requests": []},
      {"request_id": 28009999, "buildername": "WINNT 5.2 mozilla-inbound build", "branch": "mozilla-inbound",
       "revision": "45f8637cb9f7", "submittime": 1376426000, "priority": 0, "reason": "Self-serve: Requested by a@b"}
    ]"#;

    #[test]
    fn rev_items_are_builds_or_pending_requests() {
        let items = parse_self_serve_rev(REV_BODY.as_bytes()).unwrap();
        assert_eq!(items.len(), 3);
        let RevItem::Build(merged) = &items[0] else {
            panic!("first is a build: {:?}", items[0])
        };
        assert_eq!(merged.status, BuildStatus::Result(0));
        assert_eq!(items[0].request_ids(), vec![28005220, 28006065]);
        assert_eq!(merged.requests[1].revision, "aaaaaaaaaaaa");
        assert_eq!(merged.requests[0].complete_at, Some(1376425000));
        let RevItem::Build(running) = &items[1] else {
            panic!("second is a build")
        };
        assert_eq!(
            (running.status, running.endtime),
            (BuildStatus::NoResult, None)
        );
        let RevItem::Pending(pending) = &items[2] else {
            panic!("third is pending")
        };
        assert_eq!(pending.request_id, 28009999);
        assert_eq!(items[2].buildername(), "WINNT 5.2 mozilla-inbound build");
        assert_eq!(items[2].revision(), "45f8637cb9f7");
    }

    #[test]
    fn pending_requests_read_in_every_form_production_sends() {
        // requestFromRow's fields (buildapi/model/builds.py): unclaimed and
        // incomplete, so claimed_at 0, complete 0, complete_at null.
        let production = r#"[{"request_id": 7, "buildername": "Linux mozilla-inbound build",
            "branch": "mozilla-inbound", "revision": "45f8637cb9f7", "submittime": 1376426000,
            "complete": 0, "complete_at": null, "priority": 0, "claimed_at": 0, "reason": "Self-serve: Requested by a@b"}]"#;
        let with_null_build = r#"[{"request_id": 7, "build_id": null, "buildername": "Linux mozilla-inbound build",
            "branch": "mozilla-inbound", "revision": "45f8637cb9f7", "submittime": 1376426000,
            "complete": 0, "complete_at": null, "priority": 0, "claimed_at": null, "reason": null}]"#;
        for body in [production, with_null_build] {
            let items = parse_self_serve_rev(body.as_bytes()).unwrap();
            let [RevItem::Pending(r)] = items.as_slice() else {
                panic!("one pending request: {items:?}")
            };
            assert_eq!((r.request_id, r.complete), (7, Some(0)));
            assert_eq!(items[0].request_ids(), vec![7]);
        }
    }

    #[test]
    fn malformed_rev_bodies_are_errors() {
        for bad in [
            "",
            "{}",
            "[1]",
            r#"[{"build_id": "x", "status": 0}]"#,
            r#"[{"status": "done"}]"#,
            r#"[{"status": 0}]"#,
            r#"[{"build_id": null, "status": null}]"#,
            "[{",
        ] {
            assert!(
                matches!(
                    parse_self_serve_rev(bad.as_bytes()),
                    Err(Error::Parse { .. })
                ),
                "{bad}"
            );
        }
        assert_eq!(parse_self_serve_rev(b"[]").unwrap(), vec![]);
    }

    #[test]
    fn job_status_body() {
        let job = parse_self_serve_job(br#"{"action": "buildapi.cmd.new_build_for_builder", "who": "a@b", "when": 1440000000,
            "completed_at": 1440000005, "complete_data": {"body": {"errors": false, "msg": "Ok"}, "request_id": 77},
            "what": {"builder_name": "Linux try build", "revision": "abc"}}"#).unwrap();
        assert!(job.succeeded());
        assert_eq!(
            job.complete_data.as_ref().and_then(|c| c.request_id),
            Some(77)
        );
        assert_eq!(job.what["builder_name"], "Linux try build");
        let not_done = parse_self_serve_job(br#"{"action": "x", "who": "a", "when": 1, "completed_at": null, "complete_data": null, "what": null}"#).unwrap();
        assert!(!not_done.succeeded());
        assert!(parse_self_serve_job(b"[]").is_err());
    }

    #[test]
    fn branches_and_pending() {
        let branches = parse_self_serve_branches(br#"{"ash": {"repo": "https://hg.mozilla.org/projects/ash", "graph_branches": ["Ash"], "repo_type": "hg"}}"#).unwrap();
        assert_eq!(branches["ash"].repo, "https://hg.mozilla.org/projects/ash");
        assert_eq!(branches["ash"].graph_branches, vec!["Ash".to_string()]);
        let pending = parse_buildapi_pending(br#"{"pending": {"try": {"45f8637cb9f7": [{"submitted_at": 1369304814, "id": 24575179, "buildername": "WINNT 6.2 try debug test mochitest-4"}]}}}"#).unwrap();
        assert_eq!(
            pending,
            vec![QueuedRequest {
                branch: "try".into(),
                revision: "45f8637cb9f7".into(),
                request_id: 24575179,
                buildername: "WINNT 6.2 try debug test mochitest-4".into(),
                submitted_at: Some(1369304814)
            }]
        );
        assert!(parse_buildapi_pending(b"{\"pending\": []}").is_err());
        assert!(parse_self_serve_branches(b"[]").is_err());
    }
}
