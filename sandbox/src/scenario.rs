//! Scenarios: the data files (JSON) that describe a sandbox world — repositories,
//! push history, platforms, job types, the failure model, LDAP users and
//! Taskcluster clients — and the deterministic expansion of that data into pushes.

use serde::{Deserialize, Serialize};

use crate::ids;

/// The built-in `demo` scenario (mozilla-inbound on Buildbot, autoland on Taskcluster).
pub const DEMO_JSON: &str = include_str!("../scenarios/demo.json");

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Scenario {
    pub name: String,
    /// Simulated clock (unix seconds) right after a reset; when the file
    /// leaves it out, the wall-clock minute the scenario is loaded (so that
    /// task expiry and push ages look live in a browser).
    #[serde(default = "current_minute")]
    pub start_time: i64,
    pub repos: Vec<RepoSpec>,
    pub platforms: Vec<PlatformSpec>,
    pub test_types: Vec<TestTypeSpec>,
    #[serde(default)]
    pub regressions: Vec<RegressionSpec>,
    #[serde(default)]
    pub flaky: Vec<FlakySpec>,
    /// Runs failed by something else than a test result: infrastructure
    /// (max run time, a download failure), a crash, an assertion, a
    /// sanitizer report, a leak, a shutdown hang, a build error; each with
    /// the log lines it leaves (see `logs`).
    #[serde(default)]
    pub job_failures: Vec<JobFailureSpec>,
    #[serde(default)]
    pub ldap_users: Vec<LdapUser>,
    #[serde(default)]
    pub tc_clients: Vec<TcClient>,
    /// `Name <email>` strings used as changeset authors.
    pub authors: Vec<String>,
    /// One-line commit summaries (without the `Bug N - ` prefix).
    pub summaries: Vec<String>,
    #[serde(default = "default_build_duration")]
    pub build_duration: i64,
    /// Hawk checks beyond production's (both on unless the file says otherwise).
    #[serde(default)]
    pub hawk: crate::tc_auth::HawkStrictness,
}

fn current_minute() -> i64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    now - now % 60
}

