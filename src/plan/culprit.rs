//! Flake-aware culprit finding: which of the suspect pushes 1..=n made a job
//! fail (or none: the failure seen on push n was a flake). Pure: it proposes
//! runs and consumes their results; a driver elsewhere triggers the jobs.
//!
//! Model (after Google's "Flake-Aware Culprit Finding", ICST 2023): a run at
//! push `i` fails with probability `f` before the culprit (and everywhere if
//! there is none) and `1 − (1−f)(1−q)` from the culprit on. The flake rate
//! `f` and the regression strength `q` are not given: they carry a prior on
//! a grid and are marginalized out, learned from the very runs the search
//! makes, including runs on pushes older than the range (which always fail
//! at rate `f`). Runs are chosen, several per round, for the expected
//! reduction of the entropy of the culprit posterior.
//!
//! Besides whole-job runs, a round may ask for confirm tasks (the CI's
//! confirm action, where it has one): on a push where the job already failed, one
//! task re-runs the failing test several times, for a fraction of a job's
//! machine time. Each repeat is read as one more run on that push, with the
//! same likelihood as a job run judged by the failure signature; the budget
//! counts machine time, so a confirm task costs its share of a job run.
//!
//! The state is only the list of observed runs and confirm results, so a
//! search is resumable: replaying them gives the same next round.

pub mod confirm_first;
pub mod history;
mod likelihood;
pub mod machine_time;
pub mod observed;
pub mod range;
mod selection;

use crate::{Error, Result};
use likelihood::{JointPosterior, PushCounts, RatePoint};
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;

/// What the search believes about the flake rate and regression strength.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum RateModel {
    /// Unknown: a prior over a grid of (f, q) pairs, f and q independent,
    /// each given as (value, prior weight); marginalized using the runs.
    Estimated {
        /// Flake rates f with their prior weights.
        flake_rates: Vec<(f64, f64)>,
        /// Regression strengths q with their prior weights.
        strengths: Vec<(f64, f64)>,
    },
    /// Known exactly (the "oracle" used as the benchmark's ceiling).
    Known {
        /// The flake rate f.
        flake_rate: f64,
        /// The regression strength q.
        strength: f64,
    },
}

/// Spreads `1 − first_weight` evenly over `rest`, after `(first, first_weight)`.
fn weighted_grid(first: (f64, f64), rest: &[f64]) -> Vec<(f64, f64)> {
    let each = (1.0 - first.1) / rest.len().max(1) as f64;
    std::iter::once(first)
        .chain(rest.iter().map(|&v| (v, each)))
        .collect()
}

/// The flake rates the default prior can tell apart, besides an exact 0: a
/// log-spaced grid of [`FLAKE_RATE_POINTS`] rates from 0.1% to 50%,
/// equally weighted (a log-uniform prior). Real intermittents mostly fail
/// 0.1–5% of runs; the first grid had nothing between 0 and 5%, which
/// forced a 1% job onto 0 (one flake then looked impossible) or 5%.
///
/// The spacing is fine (each rate 15% above the one before) because
/// confirm tasks bring hundreds of repeats: with that much evidence, a job
/// whose rate falls between two coarse grid points (session 9's 14, up to
/// 50% apart) fits no "no culprit" point well, and a culprit hypothesis,
/// which has two rates to fit, wins by misfit: on 1,000 cases of the
/// realistic benchmark suite, confident answers were right 99.4% of the
/// time (98.9% with history) on the coarse grid, the misses false culprits
/// in flaky jobs, and 100.0% on this one. Weighting the grid towards 0.5–5%
/// measured no better on the realistic suite and worse on the hard one.
pub fn flake_rate_grid() -> Vec<f64> {
    let (low, high) = FLAKE_RATE_RANGE;
    let steps = (FLAKE_RATE_POINTS - 1) as f64;
    (0..FLAKE_RATE_POINTS)
        .map(|i| low * (high / low).powf(i as f64 / steps))
        .collect()
}
/// The lowest and highest non-zero flake rates of [`flake_rate_grid`].
pub const FLAKE_RATE_RANGE: (f64, f64) = (0.001, 0.5);
/// How many non-zero flake rates [`flake_rate_grid`] has.
pub const FLAKE_RATE_POINTS: usize = 45;
/// Prior weight of "this job never fails intermittently" (f = 0): about a
/// third of jobs.
const NEVER_FLAKY_WEIGHT: f64 = 0.35;
/// Regression strengths below 1 the default prior can tell apart, down to
/// a regression failing one run in ten, equally weighted.
pub const STRENGTH_GRID: [f64; 10] = [0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];
/// Prior weight of a permanent regression (q = 1, every run fails): most
/// regressions.
const PERMANENT_WEIGHT: f64 = 0.7;
/// Share of the default prior kept beside what a history says about the
/// flake rate. A job's rate can change (Mozilla's hard case is a test going
/// from failing 2% of runs to 30%); with the default prior still in the
/// mixture, the search's own runs can overrule the history instead of
/// being read as proof of a culprit at the old rate.
const HISTORY_DOUBT: f64 = 0.1;

impl RateModel {
    /// The default prior, set from how Mozilla's CI fails: flake rate 0
    /// with weight [`NEVER_FLAKY_WEIGHT`], the rest evenly over
    /// [`flake_rate_grid`]; strength 1 with weight [`PERMANENT_WEIGHT`], the
    /// rest evenly over [`STRENGTH_GRID`], down to 0.1.
    pub fn default_grid() -> Self {
        RateModel::Estimated {
            flake_rates: weighted_grid((0.0, NEVER_FLAKY_WEIGHT), &flake_rate_grid()),
            strengths: weighted_grid((1.0, PERMANENT_WEIGHT), &STRENGTH_GRID),
        }
    }

