//! allthethings.json (Buildbot era): every builder with its properties and
//! every scheduler with what triggers it. From it: builder metadata
//! (platform, opt/debug/pgo, build/test/talos, suite), the test builder ->
//! upstream build builder mapping, and SETA intervals.
//!
//! The mapping follows mozci: a test builder is listed in the `downstream`
//! of a `tests-…` scheduler whose `triggered_by[0]` names the build by its
//! shortname plus a suffix. A name-based fallback covers builders that
//! allthethings does not describe.

#![warn(missing_docs)]

use crate::error::{Error, Result};
use crate::sources::buildapi::expect_json_object;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// Production allthethings.json.
pub(crate) const DEFAULT_ALLTHETHINGS_URL: &str =
    "https://secure.pub.build.mozilla.org/builddata/reports/allthethings.json";

const SOURCE: &str = "allthethings.json";

/// The parts of allthethings.json we read (`masters`, `slavepools`, … are skipped).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AllTheThings {
    /// Every builder, by its full Buildbot name.
    #[serde(default)]
    pub builders: BTreeMap<String, BuilderInfo>,
    /// Every scheduler, by name (`tests-…` schedulers trigger test builders).
    #[serde(default)]
    pub schedulers: BTreeMap<String, SchedulerInfo>,
}

/// One entry of `builders`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct BuilderInfo {
    /// The builder's build properties.
    pub properties: BuilderProperties,
    /// Short name; build triggers are named after it.
    pub shortname: String,
    /// The builder's directory on the worker (`test` for test builders).
    pub slavebuilddir: Option<String>,
    /// The hash naming the pool of workers that run it.
    pub slavepool: Option<String>,
}

/// A builder's `properties`: the fields metadata is derived from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct BuilderProperties {
    /// The repository path or name (`integration/mozilla-inbound`, `try`).
    pub branch: Option<String>,
    /// The build platform, possibly with a build-type suffix (`linux64-debug`).
    pub platform: Option<String>,
    /// The product built (`firefox`, `thunderbird`, …).
    pub product: Option<String>,
    /// The repository's path on hg.mozilla.org.
    pub repo_path: Option<String>,
    /// Talos builders carry their build's platform (`linux64-pgo`) here.
    pub stage_platform: Option<String>,
    /// `test` for builders that need a build (test and talos jobs).
    pub slavebuilddir: Option<String>,
}

/// One entry of `schedulers`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SchedulerInfo {
    /// The builders it schedules.
    pub downstream: Vec<String>,
    /// What fires it; for `tests-…` schedulers the first entry names the
    /// build (its shortname plus a suffix such as `-opt-unittest`).
    pub triggered_by: Vec<String>,
}

/// Parse allthethings.json; the body must be a JSON object.
pub fn parse_allthethings(body: &[u8]) -> Result<AllTheThings> {
    expect_json_object(body, SOURCE)?;
    serde_json::from_slice(body).map_err(|e| Error::json(SOURCE, &e))
}

/// Which flavour of build a job is, or tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BuildType {
    /// An optimised build (`opt`).
    Opt,
    /// A debug build (`debug`).
    Debug,
    /// A profile-guided optimised build (`pgo`).
    Pgo,
}

impl BuildType {
    /// The word builder names and platforms use: `opt`, `debug` or `pgo`.
    pub fn as_str(self) -> &'static str {
        match self {
            BuildType::Opt => "opt",
            BuildType::Debug => "debug",
            BuildType::Pgo => "pgo",
        }
    }

    fn from_word(word: &str) -> Option<BuildType> {
        match word {
            "opt" => Some(BuildType::Opt),
            "debug" => Some(BuildType::Debug),
            "pgo" => Some(BuildType::Pgo),
            _ => None,
        }
    }
}

/// What a Buildbot builder does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BuilderJobType {
    /// Compiles a build; needs nothing upstream.
    Build,
    /// Runs tests against a build.
    Test,
    /// Runs Talos performance tests against a build.
    Talos,
}

