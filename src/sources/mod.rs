//! One module per wire format: URL building and parsing, no I/O.
//!
//! Functions are named after the endpoints they build or read
//! (`json_pushes`, `trigger_hook`, `self_serve_rev`) so that a reader can look
//! them up in the services' own documentation.

#![warn(missing_docs)]

pub mod allthethings;
pub mod buildapi;
pub mod buildjson;
pub mod failure_lines;
pub mod failure_types;
pub mod log_lines;
pub mod mozlog;
pub mod pushlog;
pub mod taskcluster;
pub mod test_failures;
pub mod test_repeats;
pub mod treeherder;
pub mod treeherder_errors;
pub mod treeherder_page;
pub mod trychooser;
pub mod unstructured_log;
