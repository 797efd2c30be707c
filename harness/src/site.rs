//! A tiny static web server for local test pages (the Treeherder markup
//! samples under tests/pages/), bound to a free port on 127.0.0.1.

use anyhow::{Context, Result};
use axum::body::Body;
use axum::http::{header, StatusCode, Uri};
use axum::response::Response;
use axum::Router;
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use tokio::task::JoinHandle;

/// Files served by path; any query string is ignored, as a single-page app's
/// server would.
pub struct StaticSite {
    pub origin: String,
    server: JoinHandle<()>,
}

impl StaticSite {
    /// Serve `routes` (URL path → file on disk). Files are read once, now.
    pub async fn serve(routes: &[(&str, &Path)]) -> Result<StaticSite> {
        let mut files = HashMap::new();
        for (route, path) in routes {
            let body = std::fs::read(path)
                .with_context(|| format!("reading test page {}", path.display()))?;
            files.insert(route.to_string(), (content_type(path), body));
        }
        let files = Arc::new(files);
        let app = Router::new().fallback(move |uri: Uri| {
            let files = files.clone();
            async move {
                match files.get(uri.path()) {
                    Some((ctype, body)) => Response::builder()
                        .header(header::CONTENT_TYPE, *ctype)
                        .header(header::CACHE_CONTROL, "no-store")
                        .body(Body::from(body.clone()))
                        .unwrap_or_default(),
                    None => Response::builder()
                        .status(StatusCode::NOT_FOUND)
                        .body(Body::from("not found"))
                        .unwrap_or_default(),
                }
            }
        });
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .context("binding the test page server")?;
        let origin = format!("http://{}", listener.local_addr()?);
        let server = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                eprintln!("test page server stopped: {e}");
            }
        });
        Ok(StaticSite { origin, server })
    }

    pub fn url(&self, path_and_query: &str) -> String {
        format!("{}{}", self.origin, path_and_query)
    }
}

impl Drop for StaticSite {
    fn drop(&mut self) {
        self.server.abort();
    }
}

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("json") => "application/json",
        Some("svg") => "image/svg+xml",
        _ => "application/octet-stream",
    }
}
