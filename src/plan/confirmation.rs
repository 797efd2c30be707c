//! Whether a plan waits for the user's confirmation before anything is
//! sent: one rule for every driver, with the size above which a driver asks
//! as its only input (the add-on asks for every plan, the command line above
//! `--confirm-above`; see docs/threat-model.md for why they differ).

/// What the rule looks at in a plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlanSize {
    /// CI jobs the plan starts right away (builds included).
    pub jobs_started_now: u32,
    /// Whether something the user knows bounds the range: a last good push,
    /// or the pushes they named. A backfill that found no good run within
    /// its depth is not bounded.
    pub bounded: bool,
    /// Whether the tool chose the runs per push (from the failure rate)
    /// rather than the user.
    pub times_chosen_by_tool: bool,
}

/// Whether a person must confirm `plan` first: never when it starts
/// nothing; otherwise when it starts more than `confirm_above` jobs, when no
/// last good push bounds it, or when the tool chose how many runs per push
/// (a count nobody typed is shown before it is spent).
pub fn needs_confirmation(plan: PlanSize, confirm_above: u32) -> bool {
    plan.jobs_started_now > 0
        && (plan.jobs_started_now > confirm_above || !plan.bounded || plan.times_chosen_by_tool)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn size(jobs: u32, bounded: bool, chosen: bool) -> PlanSize {
        PlanSize {
            jobs_started_now: jobs,
            bounded,
            times_chosen_by_tool: chosen,
        }
    }

    #[test]
    fn a_plan_starting_nothing_needs_no_confirmation() {
        assert!(!needs_confirmation(size(0, false, true), 0));
    }

    #[test]
    fn above_the_limit_unbounded_or_a_chosen_count_asks_first() {
        assert!(!needs_confirmation(size(5, true, false), 20));
        assert!(needs_confirmation(size(21, true, false), 20));
        assert!(
            needs_confirmation(size(5, false, false), 20),
            "no last good push"
        );
        assert!(
            needs_confirmation(size(5, true, true), 20),
            "a count the tool chose"
        );
        // A limit of 0 (the add-on's) asks for every plan that starts a job.
        assert!(needs_confirmation(size(1, true, false), 0));
    }
}
