//! Native HTTP client (CLI, sandbox tests, benchmarks), on reqwest: one
//! deadline over the whole exchange, the body streamed against its caps, and
//! gzip decoded here with a cap on the decoded size.

use super::{BodyBudget, HttpClient, HttpRequest, HttpResponse, Method};
use crate::error::{Error, Result};
use crate::http::gzip::{GzipReader, OutputLimitExceeded};
use crate::url_text::parse_url;
use async_trait::async_trait;
use std::io::Read;
use std::time::Duration;
use tokio::time::{timeout_at, Instant};

/// Production services reject default scripting User-Agents; say who we are.
pub const USER_AGENT: &str = concat!("mozci-treeherder/", env!("CARGO_PKG_VERSION"));

/// The native [`super::HttpClient`]: reqwest, with the caps and deadlines
/// enforced here.
#[derive(Debug, Clone)]
pub struct NativeClient {
    inner: reqwest::Client,
    default_timeout: Duration,
}

impl NativeClient {
    /// A client whose exchanges end after `default_timeout` unless a
    /// request says otherwise.
    pub fn new(default_timeout: Duration) -> Result<Self> {
        // Decompression is done here, not by reqwest, so that the compressed
        // and the decompressed body each have their cap (a gzip bomb stops at
        // the cap). `no_gzip` also holds when another crate of the build
        // turns reqwest's `gzip` feature on.
        let inner = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .no_gzip()
            .build()
            .map_err(|e| Error::Config(format!("cannot create the HTTP client: {e}")))?;
        Ok(NativeClient {
            inner,
            default_timeout,
        })
    }
}

#[async_trait(?Send)]
impl HttpClient for NativeClient {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse> {
        let method = match request.method {
            Method::Get => reqwest::Method::GET,
            Method::Head => reqwest::Method::HEAD,
            Method::Post => reqwest::Method::POST,
            Method::Put => reqwest::Method::PUT,
            Method::Delete => reqwest::Method::DELETE,
        };
        let limits = request.body_kind.limits();
        let deadline_ms = request.body_kind.deadline_ms(
            request.timeout_ms,
            u64::try_from(self.default_timeout.as_millis()).unwrap_or(u64::MAX),
        );
        // One deadline for the whole exchange: connecting, headers and body.
        let deadline = Instant::now() + Duration::from_millis(deadline_ms);
        // Parsed here, not by reqwest, so that a hostile address (a log URL
        // from a server, say) gets url_text's clear error in every build.
        let target = parse_url(&request.url)
            .map_err(|e| Error::Invalid(format!("cannot request {}: {e}", request.url)))?;
        let mut builder = self.inner.request(method, target);
        if request.header_value("accept-encoding").is_none() {
            builder = builder.header("Accept-Encoding", "gzip");
        }
        for (k, v) in &request.headers {
            builder = builder.header(k, v);
        }
        if let Some(body) = request.body {
            builder = builder.body(body);
        }
        let url = request.url;
        let network = |e: reqwest::Error| {
            if e.is_connect() {
                // No connection was made: nothing was sent (a trigger can be
                // counted as not done).
                Error::Unreachable {
                    url: url.clone(),
                    message: root_cause(&e),
                }
            } else {
                Error::Network {
                    url: url.clone(),
                    message: root_cause(&e),
                }
            }
        };
        let mut response = match timeout_at(deadline, builder.send()).await {
            Ok(sent) => sent.map_err(network)?,
            Err(_) => {
                return Err(Error::Timeout {
                    url,
                    after_ms: deadline_ms,
                })
            }
        };
        let status = response.status().as_u16();
        let mut headers: Vec<(String, String)> = response
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let mut wire_budget = BodyBudget::wire(&url, limits);
        wire_budget.check_announced(response.content_length())?;
        let read = async {
            let mut wire = Vec::new();
            while let Some(chunk) = response.chunk().await.map_err(network)? {
                wire_budget.take(chunk.len())?;
                wire.extend_from_slice(&chunk);
            }
            Ok::<_, Error>(wire)
        };
        let wire = match timeout_at(deadline, read).await {
            Ok(read) => read?,
            Err(_) => {
                return Err(Error::ReadDeadline {
                    url,
                    after_ms: deadline_ms,
                })
            }
        };
        let encoding =
            header_of(&headers, "content-encoding").map(|e| e.trim().to_ascii_lowercase());
        let body = match encoding.as_deref() {
            // HEAD, 204 and 304 answers keep the header with no body.
            _ if wire.is_empty() => wire,
            None | Some("" | "identity") => {
                BodyBudget::decoded(&url, limits).take(wire.len())?;
                wire
            }
            Some("gzip" | "x-gzip") => {
                let body = gunzip(&url, &wire, limits.max_decoded_bytes)?;
                // The body handed on is the decoded one (as a browser's fetch
                // gives it); its encoded length no longer applies.
                headers.retain(|(k, _)| {
                    !k.eq_ignore_ascii_case("content-encoding")
                        && !k.eq_ignore_ascii_case("content-length")
                });
                body
            }
            Some(other) => {
                return Err(Error::Network {
                    url,
                    message: format!(
                        "unsupported Content-Encoding `{other}` (only gzip was asked for)"
                    ),
                })
            }
        };
        Ok(HttpResponse {
            status,
            url,
            headers,
            body,
        })
    }
}

fn header_of<'h>(headers: &'h [(String, String)], name: &str) -> Option<&'h str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// The decoded body of a `Content-Encoding: gzip` answer, at most `limit` bytes.
fn gunzip(url: &str, wire: &[u8], limit: u64) -> Result<Vec<u8>> {
    let mut body = Vec::new();
    GzipReader::multi_member(wire)
        .max_output(limit)
        .read_to_end(&mut body)
        .map_err(|e| match OutputLimitExceeded::in_io_error(&e) {
            Some(limit_bytes) => Error::BodyTooLarge {
                url: url.to_string(),
                limit_bytes,
                decompressed: true,
            },
            None => Error::Network {
                url: url.to_string(),
                message: format!("the gzip-encoded body is corrupt: {e}"),
            },
        })?;
    Ok(body)
}

fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut msg = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        msg = format!("{msg}: {s}");
        source = s.source();
    }
    msg
}