/// What a builder's name and properties say about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuilderMetadata {
    /// From the platform's suffix, else a word of the builder name, else opt
    /// (pgo for builds on release branches).
    pub build_type: BuildType,
    /// Build, test or talos.
    pub job_type: BuilderJobType,
    /// Ties builds to their tests, e.g. `win32`, `linux64` (build-type suffix removed).
    pub platform_name: String,
    /// `properties.product`.
    pub product: Option<String>,
    /// Repository short name (`mozilla-inbound`, not `integration/mozilla-inbound`).
    pub repo_name: Option<String>,
    /// Test and talos suite (the builder name's last word); `None` for builds.
    pub suite_name: Option<String>,
    /// Needs a build to have run first.
    pub downstream: bool,
}

impl BuilderMetadata {
    /// A test or talos builder (one that needs a build first).
    pub fn is_test(&self) -> bool {
        self.downstream
    }
}

/// Branches whose only builds are PGO builds although their names say just "build".
fn is_release_branch(repo_name: &str) -> bool {
    matches!(
        repo_name,
        "mozilla-aurora" | "mozilla-beta" | "mozilla-release"
    ) || repo_name.starts_with("mozilla-esr")
        || repo_name == "esr"
}

fn name_words(name: &str) -> impl Iterator<Item = &str> {
    name.split([' ', '-'])
}

impl AllTheThings {
    /// Test and talos builders have `slavebuilddir: test`; builds do not.
    pub fn is_downstream(&self, buildername: &str) -> bool {
        self.builders
            .get(buildername)
            .is_some_and(|b| b.properties.slavebuilddir.as_deref() == Some("test"))
    }

    /// Metadata of a builder, following mozci's rules.
    pub fn builder_metadata(&self, buildername: &str) -> Result<BuilderMetadata> {
        let info = self
            .builders
            .get(buildername)
            .ok_or_else(|| Error::Invalid(format!("no builder `{buildername}` in allthethings")))?;
        let props = &info.properties;
        let field = |name: &str| format!("builders.{buildername}.properties.{name}");
        let downstream = self.is_downstream(buildername);
        let is_talos = downstream && name_words(buildername).any(|w| w == "talos");
        let job_type = match (downstream, is_talos) {
            (false, _) => BuilderJobType::Build,
            (true, true) => BuilderJobType::Talos,
            (true, false) => BuilderJobType::Test,
        };
        // Talos builders name their build's platform in `stage_platform`.
        let platform = if is_talos {
            props.stage_platform.as_deref().ok_or_else(|| {
                Error::parse_field(
                    SOURCE,
                    field("stage_platform"),
                    "missing for a talos builder",
                )
            })?
        } else {
            props
                .platform
                .as_deref()
                .ok_or_else(|| Error::parse_field(SOURCE, field("platform"), "missing"))?
        };
        let repo_name = props
            .branch
            .as_deref()
            .map(|b| b.rsplit('/').next().unwrap_or(b).to_string());

        let platform_suffix = platform
            .rsplit_once('-')
            .and_then(|(head, tail)| BuildType::from_word(tail).map(|t| (head, t)));
        let (platform_name, build_type) = match platform_suffix {
            Some((head, build_type)) => (head.to_string(), build_type),
            None => {
                let named = [BuildType::Debug, BuildType::Opt, BuildType::Pgo]
                    .into_iter()
                    .find(|t| name_words(buildername).any(|w| w == t.as_str()));
                let build_type = match named {
                    Some(t) => t,
                    None if job_type == BuilderJobType::Build
                        && repo_name.as_deref().is_some_and(is_release_branch) =>
                    {
                        BuildType::Pgo
                    }
                    None => BuildType::Opt,
                };
                (platform.to_string(), build_type)
            }
        };
        let suite_name = downstream
            .then(|| buildername.rsplit(' ').next().map(str::to_string))
            .flatten();
        Ok(BuilderMetadata {
            build_type,
            job_type,
            platform_name,
            product: props.product.clone(),
            repo_name,
            suite_name,
            downstream,
        })
    }

    /// Only the builders of one branch (repository), e.g. for the graph of
    /// `try`. Schedulers are kept: they name builders of every branch.
    pub fn for_branch(&self, branch: &str) -> AllTheThings {
        AllTheThings {
            builders: self
                .builders
                .iter()
                .filter(|(_, b)| b.properties.branch.as_deref() == Some(branch))
                .map(|(name, b)| (name.clone(), b.clone()))
                .collect(),
            schedulers: self.schedulers.clone(),
        }
    }

