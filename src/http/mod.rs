//! The single I/O seam: an async HTTP client trait with a browser
//! implementation (fetch, in wasm) and a native one (reqwest).
//!
//! Sources build [`HttpRequest`]s and parse [`HttpResponse`] bodies; only the
//! drivers (`ci/`, the CLI, the add-on background) send them. Retries with
//! backoff are offered for idempotent reads only: a trigger is never resent
//! blindly, because a lost answer does not mean the trigger was not done.

#![warn(missing_docs)]

pub mod gzip;

use crate::error::{Error, Result};
use async_trait::async_trait;

#[cfg(target_arch = "wasm32")]
mod browser;
#[cfg(not(target_arch = "wasm32"))]
mod native;

#[cfg(target_arch = "wasm32")]
pub use browser::BrowserClient;
#[cfg(not(target_arch = "wasm32"))]
pub use native::NativeClient;

/// The HTTP methods the core sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Reads.
    Get,
    /// Existence and headers only.
    Head,
    /// Triggers and queries with a body.
    Post,
    /// Taskcluster's `createTask`.
    Put,
    /// Cancelling (Self-Serve).
    Delete,
}

impl Method {
    /// The method's name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Head => "HEAD",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
        }
    }

    /// Reads may be repeated safely; anything else may have had an effect.
    pub fn is_idempotent_read(self) -> bool {
        matches!(self, Method::Get | Method::Head)
    }
}

/// What an answer's body is, which sets how much of it may be read and for
/// how long (see `docs/limits.md`). A body past its cap or its deadline is
/// dropped with [`Error::BodyTooLarge`] or [`Error::ReadDeadline`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BodyKind {
    /// JSON APIs: Treeherder, Taskcluster queue and index (`actions.json`
    /// included), Self-Serve BuildAPI, and trigger answers.
    #[default]
    Api,
    /// hg `json-pushes` (full changeset lists of a range of pushes).
    Pushlog,
    /// Buildbot's `allthethings.json` and the buildjson dumps
    /// (`builds-YYYY-MM-DD.js.gz`, `builds-4hr.js.gz`, running, pending).
    BuildbotDump,
    /// Job logs (raw and error-summary mozlog, live/backing logs, `.gz` or not).
    Log,
}

/// The caps of one [`BodyKind`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyLimits {
    /// Bytes on the wire (compressed, when the answer is).
    pub max_wire_bytes: u64,
    /// Bytes once decompressed (HTTP `Content-Encoding: gzip`, or a `.gz` file).
    pub max_decoded_bytes: u64,
    /// The whole read (headers and body) gets at least this long, whatever
    /// the client's default timeout: big bodies need time on slow links.
    pub min_deadline_ms: u64,
}

const MB: u64 = 1024 * 1024;

impl BodyKind {
    /// Sizes from production: a Treeherder jobs page (2000 jobs) is about
    /// 1 MB and a Taskcluster task-group page a few MB; a pushlog range with
    /// a merge is tens of MB; a buildjson day file of 2015 is ~150 MB
    /// decompressed (~15 MB gzip), allthethings.json ~20 MB; a debug test
    /// log reaches a few hundred MB decompressed.
    pub const fn limits(self) -> BodyLimits {
        match self {
            BodyKind::Api => BodyLimits {
                max_wire_bytes: 32 * MB,
                max_decoded_bytes: 64 * MB,
                min_deadline_ms: 0,
            },
            BodyKind::Pushlog => BodyLimits {
                max_wire_bytes: 64 * MB,
                max_decoded_bytes: 128 * MB,
                min_deadline_ms: 60_000,
            },
            BodyKind::BuildbotDump => BodyLimits {
                max_wire_bytes: 64 * MB,
                max_decoded_bytes: 512 * MB,
                min_deadline_ms: 300_000,
            },
            BodyKind::Log => BodyLimits {
                max_wire_bytes: 128 * MB,
                max_decoded_bytes: 512 * MB,
                min_deadline_ms: 300_000,
            },
        }
    }

    /// The deadline of a whole read: the request's own timeout if it set
    /// one, else the client's default raised to this kind's floor.
    pub fn deadline_ms(self, request_timeout_ms: Option<u64>, client_default_ms: u64) -> u64 {
        request_timeout_ms.unwrap_or_else(|| client_default_ms.max(self.limits().min_deadline_ms))
    }
}

