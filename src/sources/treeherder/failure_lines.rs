//! The failure lines Treeherder extracted from a job's log:
//! `jobs/{id}/text_log_errors/` and `jobs/{id}/bug_suggestions/`.

#![warn(missing_docs)]

use super::fields::{expect_array, parse_body, Record};
use crate::error::Result;

const TEXT_LOG_ERRORS: &str = "Treeherder text log errors";
const BUG_SUGGESTIONS: &str = "Treeherder bug suggestions";

/// One error line of a job's log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextLogError {
    /// Treeherder's id of this error line.
    pub id: u64,
    /// The Treeherder job id (`job`).
    pub job_id: u64,
    /// The log line as Treeherder stored it.
    pub line: String,
    /// Its line number in the log.
    pub line_number: u64,
    /// Whether Treeherder thinks this failure is new in this push.
    pub new_failure: Option<bool>,
}

/// One failure line with the bugs that may already track it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BugSuggestion {
    /// The cleaned failure line.
    pub search: String,
    /// The terms Treeherder searched bugs for (the test's file name, a crash signature).
    pub search_terms: Vec<String>,
    /// The failing test's path, when the line names one.
    pub path_end: Option<String>,
    /// Open or recently changed bugs matching the line.
    pub open_recent: Vec<SuggestedBug>,
    /// Older or closed bugs matching the line.
    pub all_others: Vec<SuggestedBug>,
    /// The line's number in the log.
    pub line_number: Option<u64>,
    /// Treeherder's `counter` for the line, when the server sends one.
    pub counter: Option<u64>,
    /// Whether Treeherder thinks the failure is new in this push's revision.
    pub failure_new_in_rev: Option<bool>,
}

/// A Bugzilla bug offered for a failure line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SuggestedBug {
    /// The Bugzilla bug number.
    pub id: u64,
    /// The bug's summary (title).
    pub summary: String,
    /// Bugzilla status (`NEW`, `RESOLVED`, …).
    pub status: Option<String>,
    /// Bugzilla resolution (`FIXED`, `INCOMPLETE`, …); empty while open.
    pub resolution: Option<String>,
    /// Comma-separated Bugzilla keywords (`intermittent-failure,…`).
    pub keywords: Option<String>,
    /// The bug this one duplicates, if resolved as a duplicate.
    pub dupe_of: Option<u64>,
}

/// Parse `jobs/{id}/text_log_errors/`.
pub fn parse_text_log_errors(body: &[u8]) -> Result<Vec<TextLogError>> {
    let root = parse_body(body, TEXT_LOG_ERRORS)?;
    expect_array(&root, TEXT_LOG_ERRORS, "")?
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let path = i.to_string();
            let error = Record::object(item, TEXT_LOG_ERRORS, &path)?;
            Ok(TextLogError {
                id: error.u64("id")?,
                job_id: error.u64("job")?,
                line: error.str("line")?.to_string(),
                line_number: error.u64("line_number")?,
                new_failure: error.opt_bool("new_failure")?,
            })
        })
        .collect()
}

/// Parse `jobs/{id}/bug_suggestions/`.
pub fn parse_bug_suggestions(body: &[u8]) -> Result<Vec<BugSuggestion>> {
    let root = parse_body(body, BUG_SUGGESTIONS)?;
    expect_array(&root, BUG_SUGGESTIONS, "")?
        .iter()
        .enumerate()
        .map(|(i, item)| parse_bug_suggestion(item, &i.to_string()))
        .collect()
}

fn parse_bug_suggestion(item: &serde_json::Value, path: &str) -> Result<BugSuggestion> {
    let suggestion = Record::object(item, BUG_SUGGESTIONS, path)?;
    let search_terms = suggestion
        .opt_array("search_terms")?
        .iter()
        .enumerate()
        .map(|(i, term)| {
            term.as_str()
                .map(str::to_string)
                .ok_or_else(|| suggestion.error(&format!("search_terms.{i}"), "expected a string"))
        })
        .collect::<Result<Vec<_>>>()?;
    let (open_recent, all_others) = match suggestion.get("bugs") {
        Some(bugs) => {
            let bugs_path = suggestion.field_path("bugs");
            let bugs = Record::object(bugs, BUG_SUGGESTIONS, &bugs_path)?;
            (
                parse_bug_list(&bugs, "open_recent")?,
                parse_bug_list(&bugs, "all_others")?,
            )
        }
        None => (Vec::new(), Vec::new()),
    };
    Ok(BugSuggestion {
        search: suggestion.str("search")?.to_string(),
        search_terms,
        path_end: suggestion.opt_string("path_end")?,
        open_recent,
        all_others,
        line_number: suggestion.opt_u64("line_number")?,
        counter: suggestion.opt_u64("counter")?,
        failure_new_in_rev: suggestion.opt_bool("failure_new_in_rev")?,
    })
}

fn parse_bug_list(bugs: &Record<'_>, key: &str) -> Result<Vec<SuggestedBug>> {
    let list_path = bugs.field_path(key);
    bugs.opt_array(key)?
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let path = format!("{list_path}.{i}");
            let bug = Record::object(item, BUG_SUGGESTIONS, &path)?;
            Ok(SuggestedBug {
                id: bug.u64("id")?,
                summary: bug.str("summary")?.to_string(),
                status: bug.opt_string("status")?,
                resolution: bug.opt_string("resolution")?,
                keywords: bug.opt_string("keywords")?,
                dupe_of: bug.opt_u64("dupe_of")?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

    #[test]
    fn text_log_errors_in_the_documented_shape() {
        let body = br#"[{"id": 11, "job": 303550431, "line": "TEST-UNEXPECTED-FAIL | a.js | boom",
                         "line_number": 2618, "new_failure": true, "unknown": {}},
                        {"id": 12, "job": 303550431, "line": "Return code: 1", "line_number": 2700}]"#;
        let errors = parse_text_log_errors(body).unwrap();
        assert_eq!(errors.len(), 2);
        assert_eq!(errors[0].job_id, 303550431);
        assert_eq!(errors[0].new_failure, Some(true));
        assert_eq!(errors[1].new_failure, None);
        assert_eq!(errors[1].line_number, 2700);
        match parse_text_log_errors(br#"[{"id": 1, "job": 2, "line": "x"}]"#) {
            Err(Error::Parse { field, .. }) => assert_eq!(field.as_deref(), Some("0.line_number")),
            other => panic!("expected a parse error, got {other:?}"),
        }
    }

    #[test]
    fn bug_suggestion_errors_name_nested_fields() {
        for (body, field) in [
            (
                &br#"[{"search": "s", "search_terms": [1]}]"#[..],
                "0.search_terms.0",
            ),
            (
                br#"[{"search": "s", "bugs": {"open_recent": [{"id": 1}]}}]"#,
                "0.bugs.open_recent.0.summary",
            ),
            (br#"[{"search": "s", "bugs": []}]"#, "0.bugs"),
        ] {
            match parse_bug_suggestions(body) {
                Err(Error::Parse { field: got, .. }) => assert_eq!(got.as_deref(), Some(field)),
                other => panic!("expected a parse error, got {other:?}"),
            }
        }
    }
}
