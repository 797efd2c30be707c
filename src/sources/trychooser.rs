//! The trychooser tests-per-platform graph (mozci's `graphs.json`): for each
//! build type and platform, the build builders with the test builders each
//! one triggers, and the suite names run on that platform. Built from
//! allthethings, and read/written in the same JSON shape.

#![warn(missing_docs)]

use crate::sources::allthethings::{AllTheThings, BuildType};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// `{"debug"|"opt"|"pgo": {platform: {...}}}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrychooserGraph {
    /// Debug builds' platforms, by platform name.
    #[serde(default)]
    pub debug: BTreeMap<String, PlatformJobs>,
    /// Opt builds' platforms, by platform name.
    #[serde(default)]
    pub opt: BTreeMap<String, PlatformJobs>,
    /// PGO builds' platforms, by platform name.
    #[serde(default)]
    pub pgo: BTreeMap<String, PlatformJobs>,
}

/// One platform: `{"<build builder>": [test builders…], "tests": [suite names…]}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlatformJobs {
    /// Suite names of every test run on this platform, sorted.
    #[serde(default)]
    pub tests: Vec<String>,
    /// Build builder -> the test builders it triggers, sorted.
    #[serde(flatten)]
    pub builds: BTreeMap<String, Vec<String>>,
}

impl TrychooserGraph {
    /// The platforms of one build type.
    pub fn platforms(&self, build_type: BuildType) -> &BTreeMap<String, PlatformJobs> {
        match build_type {
            BuildType::Debug => &self.debug,
            BuildType::Opt => &self.opt,
            BuildType::Pgo => &self.pgo,
        }
    }

    fn platforms_mut(&mut self, build_type: BuildType) -> &mut BTreeMap<String, PlatformJobs> {
        match build_type {
            BuildType::Debug => &mut self.debug,
            BuildType::Opt => &mut self.opt,
            BuildType::Pgo => &mut self.pgo,
        }
    }

    /// The test builders a build builder triggers, wherever it is in the graph.
    pub fn tests_of_build(&self, build_builder: &str) -> Option<&[String]> {
        [BuildType::Debug, BuildType::Opt, BuildType::Pgo]
            .into_iter()
            .flat_map(|t| self.platforms(t).values())
            .find_map(|p| p.builds.get(build_builder).map(Vec::as_slice))
    }
}

/// Build the graph from allthethings: every wanted build builder under its
/// build type and platform, then every test builder under the build that
/// triggers it. Test builders with no known build, and builders whose
/// metadata cannot be read, are left out (they cannot be scheduled either).
pub fn build_trychooser_graph(things: &AllTheThings) -> TrychooserGraph {
    let mut graph = TrychooserGraph::default();
    let index = things.upstream_index();
    let wanted = things
        .builders
        .keys()
        .filter(|name| things.is_wanted_builder(name));
    let (tests, builds): (Vec<&String>, Vec<&String>) =
        wanted.partition(|name| things.is_downstream(name));

    for build in builds {
        let Ok(meta) = things.builder_metadata(build) else {
            continue;
        };
        graph
            .platforms_mut(meta.build_type)
            .entry(meta.platform_name)
            .or_default()
            .builds
            .insert(build.clone(), Vec::new());
    }

    for test in tests {
        let Some(build) = index.upstream_builder(test) else {
            continue;
        };
        let (Ok(build_meta), Ok(test_meta)) = (
            things.builder_metadata(build),
            things.builder_metadata(test),
        ) else {
            continue;
        };
        let platform = graph
            .platforms_mut(build_meta.build_type)
            .entry(build_meta.platform_name)
            .or_default();
        if let Some(suite) = test_meta.suite_name {
            if !platform.tests.contains(&suite) {
                platform.tests.push(suite);
            }
        }
        platform
            .builds
            .entry(build.to_string())
            .or_default()
            .push(test.clone());
    }

    for build_type in [BuildType::Debug, BuildType::Opt, BuildType::Pgo] {
        for platform in graph.platforms_mut(build_type).values_mut() {
            platform.tests.sort();
            for tests in platform.builds.values_mut() {
                tests.sort();
            }
        }
    }
    graph
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn graph_groups_tests_under_their_build() {
        let things: AllTheThings = serde_json::from_value(json!({
            "builders": {
                "WINNT 5.2 try build": {"properties": {"platform": "win32", "branch": "try"}, "shortname": "try-win32"},
                "WINNT 5.2 try leak test build": {"properties": {"platform": "win32-debug", "branch": "try"}, "shortname": "try-win32-debug"},
                "Windows 7 32-bit try opt test b": {"properties": {"platform": "win32", "branch": "try", "slavebuilddir": "test"}},
                "Windows 7 32-bit try opt test a": {"properties": {"platform": "win32", "branch": "try", "slavebuilddir": "test"}},
                "Windows 7 32-bit try debug test a": {"properties": {"platform": "win32", "branch": "try", "slavebuilddir": "test"}},
                "Windows 7 32-bit try opt test orphan": {"properties": {"platform": "win32", "branch": "try", "slavebuilddir": "test"}},
                "release-try-x": {"properties": {"platform": "win32"}},
            },
            "schedulers": {
                "tests-try-win7-opt-unittest": {"downstream": ["Windows 7 32-bit try opt test b", "Windows 7 32-bit try opt test a"], "triggered_by": ["try-win32-opt-unittest"]},
                "tests-try-win7-debug-unittest": {"downstream": ["Windows 7 32-bit try debug test a"], "triggered_by": ["try-win32-debug-unittest"]},
            }
        }))
        .unwrap();
        let graph = build_trychooser_graph(&things);
        let opt = &graph.opt["win32"];
        assert_eq!(opt.tests, vec!["a", "b"]);
        assert_eq!(
            opt.builds["WINNT 5.2 try build"],
            vec![
                "Windows 7 32-bit try opt test a",
                "Windows 7 32-bit try opt test b"
            ]
        );
        assert_eq!(
            graph.debug["win32"].builds["WINNT 5.2 try leak test build"],
            vec!["Windows 7 32-bit try debug test a"]
        );
        assert!(graph.pgo.is_empty());
        assert_eq!(
            graph
                .tests_of_build("WINNT 5.2 try leak test build")
                .map(<[String]>::len),
            Some(1)
        );
        assert_eq!(graph.tests_of_build("release-try-x"), None);
        let serialized = serde_json::to_value(&graph).unwrap();
        assert_eq!(serialized["opt"]["win32"]["tests"], json!(["a", "b"]));
        assert_eq!(
            serialized["debug"]["win32"]["WINNT 5.2 try leak test build"],
            json!(["Windows 7 32-bit try debug test a"])
        );
    }

    #[test]
    fn malformed_graphs_are_rejected() {
        for bad in [
            r#"{"opt": []}"#,
            r#"{"opt": {"linux": {"tests": "x"}}}"#,
            r#"{"opt": {"linux": {"B": [1]}}}"#,
        ] {
            assert!(
                serde_json::from_str::<TrychooserGraph>(bad).is_err(),
                "{bad}"
            );
        }
    }
}
