//! A simulated CI for culprit finding: seeded cases (n, culprit or none,
//! flake rate, regression strength), their job runs and confirm tasks, and
//! the strategies the benchmark compares (the Bayesian search with and
//! without confirm tasks, backfills, bisection).
//!
//! A confirm task (Taskcluster's `confirm-failures`) is modelled as the
//! action behaves: it can only be asked on a push where a run failed (the
//! search only asks it there, or on push n, where the failure under
//! investigation was seen), and yields `repeats` test-level outcomes, each
//! failing with the push's failure probability, for its machine time.

use mozci::plan::culprit::{
    ConfirmAction, CulpritConfig, CulpritSearch, Decision, Hypothesis, RateModel, Round, StopReason,
};
use std::collections::BTreeMap;

/// The splitmix64 generator: tiny, fast and good enough for simulation.
#[derive(Debug, Clone)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        SplitMix64 { state: seed }
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix64(self.state)
    }

    /// Uniform in [0, 1) with 53 random bits.
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in `0..bound` (`bound > 0`), by rejection to avoid bias.
    pub fn below(&mut self, bound: u64) -> u64 {
        let zone = u64::MAX - u64::MAX % bound;
        loop {
            let x = self.next_u64();
            if x < zone {
                return x % bound;
            }
        }
    }
}

/// splitmix64's output function: a bijective avalanche of 64 bits.
fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// One simulated culprit-finding problem.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SimCase {
    pub n: u32,
    /// `None`: the failure seen on push n was a flake.
    pub culprit: Option<u32>,
    pub flake_rate: f64,
    pub strength: f64,
    /// Seeds the case's run outcomes.
    pub seed: u64,
}

impl SimCase {
    /// Failure probability of a run at `push` (<= 0: older than the range).
    pub fn failure_probability(&self, push: i64) -> f64 {
        match self.culprit {
            Some(c) if push >= i64::from(c) => {
                1.0 - (1.0 - self.flake_rate) * (1.0 - self.strength)
            }
            _ => self.flake_rate,
        }
    }

    /// Outcome of the `run_index`-th run at `push`: a fixed function of the
    /// case, so that every strategy sees the same outcome for the same run.
    pub fn run_fails(&self, push: i64, run_index: u32) -> bool {
        let key = self.seed
            ^ (push as u64).wrapping_mul(0xD1B5_4A32_D192_ED03)
            ^ u64::from(run_index).wrapping_mul(0xABC9_8388_FB8B_AC03);
        let uniform = (mix64(mix64(key)) >> 11) as f64 / (1u64 << 53) as f64;
        uniform < self.failure_probability(push)
    }

    /// Outcome of repeat `repeat` of the `task_index`-th confirm task at
    /// `push`: drawn like a run, from its own stream, so that confirm tasks
    /// never reuse a job run's outcome.
    pub fn confirm_repeat_fails(&self, push: i64, task_index: u32, repeat: u32) -> bool {
        let key = self.seed
            ^ 0xC0F1_2A11_5EED_0001
            ^ (push as u64).wrapping_mul(0x9FB2_1C65_1E98_DF25)
            ^ u64::from(task_index).wrapping_mul(0xD6E8_FEB8_6659_FD93)
            ^ u64::from(repeat).wrapping_mul(0xA076_1D64_78BD_642F);
        let uniform = (mix64(mix64(key)) >> 11) as f64 / (1u64 << 53) as f64;
        uniform < self.failure_probability(push)
    }

    /// The answer a strategy should give.
    pub fn truth(&self) -> Hypothesis {
        self.culprit
            .map_or(Hypothesis::NoCulprit, Hypothesis::Culprit)
    }
}

/// The suite's flake rates, each drawn as often.
pub const SUITE_FLAKE_RATES: [f64; 6] = [0.0, 0.05, 0.1, 0.2, 0.3, 0.4];
/// The suite's regression strengths, each drawn as often.
pub const SUITE_STRENGTHS: [f64; 3] = [1.0, 0.5, 0.2];
/// Of every 5 consecutive cases, this many have a culprit.
const CULPRIT_CASES_IN_FIVE: u32 = 3;
/// The suite's share of cases without a culprit (2 in 5).
pub const SUITE_NO_CULPRIT_SHARE: f64 = (5 - CULPRIT_CASES_IN_FIVE) as f64 / 5.0;

