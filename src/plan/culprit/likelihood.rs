//! The culprit model's likelihood: per-push run counts, the grid of
//! (flake rate, regression strength) points, and the joint posterior over
//! (hypothesis, grid point) computed in log space from the counts alone.

/// Rates are kept this far from 0 and 1 so that one surprising run (a
/// failure where the model says "never") lowers a hypothesis sharply but
/// cannot make every hypothesis impossible at once.
const RATE_FLOOR: f64 = 1e-6;

/// Observed runs on one push (or on all pushes older than the range).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunCounts {
    pub runs: u32,
    pub failures: u32,
}

impl RunCounts {
    pub fn passes(&self) -> u32 {
        self.runs - self.failures
    }
}

/// Run counts of a search: pushes older than the range pooled together
/// (every hypothesis gives them the flake rate), then pushes 1..=n.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushCounts {
    pub older: RunCounts,
    /// `suspects[i]` holds push `i + 1`.
    pub suspects: Vec<RunCounts>,
}

impl PushCounts {
    pub fn new(n: usize) -> Self {
        PushCounts {
            older: RunCounts::default(),
            suspects: vec![RunCounts::default(); n],
        }
    }

    /// Record one run; `push <= 0` is older than the range. The caller has
    /// checked `push <= n`.
    pub fn add(&mut self, push: i64, failed: bool) {
        self.add_many(push, u32::from(failed), 1);
    }

    /// Record `runs` runs at one push, `failures` of them failed (a confirm
    /// task's repeats). The caller has checked `push <= n`, `failures <= runs`.
    pub fn add_many(&mut self, push: i64, failures: u32, runs: u32) {
        let counts = if push <= 0 {
            Some(&mut self.older)
        } else {
            usize::try_from(push - 1)
                .ok()
                .and_then(|i| self.suspects.get_mut(i))
        };
        if let Some(counts) = counts {
            counts.runs += runs;
            counts.failures += failures.min(runs);
        }
    }

    /// The counts at `push` (<= 0: the older pushes together).
    pub fn at(&self, push: i64) -> RunCounts {
        if push <= 0 {
            return self.older;
        }
        usize::try_from(push - 1)
            .ok()
            .and_then(|i| self.suspects.get(i))
            .copied()
            .unwrap_or_default()
    }

    pub fn total_runs(&self) -> u32 {
        self.older.runs + self.suspects.iter().map(|c| c.runs).sum::<u32>()
    }
}

/// One (flake rate f, regression strength q) point with its precomputed logs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RatePoint {
    pub flake_rate: f64,
    pub strength: f64,
    /// Failure probability of a run at or after the culprit: 1 − (1−f)(1−q).
    pub affected_rate: f64,
    /// The same two rates, clamped away from 0 and 1 (see `RATE_FLOOR`).
    pub clamped_flake: f64,
    pub clamped_affected: f64,
    ln_flake: f64,
    ln_flake_pass: f64,
    ln_affected: f64,
    ln_affected_pass: f64,
    pub ln_prior: f64,
}

impl RatePoint {
    pub fn new(flake_rate: f64, strength: f64, ln_prior: f64) -> Self {
        let affected_rate = 1.0 - (1.0 - flake_rate) * (1.0 - strength);
        let clamp = |r: f64| r.clamp(RATE_FLOOR, 1.0 - RATE_FLOOR);
        let (cf, ca) = (clamp(flake_rate), clamp(affected_rate));
        RatePoint {
            flake_rate,
            strength,
            affected_rate,
            clamped_flake: cf,
            clamped_affected: ca,
            ln_flake: cf.ln(),
            ln_flake_pass: (1.0 - cf).ln(),
            ln_affected: ca.ln(),
            ln_affected_pass: (1.0 - ca).ln(),
            ln_prior,
        }
    }

    /// Log-likelihood of `unaffected` runs at the flake rate and `affected`
    /// runs at the affected rate.
    pub fn ln_likelihood(&self, unaffected: RunCounts, affected: RunCounts) -> f64 {
        f64::from(unaffected.failures) * self.ln_flake
            + f64::from(unaffected.passes()) * self.ln_flake_pass
            + f64::from(affected.failures) * self.ln_affected
            + f64::from(affected.passes()) * self.ln_affected_pass
    }

    /// Probability that a run fails, affected by the culprit or not.
    pub fn failure_probability(&self, affected: bool) -> f64 {
        if affected {
            self.clamped_affected
        } else {
            self.clamped_flake
        }
    }
}

/// Normalized joint posterior over (hypothesis, rate point).
///
/// Hypotheses are numbered 1..=n+1: `h <= n` is "push h is the culprit",
/// `h = n + 1` is "no culprit". With that numbering a run at push `i`
/// is affected exactly when `i >= h`, for every hypothesis alike.
#[derive(Debug, Clone, PartialEq)]
pub struct JointPosterior {
    pub hypotheses: usize,
    pub points: usize,
    /// Row-major: `weights[(h - 1) * points + k]`, summing to 1.
    pub weights: Vec<f64>,
}

