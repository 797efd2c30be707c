//! Choosing the next round: greedy maximization of the expected entropy
//! reduction of the culprit posterior per unit of machine time, pick by
//! pick, where each pick (one job run, or one confirm task's repeats on a
//! push with a failed run) is scored against every outcome of the picks
//! already in the round.

use super::likelihood::{JointPosterior, RatePoint};
use super::{ConfirmAction, Round};

/// Outcome branches kept while building a batch; the least likely are
/// dropped beyond this (their share of the score is negligible).
const MAX_BRANCHES: usize = 24;

/// Hypotheses below this posterior probability are left out of the batch
/// choice: they cannot change which run is most informative.
const NEGLIGIBLE: f64 = 1e-7;

/// Rate points whose posterior probability (over all hypotheses) is below
/// this are left out of the batch choice too. Measured reason: the grid has
/// 46 × 11 points, and once a few rounds are in, most of them carry almost
/// no weight, yet every pick of a round walked all of them in every outcome
/// branch.
const NEGLIGIBLE_POINT: f64 = 1e-9;

/// The part of the joint posterior the batch choice looks at: hypotheses
/// that still matter, in push order ("no culprit" last if present), and
/// the rate points that still matter.
struct ActivePosterior {
    /// Hypothesis number of each row (1..=n culprit, n + 1 none).
    hypotheses: Vec<usize>,
    /// Rows of the weights, one per entry of `hypotheses`, each with one
    /// weight per entry of `grid`.
    weights: Vec<f64>,
    /// The rate points kept.
    grid: Vec<RatePoint>,
}