    /// Builders worth scheduling: not release automation, not hg bundles,
    /// and on aurora/beta not the plain talos builders that have a PGO twin
    /// (no build triggers those; bug 1149514).
    pub fn is_wanted_builder(&self, buildername: &str) -> bool {
        if buildername.starts_with("release-") || buildername.ends_with("bundle") {
            return false;
        }
        !self.is_shadowed_talos(buildername)
    }

    fn is_shadowed_talos(&self, buildername: &str) -> bool {
        let on_aurora_or_beta =
            buildername.contains("mozilla-aurora") || buildername.contains("mozilla-beta");
        if !on_aurora_or_beta || !buildername.contains(" talos ") || buildername.contains(" pgo ") {
            return false;
        }
        let pgo_twin = buildername.replacen(" talos ", " pgo talos ", 1);
        self.builders.contains_key(&pgo_twin)
    }

    /// Index the builds by shortname and the tests by trigger, for [`UpstreamIndex::upstream_builder`].
    pub fn upstream_index(&self) -> UpstreamIndex {
        let mut build_by_shortname = HashMap::new();
        let mut builds_lowercase = HashMap::new();
        for (name, info) in &self.builders {
            if !self.is_wanted_builder(name) || self.is_downstream(name) {
                continue;
            }
            // Names are unique but shortnames need not be: the first (in name order) wins.
            build_by_shortname
                .entry(info.shortname.clone())
                .or_insert_with(|| name.clone());
            builds_lowercase.insert(name.to_lowercase(), name.clone());
        }
        let mut trigger_by_test = HashMap::new();
        for (scheduler, info) in &self.schedulers {
            if !scheduler.starts_with("tests-") {
                continue;
            }
            let Some(trigger) = info.triggered_by.first() else {
                continue;
            };
            for test in &info.downstream {
                trigger_by_test
                    .entry(test.to_lowercase())
                    .or_insert_with(|| trigger.clone());
            }
        }
        UpstreamIndex {
            build_by_shortname,
            builds_lowercase,
            trigger_by_test,
        }
    }
}

/// Precomputed lookups from test builders to the build builders they need.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UpstreamIndex {
    build_by_shortname: HashMap<String, String>,
    builds_lowercase: HashMap<String, String>,
    trigger_by_test: HashMap<String, String>,
}

/// Trigger-name suffixes removed, in this order, to reach a build's shortname;
/// a lookup is tried after each removal (some `-pgo` triggers name a build
/// whose shortname has no `-pgo`, e.g. on release branches).
const TRIGGER_SUFFIXES: [&str; 4] = ["-opt-unittest", "-unittest", "-talos", "-pgo"];

impl UpstreamIndex {
    /// The build builder a builder needs: itself for a build, the build that
    /// triggers its `tests-…` scheduler for a test, `None` when unknown.
    pub fn upstream_builder(&self, buildername: &str) -> Option<&str> {
        let lower = buildername.to_lowercase();
        let on_aurora_or_beta =
            buildername.contains("mozilla-beta") || buildername.contains("mozilla-aurora");
        if on_aurora_or_beta && buildername.contains("talos") && !buildername.contains("pgo") {
            let pgo_twin = lower.replacen("talos", "pgo talos", 1);
            if self.trigger_by_test.contains_key(&pgo_twin) {
                // Only the PGO talos builder has a build that triggers it.
                return None;
            }
        }
        if let Some(build) = self.builds_lowercase.get(&lower) {
            return Some(build);
        }
        let mut shortname = self.trigger_by_test.get(&lower)?.as_str();
        for suffix in TRIGGER_SUFFIXES {
            if let Some(stripped) = shortname.strip_suffix(suffix) {
                shortname = stripped;
                if let Some(build) = self.build_by_shortname.get(shortname) {
                    return Some(build);
                }
            }
        }
        // B2G device builds use `b2g_<trigger with _emulator>_dep` shortnames.
        let b2g = format!("b2g_{}_dep", shortname.replace("-emulator", "_emulator"));
        self.build_by_shortname.get(&b2g).map(String::as_str)
    }
}