    /// The default prior with the flake rate's weights updated by the job's
    /// history: `failures` of `runs` earlier runs on pushes without the
    /// regression (e.g. Treeherder's record of the job). Each weight is
    /// multiplied by the binomial likelihood f^failures (1−f)^(runs−failures),
    /// and the result is mixed with the default prior ([`HISTORY_DOUBT`]) so
    /// that a rate which has changed since can still be learnt.
    /// Not knowing f is what costs the search most runs, so a history this
    /// size saves many of them.
    pub fn with_flake_history(failures: u32, runs: u32) -> Result<Self> {
        if failures > runs {
            return Err(Error::Invalid(format!(
                "a flake history cannot have {failures} failures in {runs} runs"
            )));
        }
        if runs == 0 {
            // Nothing learnt: exactly the default prior.
            return Ok(RateModel::default_grid());
        }
        let RateModel::Estimated {
            flake_rates,
            strengths,
        } = RateModel::default_grid()
        else {
            return Err(Error::Invalid("the default prior is not a grid".into()));
        };
        let passes = f64::from(runs - failures);
        let failures = f64::from(failures);
        // Log weights, shifted by their maximum before exponentiating, so
        // that long histories do not underflow.
        let ln_weights: Vec<(f64, f64)> = flake_rates
            .iter()
            .map(|&(f, w)| {
                let clamped = f.clamp(1e-6, 1.0 - 1e-6);
                (
                    f,
                    w.ln() + failures * clamped.ln() + passes * (1.0 - clamped).ln(),
                )
            })
            .collect();
        let max = ln_weights
            .iter()
            .map(|&(_, lw)| lw)
            .fold(f64::NEG_INFINITY, f64::max);
        let learnt: Vec<f64> = ln_weights.iter().map(|&(_, lw)| (lw - max).exp()).collect();
        let learnt_total: f64 = learnt.iter().sum();
        let default_total: f64 = flake_rates.iter().map(|(_, w)| w).sum();
        Ok(RateModel::Estimated {
            flake_rates: flake_rates
                .iter()
                .zip(learnt)
                .map(|(&(f, w), learnt)| {
                    (
                        f,
                        (1.0 - HISTORY_DOUBT) * learnt / learnt_total
                            + HISTORY_DOUBT * w / default_total,
                    )
                })
                .collect(),
            strengths,
        })
    }

    fn grid(&self) -> Result<Vec<RatePoint>> {
        let valid_rate = |r: f64| (0.0..1.0).contains(&r);
        let valid_strength = |q: f64| q > 0.0 && q <= 1.0;
        match self {
            RateModel::Known {
                flake_rate,
                strength,
            } => {
                if !valid_rate(*flake_rate) || !valid_strength(*strength) {
                    return Err(Error::Invalid(format!(
                        "known rates need 0 <= f < 1 and 0 < q <= 1 (got f = {flake_rate}, q = {strength})"
                    )));
                }
                Ok(vec![RatePoint::new(*flake_rate, *strength, 0.0)])
            }
            RateModel::Estimated {
                flake_rates,
                strengths,
            } => {
                let total = |v: &[(f64, f64)]| v.iter().map(|(_, w)| w).sum::<f64>();
                let weights_ok = |v: &[(f64, f64)]| {
                    !v.is_empty() && v.iter().all(|&(_, w)| w > 0.0 && w.is_finite())
                };
                if !weights_ok(flake_rates) || !weights_ok(strengths) {
                    return Err(Error::Invalid(
                        "rate grids need at least one value each, with positive prior weights"
                            .into(),
                    ));
                }
                if !flake_rates.iter().all(|&(f, _)| valid_rate(f))
                    || !strengths.iter().all(|&(q, _)| valid_strength(q))
                {
                    return Err(Error::Invalid(
                        "rate grid needs 0 <= f < 1 and 0 < q <= 1".into(),
                    ));
                }
                let (f_total, q_total) = (total(flake_rates), total(strengths));
                Ok(flake_rates
                    .iter()
                    .flat_map(|&(f, wf)| {
                        strengths.iter().map(move |&(q, wq)| {
                            RatePoint::new(f, q, (wf / f_total).ln() + (wq / q_total).ln())
                        })
                    })
                    .collect())
            }
        }
    }
}

/// The CI's `confirm-failures` action, as the search may use it.
///
/// Facts from gecko_taskgraph's `actions/confirm_failure.py` (the action in
/// the recorded `actions.json`: context kind "test", input `{times}`): it
/// reads a failed task's error summary and, for each failing test, creates
/// a `<label>-cf` task that runs that one test with `--repeat=4`, so 5
/// loops in all (3 for a failing directory or manifest). Its input is a
/// failed task, so it can only be asked on a push where the job failed.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ConfirmAction {
    /// Test-level runs one confirm task yields.
    pub repeats: u32,
    /// Machine time of one confirm task, in whole-job-run units (one test
    /// run five times instead of a whole job's tests once): the estimate
    /// rounds are planned with, and what a task counts until its own time
    /// is measured ([`ConfirmResult::cost`]).
    pub cost: f64,
}

