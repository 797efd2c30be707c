//! Failure-rate estimation from observed runs: a Beta posterior with its
//! mean and equal-tailed credible interval, and how many runs tell a failing
//! push from a passing one (which sets the default times count: see
//! `plan::default_times`).
//! The special functions (log-gamma, regularized incomplete beta and its
//! inverse) are implemented here, in double precision.

#![warn(missing_docs)]

use crate::{Error, Result};
use serde::{Deserialize, Serialize};

/// Finished runs of the job on one push.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushRuns {
    /// The push's pushlog id.
    pub push_id: u64,
    /// Its revision.
    pub revision: String,
    /// Finished runs with a verdict.
    pub runs: u32,
    /// Of which failed (the way the scope asks).
    pub failures: u32,
}

/// A Beta(alpha, beta) prior on a failure rate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BetaPrior {
    /// Pseudo-failures.
    pub alpha: f64,
    /// Pseudo-passes.
    pub beta: f64,
}

impl BetaPrior {
    /// Jeffreys' prior Beta(1/2, 1/2), the default: invariant, and its
    /// intervals have close to nominal frequentist coverage.
    pub const JEFFREYS: BetaPrior = BetaPrior {
        alpha: 0.5,
        beta: 0.5,
    };
    /// The uniform prior Beta(1, 1).
    pub const UNIFORM: BetaPrior = BetaPrior {
        alpha: 1.0,
        beta: 1.0,
    };
}

/// The posterior of a job's failure rate after some runs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FailureRate {
    /// Failed runs seen.
    pub failures: u32,
    /// Passed runs seen.
    pub passes: u32,
    /// The prior they update.
    pub prior: BetaPrior,
}

impl FailureRate {
    /// The posterior under Jeffreys' prior.
    pub fn from_runs(failures: u32, passes: u32) -> Self {
        Self::with_prior(failures, passes, BetaPrior::JEFFREYS)
    }

    /// The posterior under `prior`.
    pub fn with_prior(failures: u32, passes: u32, prior: BetaPrior) -> Self {
        FailureRate {
            failures,
            passes,
            prior,
        }
    }

    /// Posterior Beta parameters (alpha + failures, beta + passes).
    pub fn posterior(&self) -> (f64, f64) {
        (
            self.prior.alpha + f64::from(self.failures),
            self.prior.beta + f64::from(self.passes),
        )
    }

    /// Posterior mean of the failure rate.
    pub fn mean(&self) -> f64 {
        let (a, b) = self.posterior();
        a / (a + b)
    }

    /// Equal-tailed credible interval: (1 − level)/2 posterior mass lies
    /// below the lower end and as much above the upper end.
    pub fn credible_interval(&self, level: f64) -> Result<(f64, f64)> {
        if !(level > 0.0 && level < 1.0) {
            return Err(Error::Invalid(format!(
                "credible level must be in (0, 1), got {level}"
            )));
        }
        let (a, b) = self.posterior();
        let tail = (1.0 - level) / 2.0;
        Ok((
            inverse_regularized_incomplete_beta(tail, a, b)?,
            inverse_regularized_incomplete_beta(1.0 - tail, a, b)?,
        ))
    }
}

