//! Job artifacts stored by Treeherder: `/api/project/{repo}/artifact/?…`.
//!
//! Two are read: `buildapi` (2015: the Buildbot request id behind a job) and
//! `text_log_summary` (the error lines Treeherder's log parser extracted).

#![warn(missing_docs)]

use super::fields::{expect_array, parse_body, Record};
use crate::error::{Error, Result};
use serde_json::Value;

const ARTIFACTS: &str = "Treeherder job artifacts";

/// One artifact; `blob` is kept as sent and read by the accessors below.
#[derive(Debug, Clone, PartialEq)]
pub struct JobArtifact {
    /// Treeherder's id of the artifact.
    pub id: Option<u64>,
    /// The Treeherder job id (`job_id`).
    pub job_id: u64,
    /// `buildapi`, `text_log_summary`, `Job Info`, …
    pub name: String,
    /// `type`: `json` for the artifacts read here.
    pub artifact_type: Option<String>,
    /// The artifact's content, as sent (JSON).
    pub blob: Value,
}

/// The `text_log_summary` artifact's content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextLogSummary {
    /// The error lines, in log order.
    pub errors: Vec<SummaryError>,
    /// The log the errors were read from.
    pub log_url: Option<String>,
}

/// One error line of a text log summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SummaryError {
    /// The log line.
    pub line: String,
    /// Its line number in the log.
    pub line_number: u64,
}

impl JobArtifact {
    /// The Buildbot request id of a `buildapi` artifact (`blob.request_id`).
    pub fn buildapi_request_id(&self) -> Option<u64> {
        if self.name != "buildapi" {
            return None;
        }
        self.blob.get("request_id").and_then(Value::as_u64)
    }

    /// The error lines of a `text_log_summary` artifact; `None` for other
    /// artifacts, a parse error when the blob is not in the expected shape.
    pub fn text_log_summary(&self) -> Option<Result<TextLogSummary>> {
        (self.name == "text_log_summary").then(|| read_text_log_summary(&self.blob))
    }
}

/// Parse `/api/project/{repo}/artifact/?…` (a list of artifacts). A single
/// artifact object, as `/artifact/{id}/` and the recorded sample give, is
/// read as a list of one.
pub fn parse_job_artifacts(body: &[u8]) -> Result<Vec<JobArtifact>> {
    let root = parse_body(body, ARTIFACTS)?;
    match &root {
        Value::Object(_) => Ok(vec![parse_artifact(&root, "")?]),
        other => expect_array(other, ARTIFACTS, "")?
            .iter()
            .enumerate()
            .map(|(i, item)| parse_artifact(item, &i.to_string()))
            .collect(),
    }
}

fn parse_artifact(item: &Value, path: &str) -> Result<JobArtifact> {
    let artifact = Record::object(item, ARTIFACTS, path)?;
    Ok(JobArtifact {
        id: artifact.opt_u64("id")?,
        job_id: artifact.u64("job_id")?,
        name: artifact.str("name")?.to_string(),
        artifact_type: artifact.opt_string("type")?,
        blob: artifact.get("blob").cloned().unwrap_or(Value::Null),
    })
}

fn read_text_log_summary(blob: &Value) -> Result<TextLogSummary> {
    let summary = Record::object(blob, ARTIFACTS, "blob")?;
    let errors_path = summary.field_path("errors");
    let errors = summary
        .opt_array("errors")?
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let path = format!("{errors_path}.{i}");
            let error = Record::object(item, ARTIFACTS, &path)?;
            Ok(SummaryError {
                line: error.str("line")?.to_string(),
                line_number: error.u64("linenumber")?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(TextLogSummary {
        errors,
        log_url: summary.opt_string("logurl")?,
    })
}

/// Collect `(job id, request id)` pairs from a page of `buildapi` artifacts.
pub fn buildapi_request_ids(artifacts: &[JobArtifact]) -> Vec<(u64, u64)> {
    artifacts
        .iter()
        .filter_map(|a| a.buildapi_request_id().map(|request| (a.job_id, request)))
        .collect()
}

/// Shorthand for callers that need the summary of exactly one artifact body.
pub fn parse_text_log_summary(body: &[u8]) -> Result<TextLogSummary> {
    let artifacts = parse_job_artifacts(body)?;
    artifacts
        .iter()
        .find_map(JobArtifact::text_log_summary)
        .unwrap_or_else(|| Err(Error::parse(ARTIFACTS, "no text_log_summary artifact")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buildapi_request_ids_from_2015_artifacts() {
        let body = br#"[
            {"blob": {"request_id": 62949174, "buildername": "Linux mozilla-inbound build"},
             "type": "json", "id": 1, "name": "buildapi", "job_id": 2123473},
            {"blob": {"job_details": []}, "type": "json", "id": 2, "name": "Job Info", "job_id": 2123473},
            {"blob": {"request_id": 62949175}, "type": "json", "id": 3, "name": "buildapi", "job_id": 2123474}
        ]"#;
        let artifacts = parse_job_artifacts(body).unwrap();
        assert_eq!(
            buildapi_request_ids(&artifacts),
            [(2123473, 62949174), (2123474, 62949175)]
        );
        assert!(artifacts[1].text_log_summary().is_none());
    }

    #[test]
    fn errors_name_the_field() {
        match parse_job_artifacts(br#"[{"name": "buildapi", "blob": {}}]"#) {
            Err(Error::Parse { field, .. }) => assert_eq!(field.as_deref(), Some("0.job_id")),
            other => panic!("expected a parse error, got {other:?}"),
        }
        let bad_summary =
            br#"{"name": "text_log_summary", "job_id": 1, "blob": {"errors": [{"line": "x"}]}}"#;
        match parse_text_log_summary(bad_summary) {
            Err(Error::Parse { field, .. }) => {
                assert_eq!(field.as_deref(), Some("blob.errors.0.linenumber"))
            }
            other => panic!("expected a parse error, got {other:?}"),
        }
        let not_a_summary = br#"{"name": "buildapi", "job_id": 1, "blob": {}}"#;
        assert!(matches!(
            parse_text_log_summary(not_a_summary),
            Err(Error::Parse { field: None, .. })
        ));
    }
}
