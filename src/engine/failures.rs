//! "Which tests failed in this job": from a repository and a Treeherder job
//! id, the job's log URLs, then every available source fetched in one
//! concurrent round, then the best source read by `sources::test_failures`.

#![warn(missing_docs)]

use crate::ci::CiContext;
use crate::error::{Error, Result};
use crate::http::{send_checked, BodyKind, HttpRequest, RetryPolicy};
use crate::sources::test_failures::{job_failures, ErrorLine, FetchedLogs, JobFailures};
use crate::sources::treeherder::{
    parse_job_log_urls, parse_text_log_errors, JobLogUrl, TreeherderApi, ERRORSUMMARY_LOG_NAMES,
    RAW_LOG_NAMES, TEXT_LOG_NAMES,
};
use futures::stream::{self, StreamExt};
use serde::{Deserialize, Serialize};

/// The failures of one job and where they came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobFailureReport {
    /// The repository's short name.
    pub repo: String,
    /// Treeherder's job id.
    pub job_id: u64,
    /// The logs the job has (`job-log-url`).
    pub logs: Vec<LogRef>,
    /// What the best log read says failed.
    pub failures: JobFailures,
    /// The tests that failed unexpectedly or crashed, each once, in log order.
    pub failed_tests: Vec<String>,
    /// Sources that could not be fetched, with why; not fatal as long as
    /// another one could be read.
    pub unavailable: Vec<String>,
    /// Each failure with its kind and line, as the popup shows them.
    #[serde(default)]
    pub rows: Vec<FailureRow>,
}

/// One failure of a job, as the add-on's panel and popup show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailureRow {
    /// `test_failure`, `crash`, `infrastructure`, … (for styling).
    pub kind: String,
    /// `line N kind [test @ signature]: text`.
    pub text: String,
}

/// At most this many failure rows in a plan; the rest are counted.
const MAX_FAILURE_ROWS: usize = 12;

/// The panel's rows for a job's failures: each line with its kind, then
/// how many more there are.
pub fn failure_rows(failures: &JobFailures) -> Vec<FailureRow> {
    let lines = failures.shown_lines();
    let mut rows: Vec<FailureRow> = lines
        .iter()
        .take(MAX_FAILURE_ROWS)
        .map(|line| FailureRow {
            kind: line.kind.map_or("unknown", |k| k.as_str()).to_string(),
            text: line.describe(),
        })
        .collect();
    let more = lines.len().saturating_sub(MAX_FAILURE_ROWS) as u64 + failures.failures_not_stored;
    if more > 0 {
        rows.push(FailureRow {
            kind: "more".to_string(),
            text: format!("… and {more} more"),
        });
    }
    rows
}

/// One log named by `job-log-url`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogRef {
    /// Its name (`live_backing_log`, `errorsummary_json`, …).
    pub name: String,
    /// Where it is.
    pub url: String,
}

fn log_url<'a>(logs: &'a [JobLogUrl], names: &[&str]) -> Option<&'a str> {
    names
        .iter()
        .find_map(|name| logs.iter().find(|log| log.name == *name))
        .map(|log| log.url.as_str())
}

async fn fetch(ctx: &CiContext, url: &str) -> Result<Vec<u8>> {
    Ok(send_checked(
        ctx.http.as_ref(),
        HttpRequest::get(url).body_kind(BodyKind::Log),
        RetryPolicy::default(),
    )
    .await?
    .body)
}

/// Fetch `url` when there is one; a failure is kept as a note, not raised.
async fn fetch_optional(
    ctx: &CiContext,
    what: &str,
    url: Option<&str>,
) -> (Option<Vec<u8>>, Option<String>) {
    match url {
        None => (None, None),
        Some(url) => match fetch(ctx, url).await {
            Ok(body) => (Some(body), None),
            Err(e) => (None, Some(format!("{what}: {e}"))),
        },
    }
}

