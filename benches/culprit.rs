//! Culprit-finding benchmark: every strategy on the same simulated suite
//! (fixed seed), printing accuracy, runs and rounds overall and per (f, q).
//!
//! `cargo bench --bench culprit`; `CULPRIT_BENCH_CASES=N` sets the cases per
//! (n, f, q) cell (default 40, i.e. 3600 cases, about two minutes on 2 cores)
//! for quick smoke runs, `CULPRIT_BENCH_SEED` draws another suite and
//! `CULPRIT_BENCH_SEARCH_ONLY` leaves out the baselines. The cases and
//! strategies are defined in `mozci::plan::culprit_sim`; every strategy sees
//! the same outcome for the j-th run on a given push of a given case.

use mozci::engine::addon_culprit::HISTORY_PUSHES;
use mozci::plan::culprit::{CulpritConfig, CulpritSearch, Decision, Hypothesis};
use mozci::plan::culprit_sim::{benchmark_suite, SimCase, SimOutcome, Strategy};
use std::time::Instant;

const DEFAULT_CASES_PER_CELL: u32 = 40;
/// The suite's seed; `CULPRIT_BENCH_SEED` (decimal or 0x-hex) draws another.
const DEFAULT_SEED: u64 = 0x00C0_FFEE_2023;
const BUDGET: u32 = 300;
const RUNS_PER_ROUND: u32 = 8;
/// Earlier runs of the job the history lines' flake-rate prior learns from:
/// what the add-on and `mozci culprit` read by default (one run on each of
/// `HISTORY_PUSHES` pushes), and a longer history.
const PAST_RUNS: [u32; 2] = [HISTORY_PUSHES, 300];

/// The searches come first: this search, the oracle, the search given the
/// suite's prior (stopping at 0.99, then spending the whole budget), then
/// one per history length.
const SEARCHES: usize = 4 + PAST_RUNS.len();

/// All strategies, or only the searches when `CULPRIT_BENCH_SEARCH_ONLY`
/// is set (for quick tuning runs).
fn strategies() -> Vec<Strategy> {
    let mut strategies = vec![
        Strategy::Search {
            runs_per_round: RUNS_PER_ROUND,
            budget: BUDGET,
        },
        Strategy::Oracle {
            runs_per_round: RUNS_PER_ROUND,
            budget: BUDGET,
        },
        Strategy::SearchWithSuitePrior {
            runs_per_round: RUNS_PER_ROUND,
            budget: BUDGET,
            whole_budget: false,
        },
        Strategy::SearchWithSuitePrior {
            runs_per_round: RUNS_PER_ROUND,
            budget: BUDGET,
            whole_budget: true,
        },
    ];
    strategies.extend(PAST_RUNS.map(|past_runs| Strategy::SearchWithHistory {
        runs_per_round: RUNS_PER_ROUND,
        budget: BUDGET,
        past_runs,
    }));
    if std::env::var_os("CULPRIT_BENCH_SEARCH_ONLY").is_some() {
        return strategies;
    }
    strategies.extend([
        Strategy::TreeherderBackfill { depth: 9 },
        Strategy::BackfillToGood {
            times: 1,
            budget: BUDGET,
        },
        Strategy::BackfillToGood {
            times: 5,
            budget: BUDGET,
        },
        Strategy::Bisect { times: 1 },
        Strategy::Bisect { times: 2 },
        Strategy::Bisect { times: 4 },
        Strategy::Bisect { times: 8 },
    ]);
    strategies
}

/// Solves every case, spreading them over the machine's cores.
fn solve_all(strategy: &Strategy, cases: &[SimCase]) -> Vec<SimOutcome> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
    let chunk = cases.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        let handles: Vec<_> = cases
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || part.iter().map(|c| strategy.solve(c)).collect::<Vec<_>>())
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    })
}

/// Formats one statistic of a cell.
type ShowStat = fn(&Stats) -> String;

struct Stats {
    accuracy: f64,
    accuracy_culprit: f64,
    accuracy_none: f64,
    mean_runs: f64,
    mean_runs_culprit: f64,
    mean_runs_none: f64,
    p95_runs: u32,
    mean_rounds: f64,
    /// Share of cases stopped by the run budget rather than by the
    /// strategy's own rule (for the searches: the threshold not reached).
    budget_spent: f64,
}