/// The parts of a 2015 test builder name: `<platform> <branch> <type> test <suite>`
/// or `<platform> <branch> [pgo] talos <suite>`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct TestBuilderName<'a> {
    platform: String,
    branch: &'a str,
    build_type: BuildType,
}

impl<'a> TestBuilderName<'a> {
    fn parse(name: &'a str) -> Option<Self> {
        let words: Vec<&str> = name.split(' ').collect();
        let kind_at = words.len().checked_sub(2)?;
        let kind = *words.get(kind_at)?;
        let before = words.get(kind_at.checked_sub(1)?).copied()?;
        let (build_type, branch_at) = match kind {
            "test" => (BuildType::from_word(before)?, kind_at.checked_sub(2)?),
            "talos" if before == "pgo" => (BuildType::Pgo, kind_at.checked_sub(2)?),
            "talos" => (BuildType::Opt, kind_at - 1),
            _ => return None,
        };
        let branch = words.get(branch_at).copied()?;
        let platform = words.get(..branch_at)?.join(" ");
        if platform.is_empty() || branch.is_empty() {
            return None;
        }
        Some(TestBuilderName {
            platform,
            branch,
            build_type,
        })
    }
}

/// Build platforms as Buildbot named them in build builder names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BuildPlatform {
    Linux32,
    Linux64,
    Linux64Asan,
    Linux64Mulet,
    MacOsX,
    Win32,
    Win64,
    AndroidApi9,
    AndroidApi11,
    AndroidX86,
    /// Panda boards ran API 9 opt builds, and "Android 2.3 Debug" for debug.
    AndroidPanda,
}

impl BuildPlatform {
    /// The build platform a test platform's jobs come from.
    fn for_test_platform(test_platform: &str) -> Option<BuildPlatform> {
        Some(match test_platform {
            "Ubuntu VM 12.04" | "Ubuntu HW 12.04" => BuildPlatform::Linux32,
            "Ubuntu VM 12.04 x64" | "Ubuntu HW 12.04 x64" => BuildPlatform::Linux64,
            "Ubuntu ASAN VM 12.04 x64" => BuildPlatform::Linux64Asan,
            "Ubuntu VM 12.04 x64 Mulet" => BuildPlatform::Linux64Mulet,
            "Windows XP 32-bit" | "Windows 7 32-bit" | "WINNT 6.2" => BuildPlatform::Win32,
            "Windows 8 64-bit" => BuildPlatform::Win64,
            "Android 2.3 Emulator" | "Android armv7 API 9" => BuildPlatform::AndroidApi9,
            "Android 4.0 armv7 API 11+" => BuildPlatform::AndroidApi11,
            "Android 4.2 x86 Emulator" => BuildPlatform::AndroidX86,
            "Android 4.0 Panda" => BuildPlatform::AndroidPanda,
            mac if mac.starts_with("Rev") && mac.contains(" MacOSX ") => BuildPlatform::MacOsX,
            _ => return None,
        })
    }

    /// (platform words, build words) around the branch in the build builder name.
    fn build_name_parts(
        self,
        build_type: BuildType,
        branch: &str,
    ) -> Option<(&'static str, &'static str)> {
        use BuildType::{Debug, Opt, Pgo};
        let desktop_suffix = match build_type {
            Opt => "build",
            Debug => "leak test build",
            // Release branches build with PGO in their only build builder.
            Pgo if is_release_branch(branch) => "build",
            Pgo => "pgo-build",
        };
        Some(match (self, build_type) {
            (BuildPlatform::Linux32, _) => ("Linux", desktop_suffix),
            (BuildPlatform::Linux64, _) => ("Linux x86-64", desktop_suffix),
            (BuildPlatform::Win32, _) => ("WINNT 5.2", desktop_suffix),
            (BuildPlatform::Win64, _) => ("WINNT 6.1 x86-64", desktop_suffix),
            (BuildPlatform::Linux64Asan, Opt) => ("Linux x86-64", "asan build"),
            (BuildPlatform::Linux64Mulet, Opt) => ("Linux x86-64 Mulet", "build"),
            (BuildPlatform::MacOsX, Opt) => ("OS X 10.7", "build"),
            // Mac debug tests run on the 64-bit-only debug build.
            (BuildPlatform::MacOsX, Debug) => ("OS X 10.7 64-bit", "leak test build"),
            (BuildPlatform::AndroidApi9, Opt) | (BuildPlatform::AndroidPanda, Opt) => {
                ("Android armv7 API 9", "build")
            }
            (BuildPlatform::AndroidPanda, Debug) => ("Android 2.3 Debug", "build"),
            (BuildPlatform::AndroidApi11, Opt) => ("Android armv7 API 11+", "build"),
            (BuildPlatform::AndroidApi11, Debug) => ("Android armv7 API 11+", "debug build"),
            (BuildPlatform::AndroidX86, Opt) => ("Android 4.2 x86", "build"),
            _ => return None,
        })
    }
}

