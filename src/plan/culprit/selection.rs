//! Choosing the next batch of runs: greedy maximization of the expected
//! entropy reduction of the culprit posterior, run by run, where each added
//! run is scored against every outcome of the runs already in the batch.

use super::likelihood::{JointPosterior, RatePoint};

/// Outcome branches kept while building a batch; the least likely are
/// dropped beyond this (their share of the score is negligible).
const MAX_BRANCHES: usize = 24;

/// Hypotheses below this posterior probability are left out of the batch
/// choice: they cannot change which run is most informative.
const NEGLIGIBLE: f64 = 1e-7;

/// The part of the joint posterior the batch choice looks at: hypotheses
/// that still matter, in push order ("no culprit" last if present).
struct ActiveRows {
    /// Hypothesis number of each row (1..=n culprit, n + 1 none).
    hypotheses: Vec<usize>,
    /// Rows of the weights, one per entry of `hypotheses`.
    weights: Vec<f64>,
}

impl ActiveRows {
    fn new(posterior: &JointPosterior) -> Self {
        let points = posterior.points.max(1);
        let mut rows = ActiveRows {
            hypotheses: Vec::new(),
            weights: Vec::new(),
        };
        for (index, row) in posterior.weights.chunks(points).enumerate() {
            if row.iter().sum::<f64>() >= NEGLIGIBLE {
                rows.hypotheses.push(index + 1);
                rows.weights.extend_from_slice(row);
            }
        }
        rows
    }

    /// Candidate pushes: 0 (older), then each active culprit hypothesis'
    /// push. A run at push i only tells which side of i the culprit is on,
    /// so pushes between two active hypotheses are all alike.
    fn candidates(&self, n: usize) -> Vec<usize> {
        std::iter::once(0)
            .chain(self.hypotheses.iter().copied().filter(|&h| h <= n))
            .collect()
    }
}

/// One possible outcome of the runs chosen so far in the batch: failure
/// counts per distinct batch push, and the active rows' weights it leads
/// to (unnormalized: they sum to the outcome's probability).
struct Branch {
    failures_per_push: Vec<u8>,
    weights: Vec<f64>,
}

/// Per-hypothesis sums of one branch: total mass, and the mass that a run
/// fails, if the run is unaffected (flake rate) or affected.
struct HypothesisMasses {
    total: Vec<f64>,
    fail_unaffected: Vec<f64>,
    fail_affected: Vec<f64>,
}

fn x_ln_x(x: f64) -> f64 {
    if x > 0.0 {
        x * x.ln()
    } else {
        0.0
    }
}

fn masses(weights: &[f64], grid: &[RatePoint]) -> HypothesisMasses {
    let rows = weights.len() / grid.len().max(1);
    let mut m = HypothesisMasses {
        total: Vec::with_capacity(rows),
        fail_unaffected: Vec::with_capacity(rows),
        fail_affected: Vec::with_capacity(rows),
    };
    for row in weights.chunks(grid.len().max(1)) {
        let (mut t, mut u, mut a) = (0.0, 0.0, 0.0);
        for (w, point) in row.iter().zip(grid) {
            t += w;
            u += w * point.clamped_flake;
            a += w * point.clamped_affected;
        }
        m.total.push(t);
        m.fail_unaffected.push(u);
        m.fail_affected.push(a);
    }
    m
}