/// What the logs of failed runs say: each run given as (Treeherder job id,
/// busted) read with [`failures_of_job`], at most `ctx.concurrency` at
/// once. Returns the runs read, each with its report, and why the others
/// could not be read (`job <id>: …`); those stay unknown to the caller.
pub async fn failures_of_runs(
    ctx: &CiContext,
    repo: &str,
    runs: Vec<(u64, bool)>,
) -> (Vec<(u64, bool, JobFailureReport)>, Vec<String>) {
    let reports: Vec<_> = stream::iter(
        runs.into_iter()
            .map(|(id, busted)| async move { (id, busted, failures_of_job(ctx, repo, id).await) }),
    )
    .buffer_unordered(ctx.concurrency.max(1))
    .collect()
    .await;
    let mut read = Vec::new();
    let mut problems = Vec::new();
    for (id, busted, report) in reports {
        match report {
            Ok(report) => read.push((id, busted, report)),
            Err(e) => problems.push(format!("job {id}: {e}")),
        }
    }
    (read, problems)
}

/// The tests that failed in Treeherder job `job_id` of `repo`: one request
/// for the log URLs, then the raw structured log, the error summary,
/// `text_log_errors` and the task log concurrently; the best readable one
/// wins (see [`job_failures`]). Fails only when no source can be read.
pub async fn failures_of_job(ctx: &CiContext, repo: &str, job_id: u64) -> Result<JobFailureReport> {
    let project = TreeherderApi::new(&ctx.endpoints.treeherder)?.project(repo)?;
    let listing = fetch(ctx, &project.job_log_listing_url(job_id)).await?;
    let logs = parse_job_log_urls(&listing)?;
    let text_log_errors_url = project.text_log_errors_url(job_id);
    // Every source at once: which one is readable is only known after the
    // fetch (an error summary can be an HTML error page), and a second round
    // trip costs more than a log read for nothing.
    let (raw, summary, errors, text) = futures::join!(
        fetch_optional(ctx, "raw structured log", log_url(&logs, RAW_LOG_NAMES)),
        fetch_optional(ctx, "error summary", log_url(&logs, ERRORSUMMARY_LOG_NAMES)),
        fetch_optional(ctx, "text_log_errors", Some(&text_log_errors_url)),
        fetch_optional(ctx, "task log", log_url(&logs, TEXT_LOG_NAMES)),
    );
    let mut unavailable: Vec<String> = [&raw.1, &summary.1, &errors.1, &text.1]
        .into_iter()
        .flatten()
        .cloned()
        .collect();
    let error_lines: Option<Vec<ErrorLine>> = match errors.0.as_deref().map(parse_text_log_errors) {
        Some(Ok(lines)) => Some(
            lines
                .into_iter()
                .map(|e| ErrorLine::new(e.line_number, e.line))
                .collect(),
        ),
        Some(Err(e)) => {
            unavailable.push(format!("text_log_errors: {e}"));
            None
        }
        None => None,
    };
    let fetched = FetchedLogs {
        raw_structured_log: raw.0.as_deref(),
        errorsummary_log: summary.0.as_deref(),
        text_log_errors: error_lines.as_deref(),
        text_log: text.0.as_deref(),
    };
    let failures = job_failures(&fetched).map_err(|e| {
        if unavailable.is_empty() {
            e
        } else {
            Error::parse(
                format!("the logs of job {job_id} on {repo}"),
                format!("none could be read ({e}); {}", unavailable.join("; ")),
            )
        }
    })?;
    Ok(JobFailureReport {
        repo: repo.to_string(),
        job_id,
        logs: logs
            .into_iter()
            .map(|l| LogRef {
                name: l.name,
                url: l.url,
            })
            .collect(),
        failed_tests: failures
            .failed_tests()
            .into_iter()
            .map(str::to_string)
            .collect(),
        rows: failure_rows(&failures),
        failures,
        unavailable,
    })
}

