//! Taskcluster credentials, and reading the ones a logged-in Treeherder user
//! has in the page's `localStorage.userCredentials`
//! (`{"<rootUrl>": {"credentials": {clientId, accessToken, certificate?}, "expires": "<ISO>"}}`).

#![warn(missing_docs)]

use super::timestamp::parse_iso8601_ms;
use super::RootUrl;
use crate::error::{Error, Result};
use serde_json::Value;
use std::fmt;

const SOURCE: &str = "Treeherder userCredentials";

/// A Taskcluster client's credentials. `Debug` never shows the access token.
#[derive(Clone, PartialEq, Eq)]
pub struct TaskclusterCredentials {
    /// `clientId`: the Taskcluster client; the Hawk `id` of every signed request.
    pub client_id: String,
    /// `accessToken`: the secret Hawk signs with; never printed.
    pub access_token: String,
    /// Temporary credentials carry their signed certificate as a JSON string.
    pub certificate: Option<String>,
}

impl fmt::Debug for TaskclusterCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskclusterCredentials")
            .field("client_id", &self.client_id)
            .field("access_token", &"<redacted>")
            .field(
                "certificate",
                &self.certificate.as_ref().map(|_| "<present>"),
            )
            .finish()
    }
}

/// Credentials taken from Treeherder, with their expiry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeherderLogin {
    /// The Taskcluster credentials stored for the deployment.
    pub credentials: TaskclusterCredentials,
    /// Expiry, milliseconds since the Unix epoch.
    pub expires_ms: i64,
}

/// Pick the credentials Treeherder holds for `root_url` out of the JSON text
/// of `localStorage.userCredentials`, refusing missing or expired ones
/// (`now_ms`: the caller's clock, milliseconds since the Unix epoch).
/// `stored` is `None` when the page has no such entry at all.
pub fn parse_user_credentials(
    stored: Option<&str>,
    root_url: &RootUrl,
    now_ms: i64,
) -> Result<TreeherderLogin> {
    let not_logged_in = || {
        Error::Config(format!(
            "no Taskcluster credentials for {root_url}: log in to Treeherder"
        ))
    };
    let stored = stored
        .map(str::trim)
        .filter(|s| !s.is_empty() && *s != "null")
        .ok_or_else(not_logged_in)?;
    let all: Value =
        serde_json::from_slice(stored.as_bytes()).map_err(|e| Error::json(SOURCE, &e))?;
    let all = all
        .as_object()
        .ok_or_else(|| Error::parse(SOURCE, "expected an object keyed by root URL"))?;
    let entry = all
        .iter()
        .find(|(key, _)| RootUrl::parse(key).is_ok_and(|k| &k == root_url))
        .map(|(key, entry)| (key.as_str(), entry))
        .ok_or_else(not_logged_in)?;
    let login = parse_login_entry(entry.0, entry.1)?;
    if login.expires_ms <= now_ms {
        return Err(Error::Config(format!(
            "the Taskcluster credentials for {root_url} have expired: log in to Treeherder again"
        )));
    }
    Ok(login)
}