impl Default for ConfirmAction {
    /// 5 repeats (`--repeat=4`), a quarter of a job run's machine time.
    fn default() -> Self {
        ConfirmAction {
            repeats: 5,
            cost: 0.25,
        }
    }
}

/// Parameters of one search.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CulpritConfig {
    /// Number of suspect pushes; push `n` is where the failure was seen.
    pub n: u32,
    /// Stop when the most probable answer reaches this probability.
    pub threshold: f64,
    /// Stop (answering the most probable) once this much machine time is
    /// spent, in whole-job-run units: a run counts 1, a confirm task its
    /// measured machine time, else [`ConfirmAction::cost`]. Without
    /// confirm tasks it is a run count.
    pub budget: u32,
    /// Runs proposed per round (they run in parallel).
    pub runs_per_round: u32,
    /// Prior probability that there is no culprit; the rest is spread
    /// evenly over the n pushes.
    pub prior_no_culprit: f64,
    /// The prior over the flake rate and the regression strength.
    pub rates: RateModel,
    /// The confirm action the CI offers; `None` when it has none, and for
    /// searches stored before confirm tasks existed.
    #[serde(default)]
    pub confirm: Option<ConfirmAction>,
}

impl CulpritConfig {
    /// Defaults: threshold 0.99, budget 300 runs, 8 runs per round, prior
    /// 1/2 on "no culprit" (sheriffs chase intermittent failures about as
    /// often as regressions), f and q estimated on [`RateModel::default_grid`],
    /// no confirm tasks.
    pub fn new(n: u32) -> Self {
        CulpritConfig {
            n,
            threshold: 0.99,
            budget: 300,
            runs_per_round: 8,
            prior_no_culprit: 0.5,
            rates: RateModel::default_grid(),
            confirm: None,
        }
    }

    /// Machine time of one confirm task: the configured action's, or the
    /// default's for results recorded under another configuration.
    fn confirm_cost(&self) -> f64 {
        self.confirm.unwrap_or_default().cost
    }
}

/// What one confirm task showed: `failures` of its `repeats` test-level
/// runs on `push` failed (`push <= 0`: older than the range).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ConfirmResult {
    /// The push's index in the search.
    pub push: i64,
    /// Repeats that failed.
    pub failures: u32,
    /// Repeats read.
    pub repeats: u32,
    /// The task's measured machine time in whole-job-run units (see
    /// [`machine_time`]); `None`: not measured, the configured action's
    /// [`ConfirmAction::cost`] counts. Results stored without it load.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost: Option<f64>,
}

/// An answer of the search.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Hypothesis {
    /// This push (1..=n) introduced the failure.
    Culprit(u32),
    /// No suspect did: the failure seen on push n was intermittent.
    NoCulprit,
}

/// Why the search stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum StopReason {
    /// The most probable answer reached the threshold.
    Confident,
    /// The run budget is spent; the answer is the most probable one.
    BudgetSpent,
}

/// What an answer amounts to: the contract is that a decided answer is
/// right at least as often as the threshold says; an undecided one is only
/// the most probable guess and must never read as a finding.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The search would still run more.
    #[default]
    Searching,
    /// The most probable answer reached the threshold.
    Decided,
    /// The budget ran out first: the answer is a best guess.
    Undecided,
}

/// What the search knows about one push.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PushSummary {
    /// 0 stands for all pushes older than the range together.
    pub push: i64,
    /// Whole-job runs, and the failed ones among them.
    pub runs: u32,
    /// Of which failed.
    pub failures: u32,
    /// Probability that this push is the culprit (0 for older pushes).
    pub posterior: f64,
    /// Confirm tasks on this push, their test-level runs and failures.
    #[serde(default)]
    pub confirms: u32,
    /// Their repeats of the test.
    #[serde(default)]
    pub confirm_repeats: u32,
    /// Of which failed.
    #[serde(default)]
    pub confirm_failures: u32,
}

/// The search's current best answer and how it got there.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Answer {
    /// The most probable answer.
    pub hypothesis: Hypothesis,
    /// Posterior probability of `hypothesis`.
    pub confidence: f64,
    /// Posterior probability that no suspect is the culprit.
    pub posterior_no_culprit: f64,
    /// `None` while the search would still run more.
    pub stopped: Option<StopReason>,
    /// Decided, undecided or still searching (follows from `stopped`).
    #[serde(default)]
    pub outcome: Outcome,
    /// Whole-job runs observed.
    pub runs_used: u32,
    /// Confirm tasks observed.
    #[serde(default)]
    pub confirms_used: u32,
    /// Machine time spent, in whole-job-run units (what the budget counts).
    #[serde(default)]
    pub cost_used: f64,
    /// Older pushes (if run) first, then pushes 1..=n.
    pub pushes: Vec<PushSummary>,
    /// Posterior mean of the flake rate.
    pub flake_rate: f64,
    /// Posterior mean of the regression strength, given a culprit.
    pub strength: f64,
}

