//! Treeherder REST API URLs: one builder per endpoint we read.
//!
//! [`TreeherderApi`] holds the configurable server root; [`TreeherderProject`]
//! adds a validated repository name for the `/api/project/{repo}/…` endpoints.

#![warn(missing_docs)]

use crate::error::{Error, Result};
use crate::url_text::{join_url, parse_url};

/// Production Treeherder.
pub const PRODUCTION_ROOT: &str = "https://treeherder.mozilla.org";

/// The server's maximum `count` for push lists.
pub const MAX_PUSH_COUNT: u32 = 1000;

/// The server's maximum page size for job lists.
pub const MAX_JOBS_COUNT: u32 = 2000;

/// A Treeherder server (production, staging, a local dev server or the sandbox).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeherderApi {
    root: url::Url,
}

/// Filters of `/api/project/{repo}/push/` (and the 2015 `/resultset/`).
/// `fromchange` is exclusive and `tochange` inclusive, as in the pushlog.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PushFilter {
    /// `revision`: the push of this revision.
    pub revision: Option<String>,
    /// `fromchange`: pushes after the one with this tip revision.
    pub fromchange: Option<String>,
    /// `tochange`: pushes up to and including the one with this tip revision.
    pub tochange: Option<String>,
    /// `id`: the push with this Treeherder push id.
    pub id: Option<u64>,
    /// `id__lt`: push ids below this.
    pub id_lt: Option<u64>,
    /// `id__lte`: push ids up to this.
    pub id_lte: Option<u64>,
    /// `id__gt`: push ids above this.
    pub id_gt: Option<u64>,
    /// `id__gte`: push ids from this.
    pub id_gte: Option<u64>,
    /// `id__in`: these push ids (not sent when empty).
    pub id_in: Vec<u64>,
    /// `author`: pushes by this email address.
    pub author: Option<String>,
    /// `full=true`, as Treeherder's own UI asks.
    pub full: bool,
    /// Page size; the server defaults to 10 and caps at [`MAX_PUSH_COUNT`]
    /// (larger values are sent as the cap, 0 as 1).
    pub count: Option<u32>,
}

/// Filters of the list-form `/api/jobs/`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct JobsListFilter {
    /// `push_id`: the jobs of one push.
    pub push_id: Option<u64>,
    /// `push_id__in`: the jobs of these pushes (not sent when empty).
    pub push_id_in: Vec<u64>,
    /// `task_id`: the job of a Taskcluster task.
    pub task_id: Option<String>,
    /// `retry_id`: with `task_id`, the job of one run.
    pub retry_id: Option<u32>,
    /// `job_type_name`: the jobs of one job type (Taskcluster label).
    pub job_type_name: Option<String>,
    /// `result`: Treeherder's result word (`success`, `testfailed`, …).
    pub result: Option<String>,
    /// `state`: `pending`, `running` or `completed`.
    pub state: Option<String>,
    /// ISO 8601 time, e.g. `2019-08-05T20:19:51`.
    pub last_modified_gt: Option<String>,
    /// Page size, capped at [`MAX_JOBS_COUNT`].
    pub count: Option<u32>,
    /// 1-based page number.
    pub page: Option<u32>,
}

/// One repository's `/api/project/{repo}/…` endpoints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeherderProject {
    api: TreeherderApi,
    repo: String,
}

impl TreeherderApi {
    /// `root` is the server origin, optionally with a path prefix
    /// (`https://treeherder.mozilla.org`, `http://127.0.0.1:8100`).
    pub fn new(root: &str) -> Result<Self> {
        let mut parsed = parse_url(root)
            .map_err(|e| Error::Invalid(format!("Treeherder root URL `{root}`: {e}")))?;
        if parsed.cannot_be_a_base() || !matches!(parsed.scheme(), "http" | "https") {
            return Err(Error::Invalid(format!(
                "Treeherder root URL `{root}` must be an http(s) URL"
            )));
        }
        parsed.set_query(None);
        parsed.set_fragment(None);
        Ok(TreeherderApi { root: parsed })
    }

    /// The `/api/project/{repo}/…` endpoints of one repository. Repository
    /// names are short identifiers (`autoland`, `mozilla-central`, `try`).
    pub fn project(&self, repo: &str) -> Result<TreeherderProject> {
        let valid = !repo.is_empty()
            && repo.len() <= 64
            && repo != "."
            && repo != ".."
            && repo
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
        if !valid {
            return Err(Error::Invalid(format!(
                "`{repo}` is not a Treeherder repository name"
            )));
        }
        Ok(TreeherderProject {
            api: self.clone(),
            repo: repo.to_string(),
        })
    }

