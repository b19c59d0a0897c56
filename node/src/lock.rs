//! The data directory lock: a running node holds an exclusive advisory lock on
//! `<data-dir>/node.lock`, so `restore` (and a second `serve`) can tell it is in use.
//! The operating system releases the lock when the process exits, even on a crash.

use std::fs::{File, OpenOptions};
use std::path::Path;

use fs4::fs_std::FileExt as _;

/// Held while the data directory is in use.
#[derive(Debug)]
pub struct DataDirLock {
    _file: File,
}

impl DataDirLock {
    /// Takes the lock, or explains who holds it.
    pub fn acquire(path: &Path) -> anyhow::Result<DataDirLock> {
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)?;
        if !file.try_lock_exclusive()? {
            anyhow::bail!(
                "{} is locked: a pico-node is running on this data directory; stop it first (systemctl stop pico-node)",
                path.display()
            );
        }
        Ok(DataDirLock { _file: file })
    }
}