fn parse_login_entry(key: &str, entry: &Value) -> Result<TreeherderLogin> {
    let field = |name: &str| format!("{key}.{name}");
    let credentials = entry
        .get("credentials")
        .ok_or_else(|| Error::parse_field(SOURCE, field("credentials"), "missing"))?;
    let text = |name: &str| -> Result<String> {
        credentials
            .get(name)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .ok_or_else(|| {
                Error::parse_field(
                    SOURCE,
                    field(&format!("credentials.{name}")),
                    "expected a non-empty string",
                )
            })
    };
    // Taskcluster hands certificates out as JSON strings; accept an already
    // decoded object too and keep it in the string form Hawk signing wants.
    let certificate = match credentials.get("certificate") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.is_empty() => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(object @ Value::Object(_)) => Some(object.to_string()),
        Some(_) => {
            return Err(Error::parse_field(
                SOURCE,
                field("credentials.certificate"),
                "expected a JSON string or object",
            ))
        }
    };
    let expires_ms = entry
        .get("expires")
        .and_then(Value::as_str)
        .and_then(parse_iso8601_ms)
        .ok_or_else(|| {
            Error::parse_field(SOURCE, field("expires"), "expected an ISO 8601 date-time")
        })?;
    Ok(TreeherderLogin {
        credentials: TaskclusterCredentials {
            client_id: text("clientId")?,
            access_token: text("accessToken")?,
            certificate,
        },
        expires_ms,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROOT: &str = "https://firefox-ci-tc.services.mozilla.com";
    // 2030-01-01T00:00:00Z and one millisecond before it.
    const EXPIRES_MS: i64 = 1_893_456_000_000;

    fn stored(key: &str) -> String {
        format!(
            r#"{{"{key}": {{"credentials": {{"clientId": "mozilla-auth0/ad|Mozilla-LDAP|me/treeherder-abc",
                 "accessToken": "s3cr3t-token"}}, "expires": "2030-01-01T00:00:00.000Z"}},
               "https://other.example": {{"credentials": {{"clientId": "x", "accessToken": "y"}},
                 "expires": "2030-01-01T00:00:00.000Z"}}}}"#
        )
    }

    fn root() -> RootUrl {
        RootUrl::parse(ROOT).unwrap()
    }

    #[test]
    fn picks_the_entry_of_the_root_url_whatever_its_trailing_slash() {
        let login = parse_user_credentials(Some(&stored(&format!("{ROOT}/"))), &root(), 0).unwrap();
        assert_eq!(
            login.credentials.client_id,
            "mozilla-auth0/ad|Mozilla-LDAP|me/treeherder-abc"
        );
        assert_eq!(login.credentials.access_token, "s3cr3t-token");
        assert_eq!(login.credentials.certificate, None);
        assert_eq!(login.expires_ms, EXPIRES_MS);
    }

    #[test]
    fn absent_or_expired_credentials_ask_for_a_login() {
        let other = RootUrl::parse("https://tc.example").unwrap();
        for (text, root, now) in [
            (None, root(), 0),
            (Some("null".to_string()), root(), 0),
            (Some("{}".to_string()), root(), 0),
            (Some(stored(ROOT)), other, 0),
            (Some(stored(ROOT)), root(), EXPIRES_MS),
        ] {
            let err = parse_user_credentials(text.as_deref(), &root, now).unwrap_err();
            assert!(err.to_string().contains("log in to Treeherder"), "{err}");
        }
        assert!(parse_user_credentials(Some(&stored(ROOT)), &root(), EXPIRES_MS - 1).is_ok());
    }

    #[test]
    fn certificates_are_kept_as_json_strings() {
        let cert = r#"{"version":1,"scopes":["hooks:trigger-hook:*"],"start":1,"expiry":2,"seed":"s","signature":"x"}"#;
        let as_string = format!(
            r#"{{"{ROOT}": {{"credentials": {{"clientId": "c", "accessToken": "t", "certificate": {}}}, "expires": "2030-01-01T00:00:00Z"}}}}"#,
            serde_json::to_string(cert).unwrap()
        );
        let as_object = format!(
            r#"{{"{ROOT}": {{"credentials": {{"clientId": "c", "accessToken": "t", "certificate": {cert}}}, "expires": "2030-01-01T00:00:00Z"}}}}"#
        );
        for text in [as_string, as_object] {
            let login = parse_user_credentials(Some(&text), &root(), 0).unwrap();
            let parsed: Value =
                serde_json::from_str(login.credentials.certificate.as_deref().unwrap()).unwrap();
            assert_eq!(parsed["scopes"][0], "hooks:trigger-hook:*");
        }
    }

    #[test]
    fn malformed_entries_name_the_field() {
        let cases = [
            (r#"[]"#, None),
            (r#"{"R": {}}"#, Some("R.credentials")),
            (
                r#"{"R": {"credentials": {"clientId": "c", "accessToken": ""}, "expires": "2030-01-01T00:00:00Z"}}"#,
                Some("R.credentials.accessToken"),
            ),
            (
                r#"{"R": {"credentials": {"clientId": "c", "accessToken": "t"}, "expires": "soon"}}"#,
                Some("R.expires"),
            ),
        ];
        let r = RootUrl::parse("https://r.example").unwrap();
        for (text, field) in cases {
            let text = text.replace("\"R\"", "\"https://r.example\"");
            match parse_user_credentials(Some(&text), &r, 0).unwrap_err() {
                Error::Parse { field: got, .. } => assert_eq!(
                    got.as_deref().map(|f| f.replace("https://r.example", "R")),
                    field.map(str::to_string),
                    "{text}"
                ),
                other => panic!("expected a parse error for {text}, got {other}"),
            }
        }
    }

    #[test]
    fn debug_output_hides_the_access_token() {
        let login = parse_user_credentials(Some(&stored(ROOT)), &root(), 0).unwrap();
        let shown = format!("{login:?}");
        assert!(!shown.contains("s3cr3t-token"), "{shown}");
        assert!(shown.contains("<redacted>"), "{shown}");
    }
}