// Native only: these tests run on tokio (wasm-pack builds every test target).
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {

    #[test]
    fn failure_rows_name_each_line_with_its_kind_up_to_a_cap() {
        let mut log = String::new();
        for i in 0..15 {
            log.push_str(&format!("TEST-UNEXPECTED-FAIL | t{i}.html | boom\n"));
        }
        log.push_str("Automation Error: the worker was lost mid-task\n");
        let failures = crate::sources::unstructured_log::parse_text_log(log.as_bytes());
        let rows = failure_rows(&failures);
        assert_eq!(rows.len(), MAX_FAILURE_ROWS + 1);
        assert_eq!(
            rows[0],
            FailureRow {
                kind: "test_failure".into(),
                text: "line 0 test_failure [t0.html]: TEST-UNEXPECTED-FAIL | t0.html | boom".into(),
            }
        );
        assert_eq!(rows[MAX_FAILURE_ROWS].kind, "more");
        assert_eq!(rows[MAX_FAILURE_ROWS].text, "… and 4 more");
    }

    use super::*;
    use crate::ci::Endpoints;
    use crate::http::{HttpClient, HttpResponse};
    use async_trait::async_trait;
    use std::collections::HashMap;
    use std::io::Write;
    use std::rc::Rc;

    /// Answers from a fixed table; anything else is a 404.
    struct TableClient(HashMap<String, (u16, Vec<u8>)>);

    #[async_trait(?Send)]
    impl HttpClient for TableClient {
        async fn send(&self, request: HttpRequest) -> Result<HttpResponse> {
            let (status, body) = self
                .0
                .get(&request.url)
                .cloned()
                .unwrap_or((404, b"not found".to_vec()));
            Ok(HttpResponse {
                status,
                url: request.url,
                headers: Vec::new(),
                body,
            })
        }
    }

    const TH: &str = "http://th.test";

    fn ctx(table: Vec<(String, u16, Vec<u8>)>) -> CiContext {
        let map = table.into_iter().map(|(u, s, b)| (u, (s, b))).collect();
        let endpoints = Endpoints {
            treeherder: TH.into(),
            ..Endpoints::default()
        };
        CiContext::new(Rc::new(TableClient(map)), endpoints)
    }

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(data).unwrap();
        encoder.finish().unwrap()
    }

    fn listing(logs: &[(&str, &str)]) -> Vec<u8> {
        let items: Vec<_> = logs
            .iter()
            .enumerate()
            .map(|(i, (name, url))| {
                serde_json::json!({"id": i + 1, "job_id": 7, "name": name, "url": url, "parse_status": "parsed"})
            })
            .collect();
        serde_json::to_vec(&items).unwrap()
    }

    fn urls() -> (String, String) {
        let project = TreeherderApi::new(TH).unwrap().project("autoland").unwrap();
        (
            project.job_log_listing_url(7),
            project.text_log_errors_url(7),
        )
    }

    #[tokio::test(flavor = "current_thread")]
    async fn gzip_error_summary_wins_and_a_missing_log_is_noted() {
        let (listing_url, errors_url) = urls();
        let summary = br#"{"action":"test_result","test":"a/b.js","subtest":"x","status":"FAIL","expected":"PASS","message":"boom"}
"#;
        let ctx = ctx(vec![
            (
                listing_url,
                200,
                listing(&[
                    ("errorsummary_json", "http://logs.test/summary"),
                    ("live_backing_log", "http://logs.test/gone"),
                ]),
            ),
            ("http://logs.test/summary".into(), 200, gzip(summary)),
            (errors_url, 200, b"[]".to_vec()),
        ]);
        let report = failures_of_job(&ctx, "autoland", 7).await.unwrap();
        assert_eq!(report.failures.failed_tests(), vec!["a/b.js"], "{report:?}");
        assert_eq!(report.logs.len(), 2);
        assert_eq!(report.unavailable.len(), 1, "{:?}", report.unavailable);
        assert!(report.unavailable[0].starts_with("task log"));
    }

    #[tokio::test(flavor = "current_thread")]
    async fn text_log_errors_serve_when_no_log_is_listed() {
        let (listing_url, errors_url) = urls();
        let errors = serde_json::json!([{"id": 1, "job": 7, "line": "TEST-UNEXPECTED-FAIL | c/d.html | wrong", "line_number": 12}]);
        let ctx = ctx(vec![
            (listing_url, 200, b"[]".to_vec()),
            (errors_url, 200, serde_json::to_vec(&errors).unwrap()),
        ]);
        let report = failures_of_job(&ctx, "autoland", 7).await.unwrap();
        assert_eq!(report.failures.failed_tests(), vec!["c/d.html"]);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn nothing_readable_is_a_clear_error() {
        let (listing_url, _) = urls();
        let ctx = ctx(vec![(
            listing_url,
            200,
            listing(&[("live_backing_log", "http://logs.test/gone")]),
        )]);
        let err = failures_of_job(&ctx, "autoland", 7).await.unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("job 7") && text.contains("task log") && text.contains("404"),
            "{text}"
        );
        let missing_job = failures_of_job(&ctx, "autoland", 8).await.unwrap_err();
        assert!(
            matches!(missing_job, Error::NotFound { .. }),
            "{missing_job}"
        );
    }
}
