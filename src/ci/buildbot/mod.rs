//! Buildbot as a CI system: Self-Serve BuildAPI for triggers and job lists,
//! buildjson for what actually ran, allthethings for which build a test needs.
//!
//! `state` holds the pure rules that turn those records into job states.

pub mod state;