impl Answer {
    /// A human-readable account: the verdict, then one line per push. An
    /// undecided answer says so first and gives its guess as a guess.
    pub fn explanation(&self) -> String {
        let guess = match self.hypothesis {
            Hypothesis::Culprit(push) => format!("push {push} is the culprit"),
            Hypothesis::NoCulprit => "no culprit, the failure is intermittent".to_string(),
        };
        let mut text = match (self.outcome, self.hypothesis) {
            (Outcome::Undecided, _) => format!(
                "Undecided: no answer became sure enough before the run budget ran out; \
                 best guess: {guess}, with probability {:.1}%",
                self.confidence * 100.0
            ),
            (_, Hypothesis::Culprit(push)) => format!(
                "Push {push} is the culprit with probability {:.1}%",
                self.confidence * 100.0
            ),
            (_, Hypothesis::NoCulprit) => format!(
                "No culprit: the failure is intermittent, with probability {:.1}%",
                self.confidence * 100.0
            ),
        };
        let confirms = if self.confirms_used > 0 {
            format!(
                " and {} confirm task(s), {:.1} job runs of machine time",
                self.confirms_used, self.cost_used
            )
        } else {
            String::new()
        };
        let _ = write!(
            text,
            " ({} runs{confirms}; estimated flake rate {:.0}%, regression strength {:.0}%).",
            self.runs_used,
            self.flake_rate * 100.0,
            self.strength * 100.0
        );
        if self.outcome == Outcome::Searching {
            text.push_str(" The search is not finished.");
        }
        for p in &self.pushes {
            let name = if p.push <= 0 {
                "older pushes".to_string()
            } else {
                format!("push {}", p.push)
            };
            let _ = write!(text, "\n  {name}: {} failed of {} runs", p.failures, p.runs);
            if p.confirms > 0 {
                let _ = write!(
                    text,
                    ", {} failed of {} confirm repeats",
                    p.confirm_failures, p.confirm_repeats
                );
            }
            let _ = write!(text, ", P(culprit) = {:.3}", p.posterior);
        }
        text
    }
}

/// One round of a search: what to ask for now, all of it in parallel.
/// Push 0 means the push just before the range (any older push will do).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Round {
    /// Run the job once on each listed push (repeats mean several runs).
    pub runs: Vec<i64>,
    /// Ask one confirm task on each listed push, from a failed run of the
    /// job there (a push listed k times: one request for k tasks); empty
    /// unless the configuration has a confirm action.
    #[serde(default)]
    pub confirms: Vec<i64>,
}

impl Round {
    /// Machine time of the round in whole-job-run units.
    pub fn cost(&self, config: &CulpritConfig) -> f64 {
        self.runs.len() as f64 + self.confirms.len() as f64 * config.confirm_cost()
    }
}

/// The next step of a search.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Decision {
    /// Ask for this round's runs and confirm tasks, then observe them.
    Run(Round),
    /// The search is over: its answer.
    Done(Answer),
}

/// A culprit search: configuration plus observed runs, nothing else.
#[derive(Debug, Clone, PartialEq)]
pub struct CulpritSearch {
    config: CulpritConfig,
    grid: Vec<RatePoint>,
    ln_hypothesis_prior: Vec<f64>,
    observations: Vec<(i64, bool)>,
    confirms: Vec<ConfirmResult>,
    /// Job runs and confirm repeats together: what the likelihood reads.
    counts: PushCounts,
    /// Job runs only, and confirm repeats only, for the answer's summary.
    job_counts: PushCounts,
    confirm_counts: PushCounts,
}

impl CulpritSearch {
    /// A search with nothing observed yet; an error for a configuration
    /// that cannot work (no pushes, a threshold or prior outside (0, 1)).
    pub fn new(config: CulpritConfig) -> Result<Self> {
        if config.n == 0 {
            return Err(Error::Invalid(
                "a culprit search needs n >= 1 pushes".into(),
            ));
        }
        if !(config.threshold > 0.0 && config.threshold < 1.0) {
            return Err(Error::Invalid(format!(
                "threshold must be in (0, 1), got {}",
                config.threshold
            )));
        }
        if config.runs_per_round == 0 {
            return Err(Error::Invalid("runs_per_round must be at least 1".into()));
        }
        if !(config.prior_no_culprit > 0.0 && config.prior_no_culprit < 1.0) {
            return Err(Error::Invalid(format!(
                "prior_no_culprit must be in (0, 1), got {}",
                config.prior_no_culprit
            )));
        }
        let n = config.n as usize;
        let mut ln_hypothesis_prior = vec![((1.0 - config.prior_no_culprit) / n as f64).ln(); n];
        ln_hypothesis_prior.push(config.prior_no_culprit.ln());
        if let Some(confirm) = config.confirm {
            if confirm.repeats == 0 || !(confirm.cost > 0.0 && confirm.cost.is_finite()) {
                return Err(Error::Invalid(format!(
                    "a confirm action needs repeats >= 1 and a positive cost (got {} repeats, cost {})",
                    confirm.repeats, confirm.cost
                )));
            }
        }
        let grid = config.rates.grid()?;
        Ok(CulpritSearch {
            counts: PushCounts::new(n),
            job_counts: PushCounts::new(n),
            confirm_counts: PushCounts::new(n),
            config,
            grid,
            ln_hypothesis_prior,
            observations: Vec::new(),
            confirms: Vec::new(),
        })
    }

    /// A search with the given runs already observed (e.g. after a restart).
    pub fn resume(config: CulpritConfig, observations: &[(i64, bool)]) -> Result<Self> {
        Self::resume_with_confirms(config, observations, &[])
    }

    /// A search with the given runs and confirm results already observed.
    pub fn resume_with_confirms(
        config: CulpritConfig,
        observations: &[(i64, bool)],
        confirms: &[ConfirmResult],
    ) -> Result<Self> {
        let mut search = CulpritSearch::new(config)?;
        for &(push, failed) in observations {
            search.observe(push, failed)?;
        }
        for c in confirms {
            search.observe_measured_confirm(c.push, c.failures, c.repeats, c.cost)?;
        }
        Ok(search)
    }

