//! Typed errors: each says what failed and what the user can do about it.

#![warn(missing_docs)]

use std::fmt;

/// Everything that can go wrong talking to CI services or reading their data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// 401: credentials missing, wrong or expired.
    #[error("{url} answered 401 Unauthorized: log in (check your credentials for this service)")]
    Unauthorized {
        /// The URL asked (credentials and query secrets never appear in it).
        url: String,
    },
    /// 403: the credentials are fine but lack access.
    #[error("{url} answered 403 Forbidden: this account has no access{}", detail_suffix(.detail))]
    Forbidden {
        /// The URL asked (credentials and query secrets never appear in it).
        url: String,
        /// What the service said, bounded to 200 characters.
        detail: String,
    },
    /// 404.
    #[error("{url} answered 404 Not Found{}", detail_suffix(.detail))]
    NotFound {
        /// The URL asked (credentials and query secrets never appear in it).
        url: String,
        /// What the service said, bounded to 200 characters.
        detail: String,
    },
    /// Any other non-success status.
    #[error("{url} answered HTTP {status}{}", detail_suffix(.detail))]
    Status {
        /// The URL asked (credentials and query secrets never appear in it).
        url: String,
        /// The HTTP status code.
        status: u16,
        /// What the service said, bounded to 200 characters.
        detail: String,
    },
    /// No answer in time. For a trigger this means "unknown": check before retrying.
    #[error("{url} did not answer within {after_ms} ms")]
    Timeout {
        /// The URL asked (credentials and query secrets never appear in it).
        url: String,
        /// The deadline that passed, in milliseconds.
        after_ms: u64,
    },
    /// The connection failed (reset, dropped mid-answer, CORS in a browser):
    /// a request may have reached the service.
    #[error("could not reach {url}: {message}")]
    Network {
        /// The URL asked (credentials and query secrets never appear in it).
        url: String,
        /// The transport's own account of the failure.
        message: String,
    },
    /// No connection could be opened (refused, DNS): nothing was sent.
    #[error("could not connect to {url}: {message}")]
    Unreachable {
        /// The URL asked (credentials and query secrets never appear in it).
        url: String,
        /// The transport's own account of the failure.
        message: String,
    },
    /// The service answered that it would not do what was asked (a parsed
    /// refusal, such as Self-Serve's `{"status": "FAILED"}`): nothing was
    /// scheduled.
    #[error("{url} refused the request (HTTP {status}){}", detail_suffix(.detail))]
    Refused {
        /// The URL asked (credentials and query secrets never appear in it).
        url: String,
        /// The HTTP status of the refusal (200 for a refusal in the body).
        status: u16,
        /// What the service said, bounded to 200 characters.
        detail: String,
    },
    /// A request that changes something was sent, and what came back does
    /// not prove it was refused (a 5xx, a garbled success, a timeout, a
    /// dropped connection): it may have been carried out. Never resent blindly.
    #[error("{cause} (the request was sent: it may have been carried out)")]
    Uncertain {
        /// What went wrong after the request left.
        cause: Box<Error>,
    },
    /// The answer's headers came, its body did not finish in time (a
    /// transport error: for a trigger, "unknown", as with [`Error::Timeout`]).
    #[error("read of {url} did not finish within {} s", .after_ms.div_ceil(1000))]
    ReadDeadline {
        /// The URL asked (credentials and query secrets never appear in it).
        url: String,
        /// The body's deadline, in milliseconds.
        after_ms: u64,
    },
    /// The body (as sent, or once decompressed) passed its cap for this kind
    /// of endpoint (see `http::BodyKind`); reading stopped there.
    #[error("body of {url} exceeded {} MB{}", .limit_bytes / (1024 * 1024), if *.decompressed { " decompressed" } else { "" })]
    BodyTooLarge {
        /// The URL asked (credentials and query secrets never appear in it).
        url: String,
        /// The cap that was passed, in bytes.
        limit_bytes: u64,
        /// Whether the cap passed was the decompressed one.
        decompressed: bool,
    },
    /// A payload did not have the shape we depend on.
    #[error("could not read {source_name}: {message}{}", field_suffix(.field))]
    Parse {
        /// The payload's name as the user knows it (an endpoint or a file).
        source_name: String,
        /// The field (a JSON path) that was missing or malformed, if one was.
        field: Option<String>,
        /// What was wrong with it.
        message: String,
    },
    /// Input given to us (by the user or a caller) is not acceptable.
    #[error("invalid input: {0}")]
    Invalid(String),
    /// Something needed is not configured (e.g. credentials).
    #[error("not configured: {0}")]
    Config(String),
    /// The trigger ledger could not be read or written; a trigger whose
    /// intent could not be recorded is not sent.
    #[error("the trigger ledger: {0}")]
    Ledger(String),
}

