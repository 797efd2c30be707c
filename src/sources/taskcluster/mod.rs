//! Taskcluster's wire formats: the decision task's `actions.json`, action
//! input schemas, hook triggering with Hawk authentication, Queue and Index
//! reads, and the Taskcluster credentials Treeherder keeps in the page.
//!
//! Like every source, this builds URLs and requests and parses answers; it
//! never sends anything and never reads a clock (times are parameters).

#![warn(missing_docs)]

pub mod action_schema;
pub mod actions;
pub mod credentials;
pub mod hawk_auth;
pub mod hooks;
pub mod index;
pub mod pulse;
pub mod queue;
pub mod subscriptions;
pub mod timestamp;

use crate::error::{Error, Result};
use crate::url_text::parse_url;

/// The production Taskcluster deployment of Firefox CI.
pub(crate) const FIREFOX_CI_ROOT_URL: &str = "https://firefox-ci-tc.services.mozilla.com";

/// A Taskcluster deployment's root URL (`https://firefox-ci-tc.services.mozilla.com`),
/// normalised so that two spellings of the same deployment compare equal.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RootUrl(url::Url);

impl RootUrl {
    /// Parse a root URL; trailing slashes and letter case of scheme and host
    /// do not matter. Only `http` and `https` URLs without query are accepted.
    pub fn parse(text: &str) -> Result<RootUrl> {
        let mut parsed = parse_url(text.trim())
            .map_err(|e| Error::Invalid(format!("Taskcluster root URL {text:?}: {e}")))?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
            return Err(Error::Invalid(format!(
                "Taskcluster root URL {text:?} must be an http(s) URL with a host"
            )));
        }
        if parsed.query().is_some() || parsed.fragment().is_some() {
            return Err(Error::Invalid(format!(
                "Taskcluster root URL {text:?} must not carry a query or fragment"
            )));
        }
        let trimmed_path = parsed.path().trim_end_matches('/').to_string();
        parsed.set_path(&trimmed_path);
        Ok(RootUrl(parsed))
    }

    /// The root URL without a trailing slash.
    pub fn as_str(&self) -> &str {
        self.0.as_str().trim_end_matches('/')
    }

    /// `<root>/<service path segments…>`, each segment percent-encoded on its
    /// own (a `/` inside a segment, as in hook ids, becomes `%2F` the way
    /// Taskcluster's clients encode path parameters).
    pub(crate) fn endpoint<'s>(&self, segments: impl IntoIterator<Item = &'s str>) -> url::Url {
        let mut endpoint = self.0.clone();
        if let Ok(mut path) = endpoint.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        endpoint
    }
}

impl std::fmt::Display for RootUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_urls_are_normalised() {
        let a = RootUrl::parse("https://Firefox-CI-TC.services.mozilla.com/").unwrap();
        let b = RootUrl::parse(FIREFOX_CI_ROOT_URL).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.as_str(), FIREFOX_CI_ROOT_URL);
        assert_eq!(
            RootUrl::parse("http://127.0.0.1:8080//").unwrap().as_str(),
            "http://127.0.0.1:8080"
        );
    }

    #[test]
    fn root_urls_must_be_plain_http() {
        for bad in ["", "ftp://x", "not a url", "https://x/?a=1", "mailto:a@b"] {
            assert!(RootUrl::parse(bad).is_err(), "{bad:?}");
        }
    }

    /// Root URLs are parsed through `url_text`: a Unicode host (here with a
    /// capital letter, which panicked debug builds before) is refused with
    /// a clear error, its punycode form is accepted.
    #[test]
    fn unicode_hosts_are_refused_and_punycode_is_accepted() {
        let err = RootUrl::parse("https://Bücher.example")
            .unwrap_err()
            .to_string();
        assert!(err.contains("Bücher.example"), "{err}");
        assert!(err.contains("international domain name"), "{err}");
        let root = RootUrl::parse("https://XN--BCHER-KVA.example/").unwrap();
        assert_eq!(root.as_str(), "https://xn--bcher-kva.example");
    }

    #[test]
    fn endpoint_segments_are_encoded_one_by_one() {
        let root = RootUrl::parse("https://tc.example/").unwrap();
        let url = root.endpoint(["api", "hooks", "v1", "hooks", "g", "in-tree/abc"]);
        assert_eq!(
            url.as_str(),
            "https://tc.example/api/hooks/v1/hooks/g/in-tree%2Fabc"
        );
    }
}