/// The benchmark's suite: for every n in {4, 8, 16, 32, 64}, f in
/// [`SUITE_FLAKE_RATES`] and q in [`SUITE_STRENGTHS`], `cases_per_cell`
/// cases, of which 3 in 5 have a culprit uniform in 1..=n and 2 in 5 have
/// none.
pub fn benchmark_suite(cases_per_cell: u32, seed: u64) -> Vec<SimCase> {
    let mut rng = SplitMix64::new(seed);
    let mut cases = Vec::new();
    let mut index = 0u32;
    for n in [4u32, 8, 16, 32, 64] {
        for flake_rate in SUITE_FLAKE_RATES {
            for strength in SUITE_STRENGTHS {
                for _ in 0..cases_per_cell {
                    // Case k overall has a culprit when k mod 5 < 3: exactly
                    // 60% over the suite, close to it in every cell.
                    let culprit = if index % 5 < CULPRIT_CASES_IN_FIVE {
                        Some(rng.below(u64::from(n)) as u32 + 1)
                    } else {
                        None
                    };
                    cases.push(SimCase {
                        n,
                        culprit,
                        flake_rate,
                        strength,
                        seed: rng.next_u64(),
                    });
                    index += 1;
                }
            }
        }
    }
    cases
}

/// The realistic suite's share of cases with a culprit: sheriffs chase
/// intermittent failures about as often as regressions.
pub const REALISTIC_CULPRIT_SHARE: f64 = 0.5;

/// Draws a job's flake rate as Mozilla's CI shows them: 35% of jobs never
/// fail intermittently, 50% flake at 0.5–5% of runs, and a tail of 15%
/// at 5–30% (log-uniform within each band; the bands follow Treeherder's
/// intermittent-failure statistics, where most tracked intermittents fail
/// well under one run in twenty).
fn realistic_flake_rate(rng: &mut SplitMix64) -> f64 {
    let log_uniform = |rng: &mut SplitMix64, low: f64, high: f64| {
        (low.ln() + rng.next_f64() * (high.ln() - low.ln())).exp()
    };
    let band = rng.next_f64();
    if band < 0.35 {
        0.0
    } else if band < 0.85 {
        log_uniform(rng, 0.005, 0.05)
    } else {
        log_uniform(rng, 0.05, 0.30)
    }
}

/// Draws a regression's strength: 70% fail every run, the rest uniformly
/// 15–95% of runs (a race or a platform-dependent crash).
fn realistic_strength(rng: &mut SplitMix64) -> f64 {
    if rng.next_f64() < 0.7 {
        1.0
    } else {
        0.15 + 0.8 * rng.next_f64()
    }
}

/// The realistic suite: `cases` cases, half with a culprit. n is uniform in
/// 2..=40 (the suspect ranges sheriffs backfill), f and q come from
/// [`realistic_flake_rate`] and [`realistic_strength`]. A case is only
/// investigated because push n failed, so each case is kept with the
/// probability that a run on push n fails (a "no culprit" case needs a
/// flake there, which makes flakier jobs more common among them, and rules
/// out f = 0).
///
/// Every case carries a strength drawn the same way, with a culprit or
/// without: the strength a regression of this job would have. The oracle
/// is told it, and it must tell it nothing about whether there is a
/// culprit. (Until session 10, cases without a culprit carried strength 1:
/// the oracle was then told that any regression would fail every run, so a
/// single pass on push n ruled out every culprit for it, knowledge no real
/// search has, and the oracle's cost on flaky jobs was not a bar any search
/// could reach. Suite 1 already drew q the same way for both kinds.)
pub fn realistic_suite(cases: u32, seed: u64) -> Vec<SimCase> {
    let mut rng = SplitMix64::new(seed);
    let mut suite = Vec::with_capacity(cases as usize);
    for index in 0..cases {
        let with_culprit = f64::from(index % 10) < REALISTIC_CULPRIT_SHARE * 10.0;
        loop {
            let n = 2 + rng.below(39) as u32;
            let flake_rate = realistic_flake_rate(&mut rng);
            let culprit = with_culprit.then(|| rng.below(u64::from(n)) as u32 + 1);
            let strength = realistic_strength(&mut rng);
            let case = SimCase {
                n,
                culprit,
                flake_rate,
                strength,
                seed: rng.next_u64(),
            };
            if rng.next_f64() < case.failure_probability(i64::from(n)) {
                suite.push(case);
                break;
            }
        }
    }
    suite
}

/// The stop threshold of a search meant to spend its whole budget: only an
/// answer beyond all doubt (a clean regression after a few dozen runs)
/// stops it sooner.
pub const WHOLE_BUDGET_THRESHOLD: f64 = 1.0 - 1e-9;

/// The push whose runs stand for the job's history before the search: far
/// older than the range, so never a push any strategy runs.
const HISTORY_PUSH: i64 = -1_000_000;

