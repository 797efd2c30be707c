//! Pure decisions over data already fetched: no I/O, no clock of their own
//! (time is passed in), so they behave the same natively and in the browser.
//!
//! - [`trigger`]: N runs of a job type on each push of a range;
//! - [`backfill`]: back to the last good push;
//! - [`merges`]: following a merge into its source repository;
//! - [`monitor`]: reactions while triggered work runs;
//! - [`job_events`]: live job events (Pulse) reduced to run states, and
//!   which of them are worth a poll;
//! - [`live_events`]: the add-on's subscription socket as state (what to
//!   send, and which messages call for a fresh look);
//! - [`verdict`]: the answer once the runs are in;
//! - [`backfill_button`]: whether the add-on's button applies;
//! - [`failure_rate`]: how often a job fails, and how many runs tell;
//! - [`default_times`]: the times count that follows from that rate;
//! - [`broken_streaks`]: the part of a job's history that is not flakes;
//! - [`culprit`]: flake-aware search for the push that introduced a failure
//!   ([`culprit_sim`] simulates cases for its benchmark and tests).

pub mod backfill;
pub mod backfill_button;
pub mod broken_streaks;
pub mod culprit;
pub mod culprit_sim;
pub mod default_times;
pub mod failure_rate;
pub mod job_events;
pub mod live_events;
pub mod merges;
pub mod monitor;
pub mod trigger;
pub mod verdict;

#[cfg(test)]
pub(crate) mod test_support;
#[cfg(test)]
mod tests;
