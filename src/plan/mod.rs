//! Pure decisions over data already fetched: no I/O, no clock of their own
//! (time is passed in), so they behave the same natively and in the browser.

pub mod backfill_button;
pub mod culprit;
pub mod culprit_sim;
pub mod failure_rate;