    /// Its parameters.
    pub fn config(&self) -> &CulpritConfig {
        &self.config
    }

    /// Every run observed so far, in order: (push, failed).
    pub fn observations(&self) -> &[(i64, bool)] {
        &self.observations
    }

    /// Every confirm task's result observed so far, in order.
    pub fn confirms(&self) -> &[ConfirmResult] {
        &self.confirms
    }

    fn check_push(&self, push: i64) -> Result<()> {
        if push > i64::from(self.config.n) {
            return Err(Error::Invalid(format!(
                "push {push} is newer than the suspect range 1..={}",
                self.config.n
            )));
        }
        Ok(())
    }

    /// Record the result of one run on `push` (<= 0: older than the range).
    pub fn observe(&mut self, push: i64, failed: bool) -> Result<()> {
        self.check_push(push)?;
        self.observations.push((push, failed));
        self.counts.add(push, failed);
        self.job_counts.add(push, failed);
        Ok(())
    }

    /// Record a finished confirm task on `push`: `failures` of its
    /// `repeats` test-level runs failed. Each repeat counts as one run of
    /// the job on that push judged by the failure signature.
    pub fn observe_confirm(&mut self, push: i64, failures: u32, repeats: u32) -> Result<()> {
        self.observe_measured_confirm(push, failures, repeats, None)
    }

    /// [`Self::observe_confirm`] with the task's measured machine time in
    /// whole-job-run units (`None`: the action's estimate counts).
    pub fn observe_measured_confirm(
        &mut self,
        push: i64,
        failures: u32,
        repeats: u32,
        cost: Option<f64>,
    ) -> Result<()> {
        self.check_push(push)?;
        if let Some(cost) = cost.filter(|c| !(c.is_finite() && *c > 0.0)) {
            return Err(Error::Invalid(format!(
                "a confirm task's measured machine time must be positive (got {cost})"
            )));
        }
        if failures > repeats {
            return Err(Error::Invalid(format!(
                "a confirm task cannot have {failures} failures in {repeats} repeats"
            )));
        }
        self.confirms.push(ConfirmResult {
            push,
            failures,
            repeats,
            cost,
        });
        self.counts.add_many(push, failures, repeats);
        self.confirm_counts.add_many(push, failures, repeats);
        Ok(())
    }

    /// Whole-job runs observed.
    pub fn runs_used(&self) -> u32 {
        self.job_counts.total_runs()
    }

    /// Confirm tasks observed.
    pub fn confirms_used(&self) -> u32 {
        self.confirms.len() as u32
    }

    /// Machine time spent in whole-job-run units: what the budget counts.
    /// Each confirm task counts its measured time where known, else the
    /// action's estimate.
    pub fn cost_used(&self) -> f64 {
        let estimate = self.config.confirm_cost();
        f64::from(self.runs_used())
            + self
                .confirms
                .iter()
                .map(|c| c.cost.unwrap_or(estimate))
                .sum::<f64>()
    }

    /// Pushes a confirm task may be asked on: those with an observed failed
    /// run of the job (the action's input is a failed task), and push n,
    /// where the failure the search is about was seen. Empty without a
    /// confirm action.
    pub fn confirm_eligible(&self) -> Vec<i64> {
        if self.config.confirm.is_none() {
            return Vec::new();
        }
        let n = i64::from(self.config.n);
        let mut eligible: Vec<i64> = (self.job_counts.older.failures > 0)
            .then_some(0)
            .into_iter()
            .chain(
                self.job_counts
                    .suspects
                    .iter()
                    .enumerate()
                    .filter(|(index, c)| c.failures > 0 && *index as i64 + 1 < n)
                    .map(|(index, _)| index as i64 + 1),
            )
            .collect();
        eligible.push(n);
        eligible
    }

    /// The machine time left, and whether anything still fits in it.
    fn can_spend_more(&self) -> bool {
        let left = f64::from(self.config.budget) - self.cost_used();
        left >= 1.0 - COST_EPSILON
            || self
                .config
                .confirm
                .is_some_and(|c| left >= c.cost - COST_EPSILON)
    }

    fn joint(&self) -> JointPosterior {
        JointPosterior::compute(&self.counts, &self.ln_hypothesis_prior, &self.grid)
    }

    /// Posterior probability of each hypothesis: index `i` (0-based) is
    /// push `i + 1`, the last entry is "no culprit".
    pub fn posterior(&self) -> Vec<f64> {
        self.joint().hypothesis_marginal()
    }

    /// The current best answer with its explanation (whether or not the
    /// search would stop here).
    pub fn answer(&self) -> Answer {
        let joint = self.joint();
        self.answer_from(&joint)
    }

