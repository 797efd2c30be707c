//! # mozci — the core of mozci for Treeherder
//!
//! Answers "did this push break the job, or is it intermittent, and which push
//! did it?" for Mozilla's CI. The same crate runs natively (the `mozci` CLI,
//! the sandbox's tests, benchmarks) and in Firefox as WebAssembly (the add-on).
//!
//! Layers, data flowing downward (nothing below imports from above):
//! - [`engine`]: drives the decisions through the CI systems (fetch, decide,
//!   trigger, record, watch): shared by the CLI and the add-on;
//! - [`plan`]: pure decisions over data already fetched (no I/O);
//! - [`ci`]: the Job abstraction, one trait over Buildbot and Taskcluster;
//! - [`services`]: clients of the services that are not CI systems
//!   (Treeherder), read by `ci/` and the engine alike;
//! - [`sources`]: one module per wire format, URL building and parsing only;
//! - [`model`]: pushes, jobs, states, results;
//! - [`http`]: the single I/O seam.
//!
//! `wasm` (wasm32 only) is the JavaScript-facing API used by the add-on.

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod addon;
pub mod ci;
pub mod engine;
pub mod error;
pub mod http;
pub mod model;
pub mod plan;
pub mod services;
pub mod sources;
pub mod url_text;

#[cfg(all(target_arch = "wasm32", feature = "addon-core"))]
pub mod wasm;
#[cfg(target_arch = "wasm32")]
pub mod wasm_page;

pub use error::{Error, Result};
