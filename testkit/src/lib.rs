//! # mozci-testkit — what tests and benchmarks need, and the product does not
//!
//! Kept out of the `mozci` crate so that neither WebAssembly module nor the
//! CLI carries it:
//! - [`culprit_sim`]: seeded culprit-search cases, their simulated job runs,
//!   and the strategies `benches/culprit.rs` compares;
//! - [`hawk_verify`]: a Hawk server's verification of a request, to check
//!   the core's signer against (tests, the `tc_hawk` fuzz target).

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod culprit_sim;
pub mod hawk_verify;