    fn answer_from(&self, joint: &JointPosterior) -> Answer {
        let marginal = joint.hypothesis_marginal();
        let n = self.config.n as usize;
        // First maximum wins ties: the oldest push, then "no culprit".
        let mut best = 0;
        for (index, p) in marginal.iter().enumerate() {
            if *p > marginal.get(best).copied().unwrap_or(0.0) {
                best = index;
            }
        }
        let confidence = marginal.get(best).copied().unwrap_or(0.0);
        let hypothesis = if best < n {
            Hypothesis::Culprit(best as u32 + 1)
        } else {
            Hypothesis::NoCulprit
        };
        let runs_used = self.runs_used();
        let stopped = if confidence >= self.config.threshold {
            Some(StopReason::Confident)
        } else if !self.can_spend_more() {
            Some(StopReason::BudgetSpent)
        } else {
            None
        };
        let outcome = match stopped {
            Some(StopReason::Confident) => Outcome::Decided,
            Some(StopReason::BudgetSpent) => Outcome::Undecided,
            None => Outcome::Searching,
        };
        let mut pushes = Vec::with_capacity(n + 1);
        if self.counts.older.runs > 0 {
            pushes.push(self.summary(0, 0.0));
        }
        for (index, p) in marginal.iter().take(n).enumerate() {
            pushes.push(self.summary(index as i64 + 1, *p));
        }
        let (flake_rate, strength) = joint.rate_means(&self.grid);
        Answer {
            hypothesis,
            confidence,
            posterior_no_culprit: marginal.last().copied().unwrap_or(0.0),
            stopped,
            outcome,
            runs_used,
            confirms_used: self.confirms_used(),
            cost_used: self.cost_used(),
            pushes,
            flake_rate,
            strength,
        }
    }

    fn summary(&self, push: i64, posterior: f64) -> PushSummary {
        let jobs = self.job_counts.at(push);
        let confirm = self.confirm_counts.at(push);
        PushSummary {
            push,
            runs: jobs.runs,
            failures: jobs.failures,
            posterior,
            confirms: self
                .confirms
                .iter()
                .filter(|c| c.push.max(0) == push)
                .count() as u32,
            confirm_repeats: confirm.runs,
            confirm_failures: confirm.failures,
        }
    }

    /// Stop with the answer, or the round to ask for next: at most
    /// `runs_per_round` job runs' worth of machine time, never beyond the
    /// budget, each run or confirm task chosen for the information it
    /// brings per unit of machine time. A pure function of the
    /// configuration and the observations.
    pub fn next_round(&self) -> Decision {
        let joint = self.joint();
        let answer = self.answer_from(&joint);
        if answer.stopped.is_some() {
            return Decision::Done(answer);
        }
        let left = (f64::from(self.config.budget) - self.cost_used()).max(0.0);
        let capacity = left.min(f64::from(self.config.runs_per_round));
        let confirm = self
            .config
            .confirm
            .map(|action| (action, self.confirm_eligible()));
        Decision::Run(selection::choose_round(
            &joint,
            &self.grid,
            capacity,
            confirm.as_ref().map(|(a, e)| (*a, e.as_slice())),
        ))
    }
}

/// Slack when comparing machine times, which are sums of fractions.
const COST_EPSILON: f64 = 1e-9;

#[cfg(test)]
mod tests {
    use super::*;

    fn flake_weights(model: &RateModel) -> Vec<(f64, f64)> {
        match model {
            RateModel::Estimated { flake_rates, .. } => flake_rates.clone(),
            RateModel::Known { .. } => panic!("expected a grid"),
        }
    }

    #[test]
    fn flake_history_moves_the_prior_to_the_observed_rate() {
        let flaky = RateModel::with_flake_history(40, 100).unwrap();
        let weights = flake_weights(&flaky);
        let (best, _) = weights
            .iter()
            .copied()
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .unwrap();
        // The grid point nearest 40% (the grid steps by 15%).
        assert!((best - 0.4).abs() < 0.4 * 0.075, "{weights:?}");
        let never = weights
            .iter()
            .find(|&&(f, _)| f == 0.0)
            .map_or(1.0, |p| p.1);
        assert!(
            never < HISTORY_DOUBT,
            "40 failures leave f = 0 only the default prior's doubt: {weights:?}"
        );
        assert!((weights.iter().map(|(_, w)| w).sum::<f64>() - 1.0).abs() < 1e-9);

        let stable = flake_weights(&RateModel::with_flake_history(0, 200).unwrap());
        // 200 clean runs cannot tell f = 0 from f = 0.1%, but they rule out
        // a flaky job, up to the default prior's doubt.
        let at_most = |rate: f64| -> f64 {
            stable
                .iter()
                .filter(|&&(f, _)| f <= rate)
                .map(|p| p.1)
                .sum()
        };
        // f = 0 keeps the most weight; the rest is on rates under 0.5%.
        assert!(at_most(0.0) > 0.6 && at_most(0.005) > 0.9, "{stable:?}");
        // The rest is the default prior's doubt, kept for a changed rate.
        let flaky: f64 = stable
            .iter()
            .filter(|&&(f, _)| f >= 0.05)
            .map(|p| p.1)
            .sum();
        assert!(flaky > 0.0 && flaky < HISTORY_DOUBT, "{stable:?}");
    }

    #[test]
    fn flake_history_keeps_the_strength_prior() {
        let (RateModel::Estimated { strengths, .. }, RateModel::Estimated { strengths: d, .. }) = (
            RateModel::with_flake_history(3, 50).unwrap(),
            RateModel::default_grid(),
        ) else {
            panic!("both are grids");
        };
        assert_eq!(strengths, d);
    }

    #[test]
    fn flake_history_with_more_failures_than_runs_is_an_error() {
        assert!(RateModel::with_flake_history(5, 4).is_err());
        assert!(RateModel::with_flake_history(0, 0).is_ok());
    }

