//! Browser HTTP client: `fetch` through gloo-net. One AbortController
//! deadline covers the whole exchange, the body included, and the body is
//! read chunk by chunk against the caps of the request's body kind (the
//! browser decompresses `Content-Encoding: gzip` itself: `Content-Length`
//! is checked against the compressed cap, the bytes read against the
//! decompressed one).
//!
//! Used in the add-on's background page, where requests to CI hosts are
//! allowed by host permissions (content scripts obey page CORS in MV3).

use super::{BodyBudget, BodyLimits, HttpClient, HttpRequest, HttpResponse, Method};
use crate::error::{Error, Result};
use async_trait::async_trait;
use futures::future::{select, Either};
use gloo_net::http::{Request, RequestBuilder, Response};
use std::cell::Cell;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

/// The add-on's [`super::HttpClient`]: the browser's `fetch`, with the caps
/// and deadlines enforced here.
#[derive(Debug, Clone)]
pub struct BrowserClient {
    default_timeout_ms: u64,
}

impl BrowserClient {
    /// A client whose exchanges end after `default_timeout_ms` unless a
    /// request says otherwise.
    pub fn new(default_timeout_ms: u64) -> Self {
        BrowserClient { default_timeout_ms }
    }
}

fn network(url: &str, message: impl std::fmt::Display) -> Error {
    Error::Network {
        url: url.to_string(),
        message: message.to_string(),
    }
}

#[async_trait(?Send)]
impl HttpClient for BrowserClient {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse> {
        let url = request.url.clone();
        let limits = request.body_kind.limits();
        let deadline_ms = request
            .body_kind
            .deadline_ms(request.timeout_ms, self.default_timeout_ms);
        let controller =
            web_sys::AbortController::new().map_err(|e| network(&url, format!("{e:?}")))?;
        let signal = controller.signal();
        let mut builder: RequestBuilder = match request.method {
            Method::Get => Request::get(&url),
            Method::Head => RequestBuilder::new(&url).method(gloo_net::http::Method::HEAD),
            Method::Post => Request::post(&url),
            Method::Put => Request::put(&url),
            Method::Delete => Request::delete(&url),
        };
        builder = builder.abort_signal(Some(&signal));
        for (k, v) in &request.headers {
            builder = builder.header(k, v);
        }
        let body = request.body;
        // Set once the headers are in: a deadline after that is a body read
        // that did not finish, before it an answer that did not come.
        let headers_in = Cell::new(false);
        let exchange = async {
            let sent = match body {
                Some(body) => {
                    let array = js_sys::Uint8Array::from(body.as_slice());
                    match builder.body(array) {
                        Ok(with_body) => with_body.send().await,
                        Err(e) => Err(e),
                    }
                }
                None => builder.send().await,
            };
            let response = sent.map_err(|e| network(&url, e))?;
            headers_in.set(true);
            let status = response.status();
            let headers = response.headers().entries().collect();
            let body = read_body(&url, &response, limits).await?;
            Ok::<_, Error>(HttpResponse {
                status,
                url: url.clone(),
                headers,
                body,
            })
        };
        let timer =
            gloo_timers::future::TimeoutFuture::new(deadline_ms.min(u32::MAX as u64) as u32);
        let outcome = match select(Box::pin(exchange), timer).await {
            Either::Left((result, _)) => result,
            Either::Right(((), _)) if headers_in.get() => Err(Error::ReadDeadline {
                url: url.clone(),
                after_ms: deadline_ms,
            }),
            Either::Right(((), _)) => Err(Error::Timeout {
                url: url.clone(),
                after_ms: deadline_ms,
            }),
        };
        if outcome.is_err() {
            // Stops the transfer (a body past its cap or its deadline).
            controller.abort();
        }
        outcome
    }
}

/// The body, read from its stream against the caps; `Content-Length` (the
/// length on the wire, compressed if the answer is) is checked first.
async fn read_body(url: &str, response: &Response, limits: BodyLimits) -> Result<Vec<u8>> {
    let announced = response
        .headers()
        .get("content-length")
        .and_then(|n| n.trim().parse::<u64>().ok());
    BodyBudget::wire(url, limits).check_announced(announced)?;
    let mut decoded = BodyBudget::decoded(url, limits);
    let Some(stream) = response.body() else {
        return Ok(Vec::new());
    };
    let reader: web_sys::ReadableStreamDefaultReader = stream.get_reader().unchecked_into();
    let mut body = Vec::new();
    loop {
        let chunk = JsFuture::from(reader.read())
            .await
            .map_err(|e| network(url, format!("{e:?}")))?;
        let done = js_sys::Reflect::get(&chunk, &"done".into())
            .map_err(|e| network(url, format!("{e:?}")))?;
        if done.as_bool().unwrap_or(false) {
            return Ok(body);
        }
        let value = js_sys::Reflect::get(&chunk, &"value".into())
            .map_err(|e| network(url, format!("{e:?}")))?;
        let bytes: js_sys::Uint8Array = value
            .dyn_into()
            .map_err(|_| network(url, "the body stream gave something other than bytes"))?;
        decoded.take(bytes.length() as usize)?;
        let start = body.len();
        body.resize(start + bytes.length() as usize, 0);
        bytes.copy_to(body.get_mut(start..).unwrap_or_default());
    }
}