impl JointPosterior {
    /// Posterior from the counts, hypothesis log-priors (`ln_hypothesis_prior[h-1]`)
    /// and the rate grid (each point carries its own log-prior).
    pub fn compute(counts: &PushCounts, ln_hypothesis_prior: &[f64], grid: &[RatePoint]) -> Self {
        let hypotheses = counts.suspects.len() + 1;
        debug_assert_eq!(ln_hypothesis_prior.len(), hypotheses);
        let total = counts
            .suspects
            .iter()
            .fold(counts.older, |acc, c| RunCounts {
                runs: acc.runs + c.runs,
                failures: acc.failures + c.failures,
            });
        let mut ln_weights = Vec::with_capacity(hypotheses * grid.len());
        // `before` accumulates the runs on pushes older than hypothesis h.
        let mut before = counts.older;
        for (h_index, ln_h_prior) in ln_hypothesis_prior.iter().enumerate() {
            if h_index > 0 {
                if let Some(c) = counts.suspects.get(h_index - 1) {
                    before.runs += c.runs;
                    before.failures += c.failures;
                }
            }
            let after = RunCounts {
                runs: total.runs - before.runs,
                failures: total.failures - before.failures,
            };
            for point in grid {
                ln_weights.push(ln_h_prior + point.ln_prior + point.ln_likelihood(before, after));
            }
        }
        let max = ln_weights.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let mut weights: Vec<f64> = ln_weights.iter().map(|lw| (lw - max).exp()).collect();
        let sum: f64 = weights.iter().sum();
        for w in &mut weights {
            *w /= sum;
        }
        JointPosterior {
            hypotheses,
            points: grid.len(),
            weights,
        }
    }

    /// Posterior probability of each hypothesis (index `h - 1`).
    pub fn hypothesis_marginal(&self) -> Vec<f64> {
        self.weights
            .chunks(self.points.max(1))
            .map(|row| row.iter().sum())
            .collect()
    }

    /// Posterior means of (flake rate, strength given a culprit).
    pub fn rate_means(&self, grid: &[RatePoint]) -> (f64, f64) {
        let mut flake = 0.0;
        let (mut strength, mut culprit_mass) = (0.0, 0.0);
        for (h_index, row) in self.weights.chunks(self.points.max(1)).enumerate() {
            let is_culprit = h_index + 1 < self.hypotheses;
            for (w, point) in row.iter().zip(grid) {
                flake += w * point.flake_rate;
                if is_culprit {
                    strength += w * point.strength;
                    culprit_mass += w;
                }
            }
        }
        let strength = if culprit_mass > 0.0 {
            strength / culprit_mass
        } else {
            0.0
        };
        (flake, strength)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(runs: u32, failures: u32) -> RunCounts {
        RunCounts { runs, failures }
    }

    #[test]
    fn likelihood_is_the_product_of_bernoulli_terms() {
        let p = RatePoint::new(0.1, 0.5, 0.0);
        assert!((p.affected_rate - 0.55).abs() < 1e-12);
        // 2 failures + 1 pass unaffected, 1 failure + 2 passes affected.
        let expected = (0.1f64 * 0.1 * 0.9 * 0.55 * 0.45 * 0.45).ln();
        assert!((p.ln_likelihood(counts(3, 2), counts(3, 1)) - expected).abs() < 1e-12);
    }

    #[test]
    fn impossible_runs_are_very_unlikely_but_finite() {
        let p = RatePoint::new(0.0, 1.0, 0.0);
        let ll = p.ln_likelihood(counts(1, 1), counts(1, 0));
        assert!(ll.is_finite());
        assert!((ll - 2.0 * RATE_FLOOR.ln()).abs() < 1e-6);
    }

    #[test]
    fn posterior_follows_the_runs() {
        // n = 3, f = 0, q = 1: push 1 passed, push 2 failed → culprit is 2.
        let grid = [RatePoint::new(0.0, 1.0, 0.0)];
        let mut c = PushCounts::new(3);
        c.add(1, false);
        c.add(2, true);
        let prior = [0.25f64.ln(); 4];
        let post = JointPosterior::compute(&c, &prior, &grid);
        let m = post.hypothesis_marginal();
        assert_eq!(m.len(), 4);
        assert!(m[1] > 0.9999, "{m:?}");
        assert!((m.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    }

    #[test]
    fn posterior_matches_hand_computation_with_two_rate_points() {
        // n = 1: hypotheses "push 1" and "no culprit"; one failure at push 1,
        // one pass on an older push.
        let grid = [
            RatePoint::new(0.2, 0.25, 0.5f64.ln()),
            RatePoint::new(0.4, 0.5, 0.5f64.ln()),
        ];
        let mut c = PushCounts::new(1);
        c.add(1, true);
        c.add(0, false);
        let post = JointPosterior::compute(&c, &[0.5f64.ln(), 0.5f64.ln()], &grid);
        // Affected rates 0.4 and 0.7. Unnormalized: culprit: 0.8*0.4,
        // 0.6*0.7; none: 0.8*0.2, 0.6*0.4.
        let raw = [0.32, 0.42, 0.16, 0.24];
        let z: f64 = raw.iter().sum();
        for (w, r) in post.weights.iter().zip(raw) {
            assert!((w - r / z).abs() < 1e-12);
        }
        let (flake, strength) = post.rate_means(&grid);
        assert!((flake - (0.2 * (0.32 + 0.16) + 0.4 * (0.42 + 0.24)) / z).abs() < 1e-12);
        assert!((strength - (0.25 * 0.32 + 0.5 * 0.42) / 0.74).abs() < 1e-12);
    }
}
