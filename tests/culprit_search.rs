//! Deterministic behaviour of the flake-aware culprit search: what it
//! answers on clear cases, that it is resumable from its observations, that
//! it respects its budget, and what its explanation says.

use mozci::plan::culprit::{
    Answer, CulpritConfig, CulpritSearch, Decision, Hypothesis, Outcome, RateModel, Round,
    StopReason,
};
use mozci_testkit::culprit_sim::SimCase;
use std::collections::HashMap;

/// Drives `search` against `case` until it answers; returns the answer and
/// the number of rounds.
fn drive(search: &mut CulpritSearch, case: &SimCase) -> (Answer, u32) {
    let mut runs_at: HashMap<i64, u32> = HashMap::new();
    let mut rounds = 0;
    loop {
        match search.next_round() {
            Decision::Done(answer) => return (answer, rounds),
            Decision::Run(Round { runs: pushes, .. }) => {
                rounds += 1;
                assert!(!pushes.is_empty(), "a round proposes at least one run");
                for push in pushes {
                    let index = runs_at.entry(push).or_insert(0);
                    let failed = case.run_fails(push, *index);
                    *index += 1;
                    search.observe(push, failed).unwrap();
                }
            }
        }
    }
}

fn case(n: u32, culprit: Option<u32>, flake_rate: f64, strength: f64) -> SimCase {
    SimCase {
        n,
        culprit,
        flake_rate,
        strength,
        seed: 0x5EED,
    }
}

#[test]
fn permanent_regression_is_found_with_few_runs() {
    let truth = case(32, Some(20), 0.0, 1.0);
    let mut search = CulpritSearch::new(CulpritConfig::new(32)).unwrap();
    let (answer, rounds) = drive(&mut search, &truth);
    assert_eq!(answer.hypothesis, Hypothesis::Culprit(20));
    assert_eq!(answer.stopped, Some(StopReason::Confident));
    assert!(answer.confidence >= 0.99);
    // A clean bisection of 33 hypotheses takes 6 runs; not knowing that
    // the job never flakes costs some confirmation runs, not hundreds.
    assert!(answer.runs_used <= 40, "{} runs", answer.runs_used);
    assert!(rounds <= 5, "{rounds} rounds");
    // The push before the culprit passed, the culprit failed.
    let on = |push: i64| answer.pushes.iter().find(|p| p.push == push).unwrap();
    assert!(on(19).runs > 0 && on(19).failures == 0);
    assert!(on(20).runs > 0 && on(20).failures == on(20).runs);
}

#[test]
fn oracle_bisects_a_clean_regression_one_run_at_a_time() {
    let truth = case(15, Some(6), 0.0, 1.0);
    let config = CulpritConfig {
        runs_per_round: 1,
        rates: RateModel::Known {
            flake_rate: 0.0,
            strength: 1.0,
        },
        ..CulpritConfig::new(15)
    };
    let mut search = CulpritSearch::new(config).unwrap();
    let (answer, rounds) = drive(&mut search, &truth);
    assert_eq!(answer.hypothesis, Hypothesis::Culprit(6));
    // 16 equally likely... not quite (no culprit has prior 1/4), but a
    // noiseless search needs about log2(16) = 4 runs.
    assert!(answer.runs_used <= 5, "{} runs", answer.runs_used);
    assert_eq!(rounds, answer.runs_used);
}

#[test]
fn flaky_failure_without_culprit_is_called_intermittent() {
    let truth = case(8, None, 0.05, 1.0);
    let mut search = CulpritSearch::new(CulpritConfig::new(8)).unwrap();
    let (answer, _) = drive(&mut search, &truth);
    assert_eq!(answer.hypothesis, Hypothesis::NoCulprit);
    assert_eq!(answer.stopped, Some(StopReason::Confident));
    assert!(answer.posterior_no_culprit >= 0.99);
    assert!(answer.runs_used <= 300);
}

#[test]
fn replaying_observations_gives_the_same_next_round() {
    let truth = case(16, Some(7), 0.1, 0.5);
    let config = CulpritConfig::new(16);
    let mut search = CulpritSearch::new(config.clone()).unwrap();
    let mut runs_at: HashMap<i64, u32> = HashMap::new();
    for _ in 0..3 {
        let Decision::Run(Round { runs: pushes, .. }) = search.next_round() else {
            panic!("three rounds cannot be enough here");
        };
        for push in pushes {
            let index = runs_at.entry(push).or_insert(0);
            search.observe(push, truth.run_fails(push, *index)).unwrap();
            *index += 1;
        }
    }
    let observed = search.observations().to_vec();
    assert_eq!(observed.len(), 24);
    let resumed = CulpritSearch::resume(config.clone(), &observed).unwrap();
    assert_eq!(resumed.next_round(), search.next_round());
    assert_eq!(resumed.posterior(), search.posterior());
    // Only the counts matter, not the order the results came in.
    let mut reversed = observed.clone();
    reversed.reverse();
    let shuffled = CulpritSearch::resume(config, &reversed).unwrap();
    assert_eq!(shuffled.next_round(), search.next_round());
}

