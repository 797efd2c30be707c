//! The page-level part of the JavaScript API: what a Treeherder page
//! selects and whether Backfill applies. It builds without the engine
//! (feature `addon-core`), so the content script's small module (`page/`)
//! exports exactly these functions, and the background's core exports them
//! too, from this one definition.

use crate::plan::backfill_button::backfill_button_state;
use crate::sources::treeherder_page::parse_job_view_url;
use serde::Serialize;
use wasm_bindgen::prelude::*;

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
    to_js(&backfill_button_state(selection.as_ref()))
}

/// Plain JSON-shaped JS values: objects (not `Map`s), `null` for `None`.
pub(crate) fn to_js<T: Serialize>(value: &T) -> Result<JsValue, JsError> {
    let text = serde_json::to_string(value).map_err(|e| JsError::new(&e.to_string()))?;
    js_sys::JSON::parse(&text).map_err(|_| JsError::new("the core wrote invalid JSON"))
}