/// Runs a strategy makes against one case, counting runs per push.
struct World<'a> {
    case: &'a SimCase,
    runs_at: BTreeMap<i64, u32>,
    runs: u32,
    rounds: u32,
    confirms_at: BTreeMap<i64, u32>,
    confirms: u32,
    /// Machine time of the confirm tasks, in job-run units.
    confirm_cost: f64,
}

impl<'a> World<'a> {
    fn new(case: &'a SimCase) -> Self {
        World {
            case,
            runs_at: BTreeMap::new(),
            runs: 0,
            rounds: 0,
            confirms_at: BTreeMap::new(),
            confirms: 0,
            confirm_cost: 0.0,
        }
    }

    /// One confirm task at `push`: how many of its repeats failed.
    fn confirm(&mut self, push: i64, action: ConfirmAction) -> u32 {
        let index = self.confirms_at.entry(push).or_insert(0);
        let task = *index;
        *index += 1;
        self.confirms += 1;
        self.confirm_cost += action.cost;
        (0..action.repeats)
            .filter(|&r| self.case.confirm_repeat_fails(push, task, r))
            .count() as u32
    }

    fn run(&mut self, push: i64) -> bool {
        let index = self.runs_at.entry(push).or_insert(0);
        let failed = self.case.run_fails(push, *index);
        *index += 1;
        self.runs += 1;
        failed
    }

    fn finish(self, answer: Hypothesis) -> SimOutcome {
        self.finish_with(answer, false)
    }

    fn finish_with(self, answer: Hypothesis, budget_spent: bool) -> SimOutcome {
        SimOutcome {
            answer,
            correct: answer == self.case.truth(),
            runs: self.runs,
            confirms: self.confirms,
            cost: f64::from(self.runs) + self.confirm_cost,
            rounds: self.rounds,
            budget_spent,
        }
    }
}

/// What a strategy did on one case.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SimOutcome {
    pub answer: Hypothesis,
    pub correct: bool,
    /// Whole-job runs.
    pub runs: u32,
    /// Confirm tasks, and the machine time of everything in job-run units.
    pub confirms: u32,
    pub cost: f64,
    pub rounds: u32,
    /// The strategy stopped because its budget ran out, not by its own rule.
    pub budget_spent: bool,
}

/// A way to find the culprit, given run results only (never the case's truth).
#[derive(Debug, Clone, PartialEq)]
pub enum Strategy {
    /// The Bayesian search with f and q estimated.
    Search { runs_per_round: u32, budget: u32 },
    /// The Bayesian search with f and q estimated, its flake-rate prior
    /// updated by `past_runs` earlier runs of the job (as CI's history would
    /// give them; they are not counted as runs of the search).
    SearchWithHistory {
        runs_per_round: u32,
        budget: u32,
        past_runs: u32,
    },
    /// The Bayesian search with f and q estimated from its own runs, its
    /// prior set to how the suite draws cases ([`suite_prior`]), which no
    /// real job would tell: how far estimating f and q can go at best.
    /// With `whole_budget` it stops only at [`WHOLE_BUDGET_THRESHOLD`], so
    /// it spends the whole budget on every case left in any doubt: what
    /// stopping at 0.99 costs, and what more runs could still buy.
    SearchWithSuitePrior {
        runs_per_round: u32,
        budget: u32,
        whole_budget: bool,
    },
    /// The Bayesian search told the case's true f and q.
    Oracle { runs_per_round: u32, budget: u32 },
    /// The oracle, also free to ask confirm tasks.
    OracleWithConfirms {
        runs_per_round: u32,
        budget: u32,
        confirm: ConfirmAction,
    },
    /// The product's Find culprit with confirm tasks: f and q estimated
    /// (the flake-rate prior from `past_runs` earlier runs when not 0), the
    /// budget in machine time; with `first`, a confirm task on push n
    /// alone in the first round ("confirm first, then backfill").
    SearchWithConfirms {
        runs_per_round: u32,
        budget: u32,
        past_runs: u32,
        confirm: ConfirmAction,
        first: bool,
    },
    /// Treeherder's backfill: one run on each of the `depth` pushes before
    /// n (older than the range too when n <= depth), in one round; the
    /// first bad push is the one after the newest passing push, or the
    /// oldest run push when none passed; an answer before push 1 counts as
    /// push 1. Never answers "no culprit".
    TreeherderBackfill { depth: u32 },
    /// mozci's backfill to the last good push: walk back from n − 1 one push
    /// per round, `times` runs each, until a push has a passing run (the
    /// last good push); answer the push after it. Past the range (or the
    /// budget) the answer is push 1. Never answers "no culprit".
    BackfillToGood { times: u32, budget: u32 },
    /// Classic bisection: first confirm the failure by running push n
    /// `times` times ("no culprit" unless they all fail), then binary
    /// search between an older push (assumed good) and push n; a push
    /// counts as bad only if all `times` runs fail.
    Bisect { times: u32 },
}

