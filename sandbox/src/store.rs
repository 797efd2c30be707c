//! SQLite persistence of the world: scalar state in `meta`, one row per push,
//! job, Self-Serve job and logged request. Saves are incremental (dirty jobs,
//! new log rows) so the simulator can write after every change.

use std::path::Path;

use rusqlite::{params, Connection};

use crate::world::World;

pub struct Store {
    conn: Connection,
    saved_log_rows: usize,
    saved_selfserve_rows: usize,
}

/// The world without its large collections, stored as one JSON row.
#[derive(serde::Serialize, serde::Deserialize)]
struct Meta {
    scenario: crate::scenario::Scenario,
    seed: u64,
    clock: i64,
    faults: crate::model::Faults,
    next_request_id: u64,
    next_build_id: u64,
    last_change: i64,
}

fn sql_err(e: rusqlite::Error) -> String {
    format!("sqlite: {e}")
}

fn json_err(e: serde_json::Error) -> String {
    format!("stored state is not valid JSON: {e}")
}

impl Store {
    pub fn open(path: &Path) -> Result<Store, String> {
        let conn = Connection::open(path).map_err(sql_err)?;
        conn.execute_batch(
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;
             CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
             CREATE TABLE IF NOT EXISTS pushes (id INTEGER PRIMARY KEY, repo TEXT NOT NULL, data TEXT NOT NULL);
             CREATE TABLE IF NOT EXISTS jobs (id INTEGER PRIMARY KEY, repo TEXT NOT NULL, push_id INTEGER NOT NULL,
                 state TEXT NOT NULL, result TEXT NOT NULL, data TEXT NOT NULL);
             CREATE TABLE IF NOT EXISTS selfserve (id INTEGER PRIMARY KEY, data TEXT NOT NULL);
             CREATE TABLE IF NOT EXISTS requests (id INTEGER PRIMARY KEY, origin TEXT NOT NULL, method TEXT NOT NULL,
                 path TEXT NOT NULL, status INTEGER NOT NULL, time INTEGER NOT NULL, data TEXT NOT NULL);",
        )
        .map_err(sql_err)?;
        Ok(Store {
            conn,
            saved_log_rows: 0,
            saved_selfserve_rows: 0,
        })
    }

    /// Loads a previously saved world, if any.
    pub fn load(&mut self) -> Result<Option<World>, String> {
        let meta: Option<String> = self
            .conn
            .query_row("SELECT value FROM meta WHERE key = 'world'", [], |r| {
                r.get(0)
            })
            .ok();
        let Some(meta) = meta else { return Ok(None) };
        let meta: Meta = serde_json::from_str(&meta).map_err(json_err)?;
        let pushes = self.rows("SELECT data FROM pushes ORDER BY id")?;
        let jobs = self.rows("SELECT data FROM jobs ORDER BY id")?;
        let selfserve = self.rows("SELECT data FROM selfserve ORDER BY id")?;
        let request_log = self.rows("SELECT data FROM requests ORDER BY id")?;
        self.saved_log_rows = request_log.len();
        self.saved_selfserve_rows = selfserve.len();
        Ok(Some(World {
            scenario: meta.scenario,
            seed: meta.seed,
            clock: meta.clock,
            pushes,
            jobs,
            selfserve,
            request_log,
            faults: meta.faults,
            next_request_id: meta.next_request_id,
            next_build_id: meta.next_build_id,
            last_change: meta.last_change,
            events: Vec::new(),
            dirty_jobs: Default::default(),
        }))
    }

    fn rows<T: serde::de::DeserializeOwned>(&self, sql: &str) -> Result<Vec<T>, String> {
        let mut stmt = self.conn.prepare(sql).map_err(sql_err)?;
        let texts = stmt
            .query_map([], |r| r.get::<_, String>(0))
            .map_err(sql_err)?
            .collect::<Result<Vec<String>, _>>()
            .map_err(sql_err)?;
        texts
            .iter()
            .map(|t| serde_json::from_str(t).map_err(json_err))
            .collect()
    }

    /// Replaces everything stored with `world`.
    pub fn save_all(&mut self, world: &mut World) -> Result<(), String> {
        let tx = self.conn.transaction().map_err(sql_err)?;
        tx.execute_batch(
            "DELETE FROM pushes; DELETE FROM jobs; DELETE FROM selfserve; DELETE FROM requests;",
        )
        .map_err(sql_err)?;
        for push in &world.pushes {
            let data = serde_json::to_string(push).map_err(json_err)?;
            tx.execute(
                "INSERT INTO pushes (id, repo, data) VALUES (?1, ?2, ?3)",
                params![push.id as i64, push.repo, data],
            )
            .map_err(sql_err)?;
        }
        tx.commit().map_err(sql_err)?;
        self.saved_log_rows = 0;
        self.saved_selfserve_rows = 0;
        world.dirty_jobs = world.jobs.iter().map(|j| j.id).collect();
        self.save(world)
    }

    /// Writes the changes since the last save.
    pub fn save(&mut self, world: &mut World) -> Result<(), String> {
        let tx = self.conn.transaction().map_err(sql_err)?;
        let meta = Meta {
            scenario: world.scenario.clone(),
            seed: world.seed,
            clock: world.clock,
            faults: world.faults.clone(),
            next_request_id: world.next_request_id,
            next_build_id: world.next_build_id,
            last_change: world.last_change,
        };
        let meta = serde_json::to_string(&meta).map_err(json_err)?;
        tx.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES ('world', ?1)",
            params![meta],
        )
        .map_err(sql_err)?;
        for id in std::mem::take(&mut world.dirty_jobs) {
            let Some(job) = world.job(id) else { continue };
            let data = serde_json::to_string(job).map_err(json_err)?;
            tx.execute(
                "INSERT OR REPLACE INTO jobs (id, repo, push_id, state, result, data) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![job.id as i64, job.repo, job.push_id as i64, job.state.as_str(), job.result, data],
            )
            .map_err(sql_err)?;
        }
        for entry in world.selfserve.iter().skip(self.saved_selfserve_rows) {
            let data = serde_json::to_string(entry).map_err(json_err)?;
            tx.execute(
                "INSERT OR REPLACE INTO selfserve (id, data) VALUES (?1, ?2)",
                params![entry.id as i64, data],
            )
            .map_err(sql_err)?;
        }
        for entry in world.request_log.iter().skip(self.saved_log_rows) {
            let data = serde_json::to_string(entry).map_err(json_err)?;
            tx.execute(
                "INSERT OR REPLACE INTO requests (id, origin, method, path, status, time, data) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![entry.id as i64, entry.origin, entry.method, entry.path, entry.status, entry.time, data],
            )
            .map_err(sql_err)?;
        }
        tx.commit().map_err(sql_err)?;
        self.saved_selfserve_rows = world.selfserve.len();
        self.saved_log_rows = world.request_log.len();
        Ok(())
    }
}
