//! Browser HTTP client: `fetch` through gloo-net, with a timeout via AbortController.
//!
//! Used in the add-on's background page, where requests to CI hosts are
//! allowed by host permissions (content scripts obey page CORS in MV3).

use super::{HttpClient, HttpRequest, HttpResponse, Method};
use crate::error::{Error, Result};
use async_trait::async_trait;
use futures::future::{select, Either};
use gloo_net::http::{Request, RequestBuilder};

#[derive(Debug, Clone)]
pub struct BrowserClient {
    default_timeout_ms: u64,
}

impl BrowserClient {
    pub fn new(default_timeout_ms: u64) -> Self {
        BrowserClient { default_timeout_ms }
    }
}

#[async_trait(?Send)]
impl HttpClient for BrowserClient {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse> {
        let url = request.url.clone();
        let timeout_ms = request.timeout_ms.unwrap_or(self.default_timeout_ms);
        let controller = web_sys::AbortController::new().map_err(|e| Error::Network {
            url: url.clone(),
            message: format!("{e:?}"),
        })?;
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
        let sent = async move {
            match body {
                Some(body) => {
                    let array = js_sys::Uint8Array::from(body.as_slice());
                    builder.body(array)?.send().await
                }
                None => builder.send().await,
            }
        };
        let timer = gloo_timers::future::TimeoutFuture::new(timeout_ms.min(u32::MAX as u64) as u32);
        let response = match select(Box::pin(sent), timer).await {
            Either::Left((result, _)) => result.map_err(|e| Error::Network {
                url: url.clone(),
                message: e.to_string(),
            })?,
            Either::Right(((), _)) => {
                controller.abort();
                return Err(Error::Timeout {
                    url,
                    after_ms: timeout_ms,
                });
            }
        };
        let status = response.status();
        let headers = response.headers().entries().collect();
        let body = response.binary().await.map_err(|e| Error::Network {
            url: url.clone(),
            message: e.to_string(),
        })?;
        Ok(HttpResponse {
            status,
            url,
            headers,
            body,
        })
    }
}
