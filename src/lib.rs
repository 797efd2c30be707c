//! # mozci — the core of mozci for Treeherder
//!
//! Answers "did this push break the job, or is it intermittent, and which push
//! did it?" for Mozilla's CI. The same crate runs natively (the `mozci` CLI,
//! the sandbox's tests, benchmarks) and in Firefox as WebAssembly (the add-on).
//!
//! Layers, top first; each imports only from the layers below it
//! (`tests/layering.rs` checks it, and that no module imports itself back):
//! - [`addon`] (and `wasm`, wasm32 only): the add-on driver's Rust side and
//!   the JavaScript-facing API over it; the CLI (`cli/`) is the other driver;
//! - [`engine`]: drives the decisions through the CI systems (fetch, decide,
//!   trigger, record, watch), shared by both drivers and naming no CI system;
//! - [`ci`]: the Job abstraction, one trait over Buildbot and Taskcluster,
//!   and everything that differs between them;
//! - [`services`]: clients of the services that are not CI systems
//!   (Treeherder), read by `ci/` and the engine alike;
//! - [`plan`]: pure decisions over data already fetched (no I/O);
//! - [`sources`]: one module per wire format, URL building and parsing only;
//! - [`http`]: the single I/O seam;
//! - [`model`]: pushes, jobs, states, results;
//! - [`error`] and [`url_text`]: typed errors, and URLs read from text.
//!
//! The public surface is the layers themselves, on purpose: the CLI drives
//! the engine, the contract tests and fuzz targets call each wire parser
//! directly, and the sandbox reads the recorded payloads through them. What
//! only a module's own layer needs is `pub(crate)`, and every public item is
//! documented (`#![warn(missing_docs)]`, with clippy's `-D warnings`).

#![warn(missing_docs)]
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