/// ln Γ(x) for x > 0 (Lanczos approximation, g = 7, relative error ~1e-15;
/// reflection below 1/2).
pub fn ln_gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    const COEFFICIENTS: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Γ(x)Γ(1−x) = π / sin(πx)
        return (std::f64::consts::PI / (std::f64::consts::PI * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut sum = COEFFICIENTS[0];
    for (i, c) in COEFFICIENTS.iter().enumerate().skip(1) {
        sum += c / (x + i as f64);
    }
    let t = x + G + 0.5;
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + sum.ln()
}

/// ln B(a, b).
fn ln_beta(a: f64, b: f64) -> f64 {
    ln_gamma(a) + ln_gamma(b) - ln_gamma(a + b)
}

/// Continued fraction of the incomplete beta function (modified Lentz),
/// converging fast for x < (a + 1) / (a + b + 2).
fn incomplete_beta_fraction(x: f64, a: f64, b: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let guard = |v: f64| if v.abs() < TINY { TINY } else { v };
    let mut c = 1.0;
    let mut d = 1.0 / guard(1.0 - (a + b) * x / (a + 1.0));
    let mut result = d;
    for m in 1..=500 {
        let m = f64::from(m);
        let even = m * (b - m) * x / ((a + 2.0 * m - 1.0) * (a + 2.0 * m));
        d = 1.0 / guard(1.0 + even * d);
        c = guard(1.0 + even / c);
        result *= d * c;
        let odd = -(a + m) * (a + b + m) * x / ((a + 2.0 * m) * (a + 2.0 * m + 1.0));
        d = 1.0 / guard(1.0 + odd * d);
        c = guard(1.0 + odd / c);
        let step = d * c;
        result *= step;
        if (step - 1.0).abs() < 1e-16 {
            break;
        }
    }
    result
}

/// The regularized incomplete beta function I_x(a, b): the Beta(a, b)
/// distribution function at x.
pub fn regularized_incomplete_beta(x: f64, a: f64, b: f64) -> Result<f64> {
    if !(a > 0.0 && b > 0.0 && (0.0..=1.0).contains(&x)) {
        return Err(Error::Invalid(format!(
            "incomplete beta needs a, b > 0 and 0 <= x <= 1 (got x = {x}, a = {a}, b = {b})"
        )));
    }
    if x == 0.0 || x == 1.0 {
        return Ok(x);
    }
    let ln_front = a * x.ln() + b * (1.0 - x).ln() - ln_beta(a, b);
    // The fraction converges fast on one side of the mean; use the
    // symmetry I_x(a, b) = 1 − I_{1−x}(b, a) on the other.
    Ok(if x < (a + 1.0) / (a + b + 2.0) {
        ln_front.exp() * incomplete_beta_fraction(x, a, b) / a
    } else {
        1.0 - ln_front.exp() * incomplete_beta_fraction(1.0 - x, b, a) / b
    })
}

/// The x with I_x(a, b) = p: the Beta(a, b) quantile. Newton steps kept
/// inside a shrinking bisection bracket, so it always converges.
pub fn inverse_regularized_incomplete_beta(p: f64, a: f64, b: f64) -> Result<f64> {
    if !(0.0..=1.0).contains(&p) {
        return Err(Error::Invalid(format!(
            "probability must be in [0, 1], got {p}"
        )));
    }
    regularized_incomplete_beta(0.5, a, b)?; // validates a and b
    if p == 0.0 || p == 1.0 {
        return Ok(p);
    }
    let ln_norm = ln_beta(a, b);
    let (mut low, mut high) = (0.0f64, 1.0f64);
    let mut x = a / (a + b);
    for _ in 0..200 {
        let error = regularized_incomplete_beta(x, a, b)? - p;
        if error.abs() < 1e-15 {
            break;
        }
        if error > 0.0 {
            high = x;
        } else {
            low = x;
        }
        let density = ((a - 1.0) * x.ln() + (b - 1.0) * (1.0 - x).ln() - ln_norm).exp();
        let newton = x - error / density;
        x = if density.is_finite() && density > 0.0 && newton > low && newton < high {
            newton
        } else {
            0.5 * (low + high)
        };
        if high - low < 1e-16 {
            break;
        }
    }
    Ok(x)
}

fn check_probability(name: &str, value: f64) -> Result<()> {
    if value > 0.0 && value < 1.0 {
        Ok(())
    } else {
        Err(Error::Invalid(format!(
            "{name} must be in (0, 1), got {value}"
        )))
    }
}

/// Runs needed to tell "fails at rate p" from "never fails" with the given
/// confidence: the smallest k with (1 − p)^k <= 1 − confidence (k runs
/// that all pass then rule out the failure at that confidence). It sets
/// the default times count (`plan::default_times`); mozci's customary 5 is
/// `runs_needed(0.5, 0.95)`, a failure seen every other run.
pub fn runs_needed(p: f64, confidence: f64) -> Result<u32> {
    check_probability("confidence", confidence)?;
    if !(p > 0.0 && p <= 1.0) {
        return Err(Error::Invalid(format!(
            "failure rate must be in (0, 1], got {p}"
        )));
    }
    let miss = 1.0 - confidence;
    let pass = 1.0 - p;
    if pass <= miss {
        return Ok(1);
    }
    // Start from the closed form, then settle rounding by checking directly.
    let mut k = (miss.ln() / pass.ln()).ceil().max(1.0) as u32;
    while k > 1 && pass.powi(k as i32 - 1) <= miss {
        k -= 1;
    }
    while pass.powi(k as i32) > miss {
        k += 1;
    }
    Ok(k)
}

/// Binomial(k, rate) probabilities of 0..=k failures.
fn binomial_pmf(k: u32, rate: f64) -> Vec<f64> {
    let mut pmf = vec![0.0; k as usize + 1];
    let (ln_r, ln_s) = (rate.ln(), (1.0 - rate).ln());
    for (j, slot) in pmf.iter_mut().enumerate() {
        let j_f = j as f64;
        let k_f = f64::from(k);
        let ln_choose = ln_gamma(k_f + 1.0) - ln_gamma(j_f + 1.0) - ln_gamma(k_f - j_f + 1.0);
        let term = |count: f64, ln_p: f64| if count == 0.0 { 0.0 } else { count * ln_p };
        *slot = (ln_choose + term(j_f, ln_r) + term(k_f - j_f, ln_s)).exp();
    }
    pmf
}

/// Runs needed to tell a push whose runs fail at 1 − (1−f)(1−p) (a
/// regression of strength p on top of the flake rate f) from one failing
/// at f, with the given confidence: the smallest k for which some failure
/// count t makes both errors of the test "k runs, at least t failures means
/// regressed" at most 1 − confidence. With f = 0 this is [`runs_needed`].
/// `None` when more than `max_runs` would be needed.
pub fn runs_needed_with_flakes(
    p: f64,
    flake_rate: f64,
    confidence: f64,
    max_runs: u32,
) -> Result<Option<u32>> {
    check_probability("confidence", confidence)?;
    if !(p > 0.0 && p <= 1.0 && (0.0..1.0).contains(&flake_rate)) {
        return Err(Error::Invalid(format!(
            "need 0 < p <= 1 and 0 <= f < 1 (got p = {p}, f = {flake_rate})"
        )));
    }
    if flake_rate == 0.0 {
        let k = runs_needed(p, confidence)?;
        return Ok((k <= max_runs).then_some(k));
    }
    let miss = 1.0 - confidence;
    let regressed = 1.0 - (1.0 - flake_rate) * (1.0 - p);
    for k in 1..=max_runs {
        let clean = binomial_pmf(k, flake_rate);
        let bad = binomial_pmf(k, regressed);
        // For threshold t: false alarm = P(clean >= t), miss = P(bad < t).
        let mut false_alarm: f64 = clean.iter().sum();
        let mut missed = 0.0;
        for t in 0..=k as usize {
            if false_alarm <= miss && missed <= miss {
                return Ok(Some(k));
            }
            false_alarm -= clean.get(t).copied().unwrap_or(0.0);
            missed += bad.get(t).copied().unwrap_or(0.0);
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tolerance: f64) -> bool {
        (a - b).abs() <= tolerance
    }

    #[test]
    fn ln_gamma_known_values() {
        assert!(close(ln_gamma(0.5), 0.572_364_942_924_700_1, 1e-14));
        assert!(close(ln_gamma(1.0), 0.0, 1e-14));
        assert!(close(ln_gamma(10.0), 362_880f64.ln(), 1e-12));
        assert!(close(ln_gamma(0.1), 2.252_712_651_734_206, 1e-13));
    }

    #[test]
    fn incomplete_beta_matches_binomial_sums_for_integer_parameters() {
        // I_x(a, b) = P(Binomial(a + b − 1, x) >= a).
        assert!(close(
            regularized_incomplete_beta(0.5, 2.0, 3.0).unwrap(),
            11.0 / 16.0,
            1e-14
        ));
        // P(Bin(6, 0.3) >= 4) = 15·0.3⁴·0.7² + 6·0.3⁵·0.7 + 0.3⁶ = 0.07047
        assert!(close(
            regularized_incomplete_beta(0.3, 4.0, 3.0).unwrap(),
            0.07047,
            1e-14
        ));
        // I_x(a, 1) = x^a
        assert!(close(
            regularized_incomplete_beta(0.9, 7.0, 1.0).unwrap(),
            0.9f64.powi(7),
            1e-14
        ));
    }

    #[test]
    fn incomplete_beta_matches_the_arcsine_law() {
        // Beta(1/2, 1/2) is the arcsine distribution: I_x = (2/π) asin(√x).
        for x in [0.001f64, 0.1, 0.37, 0.5, 0.8, 0.999] {
            let expected = 2.0 / std::f64::consts::PI * x.sqrt().asin();
            let got = regularized_incomplete_beta(x, 0.5, 0.5).unwrap();
            assert!(close(got, expected, 1e-13), "x = {x}: {got} vs {expected}");
        }
    }

    #[test]
    fn inverse_inverts() {
        for (a, b) in [
            (0.5, 0.5),
            (0.5, 20.5),
            (3.5, 1.5),
            (40.0, 60.0),
            (1.0, 1.0),
        ] {
            for p in [1e-6, 0.025, 0.5, 0.975, 0.999] {
                let x = inverse_regularized_incomplete_beta(p, a, b).unwrap();
                let back = regularized_incomplete_beta(x, a, b).unwrap();
                assert!(
                    close(back, p, 1e-12),
                    "a={a} b={b} p={p}: x={x} gives {back}"
                );
            }
        }
        // Beta(a, 1) quantile is p^(1/a).
        let x = inverse_regularized_incomplete_beta(0.3, 4.0, 1.0).unwrap();
        assert!(close(x, 0.3f64.powf(0.25), 1e-13));
    }

    #[test]
    fn bad_arguments_are_errors() {
        assert!(regularized_incomplete_beta(1.5, 1.0, 1.0).is_err());
        assert!(regularized_incomplete_beta(0.5, 0.0, 1.0).is_err());
        assert!(inverse_regularized_incomplete_beta(f64::NAN, 1.0, 1.0).is_err());
        assert!(FailureRate::from_runs(1, 1).credible_interval(1.0).is_err());
        assert!(runs_needed(0.0, 0.9).is_err());
        assert!(runs_needed(0.5, 1.0).is_err());
        assert!(runs_needed_with_flakes(0.5, 1.0, 0.9, 10).is_err());
    }

    #[test]
    fn posterior_mean_and_interval() {
        // 3 failures in 10 runs, Jeffreys: Beta(3.5, 7.5), mean 3.5/11.
        let rate = FailureRate::from_runs(3, 7);
        assert_eq!(rate.posterior(), (3.5, 7.5));
        assert!(close(rate.mean(), 3.5 / 11.0, 1e-15));
        let (low, high) = rate.credible_interval(0.95).unwrap();
        assert!(close(
            regularized_incomplete_beta(low, 3.5, 7.5).unwrap(),
            0.025,
            1e-12
        ));
        assert!(close(
            regularized_incomplete_beta(high, 3.5, 7.5).unwrap(),
            0.975,
            1e-12
        ));
        // Published Jeffreys 95% interval for 3/10: (0.0927, 0.6058).
        assert!(
            close(low, 0.0927, 5e-4) && close(high, 0.6058, 5e-4),
            "{low} {high}"
        );
        // Uniform prior, no failures in 9 runs: Beta(1, 10), whose
        // quantile is 1 − (1 − p)^(1/10).
        let none = FailureRate::with_prior(0, 9, BetaPrior::UNIFORM);
        let (low, high) = none.credible_interval(0.9).unwrap();
        assert!(close(low, 1.0 - 0.95f64.powf(0.1), 1e-13));
        assert!(close(high, 1.0 - 0.05f64.powf(0.1), 1e-13));
    }

    #[test]
    fn runs_needed_exact_counts() {
        // 0.5^5 = 0.031 <= 0.05 < 0.5^4
        assert_eq!(runs_needed(0.5, 0.95).unwrap(), 5);
        // ln 0.05 / ln 0.9 = 28.43
        assert_eq!(runs_needed(0.1, 0.95).unwrap(), 29);
        // 0.8^k <= 0.01: k = 21 (0.8^20 = 0.0115)
        assert_eq!(runs_needed(0.2, 0.99).unwrap(), 21);
        assert_eq!(runs_needed(1.0, 0.99).unwrap(), 1);
        assert_eq!(runs_needed(0.95, 0.9).unwrap(), 1);
    }

    #[test]
    fn runs_needed_against_a_flake_rate() {
        // f = 0 reduces to the simple count.
        assert_eq!(
            runs_needed_with_flakes(0.5, 0.0, 0.95, 100).unwrap(),
            Some(5)
        );
        // f = 0.1, p = 0.9: regressed runs fail at 0.91. With 3 runs and
        // "≥ 2 failures": P(Bin(3, 0.1) ≥ 2) = 0.028, P(Bin(3, 0.91) ≤ 1) =
        // 0.0228, both ≤ 0.05; with 2 runs no threshold works
        // (t = 1: 0.19 false alarms; t = 2: 0.17 misses).
        assert_eq!(
            runs_needed_with_flakes(0.9, 0.1, 0.95, 100).unwrap(),
            Some(3)
        );
        // A weak regression over a flaky job needs far more runs, and
        // may not fit the cap at all.
        let many = runs_needed_with_flakes(0.5, 0.2, 0.95, 1000)
            .unwrap()
            .unwrap();
        assert!(many > runs_needed(0.5, 0.95).unwrap());
        assert_eq!(runs_needed_with_flakes(0.05, 0.4, 0.99, 50).unwrap(), None);
    }
}