fn stats<'a>(pairs: impl Iterator<Item = (&'a SimCase, &'a SimOutcome)>) -> Stats {
    let pairs: Vec<_> = pairs.collect();
    let share = |pred: &dyn Fn(&SimCase) -> bool| {
        let chosen: Vec<_> = pairs.iter().filter(|(c, _)| pred(c)).collect();
        if chosen.is_empty() {
            f64::NAN
        } else {
            chosen.iter().filter(|(_, o)| o.correct).count() as f64 / chosen.len() as f64
        }
    };
    let mean_runs_of = |pred: &dyn Fn(&SimCase) -> bool| {
        let chosen: Vec<f64> = pairs
            .iter()
            .filter(|(c, _)| pred(c))
            .map(|(_, o)| f64::from(o.runs))
            .collect();
        chosen.iter().sum::<f64>() / chosen.len().max(1) as f64
    };
    let mut runs: Vec<u32> = pairs.iter().map(|(_, o)| o.runs).collect();
    runs.sort_unstable();
    let count = pairs.len().max(1) as f64;
    Stats {
        accuracy: share(&|_| true),
        accuracy_culprit: share(&|c| c.culprit.is_some()),
        accuracy_none: share(&|c| c.culprit.is_none()),
        mean_runs: runs.iter().map(|&r| f64::from(r)).sum::<f64>() / count,
        mean_runs_culprit: mean_runs_of(&|c| c.culprit.is_some()),
        mean_runs_none: mean_runs_of(&|c| c.culprit.is_none()),
        p95_runs: runs
            .get(((runs.len() as f64 * 0.95).ceil() as usize).saturating_sub(1))
            .copied()
            .unwrap_or(0),
        mean_rounds: pairs.iter().map(|(_, o)| f64::from(o.rounds)).sum::<f64>() / count,
        budget_spent: pairs.iter().filter(|(_, o)| o.budget_spent).count() as f64 / count,
    }
}