    fn with_confirms(n: u32) -> CulpritConfig {
        CulpritConfig {
            confirm: Some(ConfirmAction::default()),
            ..CulpritConfig::new(n)
        }
    }

    /// Drives `search` on a job failing every run from `culprit` on and
    /// never before (f = 0, q = 1); returns the answer and the rounds.
    fn drive_clean_regression(search: &mut CulpritSearch, culprit: i64) -> (Answer, u32) {
        let mut rounds = 0;
        loop {
            match search.next_round() {
                Decision::Done(answer) => return (answer, rounds),
                Decision::Run(round) => {
                    rounds += 1;
                    let eligible = search.confirm_eligible();
                    assert!(
                        round.confirms.iter().all(|p| eligible.contains(p)),
                        "{round:?} asks a confirm where no run failed ({eligible:?})"
                    );
                    assert!(round.cost(search.config()) <= 8.0 + 1e-9);
                    for push in round.runs {
                        search.observe(push, push >= culprit).unwrap();
                    }
                    for push in round.confirms {
                        let repeats = ConfirmAction::default().repeats;
                        let failures = if push >= culprit { repeats } else { 0 };
                        search.observe_confirm(push, failures, repeats).unwrap();
                    }
                }
            }
        }
    }

    #[test]
    fn stored_configs_without_a_confirm_action_still_load() {
        let mut stored = serde_json::to_value(CulpritConfig::new(5)).unwrap();
        stored.as_object_mut().unwrap().remove("confirm");
        let config: CulpritConfig = serde_json::from_value(stored).unwrap();
        assert_eq!(config, CulpritConfig::new(5));
        assert_eq!(config.confirm, None);
        let with = with_confirms(5);
        let back: CulpritConfig =
            serde_json::from_str(&serde_json::to_string(&with).unwrap()).unwrap();
        assert_eq!(back.confirm, Some(ConfirmAction::default()));
    }

    #[test]
    fn without_a_confirm_action_rounds_have_only_runs() {
        let mut search = CulpritSearch::new(CulpritConfig::new(16)).unwrap();
        search.observe(16, true).unwrap();
        assert!(search.confirm_eligible().is_empty());
        let Decision::Run(round) = search.next_round() else {
            panic!("one run settles nothing");
        };
        assert!(round.confirms.is_empty());
        assert_eq!(round.runs.len(), 8);
    }

    #[test]
    fn confirm_results_count_as_repeated_runs_and_in_machine_time() {
        let mut search = CulpritSearch::new(with_confirms(6)).unwrap();
        search.observe(6, true).unwrap();
        search.observe(3, true).unwrap();
        search.observe(2, false).unwrap();
        assert_eq!(search.confirm_eligible(), vec![3, 6]);
        search.observe_confirm(6, 5, 5).unwrap();
        search.observe_confirm(3, 4, 5).unwrap();
        assert_eq!(search.runs_used(), 3);
        assert_eq!(search.confirms_used(), 2);
        assert!((search.cost_used() - 3.5).abs() < 1e-12);
        let answer = search.answer();
        assert_eq!(answer.runs_used, 3);
        assert_eq!(answer.confirms_used, 2);
        assert!((answer.cost_used - 3.5).abs() < 1e-12);
        let push3 = answer.pushes.iter().find(|p| p.push == 3).unwrap();
        assert_eq!(
            (
                push3.runs,
                push3.failures,
                push3.confirms,
                push3.confirm_repeats,
                push3.confirm_failures
            ),
            (1, 1, 1, 5, 4)
        );
        assert!(answer
            .explanation()
            .contains("4 failed of 5 confirm repeats"));
        assert!(answer.explanation().contains("2 confirm task(s)"));
        // The same evidence as job runs gives the same posterior.
        let mut as_runs = CulpritSearch::new(with_confirms(6)).unwrap();
        for (push, failed) in [(6, true), (3, true), (2, false)] {
            as_runs.observe(push, failed).unwrap();
        }
        for i in 0..5 {
            as_runs.observe(6, true).unwrap();
            as_runs.observe(3, i < 4).unwrap();
        }
        for (a, b) in search.posterior().iter().zip(as_runs.posterior()) {
            assert!((a - b).abs() < 1e-12);
        }
        // Resuming restores confirm results too.
        let resumed = CulpritSearch::resume_with_confirms(
            with_confirms(6),
            search.observations(),
            search.confirms(),
        )
        .unwrap();
        assert_eq!(resumed.next_round(), search.next_round());
        assert_eq!(resumed.answer(), search.answer());
    }

    #[test]
    fn measured_confirm_costs_count_in_the_budget_and_the_answer() {
        let mut search = CulpritSearch::new(with_confirms(6)).unwrap();
        search.observe(6, true).unwrap();
        // One task measured at 2.5 runs of machine time, one unmeasured
        // (the estimate, 0.25, counts).
        search.observe_measured_confirm(6, 5, 5, Some(2.5)).unwrap();
        search.observe_measured_confirm(6, 5, 5, None).unwrap();
        assert!((search.cost_used() - 3.75).abs() < 1e-12);
        assert!((search.answer().cost_used - 3.75).abs() < 1e-12);
        // The measured cost is kept across a restart, and old results
        // without one load (the estimate counts).
        let resumed = CulpritSearch::resume_with_confirms(
            with_confirms(6),
            search.observations(),
            search.confirms(),
        )
        .unwrap();
        assert!((resumed.cost_used() - 3.75).abs() < 1e-12);
        let stored: ConfirmResult =
            serde_json::from_str(r#"{"push": 6, "failures": 5, "repeats": 5}"#).unwrap();
        assert_eq!(stored.cost, None);
        // A budget of 4 leaves 0.25: one more confirm fits, no run.
        let tight = CulpritSearch::resume_with_confirms(
            CulpritConfig {
                budget: 4,
                ..with_confirms(6)
            },
            search.observations(),
            search.confirms(),
        )
        .unwrap();
        if let Decision::Run(round) = tight.next_round() {
            assert!(round.runs.is_empty(), "{round:?}");
        }
        // A measured cost must be a positive machine time.
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert!(search.observe_measured_confirm(6, 1, 5, Some(bad)).is_err());
        }
    }