/// Counts body bytes against a cap as they arrive, so that a client stops
/// reading at the cap instead of after the whole body.
#[derive(Debug)]
pub(crate) struct BodyBudget<'a> {
    url: &'a str,
    limit: u64,
    decompressed: bool,
    used: u64,
}

impl<'a> BodyBudget<'a> {
    pub(crate) fn wire(url: &'a str, limits: BodyLimits) -> Self {
        BodyBudget {
            url,
            limit: limits.max_wire_bytes,
            decompressed: false,
            used: 0,
        }
    }

    pub(crate) fn decoded(url: &'a str, limits: BodyLimits) -> Self {
        BodyBudget {
            url,
            limit: limits.max_decoded_bytes,
            decompressed: true,
            used: 0,
        }
    }

    /// Refuse a body whose announced length (`Content-Length`) is already over.
    pub(crate) fn check_announced(&self, length: Option<u64>) -> Result<()> {
        match length {
            Some(n) if n > self.limit => Err(self.exceeded()),
            _ => Ok(()),
        }
    }

    /// Account for `n` more bytes.
    pub(crate) fn take(&mut self, n: usize) -> Result<()> {
        self.used = self.used.saturating_add(n as u64);
        if self.used > self.limit {
            Err(self.exceeded())
        } else {
            Ok(())
        }
    }

    fn exceeded(&self) -> Error {
        Error::BodyTooLarge {
            url: self.url.to_string(),
            limit_bytes: self.limit,
            decompressed: self.decompressed,
        }
    }
}

/// A request as data, so that it can be built and inspected without I/O.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRequest {
    /// What the request asks.
    pub method: Method,
    /// The absolute URL.
    pub url: String,
    /// Header names and values, in the order sent.
    pub headers: Vec<(String, String)>,
    /// The body, for POST and PUT.
    pub body: Option<Vec<u8>>,
    /// Give up on the whole exchange (headers and body) after this long;
    /// `None` uses the client's default raised to the body kind's floor.
    pub timeout_ms: Option<u64>,
    /// What the answer's body is: sets its size caps (and deadline floor).
    pub body_kind: BodyKind,
}

impl HttpRequest {
    /// A GET of a JSON API answer (the body kind [`BodyKind::Api`]).
    pub fn get(url: impl Into<String>) -> Self {
        HttpRequest {
            method: Method::Get,
            url: url.into(),
            headers: Vec::new(),
            body: None,
            timeout_ms: None,
            body_kind: BodyKind::Api,
        }
    }

    /// A POST of `body` with its `Content-Type`.
    pub fn post(url: impl Into<String>, content_type: &str, body: Vec<u8>) -> Self {
        HttpRequest {
            method: Method::Post,
            url: url.into(),
            headers: vec![("Content-Type".to_string(), content_type.to_string())],
            body: Some(body),
            timeout_ms: None,
            body_kind: BodyKind::Api,
        }
    }

    /// A POST of `application/x-www-form-urlencoded` pairs (BuildAPI's format).
    pub fn post_form(url: impl Into<String>, pairs: &[(&str, &str)]) -> Self {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        Self::post(url, "application/x-www-form-urlencoded", body.into_bytes())
    }

    /// A POST of a JSON document.
    pub fn post_json(url: impl Into<String>, value: &serde_json::Value) -> Self {
        Self::post(url, "application/json", value.to_string().into_bytes())
    }

    /// The request with one more header.
    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_string(), value.into()));
        self
    }

    /// The request with its own deadline for the whole exchange.
    pub fn timeout_ms(mut self, ms: u64) -> Self {
        self.timeout_ms = Some(ms);
        self
    }

    /// The request with the caps of another kind of body.
    pub fn body_kind(mut self, kind: BodyKind) -> Self {
        self.body_kind = kind;
        self
    }

    /// A header's value, its name compared without case.
    pub fn header_value(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// An answer, whatever its status, its body read within its caps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    /// The HTTP status code.
    pub status: u16,
    /// The URL that answered (after redirects).
    pub url: String,
    /// Header names and values as received.
    pub headers: Vec<(String, String)>,
    /// The body, decompressed if it came gzipped.
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// A header's value, its name compared without case.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// A 2xx status.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// This response if its status is 2xx (or 304 Not Modified), else the typed error.
    pub fn ok(self) -> Result<Self> {
        if self.is_success() || self.status == 304 {
            Ok(self)
        } else {
            Err(Error::from_status(&self.url, self.status, &self.body))
        }
    }
}