/// Name-based fallback for builders allthethings does not describe: derive
/// the build builder from a 2015-era test builder name
/// (`Windows 7 32-bit mozilla-inbound pgo test mochitest-1` ->
/// `WINNT 5.2 mozilla-inbound pgo-build`). `None` for unrecognised names.
pub fn upstream_builder_from_name(test_buildername: &str) -> Option<String> {
    let parsed = TestBuilderName::parse(test_buildername)?;
    // Thunderbird builders say "TB "; on comm-* branches some test names omit it.
    let (thunderbird, test_platform) = match parsed.platform.strip_prefix("TB ") {
        Some(rest) => (true, rest),
        None => (
            parsed.branch.starts_with("comm-") || parsed.branch.starts_with("try-comm-"),
            parsed.platform.as_str(),
        ),
    };
    let (platform, build) = BuildPlatform::for_test_platform(test_platform)?
        .build_name_parts(parsed.build_type, parsed.branch)?;
    let prefix = if thunderbird { "TB " } else { "" };
    Some(format!("{prefix}{platform} {} {build}", parsed.branch))
}

/// SETA: run a job only every `pushes` pushes or every `seconds`, whichever comes first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "(u32, u64)", into = "(u32, u64)")]
pub struct SetaInterval {
    /// Run at least once every this many pushes.
    pub pushes: u32,
    /// Run at least once every this many seconds.
    pub seconds: u64,
}

impl From<(u32, u64)> for SetaInterval {
    fn from((pushes, seconds): (u32, u64)) -> Self {
        SetaInterval { pushes, seconds }
    }
}

impl From<SetaInterval> for (u32, u64) {
    fn from(i: SetaInterval) -> Self {
        (i.pushes, i.seconds)
    }
}

/// Parse the `{builder: [pushes, seconds]}` SETA interval document.
pub fn parse_seta_intervals(body: &[u8]) -> Result<BTreeMap<String, SetaInterval>> {
    serde_json::from_slice(body).map_err(|e| Error::json("SETA intervals", &e))
}