    #[test]
    fn bad_confirm_results_and_actions_are_errors() {
        let mut search = CulpritSearch::new(with_confirms(4)).unwrap();
        assert!(search.observe_confirm(2, 6, 5).is_err());
        assert!(search.observe_confirm(5, 1, 5).is_err());
        assert_eq!(search.confirms_used(), 0);
        for confirm in [
            ConfirmAction {
                repeats: 0,
                cost: 0.25,
            },
            ConfirmAction {
                repeats: 5,
                cost: 0.0,
            },
            ConfirmAction {
                repeats: 5,
                cost: f64::NAN,
            },
        ] {
            assert!(CulpritSearch::new(CulpritConfig {
                confirm: Some(confirm),
                ..CulpritConfig::new(4)
            })
            .is_err());
        }
    }

    #[test]
    fn confirm_tasks_cost_a_clean_regression_no_more() {
        // A permanent regression at push 9 of 24, the job never flaky: job
        // runs locate it, and the confirm tasks the search adds (on the
        // failing pushes) take no round and no machine time more.
        let mut plain = CulpritSearch::new(CulpritConfig::new(24)).unwrap();
        plain.observe(24, true).unwrap();
        let (without, rounds_without) = drive_clean_regression(&mut plain, 9);
        let mut confirming = CulpritSearch::new(with_confirms(24)).unwrap();
        confirming.observe(24, true).unwrap();
        let (with, rounds_with) = drive_clean_regression(&mut confirming, 9);
        assert_eq!(without.hypothesis, Hypothesis::Culprit(9));
        assert_eq!(with.hypothesis, Hypothesis::Culprit(9));
        assert_eq!(with.outcome, Outcome::Decided);
        assert!(with.confirms_used > 0, "{with:?}");
        assert!(
            rounds_with <= rounds_without,
            "{rounds_with} vs {rounds_without}"
        );
        assert!(
            with.cost_used <= without.cost_used + 1e-9,
            "confirms {} vs runs only {}",
            with.cost_used,
            without.cost_used
        );
    }

    #[test]
    fn the_budget_counts_machine_time() {
        // A budget of 3 job runs' machine time, the failure already seen
        // using one: the first round fills the other two with one run and
        // four confirm tasks on the failing push (one request, `times` 4);
        // after that only confirm tasks fit.
        let mut search = CulpritSearch::new(CulpritConfig {
            budget: 3,
            ..with_confirms(12)
        })
        .unwrap();
        search.observe(12, true).unwrap();
        let Decision::Run(round) = search.next_round() else {
            panic!("nothing settled yet");
        };
        assert_eq!(round.confirms, vec![12; 4], "{round:?}");
        assert_eq!(round.runs.len(), 1, "{round:?}");
        assert!((round.cost(search.config()) - 2.0).abs() < 1e-9);
        for &push in &round.runs {
            search.observe(push, true).unwrap();
        }
        search.observe_confirm(12, 5, 5).unwrap();
        // 2 runs + 0.25 used, 0.75 left: confirm tasks fit, no run.
        let Decision::Run(last) = search.next_round() else {
            panic!("a confirm still fits");
        };
        assert!(last.runs.is_empty(), "{last:?}");
        assert!(!last.confirms.is_empty(), "{last:?}");
        assert!(last.cost(search.config()) <= 0.75 + 1e-9);
        for push in last.confirms {
            search.observe_confirm(push, 5, 5).unwrap();
        }
        let mut spent = search.clone();
        while let Decision::Run(more) = spent.next_round() {
            assert!(more.runs.is_empty());
            for push in more.confirms {
                spent.observe_confirm(push, 5, 5).unwrap();
            }
        }
        assert!(spent.cost_used() <= 3.0 + 1e-9);
    }

    #[test]
    fn flake_history_makes_no_culprit_cheaper_to_settle() {
        // No culprit in a job that flakes one run in ten, everywhere alike:
        // knowing that rate from history, fewer runs settle it.
        let runs_needed = |rates: RateModel| {
            let mut search = CulpritSearch::new(CulpritConfig {
                rates,
                ..CulpritConfig::new(8)
            })
            .unwrap();
            let mut run = 0u32;
            loop {
                match search.next_round() {
                    Decision::Done(answer) => {
                        assert_eq!(answer.hypothesis, Hypothesis::NoCulprit);
                        return answer.runs_used;
                    }
                    Decision::Run(round) => {
                        for push in round.runs {
                            search.observe(push, run % 10 == 0).unwrap();
                            run += 1;
                        }
                    }
                }
            }
        };
        let without = runs_needed(RateModel::default_grid());
        let with = runs_needed(RateModel::with_flake_history(30, 300).unwrap());
        assert!(with < without, "history {with} runs, none {without}");
    }
}