fn percent(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

fn main() {
    let cases_per_cell = std::env::var("CULPRIT_BENCH_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_CASES_PER_CELL);
    let seed = std::env::var("CULPRIT_BENCH_SEED")
        .ok()
        .and_then(|v| match v.strip_prefix("0x") {
            Some(hex) => u64::from_str_radix(hex, 16).ok(),
            None => v.parse().ok(),
        })
        .unwrap_or(DEFAULT_SEED);
    let cases = benchmark_suite(cases_per_cell, seed);
    println!(
        "culprit benchmark: {} cases ({cases_per_cell} per (n, f, q) cell; n in 4..64, \
         f in 0..0.4, q in {{1, 0.5, 0.2}}; 60% with a culprit), budget {BUDGET}, seed {seed:#x}",
        cases.len()
    );
    let started = Instant::now();
    let mut results = Vec::new();
    for strategy in strategies() {
        let t = Instant::now();
        let outcomes = solve_all(&strategy, &cases);
        results.push((strategy.name(), outcomes, t.elapsed()));
    }

    println!();
    println!(
        "{:<38} {:>8} {:>9} {:>9} {:>9} {:>8} {:>9} {:>8} {:>8}",
        "strategy",
        "correct",
        "culprit",
        "none",
        "mean runs",
        "p95 runs",
        "rounds",
        "budget",
        "time"
    );
    for (name, outcomes, elapsed) in &results {
        let s = stats(cases.iter().zip(outcomes));
        println!(
            "{:<38} {:>8} {:>9} {:>9} {:>9.1} {:>8} {:>9.1} {:>8} {:>7.1}s",
            name,
            percent(s.accuracy),
            percent(s.accuracy_culprit),
            percent(s.accuracy_none),
            s.mean_runs,
            s.p95_runs,
            s.mean_rounds,
            percent(s.budget_spent),
            elapsed.as_secs_f64()
        );
    }

    let mut cells: Vec<(f64, f64)> = Vec::new();
    for c in &cases {
        if !cells.contains(&(c.flake_rate, c.strength)) {
            cells.push((c.flake_rate, c.strength));
        }
    }
    let in_cell = |cell: (f64, f64)| move |c: &&SimCase| (c.flake_rate, c.strength) == cell;
    let cell_tables: [(&str, ShowStat); 9] = [
        ("accuracy", |s| percent(s.accuracy)),
        ("culprit ok", |s| percent(s.accuracy_culprit)),
        ("none ok", |s| percent(s.accuracy_none)),
        ("mean runs", |s| format!("{:.1}", s.mean_runs)),
        ("runs culprit", |s| format!("{:.1}", s.mean_runs_culprit)),
        ("runs none", |s| format!("{:.1}", s.mean_runs_none)),
        ("p95 runs", |s| s.p95_runs.to_string()),
        ("rounds", |s| format!("{:.1}", s.mean_rounds)),
        ("budget", |s| percent(s.budget_spent)),
    ];
    for (title, show) in cell_tables {
        println!();
        print!("{:<12}", format!("{title} per"));
        for (name, _, _) in &results {
            print!(" {:>10}", short_name(name));
        }
        println!();
        for &cell in &cells {
            print!("{:<12}", format!("f={} q={}", cell.0, cell.1));
            for (_, outcomes, _) in &results {
                let s = stats(cases.iter().zip(outcomes).filter(|(c, _)| in_cell(cell)(c)));
                print!(" {:>10}", show(&s));
            }
            println!();
        }
    }
    println!();
    let searches = results.len().min(SEARCHES);
    for (name, outcomes, _) in results.iter().take(searches) {
        print_misses(name, &cases, outcomes);
        if let Some((accuracy, (f, q))) = lowest_strong_cell(&cases, outcomes, &cells) {
            println!(
                "  lowest cell accuracy with q >= 0.5: {} (f={f} q={q})",
                percent(accuracy)
            );
        }
    }
    if let Some((_, oracle_outcomes, _)) = results.get(1) {
        let oracle = stats(cases.iter().zip(oracle_outcomes));
        println!();
        println!(
            "{:<38} {:>14} {:>18} {:>16} {:>14}",
            "targets", "overall >= 95%", "q >= 0.5 cells 99%", "runs <= 1.5x", "rounds <= 25"
        );
        // Every search but the oracle itself.
        let own = results
            .iter()
            .take(searches)
            .enumerate()
            .filter(|(i, _)| *i != 1);
        for (_, (name, outcomes, _)) in own {
            let s = stats(cases.iter().zip(outcomes));
            let lowest = lowest_strong_cell(&cases, outcomes, &cells).map_or(0.0, |w| w.0);
            let ratio = s.mean_runs / oracle.mean_runs;
            let mark = |met: bool| if met { "met" } else { "NOT met" };
            println!(
                "{:<38} {:>14} {:>18} {:>16} {:>14}",
                name,
                format!("{} {}", percent(s.accuracy), mark(s.accuracy >= 0.95)),
                format!("{} {}", percent(lowest), mark(lowest >= 0.99)),
                format!("{ratio:.2}x {}", mark(ratio <= 1.5)),
                format!("{:.1} {}", s.mean_rounds, mark(s.mean_rounds <= 25.0)),
            );
        }
    }
    print_round_time();
    println!("wall time {:.1}s", started.elapsed().as_secs_f64());
}

/// The lowest accuracy among the cells with q >= 0.5, and that cell.
fn lowest_strong_cell(
    cases: &[SimCase],
    outcomes: &[SimOutcome],
    cells: &[(f64, f64)],
) -> Option<(f64, (f64, f64))> {
    cells
        .iter()
        .filter(|cell| cell.1 >= 0.5)
        .map(|&cell| {
            let in_cell = cases
                .iter()
                .zip(outcomes)
                .filter(|(c, _)| (c.flake_rate, c.strength) == cell);
            (stats(in_cell).accuracy, cell)
        })
        .min_by(|a, b| a.0.total_cmp(&b.0))
}

/// Where a search goes wrong: kinds of wrong answers, whether the budget
/// ran out, and per n.
fn print_misses(name: &str, cases: &[SimCase], outcomes: &[SimOutcome]) {
    let pairs: Vec<(&SimCase, &SimOutcome)> = cases.iter().zip(outcomes).collect();
    let count = |pred: &dyn Fn(&SimCase, &SimOutcome) -> bool| {
        pairs.iter().filter(|(c, o)| pred(c, o)).count()
    };
    let wrong_push_distance = |c: &SimCase, o: &SimOutcome| match (c.truth(), o.answer) {
        (Hypothesis::Culprit(t), Hypothesis::Culprit(a)) if t != a => Some(t.abs_diff(a)),
        _ => None,
    };
    println!(
        "{name}: answered \"no culprit\" {} times; wrong: {} when confident, {} at budget end",
        count(&|_, o| o.answer == Hypothesis::NoCulprit),
        count(&|_, o| !o.correct && !o.budget_spent),
        count(&|_, o| !o.correct && o.budget_spent),
    );
    // A calibrated search is right about as often as its threshold says
    // when it stops by itself; what it loses is at the budget's end.
    let right_share = |stopped_by_budget: bool| {
        let stopped = count(&|_, o| o.budget_spent == stopped_by_budget);
        let right = count(&|_, o| o.budget_spent == stopped_by_budget && o.correct);
        format!(
            "{stopped} cases, {} right",
            percent(right as f64 / stopped.max(1) as f64)
        )
    };
    println!(
        "  stopped by the threshold: {}; by the budget: {}",
        right_share(false),
        right_share(true)
    );
    println!(
        "  wrong kinds: false \"no culprit\" {}, false culprit {}, wrong push adjacent {}, far {}",
        count(&|c, o| c.culprit.is_some() && o.answer == Hypothesis::NoCulprit),
        count(&|c, o| c.culprit.is_none() && o.answer != Hypothesis::NoCulprit),
        count(&|c, o| wrong_push_distance(c, o) == Some(1)),
        count(&|c, o| wrong_push_distance(c, o).is_some_and(|d| d > 1)),
    );
    let mut per_n = String::from("  wrong per n:");
    for n in [4u32, 8, 16, 32, 64] {
        per_n.push_str(&format!(
            " n={n}: {}",
            count(&|c, o| c.n == n && !o.correct)
        ));
    }
    println!("{per_n}");
}

/// Time of one `next_round` for n = 64 after about 200 runs (what the
/// add-on computes between two rounds, also in WebAssembly): the search is
/// driven on a hard case (weak regression in a flaky job, so it is still
/// undecided), then resumed from its observations and timed.
fn print_round_time() {
    let case = SimCase {
        n: 64,
        culprit: Some(40),
        flake_rate: 0.3,
        strength: 0.2,
        seed: 0x5EED,
    };
    let config = CulpritConfig::new(case.n);
    let Ok(mut search) = CulpritSearch::new(config.clone()) else {
        return;
    };
    let mut runs_at = std::collections::HashMap::new();
    while search.runs_used() < 200 {
        let Decision::Run(pushes) = search.next_round() else {
            break;
        };
        for push in pushes {
            let index = runs_at.entry(push).or_insert(0u32);
            let failed = case.run_fails(push, *index);
            *index += 1;
            if search.observe(push, failed).is_err() {
                return;
            }
        }
    }
    let mut times: Vec<f64> = (0..20)
        .filter_map(|_| {
            let t = Instant::now();
            let resumed = CulpritSearch::resume(config.clone(), search.observations()).ok()?;
            let decision = resumed.next_round();
            let elapsed = t.elapsed().as_secs_f64() * 1000.0;
            std::hint::black_box(decision);
            Some(elapsed)
        })
        .collect();
    times.sort_by(f64::total_cmp);
    if let Some(median) = times.get(times.len() / 2) {
        println!(
            "one next round (resume + choose), n=64 after {} runs: {median:.2} ms (median of 20)",
            search.runs_used()
        );
    }
}

/// Column headers for the per-cell tables.
fn short_name(name: &str) -> String {
    name.replace("treeherder backfill d", "th-d")
        .replace("backfill to good x", "bf-x")
        .replace("search (k=", "search")
        .replace("oracle (k=", "oracle")
        .replace("search+history ", "hist")
        .replace("search+suite prior, whole budget (k=", "prior-all")
        .replace("search+suite prior (k=", "prior")
        .replace(" (k=", "-")
        .replace(')', "")
        .replace("bisect(", "bisect")
}