/// Adds to `scores[j]` the expected entropy reduction (times the branch
/// probability) of one run at candidate `j`, where candidate 0 affects no
/// row and candidate `j > 0` affects rows `0..j`.
///
/// With U(m) = Z ln Z − Σ m ln m (Z = Σ m), the reduction is
/// U(total) − U(mass if it fails) − U(mass if it passes); prefix sums give
/// every candidate in O(1).
fn add_gains(m: &HypothesisMasses, scores: &mut [f64]) {
    let sum = |v: &[f64]| v.iter().sum::<f64>();
    let z_total = sum(&m.total);
    let u_total = x_ln_x(z_total) - m.total.iter().map(|&x| x_ln_x(x)).sum::<f64>();
    let pass_if = |fail: &[f64]| -> Vec<f64> {
        m.total
            .iter()
            .zip(fail)
            .map(|(t, f)| (t - f).max(0.0))
            .collect()
    };
    let (pass_u, pass_a) = (pass_if(&m.fail_unaffected), pass_if(&m.fail_affected));
    // Candidate 0: nothing affected.
    let (mut z_fail, mut z_pass) = (sum(&m.fail_unaffected), sum(&pass_u));
    let mut s_fail: f64 = m.fail_unaffected.iter().map(|&x| x_ln_x(x)).sum();
    let mut s_pass: f64 = pass_u.iter().map(|&x| x_ln_x(x)).sum();
    for (candidate, score) in scores.iter_mut().enumerate() {
        if candidate > 0 {
            // Row `candidate - 1` becomes affected.
            let r = candidate - 1;
            if let (Some(fa), Some(fu), Some(pa), Some(pu)) = (
                m.fail_affected.get(r),
                m.fail_unaffected.get(r),
                pass_a.get(r),
                pass_u.get(r),
            ) {
                z_fail += fa - fu;
                z_pass += pa - pu;
                s_fail += x_ln_x(*fa) - x_ln_x(*fu);
                s_pass += x_ln_x(*pa) - x_ln_x(*pu);
            }
        }
        let u_fail = x_ln_x(z_fail) - s_fail;
        let u_pass = x_ln_x(z_pass) - s_pass;
        *score += u_total - u_fail - u_pass;
    }
}

/// Splits every branch on the outcome of one run affecting the first
/// `affected_rows` rows (slot `slot` among the batch's distinct pushes),
/// merging branches that reach equal failure counts.
fn split(
    branches: Vec<Branch>,
    affected_rows: usize,
    slot: usize,
    grid: &[RatePoint],
) -> Vec<Branch> {
    let points = grid.len().max(1);
    let mut children: Vec<Branch> = Vec::with_capacity(branches.len() * 2);
    for branch in branches {
        let mut fail = branch.weights.clone();
        let mut pass = branch.weights;
        for (row, (fail_row, pass_row)) in fail
            .chunks_mut(points)
            .zip(pass.chunks_mut(points))
            .enumerate()
        {
            let affected = row < affected_rows;
            for ((wf, wp), point) in fail_row.iter_mut().zip(pass_row.iter_mut()).zip(grid) {
                let rate = point.failure_probability(affected);
                *wf *= rate;
                *wp *= 1.0 - rate;
            }
        }
        for (weights, failed) in [(fail, true), (pass, false)] {
            let mut key = branch.failures_per_push.clone();
            if key.len() <= slot {
                key.resize(slot + 1, 0);
            }
            if failed {
                if let Some(k) = key.get_mut(slot) {
                    *k += 1;
                }
            }
            match children.iter_mut().find(|c| c.failures_per_push == key) {
                Some(existing) => {
                    for (a, b) in existing.weights.iter_mut().zip(&weights) {
                        *a += b;
                    }
                }
                None => children.push(Branch {
                    failures_per_push: key,
                    weights,
                }),
            }
        }
    }
    if children.len() > MAX_BRANCHES {
        let mut with_mass: Vec<(f64, Branch)> = children
            .into_iter()
            .map(|b| (b.weights.iter().sum::<f64>(), b))
            .collect();
        with_mass.sort_by(|a, b| b.0.total_cmp(&a.0));
        with_mass.truncate(MAX_BRANCHES);
        children = with_mass.into_iter().map(|(_, b)| b).collect();
    }
    children
}

