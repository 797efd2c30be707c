//! # mozci-harness — real-browser end-to-end tests for the add-on
//!
//! Starts geckodriver and headless Firefox ESR with the unpacked add-on
//! installed as a temporary add-on, serves local pages (or starts the
//! `mozci-sandbox`), and on failure leaves a screenshot and the browser
//! console under `artifacts/<test name>/`. Used by the root crate's browser
//! tests and by `mozci-demo`, the README's first command.

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod admin;
pub mod artifacts;
pub mod firefox;
pub mod panel;
pub mod ports;
pub mod proxy;
pub mod sandbox;
pub mod session;
pub mod site;

pub use admin::{hook_callback, SandboxAdmin};
pub use artifacts::{run_browser_session, run_browser_test};
pub use fantoccini;
pub use fantoccini::wd::WindowHandle;
pub use firefox::{Browser, BrowserOptions};
pub use sandbox::{newest_failed_push, running_sandboxes, Sandbox, SandboxOrigins};
pub use session::{sheriff_session, SHERIFF_TC_CLIENT, SHERIFF_TC_TOKEN};
pub use site::StaticSite;

use std::path::PathBuf;

/// The add-on's id (manifest.json `browser_specific_settings.gecko.id`).
pub const ADDON_ID: &str = "mozci-treeherder@mozci.example";
/// The moz-extension:// host the harness gives the add-on.
pub const ADDON_UUID: &str = "5f0c6a2e-8d4b-4c1e-9a73-2b6e4d8f1c05";

/// The add-on's page at `path` (e.g. `extension/options.html`).
pub fn addon_url(path: &str) -> String {
    format!("moz-extension://{ADDON_UUID}/{path}")
}

/// The repository root (where manifest.json lives): the unpacked add-on.
pub fn repo_root() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    root.canonicalize().unwrap_or(root)
}

/// Whether the built wasm core is present; browser tests need
/// `scripts/build-addon` to have run first.
pub fn addon_is_built() -> bool {
    [
        "pkg/mozci_bg.wasm",
        "pkg/mozci.js",
        "pkg-page/mozci_page_bg.wasm",
        "pkg-page/mozci_page.js",
    ]
    .iter()
    .all(|file| repo_root().join(file).is_file())
}