#[test]
fn budget_is_never_exceeded() {
    // A weak regression over a very flaky job: 50 runs cannot settle it.
    let truth = case(32, Some(11), 0.4, 0.2);
    let config = CulpritConfig {
        budget: 50,
        runs_per_round: 8,
        ..CulpritConfig::new(32)
    };
    let mut search = CulpritSearch::new(config).unwrap();
    let mut runs_at: HashMap<i64, u32> = HashMap::new();
    let answer = loop {
        match search.next_round() {
            Decision::Done(answer) => break answer,
            Decision::Run(Round { runs: pushes, .. }) => {
                assert!(pushes.len() <= 8);
                assert!(search.runs_used() + pushes.len() as u32 <= 50);
                for push in pushes {
                    let index = runs_at.entry(push).or_insert(0);
                    search.observe(push, truth.run_fails(push, *index)).unwrap();
                    *index += 1;
                }
            }
        }
    };
    assert_eq!(answer.runs_used, 50);
    assert_eq!(answer.stopped, Some(StopReason::BudgetSpent));
    assert!(answer.confidence < 0.99);
    // The contract: a best guess at the budget's end never reads as a finding.
    assert_eq!(answer.outcome, Outcome::Undecided);
    let text = answer.explanation();
    assert!(
        text.starts_with(
            "Undecided: no answer became sure enough before the run budget ran out; best guess:"
        ),
        "{text}"
    );
}

#[test]
fn explanation_lists_the_verdict_and_every_push() {
    let mut search = CulpritSearch::new(CulpritConfig {
        rates: RateModel::Known {
            flake_rate: 0.0,
            strength: 1.0,
        },
        ..CulpritConfig::new(4)
    })
    .unwrap();
    for (push, failed) in [(0, false), (2, false), (3, true), (3, true), (4, true)] {
        search.observe(push, failed).unwrap();
    }
    let answer = search.answer();
    assert_eq!(answer.hypothesis, Hypothesis::Culprit(3));
    assert_eq!(answer.runs_used, 5);
    let text = answer.explanation();
    assert!(
        text.starts_with("Push 3 is the culprit with probability 100.0% (5 runs;"),
        "{text}"
    );
    assert!(
        text.contains("\n  older pushes: 0 failed of 1 runs, P(culprit) = 0.000"),
        "{text}"
    );
    assert!(text.contains("\n  push 1: 0 failed of 0 runs"), "{text}");
    assert!(
        text.contains("\n  push 3: 2 failed of 2 runs, P(culprit) = 1.000"),
        "{text}"
    );
    assert!(text.contains("\n  push 4: 1 failed of 1 runs"), "{text}");
    assert_eq!(answer.pushes.len(), 5, "older pushes then pushes 1..=4");
    let total: f64 = answer.pushes.iter().map(|p| p.posterior).sum();
    assert!((total + answer.posterior_no_culprit - 1.0).abs() < 1e-9);
}

#[test]
fn invalid_configurations_and_observations_are_errors() {
    assert!(CulpritSearch::new(CulpritConfig::new(0)).is_err());
    let bad_threshold = CulpritConfig {
        threshold: 1.0,
        ..CulpritConfig::new(4)
    };
    assert!(CulpritSearch::new(bad_threshold).is_err());
    let bad_rates = CulpritConfig {
        rates: RateModel::Known {
            flake_rate: 0.1,
            strength: 0.0,
        },
        ..CulpritConfig::new(4)
    };
    assert!(CulpritSearch::new(bad_rates).is_err());
    let empty_grid = CulpritConfig {
        rates: RateModel::Estimated {
            flake_rates: vec![],
            strengths: vec![(1.0, 1.0)],
        },
        ..CulpritConfig::new(4)
    };
    assert!(CulpritSearch::new(empty_grid).is_err());
    let mut search = CulpritSearch::new(CulpritConfig::new(4)).unwrap();
    assert!(search.observe(5, true).is_err());
    assert!(
        search.observe(-3, false).is_ok(),
        "older pushes are welcome"
    );
    assert_eq!(search.runs_used(), 1);
}

#[test]
fn first_round_has_the_configured_number_of_runs() {
    let search = CulpritSearch::new(CulpritConfig {
        runs_per_round: 6,
        ..CulpritConfig::new(64)
    })
    .unwrap();
    let Decision::Run(Round { runs: pushes, .. }) = search.next_round() else {
        panic!("nothing is known yet");
    };
    assert_eq!(pushes.len(), 6);
    assert!(pushes.iter().all(|&p| (0..=64).contains(&p)));
    assert!(
        pushes.windows(2).all(|w| w[0] <= w[1]),
        "sorted: {pushes:?}"
    );
}
