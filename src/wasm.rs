//! The JavaScript-facing API of the core, used by the add-on's content script
//! and background page. Values cross as plain JS objects (serde-wasm-bindgen);
//! every decision stays in Rust.

use crate::http::{get_json, BrowserClient};
use crate::plan::backfill_button::backfill_button_state;
use crate::sources::treeherder_page::parse_job_view_url;
use serde::Serialize;
use wasm_bindgen::prelude::*;

#[wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
}

/// The core's version, so the add-on can show which core it runs.
#[wasm_bindgen(js_name = coreVersion)]
pub fn core_version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}

/// What a Treeherder job view URL selects (`null` when it is not a job view).
#[wasm_bindgen(js_name = jobViewSelection)]
pub fn job_view_selection(page_url: &str) -> Result<JsValue, JsError> {
    to_js(&parse_job_view_url(page_url))
}

/// `{enabled, title}` for the Backfill button on the page at `page_url`.
#[wasm_bindgen(js_name = backfillButtonState)]
pub fn backfill_button_state_js(page_url: &str) -> Result<JsValue, JsError> {
    let selection = parse_job_view_url(page_url);
    Ok(serde_wasm_bindgen::to_value(&backfill_button_state(
        selection.as_ref(),
    ))?)
}

/// GET a JSON document through the core's browser HTTP client (used by the
/// background page, which holds the host permissions).
#[wasm_bindgen(js_name = fetchJson)]
pub async fn fetch_json(url: String, timeout_ms: u32) -> Result<JsValue, JsError> {
    let client = BrowserClient::new(u64::from(timeout_ms));
    let value: serde_json::Value = get_json(&client, &url, &url)
        .await
        .map_err(|e| JsError::new(&e.to_string()))?;
    to_js(&value)
}

/// Plain JSON-shaped JS values: objects (not `Map`s), `null` for `None`.
fn to_js<T: Serialize>(value: &T) -> Result<JsValue, JsError> {
    Ok(value.serialize(&serde_wasm_bindgen::Serializer::json_compatible())?)
}