impl Strategy {
    pub fn name(&self) -> String {
        match self {
            Strategy::Search { runs_per_round, .. } => format!("search (k={runs_per_round})"),
            Strategy::SearchWithHistory {
                runs_per_round,
                past_runs,
                ..
            } => format!("search+history {past_runs} (k={runs_per_round})"),
            Strategy::SearchWithSuitePrior {
                runs_per_round,
                whole_budget,
                ..
            } => {
                let whole = if *whole_budget { ", whole budget" } else { "" };
                format!("search+suite prior{whole} (k={runs_per_round})")
            }
            Strategy::Oracle { runs_per_round, .. } => format!("oracle (k={runs_per_round})"),
            Strategy::OracleWithConfirms { confirm, .. } => {
                format!("oracle+confirms (c={})", confirm.cost)
            }
            Strategy::SearchWithConfirms {
                past_runs,
                confirm,
                first,
                ..
            } => {
                let mode = if *first {
                    "confirm first"
                } else {
                    "search+confirms"
                };
                let history = if *past_runs > 0 {
                    format!("+history {past_runs}")
                } else {
                    String::new()
                };
                format!("{mode}{history} (c={})", confirm.cost)
            }
            Strategy::TreeherderBackfill { depth } => format!("treeherder backfill d{depth}"),
            Strategy::BackfillToGood { times, .. } => format!("backfill to good x{times}"),
            Strategy::Bisect { times } => format!("bisect({times})"),
        }
    }

    pub fn solve(&self, case: &SimCase) -> SimOutcome {
        let mut world = World::new(case);
        match self {
            Strategy::Search {
                runs_per_round,
                budget,
            } => {
                let config =
                    search_config(case.n, *budget, *runs_per_round, RateModel::default_grid());
                searched(world, config)
            }
            Strategy::SearchWithHistory {
                runs_per_round,
                budget,
                past_runs,
            } => {
                let failures = (0..*past_runs)
                    .filter(|&i| case.run_fails(HISTORY_PUSH, i))
                    .count() as u32;
                let Ok(rates) = RateModel::with_flake_history(failures, *past_runs) else {
                    return world.finish(Hypothesis::NoCulprit);
                };
                searched(
                    world,
                    search_config(case.n, *budget, *runs_per_round, rates),
                )
            }
            Strategy::SearchWithSuitePrior {
                runs_per_round,
                budget,
                whole_budget,
            } => {
                let mut config = CulpritConfig {
                    prior_no_culprit: SUITE_NO_CULPRIT_SHARE,
                    ..search_config(case.n, *budget, *runs_per_round, suite_prior())
                };
                if *whole_budget {
                    config.threshold = WHOLE_BUDGET_THRESHOLD;
                }
                searched(world, config)
            }
            Strategy::Oracle {
                runs_per_round,
                budget,
            } => {
                let rates = RateModel::Known {
                    flake_rate: case.flake_rate,
                    strength: case.strength,
                };
                searched(
                    world,
                    search_config(case.n, *budget, *runs_per_round, rates),
                )
            }
            Strategy::OracleWithConfirms {
                runs_per_round,
                budget,
                confirm,
            } => {
                let rates = RateModel::Known {
                    flake_rate: case.flake_rate,
                    strength: case.strength,
                };
                let config = CulpritConfig {
                    confirm: Some(*confirm),
                    ..search_config(case.n, *budget, *runs_per_round, rates)
                };
                searched(world, config)
            }
            Strategy::SearchWithConfirms {
                runs_per_round,
                budget,
                past_runs,
                confirm,
                first,
            } => {
                let failures = (0..*past_runs)
                    .filter(|&i| case.run_fails(HISTORY_PUSH, i))
                    .count() as u32;
                let Ok(rates) = RateModel::with_flake_history(failures, *past_runs) else {
                    return world.finish(Hypothesis::NoCulprit);
                };
                let config = CulpritConfig {
                    confirm: Some(*confirm),
                    ..search_config(case.n, *budget, *runs_per_round, rates)
                };
                let Ok(mut search) = CulpritSearch::new(config) else {
                    return world.finish(Hypothesis::NoCulprit);
                };
                if *first {
                    world.rounds += 1;
                    let push = i64::from(case.n);
                    let failures = world.confirm(push, *confirm);
                    if search
                        .observe_confirm(push, failures, confirm.repeats)
                        .is_err()
                    {
                        return world.finish(Hypothesis::NoCulprit);
                    }
                }
                let (answer, budget_spent) = drive(search, &mut world);
                world.finish_with(answer, budget_spent)
            }
            Strategy::TreeherderBackfill { depth } => {
                let n = i64::from(case.n);
                world.rounds = 1;
                let passed: Vec<bool> = (1..=i64::from(*depth))
                    .map(|back| !world.run(n - back))
                    .collect();
                let first_bad = match passed.iter().position(|&p| p) {
                    Some(back) => n - back as i64,
                    None => n - i64::from(*depth),
                };
                world.finish(Hypothesis::Culprit(first_bad.max(1) as u32))
            }
            Strategy::BackfillToGood { times, budget } => {
                let n = i64::from(case.n);
                let mut push = n - 1;
                let mut first_bad = 1;
                let mut budget_spent = true;
                while world.runs + times <= *budget {
                    world.rounds += 1;
                    let mut any_pass = false;
                    for _ in 0..*times {
                        any_pass |= !world.run(push);
                    }
                    if any_pass {
                        first_bad = push + 1;
                        budget_spent = false;
                        break;
                    }
                    push -= 1;
                }
                world.finish_with(Hypothesis::Culprit(first_bad.max(1) as u32), budget_spent)
            }
            Strategy::Bisect { times } => {
                let (mut good, mut bad) = (0i64, i64::from(case.n));
                let counts_bad = |world: &mut World<'_>, push: i64| {
                    world.rounds += 1;
                    // Every run is made, as a bisection tool retriggers them together.
                    (0..*times).fold(true, |all, _| world.run(push) && all)
                };
                if !counts_bad(&mut world, bad) {
                    return world.finish(Hypothesis::NoCulprit);
                }
                while bad - good > 1 {
                    let middle = good + (bad - good) / 2;
                    if counts_bad(&mut world, middle) {
                        bad = middle;
                    } else {
                        good = middle;
                    }
                }
                world.finish(Hypothesis::Culprit(bad as u32))
            }
        }
    }
}

