//! The content script's WebAssembly module: it runs on every Treeherder page
//! the add-on matches, so it holds only what the page needs (which job the
//! page selects, and whether the Backfill button applies to it), a small
//! fraction of the core the background page loads for planning and
//! triggering. The functions are the core's own (`mozci::wasm_page`),
//! built here without the engine.

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

#[cfg(target_arch = "wasm32")]
pub use mozci::wasm_page::{backfill_button_state_js, core_version, job_view_selection};
