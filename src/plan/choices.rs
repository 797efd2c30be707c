//! The choices a user makes before a backfill, in one place for every
//! driver: the modes, the bounds of "times" and "depth", the defaults, and
//! how a request that is out of bounds is brought back to a stored choice.
//!
//! The add-on's popup and options page fill their controls from
//! [`Choices::offered`] (through the wasm module) instead of keeping their
//! own list; the CLI takes its limits from here too.

#![warn(missing_docs)]

use serde::{Deserialize, Serialize};

/// The most runs per push a user may ask for in one backfill, and the most
/// an automatic "times" chooses: rarer failures are better chased with the
/// culprit search than with more runs everywhere.
pub const MAX_TIMES: u32 = 10;
/// The deepest range (pushes back from the selected one) a backfill plans.
pub const MAX_DEPTH: u32 = 50;
/// How deep a backfill reaches when nobody chose.
pub const DEFAULT_DEPTH: u32 = 20;

/// How to fill the range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Walk back to the last push where the job passed and fill every push in between.
    ToLastGood,
    /// The CI system's own backfill action: `depth` earlier pushes, `times`
    /// runs each (see `ci::CiBackend::backfill_action`). Stored choices from before
    /// the rename say `fixed_range`.
    #[serde(rename = "ci_backfill", alias = "fixed_range")]
    CiBackfill,
    /// `times` runs on the selected push only.
    TriggerHere,
    /// The flake-aware culprit search, confirm first where the CI offers
    /// confirm tasks (see `ci::CiBackend::confirm_failures`): the failure is
    /// re-run on the failing push first, the pushes after the last one
    /// where the job passed are searched (at most 40; `depth` is not used),
    /// an older push already failing the same way ends it, and confirm
    /// tasks are used where they tell the most per machine time. Without
    /// confirm tasks, the `depth` pushes up to the selected one.
    FindCulprit,
    /// The same search with whole-job runs only (no confirm tasks).
    FindCulpritRunsOnly,
}

impl Mode {
    /// Every mode, in the order the popup lists them.
    pub const ALL: [Mode; 5] = [
        Mode::ToLastGood,
        Mode::CiBackfill,
        Mode::TriggerHere,
        Mode::FindCulprit,
        Mode::FindCulpritRunsOnly,
    ];

    /// Whether this mode runs the culprit search.
    pub fn is_culprit_search(self) -> bool {
        matches!(self, Mode::FindCulprit | Mode::FindCulpritRunsOnly)
    }

    /// Whether this mode confirms first with the CI's confirm tasks (where
    /// it offers them).
    pub fn confirms_first(self) -> bool {
        self == Mode::FindCulprit
    }

    /// The value stored and sent for this mode (its serde name).
    pub fn value(self) -> &'static str {
        match self {
            Mode::ToLastGood => "to_last_good",
            Mode::CiBackfill => "ci_backfill",
            Mode::TriggerHere => "trigger_here",
            Mode::FindCulprit => "find_culprit",
            Mode::FindCulpritRunsOnly => "find_culprit_runs_only",
        }
    }

    /// The mode with this value (today's or a stored older one).
    pub fn from_value(value: &str) -> Option<Mode> {
        match value {
            "fixed_range" => Some(Mode::CiBackfill),
            _ => Mode::ALL.into_iter().find(|mode| mode.value() == value),
        }
    }

    /// What the popup says this mode does.
    pub fn label(self) -> &'static str {
        match self {
            Mode::ToLastGood => "backfill to the last good push",
            Mode::CiBackfill => "the CI's own backfill action (a fixed range)",
            Mode::TriggerHere => "trigger N on this push",
            Mode::FindCulprit => "find the culprit (confirm first, flake-aware search)",
            Mode::FindCulpritRunsOnly => "find the culprit with job runs only (no confirm tasks)",
        }
    }
}

/// How many runs per push: a number, or chosen from the job's failure rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Times {
    /// From the failure rate (`plan::default_times`); the plan then asks to confirm.
    Auto,
    /// This many.
    Fixed(u32),
}

impl Times {
    /// `"auto"` or the number, as stored and sent.
    fn to_json(self) -> serde_json::Value {
        match self {
            Times::Auto => serde_json::Value::from("auto"),
            Times::Fixed(n) => serde_json::Value::from(n),
        }
    }

    /// `"auto"`, or a whole number (or its text) within 1..=MAX_TIMES.
    fn from_json(value: &serde_json::Value) -> Option<Times> {
        if value.as_str() == Some("auto") {
            return Some(Times::Auto);
        }
        whole_number_within(value, MAX_TIMES).map(Times::Fixed)
    }

    /// The fixed count, if one was chosen.
    pub fn fixed(self) -> Option<u32> {
        match self {
            Times::Auto => None,
            Times::Fixed(n) => Some(n),
        }
    }
}

/// A whole number in `1..=max`, given as a JSON number or as its decimal
/// text (HTML form fields send text).
fn whole_number_within(value: &serde_json::Value, max: u32) -> Option<u32> {
    let n = match value {
        serde_json::Value::Number(n) => n.as_u64()?,
        serde_json::Value::String(text) => text.trim().parse().ok()?,
        _ => return None,
    };
    u32::try_from(n).ok().filter(|n| (1..=max).contains(n))
}

/// One user's backfill choice: times, depth and mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Choice {
    /// Runs per push.
    pub times: Times,
    /// Earlier pushes to look at.
    pub depth: u32,
    /// What to do with them.
    pub mode: Mode,
}

impl Default for Choice {
    fn default() -> Self {
        Choice {
            times: Times::Auto,
            depth: DEFAULT_DEPTH,
            mode: Mode::ToLastGood,
        }
    }
}