/// The suite's own distribution of f and q as a prior: each of its values
/// equally likely, nothing else possible. The search still has to learn
/// which one a case has from its runs.
pub fn suite_prior() -> RateModel {
    let uniform = |values: &[f64]| -> Vec<(f64, f64)> {
        let weight = 1.0 / values.len() as f64;
        values.iter().map(|&v| (v, weight)).collect()
    };
    RateModel::Estimated {
        flake_rates: uniform(&SUITE_FLAKE_RATES),
        strengths: uniform(&SUITE_STRENGTHS),
    }
}

/// The product's search configuration for `n` suspects with this budget,
/// round size and rate model.
fn search_config(n: u32, budget: u32, runs_per_round: u32, rates: RateModel) -> CulpritConfig {
    CulpritConfig {
        budget,
        runs_per_round,
        rates,
        ..CulpritConfig::new(n)
    }
}

/// Runs the search `config` describes to its answer.
fn searched(mut world: World<'_>, config: CulpritConfig) -> SimOutcome {
    let (answer, budget_spent) = run_search(config, &mut world);
    world.finish_with(answer, budget_spent)
}

/// Drives a search against the simulated world until it answers; also
/// says whether it stopped for lack of budget.
fn run_search(config: CulpritConfig, world: &mut World<'_>) -> (Hypothesis, bool) {
    match CulpritSearch::new(config) {
        Ok(search) => drive(search, world),
        Err(_) => (Hypothesis::NoCulprit, false),
    }
}

