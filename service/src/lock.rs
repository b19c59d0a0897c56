//! The data directory lock: a running service holds an exclusive advisory lock on a file in
//! its data directory, so `restore` (and a second `serve`) can tell the directory is in use.
//! The operating system releases the lock when the process exits, even on a crash.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

use fs4::fs_std::FileExt as _;

/// Why the lock could not be taken.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LockError {
    /// The lock file could not be opened.
    #[error("impossibile aprire il file di blocco {path}: {source}")]
    Io {
        /// The lock file.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// Another process holds the lock.
    #[error(
        "{path} è bloccato: un {service} è in servizio su questa cartella dei dati; fermatelo prima (systemctl stop {service})"
    )]
    InUse {
        /// The lock file.
        path: PathBuf,
        /// The service's name, e.g. `pico-node`.
        service: &'static str,
    },
}

/// Held while the data directory is in use.
#[derive(Debug)]
pub struct DataDirLock {
    _file: File,
}

impl DataDirLock {
    /// Takes the lock at `path` for `service`, or explains who holds it.
    pub fn acquire(path: &Path, service: &'static str) -> Result<DataDirLock, LockError> {
        let io = |source| LockError::Io {
            path: path.to_owned(),
            source,
        };
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)
            .map_err(io)?;
        if !file.try_lock_exclusive().map_err(io)? {
            return Err(LockError::InUse {
                path: path.to_owned(),
                service,
            });
        }
        Ok(DataDirLock { _file: file })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_is_refused_until_the_first_lets_go() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("svc.lock");
        let first = DataDirLock::acquire(&path, "pico-node").expect("first");
        let refused = DataDirLock::acquire(&path, "pico-node").expect_err("second");
        assert!(refused.to_string().contains("fermatelo prima"), "{refused}");
        drop(first);
        DataDirLock::acquire(&path, "pico-node").expect("free again");
    }
}