impl AllTheThings {
    /// SETA intervals encoded in scheduler names (`tests-fx-team-snowleopard-debug-unittest-7-3600`).
    pub fn seta_intervals(&self) -> BTreeMap<String, SetaInterval> {
        let mut out = BTreeMap::new();
        for (scheduler, info) in &self.schedulers {
            if !scheduler.starts_with("tests-") {
                continue;
            }
            let mut parts = scheduler.rsplit('-');
            let seconds = parts.next().and_then(|s| s.parse::<u64>().ok());
            let pushes = parts.next().and_then(|s| s.parse::<u32>().ok());
            if let (Some(pushes), Some(seconds)) = (pushes, seconds) {
                for builder in &info.downstream {
                    out.insert(builder.clone(), SetaInterval { pushes, seconds });
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn things(value: serde_json::Value) -> AllTheThings {
        serde_json::from_value(value).unwrap()
    }

    fn builder(platform: &str, branch: &str, shortname: &str, test: bool) -> serde_json::Value {
        let mut props = json!({"platform": platform, "branch": branch, "product": "firefox"});
        if test {
            props["slavebuilddir"] = json!("test");
        }
        json!({"properties": props, "shortname": shortname})
    }

    #[test]
    fn metadata_of_builds_tests_and_talos() {
        let t = things(json!({"builders": {
            "WINNT 5.2 mozilla-inbound build": builder("win32", "integration/mozilla-inbound", "m-in-win32", false),
            "WINNT 5.2 mozilla-inbound leak test build": builder("win32-debug", "mozilla-inbound", "m-in-win32-debug", false),
            "WINNT 5.2 mozilla-beta build": builder("win32", "mozilla-beta", "m-b-win32", false),
            "WINNT 5.2 mozilla-esr45 build": builder("win32", "mozilla-esr45", "esr-win32", false),
            "Windows 7 32-bit mozilla-inbound debug test mochitest-1": builder("win32", "mozilla-inbound", "x", true),
            "Windows 7 32-bit mozilla-inbound pgo talos chromez": {"properties": {
                "platform": "win7", "stage_platform": "win32-pgo", "branch": "mozilla-inbound", "slavebuilddir": "test"}, "shortname": "y"},
            "Rev7 MacOSX Yosemite 10.10.5 mozilla-beta talos other-e10s": {"properties": {
                "platform": "yosemite", "stage_platform": "macosx64", "branch": "mozilla-beta", "slavebuilddir": "test"}, "shortname": "z"},
        }}));
        let m = t
            .builder_metadata("WINNT 5.2 mozilla-inbound build")
            .unwrap();
        assert_eq!(
            (
                m.build_type,
                m.job_type,
                m.platform_name.as_str(),
                m.downstream
            ),
            (BuildType::Opt, BuilderJobType::Build, "win32", false)
        );
        assert_eq!(m.repo_name.as_deref(), Some("mozilla-inbound"));
        assert_eq!(m.suite_name, None);
        let m = t
            .builder_metadata("WINNT 5.2 mozilla-inbound leak test build")
            .unwrap();
        assert_eq!(
            (m.build_type, m.platform_name.as_str()),
            (BuildType::Debug, "win32")
        );
        assert_eq!(
            t.builder_metadata("WINNT 5.2 mozilla-beta build")
                .unwrap()
                .build_type,
            BuildType::Pgo
        );
        assert_eq!(
            t.builder_metadata("WINNT 5.2 mozilla-esr45 build")
                .unwrap()
                .build_type,
            BuildType::Pgo
        );
        let m = t
            .builder_metadata("Windows 7 32-bit mozilla-inbound debug test mochitest-1")
            .unwrap();
        assert_eq!(
            (m.build_type, m.job_type, m.suite_name.as_deref()),
            (BuildType::Debug, BuilderJobType::Test, Some("mochitest-1"))
        );
        assert!(m.is_test());
        let m = t
            .builder_metadata("Windows 7 32-bit mozilla-inbound pgo talos chromez")
            .unwrap();
        assert_eq!(
            (m.build_type, m.job_type, m.platform_name.as_str()),
            (BuildType::Pgo, BuilderJobType::Talos, "win32")
        );
        let m = t
            .builder_metadata("Rev7 MacOSX Yosemite 10.10.5 mozilla-beta talos other-e10s")
            .unwrap();
        assert_eq!(
            (
                m.build_type,
                m.platform_name.as_str(),
                m.suite_name.as_deref()
            ),
            (BuildType::Opt, "macosx64", Some("other-e10s"))
        );
        assert!(matches!(t.builder_metadata("nope"), Err(Error::Invalid(_))));
    }

    #[test]
    fn metadata_errors_name_the_missing_field() {
        let t = things(json!({"builders": {
            "A try talos x": {"properties": {"platform": "p", "slavebuilddir": "test"}},
            "B try build": {"properties": {}},
        }}));
        let e = t.builder_metadata("A try talos x").unwrap_err();
        assert!(e.to_string().contains("stage_platform"), "{e}");
        let e = t.builder_metadata("B try build").unwrap_err();
        assert!(e.to_string().contains("platform"), "{e}");
    }

    #[test]
    fn unwanted_builders() {
        let t = things(json!({"builders": {
            "Ubuntu HW 12.04 x64 mozilla-beta talos tp5o": builder("linux64", "mozilla-beta", "a", true),
            "Ubuntu HW 12.04 x64 mozilla-beta pgo talos tp5o": builder("linux64", "mozilla-beta", "b", true),
            "Ubuntu HW 12.04 x64 mozilla-beta talos g1": builder("linux64", "mozilla-beta", "c", true),
        }}));
        assert!(!t.is_wanted_builder("release-mozilla-release-win32_repack_3/10"));
        assert!(!t.is_wanted_builder("mozilla-central hg bundle"));
        assert!(!t.is_wanted_builder("Ubuntu HW 12.04 x64 mozilla-beta talos tp5o"));
        assert!(t.is_wanted_builder("Ubuntu HW 12.04 x64 mozilla-beta pgo talos tp5o"));
        assert!(t.is_wanted_builder("Ubuntu HW 12.04 x64 mozilla-beta talos g1"));
    }

    #[test]
    fn upstream_strips_trigger_suffixes_in_order() {
        let t = things(json!({
            "builders": {
                "Linux x86-64 mozilla-inbound build": builder("linux64", "mozilla-inbound", "mozilla-inbound-linux64", false),
                "Linux x86-64 mozilla-inbound pgo-build": builder("linux64", "mozilla-inbound", "mozilla-inbound-linux64-pgo", false),
                "Linux x86-64 mozilla-release build": builder("linux64", "mozilla-release", "mozilla-release-linux64", false),
                "B2G emulator mozilla-inbound build": builder("emulator", "mozilla-inbound", "b2g_mozilla-inbound_emulator_dep", false),
                "Ubuntu VM 12.04 x64 mozilla-inbound opt test a": builder("linux64", "mozilla-inbound", "t", true),
                "Ubuntu VM 12.04 x64 mozilla-inbound pgo test a": builder("linux64", "mozilla-inbound", "t", true),
                "Ubuntu VM 12.04 x64 mozilla-release pgo test a": builder("linux64", "mozilla-release", "t", true),
                "b2g_ubuntu64_vm mozilla-inbound opt test b": builder("emulator", "mozilla-inbound", "t", true),
                "Orphan mozilla-inbound opt test c": builder("linux64", "mozilla-inbound", "t", true),
            },
            "schedulers": {
                "tests-mozilla-inbound-ubuntu64_vm-opt-unittest": {"downstream": ["Ubuntu VM 12.04 x64 mozilla-inbound opt test a"], "triggered_by": ["mozilla-inbound-linux64-opt-unittest"]},
                "tests-mozilla-inbound-ubuntu64_vm-pgo-unittest": {"downstream": ["Ubuntu VM 12.04 x64 mozilla-inbound pgo test a"], "triggered_by": ["mozilla-inbound-linux64-pgo-unittest"]},
                "tests-mozilla-release-ubuntu64_vm-pgo-unittest": {"downstream": ["Ubuntu VM 12.04 x64 mozilla-release pgo test a"], "triggered_by": ["mozilla-release-linux64-pgo-unittest"]},
                "tests-mozilla-inbound-emulator-opt-unittest": {"downstream": ["b2g_ubuntu64_vm mozilla-inbound opt test b"], "triggered_by": ["mozilla-inbound-emulator-opt-unittest"]},
                "not-a-test-scheduler": {"downstream": ["Orphan mozilla-inbound opt test c"], "triggered_by": ["mozilla-inbound-linux64-opt-unittest"]},
                "tests-empty": {"downstream": ["x"], "triggered_by": []},
            }
        }));
        let index = t.upstream_index();
        let up = |n: &str| index.upstream_builder(n);
        assert_eq!(
            up("Ubuntu VM 12.04 x64 mozilla-inbound opt test a"),
            Some("Linux x86-64 mozilla-inbound build")
        );
        assert_eq!(
            up("ubuntu vm 12.04 x64 mozilla-inbound opt test a"),
            Some("Linux x86-64 mozilla-inbound build"),
            "case-insensitive"
        );
        assert_eq!(
            up("Ubuntu VM 12.04 x64 mozilla-inbound pgo test a"),
            Some("Linux x86-64 mozilla-inbound pgo-build")
        );
        assert_eq!(
            up("Ubuntu VM 12.04 x64 mozilla-release pgo test a"),
            Some("Linux x86-64 mozilla-release build")
        );
        assert_eq!(
            up("b2g_ubuntu64_vm mozilla-inbound opt test b"),
            Some("B2G emulator mozilla-inbound build")
        );
        assert_eq!(
            up("Linux x86-64 mozilla-inbound build"),
            Some("Linux x86-64 mozilla-inbound build"),
            "a build is its own upstream"
        );
        assert_eq!(up("Orphan mozilla-inbound opt test c"), None);
        assert_eq!(up("x"), None);
        assert_eq!(up("unknown"), None);
    }

    #[test]
    fn name_fallback_examples() {
        let cases = [
            (
                "Windows 7 32-bit mozilla-inbound pgo test mochitest-1",
                Some("WINNT 5.2 mozilla-inbound pgo-build"),
            ),
            (
                "Windows 8 64-bit mozilla-beta pgo talos chromez",
                Some("WINNT 6.1 x86-64 mozilla-beta build"),
            ),
            (
                "Ubuntu VM 12.04 comm-central debug test xpcshell",
                Some("TB Linux comm-central leak test build"),
            ),
            (
                "TB Rev5 MacOSX Mountain Lion 10.8 comm-beta opt test xpcshell",
                Some("TB OS X 10.7 comm-beta build"),
            ),
            (
                "Rev5 MacOSX Yosemite 10.10 try debug test mochitest-4",
                Some("OS X 10.7 64-bit try leak test build"),
            ),
            (
                "Android 4.0 Panda mozilla-release debug test plain-reftest-3",
                Some("Android 2.3 Debug mozilla-release build"),
            ),
            (
                "Ubuntu HW 12.04 x64 fx-team talos g1",
                Some("Linux x86-64 fx-team build"),
            ),
            ("Linux x86-64 mozilla-inbound build", None),
            ("Rev5 MacOSX Yosemite 10.10 try pgo test a", None),
            ("Unknown Platform try opt test a", None),
            ("test x", None),
            ("", None),
            (" opt test x", None),
            ("talos", None),
        ];
        for (test, build) in cases {
            assert_eq!(upstream_builder_from_name(test).as_deref(), build, "{test}");
        }
    }

    #[test]
    fn seta_intervals_from_scheduler_names() {
        let t = things(json!({"schedulers": {
            "tests-fx-team-snowleopard-debug-unittest-7-3600": {"downstream": ["a", "b"], "triggered_by": ["x"]},
            "tests-fx-team-snowleopard-opt-unittest": {"downstream": ["c"], "triggered_by": ["x"]},
            "fx-team-x-5-60": {"downstream": ["d"], "triggered_by": ["x"]},
        }}));
        let seta = t.seta_intervals();
        assert_eq!(seta.len(), 2);
        assert_eq!(
            seta["a"],
            SetaInterval {
                pushes: 7,
                seconds: 3600
            }
        );
        let parsed = parse_seta_intervals(br#"{"x": [8, 3600]}"#).unwrap();
        assert_eq!(
            parsed["x"],
            SetaInterval {
                pushes: 8,
                seconds: 3600
            }
        );
        assert_eq!(serde_json::to_string(&parsed).unwrap(), r#"{"x":[8,3600]}"#);
        for bad in [&b"{\"x\": [8]}"[..], b"{\"x\": [-1, 3]}", b"[]"] {
            assert!(parse_seta_intervals(bad).is_err());
        }
    }

    #[test]
    fn malformed_allthethings_is_an_error() {
        for bad in [
            &b""[..],
            b"[]",
            b"{\"builders\": []}",
            b"{\"builders\": {\"a\": {\"properties\": {\"platform\": 3}}}}",
            b"{\"schedulers\": {\"s\": {\"downstream\": \"x\"}}}",
        ] {
            assert!(matches!(parse_allthethings(bad), Err(Error::Parse { .. })));
        }
        assert_eq!(parse_allthethings(b"{}").unwrap(), AllTheThings::default());
    }
}