fn default_build_duration() -> i64 {
    1800
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CiSystem {
    Buildbot,
    Taskcluster,
}

impl CiSystem {
    pub fn as_str(self) -> &'static str {
        match self {
            CiSystem::Buildbot => "buildbot",
            CiSystem::Taskcluster => "taskcluster",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RepoSpec {
    pub name: String,
    /// Path on hg.mozilla.org, e.g. `integration/autoland`.
    pub path: String,
    /// Treeherder repository id.
    pub id: u64,
    pub system: CiSystem,
    #[serde(default)]
    pub is_try: bool,
    /// Buildbot graph branch name shown by `/branches`.
    #[serde(default)]
    pub graph_branch: Option<String>,
    /// Buildbot merges pending requests of one builder (as production did).
    #[serde(default = "yes")]
    pub coalesce: bool,
    /// Buildbot slaves per builder: how many builds of one builder run at once.
    #[serde(default = "default_slaves")]
    pub slaves: usize,
    /// hg pushlog id of the first generated push.
    pub first_push_id: u64,
    pub push_count: usize,
    /// Seconds between pushes.
    pub push_interval: i64,
    /// Merge pushes carrying changesets first pushed to another repository.
    #[serde(default)]
    pub merges_from: Option<MergeSpec>,
    /// An explicit history (oldest first) instead of generated pushes; then
    /// `push_count` is its length.
    #[serde(default)]
    pub pushes: Option<Vec<PushInput>>,
}

/// A push written out in a scenario file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PushInput {
    /// Pusher's email.
    pub user: String,
    /// Unix time; default: on the repository's push schedule.
    #[serde(default)]
    pub date: Option<i64>,
    pub changesets: Vec<ChangesetInput>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChangesetInput {
    /// 40 hex; default: derived from the scenario.
    #[serde(default)]
    pub node: Option<String>,
    /// `Name <email>`.
    pub author: String,
    pub desc: String,
    #[serde(default)]
    pub files: Vec<String>,
}

fn yes() -> bool {
    true
}

fn default_slaves() -> usize {
    3
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MergeSpec {
    pub repo: String,
    /// Number of source pushes folded into each merge push.
    pub pushes_per_merge: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PlatformSpec {
    /// Treeherder platform, e.g. `linux64`.
    pub name: String,
    /// Buildbot build builder, `{branch}` is replaced (e.g. `Linux x86-64 {branch} build`).
    pub build_builder: String,
    /// Buildbot debug build builder.
    pub debug_build_builder: String,
    /// Buildbot test builder prefix, e.g. `Ubuntu VM 12.04 x64`.
    pub test_builder_prefix: String,
    /// allthethings shortname stem, e.g. `linux64`.
    pub shortname: String,
    pub options: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TestTypeSpec {
    /// Suite name as in builder names and labels, e.g. `mochitest-1`.
    pub name: String,
    pub symbol: String,
    pub group_name: String,
    pub group_symbol: String,
    /// The harness (`mochitest`, `xpcshell`, `reftest`) for log names.
    pub harness: String,
    pub tests: Vec<String>,
    pub duration: i64,
    /// SETA-style gap: runs on every Nth push only (1 = every push).
    #[serde(default = "one")]
    pub seta_every: usize,
}

fn one() -> usize {
    1
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RegressionSpec {
    pub repo: String,
    /// Index (0-based, oldest first) of the push that introduces the regression.
    pub push_index: usize,
    pub test_type: String,
    pub platform: String,
    pub test: String,
    /// Probability that an affected run fails (1.0 = permanent).
    pub q: f64,
    pub message: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FlakySpec {
    pub test_type: String,
    pub test: String,
    pub f: f64,
    pub message: String,
}

/// How a run fails, beyond a test's unexpected result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobFailureKind {
    /// The worker aborted the task at its max run time.
    MaxRunTime,
    /// A download (the build, the tests) failed before the harness started.
    Download,
    /// The browser crashed (a minidump with a signature).
    Crash,
    /// A Gecko assertion (`Assertion failure:`) aborted the browser.
    Assertion,
    /// An AddressSanitizer report.
    Sanitizer,
    /// The leak check found leaked objects.
    Leak,
    /// The browser hung at shutdown.
    ShutdownHang,
    /// The compiler failed (build jobs).
    Build,
}

impl JobFailureKind {
    /// Infrastructure, not the code under test.
    pub fn is_infrastructure(self) -> bool {
        matches!(self, JobFailureKind::MaxRunTime | JobFailureKind::Download)
    }
}

/// Runs of a job type that fail in one particular way.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JobFailureSpec {
    /// Jobs whose label (Buildbot buildername, Taskcluster label) contains this.
    pub label: String,
    /// Only in this repository (default: every one).
    #[serde(default)]
    pub repo: Option<String>,
    pub kind: JobFailureKind,
    /// Which runs of the job type on a push fail this way, by their order on
    /// the push (0 = its first run). Re-runs come later in that order.
    #[serde(default)]
    pub runs: Vec<usize>,
    /// And/or: every run with this probability (seeded, like flaky tests).
    #[serde(default)]
    pub p: f64,
    /// The crash, assertion or sanitizer's frame (default: one per kind).
    #[serde(default)]
    pub signature: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LdapUser {
    pub email: String,
    pub password: String,
    /// Whether the LDAP proxy lets this user use Self-Serve.
    pub access: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TcClient {
    pub client_id: String,
    pub access_token: String,
    pub scopes: Vec<String>,
}

/// One changeset of a generated push.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Changeset {
    pub node: String,
    pub author: String,
    pub desc: String,
    pub files: Vec<String>,
    pub parents: Vec<String>,
}

/// One push as generated from a scenario (before Treeherder ids are given).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PushSpec {
    pub repo: String,
    pub pushlog_id: u64,
    pub index: usize,
    pub user: String,
    pub date: i64,
    /// Oldest first, as hg lists them; the push revision is the last one's node.
    pub changesets: Vec<Changeset>,
}

impl Scenario {
    /// Loads `demo` or a JSON scenario file.
    pub fn load(name_or_path: &str) -> Result<Scenario, String> {
        let text = if name_or_path == "demo" {
            DEMO_JSON.to_string()
        } else {
            std::fs::read_to_string(name_or_path)
                .map_err(|e| format!("cannot read scenario {name_or_path}: {e}"))?
        };
        Scenario::parse(&text)
    }

    pub fn parse(text: &str) -> Result<Scenario, String> {
        let scenario: Scenario =
            serde_json::from_str(text).map_err(|e| format!("invalid scenario: {e}"))?;
        scenario.validate()?;
        Ok(scenario)
    }

    fn validate(&self) -> Result<(), String> {
        if self.authors.is_empty() || self.summaries.is_empty() {
            return Err("a scenario needs authors and summaries".into());
        }
        // Bounds keep every computed time and id far from overflow.
        if !(0..=4_102_444_800).contains(&self.start_time)
            || !(1..=86_400).contains(&self.build_duration)
        {
            return Err("start_time or build_duration out of range".into());
        }
        for repo in &self.repos {
            if repo.push_count > 10_000
                || !(1..=86_400).contains(&repo.push_interval)
                || repo.slaves == 0
            {
                return Err(format!(
                    "{}: push_count ≤ 10000, push_interval 1..=86400 s, slaves ≥ 1",
                    repo.name
                ));
            }
            for push in repo.pushes.iter().flatten() {
                if push.changesets.is_empty() {
                    return Err(format!(
                        "{}: every written push needs a changeset",
                        repo.name
                    ));
                }
                let bad_node = push
                    .changesets
                    .iter()
                    .filter_map(|c| c.node.as_deref())
                    .find(|n| n.len() != 40 || !n.chars().all(|c| c.is_ascii_hexdigit()));
                if let Some(node) = bad_node {
                    return Err(format!("{}: node {node} is not 40 hex digits", repo.name));
                }
                if push.date.is_some_and(|d| !(0..=4_102_444_800).contains(&d)) {
                    return Err(format!("{}: push date out of range", repo.name));
                }
            }
            if let Some(merge) = &repo.merges_from {
                if !self.repos.iter().any(|r| r.name == merge.repo) {
                    return Err(format!(
                        "{} merges from unknown repo {}",
                        repo.name, merge.repo
                    ));
                }
                if merge.pushes_per_merge == 0 {
                    return Err("pushes_per_merge must be at least 1".into());
                }
            }
        }
        for reg in &self.regressions {
            if self.test_type(&reg.test_type).is_none() {
                return Err(format!(
                    "regression names unknown test type {}",
                    reg.test_type
                ));
            }
            if !(0.0..=1.0).contains(&reg.q) {
                return Err(format!("regression q must be in [0, 1], got {}", reg.q));
            }
        }
        if self
            .job_failures
            .iter()
            .any(|f| !(0.0..=1.0).contains(&f.p) || f.label.is_empty())
        {
            return Err("job_failures need a label and p in [0, 1]".into());
        }
        if self.flaky.iter().any(|f| !(0.0..=1.0).contains(&f.f)) {
            return Err("flaky f must be in [0, 1]".into());
        }
        if self
            .test_types
            .iter()
            .any(|t| !(1..=86_400).contains(&t.duration))
        {
            return Err("test durations must be 1..=86400 s".into());
        }
        Ok(())
    }

    pub fn repo(&self, name: &str) -> Option<&RepoSpec> {
        self.repos.iter().find(|r| r.name == name)
    }

    pub fn test_type(&self, name: &str) -> Option<&TestTypeSpec> {
        self.test_types.iter().find(|t| t.name == name)
    }

    pub fn platform(&self, name: &str) -> Option<&PlatformSpec> {
        self.platforms.iter().find(|p| p.name == name)
    }

    /// Expands the push history of every repository, deterministically.
    pub fn generate_pushes(&self) -> Vec<PushSpec> {
        let mut all: Vec<PushSpec> = Vec::new();
        // Source repositories first so that merges can copy their changesets.
        let mut ordered: Vec<&RepoSpec> = self.repos.iter().collect();
        ordered.sort_by_key(|r| r.merges_from.is_some());
        for repo in ordered {
            let pushes = match &repo.merges_from {
                None => self.own_pushes(repo),
                Some(merge) => self.merge_pushes(repo, merge, &all),
            };
            all.extend(pushes);
        }
        all
    }

    fn own_pushes(&self, repo: &RepoSpec) -> Vec<PushSpec> {
        if let Some(written) = &repo.pushes {
            return self.written_pushes(repo, written);
        }
        let mut parent = ids::revision(&[&self.name, &repo.name, "root"]);
        let first_date = self.start_time - repo.push_interval * repo.push_count as i64;
        (0..repo.push_count)
            .map(|index| {
                let key = format!("{}-{index}", repo.name);
                let author_pick = ids::mix(&[&self.name, &key, "author"]) as usize;
                let author = &self.authors[author_pick % self.authors.len()];
                let count = 1 + (ids::mix(&[&self.name, &key, "count"]) % 4) as usize;
                let changesets = (0..count)
                    .map(|c| {
                        let node = ids::revision(&[&self.name, &key, &c.to_string()]);
                        let cs = self.changeset(&node, author, &key, c, &parent);
                        parent = node;
                        cs
                    })
                    .collect();
                let jitter = (ids::mix(&[&self.name, &key, "date"]) % 300) as i64;
                PushSpec {
                    repo: repo.name.clone(),
                    pushlog_id: repo.first_push_id + index as u64,
                    index,
                    user: email_of(author),
                    date: first_date + repo.push_interval * index as i64 + jitter,
                    changesets,
                }
            })
            .collect()
    }

    /// A history written in the scenario file, completed with derived nodes and dates.
    fn written_pushes(&self, repo: &RepoSpec, written: &[PushInput]) -> Vec<PushSpec> {
        let mut parent = ids::revision(&[&self.name, &repo.name, "root"]);
        let first_date = self.start_time - repo.push_interval * written.len() as i64;
        written
            .iter()
            .enumerate()
            .map(|(index, push)| {
                let key = format!("{}-{index}", repo.name);
                let changesets =
                    push.changesets
                        .iter()
                        .enumerate()
                        .map(|(c, cs)| {
                            let node = cs.node.clone().unwrap_or_else(|| {
                                ids::revision(&[&self.name, &key, &c.to_string()])
                            });
                            let parents = vec![std::mem::replace(&mut parent, node.clone())];
                            Changeset {
                                node,
                                author: cs.author.clone(),
                                desc: cs.desc.clone(),
                                files: cs.files.clone(),
                                parents,
                            }
                        })
                        .collect();
                PushSpec {
                    repo: repo.name.clone(),
                    pushlog_id: repo.first_push_id + index as u64,
                    index,
                    user: push.user.clone(),
                    date: push
                        .date
                        .unwrap_or(first_date + repo.push_interval * index as i64),
                    changesets,
                }
            })
            .collect()
    }

    fn changeset(&self, node: &str, author: &str, key: &str, c: usize, parent: &str) -> Changeset {
        let pick = ids::mix(&[&self.name, key, &c.to_string(), "summary"]) as usize;
        let bug = 1_180_000 + ids::mix(&[&self.name, key, &c.to_string(), "bug"]) % 20_000;
        let reviewer = &self.authors[(pick / 7) % self.authors.len()];
        let nick = email_of(reviewer);
        let nick = nick.split('@').next().unwrap_or("reviewer");
        let summary = &self.summaries[pick % self.summaries.len()];
        Changeset {
            node: node.to_string(),
            author: author.to_string(),
            desc: format!("Bug {bug} - {summary} r={nick}"),
            files: vec![format!("{}/{}.cpp", file_area(pick), summary_stem(summary))],
            parents: vec![parent.to_string()],
        }
    }

    fn merge_pushes(&self, repo: &RepoSpec, merge: &MergeSpec, done: &[PushSpec]) -> Vec<PushSpec> {
        let sources: Vec<&PushSpec> = done.iter().filter(|p| p.repo == merge.repo).collect();
        let mut parent = ids::revision(&[&self.name, &repo.name, "root"]);
        sources
            .chunks(merge.pushes_per_merge)
            .take(repo.push_count)
            .enumerate()
            .map(|(index, chunk)| {
                let mut changesets: Vec<Changeset> = chunk
                    .iter()
                    .flat_map(|p| p.changesets.iter().cloned())
                    .collect();
                let last_source = changesets
                    .last()
                    .map(|c| c.node.clone())
                    .unwrap_or_default();
                let node = ids::revision(&[&self.name, &repo.name, "merge", &index.to_string()]);
                changesets.push(Changeset {
                    node: node.clone(),
                    author: "Sheriff Bot <sheriffbot@mozilla.com>".into(),
                    desc: format!("Merge {} to {}. a=merge", merge.repo, repo.name),
                    files: Vec::new(),
                    parents: vec![parent.clone(), last_source],
                });
                parent = node;
                let date = chunk
                    .last()
                    .map(|p| p.date + 600)
                    .unwrap_or(self.start_time);
                PushSpec {
                    repo: repo.name.clone(),
                    pushlog_id: repo.first_push_id + index as u64,
                    index,
                    user: "sheriffbot@mozilla.com".into(),
                    date,
                    changesets,
                }
            })
            .collect()
    }
}

/// `Jane Doe <jane@example.com>` → `jane@example.com`.
pub fn email_of(author: &str) -> String {
    match (author.find('<'), author.rfind('>')) {
        (Some(start), Some(end)) if start < end => author[start + 1..end].to_string(),
        _ => author.to_string(),
    }
}

fn file_area(pick: usize) -> &'static str {
    const AREAS: [&str; 6] = [
        "dom/base",
        "layout/generic",
        "netwerk/protocol/http",
        "js/src/jit",
        "browser/base/content",
        "gfx/layers",
    ];
    AREAS[pick % AREAS.len()]
}

fn summary_stem(summary: &str) -> String {
    summary
        .split_whitespace()
        .take(2)
        .collect::<Vec<_>>()
        .join("")
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_parses_and_generates_real_looking_pushes() {
        let demo = Scenario::load("demo").unwrap();
        let pushes = demo.generate_pushes();
        let inbound: Vec<_> = pushes
            .iter()
            .filter(|p| p.repo == "mozilla-inbound")
            .collect();
        assert_eq!(inbound.len(), 30);
        for push in &pushes {
            for cs in &push.changesets {
                assert_eq!(cs.node.len(), 40);
                assert!(cs.node.chars().all(|c| c.is_ascii_hexdigit()));
            }
        }
        assert_eq!(
            demo.generate_pushes(),
            pushes,
            "generation is deterministic"
        );
    }

    #[test]
    fn invalid_scenarios_are_refused() {
        let mut demo: serde_json::Value = serde_json::from_str(DEMO_JSON).unwrap();
        demo["repos"][0]["push_interval"] = serde_json::json!(0);
        assert!(Scenario::parse(&demo.to_string()).is_err());
        let mut demo: serde_json::Value = serde_json::from_str(DEMO_JSON).unwrap();
        demo["regressions"][0]["q"] = serde_json::json!(1.5);
        assert!(Scenario::parse(&demo.to_string()).is_err());
        assert!(Scenario::parse("{}").is_err());
        assert!(Scenario::load("/nonexistent/scenario.json").is_err());
    }

    #[test]
    fn written_pushes_are_used_as_given() {
        let mut demo: serde_json::Value = serde_json::from_str(DEMO_JSON).unwrap();
        let node = "a".repeat(40);
        demo["repos"][0]["pushes"] = serde_json::json!([
            {"user": "a@example.com", "date": 1_400_000_000, "changesets": [{"node": node, "author": "A <a@example.com>", "desc": "Bug 1 - first"}]},
            {"user": "b@example.com", "changesets": [
                {"author": "B <b@example.com>", "desc": "Bug 2 - second", "files": ["dom/x.cpp"]},
                {"author": "B <b@example.com>", "desc": "Bug 3 - third"}]}
        ]);
        let scenario = Scenario::parse(&demo.to_string()).unwrap();
        let pushes: Vec<PushSpec> = scenario
            .generate_pushes()
            .into_iter()
            .filter(|p| p.repo == "mozilla-inbound")
            .collect();
        assert_eq!(pushes.len(), 2);
        assert_eq!(pushes[0].date, 1_400_000_000);
        assert_eq!(pushes[0].changesets[0].node, node);
        assert_eq!(
            pushes[1].changesets[0].parents,
            vec![node.clone()],
            "changesets chain across pushes"
        );
        assert_eq!(pushes[1].changesets[1].desc, "Bug 3 - third");
        assert_eq!(pushes[1].changesets[0].files, vec!["dom/x.cpp".to_string()]);

        demo["repos"][0]["pushes"][0]["changesets"][0]["node"] = serde_json::json!("xyz");
        assert!(
            Scenario::parse(&demo.to_string()).is_err(),
            "nodes are 40 hex"
        );
    }

    #[test]
    fn merge_pushes_carry_source_changesets() {
        let demo = Scenario::load("demo").unwrap();
        let pushes = demo.generate_pushes();
        let central = pushes.iter().find(|p| p.repo == "mozilla-central").unwrap();
        let first = &central.changesets[0].node;
        assert!(pushes
            .iter()
            .any(|p| p.repo == "autoland" && p.changesets.iter().any(|c| &c.node == first)));
    }
}