    /// `GET /api/repository/`.
    pub fn repositories_url(&self) -> String {
        self.api_url(&["repository"], &[])
    }

    /// `GET /api/jobs/?…` (list form, paginated with `next`).
    pub fn jobs_list_url(&self, filter: &JobsListFilter) -> String {
        let mut query = Vec::new();
        if let Some(id) = filter.push_id {
            query.push(("push_id", id.to_string()));
        }
        if !filter.push_id_in.is_empty() {
            query.push(("push_id__in", join_ids(&filter.push_id_in)));
        }
        if let Some(task) = &filter.task_id {
            query.push(("task_id", task.clone()));
        }
        if let Some(retry) = filter.retry_id {
            query.push(("retry_id", retry.to_string()));
        }
        if let Some(name) = &filter.job_type_name {
            query.push(("job_type_name", name.clone()));
        }
        if let Some(result) = &filter.result {
            query.push(("result", result.clone()));
        }
        if let Some(state) = &filter.state {
            query.push(("state", state.clone()));
        }
        if let Some(time) = &filter.last_modified_gt {
            query.push(("last_modified__gt", time.clone()));
        }
        if let Some(count) = filter.count {
            query.push(("count", count.clamp(1, MAX_JOBS_COUNT).to_string()));
        }
        if let Some(page) = filter.page {
            query.push(("page", page.to_string()));
        }
        self.api_url(&["jobs"], &query)
    }

    /// Where a list page's `next` link points. Absolute http(s) links are
    /// used as given; relative ones are resolved against `{root}/api`, since
    /// recorded pages give them relative to the API (`/jobs/?push_id=…&page=2`).
    pub fn resolve_next_url(&self, next: &str) -> Result<String> {
        if let Ok(absolute) = parse_url(next) {
            return if matches!(absolute.scheme(), "http" | "https") {
                Ok(absolute.to_string())
            } else {
                Err(Error::Invalid(format!(
                    "`next` link `{next}` is not http(s)"
                )))
            };
        }
        let Some(relative) = next.strip_prefix('/') else {
            return Err(Error::Invalid(format!(
                "`next` link `{next}` is neither absolute nor rooted"
            )));
        };
        let relative = relative.strip_prefix("api/").unwrap_or(relative);
        let base = self.api_url(&[], &[]);
        parse_url(&base)
            .and_then(|b| join_url(&b, relative))
            .map(|u| u.to_string())
            .map_err(|e| Error::Invalid(format!("`next` link `{next}`: {e}")))
    }

    /// `{root}/api/{segments…}/?{query}`, each segment percent-encoded, with
    /// the trailing slash Treeherder's routes expect.
    fn api_url(&self, segments: &[&str], query: &[(&str, String)]) -> String {
        let mut url = self.root.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty()
                .push("api")
                .extend(segments.iter().copied())
                .push("");
        }
        if !query.is_empty() {
            url.query_pairs_mut()
                .extend_pairs(query.iter().map(|(k, v)| (*k, v.as_str())));
        }
        url.to_string()
    }
}

impl TreeherderProject {
    /// The repository name (`autoland`, `try`).
    pub fn repo(&self) -> &str {
        &self.repo
    }

    /// `GET /api/project/{repo}/push/?…`.
    pub fn push_list_url(&self, filter: &PushFilter) -> String {
        self.project_url(&["push"], &push_query(filter))
    }

    /// The 2015 name of the push list: `GET /api/project/{repo}/resultset/?…`.
    pub fn resultset_list_url(&self, filter: &PushFilter) -> String {
        self.project_url(&["resultset"], &push_query(filter))
    }

    /// `GET /api/project/{repo}/push/decisiontask/?push_ids=1,2`.
    pub fn decision_tasks_url(&self, push_ids: &[u64]) -> String {
        self.project_url(
            &["push", "decisiontask"],
            &[("push_ids", join_ids(push_ids))],
        )
    }

    /// Dict form: `GET /api/project/{repo}/jobs/?push_id=&offset=&count=`.
    pub fn project_jobs_url(&self, push_id: u64, offset: u64, count: u32) -> String {
        self.project_url(
            &["jobs"],
            &[
                ("push_id", push_id.to_string()),
                ("offset", offset.to_string()),
                ("count", count.clamp(1, MAX_JOBS_COUNT).to_string()),
            ],
        )
    }