/// Drives `search` from where it stands until it answers.
fn drive(mut search: CulpritSearch, world: &mut World<'_>) -> (Hypothesis, bool) {
    let action = search.config().confirm.unwrap_or_default();
    loop {
        match search.next_round() {
            Decision::Done(answer) => {
                return (
                    answer.hypothesis,
                    answer.stopped == Some(StopReason::BudgetSpent),
                )
            }
            Decision::Run(Round { runs, confirms }) => {
                world.rounds += 1;
                for push in runs {
                    let failed = world.run(push);
                    if search.observe(push, failed).is_err() {
                        return (search.answer().hypothesis, false);
                    }
                }
                for push in confirms {
                    let failures = world.confirm(push, action);
                    if search
                        .observe_confirm(push, failures, action.repeats)
                        .is_err()
                    {
                        return (search.answer().hypothesis, false);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix_matches_its_reference_output() {
        // First outputs of splitmix64 seeded with 1234567 (published values).
        let mut rng = SplitMix64::new(1_234_567);
        assert_eq!(rng.next_u64(), 6_457_827_717_110_365_317);
        assert_eq!(rng.next_u64(), 3_203_168_211_198_807_973);
    }

    #[test]
    fn suite_has_the_promised_shape() {
        let cases = benchmark_suite(5, 7);
        assert_eq!(cases.len(), 5 * 6 * 3 * 5);
        let with_culprit = cases.iter().filter(|c| c.culprit.is_some()).count();
        assert_eq!(with_culprit * 5, cases.len() * 3);
        assert!(cases
            .iter()
            .all(|c| c.culprit.is_none_or(|p| p >= 1 && p <= c.n)));
        assert_eq!(cases, benchmark_suite(5, 7), "same seed, same suite");
    }

    #[test]
    fn realistic_suite_has_the_promised_shape() {
        let cases = realistic_suite(2000, 11);
        assert_eq!(cases.len(), 2000);
        assert_eq!(cases, realistic_suite(2000, 11), "same seed, same suite");
        let with_culprit: Vec<_> = cases.iter().filter(|c| c.culprit.is_some()).collect();
        assert_eq!(with_culprit.len(), 1000);
        assert!(cases.iter().all(|c| (2..=40).contains(&c.n)
            && c.culprit.is_none_or(|p| p >= 1 && p <= c.n)
            && (0.0..=0.3).contains(&c.flake_rate)
            && (0.15..=1.0).contains(&c.strength)));
        // A flake is what made push n fail in a case without a culprit.
        assert!(cases
            .iter()
            .filter(|c| c.culprit.is_none())
            .all(|c| c.flake_rate > 0.0));
        let share = |part: &[&SimCase], pred: &dyn Fn(&SimCase) -> bool| {
            part.iter().filter(|c| pred(c)).count() as f64 / part.len() as f64
        };
        // Among regressions, f = 0 stays near its 35% (kept with probability
        // at least q), permanent ones near 70% or above (kept more often).
        let zero = share(&with_culprit, &|c| c.flake_rate == 0.0);
        assert!((0.25..0.45).contains(&zero), "{zero}");
        let permanent = share(&with_culprit, &|c| c.strength == 1.0);
        assert!((0.7..0.9).contains(&permanent), "{permanent}");
        // Most regressions are in jobs that flake at most 5% of runs; among
        // the intermittents, flakier jobs are over-represented (they fail
        // more often, so they are chased more often).
        let small = share(&with_culprit, &|c| c.flake_rate <= 0.05);
        assert!(small > 0.8, "{small}");
        let without: Vec<_> = cases.iter().filter(|c| c.culprit.is_none()).collect();
        let tail = share(&without, &|c| c.flake_rate > 0.05);
        assert!(tail > 0.15 + 0.1, "{tail}");
        // Without a culprit the strength is drawn as for a regression (a
        // flake on push n does not depend on it): the oracle, told q, learns
        // nothing from it about whether there is a culprit.
        let permanent_without = share(&without, &|c| c.strength == 1.0);
        assert!(
            (0.64..0.76).contains(&permanent_without),
            "{permanent_without}"
        );
        assert!(without.iter().any(|c| c.strength < 0.5));
    }

    #[test]
    fn suite_prior_is_how_the_suite_draws_cases() {
        let cases = benchmark_suite(5, 7);
        let share = |pred: &dyn Fn(&SimCase) -> bool| {
            cases.iter().filter(|c| pred(c)).count() as f64 / cases.len() as f64
        };
        assert!((share(&|c| c.culprit.is_none()) - SUITE_NO_CULPRIT_SHARE).abs() < 1e-12);
        let RateModel::Estimated {
            flake_rates,
            strengths,
        } = suite_prior()
        else {
            panic!("the suite prior is a grid");
        };
        let (f_values, q_values): (Vec<f64>, Vec<f64>) = (
            flake_rates.iter().map(|p| p.0).collect(),
            strengths.iter().map(|p| p.0).collect(),
        );
        assert!(cases.iter().all(|c| f_values.contains(&c.flake_rate)));
        assert!(cases.iter().all(|c| q_values.contains(&c.strength)));
        for (f, weight) in flake_rates {
            assert!(
                (share(&|c| c.flake_rate == f) - weight).abs() < 1e-12,
                "f = {f}"
            );
        }
        for (q, weight) in strengths {
            assert!(
                (share(&|c| c.strength == q) - weight).abs() < 1e-12,
                "q = {q}"
            );
        }
    }

    #[test]
    fn suite_prior_search_finds_a_clean_regression() {
        let case = SimCase {
            n: 16,
            culprit: Some(11),
            flake_rate: 0.0,
            strength: 1.0,
            seed: 3,
        };
        let outcome = Strategy::SearchWithSuitePrior {
            runs_per_round: 8,
            budget: 300,
            whole_budget: false,
        }
        .solve(&case);
        assert_eq!(outcome.answer, Hypothesis::Culprit(11));
        assert!(!outcome.budget_spent && outcome.runs <= 64, "{outcome:?}");
    }

    #[test]
    fn whole_budget_search_runs_on_past_the_threshold() {
        let solve = |case: &SimCase, whole_budget| {
            Strategy::SearchWithSuitePrior {
                runs_per_round: 8,
                budget: 300,
                whole_budget,
            }
            .solve(case)
        };
        // A regression failing 65% of runs in a job flaking 30%: the 0.99
        // rule stops early, the whole-budget search goes on to the end.
        let weak = SimCase {
            n: 8,
            culprit: Some(5),
            flake_rate: 0.3,
            strength: 0.5,
            seed: 99,
        };
        let stopped = solve(&weak, false);
        assert!(!stopped.budget_spent && stopped.runs < 300, "{stopped:?}");
        let whole = solve(&weak, true);
        assert_eq!((whole.runs, whole.budget_spent), (300, true), "{whole:?}");
        assert_eq!(whole.answer, Hypothesis::Culprit(5));
        // A clean regression leaves no doubt at all long before the budget.
        let clean = SimCase {
            n: 16,
            culprit: Some(11),
            flake_rate: 0.0,
            strength: 1.0,
            seed: 3,
        };
        let whole = solve(&clean, true);
        assert_eq!(whole.answer, Hypothesis::Culprit(11));
        assert!(!whole.budget_spent && whole.runs < 300, "{whole:?}");
    }

    /// Drives the product's search, its prior set by a history of
    /// `history_failures` in 100 runs, against `case`.
    fn search_with_history(case: &SimCase, history_failures: u32) -> (Hypothesis, bool) {
        let rates = RateModel::with_flake_history(history_failures, 100).unwrap();
        let mut world = World::new(case);
        run_search(search_config(case.n, 300, 8, rates), &mut world)
    }

    #[test]
    fn a_rate_rising_from_2_to_30_percent_is_found_despite_the_history() {
        // The history saw the job fail 2% of runs; from push 6 on it fails
        // 30% of runs (q = 0.286): the culprit, with the history's help.
        let mut found = 0;
        for seed in [1, 2, 3] {
            let case = SimCase {
                n: 8,
                culprit: Some(6),
                flake_rate: 0.02,
                strength: 0.286,
                seed,
            };
            let (answer, budget_spent) = search_with_history(&case, 2);
            assert!(
                budget_spent || answer == Hypothesis::Culprit(6),
                "seed {seed}: a confident answer must be push 6, got {answer:?}"
            );
            found += u32::from(!budget_spent);
        }
        assert!(found >= 2, "found with confidence in {found} of 3 cases");
    }

    #[test]
    fn a_rate_that_changed_before_the_range_is_not_blamed_on_a_push() {
        // The history saw 2%, but the job now fails 30% of runs on every
        // push, the older ones too: no push is the culprit. The runs on
        // older pushes overrule the history; the search must never name a
        // culprit with confidence.
        for seed in [4, 5, 6, 7] {
            let case = SimCase {
                n: 8,
                culprit: None,
                flake_rate: 0.3,
                strength: 1.0,
                seed,
            };
            let (answer, budget_spent) = search_with_history(&case, 2);
            assert!(
                budget_spent || answer == Hypothesis::NoCulprit,
                "seed {seed}: confident {answer:?}"
            );
        }
    }

    #[test]
    fn run_outcomes_follow_the_model() {
        let case = SimCase {
            n: 8,
            culprit: Some(5),
            flake_rate: 0.2,
            strength: 0.5,
            seed: 99,
        };
        let rate =
            |push: i64| (0..4000).filter(|&i| case.run_fails(push, i)).count() as f64 / 4000.0;
        assert!((rate(4) - 0.2).abs() < 0.03);
        assert!((rate(5) - 0.6).abs() < 0.03);
        assert!((rate(-3) - 0.2).abs() < 0.03);
        assert_eq!(case.run_fails(5, 17), case.run_fails(5, 17));
    }

    #[test]
    fn history_runs_inform_the_search_without_counting_as_its_runs() {
        let case = SimCase {
            n: 8,
            culprit: Some(5),
            flake_rate: 0.3,
            strength: 1.0,
            seed: 11,
        };
        let with_history = Strategy::SearchWithHistory {
            runs_per_round: 8,
            budget: 300,
            past_runs: 400,
        }
        .solve(&case);
        assert_eq!(with_history.answer, Hypothesis::Culprit(5));
        assert!(
            with_history.runs < 400,
            "the 400 past runs are not the search's: {}",
            with_history.runs
        );
        assert_eq!(with_history.runs % 8, 0, "whole rounds of 8");
    }

    fn confirm_first_strategy(past_runs: u32) -> Strategy {
        Strategy::SearchWithConfirms {
            runs_per_round: 8,
            budget: 300,
            past_runs,
            confirm: ConfirmAction::default(),
            first: true,
        }
    }

    #[test]
    fn confirm_repeats_follow_the_model_and_not_the_runs() {
        let case = SimCase {
            n: 8,
            culprit: Some(5),
            flake_rate: 0.2,
            strength: 0.5,
            seed: 99,
        };
        let rate = |push: i64| {
            (0..800)
                .flat_map(|task| (0..5).map(move |r| (task, r)))
                .filter(|&(task, r)| case.confirm_repeat_fails(push, task, r))
                .count() as f64
                / 4000.0
        };
        assert!((rate(4) - 0.2).abs() < 0.03);
        assert!((rate(5) - 0.6).abs() < 0.03);
        let same_as_runs = (0..200)
            .filter(|&i| case.confirm_repeat_fails(5, i, 0) == case.run_fails(5, i))
            .count();
        assert!(
            same_as_runs < 160,
            "{same_as_runs} of 200 agree: not independent"
        );
    }

    #[test]
    fn confirm_first_counts_its_tasks_in_machine_time() {
        let case = SimCase {
            n: 24,
            culprit: Some(9),
            flake_rate: 0.0,
            strength: 1.0,
            seed: 3,
        };
        let outcome = confirm_first_strategy(0).solve(&case);
        assert_eq!(outcome.answer, Hypothesis::Culprit(9));
        assert!(!outcome.budget_spent);
        assert!(
            outcome.confirms >= 1,
            "the first round is a confirm: {outcome:?}"
        );
        let cost = f64::from(outcome.runs) + 0.25 * f64::from(outcome.confirms);
        assert!((outcome.cost - cost).abs() < 1e-9, "{outcome:?}");
        let baseline = Strategy::Bisect { times: 1 }.solve(&case);
        assert_eq!(baseline.cost, f64::from(baseline.runs));
    }

    #[test]
    fn confirm_first_never_names_a_culprit_in_a_flaky_only_range() {
        for seed in [4, 5, 6] {
            let case = SimCase {
                n: 12,
                culprit: None,
                flake_rate: 0.1,
                strength: 1.0,
                seed,
            };
            for past_runs in [0, 100] {
                let outcome = confirm_first_strategy(past_runs).solve(&case);
                assert!(
                    outcome.budget_spent || outcome.answer == Hypothesis::NoCulprit,
                    "seed {seed}, history {past_runs}: confident {outcome:?}"
                );
                assert!(outcome.cost <= 300.0 + 1e-9);
            }
        }
    }

    #[test]
    fn baselines_on_a_clean_permanent_regression() {
        let case = SimCase {
            n: 16,
            culprit: Some(11),
            flake_rate: 0.0,
            strength: 1.0,
            seed: 3,
        };
        let th = Strategy::TreeherderBackfill { depth: 9 }.solve(&case);
        assert_eq!(
            (th.answer, th.runs, th.rounds),
            (Hypothesis::Culprit(11), 9, 1)
        );
        let bf = Strategy::BackfillToGood {
            times: 5,
            budget: 300,
        }
        .solve(&case);
        // Pushes 15..=10 are run 5 times each; 10 passes.
        assert_eq!(
            (bf.answer, bf.runs, bf.rounds),
            (Hypothesis::Culprit(11), 30, 6)
        );
        // Push 16 confirmed (2 runs), then 8, 12, 10, 11: five rounds of 2.
        let bisect = Strategy::Bisect { times: 2 }.solve(&case);
        assert_eq!(
            (bisect.answer, bisect.runs, bisect.rounds),
            (Hypothesis::Culprit(11), 10, 5)
        );
    }

    #[test]
    fn bisection_says_no_culprit_when_the_failure_does_not_reproduce() {
        // No culprit and no flakes: push 8 passes its confirmation runs.
        let case = SimCase {
            n: 8,
            culprit: None,
            flake_rate: 0.0,
            strength: 1.0,
            seed: 5,
        };
        let bisect = Strategy::Bisect { times: 4 }.solve(&case);
        assert_eq!(
            (bisect.answer, bisect.runs, bisect.rounds),
            (Hypothesis::NoCulprit, 4, 1)
        );
    }
}
