//! Treeherder's job view page URL: which repository, push and job the user
//! has selected.
//!
//! Handles the current form (`/jobs?repo=…&revision=…&selectedTaskRun=<taskId>.<run>`),
//! the legacy `selectedJob=<id>` parameter, and the 2015 hash form
//! (`/#/jobs?repo=…&selectedJob=…`). The content script hands the page URL to
//! the core; nothing here touches the DOM.

#![warn(missing_docs)]

use crate::model::job_view::{JobViewSelection, PageEra, SelectedJob};
use crate::url_text::parse_url;

/// Read a Treeherder job view URL. `None` when the URL is not a job view or
/// names no repository.
pub fn parse_job_view_url(page_url: &str) -> Option<JobViewSelection> {
    let parsed = parse_url(page_url).ok()?;
    let origin = parsed.origin().ascii_serialization();
    // The 2015 app keeps its route in the fragment: `#/jobs?repo=…`.
    let (era, query) = match parsed.fragment().and_then(|f| f.strip_prefix("/jobs")) {
        Some(rest) => (
            PageEra::Legacy2015,
            rest.strip_prefix('?').unwrap_or("").to_string(),
        ),
        None => {
            let path = parsed.path().trim_end_matches('/');
            if !(path.ends_with("/jobs") || path == "/jobs") {
                return None;
            }
            (PageEra::Current, parsed.query().unwrap_or("").to_string())
        }
    };
    let mut repo = None;
    let mut revision = None;
    let mut task_run = None;
    let mut job_id = None;
    for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
        match k.as_ref() {
            "repo" if is_repo_name(&v) => repo = Some(v.into_owned()),
            "revision"
                if v.len() >= 12 && v.len() <= 40 && v.bytes().all(|b| b.is_ascii_hexdigit()) =>
            {
                revision = Some(v.to_ascii_lowercase())
            }
            "selectedTaskRun" => task_run = parse_task_run(&v),
            "selectedJob" => job_id = v.parse::<u64>().ok(),
            _ => {}
        }
    }
    let selected = task_run.or(job_id.map(|job_id| SelectedJob::JobId { job_id }));
    Some(JobViewSelection {
        origin,
        repo: repo?,
        revision,
        selected,
        era,
    })
}

fn is_repo_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
}

/// `<taskId>.<run>`: a 22-character slug id, a dot and a run number.
fn parse_task_run(s: &str) -> Option<SelectedJob> {
    let (task, run) = s.rsplit_once('.')?;
    let slug_ok = task.len() == 22
        && task
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !slug_ok {
        return None;
    }
    Some(SelectedJob::TaskRun {
        task_id: task.to_string(),
        run: run.parse().ok()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const REV: &str = "3a8a4e6b3f7c9d2e1f0a5b6c7d8e9f0a1b2c3d4e";

    #[test]
    fn current_url_with_task_run() {
        let url = format!("https://treeherder.mozilla.org/jobs?repo=autoland&revision={REV}&selectedTaskRun=ZBK4oDL4TnK1EjT-UY-o2A.0");
        let s = parse_job_view_url(&url).expect("job view");
        assert_eq!(s.repo, "autoland");
        assert_eq!(s.revision.as_deref(), Some(REV));
        assert_eq!(s.era, PageEra::Current);
        assert_eq!(s.origin, "https://treeherder.mozilla.org");
        assert_eq!(
            s.selected,
            Some(SelectedJob::TaskRun {
                task_id: "ZBK4oDL4TnK1EjT-UY-o2A".into(),
                run: 0
            })
        );
    }

    #[test]
    fn legacy_selected_job_and_hash_form() {
        let s =
            parse_job_view_url("http://127.0.0.1:8100/jobs?repo=mozilla-inbound&selectedJob=42")
                .expect("legacy");
        assert_eq!(s.selected, Some(SelectedJob::JobId { job_id: 42 }));
        let s = parse_job_view_url(&format!("https://treeherder.mozilla.org/#/jobs?repo=mozilla-inbound&revision={REV}&selectedJob=7"))
            .expect("2015 hash url");
        assert_eq!(s.era, PageEra::Legacy2015);
        assert_eq!(s.repo, "mozilla-inbound");
        assert_eq!(s.selected, Some(SelectedJob::JobId { job_id: 7 }));
    }

    #[test]
    fn hostile_or_unrelated_urls_are_refused() {
        assert_eq!(
            parse_job_view_url("https://treeherder.mozilla.org/perfherder/graphs?repo=x"),
            None
        );
        assert_eq!(parse_job_view_url("not a url"), None);
        assert_eq!(parse_job_view_url("https://t/jobs?revision=abc"), None);
        let s = parse_job_view_url("https://t/jobs?repo=%3Cscript%3E&selectedTaskRun=x.y")
            .map(|s| s.repo);
        assert_eq!(s, None);
        let s = parse_job_view_url("https://t/jobs?repo=try&revision=zz&selectedTaskRun=short.0")
            .expect("repo ok");
        assert_eq!((s.revision, s.selected), (None, None));
    }
}