    /// `GET /api/project/{repo}/jobs/{id}/`.
    pub fn job_detail_url(&self, job_id: u64) -> String {
        self.project_url(&["jobs", &job_id.to_string()], &[])
    }

    /// `GET /api/project/{repo}/job-log-url/?job_id=N`.
    pub fn job_log_listing_url(&self, job_id: u64) -> String {
        self.project_url(&["job-log-url"], &[("job_id", job_id.to_string())])
    }

    /// `GET /api/project/{repo}/jobs/{id}/text_log_errors/`.
    pub fn text_log_errors_url(&self, job_id: u64) -> String {
        self.project_url(&["jobs", &job_id.to_string(), "text_log_errors"], &[])
    }

    /// `GET /api/project/{repo}/jobs/{id}/bug_suggestions/`.
    pub fn bug_suggestions_url(&self, job_id: u64) -> String {
        self.project_url(&["jobs", &job_id.to_string(), "bug_suggestions"], &[])
    }

    /// `GET /api/project/{repo}/artifact/?name=…&type=json&job_id__in=…`
    /// (2015: `name=buildapi` gives the jobs' Buildbot request ids).
    pub fn artifacts_url(&self, name: &str, job_ids: &[u64]) -> String {
        self.project_url(
            &["artifact"],
            &[
                ("name", name.to_string()),
                ("type", "json".to_string()),
                ("job_id__in", join_ids(job_ids)),
            ],
        )
    }

    fn project_url(&self, segments: &[&str], query: &[(&str, String)]) -> String {
        let mut all = Vec::with_capacity(segments.len() + 2);
        all.extend(["project", self.repo.as_str()]);
        all.extend_from_slice(segments);
        self.api.api_url(&all, query)
    }
}

fn push_query(filter: &PushFilter) -> Vec<(&'static str, String)> {
    let mut query = Vec::new();
    let texts = [
        ("revision", &filter.revision),
        ("fromchange", &filter.fromchange),
        ("tochange", &filter.tochange),
    ];
    for (key, value) in texts {
        if let Some(value) = value {
            query.push((key, value.clone()));
        }
    }
    let ids = [
        ("id", filter.id),
        ("id__lt", filter.id_lt),
        ("id__lte", filter.id_lte),
        ("id__gt", filter.id_gt),
        ("id__gte", filter.id_gte),
    ];
    for (key, value) in ids {
        if let Some(value) = value {
            query.push((key, value.to_string()));
        }
    }
    if !filter.id_in.is_empty() {
        query.push(("id__in", join_ids(&filter.id_in)));
    }
    if let Some(author) = &filter.author {
        query.push(("author", author.clone()));
    }
    if filter.full {
        query.push(("full", "true".to_string()));
    }
    if let Some(count) = filter.count {
        query.push(("count", count.clamp(1, MAX_PUSH_COUNT).to_string()));
    }
    query
}

