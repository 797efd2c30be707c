//! A confirm task's machine time measured, in whole-job-run units: its own
//! run time over the job's typical run time (the median of the job's
//! finished runs on the range). Where either is unknown or not positive the
//! search counts the confirm action's estimate instead
//! ([`super::ConfirmAction::cost`]), never a division by zero.

/// The typical run time of a job, in seconds: the median of the given
/// finished runs' times, zeros left out; `None` when no time is positive.
pub fn typical_run_seconds(times: impl IntoIterator<Item = u64>) -> Option<f64> {
    let mut times: Vec<u64> = times.into_iter().filter(|&t| t > 0).collect();
    if times.is_empty() {
        return None;
    }
    times.sort_unstable();
    let middle = times.len() / 2;
    let median = if times.len() % 2 == 1 {
        times.get(middle).map(|&t| t as f64)
    } else {
        match (times.get(middle - 1), times.get(middle)) {
            (Some(&low), Some(&high)) => Some((low as f64 + high as f64) / 2.0),
            _ => None,
        }
    };
    median.filter(|m| *m > 0.0)
}

/// One confirm task's machine time in whole-job-run units: `task_seconds`
/// over `typical_seconds`. `None` (count the estimate) when the task's time
/// or the typical time is missing, zero, negative or not finite.
pub fn measured_cost(task_seconds: Option<u64>, typical_seconds: Option<f64>) -> Option<f64> {
    let task = task_seconds.filter(|&t| t > 0)? as f64;
    let typical = typical_seconds.filter(|t| t.is_finite() && *t > 0.0)?;
    let cost = task / typical;
    (cost.is_finite() && cost > 0.0).then_some(cost)
}

/// The machine time to plan the next confirm tasks with: the median of
/// the confirm tasks measured so far, or `estimate` before any is. The
/// estimate (a quarter of a job run) fits a suite of many tests, where a
/// confirm task re-runs only the failing ones; where the failing tests are
/// most of the suite, a task costs several job runs, and planning with the
/// estimate would keep choosing them as if they were cheap.
pub fn planning_cost(estimate: f64, measured: impl IntoIterator<Item = f64>) -> f64 {
    let mut costs: Vec<f64> = measured
        .into_iter()
        .filter(|c| c.is_finite() && *c > 0.0)
        .collect();
    if costs.is_empty() {
        return estimate;
    }
    costs.sort_by(f64::total_cmp);
    let middle = costs.len() / 2;
    let median = if costs.len() % 2 == 1 {
        costs.get(middle).copied()
    } else {
        match (costs.get(middle - 1), costs.get(middle)) {
            (Some(low), Some(high)) => Some((low + high) / 2.0),
            _ => None,
        }
    };
    median.unwrap_or(estimate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confirm_tasks_are_planned_at_their_measured_cost_once_known() {
        assert_eq!(planning_cost(0.25, []), 0.25);
        assert_eq!(planning_cost(0.25, [2.4, 2.6, 3.0]), 2.6);
        assert!((planning_cost(0.25, [0.2, 0.4]) - 0.3).abs() < 1e-12);
        assert_eq!(
            planning_cost(0.25, [f64::NAN, 0.0, -1.0, 1.5]),
            1.5,
            "only real measurements count"
        );
    }

    #[test]
    fn the_typical_time_is_the_median_of_positive_times() {
        assert_eq!(typical_run_seconds([2100, 1800, 2400]), Some(2100.0));
        assert_eq!(typical_run_seconds([1800, 2400]), Some(2100.0));
        // An outlier (a run cut short, or stuck) does not move it much.
        assert_eq!(
            typical_run_seconds([2000, 60, 2200, 9000, 2100]),
            Some(2100.0)
        );
        // Zero times (Treeherder's "not yet") are left out.
        assert_eq!(typical_run_seconds([0, 0, 2000]), Some(2000.0));
        assert_eq!(typical_run_seconds([0, 0]), None);
        assert_eq!(typical_run_seconds([]), None);
    }

    #[test]
    fn a_task_costs_its_time_over_the_typical_run() {
        let cost = measured_cost(Some(525), Some(2100.0)).unwrap();
        assert!((cost - 0.25).abs() < 1e-12, "{cost}");
        let long = measured_cost(Some(5250), Some(2100.0)).unwrap();
        assert!((long - 2.5).abs() < 1e-12, "{long}");
    }

    #[test]
    fn missing_or_non_positive_times_fall_back_to_the_estimate() {
        // Missing: the task's time, the typical time, or both.
        assert_eq!(measured_cost(None, Some(2100.0)), None);
        assert_eq!(measured_cost(Some(600), None), None);
        assert_eq!(measured_cost(None, None), None);
        // Zero or negative: never a division by zero.
        assert_eq!(measured_cost(Some(0), Some(2100.0)), None);
        assert_eq!(measured_cost(Some(600), Some(0.0)), None);
        assert_eq!(measured_cost(Some(600), Some(-2100.0)), None);
        assert_eq!(measured_cost(Some(600), Some(f64::NAN)), None);
        assert_eq!(measured_cost(Some(600), Some(f64::INFINITY)), None);
        // From no finished run at all.
        assert_eq!(measured_cost(Some(600), typical_run_seconds([0])), None);
    }
}