/// Picks `runs` pushes (0 = a push older than the range, else 1..=n) for
/// the next round, greedily: each pick maximizes the expected information
/// it adds to the picks before it.
pub fn choose_batch(posterior: &JointPosterior, grid: &[RatePoint], runs: usize) -> Vec<i64> {
    let n = posterior.hypotheses - 1;
    let active = ActiveRows::new(posterior);
    let candidates = active.candidates(n);
    let mut branches = vec![Branch {
        failures_per_push: Vec::new(),
        weights: active.weights.clone(),
    }];
    let mut distinct_pushes: Vec<usize> = Vec::new();
    let mut batch = Vec::with_capacity(runs);
    for pick in 0..runs {
        let mut scores = vec![0.0; candidates.len()];
        for branch in &branches {
            add_gains(&masses(&branch.weights, grid), &mut scores);
        }
        // First maximum wins ties, which keeps the choice deterministic.
        let mut best = 0;
        for (candidate, score) in scores.iter().enumerate() {
            if scores.get(best).is_some_and(|b| score > b) {
                best = candidate;
            }
        }
        let push = candidates.get(best).copied().unwrap_or(0);
        batch.push(push as i64);
        if pick + 1 < runs {
            let slot = match distinct_pushes.iter().position(|&p| p == push) {
                Some(slot) => slot,
                None => {
                    distinct_pushes.push(push);
                    distinct_pushes.len() - 1
                }
            };
            // Candidate j affects rows 0..j.
            branches = split(branches, best, slot, grid);
        }
    }
    batch.sort();
    batch
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::culprit::likelihood::PushCounts;

    fn posterior(n: usize, grid: &[RatePoint], runs: &[(i64, bool)]) -> JointPosterior {
        let mut c = PushCounts::new(n);
        for &(push, failed) in runs {
            c.add(push, failed);
        }
        let prior = vec![(1.0 / (n as f64 + 1.0)).ln(); n + 1];
        JointPosterior::compute(&c, &prior, grid)
    }

    #[test]
    fn gain_of_a_noiseless_run_is_the_entropy_of_its_answer() {
        // f = 0, q = 1, 3 hypotheses (n = 2) equally likely: a run at push 1
        // splits {1} from {2, none}: gain = H(1/3, 2/3).
        let grid = [RatePoint::new(0.0, 1.0, 0.0)];
        let post = posterior(2, &grid, &[]);
        let mut scores = vec![0.0; 3];
        add_gains(&masses(&post.weights, &grid), &mut scores);
        let h = -(1.0f64 / 3.0) * (1.0f64 / 3.0).ln() - (2.0f64 / 3.0) * (2.0f64 / 3.0).ln();
        assert!(
            scores[0].abs() < 1e-5,
            "older push tells nothing: {scores:?}"
        );
        assert!((scores[1] - h).abs() < 1e-4, "{scores:?}");
        assert!((scores[2] - h).abs() < 1e-4, "{scores:?}");
    }

    #[test]
    fn noiseless_batch_splits_the_range_instead_of_repeating_a_push() {
        // 7 pushes + none = 8 equally likely hypotheses; 3 noiseless runs
        // can identify the answer exactly, which needs 3 distinct pushes.
        let grid = [RatePoint::new(0.0, 1.0, 0.0)];
        let post = posterior(7, &grid, &[]);
        let batch = choose_batch(&post, &grid, 3);
        assert_eq!(batch.len(), 3);
        let mut distinct = batch.clone();
        distinct.dedup();
        assert_eq!(distinct.len(), 3, "{batch:?}");
    }

    #[test]
    fn unknown_flake_rate_makes_older_pushes_worth_running() {
        // The range is all failing at ~0.4: either no culprit with a flaky
        // job, or a culprit at push 1 with a weak regression. Only runs on
        // older pushes tell the flake rate, hence the two apart.
        let grid = [
            RatePoint::new(0.05, 0.4, 0.0),
            RatePoint::new(0.4, 0.05, 0.0),
        ];
        let mut runs = Vec::new();
        for push in 1..=4 {
            for i in 0..10 {
                runs.push((push, i < 4));
            }
        }
        let post = posterior(4, &grid, &runs);
        let batch = choose_batch(&post, &grid, 2);
        assert_eq!(batch.first(), Some(&0), "{batch:?}");
    }
}
