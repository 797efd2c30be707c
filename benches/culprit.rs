//! Culprit-finding benchmark: every strategy on the same simulated suite
//! (fixed seed), printing accuracy, runs and rounds overall and per (f, q).
//!
//! `cargo bench --bench culprit`; `CULPRIT_BENCH_CASES=N` sets the cases per
//! (n, f, q) cell (default 40, i.e. 3600 cases, about a minute on 2 cores)
//! for quick smoke runs. The cases and strategies are defined in
//! `mozci::plan::culprit_sim`; every strategy sees the same outcome for the
//! j-th run on a given push of a given case.

use mozci::plan::culprit::Hypothesis;
use mozci::plan::culprit_sim::{benchmark_suite, SimCase, SimOutcome, Strategy};
use std::time::Instant;

const DEFAULT_CASES_PER_CELL: u32 = 40;
const SEED: u64 = 0x00C0_FFEE_2023;
const BUDGET: u32 = 300;
const RUNS_PER_ROUND: u32 = 8;

fn strategies() -> Vec<Strategy> {
    vec![
        Strategy::Search {
            runs_per_round: RUNS_PER_ROUND,
            budget: BUDGET,
        },
        Strategy::Oracle {
            runs_per_round: RUNS_PER_ROUND,
            budget: BUDGET,
        },
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
    ]
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
    p95_runs: u32,
    mean_rounds: f64,
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
    let mut runs: Vec<u32> = pairs.iter().map(|(_, o)| o.runs).collect();
    runs.sort_unstable();
    let count = pairs.len().max(1) as f64;
    Stats {
        accuracy: share(&|_| true),
        accuracy_culprit: share(&|c| c.culprit.is_some()),
        accuracy_none: share(&|c| c.culprit.is_none()),
        mean_runs: runs.iter().map(|&r| f64::from(r)).sum::<f64>() / count,
        p95_runs: runs
            .get(((runs.len() as f64 * 0.95).ceil() as usize).saturating_sub(1))
            .copied()
            .unwrap_or(0),
        mean_rounds: pairs.iter().map(|(_, o)| f64::from(o.rounds)).sum::<f64>() / count,
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
    let cases = benchmark_suite(cases_per_cell, SEED);
    println!(
        "culprit benchmark: {} cases ({cases_per_cell} per (n, f, q) cell; n in 4..64, \
         f in 0..0.4, q in {{1, 0.5, 0.2}}; 60% with a culprit), budget {BUDGET}, seed {SEED:#x}",
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
        "{:<26} {:>8} {:>9} {:>9} {:>9} {:>8} {:>9} {:>8}",
        "strategy", "correct", "culprit", "none", "mean runs", "p95 runs", "rounds", "time"
    );
    for (name, outcomes, elapsed) in &results {
        let s = stats(cases.iter().zip(outcomes));
        println!(
            "{:<26} {:>8} {:>9} {:>9} {:>9.1} {:>8} {:>9.1} {:>7.1}s",
            name,
            percent(s.accuracy),
            percent(s.accuracy_culprit),
            percent(s.accuracy_none),
            s.mean_runs,
            s.p95_runs,
            s.mean_rounds,
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
    let cell_tables: [(&str, ShowStat); 6] = [
        ("accuracy", |s| percent(s.accuracy)),
        ("culprit ok", |s| percent(s.accuracy_culprit)),
        ("none ok", |s| percent(s.accuracy_none)),
        ("mean runs", |s| format!("{:.1}", s.mean_runs)),
        ("p95 runs", |s| s.p95_runs.to_string()),
        ("rounds", |s| format!("{:.1}", s.mean_rounds)),
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
    for (name, outcomes, _) in results.iter().take(2) {
        let count =
            |pred: &dyn Fn(&SimOutcome) -> bool| outcomes.iter().filter(|o| pred(o)).count();
        println!(
            "{name}: answered \"no culprit\" {} times; wrong: {} when confident, {} at budget end",
            count(&|o| o.answer == Hypothesis::NoCulprit),
            count(&|o| !o.correct && !o.budget_spent),
            count(&|o| !o.correct && o.budget_spent),
        );
    }
    println!("wall time {:.1}s", started.elapsed().as_secs_f64());
}

/// Column headers for the per-cell tables.
fn short_name(name: &str) -> String {
    name.replace("treeherder backfill d", "th-d")
        .replace("backfill to good x", "bf-x")
        .replace("search (k=", "search")
        .replace("oracle (k=", "oracle")
        .replace(')', "")
        .replace("bisect(", "bisect")
}
