//! Treeherder's reference data as the sandbox's jobs carry it: job types,
//! job groups, build platforms and option collections, with the ids the job
//! rows name, and the lists of them that Treeherder's 2015 UI loads at start
//! (`/api/jobtype/`, `/api/jobgroup/`, `/api/buildplatform/`,
//! `/api/optioncollectionhash/`).
//!
//! Shapes follow the 2015 models and viewsets (mozilla/treeherder
//! treeherder/model/models.py `JobType`, `JobGroup`, `BuildPlatform`; and
//! treeherder/webapp/api/refdata.py, whose read-only viewsets answered plain
//! unpaginated lists, `OptionCollectionHashViewSet` one
//! `{option_collection_hash, options: [{name}]}` per hash).

use std::collections::BTreeMap;

use axum::extract::State;
use axum::response::Response;
use serde_json::{json, Value};

use crate::ids;
use crate::model::{Job, JobKind};
use crate::scenario::CiSystem;
use crate::web::ok;
use crate::world::World;
use crate::AppState;

/// Option collection hashes as production Treeherder computes them.
pub const OPT_HASH: &str = "102210fe594ee9b33d82058545b1ed14f4c8206e";
pub const DEBUG_HASH: &str = "32faaecac742100f7753f0c1d0aa0add01b4046b";

/// The option collection hash of a platform option.
pub fn option_collection_hash(option: &str) -> &'static str {
    if option == "debug" {
        DEBUG_HASH
    } else {
        OPT_HASH
    }
}

/// A job's Treeherder job type and group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobTypeRef {
    pub name: String,
    pub symbol: String,
    pub group_name: String,
    pub group_symbol: String,
}

impl JobTypeRef {
    /// Row ids start at 1 (Django auto fields).
    pub fn id(&self) -> u64 {
        1 + ids::mix(&["type", &self.name, &self.symbol]) % 999_999
    }

    pub fn group_id(&self) -> u64 {
        1 + ids::mix(&["group", &self.group_name, &self.group_symbol]) % 999
    }
}

/// Treeherder's job type, symbol and group of a job.
pub fn job_type(world: &World, job: &Job) -> JobTypeRef {
    let spec = job
        .test_type
        .as_deref()
        .and_then(|t| world.scenario.test_type(t));
    let ungrouped = |name: String, symbol: String| JobTypeRef {
        name,
        symbol,
        group_name: "unknown".into(),
        group_symbol: "?".into(),
    };
    match (job.kind, job.system, spec) {
        (JobKind::Decision, _, _) => ungrouped("Gecko Decision Task".into(), "D".into()),
        (JobKind::Action, _, _) => ungrouped(job.label.clone(), action_symbol(&job.label)),
        (JobKind::Build, CiSystem::Buildbot, _) => ungrouped("Build".into(), "B".into()),
        (JobKind::Build, CiSystem::Taskcluster, _) => ungrouped(job.label.clone(), "B".into()),
        (JobKind::Test, system, Some(t)) => JobTypeRef {
            name: if system == CiSystem::Buildbot {
                t.name.clone()
            } else {
                job.label.clone()
            },
            symbol: t.symbol.clone(),
            group_name: t.group_name.clone(),
            // confirm-failures tasks show in their own group, `<group>-cf`.
            group_symbol: match job.confirm {
                Some(_) => format!("{}-cf", t.group_symbol),
                None => t.group_symbol.clone(),
            },
        },
        (JobKind::Test, _, None) => ungrouped(job.label.clone(), "?".into()),
    }
}

fn action_symbol(label: &str) -> String {
    match label {
        l if l.contains("Backfill") => "Bk".into(),
        l if l.contains("Retrigger") => "rt".into(),
        _ => "A".into(),
    }
}

/// Descriptions: 2015's ingestion left its model default, today's jobs
/// carry an empty one (both seen in the recorded payloads).
pub fn description(job: &Job) -> &'static str {
    match job.system {
        CiSystem::Buildbot => "fill me",
        CiSystem::Taskcluster => "",
    }
}

/// A build (and machine) platform row.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct PlatformRef {
    pub os_name: String,
    pub platform: String,
    pub architecture: String,
}

impl PlatformRef {
    pub fn id(&self) -> u64 {
        1 + ids::mix(&[
            "platform",
            &self.os_name,
            &self.platform,
            &self.architecture,
        ]) % 999
    }
}