impl Choice {
    /// `requested` (JSON from a popup or from storage, possibly missing
    /// fields or out of bounds) over `fallback`: each field that is present
    /// and valid wins, any other keeps the fallback's.
    pub fn over(requested: &serde_json::Value, fallback: Choice) -> Choice {
        Choice {
            times: Times::from_json(&requested["times"]).unwrap_or(fallback.times),
            depth: whole_number_within(&requested["depth"], MAX_DEPTH).unwrap_or(fallback.depth),
            mode: requested["mode"]
                .as_str()
                .and_then(Mode::from_value)
                .unwrap_or(fallback.mode),
        }
    }

    /// As stored and sent: `{"times": "auto"|n, "depth": n, "mode": "…"}`.
    pub fn to_json(self) -> serde_json::Value {
        serde_json::json!({
            "times": self.times.to_json(),
            "depth": self.depth,
            "mode": self.mode.value(),
        })
    }
}

/// What a driver offers the user: the modes with their labels, the bounds
/// and the default choice.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Choices {
    /// `[value, label]` per mode, in the order to list them.
    pub modes: Vec<(&'static str, &'static str)>,
    /// The values of the modes that run the culprit search (their controls:
    /// the test to count, no "times").
    pub culprit_modes: Vec<&'static str>,
    /// [`MAX_TIMES`].
    pub max_times: u32,
    /// [`MAX_DEPTH`].
    pub max_depth: u32,
    /// The choice a fresh popup shows, as the popup stores it.
    pub default_choice: serde_json::Value,
    /// What the popup says under a culprit mode, its limits from here.
    pub culprit_hint: String,
}

impl Choices {
    /// What the popup offers.
    pub fn offered() -> Choices {
        Choices {
            modes: Mode::ALL
                .into_iter()
                .map(|mode| (mode.value(), mode.label()))
                .collect(),
            culprit_modes: Mode::ALL
                .into_iter()
                .filter(|mode| mode.is_culprit_search())
                .map(Mode::value)
                .collect(),
            max_times: MAX_TIMES,
            max_depth: MAX_DEPTH,
            default_choice: Choice::default().to_json(),
            culprit_hint: format!(
                "Find the culprit confirms first: it searches the pushes after the last one \
                 where the job passed (at most {}). With job runs only, depth is the number \
                 of suspect pushes up to the selected one. The page's Backfill button \
                 (Shift+B) starts the search; runs are chosen round by round until one \
                 answer reaches 99%.",
                crate::plan::culprit::confirm_first::MAX_RANGE
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_mode_round_trips_through_its_value_and_serde() {
        for mode in Mode::ALL {
            assert_eq!(Mode::from_value(mode.value()), Some(mode));
            assert_eq!(serde_json::to_value(mode).unwrap(), json!(mode.value()));
            assert_eq!(
                serde_json::from_value::<Mode>(json!(mode.value())).unwrap(),
                mode
            );
        }
    }

    #[test]
    fn a_stored_fixed_range_choice_still_means_the_ci_backfill() {
        assert_eq!(Mode::from_value("fixed_range"), Some(Mode::CiBackfill));
        assert_eq!(
            serde_json::from_value::<Mode>(json!("fixed_range")).unwrap(),
            Mode::CiBackfill
        );
        assert_eq!(Mode::from_value("bisect"), None);
    }

    #[test]
    fn valid_fields_win_and_others_keep_the_fallback() {
        let stored = Choice {
            times: Times::Fixed(3),
            depth: 7,
            mode: Mode::TriggerHere,
        };
        assert_eq!(
            Choice::over(
                &json!({"times": "5", "depth": 12, "mode": "find_culprit"}),
                stored
            ),
            Choice {
                times: Times::Fixed(5),
                depth: 12,
                mode: Mode::FindCulprit
            }
        );
        assert_eq!(
            Choice::over(&json!({"times": "auto"}), stored),
            Choice {
                times: Times::Auto,
                ..stored
            }
        );
        for bad in [
            json!({"times": 0, "depth": 0, "mode": "nope"}),
            json!({"times": MAX_TIMES + 1, "depth": MAX_DEPTH + 1, "mode": 3}),
            json!({"times": 2.5, "depth": "-1", "mode": null}),
            json!({"times": "1e3", "depth": u64::MAX}),
            json!("not an object"),
            json!(null),
        ] {
            assert_eq!(Choice::over(&bad, stored), stored, "{bad}");
        }
        assert_eq!(
            Choice::over(&json!({"times": MAX_TIMES, "depth": MAX_DEPTH}), stored),
            Choice {
                times: Times::Fixed(MAX_TIMES),
                depth: MAX_DEPTH,
                ..stored
            }
        );
    }

    #[test]
    fn what_is_offered_is_every_mode_and_the_bounds() {
        let offered = serde_json::to_value(Choices::offered()).unwrap();
        assert_eq!(offered["modes"].as_array().unwrap().len(), Mode::ALL.len());
        assert_eq!(offered["modes"][1][0], "ci_backfill");
        assert_eq!(offered["maxTimes"], MAX_TIMES);
        assert_eq!(offered["maxDepth"], MAX_DEPTH);
        let hint = offered["culpritHint"].as_str().unwrap();
        assert!(
            hint.contains(&format!(
                "(at most {})",
                crate::plan::culprit::confirm_first::MAX_RANGE
            )),
            "{hint}"
        );
        assert_eq!(
            offered["defaultChoice"],
            json!({"times": "auto", "depth": DEFAULT_DEPTH, "mode": "to_last_good"})
        );
        assert_eq!(
            Choice::over(&offered["defaultChoice"], Choice::default()),
            Choice::default()
        );
    }
}