impl ActivePosterior {
    fn new(posterior: &JointPosterior, grid: &[RatePoint]) -> Self {
        let points = posterior.points.max(1);
        let mut point_mass = vec![0.0; points];
        for row in posterior.weights.chunks(points) {
            for (mass, w) in point_mass.iter_mut().zip(row) {
                *mass += w;
            }
        }
        let kept: Vec<usize> = (0..points)
            .filter(|&k| point_mass.get(k).is_some_and(|&m| m >= NEGLIGIBLE_POINT))
            .collect();
        let mut active = ActivePosterior {
            hypotheses: Vec::new(),
            weights: Vec::new(),
            grid: kept.iter().filter_map(|&k| grid.get(k).copied()).collect(),
        };
        for (index, row) in posterior.weights.chunks(points).enumerate() {
            if row.iter().sum::<f64>() >= NEGLIGIBLE {
                active.hypotheses.push(index + 1);
                active
                    .weights
                    .extend(kept.iter().map(|&k| row.get(k).copied().unwrap_or(0.0)));
            }
        }
        active
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
                    *k = k.saturating_add(1);
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

/// Slack when comparing machine times, which are sums of fractions.
const COST_EPSILON: f64 = 1e-9;

/// Adds to `scores[j]` the expected entropy reduction (times the branch
/// probability) of several runs at once on a push affecting rows `0..j`,
/// for every j in `0..=rows`. `pmf_unaffected[k][x]` and `pmf_affected[k][x]`
/// are the chances of x failures among the runs at grid point k. With
/// U(m) = Z ln Z − Σ m ln m, the reduction is U(total) − Σ_x U(mass if x
/// of the runs fail); prefix sums give every j in O(rows · outcomes).
fn add_repeat_gains(
    weights: &[f64],
    pmf_unaffected: &[Vec<f64>],
    pmf_affected: &[Vec<f64>],
    scores: &mut [f64],
) {
    let points = pmf_unaffected.len().max(1);
    let outcomes = pmf_unaffected.first().map_or(0, Vec::len);
    // Per row: total mass, and each outcome's mass if the row is affected
    // or not (`[row * outcomes + x]`).
    let mut totals = Vec::new();
    let mut affected = Vec::new();
    let mut unaffected = Vec::new();
    for row_weights in weights.chunks(points) {
        totals.push(row_weights.iter().sum::<f64>());
        let (mut a, mut u) = (vec![0.0; outcomes], vec![0.0; outcomes]);
        for ((w, pa), pu) in row_weights.iter().zip(pmf_affected).zip(pmf_unaffected) {
            for (m, p) in a.iter_mut().zip(pa) {
                *m += w * p;
            }
            for (m, p) in u.iter_mut().zip(pu) {
                *m += w * p;
            }
        }
        affected.extend(a);
        unaffected.extend(u);
    }
    let u_total = x_ln_x(totals.iter().sum()) - totals.iter().map(|&t| x_ln_x(t)).sum::<f64>();
    // j = 0: nothing affected.
    let mut z = vec![0.0; outcomes];
    let mut s = vec![0.0; outcomes];
    for row in unaffected.chunks(outcomes.max(1)) {
        for ((zx, sx), m) in z.iter_mut().zip(s.iter_mut()).zip(row) {
            *zx += m;
            *sx += x_ln_x(*m);
        }
    }
    let rows = totals.len();
    for (j, score) in scores.iter_mut().enumerate().take(rows + 1) {
        if j > 0 {
            // Row j - 1 becomes affected.
            let range = (j - 1) * outcomes..j * outcomes;
            if let (Some(a), Some(u)) = (affected.get(range.clone()), unaffected.get(range)) {
                for x in 0..outcomes {
                    if let (Some(zx), Some(sx), Some(&ax), Some(&ux)) =
                        (z.get_mut(x), s.get_mut(x), a.get(x), u.get(x))
                    {
                        *zx += ax - ux;
                        *sx += x_ln_x(ax) - x_ln_x(ux);
                    }
                }
            }
        }
        let after: f64 = z.iter().zip(&s).map(|(&zx, &sx)| x_ln_x(zx) - sx).sum();
        *score += u_total - after;
    }
}

/// The chances of each number of failures among `repeats` runs, per grid
/// point, for runs unaffected and affected by the culprit.
fn repeat_pmfs(grid: &[RatePoint], repeats: u32) -> (Vec<Vec<f64>>, Vec<Vec<f64>>) {
    let table = |affected: bool| -> Vec<Vec<f64>> {
        grid.iter()
            .map(|point| binomial_pmf(point.failure_probability(affected), repeats))
            .collect()
    };
    (table(false), table(true))
}

/// P(x failures of `n` runs) for x = 0..=n at failure rate `p`.
fn binomial_pmf(p: f64, n: u32) -> Vec<f64> {
    let mut pmf = Vec::with_capacity(n as usize + 1);
    let mut choose = 1.0;
    for x in 0..=n {
        pmf.push(choose * p.powi(x as i32) * (1.0 - p).powi((n - x) as i32));
        choose = choose * f64::from(n - x) / f64::from(x + 1);
    }
    pmf
}

/// Picks the next round within `capacity` units of machine time (a job run
/// costs 1): job runs on pushes (0 = a push older than the range, else
/// 1..=n), and, given a confirm action and the pushes it may be asked on,
/// confirm tasks (several may go to one push in a round: each is one more
/// task of the one confirm request asked there, with `times`). Each pick
/// maximizes the expected information it adds to the picks before it per
/// unit of machine time; job runs fill the round as before, a confirm task
/// is only picked when it is worth more per unit of machine time than the
/// best job run.
pub fn choose_round(
    posterior: &JointPosterior,
    grid: &[RatePoint],
    capacity: f64,
    confirm: Option<(ConfirmAction, &[i64])>,
) -> Round {
    let n = posterior.hypotheses - 1;
    let active = ActivePosterior::new(posterior, grid);
    let grid = active.grid.as_slice();
    let candidates = active.candidates(n);
    // Rows a run on `push` affects: active hypotheses at or before it.
    let affected_rows = |push: i64| {
        active
            .hypotheses
            .iter()
            .filter(|&&h| h <= n && (h as i64) <= push)
            .count()
    };
    let mut branches = vec![Branch {
        failures_per_push: Vec::new(),
        weights: active.weights.clone(),
    }];
    let mut distinct_pushes: Vec<usize> = Vec::new();
    let mut slot_of = |push: usize| match distinct_pushes.iter().position(|&p| p == push) {
        Some(slot) => slot,
        None => {
            distinct_pushes.push(push);
            distinct_pushes.len() - 1
        }
    };
    let pmfs = confirm.map(|(action, _)| repeat_pmfs(grid, action.repeats));
    let mut round = Round::default();
    let mut left = capacity;
    let cheapest = confirm.map_or(1.0, |(action, _)| action.cost.min(1.0));
    while left >= cheapest - COST_EPSILON {
        let run_fits = left >= 1.0 - COST_EPSILON;
        // The best next confirm task, by gain per cost, among pushes alike
        // for the model (same affected rows) once; its gain is scored
        // against the outcomes of every pick already in the round, the
        // same push's earlier confirm tasks included.
        let mut best_confirm: Option<(f64, i64, usize)> = None;
        if let (Some((action, eligible)), Some((pmf_unaffected, pmf_affected))) = (confirm, &pmfs) {
            if left >= action.cost - COST_EPSILON {
                let mut gains = vec![0.0; active.hypotheses.len() + 1];
                for branch in &branches {
                    add_repeat_gains(&branch.weights, pmf_unaffected, pmf_affected, &mut gains);
                }
                // Newest first: among pushes alike for the model, the
                // newest (nearest the failure) wins ties.
                for &push in eligible.iter().rev() {
                    let rows = affected_rows(push);
                    let value = gains.get(rows).copied().unwrap_or(0.0) / action.cost;
                    if best_confirm.is_none_or(|(best, _, _)| value > best) {
                        best_confirm = Some((value, push, rows));
                    }
                }
            }
        }
        let best_run = if run_fits {
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
            Some((scores.get(best).copied().unwrap_or(0.0), best))
        } else {
            None
        };
        match (best_run, best_confirm) {
            (run, Some((value, push, rows)))
                if run.is_none_or(|(score, _)| value > 0.0 && value > score) =>
            {
                round.confirms.push(push);
                left -= confirm.map_or(1.0, |(action, _)| action.cost);
                if left >= cheapest - COST_EPSILON {
                    let slot = slot_of(push.max(0) as usize);
                    let repeats = confirm.map_or(0, |(action, _)| action.repeats);
                    for _ in 0..repeats {
                        branches = split(branches, rows, slot, grid);
                    }
                }
            }
            (Some((_, best)), _) => {
                let push = candidates.get(best).copied().unwrap_or(0);
                round.runs.push(push as i64);
                left -= 1.0;
                if left >= cheapest - COST_EPSILON {
                    // Candidate j affects rows 0..j.
                    let slot = slot_of(push);
                    branches = split(branches, best, slot, grid);
                }
            }
            _ => break,
        }
    }
    round.runs.sort();
    round.confirms.sort();
    round
}

/// Picks `runs` job runs for the next round (see [`choose_round`]).
#[cfg(test)]
fn choose_batch(posterior: &JointPosterior, grid: &[RatePoint], runs: usize) -> Vec<i64> {
    choose_round(posterior, grid, runs as f64, None).runs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::culprit::likelihood::PushCounts;
    use crate::plan::culprit::ConfirmAction;

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
    fn one_repeat_is_worth_exactly_one_run() {
        let grid = [
            RatePoint::new(0.05, 0.5, 0.5f64.ln()),
            RatePoint::new(0.2, 1.0, 0.5f64.ln()),
        ];
        let post = posterior(5, &grid, &[(5, true), (2, false), (3, true)]);
        let active = ActivePosterior::new(&post, &grid);
        let mut scores = vec![0.0; active.candidates(5).len()];
        add_gains(&masses(&active.weights, &grid), &mut scores);
        let gains = |repeats| {
            let (unaffected, affected) = repeat_pmfs(&grid, repeats);
            let mut gains = vec![0.0; active.hypotheses.len() + 1];
            add_repeat_gains(&active.weights, &unaffected, &affected, &mut gains);
            gains
        };
        let one = gains(1);
        for (rows, score) in scores.iter().enumerate() {
            assert!(
                (one[rows] - score).abs() < 1e-9,
                "{rows}: {one:?} vs {scores:?}"
            );
        }
        // Five repeats tell more than one run, and less than five apart;
        // the same as five runs chosen one after the other.
        let five = gains(5);
        assert!(five[3] > one[3] && five[3] < 5.0 * one[3], "{five:?}");
        let mut branches = vec![Branch {
            failures_per_push: Vec::new(),
            weights: active.weights.clone(),
        }];
        let mut sequential = 0.0;
        for _ in 0..5 {
            let mut step = vec![0.0; scores.len()];
            for branch in &branches {
                add_gains(&masses(&branch.weights, &grid), &mut step);
            }
            sequential += step[3];
            branches = split(branches, 3, 0, &grid);
        }
        assert!(
            (five[3] - sequential).abs() < 1e-9,
            "{five:?} vs {sequential}"
        );
    }

    #[test]
    fn rate_points_the_runs_ruled_out_are_left_out_and_change_nothing() {
        // 40 passes on older pushes leave f = 0.5 about 1e-12 of the mass.
        let grid = [
            RatePoint::new(0.0, 1.0, 0.4f64.ln()),
            RatePoint::new(0.05, 0.5, 0.4f64.ln()),
            RatePoint::new(0.5, 0.5, 0.2f64.ln()),
        ];
        let mut runs: Vec<(i64, bool)> = (0..40).map(|_| (0, false)).collect();
        runs.extend([(6, true), (3, false)]);
        let full = posterior(6, &grid, &runs);
        let active = ActivePosterior::new(&full, &grid);
        assert_eq!(active.grid, grid[..2].to_vec());
        assert_eq!(active.weights.len(), active.hypotheses.len() * 2);
        // The round is the one chosen on the two points that matter.
        let kept = posterior(6, &grid[..2], &runs);
        assert_eq!(
            choose_round(&full, &grid, 8.0, None),
            choose_round(&kept, &grid[..2], 8.0, None)
        );
    }

    #[test]
    fn binomial_pmf_sums_to_one() {
        let pmf = binomial_pmf(0.3, 5);
        assert_eq!(pmf.len(), 6);
        assert!((pmf.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert!((pmf[2] - 10.0 * 0.09 * 0.343).abs() < 1e-12);
    }

    #[test]
    fn a_cheap_confirm_on_the_failing_push_comes_first_and_the_round_keeps_its_cost() {
        let grid = [
            RatePoint::new(0.0, 1.0, 0.3f64.ln()),
            RatePoint::new(0.05, 1.0, 0.3f64.ln()),
            RatePoint::new(0.05, 0.3, 0.4f64.ln()),
        ];
        let post = posterior(8, &grid, &[(8, true)]);
        let action = ConfirmAction {
            repeats: 5,
            cost: 0.25,
        };
        let round = choose_round(&post, &grid, 8.0, Some((action, &[8])));
        // Several confirm tasks on one push are allowed (one request with
        // `times`); each is scored against the outcomes of those before it.
        assert!(
            !round.confirms.is_empty() && round.confirms.iter().all(|&p| p == 8),
            "{round:?}"
        );
        // The round uses its 8 units, no more.
        let cost = round.runs.len() as f64 + 0.25 * round.confirms.len() as f64;
        assert!((cost - 8.0).abs() < 1e-9, "{round:?}");
        // Without an eligible push, no confirm.
        let none = choose_round(&post, &grid, 8.0, Some((action, &[])));
        assert!(none.confirms.is_empty());
        assert_eq!(none.runs.len(), 8);
        // A confirm dearer than a run is still chosen only when worth it,
        // and never beyond the capacity.
        let dear = ConfirmAction {
            repeats: 5,
            cost: 3.0,
        };
        let small = choose_round(&post, &grid, 2.0, Some((dear, &[8])));
        assert!(small.confirms.is_empty(), "{small:?}");
        assert_eq!(small.runs.len(), 2);
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