fn detail_suffix(detail: &str) -> String {
    if detail.is_empty() {
        String::new()
    } else {
        format!(": {detail}")
    }
}

fn field_suffix(field: &Option<String>) -> String {
    match field {
        Some(f) => format!(" (field `{f}`)"),
        None => String::new(),
    }
}

impl Error {
    /// A parse error about a whole payload.
    pub fn parse(source_name: impl fmt::Display, message: impl fmt::Display) -> Self {
        Error::Parse {
            source_name: source_name.to_string(),
            field: None,
            message: message.to_string(),
        }
    }

    /// A parse error about one field of a payload.
    pub fn parse_field(
        source_name: impl fmt::Display,
        field: impl fmt::Display,
        message: impl fmt::Display,
    ) -> Self {
        Error::Parse {
            source_name: source_name.to_string(),
            field: Some(field.to_string()),
            message: message.to_string(),
        }
    }

    /// From a serde_json error while reading `source_name`.
    pub fn json(source_name: impl fmt::Display, err: &serde_json::Error) -> Self {
        Error::parse(source_name, err)
    }

    /// Map an HTTP status that is not a success into the matching error.
    pub fn from_status(url: &str, status: u16, body: &[u8]) -> Self {
        let detail = excerpt(body);
        match status {
            401 => Error::Unauthorized {
                url: url.to_string(),
            },
            403 => Error::Forbidden {
                url: url.to_string(),
                detail,
            },
            404 => Error::NotFound {
                url: url.to_string(),
                detail,
            },
            _ => Error::Status {
                url: url.to_string(),
                status,
                detail,
            },
        }
    }

    /// What this error means about a request that changes something and was
    /// sent: only a refusal the service gave (a 4xx, or a parsed refusal)
    /// proves nothing was done; anything else leaves it [`Error::Uncertain`].
    /// Errors that arise before anything was sent are kept as they are.
    pub fn after_sending(self) -> Error {
        match self {
            Error::Unauthorized { .. }
            | Error::Forbidden { .. }
            | Error::NotFound { .. }
            | Error::Refused { .. }
            | Error::Uncertain { .. }
            | Error::Unreachable { .. }
            | Error::Invalid(_)
            | Error::Config(_)
            | Error::Ledger(_) => self,
            Error::Status { status, .. } if (400..500).contains(&status) => self,
            cause => Error::Uncertain {
                cause: Box::new(cause),
            },
        }
    }

    /// A sent request may have been carried out (see [`Error::after_sending`]).
    pub fn is_uncertain(&self) -> bool {
        matches!(self, Error::Uncertain { .. })
    }

    /// Whether an idempotent read may be tried again after this error.
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Timeout { .. }
            | Error::Network { .. }
            | Error::Unreachable { .. }
            | Error::ReadDeadline { .. } => true,
            Error::Status { status, .. } => matches!(status, 429 | 500 | 502 | 503 | 504),
            _ => false,
        }
    }
}

/// The first line of a response body, bounded, for error messages.
/// JSON bodies with a `msg`/`message`/`detail` field give that field.
pub fn excerpt(body: &[u8]) -> String {
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(body) {
        for key in ["msg", "message", "detail", "error"] {
            if let Some(s) = v.get(key).and_then(|m| m.as_str()) {
                return bounded(s);
            }
        }
    }
    let text = String::from_utf8_lossy(body);
    bounded(
        text.lines()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .unwrap_or(""),
    )
}