fn join_ids(ids: &[u64]) -> String {
    ids.iter().map(u64::to_string).collect::<Vec<_>>().join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prod() -> TreeherderApi {
        TreeherderApi::new(PRODUCTION_ROOT).unwrap()
    }

    #[test]
    fn repositories_and_project_endpoints() {
        let th = prod();
        assert_eq!(
            th.repositories_url(),
            "https://treeherder.mozilla.org/api/repository/"
        );
        let try_repo = th.project("try").unwrap();
        assert_eq!(try_repo.repo(), "try");
        assert_eq!(
            try_repo.job_detail_url(303550431),
            "https://treeherder.mozilla.org/api/project/try/jobs/303550431/"
        );
        assert_eq!(
            try_repo.job_log_listing_url(303550427),
            "https://treeherder.mozilla.org/api/project/try/job-log-url/?job_id=303550427"
        );
        assert_eq!(
            try_repo.text_log_errors_url(7),
            "https://treeherder.mozilla.org/api/project/try/jobs/7/text_log_errors/"
        );
        assert_eq!(
            try_repo.bug_suggestions_url(7),
            "https://treeherder.mozilla.org/api/project/try/jobs/7/bug_suggestions/"
        );
        assert_eq!(
            try_repo.project_jobs_url(511138, 2000, 5000),
            "https://treeherder.mozilla.org/api/project/try/jobs/?push_id=511138&offset=2000&count=2000"
        );
        assert_eq!(
            try_repo.artifacts_url("buildapi", &[2123473, 2123474]),
            "https://treeherder.mozilla.org/api/project/try/artifact/?name=buildapi&type=json&job_id__in=2123473%2C2123474"
        );
        // Lists of ids are comma-joined; the comma is percent-encoded in a query value.
        assert_eq!(
            try_repo.decision_tasks_url(&[1, 2]),
            "https://treeherder.mozilla.org/api/project/try/push/decisiontask/?push_ids=1%2C2"
        );
    }

    #[test]
    fn push_filters_in_a_fixed_order_with_encoding() {
        let autoland = prod().project("autoland").unwrap();
        let filter = PushFilter {
            fromchange: Some("abc".into()),
            tochange: Some("def".into()),
            id_gte: Some(5),
            id_lt: Some(9),
            id_in: vec![5, 6],
            author: Some("a+b@example.com".into()),
            full: true,
            count: Some(5000),
            ..PushFilter::default()
        };
        assert_eq!(
            autoland.push_list_url(&filter),
            "https://treeherder.mozilla.org/api/project/autoland/push/?fromchange=abc&tochange=def&id__lt=9&id__gte=5&id__in=5%2C6&author=a%2Bb%40example.com&full=true&count=1000"
        );
        let by_revision = PushFilter {
            revision: Some("acf46fe8b054".into()),
            id: Some(1),
            id_lte: Some(2),
            id_gt: Some(0),
            count: Some(0),
            ..PushFilter::default()
        };
        assert_eq!(
            prod()
                .project("mozilla-inbound")
                .unwrap()
                .resultset_list_url(&by_revision),
            "https://treeherder.mozilla.org/api/project/mozilla-inbound/resultset/?revision=acf46fe8b054&id=1&id__lte=2&id__gt=0&count=1"
        );
        assert_eq!(
            autoland.push_list_url(&PushFilter::default()),
            "https://treeherder.mozilla.org/api/project/autoland/push/"
        );
    }

    #[test]
    fn jobs_list_filters() {
        let th = TreeherderApi::new("http://127.0.0.1:8100/th/?ignored=1#frag").unwrap();
        let filter = JobsListFilter {
            push_id: Some(526443),
            push_id_in: vec![1, 2],
            task_id: Some("VaQoWKTbSdGSwBJn6UZV9g".into()),
            retry_id: Some(0),
            job_type_name: Some("test-linux64/opt-mochitest 1".into()),
            result: Some("testfailed".into()),
            state: Some("completed".into()),
            last_modified_gt: Some("2019-08-05T20:19:51".into()),
            count: Some(3000),
            page: Some(2),
        };
        assert_eq!(
            th.jobs_list_url(&filter),
            "http://127.0.0.1:8100/th/api/jobs/?push_id=526443&push_id__in=1%2C2&task_id=VaQoWKTbSdGSwBJn6UZV9g&retry_id=0&job_type_name=test-linux64%2Fopt-mochitest+1&result=testfailed&state=completed&last_modified__gt=2019-08-05T20%3A19%3A51&count=2000&page=2"
        );
    }

    #[test]
    fn next_links_resolve_against_the_api_root() {
        let th = TreeherderApi::new("http://127.0.0.1:8100").unwrap();
        assert_eq!(
            th.resolve_next_url("/jobs/?push_id=526443&page=2").unwrap(),
            "http://127.0.0.1:8100/api/jobs/?push_id=526443&page=2"
        );
        assert_eq!(
            th.resolve_next_url("/api/jobs/?page=3").unwrap(),
            "http://127.0.0.1:8100/api/jobs/?page=3"
        );
        assert_eq!(
            th.resolve_next_url("https://treeherder.mozilla.org/api/jobs/?page=2&push_id=1")
                .unwrap(),
            "https://treeherder.mozilla.org/api/jobs/?page=2&push_id=1"
        );
        assert!(th.resolve_next_url("javascript:alert(1)").is_err());
        assert!(th.resolve_next_url("jobs/?page=2").is_err());
    }

    #[test]
    fn bad_roots_and_repository_names_are_refused() {
        assert!(TreeherderApi::new("treeherder.mozilla.org").is_err());
        assert!(TreeherderApi::new("file:///tmp").is_err());
        for bad in ["", "..", "a/b", "a b", "<script>", &"x".repeat(65)] {
            assert!(prod().project(bad).is_err(), "{bad:?} accepted");
        }
        assert!(prod().project("comm-central.v2_x").is_ok());
    }
}