/// Sends one request. Implementations map transport failures to
/// [`Error::Network`] / [`Error::Timeout`] / [`Error::ReadDeadline`] /
/// [`Error::BodyTooLarge`], hold the whole exchange to one deadline and the
/// body to the caps of the request's [`BodyKind`], and return every HTTP
/// status as a response (callers decide with [`HttpResponse::ok`]).
#[async_trait(?Send)]
pub trait HttpClient {
    /// Send `request` and read its answer.
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse>;
}

/// How idempotent reads are retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub attempts: u32,
    /// Delay before the second attempt; doubled for each further one.
    pub initial_backoff_ms: u64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 3,
            initial_backoff_ms: 250,
        }
    }
}

impl RetryPolicy {
    /// One attempt, no retry.
    pub fn none() -> Self {
        RetryPolicy {
            attempts: 1,
            initial_backoff_ms: 0,
        }
    }

    /// The delay before attempt number `attempt` (1-based; attempt 1 has none).
    pub fn backoff_before(&self, attempt: u32) -> u64 {
        if attempt <= 1 {
            0
        } else {
            self.initial_backoff_ms
                .saturating_mul(1u64 << (attempt - 2).min(16))
        }
    }
}

/// Send `request`, retrying transient failures of idempotent reads under
/// `policy`, and turn non-success statuses into typed errors. Requests that
/// are not reads are sent exactly once whatever the policy says.
pub async fn send_checked(
    client: &dyn HttpClient,
    request: HttpRequest,
    policy: RetryPolicy,
) -> Result<HttpResponse> {
    let attempts = if request.method.is_idempotent_read() {
        policy.attempts.max(1)
    } else {
        1
    };
    let mut attempt = 1;
    loop {
        let result = client
            .send(request.clone())
            .await
            .and_then(HttpResponse::ok);
        match result {
            Err(e) if attempt < attempts && e.is_transient() => {
                attempt += 1;
                sleep_ms(policy.backoff_before(attempt)).await;
            }
            other => return other,
        }
    }
}

/// Send `request`, which changes something, exactly once and return its
/// answer whatever the status (the caller reads refusals from it). A
/// transport failure after the connection was made (a timeout, a dropped
/// connection) comes back as [`Error::Uncertain`]: the request may have been
/// carried out.
pub async fn send_mutation(client: &dyn HttpClient, request: HttpRequest) -> Result<HttpResponse> {
    client.send(request).await.map_err(Error::after_sending)
}

/// Send a trigger exactly once and keep its answer only if it is a success:
/// a 4xx is a refusal, a 5xx or anything else unusual is [`Error::Uncertain`].
pub async fn send_trigger(client: &dyn HttpClient, request: HttpRequest) -> Result<HttpResponse> {
    send_mutation(client, request)
        .await?
        .ok()
        .map_err(Error::after_sending)
}

/// GET `url` and parse its JSON body (with retries for transient failures).
pub async fn get_json<T: serde::de::DeserializeOwned>(
    client: &dyn HttpClient,
    url: &str,
    source_name: &str,
) -> Result<T> {
    let response = send_checked(
        client,
        HttpRequest::get(url).header("Accept", "application/json"),
        RetryPolicy::default(),
    )
    .await?;
    serde_json::from_slice(&response.body).map_err(|e| Error::json(source_name, &e))
}

/// Wait without blocking the event loop (browser) or the runtime (native).
pub async fn sleep_ms(ms: u64) {
    if ms == 0 {
        return;
    }
    #[cfg(target_arch = "wasm32")]
    gloo_timers::future::TimeoutFuture::new(ms.min(u32::MAX as u64) as u32).await;
    #[cfg(not(target_arch = "wasm32"))]
    tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
}

