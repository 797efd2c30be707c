//! The trigger ledger on disk: read before planning (so a second run of the
//! same command does not ask again), written after every push's triggers.

use crate::CliError;
use mozci::engine::ledger::Ledger;
use std::path::PathBuf;

pub struct LedgerFile {
    path: Option<PathBuf>,
}

impl LedgerFile {
    /// `dir`: the state directory; `None` keeps the ledger in memory only.
    pub fn new(dir: Option<PathBuf>) -> Self {
        LedgerFile {
            path: dir.map(|d| d.join("ledger.json")),
        }
    }

    pub fn load(&self) -> Result<Ledger, CliError> {
        let Some(path) = &self.path else {
            return Ok(Ledger::default());
        };
        match std::fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
                CliError::failure(format!(
                    "the trigger ledger {} is unreadable ({e}); move it away to start afresh",
                    path.display()
                ))
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Ledger::default()),
            Err(e) => Err(CliError::failure(format!(
                "reading {}: {e}",
                path.display()
            ))),
        }
    }

    /// Write atomically (temporary file, then rename) so a crash mid-write
    /// never loses the records already there.
    pub fn save(&self, ledger: &Ledger) -> Result<(), CliError> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        let write = || -> std::io::Result<()> {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            let tmp = path.with_extension("json.tmp");
            std::fs::write(
                &tmp,
                serde_json::to_vec_pretty(ledger).map_err(std::io::Error::other)?,
            )?;
            std::fs::rename(&tmp, path)
        };
        write().map_err(|e| {
            CliError::failure(format!(
                "writing the trigger ledger {}: {e}",
                path.display()
            ))
        })
    }
}
