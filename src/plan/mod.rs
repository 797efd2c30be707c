//! Pure decisions over data already fetched: no I/O, no clock of their own
//! (time is passed in), so they behave the same natively and in the browser.
//!
//! - [`trigger`]: N runs of a job type on each push of a range;
//! - [`backfill`]: back to the last good push;
//! - [`merges`]: following a merge into its source repository;
//! - [`monitor`]: reactions while triggered work runs;
//! - [`verdict`]: the answer once the runs are in;
//! - [`failure_scope`]: which failures count (the selected run's failure
//!   signature, any failure, one test);
//! - [`backfill_button`]: whether the add-on's button applies;
//! - [`choices`]: the modes, bounds and defaults every driver offers;
//! - [`confirmation`]: whether a plan waits for the user's confirmation;
//! - [`failure_rate`]: how often a job fails, and how many runs tell;
//! - [`default_times`]: the times count that follows from that rate;
//! - [`broken_streaks`]: the part of a job's history that is not flakes;
//! - [`culprit`]: flake-aware search for the push that introduced a failure
//!   (its simulator, for the benchmark and tests, is in the `mozci-testkit`
//!   crate).

pub mod backfill;
pub mod backfill_button;
pub mod broken_streaks;
pub mod choices;
pub mod confirmation;
pub mod culprit;
pub mod default_times;
pub mod failure_rate;
pub mod failure_scope;
pub mod merges;
pub mod monitor;
pub mod trigger;
pub mod verdict;

#[cfg(test)]
pub(crate) mod test_support;
#[cfg(test)]
mod tests;
