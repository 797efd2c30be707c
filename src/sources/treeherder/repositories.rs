//! Treeherder's repository list, `/api/repository/`: each repository's name,
//! hg URL, try flag and Taskcluster root URL.

#![warn(missing_docs)]

use super::fields::{expect_array, parse_body, Record};
use crate::error::Result;
use crate::url_text::parse_url;

const SOURCE: &str = "Treeherder repositories";

/// One repository known to Treeherder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repository {
    /// Treeherder's repository id (a push's `repository_id`).
    pub id: Option<u64>,
    /// Short name used in Treeherder URLs (`autoland`, `try`).
    pub name: String,
    /// The hg (or git) URL, e.g. `https://hg.mozilla.org/integration/autoland`.
    pub url: String,
    /// `hg` or `git`, when given.
    pub dvcs_type: Option<String>,
    /// Try repositories never get backfills. Absent in old payloads: `false`.
    pub is_try_repo: bool,
    /// The Taskcluster deployment that runs this repository's tasks.
    pub tc_root_url: Option<String>,
    /// `active`, `onhold`, …
    pub active_status: Option<String>,
    /// `repository_group.name`, e.g. `development`.
    pub group: Option<String>,
    /// The product's code base (`gecko`, `comm`, …).
    pub codebase: Option<String>,
    /// `branch`, as Treeherder lists it (null for most hg repositories).
    pub branch: Option<String>,
}

impl Repository {
    /// The repository's path on its hg server (`integration/autoland`), the
    /// part a pushlog URL needs; `None` when `url` is not a URL with a path.
    pub fn repo_path(&self) -> Option<String> {
        let parsed = parse_url(&self.url).ok()?;
        let path = parsed.path().trim_matches('/');
        (!path.is_empty()).then(|| path.to_string())
    }

    /// The hg server's origin (`https://hg.mozilla.org`).
    pub fn hg_origin(&self) -> Option<String> {
        let parsed = parse_url(&self.url).ok()?;
        parsed
            .has_host()
            .then(|| parsed.origin().ascii_serialization())
    }
}

/// Parse `/api/repository/` (an array of repositories).
pub fn parse_repositories(body: &[u8]) -> Result<Vec<Repository>> {
    let root = parse_body(body, SOURCE)?;
    expect_array(&root, SOURCE, "")?
        .iter()
        .enumerate()
        .map(|(i, item)| parse_repository(item, &i.to_string()))
        .collect()
}

fn parse_repository(item: &serde_json::Value, path: &str) -> Result<Repository> {
    let repo = Record::object(item, SOURCE, path)?;
    let group = match repo.get("repository_group") {
        Some(group) => {
            let group_path = repo.field_path("repository_group");
            Record::object(group, SOURCE, &group_path)?.opt_string("name")?
        }
        None => None,
    };
    Ok(Repository {
        id: repo.opt_u64("id")?,
        name: repo.str("name")?.to_string(),
        url: repo.str("url")?.to_string(),
        dvcs_type: repo.opt_string("dvcs_type")?,
        is_try_repo: repo.opt_bool("is_try_repo")?.unwrap_or(false),
        tc_root_url: repo.opt_string("tc_root_url")?,
        active_status: repo.opt_string("active_status")?,
        group,
        codebase: repo.opt_string("codebase")?,
        branch: repo.opt_string("branch")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

    #[test]
    fn old_payloads_without_try_flag_and_group() {
        let body = br#"[{"name": "mozilla-inbound", "url": "https://hg.mozilla.org/integration/mozilla-inbound/"}]"#;
        let repos = parse_repositories(body).unwrap();
        assert!(!repos[0].is_try_repo);
        assert_eq!(repos[0].group, None);
        assert_eq!(
            repos[0].repo_path().as_deref(),
            Some("integration/mozilla-inbound")
        );
        assert_eq!(
            repos[0].hg_origin().as_deref(),
            Some("https://hg.mozilla.org")
        );
    }

    #[test]
    fn errors_name_the_field() {
        for (body, field) in [
            (&br#"[{"url": "u"}]"#[..], "0.name"),
            (
                br#"[{"name": "a", "url": "u"}, {"name": "b", "url": 3}]"#,
                "1.url",
            ),
            (
                br#"[{"name": "a", "url": "u", "is_try_repo": "yes"}]"#,
                "0.is_try_repo",
            ),
            (
                br#"[{"name": "a", "url": "u", "repository_group": "dev"}]"#,
                "0.repository_group",
            ),
        ] {
            match parse_repositories(body) {
                Err(Error::Parse { field: got, .. }) => assert_eq!(got.as_deref(), Some(field)),
                other => panic!("expected a parse error, got {other:?}"),
            }
        }
    }
}