// Native only: these tests run on tokio (wasm-pack builds every test target).
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use std::cell::RefCell;

    /// Answers from a script, recording what was sent.
    struct Scripted {
        answers: RefCell<Vec<Result<HttpResponse>>>,
        sent: RefCell<Vec<HttpRequest>>,
    }

    #[async_trait(?Send)]
    impl HttpClient for Scripted {
        async fn send(&self, request: HttpRequest) -> Result<HttpResponse> {
            self.sent.borrow_mut().push(request);
            self.answers.borrow_mut().remove(0)
        }
    }

    fn status(code: u16) -> Result<HttpResponse> {
        Ok(HttpResponse {
            status: code,
            url: "http://h/x".into(),
            headers: vec![],
            body: vec![],
        })
    }

    fn scripted(answers: Vec<Result<HttpResponse>>) -> Scripted {
        Scripted {
            answers: RefCell::new(answers),
            sent: RefCell::new(vec![]),
        }
    }

    fn quick() -> RetryPolicy {
        RetryPolicy {
            attempts: 3,
            initial_backoff_ms: 1,
        }
    }

    #[tokio::test]
    async fn reads_are_retried_on_transient_errors() {
        let c = scripted(vec![
            status(503),
            Err(Error::Timeout {
                url: "u".into(),
                after_ms: 5,
            }),
            status(200),
        ]);
        let r = send_checked(&c, HttpRequest::get("http://h/x"), quick()).await;
        assert_eq!(r.map(|r| r.status), Ok(200));
        assert_eq!(c.sent.borrow().len(), 3);
    }

    #[tokio::test]
    async fn triggers_are_never_retried() {
        let c = scripted(vec![status(503), status(202)]);
        let r = send_checked(
            &c,
            HttpRequest::post_form("http://h/x", &[("count", "1")]),
            quick(),
        )
        .await;
        assert!(matches!(r, Err(Error::Status { status: 503, .. })));
        assert_eq!(c.sent.borrow().len(), 1);
    }

    #[tokio::test]
    async fn triggers_answered_5xx_or_lost_are_uncertain_4xx_refused() {
        let post = || HttpRequest::post_form("http://h/x", &[("count", "1")]);
        let c = scripted(vec![
            status(500),
            status(400),
            Err(Error::Timeout {
                url: "u".into(),
                after_ms: 5,
            }),
            Err(Error::Unreachable {
                url: "u".into(),
                message: "refused".into(),
            }),
            status(202),
        ]);
        let r = send_trigger(&c, post()).await;
        assert!(
            matches!(&r, Err(Error::Uncertain { cause }) if matches!(**cause, Error::Status { status: 500, .. })),
            "{r:?}"
        );
        let r = send_trigger(&c, post()).await;
        assert!(matches!(r, Err(Error::Status { status: 400, .. })), "{r:?}");
        let r = send_trigger(&c, post()).await;
        assert!(matches!(r, Err(Error::Uncertain { .. })), "{r:?}");
        let r = send_trigger(&c, post()).await;
        assert!(matches!(r, Err(Error::Unreachable { .. })), "{r:?}");
        assert_eq!(send_trigger(&c, post()).await.map(|r| r.status), Ok(202));
        assert_eq!(c.sent.borrow().len(), 5, "each sent once");
    }

    #[tokio::test]
    async fn auth_errors_are_not_retried() {
        let c = scripted(vec![status(401), status(200)]);
        let r = send_checked(&c, HttpRequest::get("http://h/x"), quick()).await;
        assert!(matches!(r, Err(Error::Unauthorized { .. })));
        assert_eq!(c.sent.borrow().len(), 1);
    }

    #[test]
    fn backoff_doubles() {
        let p = RetryPolicy {
            attempts: 5,
            initial_backoff_ms: 100,
        };
        assert_eq!(
            (1..=4).map(|a| p.backoff_before(a)).collect::<Vec<_>>(),
            vec![0, 100, 200, 400]
        );
    }

    #[test]
    fn form_bodies_are_urlencoded() {
        let r = HttpRequest::post_form(
            "http://h/b",
            &[("properties", r#"{"branch":"x y"}"#), ("count", "2")],
        );
        assert_eq!(
            String::from_utf8_lossy(r.body.as_deref().unwrap_or_default()),
            "properties=%7B%22branch%22%3A%22x+y%22%7D&count=2"
        );
        assert_eq!(
            r.header_value("content-type"),
            Some("application/x-www-form-urlencoded")
        );
    }
}