fn bounded(s: &str) -> String {
    const MAX: usize = 200;
    if s.chars().count() <= MAX {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(MAX).collect();
        out.push('…');
        out
    }
}

/// The crate's result: [`Error`] unless said otherwise.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_map_to_actionable_errors() {
        let e = Error::from_status("https://x/api", 401, b"");
        assert!(e.to_string().contains("log in"), "{e}");
        let e = Error::from_status("https://x/api", 403, b"ACCESS DENIED!");
        assert_eq!(
            e.to_string(),
            "https://x/api answered 403 Forbidden: this account has no access: ACCESS DENIED!"
        );
        let e = Error::from_status(
            "u",
            404,
            br#"{"msg":"Revision abc not found on branch b","status":"FAILED"}"#,
        );
        assert_eq!(
            e.to_string(),
            "u answered 404 Not Found: Revision abc not found on branch b"
        );
        assert!(Error::from_status("u", 503, b"").is_transient());
        assert!(!Error::from_status("u", 400, b"").is_transient());
    }

    #[test]
    fn only_refusals_prove_nothing_was_done() {
        let url = "https://x/hooks".to_string();
        let sent = [
            Error::from_status(&url, 500, b""),
            Error::from_status(&url, 503, b"busy"),
            Error::from_status(&url, 302, b""),
            Error::Timeout {
                url: url.clone(),
                after_ms: 30_000,
            },
            Error::Network {
                url: url.clone(),
                message: "connection reset".into(),
            },
            Error::parse("triggerHook response", "EOF while parsing"),
        ];
        for e in sent {
            let after = e.clone().after_sending();
            assert_eq!(
                after,
                Error::Uncertain { cause: Box::new(e) },
                "uncertain, not refused"
            );
            assert!(after.to_string().contains("may have been carried out"));
            assert_eq!(after.clone().after_sending(), after, "wrapped once");
        }
        let refused = [
            Error::from_status(&url, 400, b"bad input"),
            Error::from_status(&url, 401, b""),
            Error::from_status(&url, 403, b""),
            Error::from_status(&url, 404, b""),
            Error::from_status(&url, 409, b""),
            Error::Refused {
                url: url.clone(),
                status: 503,
                detail: "Couldn't send message to broker".into(),
            },
            Error::Unreachable {
                url: url.clone(),
                message: "connection refused".into(),
            },
            Error::Config("no credentials".into()),
        ];
        for e in refused {
            assert_eq!(e.clone().after_sending(), e);
            assert!(!e.is_uncertain());
        }
    }

    #[test]
    fn bounded_read_errors_say_what_and_how_much() {
        let e = Error::BodyTooLarge {
            url: "https://x/log.gz".into(),
            limit_bytes: 512 * 1024 * 1024,
            decompressed: true,
        };
        assert_eq!(
            e.to_string(),
            "body of https://x/log.gz exceeded 512 MB decompressed"
        );
        assert!(!e.is_transient(), "the same body would be too large again");
        let e = Error::ReadDeadline {
            url: "https://x/a".into(),
            after_ms: 2_500,
        };
        assert_eq!(
            e.to_string(),
            "read of https://x/a did not finish within 3 s"
        );
        assert!(e.is_transient());
    }

    #[test]
    fn excerpt_is_bounded() {
        let long = "x".repeat(1000);
        assert_eq!(excerpt(long.as_bytes()).chars().count(), 201);
        assert_eq!(excerpt(b"\n\n  first line \nsecond"), "first line");
    }

    #[test]
    fn parse_errors_name_the_field() {
        let e = Error::parse_field("pushlog", "pushes.12.date", "expected an integer");
        assert_eq!(
            e.to_string(),
            "could not read pushlog: expected an integer (field `pushes.12.date`)"
        );
    }
}