/// Buildbot jobs named their OS and architecture (the 2015 payload says
/// `linux`/`x86`); Taskcluster jobs send `-` for both (today's payloads).
pub fn platform(job: &Job) -> PlatformRef {
    let (os, arch) = match job.system {
        CiSystem::Taskcluster => ("-", "-"),
        CiSystem::Buildbot => buildbot_os_arch(&job.platform),
    };
    PlatformRef {
        os_name: os.into(),
        platform: job.platform.clone(),
        architecture: arch.into(),
    }
}

fn buildbot_os_arch(platform: &str) -> (&'static str, &'static str) {
    let wide = if platform.contains("64") {
        "x86_64"
    } else {
        "x86"
    };
    if platform.starts_with("linux") {
        ("linux", wide)
    } else if platform.starts_with("win") {
        ("win", wide)
    } else if platform.starts_with("osx") || platform.starts_with("mac") {
        ("mac", "x86_64")
    } else if platform.starts_with("android") {
        ("android", "ARMv7")
    } else {
        ("-", "-")
    }
}

/// `GET /api/jobtype/`: every job type the jobs use, by id.
pub async fn job_types(State(state): State<AppState>) -> Response {
    ok(state.read(|w| {
        let mut rows = BTreeMap::new();
        for job in &w.jobs {
            let t = job_type(w, job);
            rows.entry(t.id()).or_insert_with(|| {
                json!({"id": t.id(), "job_group": t.group_id(), "symbol": t.symbol, "name": t.name,
                    "description": description(job), "active_status": "active"})
            });
        }
        json!(rows.into_values().collect::<Vec<Value>>())
    }))
}

/// `GET /api/jobgroup/`: every job group the jobs use, by id.
pub async fn job_groups(State(state): State<AppState>) -> Response {
    ok(state.read(|w| {
        let mut rows = BTreeMap::new();
        for job in &w.jobs {
            let t = job_type(w, job);
            rows.entry(t.group_id()).or_insert_with(|| {
                json!({"id": t.group_id(), "symbol": t.group_symbol, "name": t.group_name,
                    "description": description(job), "active_status": "active"})
            });
        }
        json!(rows.into_values().collect::<Vec<Value>>())
    }))
}

/// `GET /api/buildplatform/`: every build platform the jobs use, by id.
pub async fn build_platforms(State(state): State<AppState>) -> Response {
    ok(state.read(|w| {
        let mut rows = BTreeMap::new();
        for job in &w.jobs {
            let p = platform(job);
            rows.entry(p.id()).or_insert_with(|| {
                json!({"id": p.id(), "os_name": p.os_name, "platform": p.platform,
                    "architecture": p.architecture, "active_status": "active"})
            });
        }
        json!(rows.into_values().collect::<Vec<Value>>())
    }))
}

/// `GET /api/optioncollectionhash/`: the option collections of the
/// scenario's platforms (each of the sandbox's holds one option).
pub async fn option_collection_hashes(State(state): State<AppState>) -> Response {
    ok(state.read(|w| {
        let mut rows = BTreeMap::new();
        for (_, option) in w.platform_options() {
            let hash = option_collection_hash(&option);
            rows.entry(hash).or_insert_with(
                || json!({"option_collection_hash": hash, "options": [{"name": option}]}),
            );
        }
        json!(rows.into_values().collect::<Vec<Value>>())
    }))
}

/// Treeherder tier: confirm-failures tasks are tier 3 (gecko_taskgraph
/// actions/confirm_failure.py), every other job tier 1.
pub fn tier(job: &Job) -> u8 {
    if job.confirm.is_some() {
        3
    } else {
        1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buildbot_platforms_name_their_os_and_architecture() {
        assert_eq!(buildbot_os_arch("linux64"), ("linux", "x86_64"));
        assert_eq!(buildbot_os_arch("linux32"), ("linux", "x86"));
        assert_eq!(buildbot_os_arch("windows7-32"), ("win", "x86"));
        assert_eq!(buildbot_os_arch("osx-10-10"), ("mac", "x86_64"));
        assert_eq!(buildbot_os_arch("gecko-decision"), ("-", "-"));
    }

    #[test]
    fn ids_start_at_one() {
        let t = JobTypeRef {
            name: "Build".into(),
            symbol: "B".into(),
            group_name: "unknown".into(),
            group_symbol: "?".into(),
        };
        assert!(t.id() >= 1 && t.group_id() >= 1);
        assert_eq!(option_collection_hash("debug"), DEBUG_HASH);
        assert_eq!(option_collection_hash("opt"), OPT_HASH);
    }
}
