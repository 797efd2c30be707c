//! The content script's WebAssembly module: it runs on every Treeherder page
//! the add-on matches, so it holds only what the page needs (which job the
//! page selects, and whether the Backfill button applies to it), a small
//! fraction of the core the background page loads for planning and
//! triggering. Both come from the same `mozci` crate.

#[cfg(target_arch = "wasm32")]
mod exports {
    use mozci::plan::backfill_button::backfill_button_state;
    use mozci::sources::treeherder_page::parse_job_view_url;
    use serde::Serialize;
    use wasm_bindgen::prelude::*;

    /// The core's version (the background reports its own; they match
    /// when both modules come from one build).
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

    /// Plain JSON-shaped JS values (objects, `null` for `None`).
    fn to_js<T: Serialize>(value: &T) -> Result<JsValue, JsError> {
        let text = serde_json::to_string(value).map_err(|e| JsError::new(&e.to_string()))?;
        js_sys::JSON::parse(&text).map_err(|_| JsError::new("the core wrote invalid JSON"))
    }
}
